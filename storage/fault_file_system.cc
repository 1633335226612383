// FaultFileSystem and FaultFiles: see fault_file_system.h.
//
// Thread-safety: see fault_file_system.h.
#include "storage/fault_file_system.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "engine/reasons.h"

namespace grid::storage {
namespace {

using rocksdb::IOStatus;

// "/a//b/" -> "/a/b": RocksDB joins names with '/', and a directory may be
// given with a trailing one.
std::string Normal(const std::string& path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::pair<std::string, std::string> DirAndName(const std::string& path) {
  const std::string p = Normal(path);
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return {".", p};
  return {slash == 0 ? "/" : p.substr(0, slash), p.substr(slash + 1)};
}

// A writable file whose appends and syncs go through the plan and are
// recorded.
class FaultWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile>&& base, std::string name, FaultFileSystem* fs,
                    uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(base)), name_(std::move(name)), fs_(fs), size_(size) {}

  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                  rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeWrite();
    if (s.ok()) s = target()->Append(data, options, dbg);
    if (s.ok()) Grew(size_ + data.size());
    return s;
  }
  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                  const rocksdb::DataVerificationInfo& /*info*/, rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeWrite();
    if (s.ok()) s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) Grew(std::max(size_, offset + data.size()));
    return s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                            const rocksdb::DataVerificationInfo& /*info*/, rocksdb::IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeWrite();
    if (s.ok()) s = target()->Truncate(size, options, dbg);
    if (s.ok()) Grew(size);
    return s;
  }
  IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeSync();
    if (s.ok()) s = target()->Sync(options, dbg);
    if (s.ok()) fs_->Synced(name_);
    return s;
  }
  IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeSync();
    if (s.ok()) s = target()->Fsync(options, dbg);
    if (s.ok()) fs_->Synced(name_);
    return s;
  }
  // Not a durability point in the model (and off by default).
  IOStatus RangeSync(uint64_t /*offset*/, uint64_t /*nbytes*/, const rocksdb::IOOptions& /*options*/,
                     rocksdb::IODebugContext* /*dbg*/) override {
    return IOStatus::OK();
  }

 private:
  void Grew(uint64_t size) {
    size_ = size;
    fs_->Written(name_, size_);
  }

  const std::string name_;
  FaultFileSystem* const fs_;
  uint64_t size_;
};

class FaultDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory>&& base, std::string name, FaultFileSystem* fs)
      : FSDirectoryWrapper(std::move(base)), name_(std::move(name)), fs_(fs) {}

  IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeSync();
    if (s.ok()) s = FSDirectoryWrapper::Fsync(options, dbg);
    if (s.ok()) fs_->DirSynced(name_);
    return s;
  }
  IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    IOStatus s = fs_->BeforeSync();
    if (s.ok()) s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) fs_->DirSynced(name_);
    return s;
  }

 private:
  const std::string name_;
  FaultFileSystem* const fs_;
};

Status ToGrid(const IOStatus& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  return Error(reason::IO_ERROR, what + ": " + s.ToString());
}

// A side file being written: its bytes and syncs pass the plan and are
// recorded under the temporary name; Rename moves the record.
class FaultNewFile final : public NewFile {
 public:
  FaultNewFile(std::unique_ptr<NewFile> base, std::string path, FaultFileSystem* fs)
      : base_(std::move(base)), path_(std::move(path)), tmp_(path_ + ".tmp"), fs_(fs) {}

