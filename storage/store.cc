// The RocksDB store: see store.h and FORMAT.md.
#include "storage/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <system_error>

#include "engine/case_id.h"
#include "engine/reasons.h"
#include "storage/case_index.h"
#include "storage/case_stats.h"
#include "storage/keys.h"
#include "storage/rocks_status.h"

namespace grid::storage {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& AllColumnFamilies() {
  static const std::vector<std::string> cfs = {kMetaCf,        kDirectoryCf, kCasesCf, kEventsCf,
                                               kIdempotencyCf, kIndexCf,     kFeedCf};
  return cfs;
}

// The column families of the first stores (before the feed): still ours; the
// missing ones are created when such a store is opened.
const std::vector<std::string>& FirstColumnFamilies() {
  static const std::vector<std::string> cfs = {kMetaCf, kDirectoryCf, kCasesCf, kEventsCf, kIdempotencyCf, kIndexCf};
  return cfs;
}

// One block cache for every column family. Index and filter blocks live in
// it with high priority, and filters are partitioned, so that a point read
// loads one small filter partition: with RocksDB's default 8 MB cache and
// whole-file filters, every read of a case in a million re-read and
// re-checksummed a filter block of megabytes (1,500 deadline fires/s).
//
// With a log bound (StoreOptions::max_log_bytes), each memtable is half of
// it and is flushed on its own as soon as it is full (instead of waiting for
// a second one to merge): the bound is what flushes, and a restart replays
// the log into memtables without flushing half way. A family whose flushes
// fall behind stalls writes at four memtables.
rocksdb::ColumnFamilyOptions CfOptions(bool point_lookups, const std::shared_ptr<rocksdb::Cache>& cache,
                                       uint64_t max_log_bytes) {
  rocksdb::ColumnFamilyOptions cf;
  cf.OptimizeLevelStyleCompaction();
  if (max_log_bytes != 0) {
    cf.write_buffer_size = std::max<size_t>(max_log_bytes / 2, 64u << 10);
    cf.max_write_buffer_number = 4;
    cf.min_write_buffer_number_to_merge = 1;
  }
  rocksdb::BlockBasedTableOptions table;
  if (point_lookups) table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = point_lookups;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = rocksdb::kLZ4Compression;
  // Every flush of the case families overlaps the whole of level 1 (index
  // keys of new cases land in every list, due times all over the calendar),
  // so each level-0 compaction rewrites level 1: with
  // OptimizeLevelStyleCompaction's trigger of 2 files, a burst of 100,000
  // deadlines over 300,000 cases rewrote 1,173 MB in 22.7 s of compaction;
  // with 4, 608 MB in 6.9 s (deadline_bench, BENCHMARKS.md). Reads merge at
  // most a few more level-0 files.
  cf.level0_file_num_compaction_trigger = 4;
  return cf;
}

// Insert hints for the memtables (ColumnFamilyOptions::
// memtable_insert_with_hint_prefix_extractor): RocksDB keeps, per prefix, the
// place of the last insert and starts the next insert of that prefix there
// instead of at the skiplist's head. Our keys grow like logs: case ids and
// feed cursors only increase, and every append-like index key is a list
// (unit, status or member) followed by the case id, so the next key of a
// list goes right after the previous one. Searching the skiplist from the
// head for each of a new case's ~28 keys was a fifth of gridd's CPU at 64
// callers (key comparisons over long shared prefixes).
//
// AppendPrefix: the whole key but its last 8 bytes (the case id), for the
// index tags whose keys end with the case id; other keys (due times, figures)
// take no hint. LogPrefix: one empty prefix for every key: the family is
// appended to in key order (cases, events of new cases).
//
// RocksDB 7.8's MemTable::Add looks the hint up by prefix alone, also for a
// range deletion, which goes to a skiplist of its own: a splice of the point
// skiplist handed to the range-deletion one breaks it (an assertion in
// Debian's build). So no family that takes DeleteRange keys in a hint's
// domain: the feed (TrimFeed) has no hint, and the index family's range
// bounds (one tag byte, Store::BackfillQueryIndexes) are outside
// AppendPrefix's domain.
class AppendPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "grid.IndexAppendPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    if (key.size() <= 9) return false;
    switch (static_cast<IndexTag>(key[0])) {
      case IndexTag::kByUnit:
      case IndexTag::kByStatus:
      case IndexTag::kOpenByAssignee:
      case IndexTag::kListByUnit:
      case IndexTag::kListByUnitStatus: return true;
      default: return false;
    }
  }
};

class LogPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "grid.LogPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return rocksdb::Slice(key.data(), 0); }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

Status WriteQueryOps(const std::vector<IndexOp>& ops, rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch* batch) {
  for (const IndexOp& op : ops) {
    rocksdb::Status s = op.kind == IndexOp::Kind::kDelete ? batch->Delete(cf, op.key)
                        : op.kind == IndexOp::Kind::kPut  ? batch->Put(cf, op.key, op.value)
                                                          : batch->Merge(cf, op.key, op.value);
    GRID_RETURN_IF_ERROR(FromRocks(s, "writing the query indexes"));
  }
  return Status::Ok();
}

bool IsEmptyDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::directory_iterator(p, ec) == fs::directory_iterator();
}

template <typename Msg>
Status Parse(const std::string& bytes, Msg* msg, const std::string& what) {
  if (!msg->ParseFromString(bytes)) return Error(reason::CORRUPT_RECORD, what + " cannot be parsed");
  return Status::Ok();
}

}  // namespace

