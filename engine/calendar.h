// WorkingCalendar: which instants are working time, for deadlines counted in
// working time (SPEC "Deadlines and escalation"). A calendar is a fixed UTC
// offset (no DST; mainland China is +08:00), the working intervals of a
// working day (default 08:30-12:00 and 14:30-18:00), the weekend days
// (default Saturday and Sunday), holidays (days off) and make-up working days
// (调休: weekend days that are working days). It is parsed from a small text
// format (ParseWorkingCalendar below; data/calendar/cn-2026.txt is the 2026
// mainland China schedule).
//
// All arithmetic steps interval by interval and day by day, and skips whole
// regular weeks where no holiday or make-up day lies, so a span of weeks costs
// a few dozen steps, never a loop over minutes.
//
// Instants are grid::Micros (microseconds since the Unix epoch, UTC); inputs
// are expected within years 1900..9999. Nothing here reads the clock.
//
// Thread-safety: an immutable value after construction; const methods are safe
// to call concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/clock.h"
#include "engine/status.h"

namespace grid {

inline constexpr Micros kMicrosPerMinute = 60'000'000;
inline constexpr Micros kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr Micros kMicrosPerDay = 24 * kMicrosPerHour;

// Calendar time: every microsecond counts. Trivial, for symmetry with the
// working-time functions.
inline Micros AddCalendarTime(Micros start, Micros duration) { return duration > 0 ? start + duration : start; }
// b - a, or 0 when b <= a.
inline Micros CalendarTimeBetween(Micros a, Micros b) { return b > a ? b - a : 0; }

class WorkingCalendar {
 public:
  // [start, end) in microseconds after local midnight; end <= 24:00.
  struct Interval {
    Micros start = 0;
    Micros end = 0;
  };
  // A holiday (working == false) or a make-up working day (working == true).
  struct DayOverride {
    bool working = false;
    std::string name;  // e.g. "春节" or "春节调休"; may be empty
  };

  // +08:00, 08:30-12:00 and 14:30-18:00, weekend Saturday and Sunday, no
  // holidays.
  WorkingCalendar();

  // The fixed offset of local time from UTC.
  Micros utc_offset() const { return utc_offset_; }
  const std::vector<Interval>& hours() const { return hours_; }
  const std::map<std::chrono::sys_days, DayOverride>& overrides() const { return overrides_; }
  bool IsWeekend(std::chrono::weekday wd) const;
  // The working time of one working day (7 h with the default hours).
  Micros WorkingTimePerDay() const { return per_day_; }

  // A day off unless a make-up day; weekdays are working days unless a holiday.
  bool IsWorkingDay(std::chrono::year_month_day date) const;
  bool IsWorkingDay(std::chrono::sys_days day) const;
  // Whether the instant lies inside a working interval of a working day.
  bool IsWorkingInstant(Micros t) const;

  // The local calendar date of an instant.
  std::chrono::year_month_day LocalDate(Micros t) const;
  // The instant of a local date and time of day (hour 0..24, minute 0..59).
  Micros At(std::chrono::year_month_day date, int hour, int minute) const;

  // The earliest instant at which `duration` of working time has elapsed since
  // `start`. duration <= 0 returns start unchanged (even outside working
  // hours). Reaching the end of a working interval exactly returns that end
  // (12:00), not the start of the next interval.
  Micros AddWorkingTime(Micros start, Micros duration) const;
  // The working time inside [a, b); 0 when b <= a.
  Micros WorkingTimeBetween(Micros a, Micros b) const;

 private:
  friend StatusOr<WorkingCalendar> ParseWorkingCalendar(std::string_view, std::string_view);

  void Recompute();
  // Working time of day `day` inside local times [from, to).
  Micros WorkingTimeInDay(std::chrono::sys_days day, Micros from, Micros to) const;
  // Working days in [first, last).
  int64_t WorkingDaysIn(std::chrono::sys_days first, std::chrono::sys_days last) const;
  // The first override on or after day, or sys_days::max() when none.
  std::chrono::sys_days NextOverride(std::chrono::sys_days day) const;

  Micros utc_offset_ = 8 * kMicrosPerHour;
  std::vector<Interval> hours_;
  unsigned weekend_mask_ = 0;  // bit n set: weekday with c_encoding() n is off
  std::map<std::chrono::sys_days, DayOverride> overrides_;
  Micros per_day_ = 0;
  int working_days_per_week_ = 0;
};

// Parses a calendar. One directive per line; '#' starts a comment (to the end
// of the line); blank lines are ignored; tokens are separated by spaces or
// tabs; UTF-8 with an optional BOM; "\n" or "\r\n" line ends.
//
//   tz +08:00                          fixed UTC offset, ±HH:MM, at most 14:00
//   hours 08:30-12:00 14:30-18:00      working intervals, ascending, disjoint
//                                      (touching is fine), HH:MM, end may be 24:00
//   weekend sat sun                    the weekly days off (mon..sun); may be empty
//   holiday 2026-01-01 元旦            a day off; the rest of the line is a name
//   holiday 2026-02-15..2026-02-23 春节  an inclusive range of days off
//   workday 2026-01-04 元旦调休         a make-up working day (ranges allowed too)
//
// tz, hours and weekend may each appear at most once; absent ones keep the
// defaults of WorkingCalendar(). A workday must fall on a weekend day; a date
// may be listed only once across holiday and workday lines; dates must be
// real calendar dates with a 4-digit year.
//
// Errors: InvalidArgument, reason MALFORMED_CALENDAR, message
// "<name> line <n>: <what>".
StatusOr<WorkingCalendar> ParseWorkingCalendar(std::string_view name, std::string_view text);

}  // namespace grid