  Status Append(const void* data, size_t n) override {
    GRID_RETURN_IF_ERROR(ToGrid(fs_->BeforeWrite(), tmp_ + ": write"));
    GRID_RETURN_IF_ERROR(base_->Append(data, n));
    size_ += n;
    fs_->Written(tmp_, size_);
    return Status::Ok();
  }
  Status WriteAt(uint64_t offset, const void* data, size_t n) override {
    GRID_RETURN_IF_ERROR(ToGrid(fs_->BeforeWrite(), tmp_ + ": write"));
    return base_->WriteAt(offset, data, n);
  }
  Status Sync() override {
    GRID_RETURN_IF_ERROR(ToGrid(fs_->BeforeSync(), tmp_ + ": fsync"));
    GRID_RETURN_IF_ERROR(base_->Sync());
    fs_->Synced(tmp_);
    return Status::Ok();
  }
  Status Rename() override {
    GRID_RETURN_IF_ERROR(ToGrid(fs_->BeforeChange(), path_ + ": rename"));
    fs_->NewEntry(path_);
    GRID_RETURN_IF_ERROR(base_->Rename());
    fs_->Renamed(tmp_, path_);
    fs_->DirSynced(DirAndName(path_).first);  // the base fsyncs the directory
    return Status::Ok();
  }

 private:
  std::unique_ptr<NewFile> base_;
  const std::string path_, tmp_;
  FaultFileSystem* const fs_;
  uint64_t size_ = 0;
};

}  // namespace

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(base ? std::move(base) : rocksdb::FileSystem::Default()) {}

void FaultFileSystem::FailNth(Op op, uint64_t n, Kind kind) {
  MutexLock lock(&mu_);
  (op == Op::kWrite ? writes_ : syncs_) = Plan{n, false, kind};
}

void FaultFileSystem::FailAll(Op op, Kind kind) {
  MutexLock lock(&mu_);
  (op == Op::kWrite ? writes_ : syncs_) = Plan{0, true, kind};
}

void FaultFileSystem::StopFailing() {
  MutexLock lock(&mu_);
  writes_ = Plan{};
  syncs_ = Plan{};
}

uint64_t FaultFileSystem::injected() const {
  MutexLock lock(&mu_);
  return injected_;
}

void FaultFileSystem::CutPowerAfter(uint64_t n) {
  MutexLock lock(&mu_);
  power_left_ = n;
  if (n == 0) power_lost_ = true;
}

bool FaultFileSystem::power_lost() const {
  MutexLock lock(&mu_);
  return power_lost_;
}

uint64_t FaultFileSystem::operations() const {
  MutexLock lock(&mu_);
  return operations_;
}

IOStatus FaultFileSystem::CountChange() {
  ++operations_;
  if (!power_lost_ && power_left_) {
    if (*power_left_ == 0) {
      power_lost_ = true;
    } else {
      --*power_left_;
    }
  }
  if (power_lost_) return IOStatus::IOError("power lost (simulated)");
  return IOStatus::OK();
}

IOStatus FaultFileSystem::Check(Plan* plan) {
  IOStatus s = CountChange();
  if (!s.ok()) return s;
  bool fail = plan->all;
  if (plan->countdown > 0 && --plan->countdown == 0) fail = true;
  if (!fail) return IOStatus::OK();
  ++injected_;
  if (plan->kind == Kind::kNoSpace) return IOStatus::NoSpace("no space left on device (injected)");
  return IOStatus::IOError("input/output error (injected)");
}

IOStatus FaultFileSystem::BeforeWrite() {
  MutexLock lock(&mu_);
  return Check(&writes_);
}

IOStatus FaultFileSystem::BeforeSync() {
  MutexLock lock(&mu_);
  return Check(&syncs_);
}

IOStatus FaultFileSystem::BeforeChange() {
  MutexLock lock(&mu_);
  return CountChange();
}

void FaultFileSystem::Written(const std::string& fname, uint64_t end) {
  MutexLock lock(&mu_);
  files_[Normal(fname)].size = end;
}

void FaultFileSystem::Synced(const std::string& fname) {
  MutexLock lock(&mu_);
  FileState& f = files_[Normal(fname)];
  f.synced = f.size;
}

void FaultFileSystem::DirSynced(const std::string& dir) {
  MutexLock lock(&mu_);
  unsynced_entries_.erase(Normal(dir));
}