// Turns the store read-only when a background flush or compaction (or a
// write) fails, and leaves recovery to Store::Resume, so that the server
// decides when to try (RocksDB's own would poll free space every 5 s).
// Only a flush or compaction that found the disk full may resume without a
// restart: it leaves nothing half-done behind (its data is still in the
// memtables and the WAL). Any other failure, and every failed write to the
// WAL, waits for a restart: a batch that was not acknowledged may still be
// in the WAL, and a later batch taking the same case ids or feed cursors
// would collide with it when the WAL is replayed.
class Store::Listener final : public rocksdb::EventListener {
 public:
  explicit Listener(Store* store) : store_(store) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    static const char* const kWhat[] = {"a flush",          "a compaction", "a write",         "a memtable update",
                                        "a manifest write", "a flush",      "a manifest write"};
    const auto at = static_cast<size_t>(reason);
    const bool resumable = error->IsNoSpace() && (reason == rocksdb::BackgroundErrorReason::kFlush ||
                                                  reason == rocksdb::BackgroundErrorReason::kCompaction ||
                                                  reason == rocksdb::BackgroundErrorReason::kFlushNoWAL);
    store_->MarkReadOnly(
        std::string(at < std::size(kWhat) ? kWhat[at] : "a background job") + " failed: " + error->ToString(),
        /*needs_restart=*/!resumable);
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }

 private:
  Store* const store_;
};

namespace {

// Under a test file system: RocksDB waits a second after each failed flush
// or compaction before the next; a fault test makes many of them on purpose.
// Waits are capped at a millisecond (never dropped, so that nothing spins).
class ShortPauseEnv final : public rocksdb::EnvWrapper {
 public:
  explicit ShortPauseEnv(std::unique_ptr<rocksdb::Env>&& base) : EnvWrapper(std::move(base)) {}
  static const char* kClassName() { return "GridShortPauseEnv"; }
  const char* Name() const override { return kClassName(); }
  void SleepForMicroseconds(int micros) override { EnvWrapper::SleepForMicroseconds(std::min(micros, 1000)); }
};

}  // namespace

StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  const fs::path path(options.path);
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (exists && !fs::is_directory(path, ec)) {
    return Error(reason::FOREIGN_DATA_DIR, options.path + " exists and is not a directory; refusing to use it");
  }
  bool fresh = !exists || IsEmptyDir(path);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = fresh;
  db_options.create_missing_column_families = true;
  db_options.keep_log_file_num = 5;
  db_options.max_background_jobs = 2;
  // One writer thread writes the cases (services/case_writer.h), so
  // concurrent memtable inserts gain nothing, and they would make RocksDB
  // ignore the insert hints (AppendPrefix).
  db_options.allow_concurrent_memtable_write = false;
  // Bounds what a restart after a crash replays: past this much log, the
  // column families holding the oldest log file are flushed, so that it can
  // be deleted (StoreOptions::max_log_bytes).
  db_options.max_total_wal_size = options.max_log_bytes;
  // A restart replays the log into memtables and serves; the background
  // flushes write them out later, instead of the open writing a table file
  // per column family first (half of a restart's time after a crash).
  db_options.avoid_flush_during_recovery = options.max_log_bytes != 0;
  std::unique_ptr<rocksdb::Env> env;
  if (options.file_system) {
    env = std::make_unique<ShortPauseEnv>(rocksdb::NewCompositeEnv(options.file_system));
    db_options.env = env.get();
  }

  if (!fresh) {
    if (!fs::exists(path / "CURRENT", ec)) {
      return Error(reason::FOREIGN_DATA_DIR, options.path +
                                                 " is not empty and holds no gridd store; refusing to touch it "
                                                 "(give an empty or new directory)");
    }
    std::vector<std::string> existing;
    auto s = rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing);
    if (!s.ok()) {
      return Error(reason::DATA_DIR_UNREADABLE, options.path + " cannot be read as a store: " + s.ToString());
    }
    // A database without our column families is foreign: refuse it having
    // read only its MANIFEST (opening it, even read-only, would replay its log).
    std::vector<std::string> ours = AllColumnFamilies(), first = FirstColumnFamilies(), theirs = existing;
    std::sort(ours.begin(), ours.end());
    std::sort(first.begin(), first.end());
    std::sort(theirs.begin(), theirs.end());
    if (theirs != ours && theirs != first) {
      return Error(reason::FOREIGN_DATA_DIR, options.path +
                                                 " holds a RocksDB database that is not a gridd store (its "
                                                 "column families differ); refusing to touch it");
    }
  } else {
    fs::create_directories(path, ec);
    if (ec) {
      return Error(reason::DATA_DIR_UNREADABLE, "cannot create " + options.path + ": " + ec.message());
    }
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes, -1, false, 0.5);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& name : AllColumnFamilies()) {
    bool point = name == kCasesCf || name == kIdempotencyCf || name == kMetaCf;
    descs.emplace_back(name, CfOptions(point, cache, options.max_log_bytes));
    // The case_index family also holds the summed figures (case_stats.h).
    if (name == kIndexCf) descs.back().options.merge_operator = StatsMergeOperator();
    if (name == kIndexCf) descs.back().options.memtable_insert_with_hint_prefix_extractor.reset(new AppendPrefix());
    if (name == kCasesCf || name == kEventsCf) {
      descs.back().options.memtable_insert_with_hint_prefix_extractor.reset(new LogPrefix());
    }
  }
  std::unique_ptr<Store> store(new Store());
  store->sync_ = options.sync;
  store->log_ = options.log;
  store->path_ = options.path;
  store->min_free_bytes_ = options.min_free_bytes;
  store->env_ = std::move(env);
  store->listener_ = std::make_shared<Listener>(store.get());
  db_options.listeners.push_back(store->listener_);
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, options.path, descs, &store->handles_, &raw);
  if (!s.ok()) {
    return Error(reason::DATA_DIR_UNREADABLE, options.path + " cannot be opened: " + s.ToString());
  }
  store->db_.reset(raw);
  store->meta_ = store->handles_[0];
  store->directory_ = store->handles_[1];
  store->cases_ = store->handles_[2];
  store->events_ = store->handles_[3];
  store->idempotency_ = store->handles_[4];
  store->index_ = store->handles_[5];
  store->feed_ = store->handles_[6];
  if (fresh) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    GRID_RETURN_IF_ERROR(
        FromRocks(store->db_->Put(wo, store->meta_, std::string(kFormatKey), std::string(kFormatValue)),
                  "writing the format marker"));
    // A new store has no case without query indexes: nothing to backfill, ever.
    GRID_RETURN_IF_ERROR(
        FromRocks(store->db_->Put(wo, store->meta_, std::string(kQueryIndexesKey), "1"), "marking the query indexes"));
  } else {
    std::string marker;
    auto s = store->db_->Get(rocksdb::ReadOptions(), store->meta_, std::string(kFormatKey), &marker);
    if (!s.ok() || marker != kFormatValue) {
      return Error(reason::FOREIGN_DATA_DIR, options.path + " has gridd's column families but format marker " +
                                                 (s.ok() ? "'" + marker + "'" : "missing") + "; refusing to use it");
    }
  }
  if (store->log_) {
    auto position = store->LogPosition();
    if (!position.ok()) return position.status();
    MutexLock lock(&store->log_mu_);
    store->log_position_ = *position;
  }
  return store;
}

