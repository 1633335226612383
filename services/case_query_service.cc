// All of CaseQuery (see case_query_service.h): GetCase, ListCases and
// GetStats. Each checks its request, the caller's role and scope on the gRPC
// thread, then reads on the read executor (Store::GetCase and GetEvents,
// Store::ListCases, Store::ReadStats) and finishes the call from there. Also
// here: ListCases' page tokens and the figures of GetStats.
//
// Thread-safety: the handlers keep no state of their own; each reactor is
// finished exactly once, on the gRPC thread for a refusal or on the executor.
#include "services/case_query_service.h"

#include <algorithm>
#include <limits>

#include "engine/case_id.h"
#include "engine/reasons.h"
#include "services/errors.h"
#include "services/page_token.h"
#include "services/parsed_call.h"
#include "services/wire.h"
#include "storage/case_index.h"

namespace grid::services {
namespace {

constexpr uint32_t kMaxPageSize = 1000;
constexpr uint32_t kDefaultPageSize = 50;
constexpr uint32_t kMaxStatsDays = 400;
constexpr uint32_t kCasesField = 1;  // ListCasesResponse.cases

// FNV-1a over the filters (the request without its paging fields).
uint64_t FilterFingerprint(const grid::v1::ListCasesRequest& request) {
  grid::v1::ListCasesRequest filters = request;
  filters.clear_page_token();
  filters.clear_page_size();
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : filters.SerializeAsString()) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

// A Timestamp as micros; false when out of the range protobuf allows.
bool MicrosOf(const google::protobuf::Timestamp& ts, Micros* out) {
  if (ts.seconds() < 0 || ts.seconds() > 253402300799LL || ts.nanos() < 0 || ts.nanos() > 999999999) return false;
  *out = ts.seconds() * 1'000'000 + ts.nanos() / 1000;
  return true;
}

Status CheckRange(const char* name, bool has_from, const google::protobuf::Timestamp& from, bool has_to,
                  const google::protobuf::Timestamp& to, Micros* from_us, Micros* to_us) {
  if (has_from && !MicrosOf(from, from_us)) {
    return Error(reason::INVALID_RANGE, std::string(name) + "_from is not a valid time");
  }
  if (has_to && !MicrosOf(to, to_us)) {
    return Error(reason::INVALID_RANGE, std::string(name) + "_to is not a valid time");
  }
  if (has_from && has_to && *from_us > *to_us) {
    return Error(reason::INVALID_RANGE, std::string(name) + "_from is after " + name + "_to");
  }
  return Status::Ok();
}

// Checks the request and turns it into a store query (without the scope
// check, which needs the directory).
StatusOr<storage::CaseListQuery> QueryOf(const grid::v1::ListCasesRequest& r) {
  storage::CaseListQuery q;
  if (r.scope_unit_code().empty()) return Error(reason::MISSING_SCOPE, "scope_unit_code is required");
  q.scope = r.scope_unit_code();
  if (r.page_size() > kMaxPageSize) {
    return Error(reason::INVALID_PAGE_SIZE, "page_size must be at most " + std::to_string(kMaxPageSize));
  }
  q.page_size = r.page_size() == 0 ? kDefaultPageSize : r.page_size();
  for (int s : r.statuses()) {
    if (s == grid::v1::CASE_STATUS_UNSPECIFIED || !grid::v1::CaseStatus_IsValid(s)) {
      return Error(reason::INVALID_STATUS, "status " + std::to_string(s) + " is not a case status");
    }
    q.statuses.push_back(s);
  }
  q.category = r.category();
  q.assignee = r.assignee_member_id();
  q.overdue = r.overdue();
  Micros cf = 0, ct = 0;
  GRID_RETURN_IF_ERROR(
      CheckRange("created", r.has_created_from(), r.created_from(), r.has_created_to(), r.created_to(), &cf, &ct));
  if (r.has_created_from()) q.id_from = static_cast<uint64_t>(cf / 1000) * 1000;
  if (r.has_created_to()) {
    q.id_to = static_cast<uint64_t>(ct / 1000) * 1000;
    if (q.id_to == 0) q.id_to = 1;  // [.., epoch): nothing, but 0 means "no bound"
  }
  Micros uf = 0, ut = 0;
  GRID_RETURN_IF_ERROR(
      CheckRange("updated", r.has_updated_from(), r.updated_from(), r.has_updated_to(), r.updated_to(), &uf, &ut));
  if (r.has_updated_from()) q.updated_from = uf;
  if (r.has_updated_to()) q.updated_to = std::max<Micros>(ut, 1);
  if (!r.page_token().empty()) GRID_RETURN_IF_ERROR(DecodePageToken(r.page_token(), FilterFingerprint(r), &q.after_id));
  return q;
}

void FillFigures(const storage::Counters& c, UnitRef unit, grid::v1::CaseFigures* out) {
  using namespace storage::stat;
  const storage::Figures f = storage::FiguresOf(c);
  auto u = [](int64_t v) { return static_cast<uint64_t>(std::max<int64_t>(v, 0)); };
  out->set_unit_code(unit.code());
  out->set_unit_name(unit.name());
  out->set_level(unit.level());
  out->set_cases(u(c[kCases]));
  for (int s = 1; s <= grid::v1::CaseStatus_MAX; ++s) {
    if (c[kStatusBase + static_cast<uint32_t>(s)] == 0) continue;
    auto* sc = out->add_by_status();
    sc->set_status(static_cast<grid::v1::CaseStatus>(s));
    sc->set_count(u(c[kStatusBase + static_cast<uint32_t>(s)]));
  }
  out->set_accepted(u(c[kAccepted]));
  out->set_accepted_on_time(u(c[kAcceptedOnTime]));
  out->set_accept_missed(u(c[kAcceptMissed]));
  out->set_resolved(u(c[kResolved]));
  out->set_resolved_on_time(u(c[kResolvedOnTime]));
  out->set_called_back(u(c[kCalledBack]));
  out->set_satisfied(u(c[kSatisfied]));
  out->set_returns(u(c[kReturns]));
  out->set_reopenings(u(c[kReopenings]));
  for (uint32_t level = 0; level < 8; ++level) {
    if (c[kEscalationBase + level] == 0) continue;
    auto* lc = out->add_escalations();
    lc->set_level(static_cast<grid::v1::UnitLevel>(level));
    lc->set_count(u(c[kEscalationBase + level]));
  }
  out->set_merged(u(c[kStatusBase + grid::v1::CASE_STATUS_MERGED]));
  out->set_cancelled(u(c[kStatusBase + grid::v1::CASE_STATUS_CANCELLED]));
  out->set_response_rate(f.response_rate);
  out->set_resolution_rate(f.resolution_rate);
  out->set_satisfaction_rate(f.satisfaction_rate);
  out->set_on_time_resolution_rate(f.on_time_resolution_rate);
  out->set_median_accept_seconds(f.median_accept_s);
  out->set_p90_accept_seconds(f.p90_accept_s);
  out->set_median_resolve_seconds(f.median_resolve_s);
  out->set_p90_resolve_seconds(f.p90_resolve_s);
}

}  // namespace

grpc::ServerUnaryReactor* CaseQueryService::GetCase(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* raw_request,
                                                    grpc::ByteBuffer* raw_response) {
  auto* call = new ParsedCall<grid::v1::GetCaseRequest, grid::v1::GetCaseResponse>(context, raw_response);
  auto principal = Admit(*deps_, *context, policy::Rpc::kGetCase);
  if (!principal.ok()) return call->Reply(principal.status());
  if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
  NoteCase(*deps_, *context, call->request.case_id());
  auto id = ParseCaseId(call->request.case_id());
  if (!id) return call->Reply(Error(reason::INVALID_CASE_ID, "case_id must be the 16-digit id of a case"));
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, call, id = *id, p = *principal] {
    auto c = deps->store->GetCase(id);
    if (!c.ok()) return (void)call->Reply(c.status());
    if (!c->has_value()) return (void)call->Reply(Error(reason::CASE_NOT_FOUND, "no case " + CaseIdToString(id)));
    auto dir = deps->directory->Get();
    if (Status s = AdmitCase(p, *dir, policy::Rpc::kGetCase, **c); !s.ok()) return (void)call->Reply(s);
    auto events = deps->store->GetEvents(id);
    if (!events.ok()) return (void)call->Reply(events.status());
    MaskCitizen(p, &**c);
    *call->response.mutable_case_() = std::move(**c);
    for (auto& e : *events) *call->response.add_events() = std::move(e);
    call->Reply(Status::Ok());
  });
  if (!queued) return call->Reply(QueueFull());
  return call;
}

