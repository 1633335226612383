// How gridctl prints cases, routing, events and lifecycles: see output.h.
#include "tools/gridctl/output.h"

#include <cstdio>
#include <ctime>
#include <string>

#include "engine/coordinates.h"

namespace grid::tools::gridctl {

namespace v1 = grid::v1;

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  std::time_t t = ts.seconds();
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string EnumShort(const std::string& full, const char* prefix) {
  return full.rfind(prefix, 0) == 0 ? full.substr(std::string(prefix).size()) : full;
}

void PrintRouting(const v1::RoutingDecision& r) {
  std::printf("  routed to   %s (%s)\n", r.unit_name().c_str(), r.unit_code().c_str());
  std::printf("  path        %s\n", r.path().c_str());
  std::printf("  method      %s%s%s\n", EnumShort(v1::RoutingMethod_Name(r.method()), "ROUTING_METHOD_").c_str(),
              r.ambiguous() ? " (ambiguous)" : "", r.needs_manual_dispatch() ? " (manual dispatch)" : "");
  std::printf("  why         %s\n", r.explanation().c_str());
  for (const auto& s : r.steps()) {
    std::printf("    %-14s %-4s %s\n", EnumShort(v1::RoutingMethod_Name(s.method()), "ROUTING_METHOD_").c_str(),
                s.matched() ? "yes" : "no", s.detail().c_str());
  }
  if (!r.department_code().empty()) std::printf("  department  %s\n", r.department_code().c_str());
  if (r.summoned_department_codes_size() > 0) {
    std::string s;
    for (const auto& d : r.summoned_department_codes()) s += (s.empty() ? "" : ", ") + d;
    std::printf("  summoned    %s\n", s.c_str());
  }
  if (!r.assignee_member_id().empty() || !r.assignee_explanation().empty()) {
    std::printf("  assignee    %s\n", r.assignee_explanation().c_str());
  }
  std::printf("  directory   version %llu\n", static_cast<unsigned long long>(r.directory_version()));
}

void PrintCase(const v1::Case& c) {
  std::printf("case %s  %s\n", c.id().c_str(), EnumShort(v1::CaseStatus_Name(c.status()), "CASE_STATUS_").c_str());
  std::printf("  category    %s\n", c.category().c_str());
  std::printf("  description %s\n", c.description().c_str());
  if (c.has_location()) {
    std::printf("  location    %.6f, %.6f%s\n", c.location().lat(), c.location().lng(),
                c.location().coordinate_system() == v1::COORDINATE_SYSTEM_WGS84
                    ? ""
                    : (" (" + std::string(coords::SystemName(c.location().coordinate_system())) + ")").c_str());
  }
  if (!c.address().empty()) std::printf("  address     %s\n", c.address().c_str());
  if (!c.citizen().name().empty() || !c.citizen().phone().empty()) {
    std::printf("  citizen     %s %s\n", c.citizen().name().c_str(), c.citizen().phone().c_str());
  }
  std::printf("  priority    %s\n", EnumShort(v1::Priority_Name(c.priority()), "PRIORITY_").c_str());
  std::printf("  created     %s by %s\n", FormatTime(c.created_at()).c_str(), c.submitted_by().c_str());
  PrintRouting(c.routing());
}

namespace {

std::string UnitLabel(const v1::Case& c) {
  if (c.routing().unit_code() == c.unit_code() && !c.routing().unit_name().empty()) {
    return c.routing().unit_name() + " (" + c.unit_code() + ")";
  }
  return c.unit_code();
}

// One stage's clock: "due T (warn W), overdue".
std::string StageLine(bool has_due, const google::protobuf::Timestamp& due, bool has_warn,
                      const google::protobuf::Timestamp& warn, bool overdue) {
  std::string s = has_due ? "due " + FormatTime(due) : "no timer";
  if (has_due && has_warn) s += " (warn " + FormatTime(warn) + ")";
  if (overdue) s += ", OVERDUE";
  return s;
}

}  // namespace

std::string EventLine(const v1::CaseEvent& e) {
  std::string line = "#" + std::to_string(e.seq()) + " " + EnumShort(v1::EventType_Name(e.type()), "EVENT_TYPE_");
  line +=
      e.automatic() ? " (automatic)" : " by " + e.actor() + (e.actor_role().empty() ? "" : " (" + e.actor_role() + ")");
  if (e.reject_reason() != v1::REJECT_REASON_UNSPECIFIED) {
    line += " " + EnumShort(v1::RejectReason_Name(e.reject_reason()), "REJECT_REASON_");
  }
  if (e.deadline_kind() != v1::DEADLINE_KIND_UNSPECIFIED) {
    line += " " + EnumShort(v1::DeadlineKind_Name(e.deadline_kind()), "DEADLINE_KIND_") + " deadline";
  }
  if (!e.from_unit().empty() && !e.to_unit().empty()) {
    line += " " + e.from_unit() + " -> " + e.to_unit();
  } else if (!e.from_unit().empty()) {
    line += " from " + e.from_unit();
  } else if (!e.to_unit().empty()) {
    line += " to " + e.to_unit();
  }
  for (const auto& d : e.department_codes()) line += " " + d;
  if (e.type() == v1::EVENT_TYPE_CALLED_BACK) line += e.satisfied() ? " satisfied" : " dissatisfied";
  if (!e.member_id().empty()) line += " member " + e.member_id();
  if (!e.related_case_id().empty()) line += " case " + e.related_case_id();
  if (!e.note().empty()) line += ": " + e.note();
  return line;
}

void PrintWorkSummary(const v1::Case& c) {
  std::printf("case %s  %s  version %llu\n", c.id().c_str(),
              EnumShort(v1::CaseStatus_Name(c.status()), "CASE_STATUS_").c_str(),
              static_cast<unsigned long long>(c.version()));
  std::printf("  unit        %s%s%s%s\n", UnitLabel(c).c_str(), c.arbitration() ? " (to arbitrate)" : "",
              c.assignee_member_id().empty() ? "" : ", assignee ", c.assignee_member_id().c_str());
  if (c.escalation_level() > 0) {
    std::printf("  escalated   level %u, to %s\n", c.escalation_level(), c.escalation_unit_code().c_str());
  }
  const auto& d = c.deadlines();
  if (c.status() == v1::CASE_STATUS_ROUTED) {
    std::printf("  accept      %s\n", StageLine(d.has_accept_due(), d.accept_due(), d.has_accept_warn_at(),
                                                d.accept_warn_at(), d.accept_overdue())
                                          .c_str());
  }
  if (c.status() == v1::CASE_STATUS_ROUTED || c.status() == v1::CASE_STATUS_ACCEPTED ||
      c.status() == v1::CASE_STATUS_IN_PROGRESS || c.status() == v1::CASE_STATUS_WAITING) {
    std::printf("  resolve     %s\n", c.status() == v1::CASE_STATUS_WAITING
                                          ? "clock paused (waiting for the citizen)"
                                          : StageLine(d.has_resolve_due(), d.resolve_due(), d.has_resolve_warn_at(),
                                                      d.resolve_warn_at(), d.resolve_overdue())
                                                .c_str());
  }
  for (const auto& t : c.subtasks()) {
    if (t.status() == v1::SUB_TASK_STATUS_DONE) continue;
    std::printf("  sub-task    %s %s, arrive by %s\n", t.department_code().c_str(),
                EnumShort(v1::SubTaskStatus_Name(t.status()), "SUB_TASK_STATUS_").c_str(),
                FormatTime(t.arrive_due()).c_str());
  }
}

// Every lifecycle field, for `get`.
void PrintLifecycle(const v1::Case& c) {
  std::printf("lifecycle (version %llu)\n", static_cast<unsigned long long>(c.version()));
  std::printf("  unit        %s%s\n", UnitLabel(c).c_str(), c.arbitration() ? " (to arbitrate)" : "");
  if (!c.assignee_member_id().empty()) std::printf("  assignee    %s\n", c.assignee_member_id().c_str());
  if (!c.department_code().empty()) std::printf("  department  %s\n", c.department_code().c_str());
  std::printf("  escalation  level %u%s%s\n", c.escalation_level(), c.escalation_unit_code().empty() ? "" : ", at ",
              c.escalation_unit_code().c_str());
  const auto& d = c.deadlines();
  std::printf("  deadlines   %s, %s time\n", d.deadline_class().empty() ? "(none)" : d.deadline_class().c_str(),
              d.working_time() ? "working" : "calendar");
  std::printf("    accept    %s\n", StageLine(d.has_accept_due(), d.accept_due(), d.has_accept_warn_at(),
                                              d.accept_warn_at(), d.accept_overdue())
                                        .c_str());
  if (c.has_accepted_at()) {
    std::printf("    accepted  %s (%s)\n", FormatTime(c.accepted_at()).c_str(),
                c.accepted_on_time() ? "on time" : "late");
  }
  std::printf("    resolve   %s\n", StageLine(d.has_resolve_due(), d.resolve_due(), d.has_resolve_warn_at(),
                                              d.resolve_warn_at(), d.resolve_overdue())
                                        .c_str());
  if (c.has_resolved_at()) {
    std::printf("    resolved  %s (%s)\n", FormatTime(c.resolved_at()).c_str(),
                c.resolved_on_time() ? "on time" : "late");
  }
  for (const auto& p : d.pauses()) {
    std::printf("    paused    %s .. %s (%s, by %s)\n", FormatTime(p.from()).c_str(),
                p.has_to() ? FormatTime(p.to()).c_str() : "now", p.reason().c_str(), p.actor().c_str());
  }
  if (c.subtasks_size() > 0) std::printf("  sub-tasks\n");
  for (const auto& t : c.subtasks()) {
    std::printf("    %-20s %-8s summoned %s, arrive by %s%s%s%s%s%s%s\n", t.department_code().c_str(),
                EnumShort(v1::SubTaskStatus_Name(t.status()), "SUB_TASK_STATUS_").c_str(),
                FormatTime(t.summoned_at()).c_str(), FormatTime(t.arrive_due()).c_str(),
                t.has_done_due() ? (", done by " + FormatTime(t.done_due())).c_str() : "",
                t.has_arrived_at() ? (", arrived " + FormatTime(t.arrived_at())).c_str() : "",
                t.has_done_at() ? (", done " + FormatTime(t.done_at())).c_str() : "",
                t.arrive_escalated() ? ", arrived late" : "", t.done_escalated() ? ", finished late" : "",
                t.note().empty() ? "" : (": " + t.note()).c_str());
  }
  if (c.helpers_size() > 0) std::printf("  helpers\n");
  for (const auto& h : c.helpers()) {
    std::printf("    %-8s %s%s since %s%s%s\n", h.member_id().c_str(), h.name().c_str(),
                h.party_member() ? " (party member)" : "", FormatTime(h.at()).c_str(), h.note().empty() ? "" : ": ",
                h.note().c_str());
  }
  if (c.rejections_size() > 0) std::printf("  rejections\n");
  for (const auto& r : c.rejections()) {
    std::printf("    %s  %s %s -> %s by %s%s%s\n", FormatTime(r.at()).c_str(), r.unit_code().c_str(),
                EnumShort(v1::RejectReason_Name(r.reason()), "REJECT_REASON_").c_str(), r.routed_to().c_str(),
                r.actor().c_str(), r.note().empty() ? "" : ": ", r.note().c_str());
  }
  if (c.has_callback()) {
    std::printf("  callback    %s at %s by %s%s%s\n", c.callback().satisfied() ? "satisfied" : "dissatisfied",
                FormatTime(c.callback().at()).c_str(), c.callback().actor().c_str(),
                c.callback().note().empty() ? "" : ": ", c.callback().note().c_str());
  }
  if (c.reopen_count() > 0) std::printf("  reopened    %u time(s)\n", c.reopen_count());
  if (!c.merged_into().empty()) std::printf("  merged into %s\n", c.merged_into().c_str());
  for (const auto& m : c.merged_case_ids()) std::printf("  duplicate   %s\n", m.c_str());
  if (!c.cancel_reason().empty()) std::printf("  cancelled   %s\n", c.cancel_reason().c_str());
  if (c.has_closed_at()) std::printf("  closed      %s\n", FormatTime(c.closed_at()).c_str());
}

}  // namespace grid::tools::gridctl
