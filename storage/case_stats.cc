// Case figures per (unit, day): see case_stats.h.
#include "storage/case_stats.h"

#include <rocksdb/merge_operator.h>

#include <cmath>
#include <cstdio>

#include "storage/case_query.h"
#include "storage/keys.h"

namespace grid::storage {
namespace {

constexpr Micros kChinaOffset = 8LL * 3600 * 1'000'000;
constexpr Micros kDay = 86400LL * 1'000'000;

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

template <typename Add>
bool ForEachCounter(std::string_view in, Add add) {
  while (!in.empty()) {
    uint64_t field = 0, value = 0;
    if (!GetVarint(&in, &field) || !GetVarint(&in, &value) || field >= stat::kFields) return false;
    add(static_cast<uint32_t>(field), UnZigZag(value));
  }
  return true;
}

// Days from 1970-01-01 of a civil date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

class SumOperator final : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    SparseCounters sum;
    if (in.existing_value != nullptr &&
        !DecodeCountersInto(std::string_view(in.existing_value->data(), in.existing_value->size()), &sum)) {
      return false;
    }
    for (const auto& op : in.operand_list) {
      if (!DecodeCountersInto(std::string_view(op.data(), op.size()), &sum)) return false;
    }
    out->new_value = EncodeCounters(sum);
    return true;
  }
  bool PartialMerge(const rocksdb::Slice&, const rocksdb::Slice& left, const rocksdb::Slice& right,
                    std::string* new_value, rocksdb::Logger*) const override {
    SparseCounters sum;
    if (!DecodeCountersInto(std::string_view(left.data(), left.size()), &sum) ||
        !DecodeCountersInto(std::string_view(right.data(), right.size()), &sum)) {
      return false;
    }
    *new_value = EncodeCounters(sum);
    return true;
  }
  const char* Name() const override { return "grid.case_stats.sum"; }
};

}  // namespace

uint32_t DayOf(Micros t) {
  const Micros local = t + kChinaOffset;
  return static_cast<uint32_t>(local >= 0 ? local / kDay : 0);
}

bool ParseDay(std::string_view s, uint32_t* day) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int v[3] = {0, 0, 0};
  const int starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < lens[i]; ++j) {
      const char ch = s[static_cast<size_t>(starts[i] + j)];
      if (ch < '0' || ch > '9') return false;
      v[i] = v[i] * 10 + (ch - '0');
    }
  }
  const int y = v[0], m = v[1], d = v[2];
  if (y < 1970 || m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return false;
  *day = static_cast<uint32_t>(DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
  return true;
}

std::string FormatDay(uint32_t day) {
  // Civil from days (H. Hinnant).
  int64_t z = static_cast<int64_t>(day) + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

uint32_t DurationBucket(Micros d) {
  const double s = static_cast<double>(d) / 1e6;
  if (!(s >= 1.0)) return 0;
  const double b = 1.0 + std::floor(8.0 * std::log2(s));
  return b >= stat::kBuckets - 1 ? stat::kBuckets - 1 : static_cast<uint32_t>(b);
}

double BucketValue(uint32_t bucket) {
  if (bucket == 0) return 0;
  return std::exp2((static_cast<double>(bucket) - 0.5) / 8.0);
}

double Percentile(const int64_t* buckets, double q) {
  int64_t n = 0;
  for (uint32_t b = 0; b < stat::kBuckets; ++b) n += buckets[b];
  if (n <= 0) return 0;
  const auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(n)));
  int64_t seen = 0;
  for (uint32_t b = 0; b < stat::kBuckets; ++b) {
    seen += buckets[b];
    if (seen >= rank && buckets[b] > 0) return BucketValue(b);
  }
  return BucketValue(stat::kBuckets - 1);
}

SparseCounters StateContribution(const grid::v1::Case& c) {
  SparseCounters out;
  out[stat::kCases] = 1;
  out[stat::kStatusBase + static_cast<uint32_t>(c.status() & 15)] += 1;
  const Micros created = MicrosOf(c.created_at());
  if (c.has_accepted_at()) {
    out[stat::kAccepted] += 1;
    if (c.accepted_on_time()) out[stat::kAcceptedOnTime] += 1;
    out[stat::kAcceptHistBase + DurationBucket(MicrosOf(c.accepted_at()) - created)] += 1;
  } else if (c.deadlines().accept_overdue()) {
    out[stat::kAcceptMissed] += 1;
  }
  const bool resolved = c.has_resolved_at() &&
                        (c.status() == grid::v1::CASE_STATUS_RESOLVED ||
                         c.status() == grid::v1::CASE_STATUS_CALLED_BACK || c.status() == grid::v1::CASE_STATUS_CLOSED);
  if (resolved) {
    out[stat::kResolved] += 1;
    if (c.resolved_on_time()) out[stat::kResolvedOnTime] += 1;
    out[stat::kResolveHistBase + DurationBucket(MicrosOf(c.resolved_at()) - created)] += 1;
  }
  if (c.has_callback() && c.callback().has_at()) {
    out[stat::kCalledBack] += 1;
    if (c.callback().satisfied()) out[stat::kSatisfied] += 1;
  }
  return out;
}

