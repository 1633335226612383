// Case ids: sortable by creation time and unique across restarts.
//
// An id is a 64-bit number: milliseconds since the Unix epoch times 1,000,
// plus a sequence number within that millisecond. When more than 1,000 cases
// arrive in one millisecond, or the clock steps back, ids borrow from the next
// millisecond, so they only ever grow. After a restart the generator is seeded
// with the highest id in storage, so a clock that went back across the restart
// cannot produce an id twice. The text form is the number in 16 decimal digits
// (e.g. "1795772245123000"), which sorts like the number until the year 2286.
//
// Thread-safety: CaseIdGenerator is not thread-safe; one writer owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/clock.h"

namespace grid {

class CaseIdGenerator {
 public:
  // `last_issued`: the highest id ever issued (0 when none).
  explicit CaseIdGenerator(uint64_t last_issued) : last_(last_issued) {}

  // The next id for a case created at `now`.
  uint64_t Next(Micros now);
  uint64_t last() const { return last_; }

 private:
  uint64_t last_;
};

std::string CaseIdToString(uint64_t id);
// Parses the text form; nullopt unless it is 1-20 decimal digits that fit.
std::optional<uint64_t> ParseCaseId(std::string_view text);

}  // namespace grid