Store::~Store() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }
}

StatusOr<std::optional<StoredDirectory>> Store::LoadDirectory(bool with_units) const {
  std::string version_bytes;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_, std::string(kDirectoryVersionKey), &version_bytes);
  if (s.IsNotFound()) return std::optional<StoredDirectory>();
  GRID_RETURN_IF_ERROR(FromRocks(s, "reading the directory version"));
  if (version_bytes.size() != 8) return Error(reason::CORRUPT_RECORD, "directory version is malformed");
  StoredDirectory out;
  out.version = DecodeFixed64BE(version_bytes.data());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), directory_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key();
    if (key.empty()) continue;
    // Boundaries are read apart: skip each kind's whole range by seeking
    // past it (its values are never read).
    while (it->Valid() && !it->key().empty() &&
           (it->key()[0] == static_cast<char>(DirectoryKind::kGridBoundary) ||
            it->key()[0] == static_cast<char>(DirectoryKind::kAreaBoundary) ||
            (!with_units && it->key()[0] == static_cast<char>(DirectoryKind::kUnit)))) {
      it->Seek(std::string(1, static_cast<char>(it->key()[0] + 1)));
    }
    if (!it->Valid()) break;
    key = it->key();
    if (static_cast<unsigned char>(key[0]) >= 0x7f) break;  // the previous directory (kPreviousDirectoryByte)
    // Parsed straight from the iterator's bytes: millions of entries at
    // national scale, so no copy and no message string per entry.
    const rocksdb::Slice value = it->value();
    auto parse = [&](google::protobuf::MessageLite* msg) -> Status {
      if (msg->ParseFromArray(value.data(), static_cast<int>(value.size()))) return Status::Ok();
      return Error(reason::CORRUPT_RECORD, "directory entry " + key.ToString() + " cannot be parsed");
    };
    switch (static_cast<DirectoryKind>(key[0])) {
      case DirectoryKind::kUnit: GRID_RETURN_IF_ERROR(parse(out.content.add_units())); break;
      case DirectoryKind::kMember: GRID_RETURN_IF_ERROR(parse(out.content.add_members())); break;
      case DirectoryKind::kDepartment: GRID_RETURN_IF_ERROR(parse(out.content.add_departments())); break;
      case DirectoryKind::kCategory: GRID_RETURN_IF_ERROR(parse(out.content.add_categories())); break;
      case DirectoryKind::kCategoryRule: GRID_RETURN_IF_ERROR(parse(out.content.add_category_rules())); break;
      case DirectoryKind::kGridBoundary:
      case DirectoryKind::kAreaBoundary: break;  // read apart (GetBoundary, ForEachBoundary)
      default:
        return Error(reason::CORRUPT_RECORD, "unknown directory entry kind in directory entry " + key.ToString());
    }
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the directory"));
  return std::optional<StoredDirectory>(std::move(out));
}

Status Store::ForEachUnit(const std::function<Status(const grid::v1::Unit&)>& fn) const {
  const std::string prefix(1, static_cast<char>(DirectoryKind::kUnit));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), directory_));
  grid::v1::Unit unit;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const rocksdb::Slice value = it->value();
    if (!unit.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Error(reason::CORRUPT_RECORD, "directory entry " + it->key().ToString() + " cannot be parsed");
    }
    GRID_RETURN_IF_ERROR(fn(unit));
  }
  return FromRocks(it->status(), "reading the directory's units");
}

