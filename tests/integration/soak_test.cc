// tools/soak as a process: the CI variant of the 30-minute soak in
// BENCHMARKS.md. A short run at a modest rate must answer every call without
// an error, and every subscriber must receive exactly the entries of its
// scope; the timing and memory figures are written but not judged here (a
// shared CI machine makes them noise). Bad flags exit 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/gridd_process.h"
#include "tests/support/temp_dir.h"

namespace grid {
namespace {

using testing::BinDir;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using testing::RunCommand;

std::string Soak() { return BinDir() + "/soak/soak --gridd " + BinDir() + "/gridd"; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Soak, ShortRunAnswersEveryCallAndEverySubscriberSeesItsScope) {
  testing::TempDir tmp;
  std::string out;
  const int code = RunCommand(Soak() +
                                  " --rate 100 --duration-s 20 --subscribers 10 --interval-s 5 --sample-s 1"
                                  " --step-min-s 0.2 --step-max-s 2 --settle-s 6 --out " +
                                  tmp.Sub("out") + " --work-dir " + tmp.path(),
                              &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("errors         0\n"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("PROBLEM")));
  EXPECT_THAT(out, HasSubstr("subscribers    10 of 10 saw exactly the entries of their scope"));
  // The traffic did what it claims: cases submitted and worked to closure.
  EXPECT_THAT(out, ContainsRegex("acknowledged [1-9][0-9]{2,}"));
  EXPECT_THAT(out, ContainsRegex("case work      [1-9][0-9]* sent, [1-9][0-9]* acknowledged"));
  EXPECT_THAT(out, HasSubstr("rss            not judged"));
  EXPECT_THAT(out, HasSubstr("soak: OK"));

  // One CSV row per 5 s interval (and the rest), and the summary's verdict.
  const std::string csv = ReadAll(tmp.Sub("out/soak.csv"));
  EXPECT_THAT(csv, ::testing::StartsWith("interval,t_end_s,length_s,submitted,acknowledged,"));
  EXPECT_GE(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;
  const std::string summary = ReadAll(tmp.Sub("out/soak.json"));
  EXPECT_THAT(summary, HasSubstr("\"no_errors\": true"));
  EXPECT_THAT(summary, HasSubstr("\"subscribers_saw_their_events\": true"));
  EXPECT_THAT(summary, HasSubstr("\"ok\": true"));
  // Cases the plans leave open were cancelled --settle-s after submission.
  EXPECT_THAT(summary, ContainsRegex("\"settle_cancel\": [1-9]"));
}

TEST(Soak, BadFlagsExit2) {
  std::string out;
  EXPECT_EQ(RunCommand(Soak() + " --rate 0", &out), 2) << out;
  EXPECT_EQ(RunCommand(Soak() + " --step-min-s 5 --step-max-s 1", &out), 2) << out;
  EXPECT_EQ(RunCommand(Soak() + " --settle-s -1", &out), 2) << out;
  EXPECT_EQ(RunCommand(BinDir() + "/soak/soak --gridd /nonexistent/gridd", &out), 2) << out;
}

}  // namespace
}  // namespace grid
