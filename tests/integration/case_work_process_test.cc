// Working a case through the real binaries: gridd as a process, gridctl as
// the only client for the lifecycle (submission to closure through rejection,
// summons, escalation and reopening), every bad flag value of every case-work
// command, and deadlines that fall due while gridd is down (SIGKILL, restart
// with --clock-offset-hours: each fires exactly once).
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/gridd_process.h"
#include "tests/support/grpc_client.h"
#include "tests/support/store_verified.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tools/demo/demo_directory.h"

namespace grid {
namespace {

namespace v1 = grid::v1;
using testing::BinDir;
using ::testing::ElementsAre;
using testing::GriddProcess;
using ::testing::HasSubstr;
using testing::RunCommand;

constexpr int64_t kHour = 3600;

// gridctl against one gridd.
class Ctl {
 public:
  explicit Ctl(const GriddProcess& gridd) : base_(BinDir() + "/gridctl --server " + gridd.target()) {}

  int Run(const std::string& args, std::string* out) const { return RunCommand(base_ + " " + args, out); }

  // `gridctl --json ARGS`, which must succeed, parsed as M.
  template <typename M>
  M Json(const std::string& args) const {
    std::string out;
    M m;
    const int code = Run("--json " + args, &out);
    EXPECT_EQ(code, 0) << args << "\n" << out;
    if (code == 0) {
      auto st = google::protobuf::util::JsonStringToMessage(out, &m);
      EXPECT_TRUE(st.ok()) << args << "\n" << out;
    }
    return m;
  }
  v1::CaseWorkResponse Work(const std::string& args) const { return Json<v1::CaseWorkResponse>(args); }
  v1::GetCaseResponse Get(const std::string& id) const { return Json<v1::GetCaseResponse>("get " + id); }
  // A case-work command that must append exactly one event of `type` and
  // leave the case `status`.
  v1::CaseWorkResponse Step(const std::string& args, v1::EventType type, v1::CaseStatus status) const {
    auto r = Work(args);
    EXPECT_EQ(r.events_size(), 1) << args;
    if (r.events_size() > 0) {
      EXPECT_EQ(r.events(0).type(), type) << args;
    }
    EXPECT_EQ(r.case_().status(), status) << args;
    return r;
  }

 private:
  std::string base_;
};

std::vector<v1::EventType> Types(const google::protobuf::RepeatedPtrField<v1::CaseEvent>& events) {
  std::vector<v1::EventType> out;
  for (const auto& e : events) out.push_back(e.type());
  return out;
}

std::string Submit(const Ctl& ctl, const std::string& key, double lat, double lng, const std::string& extra = "") {
  std::ostringstream cmd;
  cmd.precision(9);
  cmd << "submit --category sanitation.garbage --lat " << lat << " --lon " << lng
      << " --description '小区门口垃圾堆积三天' --idempotency-key " << key << " " << extra;
  return ctl.Json<v1::SubmitCaseResponse>(cmd.str()).case_().id();
}

// The grid the router gives the point (19.9, 110.1), in 瑞溪镇: another grid
// than the demo point's.
constexpr const char* kOtherPoint = "--lat 19.9 --lon 110.1";
std::string OtherGrid(const Ctl& ctl) {
  return ctl.Json<v1::RouteCaseResponse>(std::string("route --category sanitation.garbage ") + kOtherPoint)
      .routing()
      .unit_code();
}

int64_t Seconds(const google::protobuf::Timestamp& t) { return t.seconds(); }

TEST(CaseWorkProcess, GridctlDrivesACaseFromSubmissionToClosure) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0) << "gridd did not start";
  Ctl ctl(gridd);
  const std::string other = OtherGrid(ctl);
  ASSERT_FALSE(other.empty());
  ASSERT_NE(other, std::string(kDemoJinjiangGridCode));
  std::string out;

