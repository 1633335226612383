// The commands that move a case between units or up the chain: reject (退单,
// re-routed or arbitrated, with the ping-pong rule), transfer, escalate by
// hand (吹哨), and the deadline timers that escalate by themselves: one
// Lifecycle::Step method per command (see lifecycle_internal.h).
//
// Thread-safety: a Step belongs to one Apply on one thread.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/lifecycle_internal.h"
#include "engine/reasons.h"

namespace grid {

using grid::v1::CaseEvent;
using grid::v1::CaseStatus;
using lifecycle_internal::IsBlank;
using lifecycle_internal::OneOf;
using lifecycle_internal::ParentOf;
using lifecycle_internal::Ts;

namespace {

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

}  // namespace

Status Lifecycle::Step::Reject(const grid::v1::RejectRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED})) {
    return IllegalTransition();
  }
  const std::string from = c.unit_code();
  // Where the reason sends it, if anywhere.
  std::optional<grid::v1::RoutingDecision> decision;
  if (r.reason() != grid::v1::REJECT_REASON_NOT_OUR_DUTY) {
    RouteInput in;
    std::string category = c.category();
    if (r.reason() == grid::v1::REJECT_REASON_WRONG_CATEGORY) {
      if (dir_.FindCategory(r.corrected_category()) == nullptr) {
        return Error(reason::UNKNOWN_CATEGORY, "category '" + r.corrected_category() + "' is not in the directory");
      }
      category = r.corrected_category();
    }
    std::optional<geo::Point> location;
    if (c.has_location()) location = geo::Point{c.location().lng(), c.location().lat()};
    grid::v1::CoordinateSystem system = c.location().coordinate_system();
    std::string address = c.address();
    if (r.reason() == grid::v1::REJECT_REASON_WRONG_LOCATION) {
      location.reset();
      if (r.has_corrected_location()) {
        location = geo::Point{r.corrected_location().lng(), r.corrected_location().lat()};
        system = r.corrected_location().coordinate_system();
      }
      if (!IsBlank(r.corrected_address())) address = r.corrected_address();
    }
    std::string parent = ParentOf(dir_, from);
    in.category = category;
    in.location = location;
    in.location_system = system;
    in.address = address;
    if (r.reason() == grid::v1::REJECT_REASON_OTHER_UNIT) {
      if (dir_.FindUnit(r.suggested_unit_code()) == nullptr) {
        return Error(reason::UNKNOWN_UNIT, "unit '" + r.suggested_unit_code() + "' is not in the directory");
      }
      in.unit_code = r.suggested_unit_code();
    }
    in.fallback_unit = parent;
    auto routed = lc_.router_->Route(dir_, in);
    if (routed.ok()) decision = std::move(routed).value();
    // The corrections are facts about the case from now on.
    if (r.reason() == grid::v1::REJECT_REASON_WRONG_CATEGORY) c.set_category(category);
    if (r.reason() == grid::v1::REJECT_REASON_WRONG_LOCATION) {
      if (r.has_corrected_location())
        *c.mutable_location() = r.corrected_location();
      else
        c.clear_location();
      c.set_address(address);
    }
  }
  // A re-route that lands where it came from, or in fallback, cannot
  // settle it: the parent arbitrates.
  std::string arbitrate_at;
  std::string why;
  const bool same_handler =
      decision && decision->unit_code() == from && decision->department_code() == current_.department_code();
  if (!decision || same_handler || decision->needs_manual_dispatch()) {
    arbitrate_at = ParentOf(dir_, from);
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
    if (target_returned && between >= lc_.options_.ping_pong_limit) {
      arbitrate_at = CommonParent(dir_, from, target);
      if (arbitrate_at == from || arbitrate_at == target) arbitrate_at = ParentOf(dir_, arbitrate_at);
      why = "returned " + std::to_string(between) + " times between " + from + " and " + target +
            ": their common parent decides";
    }
  }
  const bool arbitration = !why.empty();
  if (arbitration && arbitrate_at.empty()) {
    return Error(reason::NO_ARBITER, "unit " + from + " has no parent to arbitrate: transfer it instead");
  }
  auto* rej = c.add_rejections();
  rej->set_unit_code(from);
  rej->set_reason(r.reason());
  rej->set_note(r.note());
  *rej->mutable_at() = Ts(now_);
  rej->set_actor(actor_.id);
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_REJECTED, grid::v1::CASE_STATUS_ROUTED, r.note());
  e->set_reject_reason(r.reason());
  e->set_from_unit(from);
  if (!arbitration) {
    const std::string to = decision->unit_code();
    c.mutable_rejections()->rbegin()->set_routed_to(to);
    const std::string explanation = decision->explanation();
    TakeRouting(std::move(*decision));
    CaseEvent* rr = Emit(grid::v1::EVENT_TYPE_REROUTED, grid::v1::CASE_STATUS_ROUTED, explanation);
    rr->set_from_unit(from);
    rr->set_to_unit(to);
    rr->set_automatic(true);
    *rr->mutable_routing() = c.routing();
  } else {
    c.mutable_rejections()->rbegin()->set_routed_to(arbitrate_at);
    TakeArbitration(arbitrate_at);
    CaseEvent* a = Emit(grid::v1::EVENT_TYPE_ARBITRATION, grid::v1::CASE_STATUS_ROUTED, why);
    a->set_from_unit(from);
    a->set_to_unit(arbitrate_at);
    if (const UnitRef u = dir_.FindUnit(arbitrate_at)) a->set_to_level(u->level());
    a->set_automatic(true);
  }
  return Status::Ok();
}