grpc::ServerUnaryReactor* CaseQueryService::ListCases(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* raw_request,
                                                      grpc::ByteBuffer* raw_response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kListCases);
  if (!principal.ok()) return Respond(context, principal.status());
  grid::v1::ListCasesRequest parsed;
  if (Status s = ParseRequest(*raw_request, &parsed); !s.ok()) return Respond(context, s);
  const grid::v1::ListCasesRequest* request = &parsed;
  auto query = QueryOf(*request);
  if (!query.ok()) return Respond(context, query.status());
  auto dir = deps_->directory->Get();
  if (dir->FindUnit(query->scope) == nullptr) {
    return Respond(context, Error(reason::UNIT_NOT_FOUND, "no unit '" + query->scope + "'"));
  }
  if (Status s = AdmitUnit(*principal, *dir, policy::Rpc::kListCases, query->scope); !s.ok()) {
    return Respond(context, s);
  }
  query->now = deps_->clock != nullptr ? deps_->clock->NowMicros() : 0;
  query->raw = true;
  const uint64_t fingerprint = FilterFingerprint(*request);

  auto* reactor = context->DefaultReactor();
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit(
      [deps, reactor, context, raw_response, q = std::move(query).value(), p = *principal, fingerprint] {
        auto page = deps->store->ListCases(q);
        if (!page.ok()) return reactor->Finish(Fail(context, page.status()));
        auto dir = deps->directory->Get();
        const bool as_stored = SeesCitizen(p);
        // A department lists only the cases it may read (handled by it, or
        // summoned to), whatever its scope: those need the whole record.
        const bool per_case = p.role == Role::kDepartment;
        const policy::Caller caller = CallerOf(p);
        std::string out;
        grid::v1::Case c;
        for (const std::string& bytes : page->raw) {
          std::string unit;
          if (!PeekCaseUnit(bytes, &unit)) {
            return reactor->Finish(Fail(context, Error(reason::CORRUPT_RECORD, "a listed case cannot be parsed")));
          }
          // Filed under the scope when written; the directory may have moved
          // a unit since: never show a case outside the caller's scope.
          if (!policy::OfUnit(*dir, caller, unit).in_scope) continue;
          if (as_stored && !per_case) {
            AppendLengthDelimited(&out, kCasesField, bytes);
            continue;
          }
          if (!c.ParseFromString(bytes)) {
            return reactor->Finish(Fail(context, Error(reason::CORRUPT_RECORD, "a listed case cannot be parsed")));
          }
          if (per_case && !AdmitCase(p, *dir, policy::Rpc::kGetCase, c).ok()) continue;
          MaskCitizen(p, &c);
          AppendLengthDelimited(&out, kCasesField, c.SerializeAsString());
        }
        grid::v1::ListCasesResponse tail;  // fields after the cases, serialised by protobuf
        if (!page->done) tail.set_next_page_token(EncodePageToken(page->cursor, fingerprint));
        tail.set_examined(page->examined);
        out += tail.SerializeAsString();
        grpc::Slice slice(std::move(out));
        *raw_response = grpc::ByteBuffer(&slice, 1);
        reactor->Finish(grpc::Status::OK);
      });
  if (!queued) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