  const std::string id = Submit(ctl, "work-1", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);
  ASSERT_FALSE(id.empty());
  auto got = ctl.Get(id);
  EXPECT_EQ(got.case_().status(), v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(got.case_().unit_code(), kDemoJinjiangGridCode);
  EXPECT_EQ(got.case_().version(), 2u);
  EXPECT_TRUE(got.case_().deadlines().has_accept_due());

  // 退单: the place is in another grid; the case is re-routed there.
  auto r = ctl.Work("reject " + id + " --reason wrong-location " + kOtherPoint +
                    " --note '地点在瑞溪镇' --expected-version 2");
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_REJECTED, v1::EVENT_TYPE_REROUTED));
  EXPECT_EQ(r.case_().status(), v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(r.case_().unit_code(), other);
  ASSERT_EQ(r.case_().rejections_size(), 1);
  EXPECT_EQ(r.case_().rejections(0).unit_code(), kDemoJinjiangGridCode);
  EXPECT_EQ(r.case_().rejections(0).routed_to(), other);
  EXPECT_EQ(r.events(0).reject_reason(), v1::REJECT_REASON_WRONG_LOCATION);
  EXPECT_EQ(r.case_().version(), 4u);

  // 签收, in the human form: status, version and the event appended.
  ASSERT_EQ(ctl.Run("accept " + id + " --note 签收 --expected-version 4", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("case " + id + "  ACCEPTED  version 5"));
  EXPECT_THAT(out, HasSubstr(other));
  EXPECT_THAT(out, HasSubstr("+ #5 ACCEPTED by"));
  EXPECT_THAT(out, HasSubstr("resolve     due "));

  // 吹哨报到: two departments, 45 minutes to arrive; work starts with the summons.
  r = ctl.Work("summon " + id + " --dept dept.water --dept dept.transport --arrive-within-minutes 45 --note 吹哨");
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_WORK_STARTED, v1::EVENT_TYPE_SUMMONED));
  EXPECT_EQ(r.case_().status(), v1::CASE_STATUS_IN_PROGRESS);
  ASSERT_EQ(r.case_().subtasks_size(), 2);
  for (const auto& t : r.case_().subtasks()) {
    EXPECT_EQ(t.status(), v1::SUB_TASK_STATUS_SUMMONED);
    EXPECT_EQ(Seconds(t.arrive_due()) - Seconds(t.summoned_at()), 45 * 60);
  }
  EXPECT_THAT(r.events(1).department_codes(), ElementsAre("dept.water", "dept.transport"));

  // The case stays open until every summoned department reports done.
  ASSERT_EQ(ctl.Run("resolve " + id + " --note 已处理", &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("SUBTASKS_OPEN"));

  r = ctl.Work("report-in " + id + " --dept dept.water --note 已到场");
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_REPORTED_IN));
  EXPECT_EQ(r.case_().subtasks(0).status(), v1::SUB_TASK_STATUS_ARRIVED);
  r = ctl.Work("report-in " + id + " --dept dept.water --done --note 管道已修");
  EXPECT_EQ(r.case_().subtasks(0).status(), v1::SUB_TASK_STATUS_DONE);
  r = ctl.Work("report-in " + id + " --dept dept.transport --done");
  EXPECT_EQ(r.case_().subtasks(1).status(), v1::SUB_TASK_STATUS_DONE);
  EXPECT_EQ(r.case_().status(), v1::CASE_STATUS_IN_PROGRESS);

  // 党员帮忙: a member of the grid other than the assignee.
  auto unit = ctl.Json<v1::GetUnitResponse>("unit " + other);
  std::string helper;
  for (const auto& m : unit.members()) {
    if (m.id() != r.case_().assignee_member_id()) helper = m.id();
  }
  ASSERT_FALSE(helper.empty());
  r = ctl.Work("helper " + id + " --member " + helper + " --note 帮忙清运");
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_HELPER_ASSIGNED));
  ASSERT_EQ(r.case_().helpers_size(), 1);
  EXPECT_EQ(r.case_().helpers(0).member_id(), helper);

  // Manual escalation: one level up, to the grid's community.
  const std::string community = other.substr(0, 12);
  r = ctl.Work("escalate " + id + " --note '三天未清运，提请社区协调'");
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_ESCALATED));
  EXPECT_EQ(r.case_().escalation_level(), 1u);
  EXPECT_EQ(r.case_().escalation_unit_code(), community);
  EXPECT_FALSE(r.events(0).automatic());
  EXPECT_EQ(r.events(0).from_unit(), other);
  EXPECT_EQ(r.events(0).to_unit(), community);
  EXPECT_EQ(r.events(0).to_level(), v1::UNIT_LEVEL_COMMUNITY);

  r = ctl.Step("resolve " + id + " --note 垃圾已清运", v1::EVENT_TYPE_RESOLVED, v1::CASE_STATUS_RESOLVED);

  // 回访: dissatisfied, so 重办.
  r = ctl.Step("callback " + id + " --dissatisfied --note 又堆起来了", v1::EVENT_TYPE_CALLED_BACK,
               v1::CASE_STATUS_CALLED_BACK);
  EXPECT_FALSE(r.case_().callback().satisfied());
  EXPECT_FALSE(r.events(0).satisfied());
  r = ctl.Step("reopen " + id + " --note 群众不满意重办", v1::EVENT_TYPE_REOPENED, v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(r.case_().unit_code(), other);
  EXPECT_EQ(r.case_().reopen_count(), 1u);
  EXPECT_EQ(r.case_().escalation_level(), 0u);
  EXPECT_FALSE(r.case_().has_callback());

  EXPECT_EQ(ctl.Work("accept " + id).case_().status(), v1::CASE_STATUS_ACCEPTED);
  EXPECT_EQ(ctl.Work("resolve " + id + " --note 已清运并加设垃圾桶").case_().status(), v1::CASE_STATUS_RESOLVED);
  r = ctl.Work("callback " + id + " --satisfied --note 满意");
  EXPECT_TRUE(r.case_().callback().satisfied());
  EXPECT_TRUE(r.events(0).satisfied());
  // A satisfied citizen's case cannot be reopened before it is closed.
  ASSERT_EQ(ctl.Run("reopen " + id + " --note 再来", &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("FAILED_PRECONDITION: ILLEGAL_TRANSITION"));
  r = ctl.Step("close " + id + " --note 办结", v1::EVENT_TYPE_CLOSED, v1::CASE_STATUS_CLOSED);
  EXPECT_TRUE(r.case_().has_closed_at());

  // The whole history, in order, and `get` shows every lifecycle field.
  got = ctl.Get(id);
  EXPECT_THAT(
      Types(got.events()),
      ElementsAre(v1::EVENT_TYPE_SUBMITTED, v1::EVENT_TYPE_ROUTED, v1::EVENT_TYPE_REJECTED, v1::EVENT_TYPE_REROUTED,
                  v1::EVENT_TYPE_ACCEPTED, v1::EVENT_TYPE_WORK_STARTED, v1::EVENT_TYPE_SUMMONED,
                  v1::EVENT_TYPE_REPORTED_IN, v1::EVENT_TYPE_REPORTED_IN, v1::EVENT_TYPE_REPORTED_IN,
                  v1::EVENT_TYPE_HELPER_ASSIGNED, v1::EVENT_TYPE_ESCALATED, v1::EVENT_TYPE_RESOLVED,
                  v1::EVENT_TYPE_CALLED_BACK, v1::EVENT_TYPE_REOPENED, v1::EVENT_TYPE_ACCEPTED, v1::EVENT_TYPE_RESOLVED,
                  v1::EVENT_TYPE_CALLED_BACK, v1::EVENT_TYPE_CLOSED));
  EXPECT_EQ(got.case_().version(), static_cast<uint64_t>(got.events_size()));
  ASSERT_EQ(ctl.Run("get " + id, &out), 0) << out;
  for (const char* want : {"case ", "CLOSED", "lifecycle (version 19)", "rejections", "WRONG_LOCATION", "sub-tasks",
                           "dept.water", "DONE", "helpers", "reopened    1 time(s)", "callback    satisfied",
                           "closed      ", "#12 ESCALATED by", "#19 CLOSED by"}) {
    EXPECT_THAT(out, HasSubstr(want));
  }
  EXPECT_THAT(out, HasSubstr(helper));
  EXPECT_THAT(out, HasSubstr(kDemoJinjiangGridCode.data()));
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  EXPECT_TRUE(testing::StoreVerifiesClean(tmp.Sub("data")));
}

TEST(CaseWorkProcess, TheOtherCommandsWorkFromGridctl) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0);
  Ctl ctl(gridd);
  const std::string a = Submit(ctl, "a", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);
  const std::string b = Submit(ctl, "b", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);
  const std::string c = Submit(ctl, "c", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);

  auto r = ctl.Step("note " + a + " --note '市民来电补充：晚上更严重'", v1::EVENT_TYPE_NOTE, v1::CASE_STATUS_ROUTED);
  const int64_t due_before = Seconds(r.case_().deadlines().resolve_due());
  r = ctl.Work("extend " + a + " --hours 48 --note 批准延期");
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_EXTENDED));
  ASSERT_EQ(r.case_().deadlines().pauses_size(), 1);
  EXPECT_EQ(r.case_().deadlines().pauses(0).reason(), "extension");
  EXPECT_EQ(Seconds(r.case_().deadlines().pauses(0).to()) - Seconds(r.case_().deadlines().pauses(0).from()),
            48 * kHour);
  EXPECT_GT(Seconds(r.case_().deadlines().resolve_due()), due_before);

  ctl.Work("accept " + a);
  r = ctl.Step("start " + a + " --note 开始处理", v1::EVENT_TYPE_WORK_STARTED, v1::CASE_STATUS_IN_PROGRESS);
  r = ctl.Step("wait " + a + " --note 等市民提供照片", v1::EVENT_TYPE_WAITING, v1::CASE_STATUS_WAITING);
  EXPECT_FALSE(r.case_().deadlines().has_resolve_due());  // the clock is paused
  r = ctl.Step("resume " + a, v1::EVENT_TYPE_RESUMED, v1::CASE_STATUS_IN_PROGRESS);
  EXPECT_TRUE(r.case_().deadlines().has_resolve_due());

  const std::string other = OtherGrid(ctl);
  r = ctl.Step("transfer " + a + " --unit " + other + " --note 转瑞溪镇", v1::EVENT_TYPE_TRANSFERRED,
               v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(r.case_().unit_code(), other);

  r = ctl.Step("merge " + b + " --into " + a + " --note 重复来电", v1::EVENT_TYPE_MERGED, v1::CASE_STATUS_MERGED);
  EXPECT_EQ(r.case_().merged_into(), a);
  auto master = ctl.Get(a);
  EXPECT_THAT(master.case_().merged_case_ids(), ElementsAre(b));
  EXPECT_EQ(master.events(master.events_size() - 1).type(), v1::EVENT_TYPE_MERGE_RECEIVED);

  r = ctl.Step("cancel " + c + " --note 市民撤回", v1::EVENT_TYPE_CANCELLED, v1::CASE_STATUS_CANCELLED);
  EXPECT_EQ(r.case_().cancel_reason(), "市民撤回");
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  EXPECT_TRUE(testing::StoreVerifiesClean(tmp.Sub("data")));
}

