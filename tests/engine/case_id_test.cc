#include "engine/case_id.h"

#include <gtest/gtest.h>

#include <set>

namespace grid {
namespace {

TEST(CaseId, SortsByTimeAndNeverRepeats) {
  CaseIdGenerator gen(0);
  const Micros t0 = 1'795'000'000'000'000;  // microseconds
  uint64_t a = gen.Next(t0);
  uint64_t b = gen.Next(t0);         // same millisecond
  uint64_t c = gen.Next(t0 + 5000);  // 5 ms later
  EXPECT_EQ(a, 1'795'000'000'000'000ULL);
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(c, 1'795'000'000'005'000ULL);
  EXPECT_LT(CaseIdToString(a), CaseIdToString(b));
  EXPECT_LT(CaseIdToString(b), CaseIdToString(c));
}

TEST(CaseId, ClockGoingBackStillGrows) {
  CaseIdGenerator gen(0);
  uint64_t a = gen.Next(2'000'000'000'000'000);
  uint64_t b = gen.Next(1'000'000'000'000'000);  // the clock stepped back
  EXPECT_GT(b, a);
}

TEST(CaseId, SeededAfterRestartAboveLastIssued) {
  // Regression guard: a restart with a clock behind the last id must not reuse ids.
  CaseIdGenerator before(0);
  uint64_t last = before.Next(2'000'000'000'000'000);
  CaseIdGenerator after(last);
  EXPECT_GT(after.Next(1'000'000'000'000'000), last);
}

TEST(CaseId, ThousandsInOneMillisecondAreUnique) {
  CaseIdGenerator gen(0);
  std::set<uint64_t> ids;
  for (int i = 0; i < 5000; ++i) ids.insert(gen.Next(1'795'000'000'000'000));
  EXPECT_EQ(ids.size(), 5000u);
}

TEST(CaseId, TextRoundTrip) {
  EXPECT_EQ(CaseIdToString(1795000000000123ULL), "1795000000000123");
  EXPECT_EQ(CaseIdToString(7), "0000000000000007");
  EXPECT_EQ(ParseCaseId("1795000000000123"), 1795000000000123ULL);
  EXPECT_EQ(ParseCaseId("0000000000000007"), 7ULL);
  EXPECT_FALSE(ParseCaseId(""));
  EXPECT_FALSE(ParseCaseId("12a"));
  EXPECT_FALSE(ParseCaseId("-1"));
  EXPECT_FALSE(ParseCaseId("+1"));
  EXPECT_FALSE(ParseCaseId("99999999999999999999"));  // does not fit 64 bits
  EXPECT_FALSE(ParseCaseId("123456789012345678901"));
}

}  // namespace
}  // namespace grid
