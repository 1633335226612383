// The authorization policy's particular cells through a real server (issue
// #14 points 5 and 6): the audited reveal of a citizen, a caller reading back
// what it submitted, departments limited to their cases, and the directory
// masking members' contacts. The whole matrix is policy_matrix_test.cc.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/work_client.h"

namespace grid {
namespace {

namespace v1 = grid::v1;

constexpr const char* kRoot = "root-admin-token-0001";
constexpr const char* kSupervisor = "supervisor-token-0001";
constexpr const char* kCallCenter = "call-center-token-001";
constexpr const char* kOtherCallCenter = "call-center-token-002";
constexpr const char* kPolice = "police-dept-token-001";
constexpr const char* kWater = "water-dept-token-0001";
constexpr const char* kGridWorker = "grid-worker-token-001";
constexpr const char* kTownAdmin = "town-admin-token-0001";

v1::DirectoryContent TwoTowns() {
  v1::DirectoryContent c = testing::TinyDirectory();
  testing::AddUnit(&c, "100002", v1::UNIT_LEVEL_TOWN, "第二镇", "100");
  testing::AddUnit(&c, "100002001", v1::UNIT_LEVEL_COMMUNITY, "第二社区", "100002");
  auto* g = testing::AddUnit(&c, "100002001001", v1::UNIT_LEVEL_GRID, "二镇第1网格", "100002001");
  testing::AddSquare(g, 110.05, 20.00, 110.06, 20.01);
  for (auto& m : *c.mutable_members()) m.set_phone("13700001234");
  return c;
}

class AuthorizationTest : public testing::ServerFixture {
 protected:
  AuthorizationTest() { directory_ = TwoTowns(); }
  void SetUp() override {
    std::ofstream(tmp_.Sub("tokens")) << kRoot << " admin * root\n"
                                      << kSupervisor << " supervisor 100001 sup-1\n"
                                      << kCallCenter << " call_center 100001 cc-1\n"
                                      << kOtherCallCenter << " call_center 100001 cc-2\n"
                                      << kPolice << " department * dept.police\n"
                                      << kWater << " department * dept.water\n"
                                      << kGridWorker << " grid_worker 100001001001 M1\n"
                                      << kTownAdmin << " admin 100001 town-admin\n";
    StartServer(tmp_.Sub("tokens"));
  }