TEST(CaseWorkProcess, BadFlagValuesExitTwoOrNameTheServerReasonAndChangeNothing) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0);
  Ctl ctl(gridd);
  const std::string id = Submit(ctl, "bad-1", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);
  ASSERT_EQ(ctl.Work("accept " + id).case_().status(), v1::CASE_STATUS_ACCEPTED);
  const auto before = ctl.Get(id);
  const std::string long_note(4001, 'x');

  struct Bad {
    std::string args;
    int exit;
    std::string says;  // in what gridctl printed
  };
  const std::vector<Bad> bad = {
      // Usage errors: exit 2, the server is not called.
      {"accept", 2, "case_id"},
      {"accept " + id + " --expected-version x", 2, "--expected-version"},
      {"accept " + id + " --expected-version -1", 2, "--expected-version"},
      {"accept " + id + " --expected-version 18446744073709551616", 2, "--expected-version"},
      {"accept " + id + " --bogus", 2, "--bogus"},
      {"reject " + id, 2, "--reason"},
      {"reject " + id + " --reason bogus", 2, "bogus"},
      {"reject " + id + " --reason wrong-location --lat 19.9", 2, "--lon"},
      {"reject " + id + " --reason wrong-location --lat north --lon 110", 2, "--lat"},
      {"transfer " + id, 2, "--unit"},
      {"note " + id, 2, "--note"},
      {"start " + id + " --note", 2, "--note"},
      {"resolve " + id, 2, "--note"},
      {"callback " + id, 2, "--satisfied"},
      {"callback " + id + " --satisfied --dissatisfied", 2, "2 were given"},
      {"close " + id + " --expected-version 1.5", 2, "--expected-version"},
      {"reopen " + id, 2, "--note"},
      {"merge " + id, 2, "--into"},
      {"cancel " + id, 2, "--note"},
      {"escalate " + id, 2, "--note"},
      {"summon " + id, 2, "--dept"},
      {"summon " + id + " --dept dept.water --arrive-within-minutes -5", 2, "--arrive-within-minutes"},
      {"summon " + id + " --dept dept.water --arrive-within-minutes soon", 2, "--arrive-within-minutes"},
      {"report-in " + id, 2, "--dept"},
      {"report-in " + id + " --dept", 2, "--dept"},
      {"helper " + id, 2, "--member"},
      {"wait " + id, 2, "--note"},
      {"resume " + id + " --expected-version", 2, "--expected-version"},
      {"extend " + id + " --note x", 2, "--hours"},
      {"extend " + id + " --note x --hours -3", 2, "--hours"},
      {"extend " + id + " --note x --hours many", 2, "--hours"},
      {"extend " + id + " --note x --hours 4294967296", 2, "--hours"},
      {"summon " + id + " --dept dept.water --arrive-within-minutes 4294967296", 2, "--arrive-within-minutes"},
      // Well-formed flags the server refuses: exit 1 with its code and reason.
      {"accept 12ab", 1, "INVALID_ARGUMENT: INVALID_CASE_ID"},
      {"accept " + id + " --expected-version 99", 1, "ABORTED: VERSION_MISMATCH"},
      {"reject " + id + " --reason wrong-location", 1, "INVALID_ARGUMENT: MISSING_CORRECTION"},
      {"reject " + id + " --reason wrong-location --lat 95 --lon 110", 1, "INVALID_ARGUMENT: LATITUDE_OUT_OF_RANGE"},
      {"reject " + id + " --reason other-unit", 1, "INVALID_ARGUMENT: MISSING_UNIT"},
      {"reject " + id + " --reason other-unit --unit nowhere", 1, "INVALID_ARGUMENT: UNKNOWN_UNIT"},
      {"reject " + id + " --reason wrong-category", 1, "INVALID_ARGUMENT: MISSING_CATEGORY"},
      {"reject " + id + " --reason wrong-category --category no.such", 1, "INVALID_ARGUMENT: UNKNOWN_CATEGORY"},
      {"transfer " + id + " --unit nowhere", 1, "INVALID_ARGUMENT: UNKNOWN_UNIT"},
      {"note " + id + " --note ''", 1, "INVALID_ARGUMENT: MISSING_NOTE"},
      {"note " + id + " --note " + long_note, 1, "INVALID_ARGUMENT: NOTE_TOO_LONG"},
      {"start " + id + " --note " + long_note, 1, "INVALID_ARGUMENT: NOTE_TOO_LONG"},
      {"resolve " + id + " --note ''", 1, "INVALID_ARGUMENT: MISSING_NOTE"},
      {"callback " + id + " --satisfied", 1, "FAILED_PRECONDITION: ILLEGAL_TRANSITION"},
      {"close " + id, 1, "FAILED_PRECONDITION: ILLEGAL_TRANSITION"},
      {"reopen " + id + " --note ''", 1, "INVALID_ARGUMENT: MISSING_NOTE"},
      {"merge " + id + " --into " + id, 1, "INVALID_ARGUMENT: SELF_MERGE"},
      {"merge " + id + " --into master", 1, "INVALID_ARGUMENT: INVALID_CASE_ID"},
      {"cancel " + id + " --note ''", 1, "INVALID_ARGUMENT: MISSING_NOTE"},
      {"escalate " + id + " --note ''", 1, "INVALID_ARGUMENT: MISSING_NOTE"},
      {"summon " + id + " --dept dept.nope", 1, "INVALID_ARGUMENT: UNKNOWN_DEPARTMENT"},
      {"summon " + id + " --dept dept.water --dept dept.water", 1, "INVALID_ARGUMENT: DUPLICATE_DEPARTMENT"},
      {"summon " + id + " --dept dept.water --arrive-within-minutes 100000", 1,
       "INVALID_ARGUMENT: INVALID_ARRIVE_WITHIN"},
      {"report-in " + id + " --dept dept.water", 1, "FAILED_PRECONDITION: NOT_SUMMONED"},
      {"report-in " + id + " --dept ''", 1, "INVALID_ARGUMENT: MISSING_DEPARTMENT"},
      {"helper " + id + " --member nobody", 1, "INVALID_ARGUMENT: UNKNOWN_MEMBER"},
      {"wait " + id + " --note ''", 1, "INVALID_ARGUMENT: MISSING_NOTE"},
      {"resume " + id, 1, "FAILED_PRECONDITION: ILLEGAL_TRANSITION"},
      {"extend " + id + " --note x --hours 0", 1, "INVALID_ARGUMENT: INVALID_EXTENSION"},
      {"extend " + id + " --note x --hours 721", 1, "INVALID_ARGUMENT: INVALID_EXTENSION"},
      {"extend " + id + " --note '' --hours 5", 1, "INVALID_ARGUMENT: MISSING_NOTE"},
  };
  for (const auto& b : bad) {
    std::string out;
    EXPECT_EQ(ctl.Run(b.args, &out), b.exit) << b.args << "\n" << out;
    EXPECT_THAT(out, HasSubstr(b.says)) << b.args;
  }
  // Nothing changed: the same version and the same history.
  const auto after = ctl.Get(id);
  EXPECT_EQ(after.case_().version(), before.case_().version());
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());

  // A server that cannot be reached: exit 3.
  std::string out;
  EXPECT_EQ(RunCommand(BinDir() + "/gridctl --server 127.0.0.1:1 --timeout 5 accept " + id, &out), 3) << out;
  EXPECT_THAT(out, HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  EXPECT_TRUE(testing::StoreVerifiesClean(tmp.Sub("data")));
}