grpc::ServerUnaryReactor* CaseQueryService::GetStats(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* raw_request,
                                                     grpc::ByteBuffer* raw_response) {
  auto* call = new ParsedCall<grid::v1::GetStatsRequest, grid::v1::GetStatsResponse>(context, raw_response);
  auto principal = Admit(*deps_, *context, policy::Rpc::kGetStats);
  if (!principal.ok()) return call->Reply(principal.status());
  if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
  const grid::v1::GetStatsRequest* request = &call->request;
  if (request->scope_unit_code().empty()) {
    return call->Reply(Error(reason::MISSING_SCOPE, "scope_unit_code is required"));
  }
  uint32_t from = 0, to = 0;
  if (!storage::ParseDay(request->from_date(), &from)) {
    return call->Reply(Error(reason::INVALID_DATE, "from_date must be a date YYYY-MM-DD"));
  }
  if (!storage::ParseDay(request->to_date(), &to)) {
    return call->Reply(Error(reason::INVALID_DATE, "to_date must be a date YYYY-MM-DD"));
  }
  if (from > to) return call->Reply(Error(reason::INVALID_RANGE, "from_date is after to_date"));
  if (to - from + 1 > kMaxStatsDays) {
    return call->Reply(
        Error(reason::WINDOW_TOO_LONG, "the window is at most " + std::to_string(kMaxStatsDays) + " days"));
  }
  auto dir = deps_->directory->Get();
  const UnitRef scope = dir->FindUnit(request->scope_unit_code());
  if (scope == nullptr) {
    return call->Reply(Error(reason::UNIT_NOT_FOUND, "no unit '" + request->scope_unit_code() + "'"));
  }
  if (Status s = AdmitUnit(*principal, *dir, policy::Rpc::kGetStats, scope->code()); !s.ok()) return call->Reply(s);

  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, call, dir, scope, from, to] {
    std::vector<UnitRef> units = {scope};
    for (const auto child : dir->Children(scope->code())) units.push_back(child);
    std::vector<std::string> codes;
    codes.reserve(units.size());
    for (const auto u : units) codes.push_back(u->code());
    auto counters = deps->store->ReadStats(codes, from, to);
    if (!counters.ok()) return (void)call->Reply(counters.status());
    FillFigures((*counters)[0], *scope, call->response.mutable_total());
    for (size_t i = 1; i < units.size(); ++i) FillFigures((*counters)[i], *units[i], call->response.add_children());
    call->response.set_from_date(storage::FormatDay(from));
    call->response.set_to_date(storage::FormatDay(to));
    call->Reply(Status::Ok());
  });
  if (!queued) return call->Reply(QueueFull());
  return call;
}

