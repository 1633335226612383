// The case lifecycle: see lifecycle.h.
#include "engine/lifecycle.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>
#include <string_view>
#include <tuple>

#include "engine/case_id.h"
#include "engine/text.h"
#include "engine/timestamp.h"
#include "engine/validation.h"

namespace grid {
namespace {

using grid::v1::Case;
using grid::v1::CaseCommand;
using grid::v1::CaseEvent;
using grid::v1::CaseStatus;
using grid::v1::DeadlineKind;
using grid::v1::EventType;
using google::protobuf::Timestamp;

Timestamp Ts(Micros t) { return ToTimestamp(t); }
Micros FromTs(const Timestamp& ts) { return FromTimestamp(ts); }

constexpr std::string_view kAdmin = "admin";
constexpr std::string_view kSystem = "system";
constexpr std::string_view kCallCenter = "call_center";
constexpr std::string_view kGridWorker = "grid_worker";
constexpr std::string_view kDepartment = "department";
constexpr std::string_view kSupervisor = "supervisor";

// Roles that work a case in the field (签收, 退单, 答复 ...).
constexpr std::initializer_list<std::string_view> kHandlers = {kGridWorker, kDepartment, kSupervisor, kAdmin};
// Roles that speak for the hotline and its supervisors (回访, 办结, 合并 ...).
constexpr std::initializer_list<std::string_view> kDispatchers = {kCallCenter, kSupervisor, kAdmin};

Status IllegalTransition(const char* command, CaseStatus status) {
  return FailedPrecondition("ILLEGAL_TRANSITION", std::string(command) + " is not allowed while the case is " +
                                                      grid::v1::CaseStatus_Name(status));
}

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

bool OneOf(CaseStatus s, std::initializer_list<CaseStatus> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

Status CheckText(std::string_view field, const std::string& value, size_t max_chars, bool required) {
  if (!text::IsValidUtf8(value)) return InvalidArgument("INVALID_UTF8", std::string(field) + " is not valid UTF-8");
  if (required && IsBlank(value)) {
    return InvalidArgument("MISSING_NOTE", std::string(field) + " is required for this action");
  }
  if (text::CodePointCount(value) > max_chars) {
    return InvalidArgument("NOTE_TOO_LONG", std::string(field) + " is longer than " + std::to_string(max_chars) +
                                                " characters");
  }
  return Status::Ok();
}

std::vector<Pause> PausesOf(const grid::v1::Deadlines& d) {
  std::vector<Pause> out;
  for (const auto& p : d.pauses()) {
    const Micros from = FromTs(p.from());
    const Micros to = p.has_to() ? FromTs(p.to()) : kOpenPause;
    if (from < to) out.push_back(Pause{from, to});
  }
  return out;
}

// The common parent of two units: the lowest unit both lie within.
std::string CommonParent(const Directory& dir, const std::string& a, const std::string& b) {
  std::vector<std::string> chain_a;
  for (const UnitRef u : dir.Ancestors(a)) chain_a.emplace_back(u.code());
  chain_a.push_back(a);
  std::string best;
  for (const std::string& code : chain_a) {
    if (dir.IsWithin(b, code)) best = code;
  }
  return best;
}

std::string ParentOf(const Directory& dir, const std::string& code) {
  const UnitRef u = dir.FindUnit(code);
  return u == nullptr ? std::string() : std::string(u.parent_code());
}

}  // namespace

// ---- Commands ---------------------------------------------------------------

namespace {

template <typename Fn>
decltype(auto) VisitCommand(const CaseCommand& c, Fn&& fn) {
  switch (c.action_case()) {
    case CaseCommand::kAccept: return fn(c.accept());
    case CaseCommand::kReject: return fn(c.reject());
    case CaseCommand::kTransfer: return fn(c.transfer());
    case CaseCommand::kAddNote: return fn(c.add_note());
    case CaseCommand::kResolve: return fn(c.resolve());
    case CaseCommand::kRecordCallback: return fn(c.record_callback());
    case CaseCommand::kClose: return fn(c.close());
    case CaseCommand::kReopen: return fn(c.reopen());
    case CaseCommand::kMerge: return fn(c.merge());
    case CaseCommand::kCancel: return fn(c.cancel());
    case CaseCommand::kEscalate: return fn(c.escalate());
    case CaseCommand::kSummon: return fn(c.summon());
    case CaseCommand::kReportIn: return fn(c.report_in());
    case CaseCommand::kAssignHelper: return fn(c.assign_helper());
    case CaseCommand::kWait: return fn(c.wait());
    case CaseCommand::kResume: return fn(c.resume());
    case CaseCommand::kExtend: return fn(c.extend());
    case CaseCommand::kStartWork: return fn(c.start_work());
    case CaseCommand::kFire:
    case CaseCommand::ACTION_NOT_SET: break;
  }
  return fn(grid::v1::AcceptRequest::default_instance());
}

}  // namespace

const std::string& CommandCaseId(const CaseCommand& command) {
  if (command.has_fire()) return command.fire().case_id();
  return VisitCommand(command, [](const auto& r) -> const std::string& { return r.case_id(); });
}

uint64_t CommandExpectedVersion(const CaseCommand& command) {
  if (command.has_fire()) return 0;
  return VisitCommand(command, [](const auto& r) { return r.expected_version(); });
}

const char* CommandName(const CaseCommand& command) {
  switch (command.action_case()) {
    case CaseCommand::kAccept: return "accept";
    case CaseCommand::kReject: return "reject";
    case CaseCommand::kTransfer: return "transfer";
    case CaseCommand::kAddNote: return "add_note";
    case CaseCommand::kResolve: return "resolve";
    case CaseCommand::kRecordCallback: return "record_callback";
    case CaseCommand::kClose: return "close";
    case CaseCommand::kReopen: return "reopen";
    case CaseCommand::kMerge: return "merge";
    case CaseCommand::kCancel: return "cancel";
    case CaseCommand::kEscalate: return "escalate";
    case CaseCommand::kSummon: return "summon_departments";
    case CaseCommand::kReportIn: return "report_in";
    case CaseCommand::kAssignHelper: return "assign_helper";
    case CaseCommand::kWait: return "wait";
    case CaseCommand::kResume: return "resume";
    case CaseCommand::kExtend: return "extend";
    case CaseCommand::kStartWork: return "start_work";
    case CaseCommand::kFire: return "fire_deadline";
    case CaseCommand::ACTION_NOT_SET: break;
  }
  return "unknown";
}

bool IsOpen(CaseStatus status) {
  return !OneOf(status, {grid::v1::CASE_STATUS_CLOSED, grid::v1::CASE_STATUS_CANCELLED, grid::v1::CASE_STATUS_MERGED});
}

Status ValidateCommand(const CaseCommand& command, const LifecycleOptions& options) {
  if (command.action_case() == CaseCommand::ACTION_NOT_SET) {
    return InvalidArgument("MISSING_ACTION", "the command names no action");
  }
  const std::string& id = CommandCaseId(command);
  if (id.empty()) return InvalidArgument("MISSING_CASE_ID", "case_id is required");
  if (!ParseCaseId(id)) return InvalidArgument("INVALID_CASE_ID", "case_id '" + id + "' is not a case id");
  if (command.has_fire()) return Status::Ok();

  // Actions whose note is required: it is the record of what was done or why.
  const bool note_required = command.has_add_note() || command.has_resolve() || command.has_reopen() ||
                             command.has_cancel() || command.has_escalate() || command.has_wait() ||
                             command.has_extend();
  GRID_RETURN_IF_ERROR(VisitCommand(command, [&](const auto& r) {
    return CheckText("note", r.note(), options.max_note_chars, note_required);
  }));

  switch (command.action_case()) {
    case CaseCommand::kReject: {
      const auto& r = command.reject();
      if (r.reason() == grid::v1::REJECT_REASON_UNSPECIFIED) {
        return InvalidArgument("MISSING_REASON", "a rejection needs a reason code");
      }
      if (!grid::v1::RejectReason_IsValid(r.reason())) {
        return InvalidArgument("INVALID_REASON", "reason " + std::to_string(r.reason()) + " is not a reason code");
      }
      if (r.has_corrected_location()) GRID_RETURN_IF_ERROR(ValidateLocation(r.corrected_location()));
      GRID_RETURN_IF_ERROR(CheckText("corrected_address", r.corrected_address(), 500, false));
      if (r.reason() == grid::v1::REJECT_REASON_WRONG_LOCATION && !r.has_corrected_location() &&
          IsBlank(r.corrected_address())) {
        return InvalidArgument("MISSING_CORRECTION", "WRONG_LOCATION needs corrected_location or corrected_address");
      }
      if (r.reason() == grid::v1::REJECT_REASON_OTHER_UNIT && r.suggested_unit_code().empty()) {
        return InvalidArgument("MISSING_UNIT", "OTHER_UNIT needs suggested_unit_code");
      }
      if (r.reason() == grid::v1::REJECT_REASON_WRONG_CATEGORY && r.corrected_category().empty()) {
        return InvalidArgument("MISSING_CATEGORY", "WRONG_CATEGORY needs corrected_category");
      }
      break;
    }
    case CaseCommand::kTransfer:
      if (command.transfer().unit_code().empty()) return InvalidArgument("MISSING_UNIT", "unit_code is required");
      break;
    case CaseCommand::kMerge:
      if (command.merge().master_case_id().empty()) {
        return InvalidArgument("MISSING_MASTER", "master_case_id is required");
      }
      if (!ParseCaseId(command.merge().master_case_id())) {
        return InvalidArgument("INVALID_CASE_ID", "master_case_id '" + command.merge().master_case_id() +
                                                      "' is not a case id");
      }
      if (*ParseCaseId(command.merge().master_case_id()) == *ParseCaseId(id)) {
        return InvalidArgument("SELF_MERGE", "a case cannot be merged into itself");
      }
      break;
    case CaseCommand::kSummon: {
      const auto& r = command.summon();
      if (r.department_codes().empty()) {
        return InvalidArgument("MISSING_DEPARTMENT", "department_codes needs at least one department");
      }
      if (static_cast<size_t>(r.department_codes_size()) > options.max_departments_per_summons) {
        return InvalidArgument("TOO_MANY_DEPARTMENTS", "at most " +
                                                           std::to_string(options.max_departments_per_summons) +
                                                           " departments per summons");
      }
      std::set<std::string> seen;
      for (const auto& code : r.department_codes()) {
        if (code.empty()) return InvalidArgument("MISSING_DEPARTMENT", "a department code is empty");
        if (!seen.insert(code).second) {
          return InvalidArgument("DUPLICATE_DEPARTMENT", "department '" + code + "' is named twice");
        }
      }
      if (r.arrive_within_minutes() > options.max_arrive_within_minutes) {
        return InvalidArgument("INVALID_ARRIVE_WITHIN", "arrive_within_minutes is at most " +
                                                            std::to_string(options.max_arrive_within_minutes));
      }
      break;
    }
    case CaseCommand::kReportIn:
      if (command.report_in().department_code().empty()) {
        return InvalidArgument("MISSING_DEPARTMENT", "department_code is required");
      }
      break;
    case CaseCommand::kAssignHelper:
      if (command.assign_helper().member_id().empty()) {
        return InvalidArgument("MISSING_MEMBER", "member_id is required");
      }
      break;
    case CaseCommand::kExtend:
      if (command.extend().hours() == 0 || command.extend().hours() > options.max_extension_hours) {
        return InvalidArgument("INVALID_EXTENSION",
                               "hours must be 1.." + std::to_string(options.max_extension_hours));
      }
      break;
    default:
      break;
  }
  return Status::Ok();
}

std::vector<PendingTimer> PendingTimers(const Case& c) {
  std::vector<PendingTimer> out;
  if (!IsOpen(c.status())) return out;
  const auto& d = c.deadlines();
  auto add_stage = [&](DeadlineKind kind, bool has_due, const Timestamp& due, bool has_warn, const Timestamp& warn,
                       bool warned) {
    if (!has_due) return;
    const Micros due_at = FromTs(due);
    if (has_warn && !warned && FromTs(warn) < due_at) out.push_back(PendingTimer{FromTs(warn), kind, 0, true});
    out.push_back(PendingTimer{due_at, kind, 0, false});
  };
  const CaseStatus s = c.status();
  if (s == grid::v1::CASE_STATUS_ROUTED) {
    add_stage(grid::v1::DEADLINE_KIND_ACCEPT, d.has_accept_due(), d.accept_due(), d.has_accept_warn_at(),
              d.accept_warn_at(), d.accept_warned());
  }
  if (OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                grid::v1::CASE_STATUS_WAITING})) {
    add_stage(grid::v1::DEADLINE_KIND_RESOLVE, d.has_resolve_due(), d.resolve_due(), d.has_resolve_warn_at(),
              d.resolve_warn_at(), d.resolve_warned());
    for (int i = 0; i < c.subtasks_size(); ++i) {
      const auto& t = c.subtasks(i);
      const auto index = static_cast<uint32_t>(i);
      if (t.status() == grid::v1::SUB_TASK_STATUS_SUMMONED && !t.arrive_escalated() && t.has_arrive_due()) {
        out.push_back(PendingTimer{FromTs(t.arrive_due()), grid::v1::DEADLINE_KIND_SUBTASK_ARRIVE, index, false});
      }
      if (t.status() != grid::v1::SUB_TASK_STATUS_DONE && !t.done_escalated() && t.has_done_due()) {
        out.push_back(PendingTimer{FromTs(t.done_due()), grid::v1::DEADLINE_KIND_SUBTASK_DONE, index, false});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const PendingTimer& a, const PendingTimer& b) {
    return std::tie(a.due, a.kind, a.subtask, a.warning) < std::tie(b.due, b.kind, b.subtask, b.warning);
  });
  return out;
}

// ---- Lifecycle ----------------------------------------------------------------

// One application of a command: the case being changed and the events it
// gathers.
class Lifecycle::Step {
 public:
  Step(const Lifecycle& lc, const Directory& dir, const Case& current, const WorkActor& actor, Micros now)
      : lc_(lc), dir_(dir), actor_(actor), now_(now), next(current) {}

