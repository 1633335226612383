// tools/crashtest as a process: a short run with ten SIGKILLs under load
// must lose and duplicate nothing, and so must a short cluster run that kills
// the shard's leader three times (with every failover under 30 s); its
// checker, given a log that claims more than the store holds, must say so;
// bad flags exit 2 and create nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/gridd_process.h"
#include "tests/support/temp_dir.h"

namespace grid {
namespace {

using testing::BinDir;
using ::testing::HasSubstr;
using testing::RunCommand;

std::string Crashtest() { return BinDir() + "/crashtest/crashtest --gridd " + BinDir() + "/gridd"; }

// The CI variant of the long run in BENCHMARKS.md: ten kills, 16 callers.
TEST(Crashtest, TenKillsUnderLoadLoseAndDuplicateNothing) {
  std::string out;
  const int code = RunCommand(
      Crashtest() + " --kills 10 --callers 16 --seed 7 --verify-cmd '" + BinDir() + "/gridd --verify --data {}'", &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("kills          10 "));
  EXPECT_THAT(out, HasSubstr("lost           0 "));
  EXPECT_THAT(out, HasSubstr("duplicated     0 "));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("PROBLEM")));
  // The run did what it claims: deadlines fired and subscribers checked.
  EXPECT_THAT(out, ::testing::ContainsRegex("deadlines      [1-9][0-9]* escalations fired by deadlines"));
  EXPECT_THAT(out, ::testing::ContainsRegex("subscriber     469023: [1-9][0-9]* escalations"));
  // The store the kills left behind verifies clean (storage/verify.h).
  EXPECT_THAT(out, HasSubstr("verify         exit 0"));
  EXPECT_THAT(out, HasSubstr("crashtest: OK"));
}

// The CI variant of the failover run in BENCHMARKS.md ("Failover of a
// replicated shard"): 3 etcd members and 3 replicas of its own, the leader
// SIGKILLed three times under 8 callers. A failover over 30 s (kill to the
// next acknowledged SubmitCase) fails the run, as does any loss, duplicate,
// subscriber gap, or replicas that end at different positions or stores.
TEST(Crashtest, ClusterThreeLeaderKillsLoseAndDuplicateNothing) {
  std::string out;
  const int code = RunCommand(Crashtest() +
                                  " --cluster --kills 3 --callers 8 --seed 7 --lease-ttl-s 2 --kill-min-s 1 "
                                  "--kill-max-s 2 --restart-pause-s 0.5 --max-failover-s 30",
                              &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("kills          3 "));
  EXPECT_THAT(out, ::testing::ContainsRegex("failover       p50 [0-9.]+ s  max [0-9.]+ s"));
  EXPECT_THAT(out, HasSubstr("lost           0 "));
  EXPECT_THAT(out, HasSubstr("duplicated     0 "));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("PROBLEM")));
  // Acknowledged work crossed the failovers, and the subscribers were checked.
  EXPECT_THAT(out, ::testing::ContainsRegex("acknowledged   [1-9][0-9]*: "));
  EXPECT_THAT(out, ::testing::ContainsRegex("subscriber     469023: [0-9]+ escalations"));
  EXPECT_THAT(out, HasSubstr("(the same on every replica)"));
  for (const char* replica : {"r1", "r2", "r3"}) {
    EXPECT_THAT(out, ::testing::ContainsRegex(std::string("verify ") + replica + " +exit 0: [1-9][0-9]* cases"));
  }
  EXPECT_THAT(out, HasSubstr("the same store on every replica"));
  EXPECT_THAT(out, HasSubstr("crashtest: OK"));
}

// The first "S" line of a log: key and case id.
std::pair<std::string, std::string> FirstSubmit(const std::string& log) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("S\t", 0) != 0) continue;
    std::istringstream f(line);
    std::string s, key, id;
    std::getline(f, s, '\t');
    std::getline(f, key, '\t');
    std::getline(f, id, '\t');
    return {key, id};
  }
  return {};
}

