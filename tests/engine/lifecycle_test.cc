// The case state machine (engine/lifecycle.h) on the tiny directory, with
// time given explicitly: every transition, every illegal one, roles and
// scope, re-routing and ping-pong, deadlines, pauses, escalation to the top.
#include "engine/lifecycle.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/intake.h"
#include "engine/timestamp.h"
#include "tests/support/calendar.h"
#include "tests/support/submit_request.h"
#include "tests/support/tiny_directory.h"

namespace grid {
namespace {

using grid::v1::Case;
using grid::v1::CaseCommand;
using grid::v1::CaseStatus;
using grid::v1::EventType;

constexpr Micros H = kMicrosPerHour;
constexpr Micros M = kMicrosPerMinute;
constexpr Micros kT0 = 1'790'000'000'000'000;  // 2026-09-21, a Monday

constexpr const char* kG1 = "100001001001";
constexpr const char* kG2 = "100001001002";
constexpr const char* kCommunity = "100001001";
constexpr const char* kTown = "100001";
constexpr const char* kCounty = "100";

Micros FromTs(const google::protobuf::Timestamp& t) { return FromTimestamp(t); }

DeadlinePolicy TestPolicy() {
  auto p = ParseDeadlinePolicy("test", "rule general * calendar 1h 4h\nrule emergency * calendar 30m 2h\n");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

const WorkActor kAdminActor{"admin-1", "admin", ""};
const WorkActor kG1Worker{"M1", "grid_worker", kG1};
const WorkActor kG2Worker{"M3", "grid_worker", kG2};
const WorkActor kHotline{"callcenter-01", "call_center", ""};
const WorkActor kWater{"dept.water", "department", kCounty};
const WorkActor kSystem{"deadline", "system", ""};

class LifecycleTest : public ::testing::Test {
 protected:
  LifecycleTest() : router_(RouterOptions{}), lifecycle_(TestPolicy(), WorkingCalendar(), &router_) {
    auto d = Directory::Build(testing::TinyDirectory(), 1);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    dir_ = *d;
  }

  // A case submitted at `now` at a point inside grid 1 (or grid 2).
  Case NewAt(Micros now, const std::string& category = "sanitation", bool grid2 = false) {
    const grid::v1::SubmitCaseRequest r =
        testing::Submission(category).Description("路灯不亮").At(20.005, grid2 ? 110.015 : 110.005).NoCitizen().Build();
    RouteInput in;
    in.category = r.category();
    in.location = geo::Point{r.location().lng(), r.location().lat()};
    auto routing = router_.Route(*dir_, in);
    EXPECT_TRUE(routing.ok()) << routing.status().ToString();
    NewCase n = BuildNewCase(r, Actor{"callcenter-01", "call_center"}, *routing, ++next_id_, now);
    lifecycle_.StartClocks(*dir_, &n.record, now);
    return n.record;
  }

  StatusOr<Transition> Apply(const Case& c, const CaseCommand& cmd, const WorkActor& actor, Micros now,
                             const Case* master = nullptr) {
    return lifecycle_.Apply(*dir_, c, master, cmd, actor, now);
  }

  // Applies and expects success; returns the events and updates `c`.
  std::vector<grid::v1::CaseEvent> Do(Case* c, const CaseCommand& cmd, const WorkActor& actor, Micros now) {
    auto t = Apply(*c, cmd, actor, now);
    EXPECT_TRUE(t.ok()) << CommandName(cmd) << ": " << t.status().ToString();
    if (!t.ok()) return {};
    *c = t->next;
    return t->events;
  }

  // Fires the case's earliest timer (asserting it is due at `expected_due` if given).
  std::vector<grid::v1::CaseEvent> FireNext(Case* c, grid::v1::DeadlineKind kind, bool warning) {
    for (const PendingTimer& t : PendingTimers(*c)) {
      if (t.kind != kind || t.warning != warning) continue;
      CaseCommand cmd;
      auto* f = cmd.mutable_fire();
      f->set_case_id(c->id());
      f->set_kind(t.kind);
      f->set_due_micros(t.due);
      f->set_subtask_index(t.subtask);
      f->set_warning(t.warning);
      return Do(c, cmd, kSystem, t.due);
    }
    ADD_FAILURE() << "no pending timer of kind " << kind << (warning ? " (warning)" : "");
    return {};
  }

  static CaseCommand Accept(const Case& c, uint64_t expected = 0) {
    CaseCommand cmd;
    cmd.mutable_accept()->set_case_id(c.id());
    cmd.mutable_accept()->set_expected_version(expected);
    return cmd;
  }
  static CaseCommand Resolve(const Case& c) {
    CaseCommand cmd;
    cmd.mutable_resolve()->set_case_id(c.id());
    cmd.mutable_resolve()->set_note("已清理");
    return cmd;
  }
  static CaseCommand Callback(const Case& c, bool satisfied) {
    CaseCommand cmd;
    cmd.mutable_record_callback()->set_case_id(c.id());
    cmd.mutable_record_callback()->set_satisfied(satisfied);
    return cmd;
  }
  static CaseCommand Close(const Case& c) {
    CaseCommand cmd;
    cmd.mutable_close()->set_case_id(c.id());
    return cmd;
  }
  static CaseCommand RejectTo(const Case& c, const std::string& unit) {
    CaseCommand cmd;
    auto* r = cmd.mutable_reject();
    r->set_case_id(c.id());
    r->set_reason(grid::v1::REJECT_REASON_OTHER_UNIT);
    r->set_suggested_unit_code(unit);
    r->set_note("不是我们网格的");
    return cmd;
  }
  static CaseCommand Summon(const Case& c, std::initializer_list<const char*> depts) {
    CaseCommand cmd;
    cmd.mutable_summon()->set_case_id(c.id());
    for (const char* d : depts) cmd.mutable_summon()->add_department_codes(d);
    return cmd;
  }
  static CaseCommand ReportIn(const Case& c, const char* dept, bool done) {
    CaseCommand cmd;
    cmd.mutable_report_in()->set_case_id(c.id());
    cmd.mutable_report_in()->set_department_code(dept);
    cmd.mutable_report_in()->set_done(done);
    return cmd;
  }
  static CaseCommand Noted(CaseCommand cmd) { return cmd; }

  static void ExpectError(const StatusOr<Transition>& t, StatusCode code, const std::string& reason) {
    ASSERT_FALSE(t.ok()) << "expected " << reason;
    EXPECT_EQ(t.status().code(), code) << t.status().ToString();
    EXPECT_EQ(t.status().reason(), reason) << t.status().ToString();
  }

  static std::vector<EventType> Types(const std::vector<grid::v1::CaseEvent>& events) {
    std::vector<EventType> out;
    for (const auto& e : events) out.push_back(e.type());
    return out;
  }

  Router router_;
  Lifecycle lifecycle_;
  std::shared_ptr<const Directory> dir_;
  uint64_t next_id_ = 1'790'000'000'000'000;
};

TEST_F(LifecycleTest, NewCaseGetsItsUnitAndClocks) {
  Case c = NewAt(kT0);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(c.unit_code(), kG1);
  EXPECT_EQ(c.assignee_member_id(), "M1");  // on duty in grid 1
  EXPECT_EQ(c.deadlines().deadline_class(), "general");
  EXPECT_EQ(FromTs(c.deadlines().accept_due()), kT0 + 1 * H);
  EXPECT_EQ(FromTs(c.deadlines().resolve_due()), kT0 + 4 * H);
  EXPECT_EQ(FromTs(c.deadlines().accept_warn_at()), kT0 + 48 * M);  // 80% of 1 h
  const auto timers = PendingTimers(c);
  ASSERT_EQ(timers.size(), 4u);
  EXPECT_EQ(timers[0], (PendingTimer{kT0 + 48 * M, grid::v1::DEADLINE_KIND_ACCEPT, 0, true}));
  EXPECT_EQ(timers[1], (PendingTimer{kT0 + 1 * H, grid::v1::DEADLINE_KIND_ACCEPT, 0, false}));
  EXPECT_EQ(timers[3], (PendingTimer{kT0 + 4 * H, grid::v1::DEADLINE_KIND_RESOLVE, 0, false}));
}

TEST_F(LifecycleTest, HappyPathToClosure) {
  Case c = NewAt(kT0);
  auto e = Do(&c, Accept(c, 2), kG1Worker, kT0 + 10 * M);
  EXPECT_EQ(Types(e), std::vector<EventType>{grid::v1::EVENT_TYPE_ACCEPTED});
  EXPECT_EQ(e[0].seq(), 3u);
  EXPECT_EQ(e[0].case_version(), 3u);
  EXPECT_EQ(e[0].actor(), "M1");
  EXPECT_EQ(e[0].from_status(), grid::v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_ACCEPTED);
  EXPECT_TRUE(c.accepted_on_time());
  EXPECT_EQ(FromTs(c.accepted_at()), kT0 + 10 * M);
  // No accept timers once accepted; the resolve clock still runs.
  for (const auto& t : PendingTimers(c)) EXPECT_EQ(t.kind, grid::v1::DEADLINE_KIND_RESOLVE);

  CaseCommand start;
  start.mutable_start_work()->set_case_id(c.id());
  Do(&c, start, kG1Worker, kT0 + 20 * M);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_IN_PROGRESS);
  Do(&c, Resolve(c), kG1Worker, kT0 + 2 * H);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_RESOLVED);
  EXPECT_TRUE(c.resolved_on_time());
  EXPECT_TRUE(PendingTimers(c).empty());
  auto cb = Do(&c, Callback(c, true), kHotline, kT0 + 3 * H);
  EXPECT_TRUE(cb[0].satisfied());
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_CALLED_BACK);
  Do(&c, Close(c), kHotline, kT0 + 3 * H);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(c.version(), 7u);
  EXPECT_FALSE(IsOpen(c.status()));
}

