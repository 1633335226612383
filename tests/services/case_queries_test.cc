// CaseQuery.ListCases and CaseQuery.GetStats through a real gRPC server on
// port 0, a real RocksDB in a temp dir, the real case writer and lifecycle.
// Time is a FakeClock; deadlines fire when the test says so.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "engine/case_id.h"
#include "services/server.h"
#include "storage/case_stats.h"
#include "tests/support/grpc_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::services {
namespace {

namespace v1 = grid::v1;
using grid::testing::CallResult;

using grid::testing::kStart;  // 2026-11-18, a Wednesday
constexpr Micros kMinute = 60'000'000;

// The tiny directory with a second community in town 100001 and a second town:
//   100 ─ 100001 ─ 100001001 ─ 100001001001, 100001001002
//      │         └ 100001002 ─ 100001002001
//      └ 100002 ─ 100002001 ─ 100002001001
v1::DirectoryContent QueryDirectory() {
  v1::DirectoryContent c = testing::TinyDirectory();
  auto unit = [&](const char* code, v1::UnitLevel level, const char* name, const char* parent) {
    return testing::AddUnit(&c, code, level, name, parent);
  };
  unit("100001002", v1::UNIT_LEVEL_COMMUNITY, "第二社区", "100001");
  testing::AddSquare(unit("100001002001", v1::UNIT_LEVEL_GRID, "二社区第1网格", "100001002"), 110.03, 20.00, 110.04,
                     20.01);
  unit("100002", v1::UNIT_LEVEL_TOWN, "第二镇", "100");
  unit("100002001", v1::UNIT_LEVEL_COMMUNITY, "二镇社区", "100002");
  testing::AddSquare(unit("100002001001", v1::UNIT_LEVEL_GRID, "二镇第1网格", "100002001"), 110.05, 20.00, 110.06,
                     20.01);
  return c;
}

const std::vector<std::string> kGrids = {"100001001001", "100001001002", "100001002001", "100002001001"};

class CaseQueriesTest : public testing::ServerFixture {
 protected:
  CaseQueriesTest() {
    config_.sync = false;  // durability is tested elsewhere; these tests commit thousands of changes
    directory_ = QueryDirectory();
  }
  void SetUp() override { StartServer(); }

  std::string Submit(const std::string& unit, const std::string& category = "sanitation") {
    v1::SubmitCaseResponse resp;
    CallResult res = testing::Submit(*clients_->intake,
                                     testing::Submission(category).Description("路灯不亮").In(unit).Build(), &resp);
    EXPECT_TRUE(res.status.ok()) << res.status.error_message();
    return resp.case_().id();
  }

  // Runs one CaseWork command by name; true when it was applied.
  bool Work(const std::string& what, const std::string& id, const std::string& unit = "", bool flag = false) {
    auto ctx = testing::Context();
    v1::CaseWorkResponse resp;
    grpc::Status st;
    if (what == "accept") {
      v1::AcceptRequest r;
      r.set_case_id(id);
      st = work_->Accept(ctx.get(), r, &resp);
    } else if (what == "start") {
      v1::StartWorkRequest r;
      r.set_case_id(id);
      st = work_->StartWork(ctx.get(), r, &resp);
    } else if (what == "resolve") {
      v1::ResolveRequest r;
      r.set_case_id(id);
      r.set_note("修好了");
      st = work_->Resolve(ctx.get(), r, &resp);
    } else if (what == "callback") {
      v1::RecordCallbackRequest r;
      r.set_case_id(id);
      r.set_satisfied(flag);
      st = work_->RecordCallback(ctx.get(), r, &resp);
    } else if (what == "close") {
      v1::CloseRequest r;
      r.set_case_id(id);
      st = work_->Close(ctx.get(), r, &resp);
    } else if (what == "reopen") {
      v1::ReopenRequest r;
      r.set_case_id(id);
      r.set_note("没修好");
      st = work_->Reopen(ctx.get(), r, &resp);
    } else if (what == "cancel") {
      v1::CancelRequest r;
      r.set_case_id(id);
      r.set_note("重复来电");
      st = work_->Cancel(ctx.get(), r, &resp);
    } else if (what == "escalate") {
      v1::EscalateRequest r;
      r.set_case_id(id);
      r.set_note("吹哨");
      st = work_->Escalate(ctx.get(), r, &resp);
    } else if (what == "transfer") {
      v1::TransferRequest r;
      r.set_case_id(id);
      r.set_unit_code(unit);
      st = work_->Transfer(ctx.get(), r, &resp);
    } else if (what == "reject") {
      v1::RejectRequest r;
      r.set_case_id(id);
      r.set_reason(v1::REJECT_REASON_OTHER_UNIT);
      r.set_suggested_unit_code(unit);
      r.set_note("不归我们");
      st = work_->Reject(ctx.get(), r, &resp);
    } else if (what == "wait") {
      v1::WaitRequest r;
      r.set_case_id(id);
      r.set_note("等居民回家");
      st = work_->Wait(ctx.get(), r, &resp);
    } else if (what == "resume") {
      v1::ResumeRequest r;
      r.set_case_id(id);
      st = work_->Resume(ctx.get(), r, &resp);
    } else {
      ADD_FAILURE() << "unknown command " << what;
    }
    return st.ok();
  }

