// The durable store: one RocksDB database with a column family per kind of
// record (storage/keys.h, storage/FORMAT.md).
//
// Every change is one WriteBatch: a new case, its events, its idempotency
// entry and its index entries are written together or not at all. Writes are
// WAL-synced (fsync) before they return, unless Options::sync is false (only
// for benchmarks that say so).
//
// A low disk: while the data directory's file system has fewer free bytes
// than StoreOptions::min_free_bytes, writes answer UNAVAILABLE DISK_LOW and
// write nothing, reads go on, and writes resume by themselves once space is
// freed (no restart).
//
// Faults: a write or fsync that fails makes the store read-only: Commit and
// SaveDirectory answer UNAVAILABLE (STORE_FAILED for the write that failed,
// STORE_READ_ONLY for those after it) and write nothing, while every read
// goes on. A background flush or compaction that fails does the same
// (RocksDB's OnBackgroundError). Resume() leaves the state only after a
// flush or compaction found the disk full (and space is back); a failed
// write or fsync of the WAL, and any I/O error, need a restart, because the
// batch that failed may still be in the WAL and the writer reuses its case
// ids and feed cursors (the restart replays the WAL before anything reads
// them).
//
// Thread-safety: all methods are safe to call concurrently (RocksDB is).
// Idempotency is checked and written by one writer at a time (the intake
// writer in services/); the store itself does not serialise writers.
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/directory.h"
#include "engine/intake.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"
#include "grid/v1/directory.pb.h"
#include "grid/v1/operations.pb.h"
#include "port/mutex.h"
#include "storage/backup.h"
#include "storage/case_query.h"
#include "storage/case_stats.h"
#include "storage/keys.h"
#include "storage/replication.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class EventListener;
class FileSystem;
class WriteBatch;
}  // namespace rocksdb

namespace grid::storage {

struct StoreOptions {
  std::string path;
  bool sync = true;                       // fsync the WAL on every write
  size_t block_cache_bytes = 256u << 20;  // shared by every column family
  // The most write-ahead log kept unflushed, which is what a restart after a
  // crash replays (docs/operations.md "Recovery after a crash"). Past it, the
  // column families that hold the oldest log are flushed, so the log stays
  // near this bound (above it only while flushes catch up; writes stall
  // when a family holds four memtables); each family's memtable is half of
  // it. 0: no bound (RocksDB's defaults, 128 MiB memtables: hours of intake
  // are replayed after a crash).
  uint64_t max_log_bytes = 32ull << 20;
  // The file system under the database (null: the machine's). Tests give a
  // FaultFileSystem (storage/fault_file_system.h).
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Free bytes kept on the data directory's file system: while fewer are
  // free (statvfs, checked before every write), writes are refused with
  // UNAVAILABLE DISK_LOW and nothing is written; the first write or Resume()
  // that finds them free again takes writes. RocksDB then never meets a full
  // disk in its write-ahead log, which would need a restart. 0: no guard.
  uint64_t min_free_bytes = 0;
  // The replicated log every write goes to first (storage/replication.h):
  // set on a shard's leader; null on a single node and on a follower (which
  // writes with ApplyLogged only).
  std::shared_ptr<BatchLog> log;
};

struct StoredDirectory {
  grid::v1::DirectoryContent content;
  uint64_t version = 0;
};

struct IdempotencyRecord {
  uint64_t case_id = 0;
  uint64_t fingerprint = 0;
};

// One case written by a commit: a new case (before == nullptr, with its
// idempotency entry when the key is not empty) or a changed one. The case's
// secondary index entries (storage/case_index.h) are rewritten from the
// difference between before and after, in the same batch.
struct CaseChange {
  const grid::v1::Case* before = nullptr;
  const grid::v1::Case* after = nullptr;
  const std::vector<grid::v1::CaseEvent>* events = nullptr;  // appended, may be null
  std::string caller;
  std::string idempotency_key;
  uint64_t fingerprint = 0;
};

// RocksDB's figures as /metrics shows them (docs/observability.md).
struct StoreFigures {
  uint64_t memtable_bytes = 0;             // rocksdb.cur-size-all-mem-tables, all column families
  uint64_t pending_compaction_bytes = 0;   // rocksdb.estimate-pending-compaction-bytes, summed
  uint64_t live_sst_bytes = 0;             // rocksdb.live-sst-files-size, summed
  uint64_t running_compactions = 0;        // rocksdb.num-running-compactions
  uint64_t running_flushes = 0;            // rocksdb.num-running-flushes
  uint64_t actual_delayed_write_rate = 0;  // rocksdb.actual-delayed-write-rate: bytes/s, 0 when not delayed
  bool write_stopped = false;              // rocksdb.is-write-stopped
};

class Store {
 public:
  // Opens or creates the store at options.path.
  // - A missing or empty directory becomes a new store.
  // - A directory that holds a store of ours is opened.
  // - Anything else (a non-empty directory that is not a RocksDB database, or
  //   a RocksDB database with other column families) is refused with
  //   FAILED_PRECONDITION / FOREIGN_DATA_DIR and left untouched: only its
  //   MANIFEST is read. (A database with exactly our column families but no
  //   format marker is refused too, after being opened.)
  // - A store that cannot be read (corruption, permissions) is refused with
  //   its RocksDB message (DATA_DIR_UNREADABLE), also untouched.
  static StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The stored directory, or nullopt when none has been saved yet. Units
  // come without their boundaries (read them with GetBoundary or
  // ForEachBoundary), except in a store written before boundaries were kept
  // apart, whose units still carry them. Without `with_units` the content
  // has no units (read them with ForEachUnit): a restart that has them
  // saved in a file does not read millions of entries.
  StatusOr<std::optional<StoredDirectory>> LoadDirectory(bool with_units = true) const;
  // Calls fn for every stored unit, in code order (as LoadDirectory gives
  // them), with one message reused from call to call; stops at fn's first
  // error.
  Status ForEachUnit(const std::function<Status(const grid::v1::Unit&)>& fn) const;
  // Saves a directory version. With replace, `content` is the whole
  // directory and everything else is removed; otherwise its entries are
  // added or replaced (a unit given without a boundary loses its stored
  // one). One synced batch.
  //
  // A replace keeps the entries it removes (the directory saved before it,
  // when there is one) as the previous directory, in the same batch,
  // dropping the one kept before: LoadPreviousDirectory reads it.
  Status SaveDirectory(const grid::v1::DirectoryContent& content, uint64_t version, bool replace);
  // The directory the last replace replaced, with every unit's boundary in
  // its unit (as an import brings it); nullopt when none is kept.
  StatusOr<std::optional<StoredDirectory>> LoadPreviousDirectory() const;