TEST_F(LifecycleTest, IllegalTransitionsAnswerFailedPreconditionAndChangeNothing) {
  Case routed = NewAt(kT0);
  Case accepted = routed;
  Do(&accepted, Accept(accepted), kG1Worker, kT0);
  Case resolved = accepted;
  Do(&resolved, Resolve(resolved), kG1Worker, kT0);
  Case satisfied = resolved;
  Do(&satisfied, Callback(satisfied, true), kHotline, kT0);
  Case closed = satisfied;
  Do(&closed, Close(closed), kHotline, kT0);

  struct Case_ {
    const Case* c;
    CaseCommand cmd;
  };
  CaseCommand start;
  start.mutable_start_work()->set_case_id(routed.id());
  CaseCommand resume;
  resume.mutable_resume()->set_case_id(routed.id());
  CaseCommand reopen;
  reopen.mutable_reopen()->set_case_id(routed.id());
  reopen.mutable_reopen()->set_note("再办");
  CaseCommand cancel;
  cancel.mutable_cancel()->set_case_id(routed.id());
  cancel.mutable_cancel()->set_note("市民撤回");
  CaseCommand wait;
  wait.mutable_wait()->set_case_id(routed.id());
  wait.mutable_wait()->set_note("等市民");
  const std::vector<Case_> illegal = {
      {&routed, Resolve(routed)},
      {&routed, Callback(routed, true)},
      {&routed, Close(routed)},
      {&routed, start},
      {&routed, resume},
      {&routed, reopen},
      {&routed, Summon(routed, {"dept.water"})},
      {&routed, wait},
      {&accepted, Accept(accepted)},
      {&accepted, Close(accepted)},
      {&accepted, Callback(accepted, false)},
      {&resolved, Resolve(resolved)},
      {&resolved, cancel},
      {&resolved, RejectTo(resolved, kG2)},
      {&satisfied, reopen},
      {&satisfied, Accept(satisfied)},
      {&closed, Accept(closed)},
      {&closed, cancel},
      {&closed, Resolve(closed)},
      {&closed, RejectTo(closed, kG2)},
  };
  for (const auto& [c, cmd] : illegal) {
    auto t = Apply(*c, cmd, kAdminActor, kT0 + H);
    SCOPED_TRACE(std::string(CommandName(cmd)) + " on " + grid::v1::CaseStatus_Name(c->status()));
    ExpectError(t, StatusCode::kFailedPrecondition, "ILLEGAL_TRANSITION");
  }
}

