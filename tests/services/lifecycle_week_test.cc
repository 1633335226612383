// A week of cases in milliseconds: the real server, the 2026 calendar (the
// week runs into the National Day holiday), working-time deadlines, random
// work on random cases, pauses, escalations up to the county, a restart in
// the middle, and after each simulated hour every deadline due has fired.
// At the end the records, their events, the feed and the due-time index must
// agree with each other exactly.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "engine/lifecycle.h"
#include "engine/timestamp.h"
#include "services/server.h"
#include "storage/case_index.h"
#include "storage/keys.h"
#include "tests/support/calendar.h"
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

constexpr Micros H = kMicrosPerHour;

class LifecycleWeek : public testing::ServerFixture {
 protected:
  LifecycleWeek() {
    // Monday 2026-09-28 08:00 Beijing time: three working days, then the holiday.
    clock_.Set(calendar_.At(
        std::chrono::year_month_day{std::chrono::year(2026), std::chrono::month(9), std::chrono::day(28)}, 8, 0));
  }
  void SetUp() override {
    // Working time for the usual cases, calendar hours for emergencies.
    auto policy =
        ParseDeadlinePolicy("week", "rule general * working 2h 14h\nrule general emergency calendar 30m 2h\n");
    ASSERT_TRUE(policy.ok());
    config_.deadline_policy = *policy;
    config_.calendar = calendar_;
  }

  WorkingCalendar calendar_ = testing::LoadCn2026();
};