  CallResult List(const v1::ListCasesRequest& req, v1::ListCasesResponse* resp, const std::string& token = "") {
    auto ctx = testing::Context(token);
    CallResult r;
    r.status = clients_->query->ListCases(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }

  CallResult Stats(const v1::GetStatsRequest& req, v1::GetStatsResponse* resp, const std::string& token = "") {
    auto ctx = testing::Context(token);
    CallResult r;
    r.status = clients_->query->GetStats(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }

  // Every page of a query; fails the test on an error.
  std::vector<v1::Case> ListAll(v1::ListCasesRequest req) {
    std::vector<v1::Case> out;
    for (int pages = 0; pages < 10000; ++pages) {
      v1::ListCasesResponse resp;
      CallResult r = List(req, &resp);
      EXPECT_TRUE(r.status.ok()) << r.status.error_message();
      if (!r.status.ok()) break;
      for (const auto& c : resp.cases()) out.push_back(c);
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }

  static std::vector<std::string> Ids(const std::vector<v1::Case>& cases) {
    std::vector<std::string> ids;
    for (const auto& c : cases) ids.push_back(c.id());
    return ids;
  }
};

v1::ListCasesRequest Scope(const std::string& unit, uint32_t page_size = 0) {
  v1::ListCasesRequest r;
  r.set_scope_unit_code(unit);
  r.set_page_size(page_size);
  return r;
}

google::protobuf::Timestamp Ts(Micros t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(t / 1'000'000);
  ts.set_nanos(static_cast<int32_t>(t % 1'000'000) * 1000);
  return ts;
}

TEST_F(CaseQueriesTest, ListsASubtreeInIdOrderWithEachFilter) {
  // Four cases a minute apart: two in community 100001001, one in the second
  // community, one in the second town.
  std::vector<std::string> ids;
  for (const std::string& unit : {kGrids[0], kGrids[1], kGrids[2], kGrids[3]}) {
    ids.push_back(Submit(unit, unit == kGrids[1] ? "water.burst" : "sanitation"));
    clock_.Advance(kMinute);
  }
  ASSERT_TRUE(Work("accept", ids[0]));
  ASSERT_TRUE(Work("accept", ids[2]));
  ASSERT_TRUE(Work("start", ids[2]));

  EXPECT_EQ(Ids(ListAll(Scope("100"))), ids);
  // Pages splice the stored records: each is the record GetCase answers.
  for (const auto& listed : ListAll(Scope("100"))) {
    v1::GetCaseResponse got;
    ASSERT_TRUE(testing::GetCase(*clients_->query, listed.id(), &got).status.ok());
    EXPECT_EQ(listed.SerializeAsString(), got.case_().SerializeAsString()) << listed.id();
  }
  EXPECT_EQ(Ids(ListAll(Scope("100001"))), (std::vector<std::string>{ids[0], ids[1], ids[2]}));
  EXPECT_EQ(Ids(ListAll(Scope("100001001"))), (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(Ids(ListAll(Scope(kGrids[3]))), (std::vector<std::string>{ids[3]}));

  auto req = Scope("100");
  req.add_statuses(v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[1], ids[3]}));
  req.add_statuses(v1::CASE_STATUS_IN_PROGRESS);
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[1], ids[2], ids[3]}));