Status Store::SaveDirectory(const grid::v1::DirectoryContent& content, uint64_t version, bool replace) {
  rocksdb::WriteBatch batch;
  if (replace) {
    // Keep what this version replaces as the previous directory (the one
    // kept before goes), then clear: every kind byte sorts below 0x7F, the
    // kept copy's keys start with 0x80.
    std::string current_version;
    auto s = db_->Get(rocksdb::ReadOptions(), meta_, std::string(kDirectoryVersionKey), &current_version);
    if (!s.IsNotFound()) {
      GRID_RETURN_IF_ERROR(FromRocks(s, "reading the directory version"));
      const std::string prev(1, kPreviousDirectoryByte);
      GRID_RETURN_IF_ERROR(
          FromRocks(batch.DeleteRange(directory_, prev, std::string(1, static_cast<char>(kPreviousDirectoryByte + 1))),
                    "dropping the previous directory"));
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), directory_));
      for (it->SeekToFirst(); it->Valid() && static_cast<unsigned char>(it->key()[0]) < 0x7f; it->Next()) {
        GRID_RETURN_IF_ERROR(
            FromRocks(batch.Put(directory_, prev + it->key().ToString(), it->value()), "keeping the directory"));
      }
      GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the directory"));
      GRID_RETURN_IF_ERROR(FromRocks(batch.Put(meta_, std::string(kPreviousDirectoryVersionKey), current_version),
                                     "keeping the directory"));
    }
    GRID_RETURN_IF_ERROR(FromRocks(batch.DeleteRange(directory_, std::string(1, '\0'), std::string(1, '\x7f')),
                                   "clearing the directory"));
  }
  std::string value;
  auto put = [&](DirectoryKind kind, const std::string& id, const auto& msg) -> Status {
    value.clear();
    msg.SerializeToString(&value);
    return FromRocks(batch.Put(directory_, DirectoryKey(kind, id), value), "writing the directory");
  };
  grid::v1::Unit bare;
  for (const auto& u : content.units()) {
    const bool grid = u.level() == grid::v1::UNIT_LEVEL_GRID;
    const DirectoryKind mine = grid ? DirectoryKind::kGridBoundary : DirectoryKind::kAreaBoundary;
    const DirectoryKind other = grid ? DirectoryKind::kAreaBoundary : DirectoryKind::kGridBoundary;
    if (u.has_boundary()) {
      bare = u;
      bare.clear_boundary();
      GRID_RETURN_IF_ERROR(put(DirectoryKind::kUnit, u.code(), bare));
      GRID_RETURN_IF_ERROR(put(mine, u.code(), u.boundary()));
    } else {
      GRID_RETURN_IF_ERROR(put(DirectoryKind::kUnit, u.code(), u));
      if (!replace) {
        GRID_RETURN_IF_ERROR(
            FromRocks(batch.Delete(directory_, DirectoryKey(mine, u.code())), "writing the directory"));
      }
    }
    if (!replace) {  // a unit that changed level
      GRID_RETURN_IF_ERROR(FromRocks(batch.Delete(directory_, DirectoryKey(other, u.code())), "writing the directory"));
    }
  }
  for (const auto& m : content.members()) GRID_RETURN_IF_ERROR(put(DirectoryKind::kMember, m.id(), m));
  for (const auto& d : content.departments()) GRID_RETURN_IF_ERROR(put(DirectoryKind::kDepartment, d.code(), d));
  for (const auto& c : content.categories()) GRID_RETURN_IF_ERROR(put(DirectoryKind::kCategory, c.code(), c));
  for (const auto& r : content.category_rules()) {
    GRID_RETURN_IF_ERROR(put(DirectoryKind::kCategoryRule, r.unit_code() + '\0' + r.category(), r));
  }
  std::string v;
  PutFixed64BE(&v, version);
  GRID_RETURN_IF_ERROR(FromRocks(batch.Put(meta_, std::string(kDirectoryVersionKey), v), "writing the directory"));
  GRID_RETURN_IF_ERROR(WriteSynced(&batch, "saving directory version " + std::to_string(version)));
  // Directory versions are rare and can be large (a national import is
  // 665,000 entries): flush them to table files now, so that a restart does
  // not replay them from the log into memtables.
  rocksdb::FlushOptions flush;
  return FromRocks(db_->Flush(flush, handles_), "flushing directory version " + std::to_string(version));
}

StatusOr<std::optional<StoredDirectory>> Store::LoadPreviousDirectory() const {
  std::string version_bytes;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_, std::string(kPreviousDirectoryVersionKey), &version_bytes);
  if (s.IsNotFound()) return std::optional<StoredDirectory>();
  GRID_RETURN_IF_ERROR(FromRocks(s, "reading the previous directory version"));
  if (version_bytes.size() != 8) return Error(reason::CORRUPT_RECORD, "previous directory version is malformed");
  StoredDirectory out;
  out.version = DecodeFixed64BE(version_bytes.data());
  // Boundaries ('A', 'B') sort before units ('U'): held until their unit.
  std::map<std::string, grid::v1::Boundary, std::less<>> boundaries;
  const std::string prefix(1, kPreviousDirectoryByte);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), directory_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    rocksdb::Slice key = it->key();
    key.remove_prefix(1);
    if (key.empty()) continue;
    const rocksdb::Slice value = it->value();
    const std::string id(key.data() + 1, key.size() - 1);
    auto parse = [&](google::protobuf::MessageLite* msg) -> Status {
      if (msg->ParseFromArray(value.data(), static_cast<int>(value.size()))) return Status::Ok();
      return Error(reason::CORRUPT_RECORD, "previous directory entry " + key.ToString() + " cannot be parsed");
    };
    switch (static_cast<DirectoryKind>(key[0])) {
      case DirectoryKind::kUnit: {
        grid::v1::Unit* u = out.content.add_units();
        GRID_RETURN_IF_ERROR(parse(u));
        if (auto b = boundaries.find(u->code()); b != boundaries.end()) {
          *u->mutable_boundary() = std::move(b->second);
          boundaries.erase(b);
        }
        break;
      }
      case DirectoryKind::kMember: GRID_RETURN_IF_ERROR(parse(out.content.add_members())); break;
      case DirectoryKind::kDepartment: GRID_RETURN_IF_ERROR(parse(out.content.add_departments())); break;
      case DirectoryKind::kCategory: GRID_RETURN_IF_ERROR(parse(out.content.add_categories())); break;
      case DirectoryKind::kCategoryRule: GRID_RETURN_IF_ERROR(parse(out.content.add_category_rules())); break;
      case DirectoryKind::kGridBoundary:
      case DirectoryKind::kAreaBoundary: GRID_RETURN_IF_ERROR(parse(&boundaries[id])); break;
      default:
        return Error(reason::CORRUPT_RECORD,
                     "unknown directory entry kind in previous directory entry " + key.ToString());
    }
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the previous directory"));
  return std::optional<StoredDirectory>(std::move(out));
}

