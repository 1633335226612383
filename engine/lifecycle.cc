// The case lifecycle (see lifecycle.h): Apply's dispatch and the checks every
// command shares, StartClocks, PendingTimers, the command helpers, and the
// shared steps of Lifecycle::Step. Each command is a Step method in
// lifecycle_commands.cc, lifecycle_routing.cc or lifecycle_summons.cc; the
// field checks are in lifecycle_validation.cc (see lifecycle_internal.h).
#include "engine/lifecycle.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <tuple>

#include "engine/lifecycle_internal.h"
#include "engine/reasons.h"

namespace grid {

using google::protobuf::Timestamp;
using grid::v1::Case;
using grid::v1::CaseCommand;
using grid::v1::CaseEvent;
using grid::v1::CaseStatus;
using grid::v1::DeadlineKind;
using lifecycle_internal::FromTs;
using lifecycle_internal::kSystem;
using lifecycle_internal::OneOf;
using lifecycle_internal::ParentOf;
using lifecycle_internal::Ts;
using lifecycle_internal::VisitCommand;

namespace {

std::vector<Pause> PausesOf(const grid::v1::Deadlines& d) {
  std::vector<Pause> out;
  for (const auto& p : d.pauses()) {
    const Micros from = FromTs(p.from());
    const Micros to = p.has_to() ? FromTs(p.to()) : kOpenPause;
    if (from < to) out.push_back(Pause{from, to});
  }
  return out;
}

}  // namespace

std::string lifecycle_internal::ParentOf(const Directory& dir, const std::string& code) {
  const UnitRef u = dir.FindUnit(code);
  return u == nullptr ? std::string() : std::string(u.parent_code());
}

// ---- Commands ---------------------------------------------------------------

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
    case CaseCommand::kReveal: return "reveal_citizen";
    case CaseCommand::ACTION_NOT_SET: break;
  }
  return "unknown";
}

policy::Rpc CommandRpc(const CaseCommand& command) {
  using policy::Rpc;
  switch (command.action_case()) {
    case CaseCommand::kAccept: return Rpc::kAccept;
    case CaseCommand::kReject: return Rpc::kReject;
    case CaseCommand::kTransfer: return Rpc::kTransfer;
    case CaseCommand::kAddNote: return Rpc::kAddNote;
    case CaseCommand::kResolve: return Rpc::kResolve;
    case CaseCommand::kRecordCallback: return Rpc::kRecordCallback;
    case CaseCommand::kClose: return Rpc::kClose;
    case CaseCommand::kReopen: return Rpc::kReopen;
    case CaseCommand::kMerge: return Rpc::kMerge;
    case CaseCommand::kCancel: return Rpc::kCancel;
    case CaseCommand::kEscalate: return Rpc::kEscalate;
    case CaseCommand::kSummon: return Rpc::kSummonDepartments;
    case CaseCommand::kReportIn: return Rpc::kReportIn;
    case CaseCommand::kAssignHelper: return Rpc::kAssignHelper;
    case CaseCommand::kWait: return Rpc::kWait;
    case CaseCommand::kResume: return Rpc::kResume;
    case CaseCommand::kExtend: return Rpc::kExtend;
    case CaseCommand::kStartWork: return Rpc::kStartWork;
    case CaseCommand::kReveal: return Rpc::kRevealCitizen;
    case CaseCommand::kFire:
    case CaseCommand::ACTION_NOT_SET: break;
  }
  return Rpc::kAddNote;  // not reached for a validated command other than a timer
}

