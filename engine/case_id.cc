// Case ids: see case_id.h.
#include "engine/case_id.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace grid {

uint64_t CaseIdGenerator::Next(Micros now) {
  const uint64_t millis = now > 0 ? static_cast<uint64_t>(now / 1000) : 0;
  last_ = std::max(last_ + 1, millis * 1000);
  return last_;
}

std::string CaseIdToString(uint64_t id) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(id));
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<uint64_t> ParseCaseId(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace grid