TEST_F(LifecycleTest, StaleExpectedVersionIsAborted) {
  Case c = NewAt(kT0);
  // Out of scope comes first: a stranger learns nothing, not even the version.
  ExpectError(Apply(c, Accept(c, 1), kG2Worker, kT0), StatusCode::kPermissionDenied, "OUT_OF_SCOPE");
  ExpectError(Apply(c, Accept(c, 1), kG1Worker, kT0), StatusCode::kAborted, "VERSION_MISMATCH");
  ExpectError(Apply(c, Accept(c, 3), kG1Worker, kT0), StatusCode::kAborted, "VERSION_MISMATCH");
  EXPECT_TRUE(Apply(c, Accept(c, 2), kG1Worker, kT0).ok());
}

TEST_F(LifecycleTest, RolesAndScopeAreChecked) {
  Case c = NewAt(kT0);
  ExpectError(Apply(c, Accept(c), kG2Worker, kT0), StatusCode::kPermissionDenied, "OUT_OF_SCOPE");
  ExpectError(Apply(c, Accept(c), kHotline, kT0), StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED");
  ExpectError(Apply(c, Accept(c), WorkActor{"town", "town_office", kTown}, kT0), StatusCode::kPermissionDenied,
              "ROLE_NOT_ALLOWED");
  // A supervisor of the town may; so may the worker of the grid.
  EXPECT_TRUE(Apply(c, Accept(c), WorkActor{"sup", "supervisor", kTown}, kT0).ok());
  EXPECT_TRUE(Apply(c, Accept(c), kG1Worker, kT0).ok());
  // Deadlines are fired by the system only.
  CaseCommand fire;
  fire.mutable_fire()->set_case_id(c.id());
  fire.mutable_fire()->set_kind(grid::v1::DEADLINE_KIND_ACCEPT);
  fire.mutable_fire()->set_due_micros(kT0 + H);
  ExpectError(Apply(c, fire, kAdminActor, kT0 + H), StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED");
  // Call centers close; grid workers may not.
  Do(&c, Accept(c), kG1Worker, kT0);
  Do(&c, Resolve(c), kG1Worker, kT0);
  ExpectError(Apply(c, Callback(c, true), kG1Worker, kT0), StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED");
}

TEST_F(LifecycleTest, RejectWithCorrectedLocationReroutes) {
  Case c = NewAt(kT0);
  c.set_address("文化北路2号");
  CaseCommand cmd;
  auto* r = cmd.mutable_reject();
  r->set_case_id(c.id());
  r->set_reason(grid::v1::REJECT_REASON_WRONG_LOCATION);
  r->mutable_corrected_location()->set_lat(20.005);
  r->mutable_corrected_location()->set_lng(110.015);
  auto e = Do(&c, cmd, kG1Worker, kT0 + 30 * M);
  EXPECT_EQ(Types(e), (std::vector<EventType>{grid::v1::EVENT_TYPE_REJECTED, grid::v1::EVENT_TYPE_REROUTED}));
  EXPECT_EQ(e[0].from_unit(), kG1);
  EXPECT_EQ(e[1].to_unit(), kG2);
  EXPECT_EQ(e[1].routing().method(), grid::v1::ROUTING_METHOD_LOCATION);
  EXPECT_EQ(c.unit_code(), kG2);
  EXPECT_EQ(c.assignee_member_id(), "M3");
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_ROUTED);
  EXPECT_DOUBLE_EQ(c.location().lng(), 110.015);
  EXPECT_EQ(c.address(), "文化北路2号");  // a corrected location alone keeps the address
  ASSERT_EQ(c.rejections_size(), 1);
  EXPECT_EQ(c.rejections(0).routed_to(), kG2);
  // The new unit gets a fresh accept clock; the resolve clock runs on.
  EXPECT_EQ(FromTs(c.deadlines().accept_due()), kT0 + 30 * M + H);
  EXPECT_EQ(FromTs(c.deadlines().resolve_due()), kT0 + 4 * H);
}

TEST_F(LifecycleTest, RejectWithCorrectedCategoryGoesToTheDepartment) {
  Case c = NewAt(kT0);
  CaseCommand cmd;
  auto* r = cmd.mutable_reject();
  r->set_case_id(c.id());
  r->set_reason(grid::v1::REJECT_REASON_WRONG_CATEGORY);
  r->set_corrected_category("security");
  Do(&c, cmd, kG1Worker, kT0);
  EXPECT_EQ(c.category(), "security");
  EXPECT_EQ(c.department_code(), "dept.police");
  // The department can now accept it.
  EXPECT_TRUE(Apply(c, Accept(c), WorkActor{"dept.police", "department", kCounty}, kT0).ok());

  r->set_corrected_category("no.such");
  Case fresh = NewAt(kT0);
  r->set_case_id(fresh.id());
  ExpectError(Apply(fresh, cmd, kG1Worker, kT0), StatusCode::kInvalidArgument, "UNKNOWN_CATEGORY");
}

TEST_F(LifecycleTest, NotOurDutyGoesToTheParentToArbitrate) {
  Case c = NewAt(kT0);
  CaseCommand cmd;
  cmd.mutable_reject()->set_case_id(c.id());
  cmd.mutable_reject()->set_reason(grid::v1::REJECT_REASON_NOT_OUR_DUTY);
  auto e = Do(&c, cmd, kG1Worker, kT0);
  EXPECT_EQ(Types(e), (std::vector<EventType>{grid::v1::EVENT_TYPE_REJECTED, grid::v1::EVENT_TYPE_ARBITRATION}));
  EXPECT_EQ(c.unit_code(), kCommunity);
  EXPECT_TRUE(c.arbitration());
  EXPECT_TRUE(c.assignee_member_id().empty());
  // The community decides: transfer to grid 2.
  CaseCommand transfer;
  transfer.mutable_transfer()->set_case_id(c.id());
  transfer.mutable_transfer()->set_unit_code(kG2);
  auto t = Do(&c, transfer, WorkActor{"sup", "supervisor", kCommunity}, kT0 + M);
  EXPECT_EQ(t[0].type(), grid::v1::EVENT_TYPE_TRANSFERRED);
  EXPECT_EQ(c.unit_code(), kG2);
  EXPECT_FALSE(c.arbitration());
  // A re-route that lands back on the same grid cannot settle anything.
  Case d = NewAt(kT0);
  CaseCommand same;
  same.mutable_reject()->set_case_id(d.id());
  same.mutable_reject()->set_reason(grid::v1::REJECT_REASON_WRONG_LOCATION);
  same.mutable_reject()->set_corrected_address("文化北路3号");  // odd numbers: grid 1 again
  Do(&d, same, kG1Worker, kT0);
  EXPECT_EQ(d.unit_code(), kCommunity);
  EXPECT_TRUE(d.arbitration());
}

TEST_F(LifecycleTest, PingPongGoesToTheCommonParent) {
  Case c = NewAt(kT0);
  Do(&c, RejectTo(c, kG2), kG1Worker, kT0);
  EXPECT_EQ(c.unit_code(), kG2);
  Do(&c, RejectTo(c, kG1), kG2Worker, kT0 + M);
  EXPECT_EQ(c.unit_code(), kG1);
  auto e = Do(&c, RejectTo(c, kG2), kG1Worker, kT0 + 2 * M);  // the third return between the two
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].type(), grid::v1::EVENT_TYPE_ARBITRATION);
  EXPECT_EQ(e[1].to_unit(), kCommunity);
  EXPECT_NE(e[1].note().find("returned 3 times"), std::string::npos) << e[1].note();
  EXPECT_EQ(c.unit_code(), kCommunity);
  EXPECT_EQ(c.rejections_size(), 3);
}