StatusOr<std::optional<grid::v1::Boundary>> Store::GetBoundary(const std::string& unit_code) const {
  std::string v;
  for (DirectoryKind kind : {DirectoryKind::kGridBoundary, DirectoryKind::kAreaBoundary}) {
    auto s = db_->Get(rocksdb::ReadOptions(), directory_, DirectoryKey(kind, unit_code), &v);
    if (s.IsNotFound()) continue;
    GRID_RETURN_IF_ERROR(FromRocks(s, "reading a boundary"));
    grid::v1::Boundary b;
    GRID_RETURN_IF_ERROR(Parse(v, &b, "boundary of " + unit_code));
    return std::optional<grid::v1::Boundary>(std::move(b));
  }
  // A store written before boundaries were kept apart.
  auto s = db_->Get(rocksdb::ReadOptions(), directory_, DirectoryKey(DirectoryKind::kUnit, unit_code), &v);
  if (s.IsNotFound()) return std::optional<grid::v1::Boundary>();
  GRID_RETURN_IF_ERROR(FromRocks(s, "reading a unit"));
  grid::v1::Unit u;
  GRID_RETURN_IF_ERROR(Parse(v, &u, "unit " + unit_code));
  if (!u.has_boundary() || u.boundary().polygons_size() == 0) return std::optional<grid::v1::Boundary>();
  return std::optional<grid::v1::Boundary>(std::move(*u.mutable_boundary()));
}

Status Store::ForEachBoundary(bool grids,
                              const std::function<Status(std::string_view code, const grid::v1::Boundary&)>& fn) const {
  const std::string prefix(1, static_cast<char>(grids ? DirectoryKind::kGridBoundary : DirectoryKind::kAreaBoundary));
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // one pass over all geometry: keep the block cache for point reads
  ro.readahead_size = 4 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, directory_));
  grid::v1::Boundary b;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view code(it->key().data() + 1, it->key().size() - 1);
    if (!b.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Error(reason::CORRUPT_RECORD, "boundary of " + std::string(code) + " cannot be parsed");
    }
    GRID_RETURN_IF_ERROR(fn(code, b));
  }
  return FromRocks(it->status(), "reading boundaries");
}

StatusOr<uint64_t> Store::MaxCaseId() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cases_));
  it->SeekToLast();
  if (!it->Valid()) {
    GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the last case id"));
    return uint64_t{0};
  }
  if (it->key().size() != 8) return Error(reason::CORRUPT_RECORD, "a case key is malformed");
  return DecodeCaseKey(std::string_view(it->key().data(), 8));
}

StatusOr<std::optional<IdempotencyRecord>> Store::FindIdempotency(const std::string& caller,
                                                                  const std::string& key) const {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), idempotency_, IdempotencyKey(caller, key), &v);
  if (s.IsNotFound()) return std::optional<IdempotencyRecord>();
  GRID_RETURN_IF_ERROR(FromRocks(s, "reading an idempotency key"));
  auto decoded = DecodeIdempotencyValue(v);
  if (!decoded) return Error(reason::CORRUPT_RECORD, "an idempotency record is malformed");
  return std::optional<IdempotencyRecord>(IdempotencyRecord{decoded->first, decoded->second});
}

Status Store::Commit(const std::vector<CaseChange>& changes, const std::vector<grid::v1::FeedEntry>& feed,
                     const std::vector<DueKey>& orphan_dues) {
  // About 4 KiB per change (record, events, index entries, feed entries):
  // reserved up front so that the batch is not copied as it grows.
  rocksdb::WriteBatch batch(changes.size() * 4096 + feed.size() * 512);
  // The figures of every change, summed: one merge operand per key.
  std::map<std::string, SparseCounters> stats;
  for (const DueKey& d : orphan_dues) {
    GRID_RETURN_IF_ERROR(FromRocks(batch.Delete(index_, EncodeDueKey(d)), "removing an orphan timer"));
  }
  std::string value;
  for (const CaseChange& w : changes) {
    const auto& rec = *w.after;
    auto id = ParseCaseId(rec.id());
    if (!id) return Error(reason::BAD_CASE_ID, "case id '" + rec.id() + "' is not numeric");
    value.clear();
    rec.SerializeToString(&value);
    GRID_RETURN_IF_ERROR(FromRocks(batch.Put(cases_, CaseKey(*id), value), "writing a case"));
    if (w.events != nullptr) {
      for (const auto& e : *w.events) {
        value.clear();
        e.SerializeToString(&value);
        GRID_RETURN_IF_ERROR(
            FromRocks(batch.Put(events_, EventKey(*id, static_cast<uint32_t>(e.seq())), value), "writing an event"));
      }
    }
    if (w.before == nullptr && !w.idempotency_key.empty()) {
      GRID_RETURN_IF_ERROR(FromRocks(batch.Put(idempotency_, IdempotencyKey(w.caller, w.idempotency_key),
                                               EncodeIdempotencyValue(*id, w.fingerprint)),
                                     "writing an idempotency key"));
    }
    std::vector<std::string> old_keys = w.before == nullptr ? std::vector<std::string>() : CaseIndexKeys(*w.before);
    std::vector<std::string> new_keys = CaseIndexKeys(rec);
    std::sort(old_keys.begin(), old_keys.end());
    std::sort(new_keys.begin(), new_keys.end());
    std::vector<std::string> gone, added;
    std::set_difference(old_keys.begin(), old_keys.end(), new_keys.begin(), new_keys.end(), std::back_inserter(gone));
    std::set_difference(new_keys.begin(), new_keys.end(), old_keys.begin(), old_keys.end(), std::back_inserter(added));
    for (const auto& k : gone) GRID_RETURN_IF_ERROR(FromRocks(batch.Delete(index_, k), "unindexing"));
    for (const auto& k : added) GRID_RETURN_IF_ERROR(FromRocks(batch.Put(index_, k, ""), "indexing"));
    GRID_RETURN_IF_ERROR(WriteQueryOps(CaseListOps(w.before, rec), index_, &batch));
    AddStatsDelta(w.before, rec, w.events, &stats);
  }
  for (const auto& [key, delta] : EncodeStatsDeltas(stats)) {
    GRID_RETURN_IF_ERROR(FromRocks(batch.Merge(index_, key, delta), "writing the case figures"));
  }
  for (const auto& entry : feed) {
    value.clear();
    entry.SerializeToString(&value);
    GRID_RETURN_IF_ERROR(FromRocks(batch.Put(feed_, FeedKey(entry.cursor()), value), "appending to the feed"));
  }
  return WriteSynced(&batch, "committing " + std::to_string(changes.size()) + " case change(s)");
}