  req = Scope("100");
  req.set_category("water.burst");
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[1]}));

  req = Scope("100");
  req.set_assignee_member_id("M3");  // the on-duty member of grid 2
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[1]}));

  req = Scope("100");  // created in [minute 1, minute 3)
  *req.mutable_created_from() = Ts(kStart + kMinute);
  *req.mutable_created_to() = Ts(kStart + 3 * kMinute);
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[1], ids[2]}));

  // Updated: cases 0 and 2 changed at minute 4, the others not since creation.
  req = Scope("100");
  *req.mutable_updated_from() = Ts(kStart + 4 * kMinute);
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[0], ids[2]}));
  req = Scope("100");
  *req.mutable_updated_to() = Ts(kStart + 4 * kMinute);
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[1], ids[3]}));

  // Overdue: nothing yet; a month later every unresolved case is past a due,
  // before any timer has fired (the query compares the dues with now).
  req = Scope("100");
  req.set_overdue(true);
  EXPECT_TRUE(ListAll(req).empty());
  ASSERT_TRUE(Work("resolve", ids[2]));
  clock_.Advance(30LL * 24 * 60 * kMinute);
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[0], ids[1], ids[3]}));
  req.add_statuses(v1::CASE_STATUS_ACCEPTED);
  EXPECT_EQ(Ids(ListAll(req)), (std::vector<std::string>{ids[0]}));

  // A transfer moves a case out of one subtree and into another.
  ASSERT_TRUE(Work("transfer", ids[1], kGrids[3]));
  EXPECT_EQ(Ids(ListAll(Scope("100001"))), (std::vector<std::string>{ids[0], ids[2]}));
  EXPECT_EQ(Ids(ListAll(Scope("100002"))), (std::vector<std::string>{ids[1], ids[3]}));

  // Citizens are shown whole to an admin; the page says what it examined.
  v1::ListCasesResponse resp;
  ASSERT_TRUE(List(Scope("100"), &resp).status.ok());
  ASSERT_EQ(resp.cases_size(), 4);
  EXPECT_EQ(resp.cases(0).citizen().name(), "陈小梅");
  EXPECT_EQ(resp.examined(), 4u);
  EXPECT_TRUE(resp.next_page_token().empty());
}