TEST_F(LifecycleTest, OverdueEscalatesUpTheChainWithANewDeadlineEachLevel) {
  Case c = NewAt(kT0);
  auto w = FireNext(&c, grid::v1::DEADLINE_KIND_ACCEPT, true);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].type(), grid::v1::EVENT_TYPE_DEADLINE_WARNING);
  EXPECT_TRUE(c.deadlines().accept_warned());
  const std::vector<std::pair<const char*, grid::v1::UnitLevel>> chain = {{kCommunity, grid::v1::UNIT_LEVEL_COMMUNITY},
                                                                          {kTown, grid::v1::UNIT_LEVEL_TOWN},
                                                                          {kCounty, grid::v1::UNIT_LEVEL_COUNTY}};
  Micros due = kT0 + H;
  for (const auto& [unit, level] : chain) {
    SCOPED_TRACE(unit);
    EXPECT_EQ(FromTs(c.deadlines().accept_due()), due);
    auto e = FireNext(&c, grid::v1::DEADLINE_KIND_ACCEPT, false);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].type(), grid::v1::EVENT_TYPE_ESCALATED);
    EXPECT_TRUE(e[0].automatic());
    EXPECT_EQ(e[0].to_unit(), unit);
    EXPECT_EQ(e[0].to_level(), level);
    EXPECT_EQ(c.escalation_unit_code(), unit);
    EXPECT_TRUE(c.deadlines().accept_overdue());
    due += H;  // a new hour at the new level, from the moment of escalation
    // The warning fires again at the new level before the new due.
    FireNext(&c, grid::v1::DEADLINE_KIND_ACCEPT, true);
  }
  EXPECT_EQ(c.escalation_level(), 3u);
  // Still the grid's case; its supervisors up the chain now see it.
  EXPECT_EQ(c.unit_code(), kG1);
  EXPECT_TRUE(Apply(c, Accept(c), WorkActor{"sup", "supervisor", kCounty}, due).ok());
  // At the county there is no higher level: one last event, then no accept timer.
  auto top = FireNext(&c, grid::v1::DEADLINE_KIND_ACCEPT, false);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].to_unit(), kCounty);
  for (const auto& t : PendingTimers(c)) EXPECT_NE(t.kind, grid::v1::DEADLINE_KIND_ACCEPT);
  // Accepted late: not on time.
  Do(&c, Accept(c), kG1Worker, due + H);
  EXPECT_FALSE(c.accepted_on_time());
}

TEST_F(LifecycleTest, AtTheTopTheResolveDueNeverComesBack) {
  Case c = NewAt(kT0);
  Do(&c, Accept(c), kG1Worker, kT0);
  for (int level = 0; level < 4; ++level) {
    FireNext(&c, grid::v1::DEADLINE_KIND_RESOLVE, true);
    FireNext(&c, grid::v1::DEADLINE_KIND_RESOLVE, false);
  }
  EXPECT_TRUE(c.deadlines().resolve_at_top());
  EXPECT_FALSE(c.deadlines().has_resolve_due());
  // Pauses and extensions at the top move nothing: no old due comes back to fire twice.
  CaseCommand wait;
  wait.mutable_wait()->set_case_id(c.id());
  wait.mutable_wait()->set_note("等市民");
  const Micros later = kT0 + 40 * H;
  Do(&c, wait, kG1Worker, later);
  CaseCommand resume;
  resume.mutable_resume()->set_case_id(c.id());
  Do(&c, resume, kG1Worker, later + H);
  CaseCommand extend;
  extend.mutable_extend()->set_case_id(c.id());
  extend.mutable_extend()->set_note("延期");
  extend.mutable_extend()->set_hours(2);
  Do(&c, extend, kAdminActor, later + H);
  for (const auto& t : PendingTimers(c)) EXPECT_NE(t.kind, grid::v1::DEADLINE_KIND_RESOLVE);
  // Reopening starts a new round with a timer again.
  Do(&c, Resolve(c), kG1Worker, later + 2 * H);
  Do(&c, Callback(c, false), kHotline, later + 2 * H);
  CaseCommand reopen;
  reopen.mutable_reopen()->set_case_id(c.id());
  reopen.mutable_reopen()->set_note("重办");
  Do(&c, reopen, kHotline, later + 3 * H);
  EXPECT_FALSE(c.deadlines().resolve_at_top());
  EXPECT_EQ(FromTs(c.deadlines().resolve_due()), later + 7 * H);
}

