// Backups and restores with RocksDB's BackupEngine: see backup.h.
#include "storage/backup.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/backup_engine.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <system_error>

#include "engine/reasons.h"
#include "storage/rocks_status.h"
#include "storage/store.h"

namespace grid::storage {
namespace {

namespace fs = std::filesystem;

// BackupEngine writes its metadata under <dir>/meta: that is how a backup
// directory is told from any other.
bool IsBackupDir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "meta", ec);
}

bool IsEmptyDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::directory_iterator(p, ec) == fs::directory_iterator();
}

Status CheckAbsolute(const std::string& dir, const char* what) {
  if (dir.empty() || !fs::path(dir).is_absolute()) {
    return Error(reason::BACKUP_DIR_NOT_ABSOLUTE,
                 std::string(what) + " must be an absolute path on the server, not '" + dir + "'");
  }
  return Status::Ok();
}

// Whether `inner` is `outer` or lies below it, after resolving both.
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(inner, ec), b = fs::weakly_canonical(outer, ec);
  auto ai = a.begin(), bi = b.begin();
  for (; bi != b.end(); ++ai, ++bi) {
    if (bi->empty()) continue;  // a trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

template <typename Engine>
std::vector<BackupSummary> Summaries(const Engine& engine) {
  std::vector<rocksdb::BackupInfo> infos;
  engine.GetBackupInfo(&infos, /*include_file_details=*/true);
  std::sort(infos.begin(), infos.end(), [](const auto& a, const auto& b) { return a.backup_id < b.backup_id; });
  std::vector<BackupSummary> out;
  std::set<std::string> seen;  // files of the earlier backups
  for (const auto& info : infos) {
    BackupSummary b;
    b.id = info.backup_id;
    b.created_unix_seconds = info.timestamp;
    b.size_bytes = info.size;
    b.files = info.number_files;
    for (const auto& f : info.file_details) {
      if (seen.insert(f.relative_filename).second) b.new_bytes += f.size;
    }
    out.push_back(b);
  }
  return out;
}

StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(const std::string& backup_dir) {
  GRID_RETURN_IF_ERROR(CheckAbsolute(backup_dir, "the backup directory"));
  if (!IsBackupDir(backup_dir)) {
    return Error(reason::NO_BACKUP, backup_dir + " holds no backup");
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  auto s = rocksdb::BackupEngineReadOnly::Open(rocksdb::BackupEngineOptions(backup_dir), rocksdb::Env::Default(), &raw);
  GRID_RETURN_IF_ERROR(FromRocks(s, "opening the backups in " + backup_dir));
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw);
}

}  // namespace

StatusOr<BackupSummary> CreateBackup(Store* store, const std::string& data_dir, const std::string& backup_dir,
                                     uint32_t keep_last) {
  GRID_RETURN_IF_ERROR(CheckAbsolute(backup_dir, "the backup directory"));
  const fs::path dir(backup_dir);
  if (IsWithin(dir, data_dir)) {
    return Error(reason::BACKUP_DIR_IN_DATA_DIR,
                 backup_dir + " lies inside the data directory " + data_dir + "; a backup must be kept apart from it");
  }
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  if (existed && !fs::is_directory(dir, ec)) {
    return Error(reason::BACKUP_DIR_FOREIGN, backup_dir + " exists and is not a directory");
  }
  if (existed && !IsEmptyDir(dir) && !IsBackupDir(dir)) {
    return Error(reason::BACKUP_DIR_FOREIGN,
                 backup_dir + " is not empty and holds no backups; give a new, empty or backup directory");
  }
  if (!existed) {
    fs::create_directory(dir, ec);
    if (ec) return Error(reason::BACKUP_DIR_UNWRITABLE, "cannot create " + backup_dir + ": " + ec.message());
  }
  if (::access(backup_dir.c_str(), W_OK | X_OK) != 0) {
    return Error(reason::BACKUP_DIR_UNWRITABLE, backup_dir + " is not writable by the server");
  }
  // From here a failure removes a directory this call created.
  auto undo = [&](Status status) {
    if (!existed) fs::remove_all(dir, ec);
    return status;
  };

  rocksdb::BackupEngineOptions options(backup_dir);
  options.max_background_operations = 1;  // one copy thread: intake keeps the other core
  rocksdb::BackupEngine* raw = nullptr;
  auto s = rocksdb::BackupEngine::Open(options, rocksdb::Env::Default(), &raw);
  if (!s.ok()) return undo(FromRocks(s, "opening the backups in " + backup_dir));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);

  // Without a flush: the live log is copied with the table files, so the
  // backup is one point in time across every column family.
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = false;
  rocksdb::BackupID id = 0;
  s = engine->CreateNewBackup(create, store->db_.get(), &id);
  if (!s.ok()) return undo(FromRocks(s, "backing up into " + backup_dir));
  if (keep_last > 0) {
    GRID_RETURN_IF_ERROR(FromRocks(engine->PurgeOldBackups(keep_last), "deleting old backups in " + backup_dir));
  }
  for (const BackupSummary& b : Summaries(*engine)) {
    if (b.id == id) return b;
  }
  return Error(reason::STORAGE_ERROR, "backup " + std::to_string(id) + " is not listed after it was made");
}

