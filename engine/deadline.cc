// DeadlinePolicy, ComputeDeadlines and the policy parser (see deadline.h).
//
// Thread-safety: no shared mutable state; pure functions.
#include "engine/deadline.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "engine/reasons.h"
#include "engine/text.h"

namespace grid {
namespace {

// Longest accepted policy duration: a year of calendar days or working days.
constexpr Micros kMaxFixed = 366 * kMicrosPerDay;
constexpr int64_t kMaxWorkingDays = 366;

Micros Measure(const WorkingCalendar& cal, CountingMode mode, Micros a, Micros b) {
  return mode == CountingMode::kWorking ? cal.WorkingTimeBetween(a, b) : CalendarTimeBetween(a, b);
}

Micros Add(const WorkingCalendar& cal, CountingMode mode, Micros t, Micros d) {
  return mode == CountingMode::kWorking ? cal.AddWorkingTime(t, d) : AddCalendarTime(t, d);
}

// Pauses clipped to [start, ...), sorted, overlapping or touching ones merged.
std::vector<Pause> Normalize(Micros start, std::span<const Pause> pauses) {
  std::vector<Pause> v;
  v.reserve(pauses.size());
  for (const Pause& p : pauses) {
    if (p.to <= start || p.to <= p.from) continue;
    v.push_back({std::max(p.from, start), p.to});
  }
  std::sort(v.begin(), v.end(), [](const Pause& a, const Pause& b) { return a.from < b.from; });
  std::vector<Pause> out;
  for (const Pause& p : v) {
    if (!out.empty() && p.from <= out.back().to) {
      out.back().to = std::max(out.back().to, p.to);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

Micros AddNormalized(const WorkingCalendar& cal, CountingMode mode, Micros start, Micros duration,
                     const std::vector<Pause>& pauses, Micros* paused) {
  Micros cursor = start;
  Micros remaining = duration;
  Micros skipped = 0;
  if (paused != nullptr) *paused = 0;
  if (duration <= 0) return start;
  for (const Pause& p : pauses) {
    const Micros candidate = Add(cal, mode, cursor, remaining);
    if (candidate <= p.from) break;
    // The due falls after the pause begins: count up to the pause, then stop
    // the clock until it ends. remaining stays > 0 (candidate is the earliest).
    remaining -= Measure(cal, mode, cursor, p.from);
    if (p.to == kOpenPause) {
      if (paused != nullptr) *paused = skipped;
      return kNoDeadline;
    }
    skipped += Measure(cal, mode, p.from, p.to);
    cursor = p.to;
  }
  if (paused != nullptr) *paused = skipped;
  return Add(cal, mode, cursor, remaining);
}

}  // namespace

DeadlinePolicy DeadlinePolicy::Defaults() {
  DeadlinePolicy p;
  auto fixed = [](Micros m) { return PolicyDuration{m, 0}; };
  auto wd = [](int64_t n) { return PolicyDuration{0, n}; };
  p.SetRule("emergency", kAnyPriority,
            {fixed(30 * kMicrosPerMinute), fixed(2 * kMicrosPerHour), CountingMode::kCalendar});
  p.SetRule("utilities", kAnyPriority,
            {fixed(2 * kMicrosPerHour), fixed(24 * kMicrosPerHour), CountingMode::kCalendar});
  p.SetRule("general", kAnyPriority, {wd(1), wd(7), CountingMode::kWorking});
  p.SetRule("complex", kAnyPriority, {wd(1), wd(15), CountingMode::kWorking});
  return p;
}

void DeadlinePolicy::SetRule(std::string deadline_class, int priority, DeadlineRule rule) {
  rules_[{std::move(deadline_class), priority}] = rule;
}

StatusOr<DeadlineRule> DeadlinePolicy::Find(std::string_view deadline_class, grid::v1::Priority priority) const {
  int p = static_cast<int>(priority);
  if (priority == grid::v1::PRIORITY_UNSPECIFIED) p = grid::v1::PRIORITY_NORMAL;
  const std::string cls(deadline_class);
  auto it = rules_.find({cls, p});
  if (it == rules_.end()) it = rules_.find({cls, kAnyPriority});
  if (it == rules_.end()) {
    return Error(reason::UNKNOWN_DEADLINE_CLASS,
                 "no deadline rule for class '" + cls + "' and priority " + std::to_string(p));
  }
  return it->second;
}

Micros AddCountedTime(const WorkingCalendar& calendar, CountingMode mode, Micros start, Micros duration,
                      std::span<const Pause> pauses, Micros* paused) {
  return AddNormalized(calendar, mode, start, duration, Normalize(start, pauses), paused);
}

StatusOr<Deadlines> ComputeDeadlines(const DeadlinePolicy& policy, const WorkingCalendar& calendar,
                                     std::string_view deadline_class, grid::v1::Priority priority, Micros start,
                                     std::span<const Pause> pauses) {
  for (size_t i = 0; i < pauses.size(); ++i) {
    if (pauses[i].from >= pauses[i].to) {
      return Error(reason::INVALID_PAUSE, "pause " + std::to_string(i) + " [" + std::to_string(pauses[i].from) + ", " +
                                              std::to_string(pauses[i].to) + ") is empty or reversed");
    }
  }
  StatusOr<DeadlineRule> rule = policy.Find(deadline_class, priority);
  if (!rule.ok()) return rule.status();
  const std::vector<Pause> merged = Normalize(start, pauses);
  const CountingMode mode = rule->mode;
  const Micros accept = rule->accept.Resolve(calendar);
  const Micros resolve = rule->resolve.Resolve(calendar);
  auto warn = [&](Micros d) { return static_cast<Micros>(std::llround(policy.warn_share() * static_cast<double>(d))); };

  Deadlines out;
  out.mode = mode;
  out.accept_due = AddNormalized(calendar, mode, start, accept, merged, &out.accept_paused);
  out.resolve_due = AddNormalized(calendar, mode, start, resolve, merged, &out.resolve_paused);
  out.accept_warn_at = AddNormalized(calendar, mode, start, warn(accept), merged, nullptr);
  out.resolve_warn_at = AddNormalized(calendar, mode, start, warn(resolve), merged, nullptr);
  return out;
}

// ---------------------------------------------------------------------------
// Parser.

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses "1h30m", "7wd", ... Returns an empty string on success, else what is wrong.
std::string ParseDuration(std::string_view s, CountingMode mode, PolicyDuration* out) {
  PolicyDuration d;
  size_t i = 0;
  if (s.empty()) return "empty duration";
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && IsDigit(s[j])) ++j;
    if (j == i) return "duration '" + std::string(s) + "' needs a number before each unit";
    if (j - i > 6) return "duration '" + std::string(s) + "' has too large a number";
    int64_t n = 0;
    for (size_t k = i; k < j; ++k) n = n * 10 + (s[k] - '0');
    size_t u = j;
    while (u < s.size() && !IsDigit(s[u])) ++u;
    const std::string_view unit = s.substr(j, u - j);
    if (unit == "m") {
      d.fixed += n * kMicrosPerMinute;
    } else if (unit == "h") {
      d.fixed += n * kMicrosPerHour;
    } else if (unit == "d") {
      if (mode != CountingMode::kCalendar) {
        return "duration '" + std::string(s) + "': unit d (24 h days) is for calendar mode; use wd";
      }
      d.fixed += n * kMicrosPerDay;
    } else if (unit == "wd") {
      if (mode != CountingMode::kWorking) {
        return "duration '" + std::string(s) + "': unit wd (working days) is for working mode";
      }
      d.working_days += n;
    } else {
      return "duration '" + std::string(s) + "' has unknown unit '" + std::string(unit) + "' (want m, h, d or wd)";
    }
    if (d.fixed > kMaxFixed || d.working_days > kMaxWorkingDays) {
      return "duration '" + std::string(s) + "' is longer than a year";
    }
    i = u;
  }
  if (d.fixed == 0 && d.working_days == 0) return "duration '" + std::string(s) + "' is zero";
  *out = d;
  return "";
}

bool ValidClass(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '_' || c == '.' || c == '-'; });
}

}  // namespace

