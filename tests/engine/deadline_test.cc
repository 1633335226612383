// Tests for engine/deadline: default and parsed policies, accept/resolve due
// times and 80% warnings in calendar and working time on the shipped 2026
// mainland China calendar, pauses (waiting for the citizen, 延期) overlapping
// nights and each other, and every policy parse error with its line.
//
// Thread-safety: single-threaded tests.
#include "engine/deadline.h"
#include "tests/support/parse_error.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/calendar.h"
#include "tests/support/paths.h"

namespace grid {
namespace {

using grid::v1::PRIORITY_EMERGENCY;
using grid::v1::PRIORITY_NORMAL;
using grid::v1::PRIORITY_UNSPECIFIED;
using grid::v1::PRIORITY_URGENT;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

constexpr Micros H = kMicrosPerHour;
constexpr Micros M = kMicrosPerMinute;

using testing::LoadCn2026;

class Deadline : public ::testing::Test {
 protected:
  Micros T(int y, unsigned m, unsigned d, int hh, int mm) const {
    return cal_.At(year_month_day{year(y), month(m), day(d)}, hh, mm);
  }
  Deadlines Compute(std::string_view cls, Micros start, const std::vector<Pause>& pauses = {},
                    grid::v1::Priority priority = PRIORITY_NORMAL) const {
    auto d = ComputeDeadlines(policy_, cal_, cls, priority, start, pauses);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : Deadlines();
  }
  WorkingCalendar cal_ = LoadCn2026();
  DeadlinePolicy policy_ = DeadlinePolicy::Defaults();
};

TEST_F(Deadline, DefaultTable) {
  EXPECT_DOUBLE_EQ(policy_.warn_share(), 0.8);
  auto e = policy_.Find("emergency", PRIORITY_URGENT);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->mode, CountingMode::kCalendar);
  EXPECT_EQ(e->resolve, (PolicyDuration{2 * H, 0}));
  auto u = policy_.Find("utilities", PRIORITY_NORMAL);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->resolve, (PolicyDuration{24 * H, 0}));
  auto g = policy_.Find("general", PRIORITY_UNSPECIFIED);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->mode, CountingMode::kWorking);
  EXPECT_EQ(g->resolve, (PolicyDuration{0, 7}));
  auto c = policy_.Find("complex", PRIORITY_EMERGENCY);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->resolve, (PolicyDuration{0, 15}));
  EXPECT_EQ(c->resolve.Resolve(cal_), 15 * 7 * H);
}