TEST_F(LifecycleTest, EscalationStopsAtTheCountyEvenUnderACity) {
  auto content = testing::TinyDirectory();
  testing::AddUnit(&content, "1", grid::v1::UNIT_LEVEL_CITY, "测试市", "");
  for (auto& u : *content.mutable_units()) {
    if (u.code() == kCounty) u.set_parent_code("1");
  }
  auto d = Directory::Build(content, 2);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  dir_ = *d;
  Case c = NewAt(kT0);
  for (int level = 0; level < 4; ++level) FireNext(&c, grid::v1::DEADLINE_KIND_ACCEPT, false);
  EXPECT_EQ(c.escalation_unit_code(), kCounty);
  EXPECT_TRUE(c.deadlines().accept_at_top());
  CaseCommand esc;
  esc.mutable_escalate()->set_case_id(c.id());
  esc.mutable_escalate()->set_note("再往上");
  ExpectError(Apply(c, esc, kAdminActor, kT0), StatusCode::kFailedPrecondition, "AT_TOP");
}

TEST_F(LifecycleTest, AFiredTimerIsGoneAndFiringItAgainIsStale) {
  Case c = NewAt(kT0);
  const Case before = c;
  FireNext(&c, grid::v1::DEADLINE_KIND_ACCEPT, true);
  CaseCommand again;
  auto* f = again.mutable_fire();
  f->set_case_id(c.id());
  f->set_kind(grid::v1::DEADLINE_KIND_ACCEPT);
  f->set_due_micros(kT0 + 48 * M);
  f->set_warning(true);
  ExpectError(Apply(c, again, kSystem, kT0 + H), StatusCode::kNotFound, "STALE_TIMER");
  // And a timer of a case that has moved on (accepted) is stale too.
  Case accepted = before;
  Do(&accepted, Accept(accepted), kG1Worker, kT0);
  f->set_warning(false);
  f->set_due_micros(kT0 + H);
  ExpectError(Apply(accepted, again, kSystem, kT0 + H), StatusCode::kNotFound, "STALE_TIMER");
}

TEST_F(LifecycleTest, ManualEscalationNeedsAHigherLevel) {
  Case c = NewAt(kT0);
  CaseCommand esc;
  esc.mutable_escalate()->set_case_id(c.id());
  esc.mutable_escalate()->set_note("需要社区协调");
  for (const char* unit : {kCommunity, kTown, kCounty}) {
    auto e = Do(&c, esc, kG1Worker, kT0);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_FALSE(e[0].automatic());
    EXPECT_EQ(e[0].to_unit(), unit);
  }
  ExpectError(Apply(c, esc, kAdminActor, kT0), StatusCode::kFailedPrecondition, "AT_TOP");
  // The deadlines did not move: manual escalation is not overdue.
  EXPECT_EQ(FromTs(c.deadlines().accept_due()), kT0 + H);
  EXPECT_FALSE(c.deadlines().accept_overdue());
}

TEST_F(LifecycleTest, ACategoryWithSummonsStartsWithItsSubTasks) {
  Case c = NewAt(kT0, "water.burst");
  ASSERT_EQ(c.subtasks_size(), 1);
  EXPECT_EQ(c.subtasks(0).department_code(), "dept.water");
  EXPECT_EQ(c.subtasks(0).status(), grid::v1::SUB_TASK_STATUS_SUMMONED);
  EXPECT_EQ(FromTs(c.subtasks(0).arrive_due()), kT0 + 30 * M);
  bool arrive_timer = false;
  for (const auto& t : PendingTimers(c)) arrive_timer |= t.kind == grid::v1::DEADLINE_KIND_SUBTASK_ARRIVE;
  EXPECT_TRUE(arrive_timer);
  Do(&c, Accept(c), kG1Worker, kT0);
  ExpectError(Apply(c, Resolve(c), kG1Worker, kT0), StatusCode::kFailedPrecondition, "SUBTASKS_OPEN");
}

TEST_F(LifecycleTest, SummonedDepartmentsMustReportDoneBeforeResolution) {
  Case c = NewAt(kT0);
  Do(&c, Accept(c), kG1Worker, kT0);
  auto s = Do(&c, Summon(c, {"dept.water", "dept.police"}), kG1Worker, kT0 + M);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].type(), grid::v1::EVENT_TYPE_WORK_STARTED);
  EXPECT_EQ(s[1].type(), grid::v1::EVENT_TYPE_SUMMONED);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_IN_PROGRESS);
  ASSERT_EQ(c.subtasks_size(), 2);
  EXPECT_EQ(FromTs(c.subtasks(0).arrive_due()), kT0 + M + 30 * M);
  EXPECT_EQ(FromTs(c.subtasks(0).done_due()), FromTs(c.deadlines().resolve_due()));
  ExpectError(Apply(c, Summon(c, {"dept.water"}), kG1Worker, kT0), StatusCode::kFailedPrecondition, "ALREADY_SUMMONED");
  ExpectError(Apply(c, Summon(c, {"dept.none"}), kG1Worker, kT0), StatusCode::kInvalidArgument, "UNKNOWN_DEPARTMENT");
  ExpectError(Apply(c, Resolve(c), kG1Worker, kT0), StatusCode::kFailedPrecondition, "SUBTASKS_OPEN");
  // The water department reports in for itself only.
  ExpectError(Apply(c, ReportIn(c, "dept.police", false), kWater, kT0), StatusCode::kPermissionDenied, "OUT_OF_SCOPE");
  Do(&c, ReportIn(c, "dept.water", false), kWater, kT0 + 20 * M);
  EXPECT_EQ(c.subtasks(0).status(), grid::v1::SUB_TASK_STATUS_ARRIVED);
  ExpectError(Apply(c, ReportIn(c, "dept.water", false), kWater, kT0), StatusCode::kFailedPrecondition,
              "ALREADY_ARRIVED");
  // The police miss their arrival deadline: escalated once, then no more arrival timer.
  auto late = FireNext(&c, grid::v1::DEADLINE_KIND_SUBTASK_ARRIVE, false);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].type(), grid::v1::EVENT_TYPE_SUBTASK_OVERDUE);
  EXPECT_EQ(late[0].department_codes(0), "dept.police");
  EXPECT_EQ(late[0].to_unit(), kCounty);
  EXPECT_TRUE(c.subtasks(1).arrive_escalated());
  for (const auto& t : PendingTimers(c)) EXPECT_NE(t.kind, grid::v1::DEADLINE_KIND_SUBTASK_ARRIVE);
  Do(&c, ReportIn(c, "dept.water", true), kWater, kT0 + H);
  Do(&c, ReportIn(c, "dept.police", true), kAdminActor, kT0 + H);
  EXPECT_EQ(c.subtasks(1).status(), grid::v1::SUB_TASK_STATUS_DONE);
  ExpectError(Apply(c, ReportIn(c, "dept.police", true), kAdminActor, kT0), StatusCode::kFailedPrecondition,
              "NOT_SUMMONED");
  Do(&c, Resolve(c), kG1Worker, kT0 + 2 * H);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_RESOLVED);
}