// ---- Deadlines across SIGKILL ------------------------------------------------

// Automatic ESCALATED events for the accept deadline.
int AcceptEscalations(const v1::GetCaseResponse& got) {
  int n = 0;
  for (const auto& e : got.events()) {
    if (e.type() == v1::EVENT_TYPE_ESCALATED && e.automatic() && e.deadline_kind() == v1::DEADLINE_KIND_ACCEPT) ++n;
  }
  return n;
}
bool HasEvent(const v1::GetCaseResponse& got, v1::EventType type) {
  for (const auto& e : got.events()) {
    if (e.type() == type) return true;
  }
  return false;
}

// Reads the cases until `done` holds for all of them (the scheduler fires
// asynchronously after start). Between two looks it waits for the next
// change on the feed (every case event from the oldest on, then live ones and
// heartbeats), not for time to pass; false after 60 s.
bool PollCases(testing::Clients& clients, const std::vector<std::string>& ids,
               const std::function<bool(const v1::GetCaseResponse&)>& done, std::vector<v1::GetCaseResponse>* got) {
  auto feed = v1::EscalationFeed::NewStub(clients.channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchRequest every_change;
  every_change.set_all_changes(true);
  auto changes = feed->Watch(&ctx, every_change);
  bool all = false;
  v1::WatchResponse change;
  do {
    got->clear();
    all = true;
    for (const auto& id : ids) {
      v1::GetCaseResponse r;
      if (!testing::GetCase(*clients.query, id, &r).status.ok()) {
        all = false;
        break;
      }
      all = all && done(r);
      got->push_back(r);
    }
  } while (!all && got->size() == ids.size() && changes->Read(&change));
  ctx.TryCancel();
  (void)changes->Finish();
  return all;
}

std::string OffsetFlag(double hours) {
  std::ostringstream s;
  s << hours;
  return s.str();
}

TEST(CaseWorkProcess, DeadlinesThatFellDueWhileGriddWasDownFireOnceEach) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data");
  // Calendar time, so the dues do not depend on the day the test runs:
  // normal cases 2 h to accept, the urgent one 3 h.
  {
    std::ofstream(tmp.Sub("policy.txt")) << "warn 0.8\n"
                                            "rule general normal calendar 2h 240h\n"
                                            "rule general urgent calendar 3h 240h\n"
                                            "rule general * calendar 2h 240h\n";
  }
  const std::vector<std::string> policy = {"--deadline-policy", tmp.Sub("policy.txt")};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), policy.begin(), policy.end());
    return extra;
  };

  // Run 1, on the wall clock: five normal cases due in 2 h, one urgent case due in 3 h.
  std::vector<std::string> normal;
  std::string urgent;
  {
    GriddProcess gridd(data, tmp.Sub("log1"), with({}));
    ASSERT_GT(gridd.port(), 0);
    testing::Clients clients(gridd.target());
    for (int i = 0; i < 6; ++i) {
      const auto req = testing::Submission("sanitation.garbage")
                           .Key("d" + std::to_string(i))
                           .Description("垃圾堆积")
                           .At(kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng)
                           .NoCitizen()
                           .Priority(i == 5 ? v1::PRIORITY_URGENT : v1::PRIORITY_NORMAL)
                           .Build();
      v1::SubmitCaseResponse resp;
      ASSERT_TRUE(testing::Submit(*clients.intake, req, &resp).status.ok());
      const auto& d = resp.case_().deadlines();
      EXPECT_EQ(d.accept_due().seconds() - d.accept_start().seconds(), (i == 5 ? 3 : 2) * kHour);
      (i == 5 ? urgent : normal.emplace_back()) = resp.case_().id();
    }
    EXPECT_EQ(gridd.Kill(SIGKILL), 128 + SIGKILL);
  }

  // Run 2, "2.5 hours later": every normal case's accept due (and its
  // warning) passed while gridd was down; the urgent one only reached its warning.
  std::vector<v1::GetCaseResponse> after_run2;
  {
    GriddProcess gridd(data, tmp.Sub("log2"), with({"--clock-offset-hours", "2.5"}));
    ASSERT_GT(gridd.port(), 0);
    testing::Clients clients(gridd.target());
    ASSERT_TRUE(PollCases(
        clients, normal, [](const auto& g) { return AcceptEscalations(g) >= 1; }, &after_run2));
    std::vector<v1::GetCaseResponse> u;
    ASSERT_TRUE(PollCases(
        clients, {urgent}, [](const auto& g) { return HasEvent(g, v1::EVENT_TYPE_DEADLINE_WARNING); }, &u));
    EXPECT_EQ(AcceptEscalations(u[0]), 0);
    for (const auto& g : after_run2) {
      EXPECT_EQ(AcceptEscalations(g), 1) << g.case_().id();
      const auto& e = g.events(g.events_size() - 1);
      EXPECT_EQ(e.type(), v1::EVENT_TYPE_ESCALATED);
      EXPECT_EQ(e.from_unit(), kDemoJinjiangGridCode);
      EXPECT_EQ(e.to_unit(), kDemoJinjiangCommunityCode);
      EXPECT_EQ(e.to_level(), v1::UNIT_LEVEL_COMMUNITY);
      EXPECT_EQ(e.actor_role(), "system");
      EXPECT_EQ(g.case_().escalation_level(), 1u);
      EXPECT_TRUE(g.case_().deadlines().accept_overdue());
      EXPECT_EQ(g.case_().status(), v1::CASE_STATUS_ROUTED);
    }
    std::string out;
    ASSERT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() + " get " + normal[0], &out), 0);
    EXPECT_THAT(out, HasSubstr("OVERDUE"));
    EXPECT_THAT(out, HasSubstr("level 1, at " + std::string(kDemoJinjiangCommunityCode)));
    EXPECT_THAT(out, HasSubstr("ESCALATED (automatic) ACCEPT deadline"));
    EXPECT_EQ(gridd.Kill(SIGKILL), 128 + SIGKILL);
  }

  // Run 3, "3.5 hours later": only the urgent case's due has passed since.
  // Once it has fired (the scheduler reads the index in due order, so the
  // older dues would have fired again first), the normal cases must be as
  // they were: no second escalation for the same due.
  {
    GriddProcess gridd(data, tmp.Sub("log3"), with({"--clock-offset-hours", OffsetFlag(3.5)}));
    ASSERT_GT(gridd.port(), 0);
    testing::Clients clients(gridd.target());
    std::vector<v1::GetCaseResponse> u;
    ASSERT_TRUE(PollCases(
        clients, {urgent}, [](const auto& g) { return AcceptEscalations(g) >= 1; }, &u));
    EXPECT_EQ(AcceptEscalations(u[0]), 1);
    std::vector<v1::GetCaseResponse> now;
    ASSERT_TRUE(PollCases(
        clients, normal, [](const auto&) { return true; }, &now));
    for (size_t i = 0; i < now.size(); ++i) {
      EXPECT_EQ(AcceptEscalations(now[i]), 1) << normal[i];
      EXPECT_EQ(now[i].SerializeAsString(), after_run2[i].SerializeAsString()) << normal[i];
    }
    EXPECT_EQ(gridd.Kill(SIGKILL), 128 + SIGKILL);
  }
  // Three runs, two crashes, deadlines fired across them: still consistent.
  EXPECT_TRUE(testing::StoreVerifiesClean(data));
}