  // Appends an event that moves the case to `to` (which may be its status).
  CaseEvent* Emit(EventType type, CaseStatus to, const std::string& note) {
    return EmitOn(&next, &events, type, to, note);
  }
  CaseEvent* EmitOn(Case* c, std::vector<CaseEvent>* out, EventType type, CaseStatus to, const std::string& note) {
    CaseEvent e;
    e.set_case_id(c->id());
    e.set_seq(c->version() + 1);
    e.set_type(type);
    *e.mutable_at() = Ts(now_);
    e.set_actor(actor_.id);
    e.set_actor_role(actor_.role);
    e.set_from_status(c->status());
    e.set_to_status(to);
    e.set_note(note);
    e.set_case_version(e.seq());
    c->set_status(to);
    c->set_version(e.seq());
    *c->mutable_updated_at() = Ts(now_);
    out->push_back(std::move(e));
    return &out->back();
  }

  Status RequireRole(const char* command, std::initializer_list<std::string_view> roles) const {
    if (std::find(roles.begin(), roles.end(), actor_.role) != roles.end()) return Status::Ok();
    return Status(StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED",
                  "role '" + actor_.role + "' may not " + command + " a case");
  }

  bool InScope(const Case& c) const {
    if (actor_.role == kAdmin || actor_.role == kSystem) return true;
    if (actor_.role == kDepartment) {
      if (c.department_code() == actor_.id) return true;
      for (const auto& t : c.subtasks()) {
        if (t.department_code() == actor_.id) return true;
      }
      return actor_.scope.empty() || actor_.scope == "*" ? false : dir_.IsWithin(c.unit_code(), actor_.scope);
    }
    if (actor_.scope.empty() || actor_.scope == "*") return true;
    return dir_.IsWithin(c.unit_code(), actor_.scope) ||
           (!c.escalation_unit_code().empty() && dir_.IsWithin(c.escalation_unit_code(), actor_.scope));
  }