bool IsOpen(CaseStatus status) {
  return !OneOf(status, {grid::v1::CASE_STATUS_CLOSED, grid::v1::CASE_STATUS_CANCELLED, grid::v1::CASE_STATUS_MERGED});
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

// ---- Lifecycle::Step: the shared steps --------------------------------------

Lifecycle::Step::Step(const Lifecycle& lc, const Directory& dir, const Case& current, const WorkActor& actor,
                      Micros now, const char* command)
    : lc_(lc), dir_(dir), current_(current), actor_(actor), now_(now), command_(command), next(current) {}

Status Lifecycle::Step::IllegalTransition() const {
  return Error(reason::ILLEGAL_TRANSITION, std::string(command_) + " is not allowed while the case is " +
                                               grid::v1::CaseStatus_Name(current_.status()));
}

Lifecycle::Step::CaseEvent* Lifecycle::Step::Emit(grid::v1::EventType type, CaseStatus to, const std::string& note) {
  return EmitOn(&next, &events, type, to, note);
}
Lifecycle::Step::CaseEvent* Lifecycle::Step::EmitOn(Case* c, std::vector<CaseEvent>* out, grid::v1::EventType type,
                                                    CaseStatus to, const std::string& note) {
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

Status Lifecycle::Step::RequireRole(std::initializer_list<std::string_view> roles) const {
  if (std::find(roles.begin(), roles.end(), actor_.role) != roles.end()) return Status::Ok();
  return Error(reason::ROLE_NOT_ALLOWED, "role '" + actor_.role + "' may not " + command_ + " a case");
}

Status Lifecycle::Step::Admit(policy::Rpc rpc, const Case& c) const {
  const auto role = policy::RoleFromName(actor_.role);
  if (!role) return Error(reason::ROLE_NOT_ALLOWED, "role '" + actor_.role + "' may not " + command_ + " a case");
  return policy::AdmitCase(dir_, policy::Caller{actor_.id, *role, actor_.scope}, rpc, c);
}

bool Lifecycle::Step::UnitInScope(const std::string& unit) const {
  return policy::IsWholeScope(actor_.scope) || dir_.IsWithin(unit, actor_.scope);
}

void Lifecycle::Step::SetStageDue(bool accept_stage, Micros start) {
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

void Lifecycle::Step::RecomputeDue(bool accept_stage) {
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

void Lifecycle::Step::SyncSubtaskDues() {
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

void Lifecycle::Step::TakeRouting(grid::v1::RoutingDecision decision) {
  next.set_unit_code(decision.unit_code());
  next.set_department_code(decision.department_code());
  next.set_assignee_member_id(decision.assignee_member_id());
  next.set_arbitration(false);
  next.set_escalation_level(0);
  next.clear_escalation_unit_code();
  *next.mutable_routing() = std::move(decision);
  SetStageDue(true, now_);
}

void Lifecycle::Step::TakeArbitration(const std::string& unit) {
  next.set_unit_code(unit);
  next.clear_department_code();
  next.clear_assignee_member_id();
  next.set_arbitration(true);
  next.set_escalation_level(0);
  next.clear_escalation_unit_code();
  SetStageDue(true, now_);
}

Status Lifecycle::Step::EscalateOneLevel(bool automatic, grid::v1::DeadlineKind kind, const std::string& note) {
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
      return Error(reason::AT_TOP, "unit " + base + " has no higher level to escalate to");
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
    if (accept)
      d->set_accept_overdue(true);
    else
      d->set_resolve_overdue(true);
  }
  return Status::Ok();
}

void Lifecycle::Step::StartWorkIfAccepted(const std::string& note) {
  if (next.status() == grid::v1::CASE_STATUS_ACCEPTED) {
    Emit(grid::v1::EVENT_TYPE_WORK_STARTED, grid::v1::CASE_STATUS_IN_PROGRESS, note);
  }
}

// ---- Lifecycle ----------------------------------------------------------------

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
  Step step(*this, dir, current, actor, now, CommandName(command));
  // Who may touch the case at all comes first: a caller out of scope learns
  // nothing about it, not even its version.
  if (command.has_fire()) {
    GRID_RETURN_IF_ERROR(step.RequireRole({kSystem}));
  } else {
    GRID_RETURN_IF_ERROR(step.Admit(CommandRpc(command), current));
  }
  const uint64_t expected = CommandExpectedVersion(command);
  if (expected != 0 && expected != current.version()) {
    return Error(reason::VERSION_MISMATCH, "case " + current.id() + " is at version " +
                                               std::to_string(current.version()) + ", not " + std::to_string(expected));
  }
  GRID_RETURN_IF_ERROR(step.Run(command, master));
  Transition out;
  out.next = std::move(step.next);
  out.events = std::move(step.events);
  out.master = std::move(step.master_after);
  out.master_events = std::move(step.master_events);
  return out;
}

Status Lifecycle::Step::Run(const CaseCommand& command, const Case* master) {
  switch (command.action_case()) {
    case CaseCommand::kAccept: return Accept(command.accept());
    case CaseCommand::kStartWork: return StartWork(command.start_work());
    case CaseCommand::kReject: return Reject(command.reject());
    case CaseCommand::kTransfer: return Transfer(command.transfer());
    case CaseCommand::kAddNote: return AddNote(command.add_note());
    case CaseCommand::kResolve: return Resolve(command.resolve());
    case CaseCommand::kRecordCallback: return RecordCallback(command.record_callback());
    case CaseCommand::kClose: return Close(command.close());
    case CaseCommand::kReopen: return Reopen(command.reopen());
    case CaseCommand::kMerge: return Merge(command.merge(), master);
    case CaseCommand::kCancel: return Cancel(command.cancel());
    case CaseCommand::kEscalate: return Escalate(command.escalate());
    case CaseCommand::kSummon: return Summon(command.summon());
    case CaseCommand::kReportIn: return ReportIn(command.report_in());
    case CaseCommand::kAssignHelper: return AssignHelper(command.assign_helper());
    case CaseCommand::kWait: return Wait(command.wait());
    case CaseCommand::kResume: return Resume(command.resume());
    case CaseCommand::kExtend: return Extend(command.extend());
    case CaseCommand::kFire: return FireDeadline(command.fire());
    case CaseCommand::kReveal: return RevealCitizen(command.reveal());
    case CaseCommand::ACTION_NOT_SET: break;
  }
  return Error(reason::MISSING_ACTION, "the command names no action");
}

}  // namespace grid