TEST_F(Deadline, UnknownClassIsNotFound) {
  auto d = ComputeDeadlines(policy_, cal_, "gardening", PRIORITY_NORMAL, T(2026, 3, 9, 10, 0), {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(d.status().reason(), "UNKNOWN_DEADLINE_CLASS");
}

TEST_F(Deadline, EmergencyFridayEveningCountsCalendarTime) {
  const Deadlines d = Compute("emergency", T(2026, 3, 6, 19, 0));
  EXPECT_EQ(d.mode, CountingMode::kCalendar);
  EXPECT_EQ(d.accept_due, T(2026, 3, 6, 19, 30));
  EXPECT_EQ(d.accept_warn_at, T(2026, 3, 6, 19, 24));
  EXPECT_EQ(d.resolve_due, T(2026, 3, 6, 21, 0));
  EXPECT_EQ(d.resolve_warn_at, T(2026, 3, 6, 20, 36));
  EXPECT_EQ(d.resolve_paused, 0);
}

TEST_F(Deadline, UtilitiesIgnoreHolidays) {
  const Deadlines d = Compute("utilities", T(2026, 10, 1, 9, 0));
  EXPECT_EQ(d.resolve_due, T(2026, 10, 2, 9, 0));
  EXPECT_EQ(d.resolve_warn_at, T(2026, 10, 2, 4, 12));  // 19 h 12 min
}

TEST_F(Deadline, GeneralIsSevenWorkingDays) {
  // Mon 9 March 10:00 -> Wed 18 March 10:00 (7 working days later).
  const Deadlines d = Compute("general", T(2026, 3, 9, 10, 0));
  EXPECT_EQ(d.mode, CountingMode::kWorking);
  EXPECT_EQ(d.resolve_due, T(2026, 3, 18, 10, 0));
  // 80% of 49 h = 39 h 12 min: 33.5 h by Friday 18:00, then 3.5 h + 2 h 12 min.
  EXPECT_EQ(d.resolve_warn_at, T(2026, 3, 16, 16, 42));
  EXPECT_EQ(d.accept_due, T(2026, 3, 10, 10, 0));
  // 80% of 7 h = 5 h 36 min: 2 h to noon, 3 h 30 min to 18:00, 6 min next day.
  EXPECT_EQ(d.accept_warn_at, T(2026, 3, 10, 8, 36));
}

TEST_F(Deadline, GeneralFromFridayEveningAcrossSpringFestival) {
  // Working days after Fri 13 Feb 19:00: 14 (Sat make-up), 24, 25, 26, 27,
  // 28 (Sat make-up) February, 2 March. The 49th hour ends at 18:00.
  const Deadlines d = Compute("general", T(2026, 2, 13, 19, 0));
  EXPECT_EQ(d.accept_due, T(2026, 2, 14, 18, 0));
  EXPECT_EQ(d.resolve_due, T(2026, 3, 2, 18, 0));
}

TEST_F(Deadline, StartInsideLunchBreak) {
  const Deadlines d = Compute("general", T(2026, 3, 10, 12, 15));
  EXPECT_EQ(d.accept_due, T(2026, 3, 11, 12, 0));
  EXPECT_EQ(d.resolve_due, T(2026, 3, 19, 12, 0));
}

TEST_F(Deadline, StartOnHoliday) {
  // A case filed on 2 October (National Day) starts counting on 8 October.
  const Deadlines d = Compute("general", T(2026, 10, 2, 15, 0));
  EXPECT_EQ(d.accept_due, T(2026, 10, 8, 18, 0));
  // 8, 9, 10 (Sat make-up), 12, 13, 14, 15 October.
  EXPECT_EQ(d.resolve_due, T(2026, 10, 15, 18, 0));
}

TEST_F(Deadline, ComplexFifteenWorkingDaysAcrossNationalDay) {
  const Deadlines d = Compute("complex", T(2026, 9, 29, 10, 0));
  EXPECT_EQ(d.resolve_due, T(2026, 10, 26, 10, 0));
  // 80% = 84 h = 12 working days: 30 Sep, 8, 9, 10, 12-16, 19, 20, 21 October.
  EXPECT_EQ(d.resolve_warn_at, T(2026, 10, 21, 10, 0));
}

TEST_F(Deadline, CalendarPauseExtendsDue) {
  const Micros start = T(2026, 3, 9, 10, 0);
  // A pause inside the 2 h.
  Deadlines d = Compute("emergency", start, {{T(2026, 3, 9, 10, 30), T(2026, 3, 9, 11, 0)}});
  EXPECT_EQ(d.resolve_due, T(2026, 3, 9, 12, 30));
  EXPECT_EQ(d.resolve_paused, 30 * M);
  // The accept due (10:30) is reached as the pause begins: unaffected.
  EXPECT_EQ(d.accept_due, T(2026, 3, 9, 10, 30));
  EXPECT_EQ(d.accept_paused, 0);
  // A pause after the due time changes nothing.
  d = Compute("emergency", start, {{T(2026, 3, 9, 13, 0), T(2026, 3, 9, 14, 0)}});
  EXPECT_EQ(d.resolve_due, T(2026, 3, 9, 12, 0));
  // A pause begun before start counts only from start.
  d = Compute("emergency", start, {{T(2026, 3, 9, 9, 0), T(2026, 3, 9, 10, 15)}});
  EXPECT_EQ(d.resolve_due, T(2026, 3, 9, 12, 15));
  // A pause running past the old due: the clock restarts when it ends.
  d = Compute("emergency", start, {{T(2026, 3, 9, 11, 0), T(2026, 3, 9, 15, 0)}});
  EXPECT_EQ(d.resolve_due, T(2026, 3, 9, 16, 0));
  EXPECT_EQ(d.resolve_paused, 4 * H);
}

TEST_F(Deadline, OverlappingPausesCountOnce) {
  const Micros start = T(2026, 3, 9, 10, 0);
  // [10:30, 11:00) and [10:45, 11:30), plus a nested and a duplicate one,
  // unsorted: union is one hour.
  const std::vector<Pause> pauses = {{T(2026, 3, 9, 10, 45), T(2026, 3, 9, 11, 30)},
                                     {T(2026, 3, 9, 10, 30), T(2026, 3, 9, 11, 0)},
                                     {T(2026, 3, 9, 10, 50), T(2026, 3, 9, 10, 55)},
                                     {T(2026, 3, 9, 10, 30), T(2026, 3, 9, 11, 0)}};
  const Deadlines d = Compute("emergency", start, pauses);
  EXPECT_EQ(d.resolve_due, T(2026, 3, 9, 13, 0));
  EXPECT_EQ(d.resolve_paused, 1 * H);
  // Touching pauses also merge.
  const Deadlines t =
      Compute("emergency", start,
              {{T(2026, 3, 9, 10, 30), T(2026, 3, 9, 11, 0)}, {T(2026, 3, 9, 11, 0), T(2026, 3, 9, 11, 20)}});
  EXPECT_EQ(t.resolve_due, T(2026, 3, 9, 12, 50));
}

TEST_F(Deadline, WorkingPauseOverNightCostsOnlyWorkingTime) {
  // Tue 17:00 -> Wed 09:00 covers 1 h on Tuesday and 30 min on Wednesday.
  const Deadlines d = Compute("general", T(2026, 3, 9, 10, 0), {{T(2026, 3, 10, 17, 0), T(2026, 3, 11, 9, 0)}});
  EXPECT_EQ(d.resolve_paused, 90 * M);
  EXPECT_EQ(d.resolve_due, T(2026, 3, 18, 11, 30));
  // The warning moves too: 16:42 + 1 h 30 min of working time.
  EXPECT_EQ(d.resolve_warn_at, T(2026, 3, 17, 8, 42));
  // A pause that lies entirely in a night or a weekend costs nothing.
  const Deadlines n =
      Compute("general", T(2026, 3, 9, 10, 0),
              {{T(2026, 3, 10, 18, 30), T(2026, 3, 11, 7, 0)}, {T(2026, 3, 14, 0, 0), T(2026, 3, 16, 8, 30)}});
  EXPECT_EQ(n.resolve_due, T(2026, 3, 18, 10, 0));
  EXPECT_EQ(n.resolve_paused, 0);
}

TEST_F(Deadline, OverlappingWorkingPausesAcrossNightsAndHoliday) {
  // 延期 from Thu 12 Feb 17:00 to Wed 25 Feb 12:00, overlapping a citizen wait
  // from Tue 24 Feb 10:00 to Thu 26 Feb 10:00 — the union runs to Thu 26 Feb
  // 10:00. Counted working time inside it: 12th 1 h, 13th 7 h, 14th 7 h,
  // 24th 7 h, 25th 7 h, 26th 1.5 h = 30.5 h.
  const std::vector<Pause> pauses = {{T(2026, 2, 12, 17, 0), T(2026, 2, 25, 12, 0)},
                                     {T(2026, 2, 24, 10, 0), T(2026, 2, 26, 10, 0)}};
  const Deadlines d = Compute("general", T(2026, 2, 10, 10, 0), pauses);
  EXPECT_EQ(d.resolve_paused, 30 * H + 30 * M);
  // Before the pause: 10th 5.5 h, 11th 7 h, 12th 6 h (to 17:00) = 18.5 h;
  // 30.5 h remain from Thu 26 Feb 10:00: 26th 5.5 h, 27th 7 h, 28th 7 h,
  // 2 March 7 h (26.5 h), 3 March 3.5 h + 0.5 h -> 15:00.
  EXPECT_EQ(d.resolve_due, T(2026, 3, 3, 15, 0));
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 2, 10, 10, 0), d.resolve_due) - d.resolve_paused, 49 * H);
}