// ---- gridd's flags: bad values --------------------------------------------------

// Runs `gridd` with each (flags, says) pair: every one must exit 2 with a
// message containing `says`, and must not create the data directory `data`.
void ExpectEachRefused(const std::string& gridd, const std::vector<std::pair<std::string, std::string>>& bad,
                       const std::string& data) {
  for (const auto& [flags, says] : bad) {
    std::string out;
    EXPECT_EQ(RunCommand(gridd + flags, &out), 2) << flags << "\n" << out;
    EXPECT_THAT(out, HasSubstr(says)) << flags;
    EXPECT_FALSE(std::filesystem::exists(data)) << flags;
  }
}

// ---- gridd's deadline flags ----------------------------------------------------

TEST(GriddDeadlineFlags, BadValuesExitTwoAndCreateNothing) {
  testing::TempDir tmp;
  { std::ofstream(tmp.Sub("bad-policy.txt")) << "rule general normal calendar 2h\n"; }
  { std::ofstream(tmp.Sub("bad-calendar.txt")) << "hours 25:00-26:00\n"; }
  const std::string gridd = BinDir() + "/gridd --listen 127.0.0.1:0 --data " + tmp.Sub("d") + " ";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--deadline-policy " + tmp.Sub("missing.txt"), "--deadline-policy"},
      {"--deadline-policy " + tmp.Sub("bad-policy.txt"), "MALFORMED_POLICY"},
      {"--deadline-policy " + tmp.Sub("bad-policy.txt"), "line 1"},
      {"--calendar " + tmp.Sub("missing.txt"), "--calendar"},
      {"--calendar " + tmp.Sub("bad-calendar.txt"), "MALFORMED_CALENDAR"},
      {"--ping-pong-limit 1", "--ping-pong-limit"},
      {"--ping-pong-limit 101", "--ping-pong-limit"},
      {"--ping-pong-limit often", "--ping-pong-limit"},
      {"--clock-offset-hours soon", "--clock-offset-hours"},
      {"--clock-offset-hours nan", "--clock-offset-hours"},
      {"--clock-offset-hours inf", "--clock-offset-hours"},
      {"--clock-offset-hours 90000", "--clock-offset-hours"},
      {"--clock-offset-hours -90000", "--clock-offset-hours"},
      {"--clock-offset-hours 3h", "--clock-offset-hours"},
  };
  ExpectEachRefused(gridd, bad, tmp.Sub("d"));
}