StatusOr<std::vector<BackupSummary>> ListBackups(const std::string& backup_dir) {
  auto engine = OpenReadOnly(backup_dir);
  if (!engine.ok()) return engine.status();
  auto backups = Summaries(**engine);
  if (backups.empty()) return Error(reason::NO_BACKUP, backup_dir + " holds no backup");
  return backups;
}

StatusOr<BackupSummary> RestoreBackup(const std::string& backup_dir, std::optional<uint32_t> backup_id,
                                      const std::string& data_dir) {
  std::error_code ec;
  fs::path target = fs::path(data_dir).lexically_normal();
  if (target.has_parent_path() && target.filename().empty()) target = target.parent_path();  // "dir/"
  if (fs::exists(target, ec) && !IsEmptyDir(target)) {
    return Error(reason::RESTORE_TARGET_NOT_EMPTY,
                 data_dir + " is not empty; a backup is restored only into a new or empty data directory");
  }
  auto backups = ListBackups(backup_dir);
  if (!backups.ok()) return backups.status();
  const BackupSummary* chosen = &backups->back();
  if (backup_id) {
    auto it = std::find_if(backups->begin(), backups->end(), [&](const auto& b) { return b.id == *backup_id; });
    if (it == backups->end()) {
      std::string ids;
      for (const auto& b : *backups) ids += (ids.empty() ? "" : ", ") + std::to_string(b.id);
      return Error(reason::BACKUP_NOT_FOUND,
                   "no backup " + std::to_string(*backup_id) + " in " + backup_dir + " (it holds " + ids + ")");
    }
    chosen = &*it;
  }
  auto engine = OpenReadOnly(backup_dir);
  if (!engine.ok()) return engine.status();

  // Restored beside the target, then renamed onto it (rename(2) replaces an
  // empty directory), so that the target is either untouched or complete.
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  fs::create_directories(parent, ec);
  if (ec) return Error(reason::DATA_DIR_UNREADABLE, "cannot create " + parent.string() + ": " + ec.message());
  const fs::path staging = parent / ("." + target.filename().string() + ".restoring");
  fs::remove_all(staging, ec);  // what a crashed restore left
  auto s = (*engine)->RestoreDBFromBackup(rocksdb::RestoreOptions(), chosen->id, staging.string(), staging.string());
  if (!s.ok()) {
    fs::remove_all(staging, ec);
    return FromRocks(s, "restoring backup " + std::to_string(chosen->id) + " of " + backup_dir);
  }
  fs::rename(staging, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove_all(staging, ec);
    return Error(reason::DATA_DIR_UNREADABLE, "cannot move the restored store to " + data_dir + ": " + why);
  }
  return *chosen;
}

}  // namespace grid::storage
