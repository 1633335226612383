// Backups of a running store, and restoring one into a new data directory,
// with RocksDB's BackupEngine (docs/operations.md "Backup and restore").
//
// A backup directory holds any number of backups, each numbered from 1. A
// backup is the store's table files, its MANIFEST and its live write-ahead
// log, copied while writes go on: a restore replays that log, so it holds
// exactly the commits that were durable when the backup took its file list
// (every case acknowledged before the backup started), never half a commit.
// Table files are shared between the backups of one directory, so each
// backup copies only the files that are new since the last one.
//
// Only the RocksDB database is backed up: the side files beside it
// (grid-index.bin, unit-table.bin) are caches that gridd rebuilds from the
// store at its first start after a restore.
//
// Errors: BACKUP_DIR_NOT_ABSOLUTE, BACKUP_DIR_IN_DATA_DIR (INVALID_ARGUMENT);
// BACKUP_DIR_FOREIGN, BACKUP_DIR_UNWRITABLE, RESTORE_TARGET_NOT_EMPTY
// (FAILED_PRECONDITION); NO_BACKUP, BACKUP_NOT_FOUND (NOT_FOUND); anything
// RocksDB reports is STORAGE_ERROR. Each is found before anything is written,
// or what was written is removed again.
//
// Thread-safety: the functions may run concurrently with the store's writes
// and reads, but at most one function at a time may use one backup
// directory (the caller serialises them; BackupEngine keeps no lock file).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"

namespace grid::storage {

class Store;

struct BackupSummary {
  uint32_t id = 0;
  int64_t created_unix_seconds = 0;
  uint64_t size_bytes = 0;  // every file of the backup
  uint64_t new_bytes = 0;   // of which in no earlier backup still kept (what this one copied)
  uint32_t files = 0;
};

// Backs `store` (open at `data_dir`) up into `backup_dir`, which must be
// absolute, outside the data directory, and missing, empty or a backup
// directory; it is created when missing. Then, when keep_last > 0, deletes
// the oldest backups beyond the newest keep_last (and the files only they
// used). Returns the new backup.
StatusOr<BackupSummary> CreateBackup(Store* store, const std::string& data_dir, const std::string& backup_dir,
                                     uint32_t keep_last);

// The backups in `backup_dir`, oldest first; NO_BACKUP when it holds none
// (or does not exist). Reads only.
StatusOr<std::vector<BackupSummary>> ListBackups(const std::string& backup_dir);

// Restores backup `backup_id` (nullopt: the newest) of `backup_dir` into
// `data_dir`, which must be missing or empty (RESTORE_TARGET_NOT_EMPTY
// otherwise). The files are restored into a sibling directory first and
// renamed into place, so a failure leaves `data_dir` as it was. Returns the
// backup restored.
StatusOr<BackupSummary> RestoreBackup(const std::string& backup_dir, std::optional<uint32_t> backup_id,
                                      const std::string& data_dir);

}  // namespace grid::storage