// Pages neither repeat nor skip while cases change between and during pages.
TEST_F(CaseQueriesTest, PagingNeitherRepeatsNorSkipsWhileCasesChange) {
  std::vector<std::string> in_scope;
  for (int i = 0; i < 120; ++i) {
    in_scope.push_back(Submit(kGrids[static_cast<size_t>(i % 2)]));
    if (i % 5 == 0) Submit(kGrids[3]);  // outside the scope
    clock_.Advance(1000);
  }
  // A concurrent writer: accepts, transfers between the scope's grids and
  // submits new cases until the pager is done.
  std::atomic<bool> done{false};
  std::atomic<int> changes{0};
  std::thread writer([&] {
    std::mt19937 rng(7);
    while (!done.load()) {
      const std::string& id = in_scope[rng() % in_scope.size()];
      if (rng() % 2) {
        Work("accept", id);
      } else {
        Work("transfer", id, kGrids[rng() % 2]);
      }
      if (rng() % 4 == 0) Submit(kGrids[0]);
      changes.fetch_add(1);
    }
  });

  // Between pages, the pager itself moves cases on both sides of its cursor.
  std::mt19937 rng(11);
  std::vector<std::string> seen;
  auto req = Scope("100001001", 7);
  int pages = 0;
  for (;; ++pages) {
    v1::ListCasesResponse resp;
    CallResult r = List(req, &resp);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    for (const auto& c : resp.cases()) seen.push_back(c.id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
    for (int k = 0; k < 3; ++k) {
      const std::string& id = in_scope[rng() % in_scope.size()];
      Work(k == 0 ? "transfer" : "accept", id, kGrids[rng() % 2]);
      Work("start", id);
    }
  }
  done.store(true);
  writer.join();
  EXPECT_GT(pages, 15);
  EXPECT_GT(changes.load(), 0);

  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a case came twice";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  for (const auto& id : in_scope) EXPECT_EQ(unique.count(id), 1u) << "case " << id << " was skipped";

  // Filtered by status: every case ROUTED from the first page to the last
  // (never touched) comes exactly once; cases that changed come at most once.
  std::vector<std::string> routed_before;
  for (const auto& c : ListAll(Scope("100001001"))) {
    if (c.status() == v1::CASE_STATUS_ROUTED) routed_before.push_back(c.id());
  }
  ASSERT_GT(routed_before.size(), 3u);
  auto sreq = Scope("100001001", 3);
  sreq.add_statuses(v1::CASE_STATUS_ROUTED);
  std::vector<std::string> got;
  std::set<std::string> changed;
  for (size_t step = 0;; ++step) {
    v1::ListCasesResponse resp;
    ASSERT_TRUE(List(sreq, &resp).status.ok());
    for (const auto& c : resp.cases()) {
      EXPECT_EQ(c.status(), v1::CASE_STATUS_ROUTED);
      got.push_back(c.id());
    }
    if (resp.next_page_token().empty()) break;
    sreq.set_page_token(resp.next_page_token());
    // Accept one routed case far ahead and one already passed.
    const std::string& ahead = routed_before[routed_before.size() - 1 - (step % routed_before.size())];
    const std::string& behind = routed_before[step % routed_before.size()];
    if (Work("accept", ahead)) changed.insert(ahead);
    if (Work("accept", behind)) changed.insert(behind);
  }
  std::set<std::string> got_unique(got.begin(), got.end());
  EXPECT_EQ(got_unique.size(), got.size());
  for (const auto& id : routed_before) {
    if (!changed.count(id)) {
      EXPECT_EQ(got_unique.count(id), 1u) << "stable case " << id << " was skipped";
    }
  }
}

TEST_F(CaseQueriesTest, EveryBadListRequestIsRefusedWithAReason) {
  Submit(kGrids[0]);
  struct Bad {
    std::string name;
    v1::ListCasesRequest req;
    grpc::StatusCode code;
    std::string reason;
  };
  std::vector<Bad> bad;
  bad.push_back({"missing scope", Scope(""), grpc::StatusCode::INVALID_ARGUMENT, "MISSING_SCOPE"});
  bad.push_back({"unknown unit", Scope("999"), grpc::StatusCode::NOT_FOUND, "UNIT_NOT_FOUND"});
  bad.push_back({"page too large", Scope("100", 1001), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_SIZE"});
  auto r = Scope("100");
  r.set_page_token("not-a-token!");
  bad.push_back({"garbage token", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"});
  r = Scope("100");
  r.set_page_token("TAAAAAAAAAAA");
  bad.push_back({"short token", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"});
  r = Scope("100");
  r.add_statuses(static_cast<v1::CaseStatus>(99));
  bad.push_back({"unknown status", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_STATUS"});
  r = Scope("100");
  r.add_statuses(v1::CASE_STATUS_UNSPECIFIED);
  bad.push_back({"unspecified status", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_STATUS"});
  r = Scope("100");
  *r.mutable_created_from() = Ts(kStart + kMinute);
  *r.mutable_created_to() = Ts(kStart);
  bad.push_back({"created from > to", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_RANGE"});
  r = Scope("100");
  *r.mutable_updated_from() = Ts(kStart + kMinute);
  *r.mutable_updated_to() = Ts(kStart);
  bad.push_back({"updated from > to", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_RANGE"});
  r = Scope("100");
  r.mutable_created_from()->set_seconds(-5);
  bad.push_back({"time out of range", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_RANGE"});
  r = Scope("100");
  r.set_category("sani\xC3\x28tation");  // the C++ client sends it, with a logged warning
  bad.push_back({"invalid UTF-8", r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_UTF8"});
  for (const auto& b : bad) {
    v1::ListCasesResponse resp;
    CallResult res = List(b.req, &resp);
    EXPECT_EQ(res.status.error_code(), b.code) << b.name;
    EXPECT_EQ(res.reason, b.reason) << b.name;
    EXPECT_EQ(resp.cases_size(), 0) << b.name;
  }

  // A token is bound to its filters: another query cannot use it.
  Submit(kGrids[0]);
  v1::ListCasesResponse first;
  ASSERT_TRUE(List(Scope("100", 1), &first).status.ok());
  ASSERT_FALSE(first.next_page_token().empty());
  auto other = Scope("100001", 1);
  other.set_page_token(first.next_page_token());
  v1::ListCasesResponse resp;
  CallResult res = List(other, &resp);
  EXPECT_EQ(res.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(res.reason, "INVALID_PAGE_TOKEN");
  // ... while the same query with another page size may.
  auto same = Scope("100", 5);
  same.set_page_token(first.next_page_token());
  ASSERT_TRUE(List(same, &resp).status.ok());
  EXPECT_EQ(resp.cases_size(), 1);
}

TEST_F(CaseQueriesTest, EveryBadStatsRequestIsRefusedWithAReason) {
  struct Bad {
    std::string scope, from, to;
    grpc::StatusCode code;
    std::string reason;
  };
  const std::vector<Bad> bad = {
      {"", "2026-11-01", "2026-11-30", grpc::StatusCode::INVALID_ARGUMENT, "MISSING_SCOPE"},
      {"999", "2026-11-01", "2026-11-30", grpc::StatusCode::NOT_FOUND, "UNIT_NOT_FOUND"},
      {"100", "2026-11-31", "2026-12-01", grpc::StatusCode::INVALID_ARGUMENT, "INVALID_DATE"},
      {"100", "2026-11-01", "yesterday", grpc::StatusCode::INVALID_ARGUMENT, "INVALID_DATE"},
      {"100", "2026-12-01", "2026-11-01", grpc::StatusCode::INVALID_ARGUMENT, "INVALID_RANGE"},
      {"100", "2025-01-01", "2026-11-01", grpc::StatusCode::INVALID_ARGUMENT, "WINDOW_TOO_LONG"},
  };
  for (const auto& b : bad) {
    v1::GetStatsRequest req;
    req.set_scope_unit_code(b.scope);
    req.set_from_date(b.from);
    req.set_to_date(b.to);
    v1::GetStatsResponse resp;
    CallResult r = Stats(req, &resp);
    EXPECT_EQ(r.status.error_code(), b.code) << b.scope << " " << b.from << " " << b.to;
    EXPECT_EQ(r.reason, b.reason) << b.scope << " " << b.from << " " << b.to;
  }
}

class ScopedQueriesTest : public CaseQueriesTest {
 protected:
  void SetUp() override {
    std::ofstream(tmp_.Sub("tokens")) << "admin-token-0000001 admin * root\n"
                                         "town-office-token-1 town_office 100001 town-office\n";
    StartServer(tmp_.Sub("tokens"));
  }
};

TEST_F(ScopedQueriesTest, AScopeOutsideTheCallersIsRefusedAndCitizensAreMasked) {
  const auto s = testing::Submission().Description("x").In(kGrids[0]).Citizen("陈小梅").Build();
  v1::SubmitCaseResponse sr;
  ASSERT_TRUE(testing::Submit(*clients_->intake, s, &sr, "admin-token-0000001").status.ok());

  v1::ListCasesResponse resp;
  CallResult r = List(Scope("100002"), &resp, "town-office-token-1");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.reason, "OUT_OF_SCOPE");
  r = List(Scope("100"), &resp, "town-office-token-1");  // the county is above its scope
  EXPECT_EQ(r.reason, "OUT_OF_SCOPE");
  v1::GetStatsRequest sreq;
  sreq.set_scope_unit_code("100");
  sreq.set_from_date("2026-11-01");
  sreq.set_to_date("2026-11-30");
  v1::GetStatsResponse stats;
  EXPECT_EQ(Stats(sreq, &stats, "town-office-token-1").reason, "OUT_OF_SCOPE");
  r = List(Scope("100001"), &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  r = List(Scope("100001"), &resp, "town-office-token-1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(resp.cases_size(), 1);
  EXPECT_EQ(resp.cases(0).citizen().name(), "陈**");
}

// ---- GetStats against a recomputation by full scan ---------------------------

struct Expected {
  std::map<int, uint64_t> by_status;
  uint64_t cases = 0, accepted = 0, accepted_on_time = 0, accept_missed = 0, resolved = 0, resolved_on_time = 0,
           called_back = 0, satisfied = 0, returns = 0, reopenings = 0;
  std::map<int, uint64_t> escalations;
  std::vector<Micros> accept_times, resolve_times;
};

Micros Us(const google::protobuf::Timestamp& ts) { return ts.seconds() * 1'000'000 + ts.nanos() / 1000; }

// Exact nearest-rank percentile.
double ExactPercentile(std::vector<Micros> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return static_cast<double>(v[rank - 1]) / 1e6;
}

double HistPercentile(const std::vector<Micros>& v, double q) {
  std::vector<int64_t> buckets(storage::stat::kBuckets, 0);
  for (Micros t : v) ++buckets[storage::DurationBucket(t)];
  return storage::Percentile(buckets.data(), q);
}

void ExpectFigures(const Expected& e, const v1::CaseFigures& f, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(f.cases(), e.cases);
  std::map<int, uint64_t> by_status;
  for (const auto& s : f.by_status()) by_status[s.status()] = s.count();
  EXPECT_EQ(by_status, e.by_status);
  EXPECT_EQ(f.accepted(), e.accepted);
  EXPECT_EQ(f.accepted_on_time(), e.accepted_on_time);
  EXPECT_EQ(f.accept_missed(), e.accept_missed);
  EXPECT_EQ(f.resolved(), e.resolved);
  EXPECT_EQ(f.resolved_on_time(), e.resolved_on_time);
  EXPECT_EQ(f.called_back(), e.called_back);
  EXPECT_EQ(f.satisfied(), e.satisfied);
  EXPECT_EQ(f.returns(), e.returns);
  EXPECT_EQ(f.reopenings(), e.reopenings);
  std::map<int, uint64_t> esc;
  for (const auto& l : f.escalations()) esc[l.level()] = l.count();
  EXPECT_EQ(esc, e.escalations);
  auto rate = [](uint64_t n, uint64_t d) { return d == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(d); };
  EXPECT_DOUBLE_EQ(f.response_rate(), rate(e.accepted_on_time, e.accepted + e.accept_missed));
  const uint64_t counted =
      e.cases - (e.by_status.count(v1::CASE_STATUS_MERGED) ? e.by_status.at(v1::CASE_STATUS_MERGED) : 0) -
      (e.by_status.count(v1::CASE_STATUS_CANCELLED) ? e.by_status.at(v1::CASE_STATUS_CANCELLED) : 0);
  EXPECT_DOUBLE_EQ(f.resolution_rate(), rate(e.resolved, counted));
  EXPECT_DOUBLE_EQ(f.satisfaction_rate(), rate(e.satisfied, e.called_back));
  EXPECT_DOUBLE_EQ(f.on_time_resolution_rate(), rate(e.resolved_on_time, e.resolved));
  // The histogram's percentiles: the same bucket as the exact data's, and
  // within the stated 4.5% of the exact value (or both under a second).
  const std::pair<double, double> checks[] = {
      {f.median_accept_seconds(), ExactPercentile(e.accept_times, 0.5)},
      {f.p90_accept_seconds(), ExactPercentile(e.accept_times, 0.9)},
      {f.median_resolve_seconds(), ExactPercentile(e.resolve_times, 0.5)},
      {f.p90_resolve_seconds(), ExactPercentile(e.resolve_times, 0.9)},
  };
  for (const auto& [got, exact] : checks) {
    if (exact < 1.0) {
      EXPECT_EQ(got, 0.0);
    } else {
      EXPECT_NEAR(got, exact, exact * 0.045);
    }
  }
  EXPECT_DOUBLE_EQ(f.median_accept_seconds(), HistPercentile(e.accept_times, 0.5));
  EXPECT_DOUBLE_EQ(f.p90_resolve_seconds(), HistPercentile(e.resolve_times, 0.9));
}

TEST_F(CaseQueriesTest, StatsOfARandomHistoryMatchARecomputationByFullScan) {
  const v1::DirectoryContent dir = QueryDirectory();
  std::map<std::string, std::string> parent;
  for (const auto& u : dir.units()) parent[u.code()] = u.parent_code();
  auto chain = [&](std::string code) {
    std::vector<std::string> out;
    for (; !code.empty(); code = parent[code]) out.push_back(code);
    return out;
  };

  std::mt19937 rng(20261128);
  std::vector<std::string> ids;
  const std::vector<std::string> commands = {"accept",   "accept", "start",  "resolve", "resolve",
                                             "callback", "close",  "reopen", "cancel",  "escalate",
                                             "transfer", "reject", "wait",   "resume"};
  int applied = 0, fired = 0;
  for (int step = 0; step < 900; ++step) {
    if (step % 4 == 0 || ids.empty()) ids.push_back(Submit(kGrids[rng() % kGrids.size()]));
    const std::string& id = ids[rng() % ids.size()];
    const std::string& what = commands[rng() % commands.size()];
    if (Work(what, id, kGrids[rng() % kGrids.size()], rng() % 3 != 0)) ++applied;
    // Time moves by up to ~5 hours; due timers fire (escalations, overdue flags).
    clock_.Advance(static_cast<Micros>(rng() % 300) * kMinute);
    if (step % 7 == 0) fired += static_cast<int>(server_->FireDueDeadlines());
  }
  // Settle every timer already due, so that nothing fires at the restart below.
  for (int i = 0; i < 10 && server_->FireDueDeadlines() > 0; ++i) {
  }
  ASSERT_GT(applied, 150);
  ASSERT_GT(fired, 5);

  // The full scan: every case with its history, each counted under its unit's
  // chain today (events under the unit it was at when they happened).
  std::map<std::pair<std::string, uint32_t>, Expected> expected;  // (unit, day)
  std::set<uint32_t> days;
  for (const auto& id : ids) {
    v1::GetCaseResponse got;
    ASSERT_TRUE(testing::GetCase(*clients_->query, id, &got).status.ok());
    const v1::Case& c = got.case_();
    const uint32_t day = storage::DayOf(Us(c.created_at()));
    days.insert(day);
    for (const auto& unit : chain(c.unit_code())) {
      Expected& e = expected[{unit, day}];
      e.cases += 1;
      e.by_status[c.status()] += 1;
      if (c.has_accepted_at()) {
        e.accepted += 1;
        e.accepted_on_time += c.accepted_on_time() ? 1 : 0;
        e.accept_times.push_back(Us(c.accepted_at()) - Us(c.created_at()));
      } else if (c.deadlines().accept_overdue()) {
        e.accept_missed += 1;
      }
      const bool resolved =
          c.has_resolved_at() && (c.status() == v1::CASE_STATUS_RESOLVED || c.status() == v1::CASE_STATUS_CALLED_BACK ||
                                  c.status() == v1::CASE_STATUS_CLOSED);
      if (resolved) {
        e.resolved += 1;
        e.resolved_on_time += c.resolved_on_time() ? 1 : 0;
        e.resolve_times.push_back(Us(c.resolved_at()) - Us(c.created_at()));
      }
      if (c.has_callback()) {
        e.called_back += 1;
        e.satisfied += c.callback().satisfied() ? 1 : 0;
      }
    }
    // Replay the history for where each event happened.
    std::string at;
    for (const auto& ev : got.events()) {
      if (ev.type() == v1::EVENT_TYPE_ROUTED) at = ev.routing().unit_code();
      if (ev.type() == v1::EVENT_TYPE_REJECTED || ev.type() == v1::EVENT_TYPE_REOPENED ||
          ev.type() == v1::EVENT_TYPE_ESCALATED) {
        for (const auto& unit : chain(at)) {
          Expected& e = expected[{unit, day}];
          if (ev.type() == v1::EVENT_TYPE_REJECTED) e.returns += 1;
          if (ev.type() == v1::EVENT_TYPE_REOPENED) e.reopenings += 1;
          if (ev.type() == v1::EVENT_TYPE_ESCALATED) e.escalations[ev.to_level()] += 1;
        }
      }
      if ((ev.type() == v1::EVENT_TYPE_REROUTED || ev.type() == v1::EVENT_TYPE_TRANSFERRED ||
           ev.type() == v1::EVENT_TYPE_ARBITRATION) &&
          !ev.to_unit().empty()) {
        at = ev.to_unit();
      }
    }
  }
  ASSERT_GE(days.size(), 5u);

  auto sum = [&](const std::string& unit, uint32_t from, uint32_t to) {
    Expected total;
    for (const auto& [key, e] : expected) {
      if (key.first != unit || key.second < from || key.second > to) continue;
      total.cases += e.cases;
      for (const auto& [s, n] : e.by_status) total.by_status[s] += n;
      total.accepted += e.accepted;
      total.accepted_on_time += e.accepted_on_time;
      total.accept_missed += e.accept_missed;
      total.resolved += e.resolved;
      total.resolved_on_time += e.resolved_on_time;
      total.called_back += e.called_back;
      total.satisfied += e.satisfied;
      total.returns += e.returns;
      total.reopenings += e.reopenings;
      for (const auto& [l, n] : e.escalations) total.escalations[l] += n;
      total.accept_times.insert(total.accept_times.end(), e.accept_times.begin(), e.accept_times.end());
      total.resolve_times.insert(total.resolve_times.end(), e.resolve_times.begin(), e.resolve_times.end());
    }
    return total;
  };

  const uint32_t first = *days.begin(), last = *days.rbegin();
  const std::vector<std::pair<uint32_t, uint32_t>> windows = {{first, last}, {first + 1, first + 3}, {last, last}};
  uint64_t escalations_seen = 0, returns_seen = 0;
  for (const std::string scope : {"100", "100001", "100001001", "100002001001"}) {
    for (const auto& [from, to] : windows) {
      v1::GetStatsRequest req;
      req.set_scope_unit_code(scope);
      req.set_from_date(storage::FormatDay(from));
      req.set_to_date(storage::FormatDay(to));
      v1::GetStatsResponse resp;
      CallResult r = Stats(req, &resp);
      ASSERT_TRUE(r.status.ok()) << r.status.error_message();
      const std::string where = scope + " " + req.from_date() + ".." + req.to_date();
      ExpectFigures(sum(scope, from, to), resp.total(), where);
      size_t children = 0;
      for (const auto& u : dir.units()) children += u.parent_code() == scope ? 1 : 0;
      ASSERT_EQ(static_cast<size_t>(resp.children_size()), children) << where;
      for (const auto& child : resp.children()) {
        ExpectFigures(sum(child.unit_code(), from, to), child, where + " child " + child.unit_code());
      }
      for (const auto& l : resp.total().escalations()) escalations_seen += l.count();
      returns_seen += resp.total().returns();
    }
  }
  // The history exercised what the figures count.
  EXPECT_GT(escalations_seen, 0u);
  EXPECT_GT(returns_seen, 0u);

  // Figures survive a restart (the merge operator reads what was merged).
  v1::GetStatsRequest req;
  req.set_scope_unit_code("100");
  req.set_from_date(storage::FormatDay(first));
  req.set_to_date(storage::FormatDay(last));
  v1::GetStatsResponse before_restart;
  ASSERT_TRUE(Stats(req, &before_restart).status.ok());
  StopServer();
  StartServer();
  v1::GetStatsResponse after_restart;
  ASSERT_TRUE(Stats(req, &after_restart).status.ok());
  EXPECT_EQ(after_restart.SerializeAsString(), before_restart.SerializeAsString());
}

}  // namespace
}  // namespace grid::services
