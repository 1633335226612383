// Secondary index entries of a case: see case_index.h.
#include "storage/case_index.h"

#include <algorithm>

#include "engine/case_id.h"
#include "engine/lifecycle.h"
#include "storage/case_query.h"
#include "storage/case_stats.h"
#include "storage/keys.h"

namespace grid::storage {

const std::string& IndexedUnit(const grid::v1::Case& c) {
  return c.unit_code().empty() ? c.routing().unit_code() : c.unit_code();
}

void SetUnitPath(const Directory& directory, grid::v1::Case* c) {
  const std::string unit = IndexedUnit(*c);
  c->clear_unit_path();
  if (unit.empty()) return;
  for (const auto u : directory.Ancestors(unit)) c->add_unit_path(u->code());
  c->add_unit_path(unit);
}

std::vector<std::string> CaseIndexKeys(const grid::v1::Case& c) {
  std::vector<std::string> keys;
  auto id = ParseCaseId(c.id());
  if (!id) return keys;
  keys.push_back(ByUnitKey(IndexedUnit(c), *id));
  keys.push_back(ByStatusKey(c.status(), *id));
  const std::string& assignee = c.unit_code().empty() ? c.routing().assignee_member_id() : c.assignee_member_id();
  if (!assignee.empty() && IsOpen(c.status())) keys.push_back(OpenByAssigneeKey(assignee, *id));
  for (const PendingTimer& t : PendingTimers(c)) {
    keys.push_back(
        EncodeDueKey(DueKey{static_cast<uint64_t>(t.due), *id, static_cast<int>(t.kind), t.subtask, t.warning}));
  }
  return keys;
}

std::vector<IndexOp> CaseListOps(const grid::v1::Case* before, const grid::v1::Case& after) {
  std::vector<IndexOp> ops;
  auto old_entries = before == nullptr ? std::vector<std::pair<std::string, std::string>>() : CaseListEntries(*before);
  auto new_entries = CaseListEntries(after);
  std::sort(old_entries.begin(), old_entries.end());
  std::sort(new_entries.begin(), new_entries.end());
  // Entries are unique by key: walk both in key order.
  auto o = old_entries.begin(), n = new_entries.begin();
  while (o != old_entries.end() || n != new_entries.end()) {
    if (n == new_entries.end() || (o != old_entries.end() && o->first < n->first)) {
      ops.push_back(IndexOp{IndexOp::Kind::kDelete, std::move(o->first), ""});
      ++o;
    } else if (o == old_entries.end() || n->first < o->first) {
      ops.push_back(IndexOp{IndexOp::Kind::kPut, std::move(n->first), std::move(n->second)});
      ++n;
    } else {
      if (o->second != n->second)
        ops.push_back(IndexOp{IndexOp::Kind::kPut, std::move(n->first), std::move(n->second)});
      ++o;
      ++n;
    }
  }
  return ops;
}

std::vector<IndexOp> CaseQueryOps(const grid::v1::Case* before, const grid::v1::Case& after,
                                  const std::vector<grid::v1::CaseEvent>* events) {
  std::vector<IndexOp> ops = CaseListOps(before, after);
  for (auto& [key, delta] : StatsDelta(before, after, events)) {
    ops.push_back(IndexOp{IndexOp::Kind::kMerge, std::move(key), std::move(delta)});
  }
  return ops;
}

}  // namespace grid::storage
