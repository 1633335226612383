// Conversions between the engine's Micros (microseconds since the Unix epoch,
// UTC) and google.protobuf.Timestamp, the form instants take in records.
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include "engine/clock.h"

namespace grid {

inline google::protobuf::Timestamp ToTimestamp(Micros t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(t / 1'000'000);
  ts.set_nanos(static_cast<int32_t>(t % 1'000'000) * 1000);
  return ts;
}

inline Micros FromTimestamp(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1'000'000 + ts.nanos() / 1000;
}

}  // namespace grid