TEST_F(Deadline, PauseStartingAtDueHasNoEffect) {
  const Deadlines d = Compute("emergency", T(2026, 3, 9, 10, 0), {{T(2026, 3, 9, 12, 0), T(2026, 3, 9, 13, 0)}});
  EXPECT_EQ(d.resolve_due, T(2026, 3, 9, 12, 0));
  // In working time a pause over lunch after a noon due does nothing either.
  const Deadlines w = Compute("general", T(2026, 3, 9, 12, 0), {{T(2026, 3, 10, 12, 0), T(2026, 3, 10, 14, 30)}});
  EXPECT_EQ(w.accept_due, T(2026, 3, 10, 12, 0));
}

TEST_F(Deadline, OpenPauseHasNoDueYet) {
  const Micros start = T(2026, 3, 9, 10, 0);
  const Deadlines d = Compute("emergency", start, {{T(2026, 3, 9, 11, 0), kOpenPause}});
  EXPECT_EQ(d.accept_due, T(2026, 3, 9, 10, 30));
  EXPECT_EQ(d.accept_warn_at, T(2026, 3, 9, 10, 24));
  EXPECT_EQ(d.resolve_due, kNoDeadline);
  EXPECT_EQ(d.resolve_warn_at, kNoDeadline);  // 11:36 would fall inside the pause
  // The pause of a resolved wait, by contrast, gives finite instants.
  const Deadlines closed = Compute("emergency", start, {{T(2026, 3, 9, 11, 0), T(2026, 3, 9, 12, 0)}});
  EXPECT_EQ(closed.resolve_warn_at, T(2026, 3, 9, 12, 36));
  EXPECT_EQ(closed.resolve_due, T(2026, 3, 9, 13, 0));
}