Status Store::WriteSynced(rocksdb::WriteBatch* batch, const std::string& what) {
  {
    MutexLock lock(&state_mu_);
    if (!write_state_.ok()) return write_state_;
  }
  GRID_RETURN_IF_ERROR(CheckFreeSpace());
  if (log_) return WriteLogged(batch, what);
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  const auto start = std::chrono::steady_clock::now();
  const rocksdb::Status s = db_->Write(wo, batch);
  if (write_observer_) {
    write_observer_(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                    batch->GetDataSize());
  }
  if (s.ok()) return Status::Ok();
  MarkReadOnly(what + " failed: " + s.ToString(), /*needs_restart=*/true);
  return Error(reason::STORE_FAILED, what + " failed: " + s.ToString() +
                                         "; nothing was acknowledged (a retry with the same idempotency key is safe)");
}

Status Store::WriteLogged(rocksdb::WriteBatch* batch, const std::string& what) {
  MutexLock lock(&log_mu_);
  // The position goes into the batch, so its size counts when cutting parts:
  // the Put adds a fixed number of bytes (tag, column family, key, value).
  constexpr size_t kPositionPutBytes = 64;
  const uint64_t first = log_->next_position();
  if (first <= log_position_) {
    return Error(reason::LOG_MISMATCH, "the log's next position " + std::to_string(first) + " is not past position " +
                                           std::to_string(log_position_) + ", which this store holds");
  }
  const uint32_t parts = PartsFor(batch->GetDataSize() + kPositionPutBytes, log_->max_part_bytes());
  const uint64_t last = first + parts - 1;
  std::string position;
  PutFixed64BE(&position, last);
  GRID_RETURN_IF_ERROR(
      FromRocks(batch->Put(meta_, std::string(kLogPositionKey), position), "recording the log position"));
  const auto start = std::chrono::steady_clock::now();
  if (Status appended = log_->Append(first, parts, batch->Data()); !appended.ok()) {
    // Some parts may be in the log: this store can no longer tell what it
    // holds against the log, so it takes no writes until its holder catches
    // up from the log (a restart as a follower).
    MarkReadOnly(what + ": " + appended.message(), /*needs_restart=*/true);
    return appended;
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  const rocksdb::Status s = db_->Write(wo, batch);
  if (write_observer_) {
    write_observer_(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                    batch->GetDataSize());
  }
  if (!s.ok()) {
    // The batch is in the log: a restart applies it from there.
    MarkReadOnly(what + " failed: " + s.ToString(), /*needs_restart=*/true);
    return Error(reason::STORE_FAILED,
                 what + " failed after the batch was replicated: " + s.ToString() +
                     "; its outcome is the log's (a retry with the same idempotency key is safe)");
  }
  log_position_ = last;
  return Status::Ok();
}

StatusOr<uint64_t> Store::LogPosition() const {
  std::string bytes;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_, std::string(kLogPositionKey), &bytes);
  if (s.IsNotFound()) return uint64_t{0};
  GRID_RETURN_IF_ERROR(FromRocks(s, "reading the log position"));
  if (bytes.size() != 8) return Error(reason::CORRUPT_RECORD, "the stored log position is not 8 bytes");
  return DecodeFixed64BE(bytes.data());
}

namespace {

// Finds the log position a batch records (kLogPositionKey in the meta column
// family, id 0).
class PositionFinder final : public rocksdb::WriteBatch::Handler {
 public:
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    if (cf == 0 && key == rocksdb::Slice(kLogPositionKey.data(), kLogPositionKey.size()) && value.size() == 8) {
      position = DecodeFixed64BE(value.data());
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  void LogData(const rocksdb::Slice&) override {}
  std::optional<uint64_t> position;
};

}  // namespace

Status Store::ApplyLogged(uint64_t last, std::string_view data, bool sync) {
  // WriteBatch's rep: 12 bytes of header (sequence, count), then records.
  if (data.size() < 12) {
    return Error(reason::LOG_MISMATCH,
                 "log entry " + std::to_string(last) + " is not a batch (" + std::to_string(data.size()) + " bytes)");
  }
  rocksdb::WriteBatch batch{std::string(data)};
  PositionFinder finder;
  if (auto s = batch.Iterate(&finder); !s.ok()) {
    return Error(reason::LOG_MISMATCH, "log entry " + std::to_string(last) + " is not a batch: " + s.ToString());
  }
  if (finder.position != last) {
    return Error(reason::LOG_MISMATCH, "log entry " + std::to_string(last) + " records position " +
                                           (finder.position ? std::to_string(*finder.position) : std::string("none")));
  }
  auto held_or = LogPosition();
  if (!held_or.ok()) return held_or.status();
  const uint64_t held = *held_or;
  if (last <= held) {
    return Error(reason::LOG_MISMATCH, "log entry " + std::to_string(last) + " is not past position " +
                                           std::to_string(held) + ", which this replica holds");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, &batch), "applying log entry " + std::to_string(last));
}