std::optional<std::string> FaultFileSystem::ReadWhole(const std::string& fname) {
  std::unique_ptr<rocksdb::FSSequentialFile> f;
  if (!target()->NewSequentialFile(fname, rocksdb::FileOptions(), &f, nullptr).ok()) return std::nullopt;
  std::string out;
  std::vector<char> buf(1 << 16);
  for (;;) {
    rocksdb::Slice got;
    if (!f->Read(buf.size(), rocksdb::IOOptions(), &got, buf.data(), nullptr).ok()) return std::nullopt;
    if (got.empty()) return out;
    out.append(got.data(), got.size());
  }
}

void FaultFileSystem::NewEntry(const std::string& fname) {
  const auto [dir, name] = DirAndName(fname);
  {
    MutexLock lock(&mu_);
    auto& entries = unsynced_entries_[dir];
    if (entries.count(name) != 0) return;  // keeps what it held before its first change
  }
  std::optional<std::string> before = ReadWhole(fname);
  MutexLock lock(&mu_);
  unsynced_entries_[dir].emplace(name, std::move(before));
}

void FaultFileSystem::Renamed(const std::string& src, const std::string& dst) {
  const auto [sdir, sname] = DirAndName(src);
  MutexLock lock(&mu_);
  auto it = files_.find(Normal(src));
  if (it != files_.end()) {
    const FileState state = it->second;
    files_.erase(it);
    files_[Normal(dst)] = state;
  } else {
    files_.erase(Normal(dst));  // its state is the untracked (durable) source's
  }
  if (auto d = unsynced_entries_.find(sdir); d != unsynced_entries_.end()) d->second.erase(sname);
}

void FaultFileSystem::Deleted(const std::string& fname) {
  const auto [dir, name] = DirAndName(fname);
  MutexLock lock(&mu_);
  files_.erase(Normal(fname));
  if (auto d = unsynced_entries_.find(dir); d != unsynced_entries_.end()) d->second.erase(name);
}

IOStatus FaultFileSystem::NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                          std::unique_ptr<rocksdb::FSWritableFile>* result,
                                          rocksdb::IODebugContext* dbg) {
  IOStatus s = BeforeChange();
  if (!s.ok()) return s;
  NewEntry(fname);
  std::unique_ptr<rocksdb::FSWritableFile> base;
  s = target()->NewWritableFile(fname, opts, &base, dbg);
  if (!s.ok()) return s;
  {
    MutexLock lock(&mu_);
    files_[Normal(fname)] = FileState{};
  }
  *result = std::make_unique<FaultWritableFile>(std::move(base), fname, this, 0);
  return s;
}

IOStatus FaultFileSystem::ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             rocksdb::IODebugContext* dbg) {
  IOStatus s = BeforeChange();
  if (!s.ok()) return s;
  uint64_t size = 0;
  const bool existed = target()->GetFileSize(fname, rocksdb::IOOptions(), &size, dbg).ok();
  if (!existed) NewEntry(fname);
  std::unique_ptr<rocksdb::FSWritableFile> base;
  s = target()->ReopenWritableFile(fname, opts, &base, dbg);
  if (!s.ok()) return s;
  {
    MutexLock lock(&mu_);
    auto [it, fresh] = files_.emplace(Normal(fname), FileState{size, size});
    if (!fresh) it->second.size = size;
  }
  *result = std::make_unique<FaultWritableFile>(std::move(base), fname, this, size);
  return s;
}

IOStatus FaultFileSystem::ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                            const rocksdb::FileOptions& opts,
                                            std::unique_ptr<rocksdb::FSWritableFile>* result,
                                            rocksdb::IODebugContext* dbg) {
  IOStatus s = RenameFile(old_fname, fname, rocksdb::IOOptions(), dbg);
  if (!s.ok()) return s;
  return ReopenWritableFile(fname, opts, result, dbg);
}

IOStatus FaultFileSystem::NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                       std::unique_ptr<rocksdb::FSDirectory>* result, rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> base;
  IOStatus s = target()->NewDirectory(name, io_opts, &base, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<FaultDirectory>(std::move(base), Normal(name), this);
  return s;
}