  Status RequireScope(const Case& c) const {
    if (InScope(c)) return Status::Ok();
    return Status(StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
                  "case " + c.id() + " (unit " + c.unit_code() + ") is outside the caller's scope");
  }

  // Recomputes one stage's due and warning point from its start, skipping
  // the recorded pauses. No rule, or an open pause before the due: no timer.
  void SetStageDue(bool accept_stage, Micros start) {
    auto* d = next.mutable_deadlines();
    if (accept_stage) {
      *d->mutable_accept_start() = Ts(start);
      d->clear_accept_due();
      d->clear_accept_warn_at();
      d->set_accept_warned(false);
      d->set_accept_overdue(false);
      d->set_accept_at_top(false);
    } else {
      *d->mutable_resolve_start() = Ts(start);
      d->clear_resolve_due();
      d->clear_resolve_warn_at();
      d->set_resolve_warned(false);
      d->set_resolve_overdue(false);
      d->set_resolve_at_top(false);
    }
    RecomputeDue(accept_stage);
  }

  // As SetStageDue, keeping the stage's start and flags (after a pause).
  void RecomputeDue(bool accept_stage) {
    auto* d = next.mutable_deadlines();
    if (d->deadline_class().empty()) return;
    // A stage overdue at the top of the chain has no timer any more, whatever moves.
    if (accept_stage ? d->accept_at_top() : d->resolve_at_top()) return;
    auto rule = lc_.policy_.Find(d->deadline_class(), next.priority());
    if (!rule.ok()) return;
    const Micros duration = (accept_stage ? rule->accept : rule->resolve).Resolve(lc_.calendar_);
    const Micros start = FromTs(accept_stage ? d->accept_start() : d->resolve_start());
    const std::vector<Pause> pauses = PausesOf(*d);
    const Micros due = AddCountedTime(lc_.calendar_, rule->mode, start, duration, pauses);
    const auto warn_share = static_cast<Micros>(std::llround(lc_.policy_.warn_share() * static_cast<double>(duration)));
    const Micros warn = AddCountedTime(lc_.calendar_, rule->mode, start, warn_share, pauses);
    d->set_working_time(rule->mode == CountingMode::kWorking);
    if (accept_stage) {
      d->clear_accept_due();
      d->clear_accept_warn_at();
      if (due != kNoDeadline) *d->mutable_accept_due() = Ts(due);
      if (warn != kNoDeadline && due != kNoDeadline) *d->mutable_accept_warn_at() = Ts(warn);
    } else {
      d->clear_resolve_due();
      d->clear_resolve_warn_at();
      if (due != kNoDeadline) *d->mutable_resolve_due() = Ts(due);
      if (warn != kNoDeadline && due != kNoDeadline) *d->mutable_resolve_warn_at() = Ts(warn);
      SyncSubtaskDues();
    }
  }