void AddStatsDelta(const grid::v1::Case* before, const grid::v1::Case& after,
                   const std::vector<grid::v1::CaseEvent>* events, std::map<std::string, SparseCounters>* out) {
  std::map<std::string, SparseCounters>& deltas = *out;
  auto add = [&](const grid::v1::Case& c, const SparseCounters& counters, int64_t sign) {
    const uint32_t day = DayOf(MicrosOf(c.created_at()));
    for (const std::string& unit : IndexedPath(c)) {
      SparseCounters& d = deltas[StatsKey(unit, day)];
      for (const auto& [field, v] : counters) d[field] += sign * v;
    }
  };
  if (before != nullptr) add(*before, StateContribution(*before), -1);
  add(after, StateContribution(after), +1);
  if (events != nullptr) {
    SparseCounters happened;
    for (const auto& e : *events) {
      switch (e.type()) {
        case grid::v1::EVENT_TYPE_REJECTED: happened[stat::kReturns] += 1; break;
        case grid::v1::EVENT_TYPE_REOPENED: happened[stat::kReopenings] += 1; break;
        case grid::v1::EVENT_TYPE_ESCALATED:
          happened[stat::kEscalationBase + static_cast<uint32_t>(e.to_level() & 7)] += 1;
          break;
        default: break;
      }
    }
    if (!happened.empty()) {
      // Under the chain the case had when they happened; the day stays the
      // case's creation day (created_at never changes).
      const grid::v1::Case& where = before != nullptr ? *before : after;
      const uint32_t day = DayOf(MicrosOf(after.created_at()));
      for (const std::string& unit : IndexedPath(where)) {
        SparseCounters& d = deltas[StatsKey(unit, day)];
        for (const auto& [field, v] : happened) d[field] += v;
      }
    }
  }
}

std::vector<std::pair<std::string, std::string>> EncodeStatsDeltas(std::map<std::string, SparseCounters>& deltas) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(deltas.size());
  for (auto& [key, d] : deltas) {
    std::string encoded = EncodeCounters(d);  // leaves out the zeros
    if (!encoded.empty()) out.emplace_back(key, std::move(encoded));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> StatsDelta(const grid::v1::Case* before, const grid::v1::Case& after,
                                                            const std::vector<grid::v1::CaseEvent>* events) {
  std::map<std::string, SparseCounters> deltas;
  AddStatsDelta(before, after, events, &deltas);
  return EncodeStatsDeltas(deltas);
}

std::string EncodeCounters(const SparseCounters& c) {
  std::string out;
  for (const auto& [field, v] : c) {
    if (v == 0) continue;
    PutVarint(&out, field);
    PutVarint(&out, ZigZag(v));
  }
  return out;
}

bool DecodeCountersInto(std::string_view bytes, Counters* sum) {
  return ForEachCounter(bytes, [sum](uint32_t f, int64_t v) { (*sum)[f] += v; });
}

bool DecodeCountersInto(std::string_view bytes, SparseCounters* sum) {
  return ForEachCounter(bytes, [sum](uint32_t f, int64_t v) { (*sum)[f] += v; });
}

std::shared_ptr<rocksdb::MergeOperator> StatsMergeOperator() { return std::make_shared<SumOperator>(); }

Figures FiguresOf(const Counters& c) {
  Figures f;
  f.c = c;
  auto rate = [](int64_t num, int64_t den) {
    return den <= 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
  };
  using namespace stat;
  f.response_rate = rate(c[kAcceptedOnTime], c[kAccepted] + c[kAcceptMissed]);
  const int64_t counted =
      c[kCases] - c[kStatusBase + grid::v1::CASE_STATUS_MERGED] - c[kStatusBase + grid::v1::CASE_STATUS_CANCELLED];
  f.resolution_rate = rate(c[kResolved], counted);
  f.satisfaction_rate = rate(c[kSatisfied], c[kCalledBack]);
  f.on_time_resolution_rate = rate(c[kResolvedOnTime], c[kResolved]);
  f.median_accept_s = Percentile(&c[kAcceptHistBase], 0.5);
  f.p90_accept_s = Percentile(&c[kAcceptHistBase], 0.9);
  f.median_resolve_s = Percentile(&c[kResolveHistBase], 0.5);
  f.p90_resolve_s = Percentile(&c[kResolveHistBase], 0.9);
  return f;
}

}  // namespace grid::storage
