// CaseWork through a real in-process gRPC server on port 0, a real RocksDB in
// a temp dir and real clients; time is a FakeClock and deadlines are fired by
// GridServer::FireDueDeadlines, never by sleeping.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "services/server.h"
#include "tests/support/grpc_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"
#include "tests/support/work_client.h"

namespace grid::services {
namespace {

using grid::testing::CallResult;
using grid::testing::Work;
using grid::v1::CaseWork;

constexpr Micros M = kMicrosPerMinute;
constexpr Micros H = kMicrosPerHour;

class CaseWorkTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    auto policy = ParseDeadlinePolicy("test", "rule general * calendar 1h 4h\n");
    ASSERT_TRUE(policy.ok());
    config_.deadline_policy = *policy;
    StartServer();
  }

  // Submits a sanitation case in grid 2 (110.015, 20.005); its id.
  std::string Submit(const std::string& key = "") {
    grid::v1::SubmitCaseResponse resp;
    CallResult res = testing::Submit(*clients_->intake, testing::Submission().Key(key).Build(), &resp);
    EXPECT_TRUE(res.status.ok()) << res.status.error_message();
    return resp.case_().id();
  }

  grid::v1::GetCaseResponse Get(const std::string& id) {
    grid::v1::GetCaseResponse resp;
    CallResult r = testing::GetCase(*clients_->query, id, &resp);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    return resp;
  }

  static std::vector<grid::v1::EventType> Types(const grid::v1::GetCaseResponse& g) {
    std::vector<grid::v1::EventType> out;
    for (const auto& e : g.events()) out.push_back(e.type());
    return out;
  }

  static int Count(const grid::v1::GetCaseResponse& g, grid::v1::EventType t) {
    int n = 0;
    for (const auto& e : g.events()) n += e.type() == t;
    return n;
  }
};

TEST_F(CaseWorkTest, DrivesACaseFromSubmissionToClosure) {
  const std::string id = Submit();
  grid::v1::CaseWorkResponse resp;

  grid::v1::AcceptRequest accept;
  accept.set_case_id(id);
  accept.set_expected_version(2);
  accept.set_note("收到，马上去");
  CallResult r = Work(*work_, &CaseWork::Stub::Accept, accept, &resp, "", "M3");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(resp.case_().status(), grid::v1::CASE_STATUS_ACCEPTED);
  EXPECT_EQ(resp.case_().version(), 3u);
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).actor(), "M3");

  clock_.Advance(10 * M);
  grid::v1::SummonDepartmentsRequest summon;
  summon.set_case_id(id);
  summon.add_department_codes("dept.water");
  summon.set_arrive_within_minutes(45);
  ASSERT_TRUE(Work(*work_, &CaseWork::Stub::SummonDepartments, summon, &resp).status.ok());
  EXPECT_EQ(resp.case_().status(), grid::v1::CASE_STATUS_IN_PROGRESS);
  ASSERT_EQ(resp.case_().subtasks_size(), 1);

  grid::v1::ResolveRequest resolve;
  resolve.set_case_id(id);
  resolve.set_note("已清运");
  r = Work(*work_, &CaseWork::Stub::Resolve, resolve, &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(r.reason, "SUBTASKS_OPEN");

  grid::v1::ReportInRequest report;
  report.set_case_id(id);
  report.set_department_code("dept.water");
  report.set_done(true);
  ASSERT_TRUE(Work(*work_, &CaseWork::Stub::ReportIn, report, &resp).status.ok());
  ASSERT_TRUE(Work(*work_, &CaseWork::Stub::Resolve, resolve, &resp).status.ok());
  grid::v1::RecordCallbackRequest callback;
  callback.set_case_id(id);
  callback.set_satisfied(true);
  ASSERT_TRUE(Work(*work_, &CaseWork::Stub::RecordCallback, callback, &resp).status.ok());
  grid::v1::CloseRequest close;
  close.set_case_id(id);
  ASSERT_TRUE(Work(*work_, &CaseWork::Stub::Close, close, &resp).status.ok());
  EXPECT_EQ(resp.case_().status(), grid::v1::CASE_STATUS_CLOSED);

  const auto got = Get(id);
  EXPECT_EQ(got.case_().status(), grid::v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(Types(got),
            (std::vector<grid::v1::EventType>{
                grid::v1::EVENT_TYPE_SUBMITTED, grid::v1::EVENT_TYPE_ROUTED, grid::v1::EVENT_TYPE_ACCEPTED,
                grid::v1::EVENT_TYPE_WORK_STARTED, grid::v1::EVENT_TYPE_SUMMONED, grid::v1::EVENT_TYPE_REPORTED_IN,
                grid::v1::EVENT_TYPE_RESOLVED, grid::v1::EVENT_TYPE_CALLED_BACK, grid::v1::EVENT_TYPE_CLOSED}));
  for (int i = 0; i < got.events_size(); ++i) EXPECT_EQ(got.events(i).seq(), static_cast<uint64_t>(i + 1));

  // Every event is in the feed, in order, with the case's unit path.
  auto feed = server_->store()->ReadFeed(0, 100);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), 9u);
  for (size_t i = 0; i < feed->size(); ++i) {
    EXPECT_EQ((*feed)[i].cursor(), i + 1);
    EXPECT_EQ((*feed)[i].event().case_id(), id);
    EXPECT_FALSE((*feed)[i].escalation());
  }
  EXPECT_EQ((*feed)[0].unit_path(0), "100");
  EXPECT_EQ((*feed)[0].unit_path(3), "100001001002");
  // A closed case has no timers left.
  EXPECT_EQ(*server_->store()->CountDue(), 0u);
}

