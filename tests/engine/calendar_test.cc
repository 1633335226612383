// Tests for engine/calendar: working-time arithmetic on the shipped 2026
// mainland China calendar (data/calendar/cn-2026.txt) around the Spring
// Festival and National Day holidays and their make-up days (调休), and every
// calendar parse error with its line.
//
// Thread-safety: single-threaded tests.
#include "engine/calendar.h"
#include "tests/support/parse_error.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "tests/support/calendar.h"
#include "tests/support/paths.h"

namespace grid {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

constexpr Micros H = kMicrosPerHour;
constexpr Micros M = kMicrosPerMinute;

year_month_day D(int y, unsigned m, unsigned d) { return year_month_day{year(y), month(m), day(d)}; }

using testing::LoadCn2026;

class CalendarCn2026 : public ::testing::Test {
 protected:
  // Local (Beijing) time.
  Micros T(int y, unsigned m, unsigned d, int hh, int mm) const { return cal_.At(D(y, m, d), hh, mm); }
  WorkingCalendar cal_ = LoadCn2026();
};

TEST_F(CalendarCn2026, HolidaysAndMakeUpDays) {
  EXPECT_EQ(cal_.utc_offset(), 8 * H);
  EXPECT_EQ(cal_.WorkingTimePerDay(), 7 * H);
  // 33 days off and 6 make-up days.
  EXPECT_EQ(cal_.overrides().size(), 39u);
  const year_month_day off[] = {
      D(2026, 1, 1),  D(2026, 1, 2),  D(2026, 1, 3),  D(2026, 2, 15), D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18),
      D(2026, 2, 19), D(2026, 2, 20), D(2026, 2, 21), D(2026, 2, 22), D(2026, 2, 23), D(2026, 4, 4),  D(2026, 4, 5),
      D(2026, 4, 6),  D(2026, 5, 1),  D(2026, 5, 2),  D(2026, 5, 3),  D(2026, 5, 4),  D(2026, 5, 5),  D(2026, 6, 19),
      D(2026, 6, 20), D(2026, 6, 21), D(2026, 9, 25), D(2026, 9, 26), D(2026, 9, 27), D(2026, 10, 1), D(2026, 10, 2),
      D(2026, 10, 3), D(2026, 10, 4), D(2026, 10, 5), D(2026, 10, 6), D(2026, 10, 7)};
  for (const auto& d : off)
    EXPECT_FALSE(cal_.IsWorkingDay(d)) << static_cast<int>(d.year()) << "-" << static_cast<unsigned>(d.month()) << "-"
                                       << static_cast<unsigned>(d.day());
  // 调休: weekend days that are working days.
  for (const auto& d :
       {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)}) {
    EXPECT_TRUE(cal_.IsWorkingDay(d)) << static_cast<unsigned>(d.month()) << "-" << static_cast<unsigned>(d.day());
  }
  // Ordinary days around them.
  EXPECT_TRUE(cal_.IsWorkingDay(D(2026, 2, 13)));    // Friday before Spring Festival
  EXPECT_TRUE(cal_.IsWorkingDay(D(2026, 2, 24)));    // Tuesday after
  EXPECT_FALSE(cal_.IsWorkingDay(D(2026, 3, 7)));    // a plain Saturday
  EXPECT_FALSE(cal_.IsWorkingDay(D(2026, 10, 11)));  // Sunday after the 10-10 make-up day
  EXPECT_TRUE(cal_.IsWorkingDay(D(2026, 10, 8)));
}

TEST_F(CalendarCn2026, WholeYearHas248WorkingDays) {
  // 261 weekdays - 19 weekday holidays + 6 make-up days.
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 1, 1, 0, 0), T(2027, 1, 1, 0, 0)), 248 * 7 * H);
  int count = 0;
  for (sys_days d = sys_days(D(2026, 1, 1)); d < sys_days(D(2027, 1, 1)); d += std::chrono::days(1)) {
    count += cal_.IsWorkingDay(d) ? 1 : 0;
  }
  EXPECT_EQ(count, 248);
}