TEST(Crashtest, CheckerReportsAcknowledgementsTheStoreDoesNotHold) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data"), log = tmp.Sub("acks.log");
  std::string out;
  ASSERT_EQ(RunCommand(
                Crashtest() + " --kills 2 --callers 4 --kill-min-s 0.5 --kill-max-s 1 --data " + data + " --log " + log,
                &out),
            0)
      << out;
  // The kept run checks clean on its own...
  ASSERT_EQ(RunCommand(Crashtest() + " --check-log " + log + " --data " + data, &out), 0) << out;
  const auto [key, id] = FirstSubmit(log);
  ASSERT_FALSE(id.empty()) << "no acknowledged case in " << log;
  // ...and not once the log claims a case the store never had, a transition
  // beyond a case's history, and a second case for a key.
  {
    std::ofstream append(log, std::ios::app);
    append << "S\tforged-key\t1000000000000000\t2\n";
    append << "W\t" << id << "\tclose\t998\t999\tforged note\t999:11\n";
    append << "S\t" << key << "\t1000000000000001\t2\n";
  }
  EXPECT_EQ(RunCommand(Crashtest() + " --check-log " + log + " --data " + data, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("acknowledged case 1000000000000000 (key forged-key) is not in the store"));
  EXPECT_THAT(out, HasSubstr("acknowledged close of case " + id + " (version 999) is not in its history"));
  EXPECT_THAT(out, HasSubstr("idempotency key " + key + " was answered with two cases"));
  EXPECT_THAT(out, HasSubstr("lost           3  (cases 2, transitions 1, deadlines 0, feed 0, watch 0)"));
  EXPECT_THAT(out, HasSubstr("duplicated     1  (cases 1, "));
  EXPECT_THAT(out, HasSubstr("crashtest: FAILED"));
}

TEST(Crashtest, CheckerReportsASubscriberThatMissedOrRepeatedAnEscalation) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data"), log = tmp.Sub("acks.log");
  std::string out;
  ASSERT_EQ(RunCommand(
                Crashtest() + " --kills 2 --callers 4 --kill-min-s 0.5 --kill-max-s 1 --data " + data + " --log " + log,
                &out),
            0)
      << out;
  // Drop the county subscriber's first received escalation and repeat its
  // second one under a later cursor.
  std::ifstream in(log);
  std::ostringstream kept;
  std::string line, second;
  int seen = 0;
  while (std::getline(in, line)) {
    if (line.rfind("F\t469023\t", 0) == 0 && ++seen == 1) continue;
    if (line.rfind("F\t469023\t", 0) == 0 && seen == 2) second = line;
    kept << line << "\n";
  }
  ASSERT_FALSE(second.empty()) << "the county subscriber received fewer than two escalations";
  std::istringstream f(second);
  std::string tag, scope, cursor, rest;
  std::getline(f, tag, '\t');
  std::getline(f, scope, '\t');
  std::getline(f, cursor, '\t');
  std::getline(f, rest);
  kept << "F\t469023\t" << std::stoull(cursor) + 1000000 << "\t" << rest << "\n";
  std::ofstream(log) << kept.str();
  EXPECT_EQ(RunCommand(Crashtest() + " --check-log " + log + " --data " + data, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("subscriber 469023 never received escalation cursor"));
  EXPECT_THAT(out, HasSubstr("lost           2  (cases 0, transitions 0, deadlines 0, feed 0, watch 2)"));
  EXPECT_THAT(out, HasSubstr("duplicated     1  (cases 0, transitions 0, deadlines 0, feed 0, watch 1)"));
}

TEST(Crashtest, BadFlagsExitTwoAndCreateNothing) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {" --kills 0 --data " + data, "--kills"},
      {" --kills many --data " + data, "--kills"},
      {" --callers 0 --data " + data, "--callers"},
      {" --duration -1 --data " + data, "--duration"},
      {" --think-ms -5 --data " + data, "--think-ms"},
      {" --kill-min-s 0 --data " + data, "--kill-min-s"},
      {" --kill-min-s 3 --kill-max-s 2 --data " + data, "--kill-max-s is less than --kill-min-s"},
      {" --check-log " + tmp.Sub("log"), "--check-log needs --data"},
      {" --check-log " + tmp.Sub("missing.log") + " --data " + data, "cannot read"},
      {" --cluster --data " + data, "--cluster keeps its replicas' data"},
      {" --cluster --lease-ttl-s 0 --data " + data, "--lease-ttl-s"},
  };
  for (const auto& [flags, says] : bad) {
    std::string out;
    EXPECT_EQ(RunCommand(Crashtest() + flags, &out), 2) << flags << "\n" << out;
    EXPECT_THAT(out, HasSubstr(says)) << flags;
    EXPECT_FALSE(std::filesystem::exists(data)) << flags;
  }
  std::string out;
  EXPECT_EQ(RunCommand(BinDir() + "/crashtest/crashtest --gridd " + tmp.Sub("no-gridd") + " --data " + data, &out), 2);
  EXPECT_THAT(out, HasSubstr("no such file"));
  { std::ofstream(tmp.Sub("bad.log")) << "S\tkey-without-id\n"; }
  EXPECT_EQ(RunCommand(Crashtest() + " --check-log " + tmp.Sub("bad.log") + " --data " + data, &out), 2);
  EXPECT_THAT(out, HasSubstr("bad.log line 1"));
  EXPECT_FALSE(std::filesystem::exists(data));
}

}  // namespace
}  // namespace grid
