// The case lifecycle (SPEC "Case lifecycle", issue #4): a pure state machine
// over grid::v1::Case.
//
//   ROUTED --Accept--> ACCEPTED --StartWork/Summon/Helper--> IN_PROGRESS
//     --Resolve--> RESOLVED --RecordCallback--> CALLED_BACK --Close--> CLOSED
//   ACCEPTED/IN_PROGRESS --Wait--> WAITING --Resume--> (where it was)
//   ROUTED/ACCEPTED --Reject(reason)--> ROUTED elsewhere (re-routed), or
//     ROUTED at the parent (or the common parent after ping-pong) to arbitrate
//   open --Transfer--> ROUTED at the named unit
//   CALLED_BACK (not satisfied) or CLOSED --Reopen--> ROUTED, same unit, new clocks
//   open --Merge--> MERGED (the master records the duplicate)
//   open, not yet resolved --Cancel--> CANCELLED
//   open --Escalate--> same status, supervised one level higher
//   any --RevealCitizen--> same status: a CITIZEN_REVEALED event, nothing else
//
// Apply never reads a clock or storage: it maps (case, command, actor, now,
// directory) to the next case and the events that record the change, or to
// an error that changes nothing:
//   FAILED_PRECONDITION ILLEGAL_TRANSITION  the state does not allow it
//   PERMISSION_DENIED   ROLE_NOT_ALLOWED    the actor's role may not do it
//   PERMISSION_DENIED   OUT_OF_SCOPE        the case is outside the actor's reach
// Both come from the authorization policy (engine/policy.h), checked on the
// stored case before anything else.
//   ABORTED             VERSION_MISMATCH    expected_version is stale
//   INVALID_ARGUMENT    (field reasons, see ValidateCommand)
//
// Deadlines: each stage (accept, resolve) has a clock started at *_start and
// counted in calendar or working time, skipping recorded pauses
// (engine/deadline.h). PendingTimers lists the instants at which something
// must happen; a FireDeadline command for one of them escalates the case one
// level up with a new deadline there (grid -> community -> town -> county),
// or records a warning, or marks a summoned department overdue.
//
// Thread-safety: Lifecycle is immutable after construction; Apply is safe to
// call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/calendar.h"
#include "engine/deadline.h"
#include "engine/directory.h"
#include "engine/policy.h"
#include "engine/router.h"
#include "engine/status.h"
#include "grid/v1/service.pb.h"

namespace grid {

struct LifecycleOptions {
  // A case returned this many times between the same units goes to their
  // common parent instead of bouncing on.
  int ping_pong_limit = 3;
  // Arrival deadline of a summoned department when the request gives none.
  Micros default_arrive_within = 30 * kMicrosPerMinute;
  size_t max_note_chars = 4000;
  uint32_t max_arrive_within_minutes = 24 * 60;
  uint32_t max_extension_hours = 720;
  size_t max_departments_per_summons = 20;
};

// Who is acting. Roles are the auth roles: call_center, grid_worker,
// department, supervisor, town_office, admin; "system" for deadlines. Scope
// is a unit code (its subtree), or empty / "*" for everything; a department
// acts for the department whose code is its id.
struct WorkActor {
  std::string id;
  std::string role;
  std::string scope;
};

// A timer the case needs: at `due`, fire `kind` (a warning when `warning`).
struct PendingTimer {
  Micros due = 0;
  grid::v1::DeadlineKind kind = grid::v1::DEADLINE_KIND_UNSPECIFIED;
  uint32_t subtask = 0;
  bool warning = false;
  bool operator==(const PendingTimer&) const = default;
};

// What Apply produces. For a merge, `master` is the master case after it.
struct Transition {
  grid::v1::Case next;
  std::vector<grid::v1::CaseEvent> events;
  std::optional<grid::v1::Case> master;
  std::vector<grid::v1::CaseEvent> master_events;
};

// The case id a command acts on ("" when the command has none).
const std::string& CommandCaseId(const grid::v1::CaseCommand& command);
// The expected_version of a command (0 = don't check, and for timers).
uint64_t CommandExpectedVersion(const grid::v1::CaseCommand& command);
// The command's name, e.g. "accept", for messages.
const char* CommandName(const grid::v1::CaseCommand& command);
// The RPC a command comes from, for the authorization policy.
// REQUIRES: the command has an action other than a FireDeadline.
policy::Rpc CommandRpc(const grid::v1::CaseCommand& command);

// Field checks that need no case: INVALID_ARGUMENT with reasons
// MISSING_CASE_ID, INVALID_CASE_ID, MISSING_ACTION, INVALID_UTF8,
// NOTE_TOO_LONG, MISSING_NOTE, MISSING_REASON, INVALID_REASON,
// MISSING_CORRECTION, MISSING_UNIT, MISSING_CATEGORY, MISSING_DEPARTMENT,
// DUPLICATE_DEPARTMENT, TOO_MANY_DEPARTMENTS, INVALID_ARRIVE_WITHIN,
// MISSING_MEMBER, INVALID_EXTENSION, MISSING_MASTER, SELF_MERGE, plus the
// location reasons of ValidateLocation.
Status ValidateCommand(const grid::v1::CaseCommand& command, const LifecycleOptions& options);

// Whether a case is still open (not CLOSED, CANCELLED or MERGED).
bool IsOpen(grid::v1::CaseStatus status);

// The timers a case needs now, derived from its record alone (so that the
// due-time index can be rewritten from the old and new record in the same
// batch as every transition). Sorted by due.
std::vector<PendingTimer> PendingTimers(const grid::v1::Case& c);

class Lifecycle {
 public:
  // REQUIRES: router outlives the Lifecycle.
  Lifecycle(DeadlinePolicy policy, WorkingCalendar calendar, const Router* router, LifecycleOptions options = {});

  const DeadlinePolicy& policy() const { return policy_; }
  const WorkingCalendar& calendar() const { return calendar_; }
  const LifecycleOptions& options() const { return options_; }

  // Starts the clocks of a newly routed case (status ROUTED) at `now`:
  // deadline class from its category ("general" when it has none or the
  // policy does not know it), accept and resolve dues and warning points.
  // Departments the routing summons alongside the grid get their sub-tasks.
  void StartClocks(const Directory& directory, grid::v1::Case* c, Micros now) const;

  // Applies `command` to `current`. `master` is the master case of a merge
  // (nullptr otherwise). A FireDeadline for a timer the case no longer has
  // answers NOT_FOUND STALE_TIMER.
  StatusOr<Transition> Apply(const Directory& directory, const grid::v1::Case& current, const grid::v1::Case* master,
                             const grid::v1::CaseCommand& command, const WorkActor& actor, Micros now) const;

 private:
  class Step;

  DeadlinePolicy policy_;
  WorkingCalendar calendar_;
  const Router* router_;
  LifecycleOptions options_;
};

}  // namespace grid