TEST_F(LifecycleTest, ASubTaskIsDueWhenTheCaseIsEvenAfterAnExtensionOrAPause) {
  Case c = NewAt(kT0);
  Do(&c, Accept(c), kG1Worker, kT0);
  Do(&c, Summon(c, {"dept.water"}), kG1Worker, kT0);
  Do(&c, ReportIn(c, "dept.water", false), kWater, kT0 + 10 * M);
  EXPECT_EQ(FromTs(c.subtasks(0).done_due()), kT0 + 4 * H);
  CaseCommand extend;
  extend.mutable_extend()->set_case_id(c.id());
  extend.mutable_extend()->set_note("协调产权单位");
  extend.mutable_extend()->set_hours(24);
  Do(&c, extend, WorkActor{"sup", "supervisor", kTown}, kT0 + H);
  EXPECT_EQ(FromTs(c.subtasks(0).done_due()), kT0 + 28 * H);
  // No department is overdue during the approved extension.
  for (const auto& t : PendingTimers(c)) {
    if (t.kind == grid::v1::DEADLINE_KIND_SUBTASK_DONE) {
      EXPECT_EQ(t.due, kT0 + 28 * H);
    }
  }
  CaseCommand wait;
  wait.mutable_wait()->set_case_id(c.id());
  wait.mutable_wait()->set_note("等市民");
  Do(&c, wait, kG1Worker, kT0 + 2 * H);
  EXPECT_FALSE(c.subtasks(0).has_done_due());  // the clock is stopped for everyone
}

TEST_F(LifecycleTest, HelpersComeFromTheGridOrItsCommunity) {
  Case c = NewAt(kT0);
  Do(&c, Accept(c), kG1Worker, kT0);
  CaseCommand help;
  help.mutable_assign_helper()->set_case_id(c.id());
  help.mutable_assign_helper()->set_member_id("M4");  // in-service member of the community
  auto e = Do(&c, help, kG1Worker, kT0);
  EXPECT_EQ(e.back().type(), grid::v1::EVENT_TYPE_HELPER_ASSIGNED);
  ASSERT_EQ(c.helpers_size(), 1);
  EXPECT_EQ(c.helpers(0).name(), "赵六");
  ExpectError(Apply(c, help, kG1Worker, kT0), StatusCode::kFailedPrecondition, "ALREADY_HELPING");
  help.mutable_assign_helper()->set_member_id("M3");  // grid 2's worker
  ExpectError(Apply(c, help, kG1Worker, kT0), StatusCode::kFailedPrecondition, "MEMBER_NOT_NEARBY");
  help.mutable_assign_helper()->set_member_id("M9");
  ExpectError(Apply(c, help, kG1Worker, kT0), StatusCode::kInvalidArgument, "UNKNOWN_MEMBER");
}

TEST_F(LifecycleTest, WaitingPausesTheResolveClockAndExtensionsPushIt) {
  Case c = NewAt(kT0);
  Do(&c, Accept(c), kG1Worker, kT0);
  CaseCommand wait;
  wait.mutable_wait()->set_case_id(c.id());
  wait.mutable_wait()->set_note("等市民提供门牌号");
  Do(&c, wait, kG1Worker, kT0 + H);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_WAITING);
  EXPECT_FALSE(c.deadlines().has_resolve_due());  // the clock is stopped
  EXPECT_TRUE(PendingTimers(c).empty());
  CaseCommand resume;
  resume.mutable_resume()->set_case_id(c.id());
  Do(&c, resume, kG1Worker, kT0 + 3 * H);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_ACCEPTED);        // back where it was
  EXPECT_EQ(FromTs(c.deadlines().resolve_due()), kT0 + 6 * H);  // pushed by the 2 h pause
  ASSERT_EQ(c.deadlines().pauses_size(), 1);
  EXPECT_EQ(FromTs(c.deadlines().pauses(0).to()), kT0 + 3 * H);

  CaseCommand extend;
  extend.mutable_extend()->set_case_id(c.id());
  extend.mutable_extend()->set_note("需协调产权单位");
  extend.mutable_extend()->set_hours(24);
  ExpectError(Apply(c, extend, kG1Worker, kT0 + 4 * H), StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED");
  auto e = Do(&c, extend, WorkActor{"sup", "supervisor", kTown}, kT0 + 4 * H);
  EXPECT_EQ(e[0].type(), grid::v1::EVENT_TYPE_EXTENDED);
  EXPECT_EQ(FromTs(c.deadlines().resolve_due()), kT0 + 30 * H);
}

