// RocksDB statuses as grid statuses, for the store's sources.
//
// Thread-safety: a pure function.
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "engine/reasons.h"
#include "engine/status.h"

namespace grid::storage {

// OK, or STORAGE_ERROR with `what` and RocksDB's message: DATA_LOSS for
// corruption, UNAVAILABLE for I/O errors, INTERNAL otherwise.
inline Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  StatusCode code = s.IsCorruption() ? StatusCode::kDataLoss
                    : s.IsIOError()  ? StatusCode::kUnavailable
                                     : StatusCode::kInternal;
  return ErrorWithCode(code, reason::STORAGE_ERROR, what + ": " + s.ToString());
}

}  // namespace grid::storage