TEST_F(CalendarCn2026, LocalTimeUsesFixedOffset) {
  const Micros midnight = T(2026, 1, 1, 0, 0);
  EXPECT_EQ(midnight,
            static_cast<Micros>(sys_days(D(2025, 12, 31)).time_since_epoch().count()) * kMicrosPerDay + 16 * H);
  EXPECT_EQ(cal_.LocalDate(midnight), D(2026, 1, 1));
  EXPECT_EQ(cal_.LocalDate(midnight - 1), D(2025, 12, 31));
  // 2026-01-01T16:30Z is 2 January 00:30 in Beijing.
  const Micros utc_1630 =
      static_cast<Micros>(sys_days(D(2026, 1, 1)).time_since_epoch().count()) * kMicrosPerDay + 16 * H + 30 * M;
  EXPECT_EQ(cal_.LocalDate(utc_1630), D(2026, 1, 2));
  EXPECT_TRUE(cal_.IsWorkingInstant(T(2026, 3, 9, 8, 30)));
  EXPECT_FALSE(cal_.IsWorkingInstant(T(2026, 3, 9, 12, 0)));
  EXPECT_FALSE(cal_.IsWorkingInstant(T(2026, 3, 9, 8, 29)));
  EXPECT_FALSE(cal_.IsWorkingInstant(T(2026, 10, 2, 10, 0)));
}

TEST_F(CalendarCn2026, FridayEveningStartRollsToMonday) {
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 6, 19, 0), 1 * H), T(2026, 3, 9, 9, 30));
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 6, 17, 0), 2 * H), T(2026, 3, 9, 9, 30));
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 3, 6, 17, 0), T(2026, 3, 9, 9, 30)), 2 * H);
}

TEST_F(CalendarCn2026, StartInsideLunchBreak) {
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 10, 12, 30), 1 * H), T(2026, 3, 10, 15, 30));
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 10, 12, 30), 0), T(2026, 3, 10, 12, 30));
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 10, 12, 30), -H), T(2026, 3, 10, 12, 30));
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 3, 10, 12, 30), T(2026, 3, 10, 14, 0)), 0);
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 3, 10, 11, 0), T(2026, 3, 10, 15, 0)), 90 * M);
}

TEST_F(CalendarCn2026, ReachingIntervalEndStopsThere) {
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 10, 8, 30), 210 * M), T(2026, 3, 10, 12, 0));
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 10, 8, 30), 210 * M + 1), T(2026, 3, 10, 14, 30) + 1);
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 10, 8, 30), 7 * H), T(2026, 3, 10, 18, 0));
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 3, 10, 8, 0), 7 * H + 1), T(2026, 3, 11, 8, 30) + 1);
}

TEST_F(CalendarCn2026, StartOnHolidayWaitsForFirstWorkingDay) {
  // 3 October (National Day holiday, a Saturday): first work is Thursday 8 October.
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 10, 3, 10, 0), 1 * H), T(2026, 10, 8, 9, 30));
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 10, 1, 0, 0), T(2026, 10, 8, 0, 0)), 0);
  // New Year's Day: the Sunday make-up day 4 January comes first.
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 1, 1, 9, 0), 1 * H), T(2026, 1, 4, 9, 30));
}

TEST_F(CalendarCn2026, SpringFestivalWithMakeUpDays) {
  // Friday evening before the festival: Saturday 14 February is a make-up day.
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 2, 13, 19, 0), 2 * H), T(2026, 2, 14, 10, 30));
  // End of the make-up day: next work is Tuesday 24 February (23rd is 初七, off).
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 2, 14, 18, 0), 1 * H), T(2026, 2, 24, 9, 30));
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 2, 13, 10, 0), T(2026, 2, 24, 10, 0)), 14 * H);
  // Saturday 28 February is a make-up day, Sunday 1 March is not.
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 2, 27, 18, 0), 7 * H + 30 * M), T(2026, 3, 2, 9, 0));
}

TEST_F(CalendarCn2026, FifteenWorkingDaysAcrossNationalDay) {
  // Tue 29 Sep 10:00; working days after it: 30 Sep, 8, 9, 10 (Sat make-up),
  // 12-16, 19-23, 26 October.
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 9, 29, 10, 0), 15 * 7 * H), T(2026, 10, 26, 10, 0));
  EXPECT_EQ(cal_.WorkingTimeBetween(T(2026, 9, 29, 10, 0), T(2026, 10, 26, 10, 0)), 15 * 7 * H);
  // Sunday 20 September (make-up) counts.
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 9, 18, 18, 0), 7 * H), T(2026, 9, 20, 18, 0));
}