// ---- gridd's feed flags ----------------------------------------------------------

TEST(GriddFeedFlags, BadValuesExitTwoAndCreateNothing) {
  testing::TempDir tmp;
  const std::string gridd = BinDir() + "/gridd --listen 127.0.0.1:0 --data " + tmp.Sub("d") + " ";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--feed-retention-days -1", "--feed-retention-days"},
      {"--feed-retention-days forever", "--feed-retention-days"},
      {"--feed-buffer 0", "--feed-buffer"},
      {"--feed-buffer 2000000", "--feed-buffer"},
      {"--feed-heartbeat-ms -5", "--feed-heartbeat-ms"},
      {"--feed-heartbeat-ms 5s", "--feed-heartbeat-ms"},
      {"--feed-dispatch-threads 0", "--feed-dispatch-threads"},
      {"--feed-dispatch-threads 65", "--feed-dispatch-threads"},
      {"--feed-dispatch-threads many", "--feed-dispatch-threads"},
  };
  ExpectEachRefused(gridd, bad, tmp.Sub("d"));
}

// The local instant `hour`:00 of a 2026 date in Beijing time (UTC+8), as
// seconds since the epoch.
int64_t Beijing(int month, int day, int hour, int minute = 0) {
  using namespace std::chrono;
  return duration_cast<seconds>(sys_days{year{2026} / month / day}.time_since_epoch()).count() + (hour - 8) * kHour +
         minute * 60;
}