TEST_F(LifecycleTest, WorkingTimeDeadlinesSkipTheSpringFestival) {
  const WorkingCalendar cal_value = testing::LoadCn2026();
  const WorkingCalendar* cal = &cal_value;
  auto policy = ParseDeadlinePolicy("p", "rule general * working 1wd 3wd\n");
  ASSERT_TRUE(policy.ok());
  Lifecycle lc(*policy, cal_value, &router_);
  using namespace std::chrono;
  // Friday 2026-02-13 at 10:00: the next working days are Saturday 14th (调休)
  // and then Tuesday 24th, after the holiday of the 15th-23rd.
  const Micros start = cal->At(year_month_day{year(2026), month(2), day(13)}, 10, 0);
  Case c = NewAt(start);
  lc.StartClocks(*dir_, &c, start);
  EXPECT_TRUE(c.deadlines().working_time());
  EXPECT_EQ(FromTs(c.deadlines().accept_due()), cal->At(year_month_day{year(2026), month(2), day(14)}, 10, 0));
  EXPECT_EQ(FromTs(c.deadlines().resolve_due()), cal->At(year_month_day{year(2026), month(2), day(25)}, 10, 0));
}

TEST_F(LifecycleTest, DissatisfiedCallbackReopensAtTheSameGridWithNewClocks) {
  Case c = NewAt(kT0);
  Do(&c, Accept(c), kG1Worker, kT0);
  Do(&c, Resolve(c), kG1Worker, kT0 + H);
  Do(&c, Callback(c, false), kHotline, kT0 + 2 * H);
  CaseCommand close_anyway = Close(c);
  CaseCommand reopen;
  reopen.mutable_reopen()->set_case_id(c.id());
  reopen.mutable_reopen()->set_note("市民不满意：垃圾又堆起来了");
  auto e = Do(&c, reopen, kHotline, kT0 + 5 * H);
  EXPECT_EQ(e[0].type(), grid::v1::EVENT_TYPE_REOPENED);
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(c.unit_code(), kG1);
  EXPECT_EQ(c.reopen_count(), 1u);
  EXPECT_FALSE(c.has_callback());
  EXPECT_FALSE(c.has_accepted_at());  // the new round's acceptance is measured on its own
  EXPECT_EQ(FromTs(c.deadlines().accept_due()), kT0 + 6 * H);
  EXPECT_EQ(FromTs(c.deadlines().resolve_due()), kT0 + 9 * H);
  // Second round: satisfied, closed; a closed case can still be reopened.
  Do(&c, Accept(c), kG1Worker, kT0 + 5 * H);
  Do(&c, Resolve(c), kG1Worker, kT0 + 6 * H);
  Do(&c, Callback(c, true), kHotline, kT0 + 7 * H);
  ExpectError(Apply(c, reopen, kHotline, kT0), StatusCode::kFailedPrecondition, "ILLEGAL_TRANSITION");
  Do(&c, Close(c), kHotline, kT0 + 7 * H);
  Do(&c, reopen, kHotline, kT0 + 8 * H);
  EXPECT_EQ(c.reopen_count(), 2u);
  (void)close_anyway;
}

TEST_F(LifecycleTest, MergeAndCancel) {
  Case master = NewAt(kT0);
  Case dup = NewAt(kT0 + M);
  CaseCommand merge;
  merge.mutable_merge()->set_case_id(dup.id());
  merge.mutable_merge()->set_master_case_id(master.id());
  auto t = lifecycle_.Apply(*dir_, dup, &master, merge, kHotline, kT0 + 2 * M);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->next.status(), grid::v1::CASE_STATUS_MERGED);
  EXPECT_EQ(t->next.merged_into(), master.id());
  EXPECT_TRUE(PendingTimers(t->next).empty());
  ASSERT_TRUE(t->master.has_value());
  EXPECT_EQ(t->master->merged_case_ids(0), dup.id());
  EXPECT_EQ(t->master->version(), master.version() + 1);
  ASSERT_EQ(t->master_events.size(), 1u);
  EXPECT_EQ(t->master_events[0].type(), grid::v1::EVENT_TYPE_MERGE_RECEIVED);
  EXPECT_EQ(t->master_events[0].related_case_id(), dup.id());
  ExpectError(lifecycle_.Apply(*dir_, dup, nullptr, merge, kHotline, kT0), StatusCode::kNotFound, "CASE_NOT_FOUND");

  CaseCommand cancel;
  cancel.mutable_cancel()->set_case_id(master.id());
  cancel.mutable_cancel()->set_note("市民撤回");
  Case cancelled = master;
  Do(&cancelled, cancel, kHotline, kT0);
  EXPECT_EQ(cancelled.status(), grid::v1::CASE_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.cancel_reason(), "市民撤回");
  EXPECT_TRUE(PendingTimers(cancelled).empty());
  ExpectError(lifecycle_.Apply(*dir_, dup, &cancelled, merge, kHotline, kT0), StatusCode::kFailedPrecondition,
              "MASTER_NOT_OPEN");
}

// Every bad field of every command: INVALID_ARGUMENT with its reason.
struct BadCommand {
  const char* name;
  std::function<void(CaseCommand*)> make;
  const char* reason;
};

// Shown by gtest and ctest as the case's name and reason, not as its bytes.
void PrintTo(const BadCommand& c, std::ostream* os) { *os << c.name << " -> " << c.reason; }

class LifecycleBadCommand : public LifecycleTest, public ::testing::WithParamInterface<BadCommand> {};

TEST_P(LifecycleBadCommand, IsRefusedWithItsReason) {
  Case c = NewAt(kT0);
  CaseCommand cmd;
  GetParam().make(&cmd);
  const Status s = ValidateCommand(cmd, LifecycleOptions{});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.reason(), GetParam().reason) << s.ToString();
  // Apply refuses it the same way.
  auto t = Apply(c, cmd, kAdminActor, kT0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().reason(), GetParam().reason);
}

const char* kId = "1790000000000001";