TEST_F(CaseWorkTest, RefusedRequestsChangeNothing) {
  const std::string id = Submit();
  const auto before = Get(id);
  grid::v1::CaseWorkResponse resp;

  struct Bad {
    std::function<CallResult()> call;
    grpc::StatusCode code;
    const char* reason;
  };
  const std::vector<Bad> bad = {
      {[&] {
         grid::v1::AddNoteRequest r;
         r.set_case_id(id);
         r.set_note("bad \xC3\x28 text");
         return Work(*work_, &CaseWork::Stub::AddNote, r, &resp);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "INVALID_UTF8"},
      {[&] {
         grid::v1::AddNoteRequest r;
         r.set_case_id(id);
         return Work(*work_, &CaseWork::Stub::AddNote, r, &resp);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "MISSING_NOTE"},
      {[&] {
         grid::v1::AcceptRequest r;
         r.set_case_id("not-a-case");
         return Work(*work_, &CaseWork::Stub::Accept, r, &resp);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "INVALID_CASE_ID"},
      {[&] {
         grid::v1::AcceptRequest r;
         r.set_case_id("1795000000099999");
         return Work(*work_, &CaseWork::Stub::Accept, r, &resp);
       },
       grpc::StatusCode::NOT_FOUND, "CASE_NOT_FOUND"},
      {[&] {
         grid::v1::AcceptRequest r;
         r.set_case_id(id);
         r.set_expected_version(7);
         return Work(*work_, &CaseWork::Stub::Accept, r, &resp);
       },
       grpc::StatusCode::ABORTED, "VERSION_MISMATCH"},
      {[&] {
         grid::v1::ResolveRequest r;
         r.set_case_id(id);
         r.set_note("done");
         return Work(*work_, &CaseWork::Stub::Resolve, r, &resp);
       },
       grpc::StatusCode::FAILED_PRECONDITION, "ILLEGAL_TRANSITION"},
      {[&] {
         grid::v1::TransferRequest r;
         r.set_case_id(id);
         r.set_unit_code("999");
         return Work(*work_, &CaseWork::Stub::Transfer, r, &resp);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "UNKNOWN_UNIT"},
      {[&] {
         grid::v1::RejectRequest r;
         r.set_case_id(id);
         r.set_reason(grid::v1::REJECT_REASON_WRONG_LOCATION);
         r.mutable_corrected_location()->set_lat(std::nan(""));
         return Work(*work_, &CaseWork::Stub::Reject, r, &resp);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "NON_FINITE_COORDINATE"},
      {[&] {
         grid::v1::ExtendRequest r;
         r.set_case_id(id);
         r.set_note("延期");
         r.set_hours(10000);
         return Work(*work_, &CaseWork::Stub::Extend, r, &resp);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "INVALID_EXTENSION"},
      {[&] {
         grid::v1::MergeRequest r;
         r.set_case_id(id);
         r.set_master_case_id("1795000000099999");
         return Work(*work_, &CaseWork::Stub::Merge, r, &resp);
       },
       grpc::StatusCode::NOT_FOUND, "CASE_NOT_FOUND"},
      {[&] {
         grid::v1::SummonDepartmentsRequest r;
         r.set_case_id(id);
         r.add_department_codes("dept.water");
         r.add_department_codes("dept.water");
         return Work(*work_, &CaseWork::Stub::SummonDepartments, r, &resp);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "DUPLICATE_DEPARTMENT"},
  };
  for (const auto& b : bad) {
    CallResult r = b.call();
    EXPECT_EQ(r.status.error_code(), b.code) << b.reason << ": " << r.status.error_message();
    EXPECT_EQ(r.reason, b.reason) << r.status.error_message();
    EXPECT_EQ(r.status.error_message().rfind(std::string(b.reason) + ": ", 0), 0u) << r.status.error_message();
  }
  const auto after = Get(id);
  EXPECT_EQ(after.case_().SerializeAsString(), before.case_().SerializeAsString());
  EXPECT_EQ(after.events_size(), before.events_size());
  EXPECT_EQ(*server_->store()->LastFeedCursor(), 2u);
}

TEST_F(CaseWorkTest, RolesAndScopesFromTheTokenFile) {
  const std::string tokens = tmp_.Sub("tokens.txt");
  std::ofstream(tokens) << "token-call-center-0001 call_center * callcenter-01\n"
                           "token-grid-worker-0001 grid_worker 100001001001 M1\n"
                           "token-grid-worker-0002 grid_worker 100001001002 M3\n"
                           "token-town-office-0001 town_office 100001 town-01\n";
  StopServer();
  StartServer(tokens);
  const auto sub = testing::Submission().Description("路灯不亮").Citizen("陈小梅").Build();
  grid::v1::SubmitCaseResponse created;
  ASSERT_TRUE(testing::Submit(*clients_->intake, sub, &created, "token-call-center-0001").status.ok());
  const std::string id = created.case_().id();
  grid::v1::CaseWorkResponse resp;
  grid::v1::AcceptRequest accept;
  accept.set_case_id(id);
  CallResult r = Work(*work_, &CaseWork::Stub::Accept, accept, &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  r = Work(*work_, &CaseWork::Stub::Accept, accept, &resp, "token-grid-worker-0001");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.reason, "OUT_OF_SCOPE");
  r = Work(*work_, &CaseWork::Stub::Accept, accept, &resp, "token-town-office-0001");
  EXPECT_EQ(r.reason, "ROLE_NOT_ALLOWED");
  r = Work(*work_, &CaseWork::Stub::Accept, accept, &resp, "token-grid-worker-0002");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(resp.events(0).actor(), "M3");
  EXPECT_EQ(resp.events(0).actor_role(), "grid_worker");
  grid::v1::GetCaseResponse g;
  ASSERT_TRUE(testing::GetCase(*clients_->query, id, &g, "token-town-office-0001").status.ok());
  EXPECT_EQ(g.events_size(), 3);
  // A town office sees the case of its town, with the citizen masked.
  EXPECT_EQ(g.case_().citizen().name().find("陈小梅"), std::string::npos);
}

TEST_F(CaseWorkTest, ConcurrentUpdatesToOneCaseAreSerialisedByVersion) {
  const std::string id = Submit();
  constexpr int kThreads = 8;
  constexpr int kEach = 15;
  std::atomic<int> ok{0}, aborted{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = CaseWork::NewStub(clients_->channel);
      for (int i = 0; i < kEach; ++i) {
        grid::v1::GetCaseResponse g;
        testing::GetCase(*clients_->query, id, &g);
        grid::v1::AddNoteRequest note;
        note.set_case_id(id);
        note.set_expected_version(g.case_().version());
        note.set_note("thread " + std::to_string(t) + " note " + std::to_string(i));
        grid::v1::CaseWorkResponse resp;
        CallResult r = Work(*stub, &CaseWork::Stub::AddNote, note, &resp);
        if (r.status.ok()) {
          ++ok;
        } else if (r.reason == "VERSION_MISMATCH") {
          ++aborted;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load() + aborted.load(), kThreads * kEach);
  EXPECT_GT(ok.load(), 0);
  const auto got = Get(id);
  EXPECT_EQ(got.case_().version(), 2u + static_cast<uint64_t>(ok.load()));
  ASSERT_EQ(got.events_size(), 2 + ok.load());
  for (int i = 0; i < got.events_size(); ++i) EXPECT_EQ(got.events(i).seq(), static_cast<uint64_t>(i + 1));
}

TEST_F(CaseWorkTest, DeadlinesFireExactlyOnceAcrossARestart) {
  constexpr int kCases = 40;
  std::vector<std::string> ids;
  for (int i = 0; i < kCases; ++i) ids.push_back(Submit());
  // Accept half of them: only their resolve clock runs.
  grid::v1::CaseWorkResponse resp;
  for (int i = 0; i < kCases; i += 2) {
    grid::v1::AcceptRequest a;
    a.set_case_id(ids[i]);
    ASSERT_TRUE(Work(*work_, &CaseWork::Stub::Accept, a, &resp).status.ok());
  }
  EXPECT_EQ(server_->FireDueDeadlines(), 0u);
  clock_.Advance(61 * M);  // past the accept warning (48 min) and due (60 min)
  EXPECT_EQ(server_->FireDueDeadlines(), static_cast<size_t>(kCases));  // 20 warnings + 20 escalations
  EXPECT_EQ(server_->FireDueDeadlines(), 0u);

  // Down for an hour; everything due meanwhile fires once after the restart
  // (the scheduler fires at start by itself; FireDueDeadlines waits for the rest).
  StopServer();
  clock_.Advance(H);
  StartServer();
  server_->FireDueDeadlines();
  EXPECT_EQ(server_->FireDueDeadlines(), 0u);
  for (int i = 0; i < kCases; ++i) {
    const auto g = Get(ids[i]);
    SCOPED_TRACE(ids[i]);
    if (i % 2 == 0) {
      EXPECT_EQ(Count(g, grid::v1::EVENT_TYPE_ESCALATED), 0);
      EXPECT_EQ(Count(g, grid::v1::EVENT_TYPE_DEADLINE_WARNING), 0);
    } else {
      // Community at 60 min, then town at 120 min, each warned before.
      EXPECT_EQ(Count(g, grid::v1::EVENT_TYPE_ESCALATED), 2);
      EXPECT_EQ(Count(g, grid::v1::EVENT_TYPE_DEADLINE_WARNING), 2);
      EXPECT_EQ(g.case_().escalation_unit_code(), "100001");
    }
  }
  // Escalations are flagged in the feed for the streams.
  auto feed = server_->store()->ReadFeed(0, 100000);
  ASSERT_TRUE(feed.ok());
  int escalations = 0;
  for (const auto& e : *feed) escalations += e.escalation();
  EXPECT_EQ(escalations, kCases);  // 20 cases x 2 levels
  // After 4 h the resolve deadline escalates the accepted ones too, once.
  clock_.Advance(3 * H);
  server_->FireDueDeadlines();
  EXPECT_EQ(server_->FireDueDeadlines(), 0u);
  EXPECT_EQ(Count(Get(ids[0]), grid::v1::EVENT_TYPE_ESCALATED), 1);
}

TEST_F(CaseWorkTest, TheAsioTimerFiresWithoutBeingAsked) {
  // Re-read the index every 20 ms of real time; advance the fake clock past
  // the due and wait for the escalation on the feed (a stream read with a
  // deadline), not by polling the case.
  StopServer();
  config_.scheduler.max_wait = 20'000;
  StartServer();
  const std::string id = Submit();
  auto feed = grid::v1::EscalationFeed::NewStub(clients_->channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grid::v1::WatchRequest watch;  // escalations only, from what is stored now
  watch.set_from_cursor(*server_->store()->LastFeedCursor());
  auto reader = feed->Watch(&ctx, watch);
  clock_.Advance(2 * H);
  bool escalated = false;
  grid::v1::WatchResponse r;
  while (!escalated && reader->Read(&r)) {
    for (const auto& e : r.entries()) escalated = escalated || (e.escalation() && e.event().case_id() == id);
  }
  ctx.TryCancel();
  const grpc::Status finished = reader->Finish();
  EXPECT_TRUE(escalated) << "the stream ended: " << finished.error_code() << " " << finished.error_message();
  EXPECT_GT(Count(Get(id), grid::v1::EVENT_TYPE_ESCALATED), 0);
}

TEST_F(CaseWorkTest, RejectionReroutesAndPingPongGoesToTheCommunity) {
  const std::string id = Submit();  // grid 2
  grid::v1::CaseWorkResponse resp;
  auto reject = [&](const std::string& to) {
    grid::v1::RejectRequest r;
    r.set_case_id(id);
    r.set_reason(grid::v1::REJECT_REASON_OTHER_UNIT);
    r.set_suggested_unit_code(to);
    r.set_note("不归我们");
    CallResult res = Work(*work_, &CaseWork::Stub::Reject, r, &resp);
    EXPECT_TRUE(res.status.ok()) << res.status.error_message();
    return resp.case_().unit_code();
  };
  EXPECT_EQ(reject("100001001001"), "100001001001");
  EXPECT_EQ(reject("100001001002"), "100001001002");
  EXPECT_EQ(reject("100001001001"), "100001001");
  EXPECT_TRUE(resp.case_().arbitration());
  const auto g = Get(id);
  EXPECT_EQ(Count(g, grid::v1::EVENT_TYPE_REJECTED), 3);
  EXPECT_EQ(Count(g, grid::v1::EVENT_TYPE_ARBITRATION), 1);
}

}  // namespace
}  // namespace grid::services