Status Store::SyncWal() { return FromRocks(db_->SyncWAL(), "syncing the write-ahead log"); }

Status Store::StateLocked() const { return !write_state_.ok() ? write_state_ : disk_low_; }

Status Store::WriteState() const {
  MutexLock lock(&state_mu_);
  return StateLocked();
}

void Store::SetWriteStateListener(std::function<void(const Status&)> listener) {
  MutexLock lock(&state_mu_);
  state_listener_ = std::move(listener);
}

void Store::MarkReadOnly(const std::string& cause, bool needs_restart) {
  MutexLock lock(&state_mu_);
  ++failures_;
  needs_restart_ |= needs_restart;
  if (!write_state_.ok()) return;  // the first failure names the state
  write_state_ = Error(reason::STORE_READ_ONLY, "the store takes no writes since " + cause + "; reads go on");
  if (state_listener_) state_listener_(write_state_);
}

Status Store::CheckFreeSpace() {
  if (min_free_bytes_ == 0) return Status::Ok();
  struct statvfs fs_stat;
  if (statvfs(path_.c_str(), &fs_stat) != 0) return Status::Ok();  // cannot tell: RocksDB's own errors still count
  const uint64_t free_bytes = static_cast<uint64_t>(fs_stat.f_bavail) * fs_stat.f_frsize;
  Status now = Status::Ok();
  if (free_bytes < min_free_bytes_) {
    now = Error(reason::DISK_LOW, "the data directory's file system has " + std::to_string(free_bytes >> 10) +
                                      " KiB free, less than the " + std::to_string(min_free_bytes_ >> 10) +
                                      " KiB kept free (--min-free-mb): nothing was written; writes resume once "
                                      "space is freed, reads go on");
  }
  MutexLock lock(&state_mu_);
  const bool changed = now.ok() != disk_low_.ok();
  disk_low_ = now;
  if (changed && write_state_.ok() && state_listener_) state_listener_(disk_low_);
  return now;
}

Status Store::Resume() {
  uint64_t failures = 0;
  bool read_only = false;
  {
    MutexLock lock(&state_mu_);
    read_only = !write_state_.ok();
    if (read_only && needs_restart_) {
      return Error(reason::STORE_READ_ONLY, write_state_.message() + " (it takes writes again after a restart)");
    }
    failures = failures_;
  }
  if (!read_only) return CheckFreeSpace();
  const rocksdb::Status s = db_->Resume();
  if (!s.ok()) return Error(reason::STORE_READ_ONLY, "the store cannot take writes yet: " + s.ToString());
  {
    MutexLock lock(&state_mu_);
    if (failures_ != failures) return write_state_;  // failed again meanwhile
    write_state_ = Status::Ok();
    if (state_listener_) state_listener_(StateLocked());
  }
  return CheckFreeSpace();
}

StatusOr<uint64_t> Store::LastFeedCursor() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), feed_));
  it->SeekToLast();
  if (!it->Valid()) {
    GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the feed"));
    return uint64_t{0};
  }
  if (it->key().size() != 8) return Error(reason::CORRUPT_RECORD, "a feed key is malformed");
  return DecodeFixed64BE(it->key().data());
}

StatusOr<uint64_t> Store::FirstFeedCursor() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), feed_));
  it->SeekToFirst();
  if (!it->Valid()) {
    GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the feed"));
    return uint64_t{0};
  }
  if (it->key().size() != 8) return Error(reason::CORRUPT_RECORD, "a feed key is malformed");
  return DecodeFixed64BE(it->key().data());
}

StatusOr<std::vector<grid::v1::FeedEntry>> Store::ReadFeed(uint64_t after, size_t limit) const {
  std::vector<grid::v1::FeedEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), feed_));
  for (it->Seek(FeedKey(after + 1)); it->Valid() && out.size() < limit; it->Next()) {
    GRID_RETURN_IF_ERROR(Parse(it->value().ToString(), &out.emplace_back(), "a feed entry"));
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the feed"));
  return out;
}

StatusOr<size_t> Store::ScanFeed(uint64_t after, size_t limit,
                                 const std::function<bool(uint64_t, std::string_view)>& fn) const {
  size_t visited = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), feed_));
  for (it->Seek(FeedKey(after + 1)); it->Valid() && visited < limit; it->Next()) {
    if (it->key().size() != 8) return Error(reason::CORRUPT_RECORD, "a feed key is malformed");
    ++visited;
    if (!fn(DecodeFixed64BE(it->key().data()), std::string_view(it->value().data(), it->value().size()))) break;
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the feed"));
  return visited;
}