TEST_F(LifecycleWeek, RecordsEventsFeedAndTimersAgreeAfterAWeek) {
  StartServer();
  std::mt19937_64 rng(20261128);
  std::vector<std::string> ids;
  std::map<std::string, int> ok_by_kind;
  const Micros week_start = clock_.NowMicros();
  for (int hour = 0; hour < 7 * 24; ++hour) {
    if (hour == 80) {  // a restart in the middle, with time passing while down
      StopServer();
      clock_.Advance(2 * H);
      StartServer();
      hour += 2;
    }
    // A few new cases an hour, in both grids, some of them emergencies.
    const int fresh = static_cast<int>(rng() % 4);
    for (int i = 0; i < fresh; ++i) {
      // (rng() is drawn in this order: category, priority, grid)
      testing::Submission submission(rng() % 5 == 0 ? "water.burst" : "sanitation");
      submission.Description("第" + std::to_string(hour) + "小时的诉求").NoCitizen();
      submission.Priority(rng() % 6 == 0 ? grid::v1::PRIORITY_EMERGENCY : grid::v1::PRIORITY_NORMAL);
      submission.At(20.005, rng() % 2 ? 110.005 : 110.015);
      const grid::v1::SubmitCaseRequest& r = submission.Build();
      grid::v1::SubmitCaseResponse resp;
      ASSERT_TRUE(testing::Submit(*clients_->intake, r, &resp).status.ok());
      ids.push_back(resp.case_().id());
    }
    // Random work on random cases; refusals (illegal in the state reached) are fine.
    for (int i = 0; i < 12 && !ids.empty(); ++i) {
      const std::string& id = ids[rng() % ids.size()];
      grid::v1::CaseWorkResponse resp;
      CallResult r;
      std::string kind;
      switch (rng() % 9) {
        case 0: {
          grid::v1::AcceptRequest a;
          a.set_case_id(id);
          r = Work(*work_, &CaseWork::Stub::Accept, a, &resp);
          kind = "accept";
          break;
        }
        case 1: {
          grid::v1::ResolveRequest a;
          a.set_case_id(id);
          a.set_note("处理完毕");
          r = Work(*work_, &CaseWork::Stub::Resolve, a, &resp);
          kind = "resolve";
          break;
        }
        case 2: {
          grid::v1::WaitRequest a;
          a.set_case_id(id);
          a.set_note("等待市民");
          r = Work(*work_, &CaseWork::Stub::Wait, a, &resp);
          kind = "wait";
          break;
        }
        case 3: {
          grid::v1::ResumeRequest a;
          a.set_case_id(id);
          r = Work(*work_, &CaseWork::Stub::Resume, a, &resp);
          kind = "resume";
          break;
        }
        case 4: {
          grid::v1::ReportInRequest a;
          a.set_case_id(id);
          a.set_department_code("dept.water");
          a.set_done(rng() % 2 == 0);
          r = Work(*work_, &CaseWork::Stub::ReportIn, a, &resp);
          kind = "report_in";
          break;
        }
        case 5: {
          grid::v1::RecordCallbackRequest a;
          a.set_case_id(id);
          a.set_satisfied(rng() % 3 != 0);
          r = Work(*work_, &CaseWork::Stub::RecordCallback, a, &resp);
          kind = "callback";
          break;
        }
        case 6: {
          grid::v1::CloseRequest a;
          a.set_case_id(id);
          r = Work(*work_, &CaseWork::Stub::Close, a, &resp);
          kind = "close";
          break;
        }
        case 7: {
          grid::v1::ReopenRequest a;
          a.set_case_id(id);
          a.set_note("市民不满意");
          r = Work(*work_, &CaseWork::Stub::Reopen, a, &resp);
          kind = "reopen";
          break;
        }
        default: {
          grid::v1::RejectRequest a;
          a.set_case_id(id);
          a.set_reason(grid::v1::REJECT_REASON_OTHER_UNIT);
          a.set_suggested_unit_code(rng() % 2 ? "100001001001" : "100001001002");
          r = Work(*work_, &CaseWork::Stub::Reject, a, &resp);
          kind = "reject";
          break;
        }
      }
      if (r.status.ok()) {
        ++ok_by_kind[kind];
      } else {
        ASSERT_TRUE(r.reason == "ILLEGAL_TRANSITION" || r.reason == "SUBTASKS_OPEN" || r.reason == "NOT_SUMMONED" ||
                    r.reason == "ALREADY_ARRIVED" || r.reason == "NO_ARBITER")
            << kind << ": " << r.reason << " " << r.status.error_message();
      }
    }
    clock_.Advance(H);
    server_->FireDueDeadlines();
  }
  server_->FireDueDeadlines();
  const Micros now = clock_.NowMicros();
  ASSERT_GT(ids.size(), 100u);
  for (const char* kind : {"accept", "resolve", "wait", "resume", "callback", "close", "reopen", "reject"}) {
    EXPECT_GT(ok_by_kind[kind], 0) << kind << " never succeeded: the simulation does not cover it";
  }

  // Nothing due is left behind, and every index entry is exactly what its record asks for.
  storage::Store* store = server_->store();
  auto due = store->DueUpTo(std::numeric_limits<uint64_t>::max(), 1u << 20);
  ASSERT_TRUE(due.ok());
  std::multiset<std::tuple<uint64_t, uint64_t, int, uint32_t, bool>> indexed, expected;
  for (const auto& d : *due) {
    EXPECT_GT(static_cast<Micros>(d.due_micros), now) << "a timer due before now did not fire";
    indexed.emplace(d.due_micros, d.case_id, d.kind, d.subtask, d.warning);
  }
  int escalations = 0, warnings = 0, to_county = 0, working_time_cases = 0;
  uint64_t events_total = 0;
  for (const std::string& id : ids) {
    grid::v1::GetCaseResponse g;
    ASSERT_TRUE(testing::GetCase(*clients_->query, id, &g).status.ok());
    const auto& c = g.case_();
    for (const PendingTimer& t : PendingTimers(c)) {
      expected.emplace(static_cast<uint64_t>(t.due), *ParseCaseId(id), static_cast<int>(t.kind), t.subtask, t.warning);
    }
    ASSERT_EQ(g.events_size(), static_cast<int>(c.version()));
    // Working-time dues land on working days (never inside the National Day holiday).
    if (c.deadlines().working_time() && c.deadlines().has_resolve_due()) {
      EXPECT_TRUE(calendar_.IsWorkingDay(calendar_.LocalDate(FromTimestamp(c.deadlines().resolve_due()))))
          << "case " << id;
      ++working_time_cases;
    }
    std::set<std::pair<int, Micros>> fired;  // (kind, instant) of automatic events: never twice
    for (int i = 0; i < g.events_size(); ++i) {
      const auto& e = g.events(i);
      EXPECT_EQ(e.seq(), static_cast<uint64_t>(i + 1));
      EXPECT_EQ(e.case_version(), e.seq());
      if (e.automatic() &&
          (e.type() == grid::v1::EVENT_TYPE_ESCALATED || e.type() == grid::v1::EVENT_TYPE_DEADLINE_WARNING)) {
        EXPECT_TRUE(fired.emplace(e.deadline_kind() * 10 + e.type(), FromTimestamp(e.at())).second)
            << "case " << id << " fired the same deadline twice at " << FromTimestamp(e.at());
        // A deadline fires within the hour after it fell due (the simulation's step), never before.
        EXPECT_LE(FromTimestamp(e.at()), now);
      }
      escalations += e.type() == grid::v1::EVENT_TYPE_ESCALATED;
      warnings += e.type() == grid::v1::EVENT_TYPE_DEADLINE_WARNING;
      to_county += e.type() == grid::v1::EVENT_TYPE_ESCALATED && e.to_level() == grid::v1::UNIT_LEVEL_COUNTY;
    }
    events_total += static_cast<uint64_t>(g.events_size());
  }
  EXPECT_EQ(indexed, expected);
  EXPECT_GT(working_time_cases, 0);
  EXPECT_GT(escalations, 0);
  EXPECT_GT(warnings, 0);
  EXPECT_GT(to_county, 0) << "no case was escalated all the way to the county";
  // The feed holds every event exactly once, in cursor order.
  auto feed = store->ReadFeed(0, 1u << 22);
  ASSERT_TRUE(feed.ok());
  EXPECT_EQ(feed->size(), events_total);
  for (size_t i = 0; i < feed->size(); ++i) ASSERT_EQ((*feed)[i].cursor(), i + 1);
  EXPECT_GE(now - week_start, 7 * 24 * H);
}

}  // namespace
}  // namespace grid::services