StatusOr<DeadlinePolicy> ParseDeadlinePolicy(std::string_view name, std::string_view text) {
  DeadlinePolicy policy;
  int line_no = 0;
  auto error = [&](const std::string& what) {
    return Error(reason::MALFORMED_POLICY, std::string(name) + " line " + std::to_string(line_no) + ": " + what);
  };
  int warn_line = 0;
  std::map<std::pair<std::string, int>, int> rule_line;

  text::DirectiveReader reader(text);
  std::vector<std::string_view> tok;
  while (reader.Next(&tok)) {
    line_no = reader.line();

    if (tok[0] == "warn") {
      if (warn_line != 0) return error("warn already given on line " + std::to_string(warn_line));
      warn_line = line_no;
      if (tok.size() != 2) return error("warn takes one share like 0.8 or 80%");
      std::string v(tok[1]);
      const bool percent = !v.empty() && v.back() == '%';
      if (percent) v.pop_back();
      const bool chars_ok = !v.empty() &&
                            std::all_of(v.begin(), v.end(), [](char c) { return IsDigit(c) || c == '.'; }) &&
                            std::count(v.begin(), v.end(), '.') <= 1 && v.front() != '.' && v.back() != '.';
      double share = chars_ok ? std::strtod(v.c_str(), nullptr) : -1;
      if (percent && chars_ok) share /= 100.0;
      if (!chars_ok || !(share > 0.0 && share <= 1.0)) {
        return error("bad warning share '" + std::string(tok[1]) + "' (want a number in (0, 1] or a percentage)");
      }
      policy.set_warn_share(share);
    } else if (tok[0] == "rule") {
      if (tok.size() != 6) {
        return error("rule takes 5 fields: <class> <priority> <mode> <accept> <resolve>, got " +
                     std::to_string(tok.size() - 1));
      }
      if (!ValidClass(tok[1])) return error("bad deadline class '" + std::string(tok[1]) + "' (want [a-z0-9_.-]+)");
      int priority;
      if (tok[2] == "*") {
        priority = kAnyPriority;
      } else if (tok[2] == "normal") {
        priority = grid::v1::PRIORITY_NORMAL;
      } else if (tok[2] == "urgent") {
        priority = grid::v1::PRIORITY_URGENT;
      } else if (tok[2] == "emergency") {
        priority = grid::v1::PRIORITY_EMERGENCY;
      } else {
        return error("unknown priority '" + std::string(tok[2]) + "' (want normal, urgent, emergency or *)");
      }
      DeadlineRule rule;
      if (tok[3] == "calendar") {
        rule.mode = CountingMode::kCalendar;
      } else if (tok[3] == "working") {
        rule.mode = CountingMode::kWorking;
      } else {
        return error("unknown counting mode '" + std::string(tok[3]) + "' (want calendar or working)");
      }
      if (std::string e = ParseDuration(tok[4], rule.mode, &rule.accept); !e.empty()) return error("accept " + e);
      if (std::string e = ParseDuration(tok[5], rule.mode, &rule.resolve); !e.empty()) return error("resolve " + e);
      const bool accept_later =
          (rule.accept.fixed >= rule.resolve.fixed && rule.accept.working_days >= rule.resolve.working_days) &&
          !(rule.accept == rule.resolve);
      if (accept_later) return error("accept time is longer than resolve time");
      auto key = std::make_pair(std::string(tok[1]), priority);
      auto [it, inserted] = rule_line.emplace(key, line_no);
      if (!inserted) {
        return error("rule for " + std::string(tok[1]) + " " + std::string(tok[2]) + " already given on line " +
                     std::to_string(it->second));
      }
      policy.SetRule(std::move(key.first), priority, rule);
    } else {
      return error("unknown directive '" + std::string(tok[0]) + "' (want warn or rule)");
    }
  }
  if (rule_line.empty()) {
    line_no = 0;
    return error("no rules");
  }
  return policy;
}

}  // namespace grid
