// WorkingCalendar arithmetic and its text parser (see calendar.h).
//
// Thread-safety: no shared mutable state; the calendar is immutable once built.
#include "engine/calendar.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdio>
#include <utility>

#include "engine/reasons.h"
#include "engine/text.h"

namespace grid {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::weekday;
using std::chrono::year_month_day;

constexpr Micros kMaxOffset = 14 * kMicrosPerHour;
// Longest accepted holiday/workday range, in days.
constexpr int64_t kMaxRangeDays = 366;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

WorkingCalendar::WorkingCalendar() {
  hours_ = {{8 * kMicrosPerHour + 30 * kMicrosPerMinute, 12 * kMicrosPerHour},
            {14 * kMicrosPerHour + 30 * kMicrosPerMinute, 18 * kMicrosPerHour}};
  weekend_mask_ = (1u << 0) | (1u << 6);  // Sunday, Saturday
  Recompute();
}

void WorkingCalendar::Recompute() {
  per_day_ = 0;
  for (const Interval& iv : hours_) per_day_ += iv.end - iv.start;
  working_days_per_week_ = 7 - std::popcount(weekend_mask_ & 0x7Fu);
}

bool WorkingCalendar::IsWeekend(weekday wd) const { return (weekend_mask_ >> wd.c_encoding()) & 1u; }

bool WorkingCalendar::IsWorkingDay(year_month_day date) const { return IsWorkingDay(sys_days(date)); }

bool WorkingCalendar::IsWorkingDay(sys_days day) const {
  auto it = overrides_.find(day);
  if (it != overrides_.end()) return it->second.working;
  return !IsWeekend(weekday(day));
}

year_month_day WorkingCalendar::LocalDate(Micros t) const {
  return year_month_day(sys_days(days(FloorDiv(t + utc_offset_, kMicrosPerDay))));
}

Micros WorkingCalendar::At(year_month_day date, int hour, int minute) const {
  return static_cast<Micros>(sys_days(date).time_since_epoch().count()) * kMicrosPerDay + hour * kMicrosPerHour +
         minute * kMicrosPerMinute - utc_offset_;
}

bool WorkingCalendar::IsWorkingInstant(Micros t) const {
  const Micros local = t + utc_offset_;
  const int64_t d = FloorDiv(local, kMicrosPerDay);
  const Micros tod = local - d * kMicrosPerDay;
  if (!IsWorkingDay(sys_days(days(d)))) return false;
  for (const Interval& iv : hours_) {
    if (tod >= iv.start && tod < iv.end) return true;
  }
  return false;
}

Micros WorkingCalendar::WorkingTimeInDay(sys_days day, Micros from, Micros to) const {
  if (to <= from || !IsWorkingDay(day)) return 0;
  Micros total = 0;
  for (const Interval& iv : hours_) {
    const Micros s = std::max(from, iv.start);
    const Micros e = std::min(to, iv.end);
    if (e > s) total += e - s;
  }
  return total;
}

int64_t WorkingCalendar::WorkingDaysIn(sys_days first, sys_days last) const {
  const int64_t n = (last - first).count();
  if (n <= 0) return 0;
  const int64_t weeks = n / 7;
  int64_t count = weeks * working_days_per_week_;
  for (int64_t i = weeks * 7; i < n; ++i) {
    if (!IsWeekend(weekday(first + days(i)))) ++count;
  }
  for (auto it = overrides_.lower_bound(first); it != overrides_.end() && it->first < last; ++it) {
    const bool regular = !IsWeekend(weekday(it->first));
    if (it->second.working && !regular) ++count;
    if (!it->second.working && regular) --count;
  }
  return count;
}

Micros WorkingCalendar::AddWorkingTime(Micros start, Micros duration) const {
  if (duration <= 0 || per_day_ <= 0 || working_days_per_week_ <= 0) return start;
  const Micros local = start + utc_offset_;
  int64_t d = FloorDiv(local, kMicrosPerDay);
  Micros tod = local - d * kMicrosPerDay;
  Micros remaining = duration;
  const Micros per_week = per_day_ * working_days_per_week_;
  for (;;) {
    sys_days day{days(d)};
    // At a day boundary, skip whole regular weeks (no override inside) while
    // more than a week's working time remains.
    if (tod == 0 && remaining > per_week) {
      int64_t weeks = (remaining - 1) / per_week;
      auto next = overrides_.lower_bound(day);
      if (next != overrides_.end()) weeks = std::min<int64_t>(weeks, (next->first - day).count() / 7);
      d += weeks * 7;
      remaining -= weeks * per_week;
      day = sys_days(days(d));
    }
    if (IsWorkingDay(day)) {
      for (const Interval& iv : hours_) {
        if (tod >= iv.end) continue;
        const Micros from = std::max(tod, iv.start);
        const Micros avail = iv.end - from;
        if (remaining <= avail) return d * kMicrosPerDay + from + remaining - utc_offset_;
        remaining -= avail;
      }
    }
    ++d;
    tod = 0;
  }
}

Micros WorkingCalendar::WorkingTimeBetween(Micros a, Micros b) const {
  if (b <= a) return 0;
  const int64_t da = FloorDiv(a + utc_offset_, kMicrosPerDay);
  const int64_t db = FloorDiv(b + utc_offset_, kMicrosPerDay);
  const Micros ta = a + utc_offset_ - da * kMicrosPerDay;
  const Micros tb = b + utc_offset_ - db * kMicrosPerDay;
  const sys_days day_a{days(da)};
  const sys_days day_b{days(db)};
  if (da == db) return WorkingTimeInDay(day_a, ta, tb);
  return WorkingTimeInDay(day_a, ta, kMicrosPerDay) + WorkingDaysIn(day_a + days(1), day_b) * per_day_ +
         WorkingTimeInDay(day_b, 0, tb);
}

// ---------------------------------------------------------------------------
// Parser.

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// "YYYY-MM-DD" -> day; false if malformed or not a real date.
bool ParseDate(std::string_view s, sys_days* out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  const std::string_view y = s.substr(0, 4), m = s.substr(5, 2), d = s.substr(8, 2);
  if (!AllDigits(y) || !AllDigits(m) || !AllDigits(d)) return false;
  const year_month_day ymd{std::chrono::year(ToInt(y)), std::chrono::month(ToInt(m)), std::chrono::day(ToInt(d))};
  if (!ymd.ok()) return false;
  *out = sys_days(ymd);
  return true;
}

// "HH:MM" (00:00..24:00) -> microseconds after midnight.
bool ParseTimeOfDay(std::string_view s, Micros* out) {
  if (s.size() != 5 || s[2] != ':') return false;
  const std::string_view h = s.substr(0, 2), m = s.substr(3, 2);
  if (!AllDigits(h) || !AllDigits(m)) return false;
  const int hh = ToInt(h), mm = ToInt(m);
  if (mm > 59 || hh > 24 || (hh == 24 && mm != 0)) return false;
  *out = hh * kMicrosPerHour + mm * kMicrosPerMinute;
  return true;
}

std::string FormatDate(sys_days d) {
  const year_month_day ymd(d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

StatusOr<WorkingCalendar> ParseWorkingCalendar(std::string_view name, std::string_view text) {
  WorkingCalendar cal;
  int line_no = 0;
  auto error = [&](const std::string& what) {
    return Error(reason::MALFORMED_CALENDAR, std::string(name) + " line " + std::to_string(line_no) + ": " + what);
  };
  int tz_line = 0, hours_line = 0, weekend_line = 0;
  std::map<sys_days, int> listed_on;                    // day -> line
  std::vector<std::pair<sys_days, int>> workday_lines;  // checked at the end

  text::DirectiveReader reader(text);
  std::vector<std::string_view> tok;
  while (reader.Next(&tok)) {
    line_no = reader.line();
    const std::string_view directive = tok[0];

    if (directive == "tz") {
      if (tz_line != 0) return error("tz already given on line " + std::to_string(tz_line));
      tz_line = line_no;
      if (tok.size() != 2) return error("tz takes one offset like +08:00");
      const std::string_view v = tok[1];
      Micros off = 0;
      if (v.size() != 6 || (v[0] != '+' && v[0] != '-') || !ParseTimeOfDay(v.substr(1), &off) || off > kMaxOffset) {
        return error("bad UTC offset '" + std::string(v) + "' (want ±HH:MM, at most 14:00)");
      }
      cal.utc_offset_ = v[0] == '-' ? -off : off;
    } else if (directive == "hours") {
      if (hours_line != 0) return error("hours already given on line " + std::to_string(hours_line));
      hours_line = line_no;
      if (tok.size() < 2) return error("hours needs at least one interval like 08:30-12:00");
      std::vector<WorkingCalendar::Interval> hours;
      for (size_t i = 1; i < tok.size(); ++i) {
        const std::string_view v = tok[i];
        WorkingCalendar::Interval iv;
        if (v.size() != 11 || v[5] != '-' || !ParseTimeOfDay(v.substr(0, 5), &iv.start) ||
            !ParseTimeOfDay(v.substr(6), &iv.end)) {
          return error("bad interval '" + std::string(v) + "' (want HH:MM-HH:MM)");
        }
        if (iv.start >= iv.end) return error("interval '" + std::string(v) + "' is empty or reversed");
        if (!hours.empty() && iv.start < hours.back().end) {
          return error("interval '" + std::string(v) + "' overlaps or precedes the one before it");
        }
        hours.push_back(iv);
      }
      cal.hours_ = std::move(hours);
    } else if (directive == "weekend") {
      if (weekend_line != 0) {
        return error("weekend already given on line " + std::to_string(weekend_line));
      }
      weekend_line = line_no;
      static constexpr std::array<std::string_view, 7> kNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
      unsigned mask = 0;
      for (size_t i = 1; i < tok.size(); ++i) {
        const std::string lower = Lower(tok[i]);
        auto it = std::find(kNames.begin(), kNames.end(), lower);
        if (it == kNames.end()) return error("unknown weekday '" + std::string(tok[i]) + "' (want mon..sun)");
        const unsigned bit = 1u << (it - kNames.begin());
        if (mask & bit) return error("weekday '" + std::string(tok[i]) + "' listed twice");
        mask |= bit;
      }
      if (mask == 0x7Fu) return error("every day of the week is a weekend day");
      cal.weekend_mask_ = mask;
    } else if (directive == "holiday" || directive == "workday") {
      const bool working = directive == "workday";
      if (tok.size() < 2) return error(std::string(directive) + " needs a date YYYY-MM-DD");
      const std::string_view spec = tok[1];
      sys_days first, last;
      const size_t dots = spec.find("..");
      if (dots == std::string_view::npos) {
        if (!ParseDate(spec, &first)) return error("bad date '" + std::string(spec) + "' (want YYYY-MM-DD)");
        last = first;
      } else {
        if (!ParseDate(spec.substr(0, dots), &first) || !ParseDate(spec.substr(dots + 2), &last)) {
          return error("bad date range '" + std::string(spec) + "' (want YYYY-MM-DD..YYYY-MM-DD)");
        }
        if (last < first) return error("date range '" + std::string(spec) + "' is reversed");
        if ((last - first).count() >= kMaxRangeDays) {
          return error("date range '" + std::string(spec) + "' is longer than a year");
        }
      }
      std::string day_name;
      for (size_t i = 2; i < tok.size(); ++i) {
        if (!day_name.empty()) day_name += ' ';
        day_name += tok[i];
      }
      for (sys_days d = first; d <= last; d += days(1)) {
        auto [it, inserted] = listed_on.emplace(d, line_no);
        if (!inserted) {
          return error("date " + FormatDate(d) + " already listed on line " + std::to_string(it->second));
        }
        cal.overrides_[d] = WorkingCalendar::DayOverride{working, day_name};
        if (working) workday_lines.emplace_back(d, line_no);
      }
    } else {
      return error("unknown directive '" + std::string(directive) + "'");
    }
  }
  for (const auto& [d, line] : workday_lines) {
    if (!cal.IsWeekend(weekday(d))) {
      line_no = line;
      return error("workday " + FormatDate(d) + " is not a weekend day");
    }
  }
  cal.Recompute();
  return cal;
}

}  // namespace grid