TEST_F(CalendarCn2026, FifteenWorkingDaysAcrossSpringFestival) {
  // 11, 12, 13, 14 (Sat), 24-28 (28 Sat), 2-6 March, 9 March.
  EXPECT_EQ(cal_.AddWorkingTime(T(2026, 2, 10, 10, 0), 15 * 7 * H), T(2026, 3, 9, 10, 0));
}

TEST_F(CalendarCn2026, LongSpansAreExactAndFast) {
  // Ten years, mostly without overrides: week skipping must agree with the
  // day-by-day count in WorkingTimeBetween.
  const Micros start = T(2026, 3, 9, 10, 0);
  const Micros ten_years = 2500 * 7 * H + 17 * M;
  const Micros end = cal_.AddWorkingTime(start, ten_years);
  EXPECT_EQ(cal_.WorkingTimeBetween(start, end), ten_years);
  EXPECT_TRUE(cal_.IsWorkingInstant(end - 1));
  // Starting before the shipped year skips weeks up to, not over, 2026.
  const Micros early = T(2025, 1, 6, 8, 30);
  const Micros through = cal_.AddWorkingTime(early, 400 * 7 * H);
  EXPECT_EQ(cal_.WorkingTimeBetween(early, through), 400 * 7 * H);
}

// A minute-by-minute reference, to check the interval stepping.
Micros ReferenceAdd(const WorkingCalendar& cal, Micros start, Micros minutes) {
  Micros t = start;
  while (minutes > 0) {
    if (cal.IsWorkingInstant(t)) --minutes;
    t += M;
  }
  return t;
}

TEST_F(CalendarCn2026, AgreesWithMinuteByMinuteReference) {
  std::mt19937_64 rng(4);
  const Micros base = T(2026, 1, 1, 0, 0);
  for (int i = 0; i < 300; ++i) {
    const Micros start = base + static_cast<Micros>(rng() % (365 * 24 * 60)) * M;
    const Micros minutes = 1 + static_cast<Micros>(rng() % (3 * 7 * 60));
    const Micros got = cal_.AddWorkingTime(start, minutes * M);
    // The reference lands one minute after the last counted minute's start.
    const Micros want = ReferenceAdd(cal_, start, minutes);
    ASSERT_EQ(got, want) << "start " << start << " minutes " << minutes;
    ASSERT_EQ(cal_.WorkingTimeBetween(start, got), minutes * M);
  }
}

TEST(Calendar, DefaultsHaveNoHolidays) {
  const WorkingCalendar cal;
  EXPECT_EQ(cal.utc_offset(), 8 * H);
  EXPECT_EQ(cal.WorkingTimePerDay(), 7 * H);
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 10, 1)));  // a Thursday
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 1, 4)));  // a Sunday
}

TEST(Calendar, CalendarTimeIsTrivial) {
  EXPECT_EQ(AddCalendarTime(100, 50), 150);
  EXPECT_EQ(AddCalendarTime(100, -5), 100);
  EXPECT_EQ(CalendarTimeBetween(100, 150), 50);
  EXPECT_EQ(CalendarTimeBetween(150, 100), 0);
}

TEST(Calendar, ParsesCustomCalendar) {
  const std::string text =
      "\xEF\xBB\xBF# a BOM, CRLF line ends and comments\r\n"
      "tz -05:30   # odd offset\r\n"
      "\r\n"
      "hours\t09:00-13:00 13:00-17:00 22:00-24:00\r\n"
      "weekend FRI sat\r\n"
      "holiday 2026-03-02..2026-03-03 two days off\r\n"
      "workday 2026-03-06\r\n";
  auto cal = ParseWorkingCalendar("custom", text);
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  EXPECT_EQ(cal->utc_offset(), -(5 * H + 30 * M));
  EXPECT_EQ(cal->WorkingTimePerDay(), 10 * H);
  EXPECT_EQ(cal->overrides().at(sys_days(D(2026, 3, 2))).name, "two days off");
  EXPECT_TRUE(cal->overrides().at(sys_days(D(2026, 3, 6))).working);
  EXPECT_TRUE(cal->IsWorkingDay(D(2026, 3, 1)));   // Sunday, not a weekend day here
  EXPECT_FALSE(cal->IsWorkingDay(D(2026, 3, 2)));  // holiday
  EXPECT_TRUE(cal->IsWorkingDay(D(2026, 3, 6)));   // Friday make-up
  EXPECT_FALSE(cal->IsWorkingDay(D(2026, 3, 7)));  // Saturday
  // Touching intervals run on; 23:00 + 2 h ends at 09:00 + 1 h next working day.
  EXPECT_EQ(cal->AddWorkingTime(cal->At(D(2026, 3, 1), 12, 0), 2 * H), cal->At(D(2026, 3, 1), 14, 0));
  EXPECT_EQ(cal->AddWorkingTime(cal->At(D(2026, 3, 1), 23, 0), 2 * H), cal->At(D(2026, 3, 4), 10, 0));
}