TEST_F(Deadline, InvalidPauseIsRejected) {
  const Micros t = T(2026, 3, 9, 10, 0);
  for (const Pause p : {Pause{t, t}, Pause{t + H, t}}) {
    const std::vector<Pause> pauses = {p};
    auto d = ComputeDeadlines(policy_, cal_, "general", PRIORITY_NORMAL, t, pauses);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().reason(), "INVALID_PAUSE");
  }
}

TEST_F(Deadline, AddCountedTimeMatchesDirectArithmetic) {
  const Micros start = T(2026, 9, 18, 16, 0);
  Micros paused = -1;
  EXPECT_EQ(AddCountedTime(cal_, CountingMode::kWorking, start, 3 * H, {}, &paused), cal_.AddWorkingTime(start, 3 * H));
  EXPECT_EQ(paused, 0);
  EXPECT_EQ(AddCountedTime(cal_, CountingMode::kCalendar, start, 3 * H, {}), start + 3 * H);
  // Pause over the Sunday 20 September make-up day costs its 7 h.
  const std::vector<Pause> pauses = {{T(2026, 9, 19, 0, 0), T(2026, 9, 21, 0, 0)}};
  EXPECT_EQ(AddCountedTime(cal_, CountingMode::kWorking, start, 3 * H, pauses, &paused), T(2026, 9, 21, 9, 30));
  EXPECT_EQ(paused, 7 * H);
}

TEST_F(Deadline, WarnShareIsConfigurable) {
  policy_.set_warn_share(0.5);
  Deadlines d = Compute("emergency", T(2026, 3, 9, 10, 0));
  EXPECT_EQ(d.resolve_warn_at, T(2026, 3, 9, 11, 0));
  policy_.set_warn_share(1.0);
  d = Compute("general", T(2026, 3, 9, 10, 0));
  EXPECT_EQ(d.resolve_warn_at, d.resolve_due);
}