Status Lifecycle::Step::Transfer(const grid::v1::TransferRequest& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS})) {
    return IllegalTransition();
  }
  if (dir_.FindUnit(r.unit_code()) == nullptr) {
    return Error(reason::UNKNOWN_UNIT, "unit '" + r.unit_code() + "' is not in the directory");
  }
  if (r.unit_code() == c.unit_code() && !c.arbitration()) {
    return Error(reason::SAME_UNIT, "the case is already at unit " + r.unit_code());
  }
  // Scope binds where a case goes as well as where it is, for every role.
  if (!UnitInScope(r.unit_code())) {
    return Error(reason::OUT_OF_SCOPE, "unit " + r.unit_code() + " is outside the caller's scope");
  }
  RouteInput in;
  in.category = c.category();
  in.unit_code = r.unit_code();
  auto routed = lc_.router_->Route(dir_, in);
  if (!routed.ok()) return routed.status();
  const std::string from = c.unit_code();
  TakeRouting(std::move(routed).value());
  CaseEvent* e = Emit(grid::v1::EVENT_TYPE_TRANSFERRED, grid::v1::CASE_STATUS_ROUTED, r.note());
  e->set_from_unit(from);
  e->set_to_unit(r.unit_code());
  *e->mutable_routing() = c.routing();
  return Status::Ok();
}

Status Lifecycle::Step::Escalate(const grid::v1::EscalateRequest& r) {
  const CaseStatus s = current_.status();
  if (!OneOf(s, {grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED, grid::v1::CASE_STATUS_IN_PROGRESS,
                 grid::v1::CASE_STATUS_WAITING})) {
    return IllegalTransition();
  }
  return EscalateOneLevel(false, grid::v1::DEADLINE_KIND_UNSPECIFIED, r.note());
}

Status Lifecycle::Step::FireDeadline(const grid::v1::FireDeadline& r) {
  Case& c = next;
  const CaseStatus s = current_.status();
  const PendingTimer timer{r.due_micros(), r.kind(), r.subtask_index(), r.warning()};
  const auto pending = PendingTimers(current_);
  if (std::find(pending.begin(), pending.end(), timer) == pending.end()) {
    return Error(reason::STALE_TIMER, "case " + current_.id() + " no longer has that timer");
  }
  auto* d = c.mutable_deadlines();
  if (timer.warning) {
    if (timer.kind == grid::v1::DEADLINE_KIND_ACCEPT)
      d->set_accept_warned(true);
    else
      d->set_resolve_warned(true);
    CaseEvent* e = Emit(
        grid::v1::EVENT_TYPE_DEADLINE_WARNING, s,
        std::string(timer.kind == grid::v1::DEADLINE_KIND_ACCEPT ? "accept" : "resolve") + " deadline approaching");
    e->set_deadline_kind(timer.kind);
    e->set_automatic(true);
  } else if (timer.kind == grid::v1::DEADLINE_KIND_ACCEPT || timer.kind == grid::v1::DEADLINE_KIND_RESOLVE) {
    if (timer.kind == grid::v1::DEADLINE_KIND_ACCEPT)
      d->set_accept_overdue(true);
    else
      d->set_resolve_overdue(true);
    GRID_RETURN_IF_ERROR(
        EscalateOneLevel(true, timer.kind,
                         std::string(timer.kind == grid::v1::DEADLINE_KIND_ACCEPT ? "not accepted" : "not resolved") +
                             " by its deadline"));
  } else {
    auto* t = c.mutable_subtasks(static_cast<int>(timer.subtask));
    const bool arrive = timer.kind == grid::v1::DEADLINE_KIND_SUBTASK_ARRIVE;
    if (arrive)
      t->set_arrive_escalated(true);
    else
      t->set_done_escalated(true);
    CaseEvent* e =
        Emit(grid::v1::EVENT_TYPE_SUBTASK_OVERDUE, s,
             "department " + t->department_code() +
                 (arrive ? " did not report in by its arrival deadline" : " did not finish by its deadline"));
    e->add_department_codes(t->department_code());
    e->set_deadline_kind(timer.kind);
    e->set_automatic(true);
    if (const auto* dep = dir_.FindDepartment(t->department_code())) {
      e->set_to_unit(dep->unit_code());
      if (const UnitRef u = dir_.FindUnit(dep->unit_code())) e->set_to_level(u->level());
    }
  }
  return Status::Ok();
}

}  // namespace grid