INSTANTIATE_TEST_SUITE_P(
    Lifecycle, LifecycleBadCommand,
    ::testing::Values(
        BadCommand{"no_action", [](CaseCommand*) {}, "MISSING_ACTION"},
        BadCommand{"no_case_id", [](CaseCommand* c) { c->mutable_accept(); }, "MISSING_CASE_ID"},
        BadCommand{"bad_case_id", [](CaseCommand* c) { c->mutable_accept()->set_case_id("12ab"); }, "INVALID_CASE_ID"},
        BadCommand{"bad_utf8_note",
                   [](CaseCommand* c) {
                     c->mutable_add_note()->set_case_id(kId);
                     c->mutable_add_note()->set_note("\xff\xfe");
                   },
                   "INVALID_UTF8"},
        BadCommand{"long_note",
                   [](CaseCommand* c) {
                     c->mutable_accept()->set_case_id(kId);
                     c->mutable_accept()->set_note(std::string(4001, 'x'));
                   },
                   "NOTE_TOO_LONG"},
        BadCommand{"note_required",
                   [](CaseCommand* c) {
                     c->mutable_cancel()->set_case_id(kId);
                     c->mutable_cancel()->set_note("   ");
                   },
                   "MISSING_NOTE"},
        BadCommand{"reject_no_reason", [](CaseCommand* c) { c->mutable_reject()->set_case_id(kId); }, "MISSING_REASON"},
        BadCommand{"reject_bad_reason",
                   [](CaseCommand* c) {
                     c->mutable_reject()->set_case_id(kId);
                     c->mutable_reject()->set_reason(static_cast<grid::v1::RejectReason>(99));
                   },
                   "INVALID_REASON"},
        BadCommand{"reject_no_correction",
                   [](CaseCommand* c) {
                     c->mutable_reject()->set_case_id(kId);
                     c->mutable_reject()->set_reason(grid::v1::REJECT_REASON_WRONG_LOCATION);
                   },
                   "MISSING_CORRECTION"},
        BadCommand{"reject_bad_latitude",
                   [](CaseCommand* c) {
                     c->mutable_reject()->set_case_id(kId);
                     c->mutable_reject()->set_reason(grid::v1::REJECT_REASON_WRONG_LOCATION);
                     c->mutable_reject()->mutable_corrected_location()->set_lat(95);
                   },
                   "LATITUDE_OUT_OF_RANGE"},
        BadCommand{"reject_no_unit",
                   [](CaseCommand* c) {
                     c->mutable_reject()->set_case_id(kId);
                     c->mutable_reject()->set_reason(grid::v1::REJECT_REASON_OTHER_UNIT);
                   },
                   "MISSING_UNIT"},
        BadCommand{"reject_no_category",
                   [](CaseCommand* c) {
                     c->mutable_reject()->set_case_id(kId);
                     c->mutable_reject()->set_reason(grid::v1::REJECT_REASON_WRONG_CATEGORY);
                   },
                   "MISSING_CATEGORY"},
        BadCommand{"transfer_no_unit", [](CaseCommand* c) { c->mutable_transfer()->set_case_id(kId); }, "MISSING_UNIT"},
        BadCommand{"merge_no_master", [](CaseCommand* c) { c->mutable_merge()->set_case_id(kId); }, "MISSING_MASTER"},
        BadCommand{"merge_bad_master",
                   [](CaseCommand* c) {
                     c->mutable_merge()->set_case_id(kId);
                     c->mutable_merge()->set_master_case_id("x");
                   },
                   "INVALID_CASE_ID"},
        BadCommand{"merge_self",
                   [](CaseCommand* c) {
                     c->mutable_merge()->set_case_id(kId);
                     c->mutable_merge()->set_master_case_id(kId);
                   },
                   "SELF_MERGE"},
        BadCommand{"merge_self_other_spelling",
                   [](CaseCommand* c) {
                     c->mutable_merge()->set_case_id(kId);
                     c->mutable_merge()->set_master_case_id(std::string("0") + kId);
                   },
                   "SELF_MERGE"},
        BadCommand{"summon_none", [](CaseCommand* c) { c->mutable_summon()->set_case_id(kId); }, "MISSING_DEPARTMENT"},
        BadCommand{"summon_twice",
                   [](CaseCommand* c) {
                     c->mutable_summon()->set_case_id(kId);
                     c->mutable_summon()->add_department_codes("dept.water");
                     c->mutable_summon()->add_department_codes("dept.water");
                   },
                   "DUPLICATE_DEPARTMENT"},
        BadCommand{"summon_too_many",
                   [](CaseCommand* c) {
                     c->mutable_summon()->set_case_id(kId);
                     for (int i = 0; i < 21; ++i)
                       c->mutable_summon()->add_department_codes(std::string("d").append(std::to_string(i)));
                   },
                   "TOO_MANY_DEPARTMENTS"},
        BadCommand{"summon_arrive_too_late",
                   [](CaseCommand* c) {
                     c->mutable_summon()->set_case_id(kId);
                     c->mutable_summon()->add_department_codes("dept.water");
                     c->mutable_summon()->set_arrive_within_minutes(24 * 60 + 1);
                   },
                   "INVALID_ARRIVE_WITHIN"},
        BadCommand{"report_in_no_dept", [](CaseCommand* c) { c->mutable_report_in()->set_case_id(kId); },
                   "MISSING_DEPARTMENT"},
        BadCommand{"helper_no_member", [](CaseCommand* c) { c->mutable_assign_helper()->set_case_id(kId); },
                   "MISSING_MEMBER"},
        BadCommand{"extend_zero",
                   [](CaseCommand* c) {
                     c->mutable_extend()->set_case_id(kId);
                     c->mutable_extend()->set_note("延期");
                   },
                   "INVALID_EXTENSION"},
        BadCommand{"extend_too_long",
                   [](CaseCommand* c) {
                     c->mutable_extend()->set_case_id(kId);
                     c->mutable_extend()->set_note("延期");
                     c->mutable_extend()->set_hours(721);
                   },
                   "INVALID_EXTENSION"}),
    [](const ::testing::TestParamInfo<BadCommand>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace grid