IOStatus FaultFileSystem::DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) {
  IOStatus s = BeforeChange();
  if (!s.ok()) return s;
  s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) Deleted(fname);
  return s;
}

IOStatus FaultFileSystem::RenameFile(const std::string& src, const std::string& dst, const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) {
  IOStatus s = BeforeChange();
  if (!s.ok()) return s;
  NewEntry(dst);
  s = target()->RenameFile(src, dst, options, dbg);
  if (s.ok()) Renamed(src, dst);
  return s;
}

IOStatus FaultFileSystem::LinkFile(const std::string& src, const std::string& dst, const rocksdb::IOOptions& options,
                                   rocksdb::IODebugContext* dbg) {
  IOStatus s = BeforeChange();
  if (!s.ok()) return s;
  NewEntry(dst);
  s = target()->LinkFile(src, dst, options, dbg);
  if (s.ok()) {
    MutexLock lock(&mu_);
    if (auto it = files_.find(Normal(src)); it != files_.end()) files_[Normal(dst)] = it->second;
  }
  return s;
}

IOStatus FaultFileSystem::Truncate(const std::string& fname, size_t size, const rocksdb::IOOptions& options,
                                   rocksdb::IODebugContext* dbg) {
  IOStatus s = BeforeWrite();
  if (!s.ok()) return s;
  s = target()->Truncate(fname, size, options, dbg);
  if (s.ok()) Written(fname, size);
  return s;
}

IOStatus FaultFileSystem::RestoreAfterPowerLoss() {
  std::map<std::string, FileState> files;
  std::map<std::string, std::map<std::string, std::optional<std::string>>> entries;
  {
    MutexLock lock(&mu_);
    files.swap(files_);
    entries.swap(unsynced_entries_);
  }
  const rocksdb::IOOptions io;
  // Unsynced bytes first, then the directory entries that were never made durable.
  for (const auto& [name, state] : files) {
    uint64_t size = 0;
    if (!target()->GetFileSize(name, io, &size, nullptr).ok()) continue;  // deleted since
    // RocksDB's POSIX file system has no Truncate: the call itself.
    if (size > state.synced && ::truncate(name.c_str(), static_cast<off_t>(state.synced)) != 0) {
      return IOStatus::IOError(name + ": truncate: " + std::strerror(errno));
    }
  }
  for (const auto& [dir, names] : entries) {
    for (const auto& [name, before] : names) {
      const std::string path = dir + "/" + name;
      if (!before) {
        if (target()->FileExists(path, io, nullptr).ok()) {
          IOStatus s = target()->DeleteFile(path, io, nullptr);
          if (!s.ok()) return s;
        }
        continue;
      }
      std::unique_ptr<rocksdb::FSWritableFile> f;
      IOStatus s = target()->NewWritableFile(path, rocksdb::FileOptions(), &f, nullptr);
      if (s.ok()) s = f->Append(*before, io, nullptr);
      if (s.ok()) s = f->Fsync(io, nullptr);
      if (s.ok()) s = f->Close(io, nullptr);
      if (!s.ok()) return s;
    }
  }
  MutexLock lock(&mu_);
  power_lost_ = false;
  power_left_.reset();
  writes_ = Plan{};
  syncs_ = Plan{};
  return IOStatus::OK();
}

StatusOr<std::unique_ptr<NewFile>> FaultFiles::Create(const std::string& path) {
  GRID_RETURN_IF_ERROR(ToGrid(fs_->BeforeChange(), path + ".tmp: open"));
  fs_->NewEntry(path + ".tmp");
  auto f = base_->Create(path);
  if (!f.ok()) return f.status();
  fs_->Written(path + ".tmp", 0);
  return std::unique_ptr<NewFile>(std::make_unique<FaultNewFile>(std::move(f).value(), path, fs_));
}

StatusOr<std::shared_ptr<const ReadOnlyFile>> FaultFiles::OpenReadOnly(const std::string& path) {
  return base_->OpenReadOnly(path);
}

}  // namespace grid::storage