grpc::ServerUnaryReactor* CaseQueryService::RevealCitizen(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* raw_request,
                                                          grpc::ByteBuffer* raw_response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kRevealCitizen);
  if (!principal.ok()) return Respond(context, principal.status());
  // One command for the case writer: Lifecycle::Apply admits it on the stored
  // case (the same rule as GetCase's for the role) and records the event.
  CaseWriter::Command c;
  if (Status st = ParseRequest(*raw_request, c.command.mutable_reveal()); !st.ok()) return Respond(context, st);
  NoteCase(*deps_, *context, CommandCaseId(c.command));
  if (Status st = ValidateCommand(c.command, deps_->lifecycle->options()); !st.ok()) return Respond(context, st);
  c.actor = WorkActor{principal->id, RoleName(principal->role), principal->scope};
  auto* reactor = context->DefaultReactor();
  c.done = [reactor, context, raw_response](StatusOr<CaseWriter::CommandResult> result) {
    if (!result.ok()) {
      reactor->Finish(Fail(context, result.status()));
      return;
    }
    grid::v1::RevealCitizenResponse response;
    *response.mutable_citizen() = result->after.citizen();
    if (!result->events.empty()) *response.mutable_event() = std::move(result->events.back());
    SerializeResponse(response, raw_response);
    reactor->Finish(grpc::Status::OK);
  };
  if (!deps_->intake->Execute(std::move(c))) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

}  // namespace grid::services
