// The inside of the case lifecycle, shared by its own sources and by nothing
// else (include engine/lifecycle.h instead):
//
//   lifecycle.cc             Apply's dispatch, StartClocks, PendingTimers and
//                            the shared steps of Step (events, roles, scope,
//                            stage clocks, routing, escalation)
//   lifecycle_validation.cc  ValidateCommand: field checks that need no case
//   lifecycle_commands.cc    the main line ROUTED .. CLOSED, its side exits
//                            (reopen, merge, cancel) and the clock pauses
//   lifecycle_routing.cc     commands that move a case between units or up
//                            the chain: reject, transfer, escalate, deadlines
//   lifecycle_summons.cc     吹哨报到 and helpers: summon, report in, assign
//
// Thread-safety: a Step belongs to one Apply (or StartClocks) on one thread.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/lifecycle.h"
#include "engine/policy.h"
#include "engine/text.h"
#include "engine/timestamp.h"

namespace grid {
namespace lifecycle_internal {

inline google::protobuf::Timestamp Ts(Micros t) { return ToTimestamp(t); }
inline Micros FromTs(const google::protobuf::Timestamp& ts) { return FromTimestamp(ts); }

inline constexpr std::string_view kAdmin = "admin";
inline constexpr std::string_view kSystem = "system";
inline constexpr std::string_view kDepartment = "department";

// White space of any Unicode kind alone (text::IsBlank) is blank.
inline bool IsBlank(std::string_view s) { return text::IsBlank(s); }

inline bool OneOf(grid::v1::CaseStatus s, std::initializer_list<grid::v1::CaseStatus> set) {
  for (const grid::v1::CaseStatus x : set) {
    if (x == s) return true;
  }
  return false;
}

// The parent of unit `code`; "" for a root or an unknown unit.
std::string ParentOf(const Directory& dir, const std::string& code);

// Calls `fn` with the command's request (an empty AcceptRequest for a
// FireDeadline or no action): every request has case_id, expected_version
// and note.
template <typename Fn>
decltype(auto) VisitCommand(const grid::v1::CaseCommand& c, Fn&& fn) {
  using grid::v1::CaseCommand;
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
    case CaseCommand::kReveal: return fn(c.reveal());
    case CaseCommand::kFire:
    case CaseCommand::ACTION_NOT_SET: break;
  }
  return fn(grid::v1::AcceptRequest::default_instance());
}

}  // namespace lifecycle_internal

// One application of a command: the case being changed (`next`, a copy of
// `current`) and the events it gathers. A command that fails leaves the Step
// half-changed; Apply then drops it, so nothing changes.
class Lifecycle::Step {
 public:
  using Case = grid::v1::Case;
  using CaseEvent = grid::v1::CaseEvent;
  using CaseStatus = grid::v1::CaseStatus;

  // `command` names the command in messages ("accept").
  Step(const Lifecycle& lc, const Directory& dir, const Case& current, const WorkActor& actor, Micros now,
       const char* command = "");

  // Runs the command. REQUIRES: it passed ValidateCommand, and Apply checked
  // the actor's scope and the expected version. `master`: see Apply.
  Status Run(const grid::v1::CaseCommand& command, const Case* master);

  // ---- Shared steps (lifecycle.cc) ----

  // Appends an event that moves the case to `to` (which may be its status).
  CaseEvent* Emit(grid::v1::EventType type, CaseStatus to, const std::string& note);
  // As Emit, for another case and event list (the master of a merge).
  CaseEvent* EmitOn(Case* c, std::vector<CaseEvent>* out, grid::v1::EventType type, CaseStatus to,
                    const std::string& note);

  // PERMISSION_DENIED ROLE_NOT_ALLOWED unless the actor has one of `roles`.
  Status RequireRole(std::initializer_list<std::string_view> roles) const;
  // FAILED_PRECONDITION ILLEGAL_TRANSITION for this command in the current status.
  Status IllegalTransition() const;
  // The authorization policy (engine/policy.h) for `rpc` on case `c`:
  // PERMISSION_DENIED ROLE_NOT_ALLOWED or OUT_OF_SCOPE.
  Status Admit(policy::Rpc rpc, const Case& c) const;
  // Whether `unit` lies within the actor's scope.
  bool UnitInScope(const std::string& unit) const;

  // Recomputes one stage's due and warning point from its start, skipping
  // the recorded pauses. No rule, or an open pause before the due: no timer.
  void SetStageDue(bool accept_stage, Micros start);
  // As SetStageDue, keeping the stage's start and flags (after a pause).
  void RecomputeDue(bool accept_stage);
  // A summoned department's work is due when the case is: when the case's
  // resolve due moves (a pause, an extension, a new deadline after an
  // escalation), the open sub-tasks' dues move with it.
  void SyncSubtaskDues();

  // Puts the case at a unit chosen by the router.
  void TakeRouting(grid::v1::RoutingDecision decision);
  // Puts the case at `unit` for a person there to decide (arbitration).
  void TakeArbitration(const std::string& unit);
  // Raises the case one level above its current supervising unit. Automatic
  // escalations (a due passed) restart the stage's clock there; at the top of
  // the chain they record the event and stop the stage's timer. By hand at
  // the top: FAILED_PRECONDITION AT_TOP.
  Status EscalateOneLevel(bool automatic, grid::v1::DeadlineKind kind, const std::string& note);
  void StartWorkIfAccepted(const std::string& note);

  // ---- Commands: one each. Errors leave the case as it was (see above). ----

  // lifecycle_commands.cc
  Status Accept(const grid::v1::AcceptRequest& r);
  Status StartWork(const grid::v1::StartWorkRequest& r);
  Status AddNote(const grid::v1::AddNoteRequest& r);
  Status Resolve(const grid::v1::ResolveRequest& r);
  Status RecordCallback(const grid::v1::RecordCallbackRequest& r);
  Status Close(const grid::v1::CloseRequest& r);
  Status Reopen(const grid::v1::ReopenRequest& r);
  Status Merge(const grid::v1::MergeRequest& r, const Case* master);
  Status Cancel(const grid::v1::CancelRequest& r);
  Status Wait(const grid::v1::WaitRequest& r);
  Status Resume(const grid::v1::ResumeRequest& r);
  Status Extend(const grid::v1::ExtendRequest& r);
  Status RevealCitizen(const grid::v1::RevealCitizenRequest& r);
  // lifecycle_routing.cc
  Status Reject(const grid::v1::RejectRequest& r);
  Status Transfer(const grid::v1::TransferRequest& r);
  Status Escalate(const grid::v1::EscalateRequest& r);
  Status FireDeadline(const grid::v1::FireDeadline& r);
  // lifecycle_summons.cc
  Status Summon(const grid::v1::SummonDepartmentsRequest& r);
  Status ReportIn(const grid::v1::ReportInRequest& r);
  Status AssignHelper(const grid::v1::AssignHelperRequest& r);

  const Lifecycle& lc_;
  const Directory& dir_;
  const Case& current_;
  const WorkActor& actor_;
  const Micros now_;
  const char* const command_;
  Case next;
  std::vector<CaseEvent> events;
  // A merge's master case after it, and its events.
  std::optional<Case> master_after;
  std::vector<CaseEvent> master_events;
};

}  // namespace grid
