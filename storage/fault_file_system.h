// FaultFileSystem: a RocksDB FileSystem over the real one that remembers what
// a power loss would take away, and fails chosen operations, for the tests
// that prove the store keeps every acknowledged commit and answers faults.
//
// What a power loss takes (the model of leveldb's fault_injection_test and
// RocksDB's FaultInjectionTestFS):
//   - every file written through it loses the bytes appended since its last
//     Sync/Fsync (it is truncated to its last synced size);
//   - a file created, or renamed to its name, since its directory was last
//     fsynced disappears (a rename over an existing file brings back what
//     that file held before).
// Deleting a file counts as durable at once, as in both models.
//
// Faults: the nth write (Append) or sync (file Sync/Fsync, directory Fsync)
// from now, or all of them from now on, fail with an I/O error or with "no
// space left", writing nothing, until StopFailing(). CutPowerAfter(n) makes
// the (n+1)th mutating operation from now, and every one after it, fail
// without effect: the machine is off. RestoreAfterPowerLoss() then applies
// the model to the real directory (call it once nothing has the files open),
// and the file system works again, as after a reboot.
//
// The side files beside the store (grid-index.bin, unit-table.bin) are
// written through FaultFiles (engine/file_access.h), which reports to the
// same FaultFileSystem: one power switch for both.
//
// Thread-safety: every method is thread-safe (RocksDB calls from its
// background threads); state is guarded by one mutex.
#pragma once

#include <absl/base/thread_annotations.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/file_access.h"
#include "port/mutex.h"

namespace grid::storage {

class FaultFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  enum class Op { kWrite, kSync };
  enum class Kind { kIOError, kNoSpace };

  // Over the default (POSIX) file system when `base` is null.
  explicit FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base = nullptr);

  static const char* kClassName() { return "GridFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // The nth operation of kind `op` from now (1: the next one) fails, once.
  void FailNth(Op op, uint64_t n, Kind kind) ABSL_LOCKS_EXCLUDED(mu_);
  // Every operation of kind `op` from now on fails.
  void FailAll(Op op, Kind kind) ABSL_LOCKS_EXCLUDED(mu_);
  // Clears every planned fault (not a power loss).
  void StopFailing() ABSL_LOCKS_EXCLUDED(mu_);
  // Operations that failed by plan so far.
  uint64_t injected() const ABSL_LOCKS_EXCLUDED(mu_);

  // After `n` more mutating operations (writes, syncs, creations, renames,
  // deletions, of RocksDB's files or the side files), the power is off:
  // every one after fails and changes nothing. 0: off now.
  void CutPowerAfter(uint64_t n) ABSL_LOCKS_EXCLUDED(mu_);
  bool power_lost() const ABSL_LOCKS_EXCLUDED(mu_);
  // Mutating operations seen since construction (to choose a random point).
  uint64_t operations() const ABSL_LOCKS_EXCLUDED(mu_);
  // Applies the power-loss model to the real files (truncates, deletes,
  // restores overwritten files) and switches the power back on.
  // REQUIRES: no store or side file written through this is still open.
  rocksdb::IOStatus RestoreAfterPowerLoss() ABSL_LOCKS_EXCLUDED(mu_);

  // rocksdb::FileSystem, tracked.
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

  // For the tracked files and the side files (fault_file_system.cc and
  // FaultFiles). Each returns the injected failure, or OK to go ahead.
  rocksdb::IOStatus BeforeWrite() ABSL_LOCKS_EXCLUDED(mu_);
  rocksdb::IOStatus BeforeSync() ABSL_LOCKS_EXCLUDED(mu_);
  rocksdb::IOStatus BeforeChange() ABSL_LOCKS_EXCLUDED(mu_);  // create, rename, delete
  void Written(const std::string& fname, uint64_t end) ABSL_LOCKS_EXCLUDED(mu_);
  void Synced(const std::string& fname) ABSL_LOCKS_EXCLUDED(mu_);
  void DirSynced(const std::string& dir) ABSL_LOCKS_EXCLUDED(mu_);
  // Records `fname` as a new entry of its directory (previous contents read
  // from the real file, if any). Call before the file is created or renamed over.
  void NewEntry(const std::string& fname) ABSL_LOCKS_EXCLUDED(mu_);
  void Renamed(const std::string& src, const std::string& dst) ABSL_LOCKS_EXCLUDED(mu_);
  void Deleted(const std::string& fname) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Plan {
    uint64_t countdown = 0;  // > 0: fail when it reaches 0
    bool all = false;
    Kind kind = Kind::kIOError;
  };
  struct FileState {
    uint64_t size = 0;    // bytes written
    uint64_t synced = 0;  // bytes durable
  };
  rocksdb::IOStatus Check(Plan* plan) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  rocksdb::IOStatus CountChange() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<std::string> ReadWhole(const std::string& fname);

  mutable Mutex mu_;
  Plan writes_ ABSL_GUARDED_BY(mu_);
  Plan syncs_ ABSL_GUARDED_BY(mu_);
  uint64_t injected_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t operations_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<uint64_t> power_left_ ABSL_GUARDED_BY(mu_);  // operations until the power goes
  bool power_lost_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
  // Per directory: names created or renamed to since its last fsync, with
  // what the name held before (nullopt: nothing).
  std::map<std::string, std::map<std::string, std::optional<std::string>>> unsynced_entries_ ABSL_GUARDED_BY(mu_);
};

// The side files' FileAccess under the same power switch and faults: writes
// go to `base` (e.g. PosixFiles), and what they leave durable is reported to
// `fs`. Rename counts as durable once it returns (PosixFiles fsyncs the
// directory); a power loss before then leaves the old file or none.
//
// Thread-safety: as `base`; the reports are thread-safe.
class FaultFiles final : public FileAccess {
 public:
  // REQUIRES: both outlive this.
  FaultFiles(FileAccess* base, FaultFileSystem* fs) : base_(base), fs_(fs) {}
  StatusOr<std::unique_ptr<NewFile>> Create(const std::string& path) override;
  StatusOr<std::shared_ptr<const ReadOnlyFile>> OpenReadOnly(const std::string& path) override;

 private:
  FileAccess* const base_;
  FaultFileSystem* const fs_;
};

}  // namespace grid::storage