  v1::Case Submit(const v1::SubmitCaseRequest& r, const char* token = kRoot) {
    v1::SubmitCaseResponse resp;
    auto got = testing::Submit(*clients_->intake, r, &resp, token);
    EXPECT_TRUE(got.status.ok()) << got.status.error_message();
    return resp.case_();
  }
  testing::CallResult Get(const std::string& id, const char* token, v1::GetCaseResponse* resp) {
    return testing::GetCase(*clients_->query, id, resp, token);
  }
  testing::CallResult Reveal(const std::string& id, const std::string& note, const char* token,
                             v1::RevealCitizenResponse* resp) {
    auto ctx = testing::Context(token);
    v1::RevealCitizenRequest req;
    req.set_case_id(id);
    req.set_note(note);
    testing::CallResult r;
    r.status = clients_->query->RevealCitizen(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }
  std::set<std::string> Listed(const char* token, const std::string& scope) {
    auto ctx = testing::Context(token);
    v1::ListCasesRequest req;
    req.set_scope_unit_code(scope);
    v1::ListCasesResponse resp;
    auto st = clients_->query->ListCases(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    std::set<std::string> out;
    for (const auto& c : resp.cases()) out.insert(c.id());
    return out;
  }
};

// Issue #14 point 6: a masked role sees the citizen only through an explicit
// call, recorded in the case's history with who, when and why.
TEST_F(AuthorizationTest, RevealIsAuditedAndChangesNothingElse) {
  const v1::Case c = Submit(testing::Submission().Build());
  v1::GetCaseResponse got;
  ASSERT_TRUE(Get(c.id(), kSupervisor, &got).status.ok());
  EXPECT_EQ(got.case_().citizen().name(), "陈**");
  EXPECT_EQ(got.case_().citizen().phone(), "138****1234");

  v1::RevealCitizenResponse revealed;
  auto r = Reveal(c.id(), "", kSupervisor, &revealed);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.reason, "MISSING_NOTE");
  r = Reveal(c.id(), std::string(5000, 'x'), kSupervisor, &revealed);
  EXPECT_EQ(r.reason, "NOTE_TOO_LONG");
  r = Reveal("not-a-case", "回访核实", kSupervisor, &revealed);
  EXPECT_EQ(r.reason, "INVALID_CASE_ID");
  ASSERT_TRUE(Get(c.id(), kRoot, &got).status.ok());
  EXPECT_EQ(got.case_().version(), c.version()) << "a refused reveal changed the case";

  // Roles that see the citizen already have no reveal to make.
  EXPECT_EQ(Reveal(c.id(), "为何", kCallCenter, &revealed).reason, "ROLE_NOT_ALLOWED");

  r = Reveal(c.id(), "需要联系市民核实地址", kSupervisor, &revealed);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(revealed.citizen().name(), "陈小梅");
  EXPECT_EQ(revealed.citizen().phone(), "13800001234");
  EXPECT_EQ(revealed.event().type(), v1::EVENT_TYPE_CITIZEN_REVEALED);
  EXPECT_EQ(revealed.event().actor(), "sup-1");
  EXPECT_EQ(revealed.event().actor_role(), "supervisor");
  EXPECT_EQ(revealed.event().note(), "需要联系市民核实地址");

  // The audit trail: the case's history, for anyone who may read the case.
  v1::GetCaseResponse after;
  ASSERT_TRUE(Get(c.id(), kSupervisor, &after).status.ok());
  EXPECT_EQ(after.case_().citizen().name(), "陈**") << "a reveal unmasks nothing for later reads";
  ASSERT_FALSE(after.events().empty());
  const auto& last = after.events(after.events_size() - 1);
  EXPECT_EQ(last.type(), v1::EVENT_TYPE_CITIZEN_REVEALED);
  EXPECT_EQ(last.actor(), "sup-1");
  EXPECT_EQ(last.note(), "需要联系市民核实地址");
  EXPECT_TRUE(last.has_at());
  // Nothing else moved: status, unit, assignee, dues.
  EXPECT_EQ(after.case_().status(), c.status());
  EXPECT_EQ(after.case_().unit_code(), c.unit_code());
  EXPECT_EQ(after.case_().assignee_member_id(), c.assignee_member_id());
  EXPECT_EQ(after.case_().deadlines().accept_due().seconds(), c.deadlines().accept_due().seconds());
  EXPECT_EQ(after.case_().version(), c.version() + 1);

  // Out of the supervisor's town: refused, and nothing recorded.
  const v1::Case far = Submit(testing::Submission().At(20.005, 110.055).Build());
  EXPECT_EQ(Reveal(far.id(), "核实", kSupervisor, &revealed).reason, "OUT_OF_SCOPE");
  ASSERT_TRUE(Get(far.id(), kRoot, &got).status.ok());
  EXPECT_EQ(got.case_().version(), far.version());
}

// Issue #14: a call center may submit a case routed outside its scope, and
// then read it back; another operator of the same scope may not.
TEST_F(AuthorizationTest, SubmitterReadsBackACaseRoutedOutOfScope) {
  const v1::Case c = Submit(testing::Submission().At(20.005, 110.055).Build(), kCallCenter);
  EXPECT_EQ(c.unit_code(), "100002001001");
  v1::GetCaseResponse got;
  auto r = Get(c.id(), kCallCenter, &got);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(got.case_().citizen().name(), "陈小梅");
  EXPECT_EQ(Get(c.id(), kOtherCallCenter, &got).reason, "OUT_OF_SCOPE");
  // Reading it is not working it.
  v1::CloseRequest close;
  close.set_case_id(c.id());
  v1::CaseWorkResponse resp;
  EXPECT_EQ(testing::Work(*work_, &v1::CaseWork::Stub::Close, close, &resp, kCallCenter).reason, "OUT_OF_SCOPE");
}

// Issue #14: an admin scoped to one town may not write in another.
TEST_F(AuthorizationTest, ScopedAdminWritesOnlyInItsTown) {
  const v1::Case far = Submit(testing::Submission().At(20.005, 110.055).Build());
  v1::CancelRequest cancel;
  cancel.set_case_id(far.id());
  cancel.set_note("重复");
  v1::CaseWorkResponse resp;
  EXPECT_EQ(testing::Work(*work_, &v1::CaseWork::Stub::Cancel, cancel, &resp, kTownAdmin).reason, "OUT_OF_SCOPE");
  // Nor move a case of its town out of it.
  const v1::Case near = Submit(testing::Submission().Build());
  v1::TransferRequest transfer;
  transfer.set_case_id(near.id());
  transfer.set_unit_code("100002001001");
  EXPECT_EQ(testing::Work(*work_, &v1::CaseWork::Stub::Transfer, transfer, &resp, kTownAdmin).reason, "OUT_OF_SCOPE");
  v1::GetCaseResponse got;
  ASSERT_TRUE(Get(far.id(), kRoot, &got).status.ok());
  EXPECT_EQ(got.case_().version(), far.version());
}

// Issue #14: a department with scope "*" lists and reads only the cases it
// handles or is summoned to; summoned, it reports in and does not answer.
TEST_F(AuthorizationTest, DepartmentsReachOnlyTheirCases) {
  const v1::Case security = Submit(testing::Submission("security").Build());
  const v1::Case garbage = Submit(testing::Submission().Build());
  const v1::Case burst = Submit(testing::Submission("water.burst").At(20.005, 110.055).Build());

  EXPECT_EQ(Listed(kPolice, "100"), (std::set<std::string>{security.id()}));
  EXPECT_EQ(Listed(kWater, "100"), (std::set<std::string>{burst.id()}));  // summoned from the start
  EXPECT_EQ(Listed(kRoot, "100").size(), 3u);

  v1::GetCaseResponse got;
  EXPECT_EQ(Get(garbage.id(), kPolice, &got).reason, "OUT_OF_SCOPE");
  ASSERT_TRUE(Get(burst.id(), kWater, &got).status.ok());
  EXPECT_EQ(got.case_().citizen().name(), "陈**");

  v1::CaseWorkResponse resp;
  v1::AcceptRequest accept;
  accept.set_case_id(burst.id());
  EXPECT_EQ(testing::Work(*work_, &v1::CaseWork::Stub::Accept, accept, &resp, kWater).reason, "OUT_OF_SCOPE");
  ASSERT_TRUE(testing::Work(*work_, &v1::CaseWork::Stub::Accept, accept, &resp, kRoot).status.ok());
  v1::ReportInRequest report;
  report.set_case_id(burst.id());
  report.set_department_code("dept.water");
  auto r = testing::Work(*work_, &v1::CaseWork::Stub::ReportIn, report, &resp, kWater);
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  v1::ResolveRequest resolve;
  resolve.set_case_id(burst.id());
  resolve.set_note("修好了");
  EXPECT_EQ(testing::Work(*work_, &v1::CaseWork::Stub::Resolve, resolve, &resp, kWater).reason, "OUT_OF_SCOPE");
  v1::EscalateRequest escalate;
  escalate.set_case_id(burst.id());
  escalate.set_note("上报");
  EXPECT_EQ(testing::Work(*work_, &v1::CaseWork::Stub::Escalate, escalate, &resp, kWater).reason, "OUT_OF_SCOPE");

  // The police handle their category: accept and answer.
  accept.set_case_id(security.id());
  r = testing::Work(*work_, &v1::CaseWork::Stub::Accept, accept, &resp, kPolice);
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
}

// Issue #14: directory reads follow scope, and members' contacts are masked
// for roles that do not dispatch.
TEST_F(AuthorizationTest, DirectoryReadsFollowScopeAndMaskContacts) {
  auto get_unit = [&](const std::string& code, const char* token, v1::GetUnitResponse* resp) {
    auto ctx = testing::Context(token);
    v1::GetUnitRequest req;
    req.set_code(code);
    testing::CallResult r;
    r.status = clients_->directory->GetUnit(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  };
  v1::GetUnitResponse unit;
  ASSERT_TRUE(get_unit("100001001001", kGridWorker, &unit).status.ok());
  ASSERT_FALSE(unit.members().empty());
  for (const auto& m : unit.members()) {
    EXPECT_EQ(m.phone(), "137****1234") << m.id();
    EXPECT_NE(m.name().find('*'), std::string::npos) << m.id();
  }
  v1::GetUnitResponse sup;
  ASSERT_TRUE(get_unit("100001001001", kSupervisor, &sup).status.ok());
  ASSERT_FALSE(sup.members().empty());
  EXPECT_EQ(sup.members(0).phone(), "13700001234");

  // The chain above the scope, without its members; a neighbour, not at all.
  v1::GetUnitResponse community;
  ASSERT_TRUE(get_unit("100001001", kGridWorker, &community).status.ok());
  EXPECT_TRUE(community.members().empty());
  EXPECT_EQ(get_unit("100001001002", kGridWorker, &unit).reason, "OUT_OF_SCOPE");
  EXPECT_EQ(get_unit("100002001001", kSupervisor, &unit).reason, "OUT_OF_SCOPE");

  // RouteCase names where a case would go, without the assignee outside the scope.
  auto ctx = testing::Context(kSupervisor);
  v1::RouteCaseRequest route;
  route.set_category("sanitation");
  route.mutable_location()->set_lat(20.005);
  route.mutable_location()->set_lng(110.055);
  v1::RouteCaseResponse routed;
  ASSERT_TRUE(clients_->directory->RouteCase(ctx.get(), route, &routed).ok());
  EXPECT_EQ(routed.routing().unit_code(), "100002001001");
  EXPECT_TRUE(routed.routing().assignee_member_id().empty());
}

}  // namespace
}  // namespace grid