struct BadCalendar {
  const char* text;
  int line;
  const char* what;
};

// Shown by gtest and ctest as what the case is about, not as its bytes.
void PrintTo(const BadCalendar& c, std::ostream* os) { *os << "line " << c.line << ": " << c.what; }

class CalendarParseError : public ::testing::TestWithParam<BadCalendar> {};

TEST_P(CalendarParseError, NamesTheLine) {
  const BadCalendar& c = GetParam();
  auto cal = ParseWorkingCalendar("bad.txt", c.text);
  EXPECT_TRUE(testing::IsParseError(cal.status(), "MALFORMED_CALENDAR", "bad.txt", c.line, c.what)) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Calendar, CalendarParseError,
    ::testing::Values(
        BadCalendar{"# ok\nholidays 2026-01-01\n", 2, "unknown directive 'holidays'"},
        BadCalendar{"tz\n", 1, "tz takes one offset"}, BadCalendar{"tz +8\n", 1, "bad UTC offset '+8'"},
        BadCalendar{"tz 08:00\n", 1, "bad UTC offset"}, BadCalendar{"tz +14:30\n", 1, "at most 14:00"},
        BadCalendar{"tz +08:00\n\ntz +08:00\n", 3, "tz already given on line 1"},
        BadCalendar{"hours\n", 1, "hours needs at least one interval"},
        BadCalendar{"hours 8:30-12:00\n", 1, "bad interval '8:30-12:00'"},
        BadCalendar{"hours 08:30-24:30\n", 1, "bad interval"}, BadCalendar{"hours 08:60-12:00\n", 1, "bad interval"},
        BadCalendar{"hours 12:00-08:30\n", 1, "empty or reversed"},
        BadCalendar{"hours 08:30-08:30\n", 1, "empty or reversed"},
        BadCalendar{"hours 08:30-12:00 11:00-18:00\n", 1, "overlaps or precedes"},
        BadCalendar{"hours 14:00-18:00 08:30-12:00\n", 1, "overlaps or precedes"},
        BadCalendar{"hours 08:30-12:00\nhours 09:00-17:00\n", 2, "hours already given on line 1"},
        BadCalendar{"weekend sat sunday\n", 1, "unknown weekday 'sunday'"},
        BadCalendar{"weekend sat sat\n", 1, "listed twice"},
        BadCalendar{"weekend mon tue wed thu fri sat sun\n", 1, "every day of the week"},
        BadCalendar{"weekend sat\nweekend sun\n", 2, "weekend already given on line 1"},
        BadCalendar{"holiday\n", 1, "holiday needs a date"},
        BadCalendar{"holiday 2026-02-30 no such day\n", 1, "bad date '2026-02-30'"},
        BadCalendar{"holiday 2026/01/01\n", 1, "bad date"}, BadCalendar{"holiday 26-01-01\n", 1, "bad date"},
        BadCalendar{"workday 2026-13-01\n", 1, "bad date"},
        BadCalendar{"holiday 2026-02-23..2026-02-15\n", 1, "is reversed"},
        BadCalendar{"holiday 2026-02-15..2026-2-23\n", 1, "bad date range"},
        BadCalendar{"holiday 2026-01-01..2027-01-02\n", 1, "longer than a year"},
        BadCalendar{"holiday 2026-02-15..2026-02-23\nholiday 2026-02-16\n", 2,
                    "date 2026-02-16 already listed on line 1"},
        BadCalendar{"workday 2026-02-14\nholiday 2026-02-14\n", 2, "already listed on line 1"},
        BadCalendar{"# make-up on a weekday\nworkday 2026-02-13\n", 2, "workday 2026-02-13 is not a weekend day"},
        // Checked against the final weekend: here Saturday is a working day.
        BadCalendar{"workday 2026-02-14\nweekend sun\n", 1, "is not a weekend day"}));

}  // namespace
}  // namespace grid