TEST_F(Deadline, WorkingDaysFollowTheCalendarsHours) {
  auto cal = ParseWorkingCalendar("eight", "hours 09:00-17:00\n");
  ASSERT_TRUE(cal.ok());
  auto d = ComputeDeadlines(policy_, *cal, "general", PRIORITY_NORMAL,
                            cal->At(year_month_day{year(2026), month(3), day(9)}, 9, 0), {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->accept_due, cal->At(year_month_day{year(2026), month(3), day(9)}, 17, 0));
  EXPECT_EQ(d->resolve_due, cal->At(year_month_day{year(2026), month(3), day(17)}, 17, 0));
}

TEST_F(Deadline, ParsesPolicyAndPrefersExactPriority) {
  const std::string text =
      "# county policy\r\n"
      "warn 75%\r\n"
      "rule general    *       working  1wd   7wd\n"
      "rule general    urgent  working  2h    1wd4h   # faster when urgent\n"
      "rule water.main emergency calendar 15m 1h30m\n"
      "rule complex    normal  calendar 1d    15d\n";
  auto p = ParseDeadlinePolicy("policy.txt", text);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->warn_share(), 0.75);
  EXPECT_EQ(p->rules().size(), 4u);
  auto urgent = p->Find("general", PRIORITY_URGENT);
  ASSERT_TRUE(urgent.ok());
  EXPECT_EQ(urgent->accept, (PolicyDuration{2 * H, 0}));
  EXPECT_EQ(urgent->resolve, (PolicyDuration{4 * H, 1}));
  auto normal = p->Find("general", PRIORITY_UNSPECIFIED);
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(normal->resolve, (PolicyDuration{0, 7}));
  auto water = p->Find("water.main", PRIORITY_EMERGENCY);
  ASSERT_TRUE(water.ok());
  EXPECT_EQ(water->resolve, (PolicyDuration{90 * M, 0}));
  EXPECT_FALSE(p->Find("water.main", PRIORITY_NORMAL).ok());
  auto complex = p->Find("complex", PRIORITY_NORMAL);
  ASSERT_TRUE(complex.ok());
  EXPECT_EQ(complex->mode, CountingMode::kCalendar);
  EXPECT_EQ(complex->resolve, (PolicyDuration{15 * kMicrosPerDay, 0}));

  // Used end to end: urgent general, 2 h accept and 11 h resolve of working time.
  auto d = ComputeDeadlines(*p, cal_, "general", PRIORITY_URGENT, T(2026, 3, 6, 17, 0), {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->accept_due, T(2026, 3, 9, 9, 30));
  EXPECT_EQ(d->resolve_due, T(2026, 3, 10, 11, 30));
}

TEST(DeadlinePolicyParse, DecimalWarnShare) {
  auto p = ParseDeadlinePolicy("p", "warn 0.9\nrule general * working 1h 2h\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->warn_share(), 0.9);
  auto q = ParseDeadlinePolicy("p", "rule general * working 1h 2h\n");
  ASSERT_TRUE(q.ok());
  EXPECT_DOUBLE_EQ(q->warn_share(), 0.8);
}

struct BadPolicy {
  const char* text;
  int line;
  const char* what;
};

// Shown by gtest and ctest as what the case is about, not as its bytes.
void PrintTo(const BadPolicy& p, std::ostream* os) { *os << "line " << p.line << ": " << p.what; }

class DeadlinePolicyParseError : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(DeadlinePolicyParseError, NamesTheLine) {
  const BadPolicy& c = GetParam();
  auto p = ParseDeadlinePolicy("policy.txt", c.text);
  EXPECT_TRUE(testing::IsParseError(p.status(), "MALFORMED_POLICY", "policy.txt", c.line, c.what)) << c.text;
}

#define GOOD "rule general * working 1wd 7wd\n"

INSTANTIATE_TEST_SUITE_P(
    Deadline, DeadlinePolicyParseError,
    ::testing::Values(
        BadPolicy{"", 0, "no rules"}, BadPolicy{"# only comments\nwarn 0.8\n", 0, "no rules"},
        BadPolicy{GOOD "rules general * working 1wd 7wd\n", 2, "unknown directive 'rules'"},
        BadPolicy{"warn\n" GOOD, 1, "warn takes one share"}, BadPolicy{"warn 0\n" GOOD, 1, "bad warning share '0'"},
        BadPolicy{"warn 1.5\n" GOOD, 1, "bad warning share"}, BadPolicy{"warn 120%\n" GOOD, 1, "bad warning share"},
        BadPolicy{"warn -0.5\n" GOOD, 1, "bad warning share"}, BadPolicy{"warn .8\n" GOOD, 1, "bad warning share"},
        BadPolicy{"warn eighty\n" GOOD, 1, "bad warning share"},
        BadPolicy{"warn 0.8\n\nwarn 0.9\n" GOOD, 3, "warn already given on line 1"},
        BadPolicy{"rule general * working 1wd\n", 1, "rule takes 5 fields"},
        BadPolicy{"rule general * working 1wd 7wd extra\n", 1, "got 6"},
        BadPolicy{"rule General * working 1wd 7wd\n", 1, "bad deadline class 'General'"},
        BadPolicy{"rule 一般 * working 1wd 7wd\n", 1, "bad deadline class"},
        BadPolicy{"rule general high working 1wd 7wd\n", 1, "unknown priority 'high'"},
        BadPolicy{"rule general * business 1wd 7wd\n", 1, "unknown counting mode 'business'"},
        BadPolicy{"rule general * working h 7wd\n", 1, "accept duration 'h' needs a number"},
        BadPolicy{"rule general * working 1wd 7\n", 1, "resolve duration '7' has unknown unit ''"},
        BadPolicy{"rule general * working 1wd 7w\n", 1, "unknown unit 'w'"},
        BadPolicy{"rule general * working 0h 7wd\n", 1, "accept duration '0h' is zero"},
        BadPolicy{"rule general * working 1d 7wd\n", 1, "unit d (24 h days) is for calendar mode"},
        BadPolicy{"rule general * calendar 1h 7wd\n", 1, "unit wd (working days) is for working mode"},
        BadPolicy{"rule general * calendar 1h 400d\n", 1, "longer than a year"},
        BadPolicy{"rule general * calendar 1h 1234567h\n", 1, "too large a number"},
        BadPolicy{"rule general * working 8wd 7wd\n", 1, "accept time is longer than resolve time"},
        BadPolicy{GOOD "# again\nrule general * working 2wd 9wd\n", 3, "rule for general * already given on line 1"}));

#undef GOOD

}  // namespace
}  // namespace grid
