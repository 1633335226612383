// The list index and its filters: see case_query.h.
#include "storage/case_query.h"

#include <algorithm>

#include "engine/case_id.h"
#include "storage/case_index.h"
#include "storage/keys.h"

namespace grid::storage {
namespace {

bool GetString(std::string_view* in, std::string* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

Micros MicrosOf(const google::protobuf::Timestamp& ts) { return ts.seconds() * 1'000'000 + ts.nanos() / 1000; }

std::vector<std::string> IndexedPath(const grid::v1::Case& c) {
  const std::string& unit = IndexedUnit(c);
  if (c.unit_path_size() > 0 && c.unit_path(c.unit_path_size() - 1) == unit) {
    return {c.unit_path().begin(), c.unit_path().end()};
  }
  if (unit.empty()) return {};
  return {unit};
}

ListSummary SummaryOf(const grid::v1::Case& c) {
  ListSummary s;
  s.status = c.status();
  s.accepted = c.has_accepted_at();
  s.accept_overdue = c.deadlines().accept_overdue();
  s.resolve_overdue = c.deadlines().resolve_overdue();
  if (c.deadlines().has_accept_due()) s.accept_due = MicrosOf(c.deadlines().accept_due());
  if (c.deadlines().has_resolve_due()) s.resolve_due = MicrosOf(c.deadlines().resolve_due());
  s.updated = MicrosOf(c.updated_at());
  s.category = c.category();
  s.assignee = c.unit_code().empty() ? c.routing().assignee_member_id() : c.assignee_member_id();
  return s;
}

// status (1) | flags (1) | accept_due (8) | resolve_due (8) | updated (8) |
// varint length + category | varint length + assignee
std::string EncodeListSummary(const ListSummary& s) {
  std::string out;
  out.reserve(32 + s.category.size() + s.assignee.size());
  out.push_back(static_cast<char>(s.status));
  out.push_back(static_cast<char>((s.accepted ? 1 : 0) | (s.accept_overdue ? 2 : 0) | (s.resolve_overdue ? 4 : 0)));
  PutFixed64BE(&out, static_cast<uint64_t>(s.accept_due));
  PutFixed64BE(&out, static_cast<uint64_t>(s.resolve_due));
  PutFixed64BE(&out, static_cast<uint64_t>(s.updated));
  PutVarint(&out, s.category.size());
  out.append(s.category);
  PutVarint(&out, s.assignee.size());
  out.append(s.assignee);
  return out;
}

std::optional<ListSummary> DecodeListSummary(std::string_view in) {
  if (in.size() < 2 + 24) return std::nullopt;
  ListSummary s;
  s.status = static_cast<uint8_t>(in[0]);
  const auto flags = static_cast<uint8_t>(in[1]);
  s.accepted = (flags & 1) != 0;
  s.accept_overdue = (flags & 2) != 0;
  s.resolve_overdue = (flags & 4) != 0;
  s.accept_due = static_cast<Micros>(DecodeFixed64BE(in.data() + 2));
  s.resolve_due = static_cast<Micros>(DecodeFixed64BE(in.data() + 10));
  s.updated = static_cast<Micros>(DecodeFixed64BE(in.data() + 18));
  in.remove_prefix(26);
  if (!GetString(&in, &s.category) || !GetString(&in, &s.assignee) || !in.empty()) return std::nullopt;
  return s;
}

std::vector<std::pair<std::string, std::string>> CaseListEntries(const grid::v1::Case& c) {
  std::vector<std::pair<std::string, std::string>> out;
  auto id = ParseCaseId(c.id());
  if (!id) return out;
  const std::string value = EncodeListSummary(SummaryOf(c));
  for (const std::string& unit : IndexedPath(c)) {
    out.emplace_back(ListByUnitKey(unit, *id), value);
    out.emplace_back(ListByUnitStatusKey(unit, c.status(), *id), value);
  }
  return out;
}

const std::vector<int>& UnresolvedStatuses() {
  static const std::vector<int> s = {grid::v1::CASE_STATUS_SUBMITTED, grid::v1::CASE_STATUS_ROUTED,
                                     grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                                     grid::v1::CASE_STATUS_WAITING};
  return s;
}

std::vector<int> StatusesToWalk(const CaseListQuery& q) {
  std::vector<int> s = q.statuses;
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  if (q.overdue) {
    const auto& u = UnresolvedStatuses();
    if (s.empty()) return u;
    std::vector<int> both;
    std::set_intersection(s.begin(), s.end(), u.begin(), u.end(), std::back_inserter(both));
    // An empty intersection can match nothing: walk no range at all.
    return both.empty() ? std::vector<int>{-1} : both;
  }
  return s;
}

bool Matches(const ListSummary& s, const CaseListQuery& q) {
  if (!q.statuses.empty() && std::find(q.statuses.begin(), q.statuses.end(), s.status) == q.statuses.end()) {
    return false;
  }
  if (!q.category.empty() && s.category != q.category) return false;
  if (!q.assignee.empty() && s.assignee != q.assignee) return false;
  if (q.updated_from != 0 && s.updated < q.updated_from) return false;
  if (q.updated_to != 0 && s.updated >= q.updated_to) return false;
  if (q.overdue) {
    const auto& u = UnresolvedStatuses();
    if (std::find(u.begin(), u.end(), s.status) == u.end()) return false;
    const bool awaiting_accept =
        s.status == grid::v1::CASE_STATUS_SUBMITTED || s.status == grid::v1::CASE_STATUS_ROUTED;
    const bool past_accept = awaiting_accept && s.accept_due != 0 && s.accept_due <= q.now;
    const bool past_resolve = s.resolve_due != 0 && s.resolve_due <= q.now;
    if (!(s.accept_overdue || s.resolve_overdue || past_accept || past_resolve)) return false;
  }
  return true;
}

}  // namespace grid::storage