  // A summoned department's work is due when the case is: when the case's
  // resolve due moves (a pause, an extension, a new deadline after an
  // escalation), the open sub-tasks' dues move with it.
  void SyncSubtaskDues() {
    const auto& d = next.deadlines();
    for (auto& t : *next.mutable_subtasks()) {
      if (t.status() == grid::v1::SUB_TASK_STATUS_DONE || t.done_escalated()) continue;
      if (d.has_resolve_due()) {
        *t.mutable_done_due() = d.resolve_due();
      } else {
        t.clear_done_due();
      }
    }
  }

  // Puts the case at a unit chosen by the router.
  void TakeRouting(grid::v1::RoutingDecision decision) {
    next.set_unit_code(decision.unit_code());
    next.set_department_code(decision.department_code());
    next.set_assignee_member_id(decision.assignee_member_id());
    next.set_arbitration(false);
    next.set_escalation_level(0);
    next.clear_escalation_unit_code();
    *next.mutable_routing() = std::move(decision);
    SetStageDue(true, now_);
  }

  // Puts the case at `unit` for a person there to decide (arbitration).
  void TakeArbitration(const std::string& unit) {
    next.set_unit_code(unit);
    next.clear_department_code();
    next.clear_assignee_member_id();
    next.set_arbitration(true);
    next.set_escalation_level(0);
    next.clear_escalation_unit_code();
    SetStageDue(true, now_);
  }

  // Raises the case one level above its current supervising unit. Automatic
  // escalations (a due passed) restart the stage's clock there; at the top of
  // the chain they record the event and stop the stage's timer.
  Status Escalate(bool automatic, DeadlineKind kind, const std::string& note) {
    const std::string base = next.escalation_unit_code().empty() ? next.unit_code() : next.escalation_unit_code();
    // The chain ends at the county (grid -> community -> town -> county):
    // cities and provinces above it in a national directory are not part of it.
    const UnitRef here = dir_.FindUnit(base);
    const bool at_county = here != nullptr && here->level() != grid::v1::UNIT_LEVEL_UNSPECIFIED &&
                           here->level() <= grid::v1::UNIT_LEVEL_COUNTY;
    const std::string parent = at_county ? std::string() : ParentOf(dir_, base);
    const UnitRef up = parent.empty() ? UnitRef() : dir_.FindUnit(parent);
    if (up == nullptr) {
      if (!automatic) {
        return FailedPrecondition("AT_TOP", "unit " + base + " has no higher level to escalate to");
      }
      CaseEvent* e = Emit(grid::v1::EVENT_TYPE_ESCALATED, next.status(),
                          note + " (overdue at the top of the chain: no higher level)");
      e->set_from_unit(base);
      e->set_to_unit(base);
      if (const UnitRef u = dir_.FindUnit(base)) e->set_to_level(u->level());
      e->set_automatic(true);
      e->set_deadline_kind(kind);
      auto* d = next.mutable_deadlines();
      if (kind == grid::v1::DEADLINE_KIND_ACCEPT) {
        d->clear_accept_due();
        d->clear_accept_warn_at();
        d->set_accept_at_top(true);
      }
      if (kind == grid::v1::DEADLINE_KIND_RESOLVE) {
        d->clear_resolve_due();
        d->clear_resolve_warn_at();
        d->set_resolve_at_top(true);
        SyncSubtaskDues();
      }
      return Status::Ok();
    }
    next.set_escalation_unit_code(up->code());
    next.set_escalation_level(next.escalation_level() + 1);
    CaseEvent* e = Emit(grid::v1::EVENT_TYPE_ESCALATED, next.status(), note);
    e->set_from_unit(base);
    e->set_to_unit(up->code());
    e->set_to_level(up->level());
    e->set_automatic(automatic);
    e->set_deadline_kind(kind);
    if (automatic) {
      const bool accept = kind == grid::v1::DEADLINE_KIND_ACCEPT;
      // A new deadline at the new level; the stage stays overdue for the record.
      SetStageDue(accept, now_);
      auto* d = next.mutable_deadlines();
      if (accept) d->set_accept_overdue(true); else d->set_resolve_overdue(true);
    }
    return Status::Ok();
  }

  void StartWorkIfAccepted(const std::string& note) {
    if (next.status() == grid::v1::CASE_STATUS_ACCEPTED) {
      Emit(grid::v1::EVENT_TYPE_WORK_STARTED, grid::v1::CASE_STATUS_IN_PROGRESS, note);
    }
  }