  // A unit's stored boundary; nullopt when the unit has none (or is unknown).
  StatusOr<std::optional<grid::v1::Boundary>> GetBoundary(const std::string& unit_code) const;
  // Calls fn for every boundary kept apart, of grids (`grids`) or of the
  // other units, in ascending code order; stops at fn's first error.
  Status ForEachBoundary(bool grids,
                         const std::function<Status(std::string_view code, const grid::v1::Boundary&)>& fn) const;

  // OK while the store takes writes; otherwise the UNAVAILABLE
  // STORE_READ_ONLY status that writes get, naming the failure (or DISK_LOW,
  // naming the free space, while the disk is low).
  Status WriteState() const ABSL_LOCKS_EXCLUDED(state_mu_);
  // `listener` is called with the new write state each time it changes (an
  // error when the store turns read-only, OK when it takes writes again), on
  // the thread that saw the change (a RocksDB background thread, a writer).
  // It must not block or call the store. Set before any write.
  void SetWriteStateListener(std::function<void(const Status&)> listener) ABSL_LOCKS_EXCLUDED(state_mu_);
  // Tries to take writes again after a failure (RocksDB's DB::Resume: it
  // flushes what is in memory on fresh files). OK when writes resume (or
  // never stopped); otherwise the store stays read-only and the status says
  // why (a failed WAL write or an I/O error stays until a restart; a flush
  // or compaction that found the disk full, until space returns). While the
  // disk is low, it looks at the free space again: DISK_LOW until it is back.
  Status Resume() ABSL_LOCKS_EXCLUDED(state_mu_);

  // The highest case id stored, 0 when none.
  StatusOr<uint64_t> MaxCaseId() const;

  StatusOr<std::optional<IdempotencyRecord>> FindIdempotency(const std::string& caller, const std::string& key) const;