// Hours from now to `target` (seconds since the epoch), for --clock-offset-hours.
std::string HoursUntil(int64_t target) {
  const auto now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::ostringstream s;
  s.precision(12);
  s << (static_cast<double>(target) * 1e6 - static_cast<double>(now)) / 3.6e9;
  return s.str();
}

TEST(GriddDeadlineFlags, PolicyEmbeddedCalendarAndClockOffsetSetTheDues) {
  testing::TempDir tmp;
  { std::ofstream(tmp.Sub("policy.txt")) << "warn 0.5\nrule general * working 1h 2h\n"; }
  // The clock moved to 10:00 on 国庆节 (2026-10-01, a Thursday): on the
  // embedded 2026 calendar no working time passes until the holiday ends on
  // Thursday 2026-10-08 at 08:30, so 1 working hour to accept ends at 09:30.
  {
    GriddProcess gridd(
        tmp.Sub("data1"), tmp.Sub("log1"),
        {"--deadline-policy", tmp.Sub("policy.txt"), "--clock-offset-hours", HoursUntil(Beijing(10, 1, 10))});
    ASSERT_GT(gridd.port(), 0);
    Ctl ctl(gridd);
    const std::string id = Submit(ctl, "holiday", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);
    const auto c = ctl.Get(id).case_();
    EXPECT_NEAR(static_cast<double>(c.created_at().seconds()), static_cast<double>(Beijing(10, 1, 10)), 120);
    EXPECT_TRUE(c.deadlines().working_time());
    EXPECT_EQ(c.deadlines().accept_due().seconds(), Beijing(10, 8, 9, 30));
    EXPECT_EQ(c.deadlines().accept_warn_at().seconds(), Beijing(10, 8, 9, 0));
    EXPECT_EQ(c.deadlines().resolve_due().seconds(), Beijing(10, 8, 10, 30));
    std::string log;
    std::ifstream in(tmp.Sub("log1"));
    std::getline(in, log, '\0');
    EXPECT_THAT(log, HasSubstr("calendar data/calendar/cn-2026.txt (embedded)"));
    EXPECT_THAT(log, HasSubstr("DRILL"));
  }
  // The same from a --config file, with a calendar where every hour of every
  // day is working time: the due is exactly one hour after the start. And a
  // ping-pong limit of 2: the second return between two grids goes to their
  // common parent (with the default, 3, it would bounce back).
  {
    std::ofstream(tmp.Sub("always.txt")) << "hours 00:00-24:00\nweekend\n";
    std::ofstream(tmp.Sub("gridd.toml")) << "deadline-policy = \"" << tmp.Sub("policy.txt") << "\"\n"
                                         << "calendar = \"" << tmp.Sub("always.txt") << "\"\n"
                                         << "clock-offset-hours = " << HoursUntil(Beijing(10, 1, 10)) << "\n"
                                         << "ping-pong-limit = 2\n";
  }
  GriddProcess gridd(tmp.Sub("data2"), tmp.Sub("log2"), {"--config", tmp.Sub("gridd.toml")});
  ASSERT_GT(gridd.port(), 0);
  Ctl ctl(gridd);
  const std::string id = Submit(ctl, "always", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);
  const auto c = ctl.Get(id).case_();
  EXPECT_EQ(c.deadlines().accept_due().seconds() - c.deadlines().accept_start().seconds(), kHour);
  EXPECT_NEAR(static_cast<double>(c.created_at().seconds()), static_cast<double>(Beijing(10, 1, 10)), 120);

  const std::string other = OtherGrid(ctl);
  const std::string home(kDemoJinjiangGridCode);
  auto r = ctl.Work("reject " + id + " --reason other-unit --unit " + other);
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_REJECTED, v1::EVENT_TYPE_REROUTED));
  r = ctl.Work("reject " + id + " --reason other-unit --unit " + home);
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_REJECTED, v1::EVENT_TYPE_ARBITRATION));
  EXPECT_EQ(r.case_().unit_code(), std::string(kDemoCountyCode));
  EXPECT_TRUE(r.case_().arbitration());
}

TEST(GriddDeadlineFlags, TheDefaultPingPongLimitLetsACaseBounceTwice) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0);
  Ctl ctl(gridd);
  const std::string id = Submit(ctl, "bounce", kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng);
  const std::string other = OtherGrid(ctl);
  ctl.Work("reject " + id + " --reason other-unit --unit " + other);
  auto r = ctl.Work("reject " + id + " --reason other-unit --unit " + std::string(kDemoJinjiangGridCode));
  EXPECT_THAT(Types(r.events()), ElementsAre(v1::EVENT_TYPE_REJECTED, v1::EVENT_TYPE_REROUTED));
  EXPECT_EQ(r.case_().unit_code(), kDemoJinjiangGridCode);
}

}  // namespace
}  // namespace grid
