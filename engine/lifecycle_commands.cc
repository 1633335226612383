// The main line of a case, ROUTED -> ACCEPTED -> IN_PROGRESS -> RESOLVED ->
// CALLED_BACK -> CLOSED, its side exits (reopen, merge, cancel), notes, and the
// commands that pause or extend the resolve clock (wait, resume, extend): one
// Lifecycle::Step method per command (see lifecycle_internal.h).
//
// Thread-safety: a Step belongs to one Apply on one thread.
#include <algorithm>
#include <string>

#include "engine/lifecycle_internal.h"
#include "engine/reasons.h"

namespace grid {

using grid::v1::CaseEvent;
using grid::v1::CaseStatus;
using lifecycle_internal::FromTs;
using lifecycle_internal::OneOf;
using lifecycle_internal::Ts;

Status Lifecycle::Step::Accept(const grid::v1::AcceptRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (s != grid::v1::CASE_STATUS_ROUTED) return IllegalTransition();
  if (!c.has_accepted_at()) {
    *c.mutable_accepted_at() = Ts(now_);
    c.set_accepted_on_time(!c.deadlines().accept_overdue() &&
                           (!c.deadlines().has_accept_due() || now_ <= FromTs(c.deadlines().accept_due())));
  }
  c.set_arbitration(false);
  Emit(grid::v1::EVENT_TYPE_ACCEPTED, grid::v1::CASE_STATUS_ACCEPTED, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::StartWork(const grid::v1::StartWorkRequest& r) {
  const CaseStatus s = current_.status();
  if (s != grid::v1::CASE_STATUS_ACCEPTED) return IllegalTransition();
  StartWorkIfAccepted(r.note());
  return Status::Ok();
}

Status Lifecycle::Step::AddNote(const grid::v1::AddNoteRequest& r) {
  const CaseStatus s = current_.status();
  Emit(grid::v1::EVENT_TYPE_NOTE, s, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::Resolve(const grid::v1::ResolveRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
    return IllegalTransition();
  }
  std::string open;
  for (const auto& t : c.subtasks()) {
    if (t.status() != grid::v1::SUB_TASK_STATUS_DONE) open += (open.empty() ? "" : ", ") + t.department_code();
  }
  if (!open.empty()) {
    return Error(reason::SUBTASKS_OPEN, "summoned departments have not reported done: " + open);
  }
  *c.mutable_resolved_at() = Ts(now_);
  c.set_resolved_on_time(!c.deadlines().resolve_overdue() &&
                         (!c.deadlines().has_resolve_due() || now_ <= FromTs(c.deadlines().resolve_due())));
  Emit(grid::v1::EVENT_TYPE_RESOLVED, grid::v1::CASE_STATUS_RESOLVED, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::RecordCallback(const grid::v1::RecordCallbackRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (s != grid::v1::CASE_STATUS_RESOLVED) return IllegalTransition();
  auto* cb = c.mutable_callback();
  cb->set_satisfied(r.satisfied());
  cb->set_note(r.note());
  *cb->mutable_at() = Ts(now_);
  cb->set_actor(actor_.id);
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_CALLED_BACK, grid::v1::CASE_STATUS_CALLED_BACK, r.note());
  e->set_satisfied(r.satisfied());
  return Status::Ok();
}

Status Lifecycle::Step::Close(const grid::v1::CloseRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (s != grid::v1::CASE_STATUS_CALLED_BACK) return IllegalTransition();
  *c.mutable_closed_at() = Ts(now_);
  Emit(grid::v1::EVENT_TYPE_CLOSED, grid::v1::CASE_STATUS_CLOSED, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::Reopen(const grid::v1::ReopenRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  const bool unsatisfied = s == grid::v1::CASE_STATUS_CALLED_BACK && !c.callback().satisfied();
  if (!unsatisfied && s != grid::v1::CASE_STATUS_CLOSED) {
    if (s == grid::v1::CASE_STATUS_CALLED_BACK) {
      return Error(reason::ILLEGAL_TRANSITION,
                   "reopen needs a dissatisfied callback, or a closed case; the citizen was satisfied");
    }
    return IllegalTransition();
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
  SetStageDue(true, now_);
  SetStageDue(false, now_);
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_REOPENED, grid::v1::CASE_STATUS_ROUTED, r.note());
  e->set_to_unit(c.unit_code());
  return Status::Ok();
}

Status Lifecycle::Step::Merge(const grid::v1::MergeRequest& r, const Case* master) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!IsOpen(s)) return IllegalTransition();
  if (master == nullptr) {
    return Error(reason::CASE_NOT_FOUND, "master case " + r.master_case_id() + " does not exist");
  }
  if (!IsOpen(master->status())) {
    return Error(reason::MASTER_NOT_OPEN,
                 "master case " + master->id() + " is " + grid::v1::CaseStatus_Name(master->status()));
  }
  GRID_RETURN_IF_ERROR(Admit(policy::Rpc::kMerge, *master));
  c.set_merged_into(master->id());
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_MERGED, grid::v1::CASE_STATUS_MERGED, r.note());
  e->set_related_case_id(master->id());
  master_after = *master;
  master_after->add_merged_case_ids(c.id());
  CaseEvent* m =
      EmitOn(&*master_after, &master_events, grid::v1::EVENT_TYPE_MERGE_RECEIVED, master->status(), r.note());
  m->set_related_case_id(c.id());
  return Status::Ok();
}

Status Lifecycle::Step::Cancel(const grid::v1::CancelRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!IsOpen(s) || OneOf(s, {grid::v1::CASE_STATUS_RESOLVED, grid::v1::CASE_STATUS_CALLED_BACK})) {
    return IllegalTransition();
  }
  c.set_cancel_reason(r.note());
  Emit(grid::v1::EVENT_TYPE_CANCELLED, grid::v1::CASE_STATUS_CANCELLED, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::Wait(const grid::v1::WaitRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
    return IllegalTransition();
  }
  auto* p = c.mutable_deadlines()->add_pauses();
  *p->mutable_from() = Ts(now_);
  p->set_reason("citizen");
  p->set_actor(actor_.id);
  c.set_status_before_wait(s);
  c.set_waiting_reason(grid::v1::WAIT_REASON_CITIZEN);
  RecomputeDue(false);
  Emit(grid::v1::EVENT_TYPE_WAITING, grid::v1::CASE_STATUS_WAITING, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::Resume(const grid::v1::ResumeRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (s != grid::v1::CASE_STATUS_WAITING) return IllegalTransition();
  for (auto& p : *c.mutable_deadlines()->mutable_pauses()) {
    if (!p.has_to()) *p.mutable_to() = Ts(std::max(now_, FromTs(p.from()) + 1));
  }
  const CaseStatus back = c.status_before_wait() == grid::v1::CASE_STATUS_UNSPECIFIED
                              ? grid::v1::CASE_STATUS_IN_PROGRESS
                              : c.status_before_wait();
  c.clear_status_before_wait();
  c.clear_waiting_reason();
  RecomputeDue(false);
  Emit(grid::v1::EVENT_TYPE_RESUMED, back, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::Extend(const grid::v1::ExtendRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                 grid::v1::CASE_STATUS_WAITING})) {
    return IllegalTransition();
  }
  const Micros until = now_ + static_cast<Micros>(r.hours()) * kMicrosPerHour;
  auto* p = c.mutable_deadlines()->add_pauses();
  *p->mutable_from() = Ts(now_);
  *p->mutable_to() = Ts(until);
  p->set_reason("extension");
  p->set_actor(actor_.id);
  const bool warned = c.deadlines().resolve_warned() && c.deadlines().has_resolve_due() &&
                      now_ >= FromTs(c.deadlines().resolve_warn_at());
  RecomputeDue(false);
  // A warning already given stays given unless its point moved past now.
  if (warned && c.deadlines().has_resolve_warn_at() && FromTs(c.deadlines().resolve_warn_at()) > now_) {
    c.mutable_deadlines()->set_resolve_warned(false);
  }
  Emit(grid::v1::EVENT_TYPE_EXTENDED, s, r.note());
  return Status::Ok();
}

Status Lifecycle::Step::RevealCitizen(const grid::v1::RevealCitizenRequest& r) {
  // The audit record alone: status, clocks and indexes stay as they are.
  Emit(grid::v1::EVENT_TYPE_CITIZEN_REVEALED, current_.status(), r.note());
  return Status::Ok();
}

}  // namespace grid