  // Writes every change, its events, its index entries and the feed entries
  // in one synced batch: all of it or none of it. A failed write or fsync
  // answers UNAVAILABLE STORE_FAILED (the batch may survive a restart whole,
  // never in part) and makes the store read-only. `orphan_dues` are due-time
  // entries that no record asks for any more (found by the writer when a
  // timer fired stale); they are deleted in the same batch.
  Status Commit(const std::vector<CaseChange>& changes, const std::vector<grid::v1::FeedEntry>& feed,
                const std::vector<DueKey>& orphan_dues = {});

  // The highest feed cursor stored, 0 when none.
  StatusOr<uint64_t> LastFeedCursor() const;
  // Feed entries with cursor > after, in order, at most `limit`.
  StatusOr<std::vector<grid::v1::FeedEntry>> ReadFeed(uint64_t after, size_t limit) const;
  // The lowest feed cursor stored, 0 when none.
  StatusOr<uint64_t> FirstFeedCursor() const;
  // Calls fn(cursor, serialized FeedEntry) for entries with cursor > after,
  // in order, until fn returns false or `limit` entries were visited; the
  // number visited. The bytes are valid during the call only.
  StatusOr<size_t> ScanFeed(uint64_t after, size_t limit,
                            const std::function<bool(uint64_t cursor, std::string_view entry)>& fn) const;
  // Feed retention: deletes the oldest entries whose event time is before
  // `cutoff_micros`, at most `limit` of them, stopping at the first newer
  // one. The newest entry is always kept, so the writer's cursor sequence
  // survives a restart even when everything is older than the cutoff.
  // Returns the number deleted.
  StatusOr<size_t> TrimFeed(int64_t cutoff_micros, size_t limit);

  // Due-time index: timers from key `from` up to those due at `up_to`, earliest first, at most
  // `limit`. Fired timers leave tombstones at the head of the index until
  // compaction; a reader that knows nothing is due before `from` seeks past
  // them instead of stepping over each.
  // `from` (inclusive) may name a whole key: a burst of timers at one instant
  // leaves its tombstones under that very instant.
  StatusOr<std::vector<DueKey>> DueUpTo(uint64_t up_to_micros, size_t limit, const DueKey& from = DueKey{}) const;
  // The earliest timer, if any.
  StatusOr<std::optional<DueKey>> NextDue() const;
  // Flushes every column family's memtables to table files (so that a
  // restart does not replay them from the log).
  Status Flush();
  // Flushes, then compacts every column family down to its last level (merge
  // operands folded, tombstones dropped). For tools after a bulk load; it
  // rewrites the whole store and blocks until done.
  Status CompactAll();
  // Number of timers in the index (a scan of its keys; for tests, tools and
  // the deadlines-pending metric).
  StatusOr<size_t> CountDue() const;

  // Replication (storage/replication.h, docs/replication.md).
  //
  // The log position the store holds: the last log entry written or applied
  // (0: none). Every batch a replicated store writes, and every batch a
  // follower applies, records it in the same WriteBatch.
  StatusOr<uint64_t> LogPosition() const;
  // A follower applies the batch that ends at log position `last` (its last
  // part), as the leader wrote it, synced when `sync`. The batch must carry
  // kLogPositionKey == last, and `last` must be past the store's position:
  // else DATA_LOSS LOG_MISMATCH and nothing is written. REQUIRES: the store
  // has no log (a follower's), one caller at a time.
  Status ApplyLogged(uint64_t last, std::string_view batch, bool sync);
  // Syncs the write-ahead log: everything written before is durable after
  // (a replica reports its position as applied only after this).
  Status SyncWal();

  // RocksDB's own figures, read now (GetIntProperty, summed over the column
  // families where a property is per family). For /metrics.
  StoreFigures Figures() const;
  // Called after every synced write with its duration (the db->Write call:
  // the WAL append and its fsync) and the batch's size. REQUIRES: set before
  // the first write; the observer must be thread-safe and must not block.
  void SetWriteObserver(std::function<void(double seconds, size_t bytes)> observer) {
    write_observer_ = std::move(observer);
  }

  StatusOr<std::optional<grid::v1::Case>> GetCase(uint64_t case_id) const;
  StatusOr<std::vector<grid::v1::CaseEvent>> GetEvents(uint64_t case_id) const;

  // Open cases per assigned member, from the index (keys only).
  StatusOr<std::unordered_map<std::string, uint32_t>> OpenCasesPerAssignee() const;