  const Lifecycle& lc_;
  const Directory& dir_;
  const WorkActor& actor_;
  const Micros now_;
  Case next;
  std::vector<CaseEvent> events;
};

Lifecycle::Lifecycle(DeadlinePolicy policy, WorkingCalendar calendar, const Router* router, LifecycleOptions options)
    : policy_(std::move(policy)), calendar_(std::move(calendar)), router_(router), options_(options) {}

void Lifecycle::StartClocks(const Directory& directory, Case* c, Micros now) const {
  std::string cls;
  if (const auto* cat = directory.FindCategory(c->category())) cls = cat->deadline_class();
  if (cls.empty() || !policy_.Find(cls, c->priority()).ok()) cls = "general";
  if (!policy_.Find(cls, c->priority()).ok()) cls.clear();
  if (c->unit_code().empty()) {
    c->set_unit_code(c->routing().unit_code());
    c->set_department_code(c->routing().department_code());
    c->set_assignee_member_id(c->routing().assignee_member_id());
  }
  c->mutable_deadlines()->set_deadline_class(cls);
  WorkActor system{"deadline", std::string(kSystem), ""};
  Step step(*this, directory, *c, system, now);
  step.SetStageDue(true, now);
  step.SetStageDue(false, now);
  *c = std::move(step.next);
  // A category handled by the grid with departments alongside: they are
  // summoned from the start, each with its arrival deadline.
  for (const auto& code : c->routing().summoned_department_codes()) {
    auto* t = c->add_subtasks();
    t->set_department_code(code);
    t->set_status(grid::v1::SUB_TASK_STATUS_SUMMONED);
    *t->mutable_summoned_at() = Ts(now);
    *t->mutable_arrive_due() = Ts(now + options_.default_arrive_within);
    if (c->deadlines().has_resolve_due()) *t->mutable_done_due() = c->deadlines().resolve_due();
  }
}

StatusOr<Transition> Lifecycle::Apply(const Directory& dir, const Case& current, const Case* master,
                                      const CaseCommand& command, const WorkActor& actor, Micros now) const {
  GRID_RETURN_IF_ERROR(ValidateCommand(command, options_));
  const char* name = CommandName(command);
  Step step(*this, dir, current, actor, now);
  Case& c = step.next;
  const CaseStatus s = current.status();
  const bool fire = command.has_fire();
  // Who may touch the case at all comes first: a caller out of scope learns
  // nothing about it, not even its version.
  if (fire) {
    GRID_RETURN_IF_ERROR(step.RequireRole(name, {kSystem}));
  } else {
    GRID_RETURN_IF_ERROR(step.RequireScope(current));
  }
  const uint64_t expected = CommandExpectedVersion(command);
  if (expected != 0 && expected != current.version()) {
    return Status(StatusCode::kAborted, "VERSION_MISMATCH",
                  "case " + current.id() + " is at version " + std::to_string(current.version()) + ", not " +
                      std::to_string(expected));
  }
  Transition out;

  switch (command.action_case()) {
    case CaseCommand::kAccept: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kHandlers));
      if (s != grid::v1::CASE_STATUS_ROUTED) return IllegalTransition(name, s);
      if (!c.has_accepted_at()) {
        *c.mutable_accepted_at() = Ts(now);
        c.set_accepted_on_time(!c.deadlines().accept_overdue() &&
                               (!c.deadlines().has_accept_due() || now <= FromTs(c.deadlines().accept_due())));
      }
      c.set_arbitration(false);
      step.Emit(grid::v1::EVENT_TYPE_ACCEPTED, grid::v1::CASE_STATUS_ACCEPTED, command.accept().note());
      break;
    }
    case CaseCommand::kStartWork: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kHandlers));
      if (s != grid::v1::CASE_STATUS_ACCEPTED) return IllegalTransition(name, s);
      step.StartWorkIfAccepted(command.start_work().note());
      break;
    }
    case CaseCommand::kReject: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kHandlers));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED})) {
        return IllegalTransition(name, s);
      }
      const auto& r = command.reject();
      const std::string from = c.unit_code();
      // Where the reason sends it, if anywhere.
      std::optional<grid::v1::RoutingDecision> decision;
      if (r.reason() != grid::v1::REJECT_REASON_NOT_OUR_DUTY) {
        RouteInput in;
        std::string category = c.category();
        if (r.reason() == grid::v1::REJECT_REASON_WRONG_CATEGORY) {
          if (dir.FindCategory(r.corrected_category()) == nullptr) {
            return InvalidArgument("UNKNOWN_CATEGORY",
                                   "category '" + r.corrected_category() + "' is not in the directory");
          }
          category = r.corrected_category();
        }
        std::optional<geo::Point> location;
        if (c.has_location()) location = geo::Point{c.location().lng(), c.location().lat()};
        std::string address = c.address();
        if (r.reason() == grid::v1::REJECT_REASON_WRONG_LOCATION) {
          location.reset();
          if (r.has_corrected_location()) {
            location = geo::Point{r.corrected_location().lng(), r.corrected_location().lat()};
          }
          if (!IsBlank(r.corrected_address())) address = r.corrected_address();
        }
        std::string parent = ParentOf(dir, from);
        in.category = category;
        in.location = location;
        in.address = address;
        if (r.reason() == grid::v1::REJECT_REASON_OTHER_UNIT) {
          if (dir.FindUnit(r.suggested_unit_code()) == nullptr) {
            return InvalidArgument("UNKNOWN_UNIT", "unit '" + r.suggested_unit_code() + "' is not in the directory");
          }
          in.unit_code = r.suggested_unit_code();
        }
        in.fallback_unit = parent;
        auto routed = router_->Route(dir, in);
        if (routed.ok()) decision = std::move(routed).value();
        // The corrections are facts about the case from now on.
        if (r.reason() == grid::v1::REJECT_REASON_WRONG_CATEGORY) c.set_category(category);
        if (r.reason() == grid::v1::REJECT_REASON_WRONG_LOCATION) {
          if (r.has_corrected_location()) *c.mutable_location() = r.corrected_location(); else c.clear_location();
          c.set_address(address);
        }
      }
      // A re-route that lands where it came from, or in fallback, cannot
      // settle it: the parent arbitrates.
      std::string arbitrate_at;
      std::string why;
      const bool same_handler = decision && decision->unit_code() == from &&
                                decision->department_code() == current.department_code();
      if (!decision || same_handler || decision->needs_manual_dispatch()) {
        arbitrate_at = ParentOf(dir, from);
        why = r.reason() == grid::v1::REJECT_REASON_NOT_OUR_DUTY
                  ? "no unit suggested: the parent unit decides"
                  : "re-routing found no other unit: the parent unit decides";
      } else {
        // Ping-pong: the target has returned it before, and the two have now
        // returned it ping_pong_limit times between them.
        const std::string& target = decision->unit_code();
        int between = 1;  // this rejection
        bool target_returned = false;
        for (const auto& past : c.rejections()) {
          if (past.unit_code() == target) target_returned = true;
          if (past.unit_code() == target || past.unit_code() == from) ++between;
        }
        if (target_returned && between >= options_.ping_pong_limit) {
          arbitrate_at = CommonParent(dir, from, target);
          if (arbitrate_at == from || arbitrate_at == target) arbitrate_at = ParentOf(dir, arbitrate_at);
          why = "returned " + std::to_string(between) + " times between " + from + " and " + target +
                ": their common parent decides";
        }
      }
      const bool arbitration = !why.empty();
      if (arbitration && arbitrate_at.empty()) {
        return FailedPrecondition("NO_ARBITER", "unit " + from + " has no parent to arbitrate: transfer it instead");
      }
      auto* rej = c.add_rejections();
      rej->set_unit_code(from);
      rej->set_reason(r.reason());
      rej->set_note(r.note());
      *rej->mutable_at() = Ts(now);
      rej->set_actor(actor.id);
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_REJECTED, grid::v1::CASE_STATUS_ROUTED, r.note());
      e->set_reject_reason(r.reason());
      e->set_from_unit(from);
      if (!arbitration) {
        const std::string to = decision->unit_code();
        c.mutable_rejections()->rbegin()->set_routed_to(to);
        const std::string explanation = decision->explanation();
        step.TakeRouting(std::move(*decision));
        CaseEvent* rr = step.Emit(grid::v1::EVENT_TYPE_REROUTED, grid::v1::CASE_STATUS_ROUTED, explanation);
        rr->set_from_unit(from);
        rr->set_to_unit(to);
        rr->set_automatic(true);
        *rr->mutable_routing() = c.routing();
      } else {
        c.mutable_rejections()->rbegin()->set_routed_to(arbitrate_at);
        step.TakeArbitration(arbitrate_at);
        CaseEvent* a = step.Emit(grid::v1::EVENT_TYPE_ARBITRATION, grid::v1::CASE_STATUS_ROUTED, why);
        a->set_from_unit(from);
        a->set_to_unit(arbitrate_at);
        if (const UnitRef u = dir.FindUnit(arbitrate_at)) a->set_to_level(u->level());
        a->set_automatic(true);
      }
      break;
    }
    case CaseCommand::kTransfer: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kDispatchers));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
        return IllegalTransition(name, s);
      }
      const auto& r = command.transfer();
      if (dir.FindUnit(r.unit_code()) == nullptr) {
        return InvalidArgument("UNKNOWN_UNIT", "unit '" + r.unit_code() + "' is not in the directory");
      }
      if (r.unit_code() == c.unit_code() && !c.arbitration()) {
        return FailedPrecondition("SAME_UNIT", "the case is already at unit " + r.unit_code());
      }
      if (!actor.scope.empty() && actor.scope != "*" && actor.role != kAdmin && actor.role != kCallCenter &&
          !dir.IsWithin(r.unit_code(), actor.scope)) {
        return Status(StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
                      "unit " + r.unit_code() + " is outside the caller's scope");
      }
      RouteInput in;
      in.category = c.category();
      in.unit_code = r.unit_code();
      auto routed = router_->Route(dir, in);
      if (!routed.ok()) return routed.status();
      const std::string from = c.unit_code();
      step.TakeRouting(std::move(routed).value());
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_TRANSFERRED, grid::v1::CASE_STATUS_ROUTED, r.note());
      e->set_from_unit(from);
      e->set_to_unit(r.unit_code());
      *e->mutable_routing() = c.routing();
      break;
    }
    case CaseCommand::kAddNote: {
      step.Emit(grid::v1::EVENT_TYPE_NOTE, s, command.add_note().note());
      break;
    }
    case CaseCommand::kResolve: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kHandlers));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
        return IllegalTransition(name, s);
      }
      std::string open;
      for (const auto& t : c.subtasks()) {
        if (t.status() != grid::v1::SUB_TASK_STATUS_DONE) open += (open.empty() ? "" : ", ") + t.department_code();
      }
      if (!open.empty()) {
        return FailedPrecondition("SUBTASKS_OPEN", "summoned departments have not reported done: " + open);
      }
      *c.mutable_resolved_at() = Ts(now);
      c.set_resolved_on_time(!c.deadlines().resolve_overdue() &&
                             (!c.deadlines().has_resolve_due() || now <= FromTs(c.deadlines().resolve_due())));
      step.Emit(grid::v1::EVENT_TYPE_RESOLVED, grid::v1::CASE_STATUS_RESOLVED, command.resolve().note());
      break;
    }
    case CaseCommand::kRecordCallback: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kDispatchers));
      if (s != grid::v1::CASE_STATUS_RESOLVED) return IllegalTransition(name, s);
      const auto& r = command.record_callback();
      auto* cb = c.mutable_callback();
      cb->set_satisfied(r.satisfied());
      cb->set_note(r.note());
      *cb->mutable_at() = Ts(now);
      cb->set_actor(actor.id);
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_CALLED_BACK, grid::v1::CASE_STATUS_CALLED_BACK, r.note());
      e->set_satisfied(r.satisfied());
      break;
    }
    case CaseCommand::kClose: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kDispatchers));
      if (s != grid::v1::CASE_STATUS_CALLED_BACK) return IllegalTransition(name, s);
      *c.mutable_closed_at() = Ts(now);
      step.Emit(grid::v1::EVENT_TYPE_CLOSED, grid::v1::CASE_STATUS_CLOSED, command.close().note());
      break;
    }
    case CaseCommand::kReopen: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kDispatchers));
      const bool unsatisfied = s == grid::v1::CASE_STATUS_CALLED_BACK && !c.callback().satisfied();
      if (!unsatisfied && s != grid::v1::CASE_STATUS_CLOSED) {
        if (s == grid::v1::CASE_STATUS_CALLED_BACK) {
          return FailedPrecondition("ILLEGAL_TRANSITION",
                                    "reopen needs a dissatisfied callback, or a closed case; the citizen was satisfied");
        }
        return IllegalTransition(name, s);
      }
      c.set_reopen_count(c.reopen_count() + 1);
      c.clear_callback();
      c.clear_accepted_at();  // the new round is measured on its own
      c.set_accepted_on_time(false);
      c.clear_resolved_at();
      c.clear_closed_at();
      c.set_resolved_on_time(false);
      c.set_escalation_level(0);
      c.clear_escalation_unit_code();
      c.mutable_deadlines()->clear_pauses();
      step.SetStageDue(true, now);
      step.SetStageDue(false, now);
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_REOPENED, grid::v1::CASE_STATUS_ROUTED, command.reopen().note());
      e->set_to_unit(c.unit_code());
      break;
    }
    case CaseCommand::kMerge: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kDispatchers));
      if (!IsOpen(s)) return IllegalTransition(name, s);
      if (master == nullptr) {
        return NotFound("CASE_NOT_FOUND", "master case " + command.merge().master_case_id() + " does not exist");
      }
      if (!IsOpen(master->status())) {
        return FailedPrecondition("MASTER_NOT_OPEN", "master case " + master->id() + " is " +
                                                        grid::v1::CaseStatus_Name(master->status()));
      }
      GRID_RETURN_IF_ERROR(step.RequireScope(*master));
      c.set_merged_into(master->id());
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_MERGED, grid::v1::CASE_STATUS_MERGED, command.merge().note());
      e->set_related_case_id(master->id());
      out.master = *master;
      out.master->add_merged_case_ids(c.id());
      CaseEvent* m = step.EmitOn(&*out.master, &out.master_events, grid::v1::EVENT_TYPE_MERGE_RECEIVED,
                                 master->status(), command.merge().note());
      m->set_related_case_id(c.id());
      break;
    }
    case CaseCommand::kCancel: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kDispatchers));
      if (!IsOpen(s) || OneOf(s, {grid::v1::CASE_STATUS_RESOLVED, grid::v1::CASE_STATUS_CALLED_BACK})) {
        return IllegalTransition(name, s);
      }
      c.set_cancel_reason(command.cancel().note());
      step.Emit(grid::v1::EVENT_TYPE_CANCELLED, grid::v1::CASE_STATUS_CANCELLED, command.cancel().note());
      break;
    }
    case CaseCommand::kEscalate: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, {kGridWorker, kDepartment, kSupervisor, kCallCenter, kAdmin}));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                     grid::v1::CASE_STATUS_WAITING})) {
        return IllegalTransition(name, s);
      }
      GRID_RETURN_IF_ERROR(step.Escalate(false, grid::v1::DEADLINE_KIND_UNSPECIFIED, command.escalate().note()));
      break;
    }
    case CaseCommand::kSummon: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, {kGridWorker, kSupervisor, kAdmin}));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
        return IllegalTransition(name, s);
      }
      const auto& r = command.summon();
      for (const auto& code : r.department_codes()) {
        if (dir.FindDepartment(code) == nullptr) {
          return InvalidArgument("UNKNOWN_DEPARTMENT", "department '" + code + "' is not in the directory");
        }
        for (const auto& t : c.subtasks()) {
          if (t.department_code() == code && t.status() != grid::v1::SUB_TASK_STATUS_DONE) {
            return FailedPrecondition("ALREADY_SUMMONED", "department '" + code + "' is already summoned");
          }
        }
      }
      const Micros within = r.arrive_within_minutes() == 0 ? options_.default_arrive_within
                                                           : r.arrive_within_minutes() * kMicrosPerMinute;
      step.StartWorkIfAccepted("work started with the summons");
      for (const auto& code : r.department_codes()) {
        auto* t = c.add_subtasks();
        t->set_department_code(code);
        t->set_status(grid::v1::SUB_TASK_STATUS_SUMMONED);
        *t->mutable_summoned_at() = Ts(now);
        *t->mutable_arrive_due() = Ts(now + within);
        if (c.deadlines().has_resolve_due()) *t->mutable_done_due() = c.deadlines().resolve_due();
      }
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_SUMMONED, c.status(), r.note());
      *e->mutable_department_codes() = r.department_codes();
      break;
    }
    case CaseCommand::kReportIn: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, {kDepartment, kSupervisor, kAdmin}));
      const auto& r = command.report_in();
      if (actor.role == kDepartment && actor.id != r.department_code()) {
        return Status(StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
                      "department '" + actor.id + "' may only report in for itself");
      }
      if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                     grid::v1::CASE_STATUS_WAITING})) {
        return IllegalTransition(name, s);
      }
      grid::v1::SubTask* task = nullptr;
      for (auto& t : *c.mutable_subtasks()) {
        if (t.department_code() == r.department_code() && t.status() != grid::v1::SUB_TASK_STATUS_DONE) task = &t;
      }
      if (task == nullptr) {
        return FailedPrecondition("NOT_SUMMONED", "department '" + r.department_code() +
                                                      "' has no open sub-task on this case");
      }
      if (!r.done() && task->status() == grid::v1::SUB_TASK_STATUS_ARRIVED) {
        return FailedPrecondition("ALREADY_ARRIVED", "department '" + r.department_code() + "' has already arrived");
      }
      if (!task->has_arrived_at()) *task->mutable_arrived_at() = Ts(now);
      if (r.done()) {
        task->set_status(grid::v1::SUB_TASK_STATUS_DONE);
        *task->mutable_done_at() = Ts(now);
      } else {
        task->set_status(grid::v1::SUB_TASK_STATUS_ARRIVED);
      }
      task->set_note(r.note());
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_REPORTED_IN, s, r.note());
      e->add_department_codes(r.department_code());
      break;
    }
    case CaseCommand::kAssignHelper: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, {kGridWorker, kSupervisor, kAdmin}));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                     grid::v1::CASE_STATUS_WAITING})) {
        return IllegalTransition(name, s);
      }
      const auto& r = command.assign_helper();
      const auto* m = dir.FindMember(r.member_id());
      if (m == nullptr) {
        return InvalidArgument("UNKNOWN_MEMBER", "member '" + r.member_id() + "' is not in the directory");
      }
      // From the grid itself, or members attached to the community above it
      // (in-service members 双报到 report to the community).
      const UnitRef mu = dir.FindUnit(m->unit_code());
      const bool near = mu != nullptr && dir.IsWithin(c.unit_code(), m->unit_code()) &&
                        mu->level() >= grid::v1::UNIT_LEVEL_COMMUNITY;
      if (!near) {
        return FailedPrecondition("MEMBER_NOT_NEARBY", "member '" + r.member_id() + "' serves " + m->unit_code() +
                                                           ", not the case's grid or its community");
      }
      for (const auto& h : c.helpers()) {
        if (h.member_id() == r.member_id()) {
          return FailedPrecondition("ALREADY_HELPING", "member '" + r.member_id() + "' is already helping");
        }
      }
      step.StartWorkIfAccepted("work started with helpers");
      auto* h = c.add_helpers();
      h->set_member_id(m->id());
      h->set_name(m->name());
      h->set_note(r.note());
      *h->mutable_at() = Ts(now);
      h->set_party_member(m->party_member());
      CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_HELPER_ASSIGNED, c.status(), r.note());
      e->set_member_id(m->id());
      break;
    }
    case CaseCommand::kWait: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, kHandlers));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
        return IllegalTransition(name, s);
      }
      auto* p = c.mutable_deadlines()->add_pauses();
      *p->mutable_from() = Ts(now);
      p->set_reason("citizen");
      p->set_actor(actor.id);
      c.set_status_before_wait(s);
      c.set_waiting_reason(grid::v1::WAIT_REASON_CITIZEN);
      step.RecomputeDue(false);
      step.Emit(grid::v1::EVENT_TYPE_WAITING, grid::v1::CASE_STATUS_WAITING, command.wait().note());
      break;
    }
    case CaseCommand::kResume: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, {kGridWorker, kDepartment, kSupervisor, kCallCenter, kAdmin}));
      if (s != grid::v1::CASE_STATUS_WAITING) return IllegalTransition(name, s);
      for (auto& p : *c.mutable_deadlines()->mutable_pauses()) {
        if (!p.has_to()) *p.mutable_to() = Ts(std::max(now, FromTs(p.from()) + 1));
      }
      const CaseStatus back =
          c.status_before_wait() == grid::v1::CASE_STATUS_UNSPECIFIED ? grid::v1::CASE_STATUS_IN_PROGRESS
                                                                      : c.status_before_wait();
      c.clear_status_before_wait();
      c.clear_waiting_reason();
      step.RecomputeDue(false);
      step.Emit(grid::v1::EVENT_TYPE_RESUMED, back, command.resume().note());
      break;
    }
    case CaseCommand::kExtend: {
      GRID_RETURN_IF_ERROR(step.RequireRole(name, {kSupervisor, kAdmin}));
      if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                     grid::v1::CASE_STATUS_WAITING})) {
        return IllegalTransition(name, s);
      }
      const Micros until = now + static_cast<Micros>(command.extend().hours()) * kMicrosPerHour;
      auto* p = c.mutable_deadlines()->add_pauses();
      *p->mutable_from() = Ts(now);
      *p->mutable_to() = Ts(until);
      p->set_reason("extension");
      p->set_actor(actor.id);
      const bool warned = c.deadlines().resolve_warned() && c.deadlines().has_resolve_due() &&
                          now >= FromTs(c.deadlines().resolve_warn_at());
      step.RecomputeDue(false);
      // A warning already given stays given unless its point moved past now.
      if (warned && c.deadlines().has_resolve_warn_at() && FromTs(c.deadlines().resolve_warn_at()) > now) {
        c.mutable_deadlines()->set_resolve_warned(false);
      }
      step.Emit(grid::v1::EVENT_TYPE_EXTENDED, s, command.extend().note());
      break;
    }
    case CaseCommand::kFire: {
      const auto& f = command.fire();
      const PendingTimer timer{f.due_micros(), f.kind(), f.subtask_index(), f.warning()};
      const auto pending = PendingTimers(current);
      if (std::find(pending.begin(), pending.end(), timer) == pending.end()) {
        return NotFound("STALE_TIMER", "case " + current.id() + " no longer has that timer");
      }
      auto* d = c.mutable_deadlines();
      if (timer.warning) {
        if (timer.kind == grid::v1::DEADLINE_KIND_ACCEPT) d->set_accept_warned(true); else d->set_resolve_warned(true);
        CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_DEADLINE_WARNING, s,
                                 std::string(timer.kind == grid::v1::DEADLINE_KIND_ACCEPT ? "accept" : "resolve") +
                                     " deadline approaching");
        e->set_deadline_kind(timer.kind);
        e->set_automatic(true);
      } else if (timer.kind == grid::v1::DEADLINE_KIND_ACCEPT || timer.kind == grid::v1::DEADLINE_KIND_RESOLVE) {
        if (timer.kind == grid::v1::DEADLINE_KIND_ACCEPT) d->set_accept_overdue(true); else d->set_resolve_overdue(true);
        GRID_RETURN_IF_ERROR(step.Escalate(
            true, timer.kind,
            std::string(timer.kind == grid::v1::DEADLINE_KIND_ACCEPT ? "not accepted" : "not resolved") +
                " by its deadline"));
      } else {
        auto* t = c.mutable_subtasks(static_cast<int>(timer.subtask));
        const bool arrive = timer.kind == grid::v1::DEADLINE_KIND_SUBTASK_ARRIVE;
        if (arrive) t->set_arrive_escalated(true); else t->set_done_escalated(true);
        CaseEvent* e = step.Emit(grid::v1::EVENT_TYPE_SUBTASK_OVERDUE, s,
                                 "department " + t->department_code() +
                                     (arrive ? " did not report in by its arrival deadline"
                                             : " did not finish by its deadline"));
        e->add_department_codes(t->department_code());
        e->set_deadline_kind(timer.kind);
        e->set_automatic(true);
        if (const auto* dep = dir.FindDepartment(t->department_code())) {
          e->set_to_unit(dep->unit_code());
          if (const UnitRef u = dir.FindUnit(dep->unit_code())) e->set_to_level(u->level());
        }
      }
      break;
    }
    case CaseCommand::ACTION_NOT_SET:
      return InvalidArgument("MISSING_ACTION", "the command names no action");
  }
  out.next = std::move(step.next);
  out.events = std::move(step.events);
  return out;
}

}  // namespace grid
