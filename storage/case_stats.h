// Case figures per (unit, day), kept up to date in the batch of every change
// (CaseQuery.GetStats, proto/grid/v1/service.proto).
//
// A case belongs to the day it was created on (China Standard Time, UTC+8)
// and counts under every unit of its chain (IndexedPath). Its contribution is
// in two parts:
//   - state: a pure function of the record (status, acceptance and
//     resolution on time, callback, histogram buckets of the times to accept
//     and to resolve). A commit subtracts the contribution of the record
//     before and adds that of the record after, so a case that moves or
//     changes is counted once, where and as it is now;
//   - events: returns (REJECTED), reopenings (REOPENED) and escalations
//     (ESCALATED, by the level escalated to) add one each, under the chain the
//     case had before the commit (the unit that rejected, or was escalated).
// Each (unit, day) is one key of case_index holding sparse counters; a commit
// adds to it with a RocksDB merge operand (StatsMergeOperator sums them), so
// a commit reads nothing and a reader never scans cases.
//
// Times are histograms with 8 buckets per doubling of seconds: bucket 0 is
// under one second, bucket b >= 1 is [2^((b-1)/8), 2^(b/8)) seconds, up to
// bucket 255 (about 60 years). A percentile reports its bucket's geometric
// middle: within 2^(1/16)-1 = 4.4% of the exact value (0 under one second).
//
// Thread-safety: pure functions; the merge operator is stateless.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/clock.h"
#include "grid/v1/case.pb.h"

namespace rocksdb {
class MergeOperator;
}

namespace grid::storage {

// Counter fields.
namespace stat {
inline constexpr uint32_t kCases = 0;
inline constexpr uint32_t kStatusBase = 1;  // + status (1..15)
inline constexpr uint32_t kAccepted = 16;
inline constexpr uint32_t kAcceptedOnTime = 17;
inline constexpr uint32_t kAcceptMissed = 18;
inline constexpr uint32_t kResolved = 19;
inline constexpr uint32_t kResolvedOnTime = 20;
inline constexpr uint32_t kCalledBack = 21;
inline constexpr uint32_t kSatisfied = 22;
inline constexpr uint32_t kReturns = 23;
inline constexpr uint32_t kReopenings = 24;
inline constexpr uint32_t kEscalationBase = 32;  // + UnitLevel (0..7)
inline constexpr uint32_t kAcceptHistBase = 64;  // + bucket (0..255)
inline constexpr uint32_t kResolveHistBase = 320;
inline constexpr uint32_t kFields = 576;
inline constexpr uint32_t kBuckets = 256;
}  // namespace stat

using Counters = std::array<int64_t, stat::kFields>;
using SparseCounters = std::map<uint32_t, int64_t>;

// Days since 1970-01-01 in UTC+8.
uint32_t DayOf(Micros t);
// "YYYY-MM-DD" -> day number; false when malformed or not a real date.
bool ParseDay(std::string_view text, uint32_t* day);
std::string FormatDay(uint32_t day);

// The histogram bucket of a duration, and a bucket's reported value (seconds).
uint32_t DurationBucket(Micros d);
double BucketValue(uint32_t bucket);
// Nearest-rank percentile (0 < q <= 1) of a histogram; 0 when empty.
double Percentile(const int64_t* buckets, double q);

// The state part of a case's contribution.
SparseCounters StateContribution(const grid::v1::Case& c);

// Adds one change's figures to `deltas` (stats key -> counters, zeros kept):
// before == nullptr for a new case; events: those the commit appends. A
// commit of many changes sums them all and writes one merge operand per
// key, so that a batch of cases from one town adds one operand, not one per
// case, to the town's and its ancestors' keys.
void AddStatsDelta(const grid::v1::Case* before, const grid::v1::Case& after,
                   const std::vector<grid::v1::CaseEvent>* events, std::map<std::string, SparseCounters>* deltas);

// The merge operands of summed deltas, (key, encoded delta), without the
// keys whose counters all cancel out.
std::vector<std::pair<std::string, std::string>> EncodeStatsDeltas(std::map<std::string, SparseCounters>& deltas);

// Every stats merge operand one change produces (AddStatsDelta of one change).
std::vector<std::pair<std::string, std::string>> StatsDelta(const grid::v1::Case* before, const grid::v1::Case& after,
                                                            const std::vector<grid::v1::CaseEvent>* events);

// Sparse counters: varint field | zigzag varint value, ascending fields, no zeros.
std::string EncodeCounters(const SparseCounters& c);
bool DecodeCountersInto(std::string_view bytes, Counters* sum);  // adds
bool DecodeCountersInto(std::string_view bytes, SparseCounters* sum);

// Sums operands; registered on the case_index column family.
std::shared_ptr<rocksdb::MergeOperator> StatsMergeOperator();

// The figures of summed counters (proto/grid/v1/service.proto CaseFigures),
// without the unit's name, code and level.
struct Figures {
  Counters c{};
  double response_rate = 0, resolution_rate = 0, satisfaction_rate = 0, on_time_resolution_rate = 0;
  double median_accept_s = 0, p90_accept_s = 0, median_resolve_s = 0, p90_resolve_s = 0;
};
Figures FiguresOf(const Counters& c);

}  // namespace grid::storage