  // Case ids routed to `unit_code` (exactly that unit), ascending, at most `limit`.
  StatusOr<std::vector<uint64_t>> CasesOfUnit(const std::string& unit_code, size_t limit) const;

  // One page of a subtree's cases (storage/case_query.h), read from one
  // snapshot. Implemented in store_queries.cc.
  StatusOr<CaseListPage> ListCases(const CaseListQuery& query) const;
  // The summed figures of each unit's subtree over days [from_day, to_day],
  // all read from one snapshot (storage/case_stats.h).
  StatusOr<std::vector<Counters>> ReadStats(const std::vector<std::string>& unit_codes, uint32_t from_day,
                                            uint32_t to_day) const;
  // Gives every stored case its query index entries and figures, once: a
  // store written before they existed gets them (and unit_path, from
  // `directory`); a store that has them (the marker kQueryIndexesKey) is left
  // as it is. Idempotent across a crash: it first removes whatever query
  // entries a broken run left. Call before any writer starts. Returns the
  // number of cases indexed.
  StatusOr<uint64_t> BackfillQueryIndexes(const Directory& directory);

  // Tokens (storage/token_store.cc). PutToken writes a token's record
  // (synced); ListTokens reads every record with its last use filled in;
  // PutTokenLastUse records a last use without syncing (a lost one costs a
  // minute of last-use precision, nothing else).
  Status PutToken(const grid::v1::StoredToken& token);
  StatusOr<std::vector<grid::v1::StoredToken>> ListTokens() const;
  Status PutTokenLastUse(std::string_view token_id, int64_t micros);

 private:
  friend StatusOr<BackupSummary> CreateBackup(Store* store, const std::string& data_dir, const std::string& backup_dir,
                                              uint32_t keep_last);
  class Listener;
  Store() = default;
  // Writes `batch` (synced unless sync_ is false) if the store takes writes;
  // a failure makes it read-only and answers STORE_FAILED.
  Status WriteSynced(rocksdb::WriteBatch* batch, const std::string& what) ABSL_LOCKS_EXCLUDED(state_mu_);
  // WriteSynced with a log: appends the batch (with its log position) to the
  // log, then writes it.
  Status WriteLogged(rocksdb::WriteBatch* batch, const std::string& what) ABSL_LOCKS_EXCLUDED(log_mu_, state_mu_);
  // Records a failure (the first one names the state) and tells the
  // listener. `needs_restart`: Resume() may not undo it (a failed write to
  // the WAL, an I/O error); only a restart does.
  void MarkReadOnly(const std::string& cause, bool needs_restart) ABSL_LOCKS_EXCLUDED(state_mu_);
  // DISK_LOW while the data directory's file system has fewer than
  // min_free_bytes_ free (telling the listener when that changes); OK when
  // it has them, when there is no guard, or when statvfs cannot tell.
  Status CheckFreeSpace() ABSL_LOCKS_EXCLUDED(state_mu_);
  // The write state the listener and WriteState() see: a failure first,
  // then a low disk.
  Status StateLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);

  std::unique_ptr<rocksdb::Env> env_;  // over options.file_system; outlives db_
  std::shared_ptr<rocksdb::EventListener> listener_;
  mutable Mutex state_mu_;
  Status write_state_ ABSL_GUARDED_BY(state_mu_);
  bool needs_restart_ ABSL_GUARDED_BY(state_mu_) = false;
  uint64_t failures_ ABSL_GUARDED_BY(state_mu_) = 0;  // MarkReadOnly calls, to see one during Resume
  Status disk_low_ ABSL_GUARDED_BY(state_mu_);        // DISK_LOW while the disk is low, else OK
  std::string path_;                                  // the data directory, for statvfs
  uint64_t min_free_bytes_ = 0;
  std::function<void(const Status&)> state_listener_ ABSL_GUARDED_BY(state_mu_);
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* directory_ = nullptr;
  rocksdb::ColumnFamilyHandle* cases_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency_ = nullptr;
  rocksdb::ColumnFamilyHandle* index_ = nullptr;
  rocksdb::ColumnFamilyHandle* feed_ = nullptr;
  bool sync_ = true;
  std::function<void(double seconds, size_t bytes)> write_observer_;
  // Replicated writes take positions, append and write in one order.
  std::shared_ptr<BatchLog> log_;
  Mutex log_mu_;
  uint64_t log_position_ ABSL_GUARDED_BY(log_mu_) = 0;
};

}  // namespace grid::storage
