// 吹哨报到 and 党员帮忙: summoning departments (each a sub-task with an arrival
// deadline), a department reporting in or done, and a member of the grid or
// its community assigned to help: one Lifecycle::Step method per command (see
// lifecycle_internal.h).
//
// Thread-safety: a Step belongs to one Apply on one thread.
#include <string>

#include "engine/lifecycle_internal.h"
#include "engine/reasons.h"

namespace grid {

using grid::v1::CaseEvent;
using grid::v1::CaseStatus;
using lifecycle_internal::kDepartment;
using lifecycle_internal::OneOf;
using lifecycle_internal::Ts;

Status Lifecycle::Step::Summon(const grid::v1::SummonDepartmentsRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
    return IllegalTransition();
  }
  for (const auto& code : r.department_codes()) {
    if (dir_.FindDepartment(code) == nullptr) {
      return Error(reason::UNKNOWN_DEPARTMENT, "department '" + code + "' is not in the directory");
    }
    for (const auto& t : c.subtasks()) {
      if (t.department_code() == code && t.status() != grid::v1::SUB_TASK_STATUS_DONE) {
        return Error(reason::ALREADY_SUMMONED, "department '" + code + "' is already summoned");
      }
    }
  }
  const Micros within = r.arrive_within_minutes() == 0 ? lc_.options_.default_arrive_within
                                                       : r.arrive_within_minutes() * kMicrosPerMinute;
  StartWorkIfAccepted("work started with the summons");
  for (const auto& code : r.department_codes()) {
    auto* t = c.add_subtasks();
    t->set_department_code(code);
    t->set_status(grid::v1::SUB_TASK_STATUS_SUMMONED);
    *t->mutable_summoned_at() = Ts(now_);
    *t->mutable_arrive_due() = Ts(now_ + within);
    if (c.deadlines().has_resolve_due()) *t->mutable_done_due() = c.deadlines().resolve_due();
  }
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_SUMMONED, c.status(), r.note());
  *e->mutable_department_codes() = r.department_codes();
  return Status::Ok();
}

Status Lifecycle::Step::ReportIn(const grid::v1::ReportInRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (actor_.role == kDepartment && actor_.id != r.department_code()) {
    return Error(reason::OUT_OF_SCOPE, "department '" + actor_.id + "' may only report in for itself");
  }
  if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS, grid::v1::CASE_STATUS_WAITING})) {
    return IllegalTransition();
  }
  grid::v1::SubTask* task = nullptr;
  for (auto& t : *c.mutable_subtasks()) {
    if (t.department_code() == r.department_code() && t.status() != grid::v1::SUB_TASK_STATUS_DONE) task = &t;
  }
  if (task == nullptr) {
    return Error(reason::NOT_SUMMONED, "department '" + r.department_code() + "' has no open sub-task on this case");
  }
  if (!r.done() && task->status() == grid::v1::SUB_TASK_STATUS_ARRIVED) {
    return Error(reason::ALREADY_ARRIVED, "department '" + r.department_code() + "' has already arrived");
  }
  if (!task->has_arrived_at()) *task->mutable_arrived_at() = Ts(now_);
  if (r.done()) {
    task->set_status(grid::v1::SUB_TASK_STATUS_DONE);
    *task->mutable_done_at() = Ts(now_);
  } else {
    task->set_status(grid::v1::SUB_TASK_STATUS_ARRIVED);
  }
  task->set_note(r.note());
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_REPORTED_IN, s, r.note());
  e->add_department_codes(r.department_code());
  return Status::Ok();
}

Status Lifecycle::Step::AssignHelper(const grid::v1::AssignHelperRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS, grid::v1::CASE_STATUS_WAITING})) {
    return IllegalTransition();
  }
  const auto* m = dir_.FindMember(r.member_id());
  if (m == nullptr) {
    return Error(reason::UNKNOWN_MEMBER, "member '" + r.member_id() + "' is not in the directory");
  }
  // From the grid itself, or members attached to the community above it
  // (in-service members 双报到 report to the community).
  const UnitRef mu = dir_.FindUnit(m->unit_code());
  const bool near =
      mu != nullptr && dir_.IsWithin(c.unit_code(), m->unit_code()) && mu->level() >= grid::v1::UNIT_LEVEL_COMMUNITY;
  if (!near) {
    return Error(reason::MEMBER_NOT_NEARBY,
                 "member '" + r.member_id() + "' serves " + m->unit_code() + ", not the case's grid or its community");
  }
  for (const auto& h : c.helpers()) {
    if (h.member_id() == r.member_id()) {
      return Error(reason::ALREADY_HELPING, "member '" + r.member_id() + "' is already helping");
    }
  }
  StartWorkIfAccepted("work started with helpers");
  auto* h = c.add_helpers();
  h->set_member_id(m->id());
  h->set_name(m->name());
  h->set_note(r.note());
  *h->mutable_at() = Ts(now_);
  h->set_party_member(m->party_member());
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_HELPER_ASSIGNED, c.status(), r.note());
  e->set_member_id(m->id());
  return Status::Ok();
}

}  // namespace grid