StatusOr<size_t> Store::TrimFeed(int64_t cutoff_micros, size_t limit) {
  auto last = LastFeedCursor();
  if (!last.ok()) return last.status();
  uint64_t first = 0, stop = 0;  // delete [first, stop)
  size_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), feed_));
  grid::v1::FeedEntry entry;
  for (it->SeekToFirst(); it->Valid() && count < limit; it->Next()) {
    if (it->key().size() != 8) return Error(reason::CORRUPT_RECORD, "a feed key is malformed");
    const uint64_t cursor = DecodeFixed64BE(it->key().data());
    if (cursor >= *last) break;
    GRID_RETURN_IF_ERROR(Parse(it->value().ToString(), &entry, "a feed entry"));
    const int64_t at = entry.event().at().seconds() * 1'000'000 + entry.event().at().nanos() / 1000;
    if (at >= cutoff_micros) break;
    if (count == 0) first = cursor;
    stop = cursor + 1;
    ++count;
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the feed"));
  if (count == 0) return count;
  GRID_RETURN_IF_ERROR(WriteState());
  GRID_RETURN_IF_ERROR(CheckFreeSpace());  // a trim too writes to the log
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  GRID_RETURN_IF_ERROR(FromRocks(db_->DeleteRange(wo, feed_, FeedKey(first), FeedKey(stop)), "trimming the feed"));
  return count;
}

StatusOr<std::vector<DueKey>> Store::DueUpTo(uint64_t up_to_micros, size_t limit, const DueKey& from) const {
  std::vector<DueKey> out;
  const std::string prefix(1, static_cast<char>(IndexTag::kDue));
  const std::string start = EncodeDueKey(from);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), index_));
  for (it->Seek(start); it->Valid() && it->key().starts_with(prefix) && out.size() < limit; it->Next()) {
    auto due = DecodeDueKey(std::string_view(it->key().data(), it->key().size()));
    if (!due) return Error(reason::CORRUPT_RECORD, "a due-time index key is malformed");
    if (due->due_micros > up_to_micros) break;
    out.push_back(*due);
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the due-time index"));
  return out;
}

StatusOr<std::optional<DueKey>> Store::NextDue() const {
  auto first = DueUpTo(std::numeric_limits<uint64_t>::max(), 1);
  if (!first.ok()) return first.status();
  if (first->empty()) return std::optional<DueKey>();
  return std::optional<DueKey>((*first)[0]);
}

Status Store::Flush() {
  rocksdb::FlushOptions flush;
  return FromRocks(db_->Flush(flush, handles_), "flushing");
}

Status Store::CompactAll() {
  GRID_RETURN_IF_ERROR(Flush());
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* h : handles_) {
    GRID_RETURN_IF_ERROR(FromRocks(db_->CompactRange(options, h, nullptr, nullptr), "compacting"));
  }
  return Status::Ok();
}

StatusOr<size_t> Store::CountDue() const {
  size_t n = 0;
  const std::string prefix(1, static_cast<char>(IndexTag::kDue));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), index_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++n;
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the due-time index"));
  return n;
}

StoreFigures Store::Figures() const {
  StoreFigures f;
  auto sum = [this](const std::string& property) {
    uint64_t total = 0;
    for (auto* h : handles_) {
      uint64_t v = 0;
      if (db_->GetIntProperty(h, property, &v)) total += v;
    }
    return total;
  };
  auto db_wide = [this](const std::string& property) {
    uint64_t v = 0;
    return db_->GetIntProperty(property, &v) ? v : 0;
  };
  f.memtable_bytes = sum(rocksdb::DB::Properties::kCurSizeAllMemTables);
  f.pending_compaction_bytes = sum(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  f.live_sst_bytes = sum(rocksdb::DB::Properties::kLiveSstFilesSize);
  f.running_compactions = db_wide(rocksdb::DB::Properties::kNumRunningCompactions);
  f.running_flushes = db_wide(rocksdb::DB::Properties::kNumRunningFlushes);
  f.actual_delayed_write_rate = db_wide(rocksdb::DB::Properties::kActualDelayedWriteRate);
  f.write_stopped = db_wide(rocksdb::DB::Properties::kIsWriteStopped) != 0;
  return f;
}

StatusOr<std::optional<grid::v1::Case>> Store::GetCase(uint64_t case_id) const {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cases_, CaseKey(case_id), &v);
  if (s.IsNotFound()) return std::optional<grid::v1::Case>();
  GRID_RETURN_IF_ERROR(FromRocks(s, "reading a case"));
  grid::v1::Case c;
  GRID_RETURN_IF_ERROR(Parse(v, &c, "case " + CaseIdToString(case_id)));
  return std::optional<grid::v1::Case>(std::move(c));
}

StatusOr<std::vector<grid::v1::CaseEvent>> Store::GetEvents(uint64_t case_id) const {
  std::vector<grid::v1::CaseEvent> out;
  const std::string prefix = EventPrefix(case_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    GRID_RETURN_IF_ERROR(
        Parse(it->value().ToString(), &out.emplace_back(), "an event of case " + CaseIdToString(case_id)));
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading events"));
  return out;
}

StatusOr<std::unordered_map<std::string, uint32_t>> Store::OpenCasesPerAssignee() const {
  std::unordered_map<std::string, uint32_t> out;
  const std::string prefix(1, static_cast<char>(IndexTag::kOpenByAssignee));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), index_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto key = it->key();
    if (key.size() < 1 + 1 + 8) return Error(reason::CORRUPT_RECORD, "an assignee index key is malformed");
    ++out[std::string(key.data() + 1, key.size() - 1 - 1 - 8)];
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the assignee index"));
  return out;
}

StatusOr<std::vector<uint64_t>> Store::CasesOfUnit(const std::string& unit_code, size_t limit) const {
  std::vector<uint64_t> out;
  std::string prefix = ByUnitKey(unit_code, 0);
  prefix.resize(prefix.size() - 8);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), index_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && out.size() < limit; it->Next()) {
    if (it->key().size() != prefix.size() + 8) continue;
    out.push_back(DecodeFixed64BE(it->key().data() + prefix.size()));
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the unit index"));
  return out;
}

}  // namespace grid::storage
