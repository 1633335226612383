// A shard's replicated log in etcd (docs/replication.md): where it lives,
// how its entries are written (by the leader, fenced by its epoch) and how a
// replica reads and applies them.
//
// Keys, under <root>/shards/<shard>/ :
//   leader              the leader's record (LeaderRecord, under its lease);
//                       its create_revision is the leader's epoch
//   log/<position>      one entry; position as 20 decimal digits, so that
//                       keys sort in position order
//   applied/<replica>   the position a replica holds durably (decimal), for
//                       trimming the log
//
// An entry's value: 8 bytes epoch, 4 bytes part, 4 bytes parts (all
// big-endian), then the part's bytes of a RocksDB WriteBatch
// (storage/replication.h).
//
// Thread-safety: EtcdBatchLog is used by one writer at a time (the store
// serialises appends). LogApplier is single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/etcd_client.h"
#include "engine/status.h"
#include "storage/replication.h"
#include "storage/store.h"

namespace grid::replica {

struct ShardKeys {
  ShardKeys(std::string_view root, std::string_view shard);
  std::string leader;
  std::string log_prefix;      // .../log/
  std::string applied_prefix;  // .../applied/
  std::string Log(uint64_t position) const;
  std::string Applied(std::string_view replica) const { return applied_prefix + std::string(replica); }
  // The position a log key names; nullopt for a key that is not one.
  std::optional<uint64_t> PositionOf(std::string_view key) const;
};

struct LogEntry {
  uint64_t epoch = 0;
  uint32_t part = 0;
  uint32_t parts = 1;
  std::string_view data;
};
std::string EncodeLogEntry(uint64_t epoch, uint32_t part, uint32_t parts, std::string_view data);
// LOG_MISMATCH when `value` is not an entry.
StatusOr<LogEntry> DecodeLogEntry(std::string_view value);

// The leader's side: appends each part with one etcd transaction that holds
// only while the shard's leader key is still the one this leader created
// (create_revision == epoch) and the position is free. A deposed leader's
// append therefore fails (NOT_LEADER), whatever it believes.
class EtcdBatchLog final : public storage::BatchLog {
 public:
  // `next`: the position after the log's end as the new leader read it.
  // REQUIRES: client outlives the log.
  EtcdBatchLog(cluster::EtcdClient* client, ShardKeys keys, int64_t epoch, uint64_t next, size_t max_part_bytes);

  size_t max_part_bytes() const override { return max_part_bytes_; }
  uint64_t next_position() const override { return next_; }
  Status Append(uint64_t first, uint32_t parts, std::string_view batch) override;

  int64_t epoch() const { return epoch_; }

 private:
  cluster::EtcdClient* const client_;
  const ShardKeys keys_;
  const int64_t epoch_;
  uint64_t next_;
  const size_t max_part_bytes_;
};

// A replica's side: takes log entries in position order and applies each
// batch to the store once its last part arrives. A batch a deposed leader
// left unfinished is dropped when the next batch starts.
class LogApplier {
 public:
  // REQUIRES: store outlives the applier; the store has no log.
  LogApplier(storage::Store* store, bool sync);

  // The position of the last entry taken (applied or part of a batch still
  // open), starting at the store's position.
  Status Init();
  uint64_t position() const { return position_; }
  // The last position whose batch is in the store.
  uint64_t applied() const { return applied_; }

  // Takes the entry at `position`. LOG_MISMATCH when it is not the next one
  // or does not decode; nothing is written then.
  Status Take(uint64_t position, std::string_view value);

 private:
  storage::Store* const store_;
  const bool sync_;
  uint64_t position_ = 0;
  uint64_t applied_ = 0;
  // The batch being assembled: its epoch, parts so far, and bytes.
  std::optional<LogEntry> open_;
  std::string open_bytes_;
};

// Reads the log from `from` to its end as of one etcd revision, a page at a
// time, giving each entry to `applier`. Returns the etcd revision read at
// (watch from the one after it). LOG_TRUNCATED when the log no longer holds
// `from` (the replica must be restored from a backup: docs/replication.md).
StatusOr<int64_t> CatchUp(cluster::EtcdClient* client, const ShardKeys& keys, LogApplier* applier);

}  // namespace grid::replica
