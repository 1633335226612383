// The store's hook into a replicated log (docs/replication.md).
//
// A replicated store (StoreOptions::log set: a shard's leader) appends every
// batch it writes to the log before writing it to RocksDB, and stores the
// log position the batch ends at in the batch itself (meta key
// kLogPositionKey), so that the store always says which prefix of the log it
// holds. A follower applies the log's batches, in order, with
// Store::ApplyLogged, which checks and records the same position.
//
// A batch larger than the log's entry limit is cut into `parts` consecutive
// entries; a follower applies it when the last part arrives. Positions start
// at 1; a store that has applied nothing is at 0.
//
// Thread-safety: the store calls Append from one writer at a time, in
// position order.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/status.h"

namespace grid::storage {

class BatchLog {
 public:
  virtual ~BatchLog() = default;

  // The largest entry the log takes; a batch longer than this is cut into
  // parts of at most this many bytes.
  virtual size_t max_part_bytes() const = 0;

  // The position the next Append starts at: past the log's end, which may be
  // past the store's own position when a deposed leader left parts of a
  // batch it never finished (followers drop those).
  virtual uint64_t next_position() const = 0;

  // Makes `batch` (a RocksDB WriteBatch's bytes) durable in the log as the
  // `parts` entries at positions first .. first + parts - 1 (first is
  // next_position(); after an OK, next_position() is past them), cut at
  // max_part_bytes(). OK only once every part is durable; any error means the
  // outcome is unknown (some parts, or all, may be in the log) and the store
  // takes no more writes: its holder must step down and catch up from the
  // log (NOT_LEADER when the log refused a deposed leader,
  // REPLICATION_FAILED otherwise).
  virtual Status Append(uint64_t first, uint32_t parts, std::string_view batch) = 0;
};

// How many parts a batch of `bytes` takes in a log whose entries hold at most
// `max_part` bytes (at least one).
inline uint32_t PartsFor(size_t bytes, size_t max_part) {
  return bytes == 0 ? 1 : static_cast<uint32_t>((bytes + max_part - 1) / max_part);
}

}  // namespace grid::storage
