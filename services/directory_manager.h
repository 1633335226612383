// The directory's owner on the server: loads it at start, applies imports
// and upserts as new versions (validated, saved in one synced batch, then
// swapped in atomically), one change at a time.
//
// The grid index and the unit table of the version serving are also saved
// to files next to the store, labelled with its version, so that a restart
// maps them instead of reading every stored unit and rebuilding the index
// from every stored boundary; a missing, stale or corrupt file is rebuilt
// (and saved again).
//
// Thread-safety: Apply and LoadAtStart are serialised by mu_; readers use the
// DirectoryHandle and never wait for a change.
#pragma once

#include <absl/base/thread_annotations.h>

#include <optional>
#include <string>

#include "engine/directory.h"
#include "engine/status.h"
#include "port/mutex.h"
#include "storage/store.h"

namespace grid::services {

class DirectoryManager {
 public:
  // REQUIRES: store, handle and saved.files outlive the manager. An empty
  // path saves no such file (every start rebuilds what it holds); without
  // saved.files no file is saved or read.
  DirectoryManager(storage::Store* store, DirectoryHandle* handle, SavedPaths saved = {})
      : store_(store), handle_(handle), saved_(std::move(saved)) {}

  // Loads the stored directory into the handle. When none is stored and
  // `initial` is given, validates and saves it as version 1 first. Returns
  // the version serving (0: an empty directory).
  StatusOr<uint64_t> LoadAtStart(const std::optional<grid::v1::DirectoryContent>& initial) ABSL_LOCKS_EXCLUDED(mu_);

  // Merges (or, with replace, substitutes) `delta` into the current
  // directory, validates the result, saves it and swaps it in. Nothing
  // changes on error. Returns the new version.
  StatusOr<uint64_t> Apply(const grid::v1::DirectoryContent& delta, bool replace) ABSL_LOCKS_EXCLUDED(mu_);

  // How LoadAtStart got the grid index and unit table, and the last failure
  // to save them (empty when none): a failed save costs the next restart a
  // rebuild only.
  RestoreReport restore_report() const ABSL_LOCKS_EXCLUDED(mu_);
  std::string last_index_save_error() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Saves the unit table, and the grid index unless `index` is false (it
  // was loaded from its file, which then holds the same label).
  void SaveFiles(const Directory& d, bool index = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::Store* const store_;
  DirectoryHandle* const handle_;
  const SavedPaths saved_;
  mutable Mutex mu_;  // serialises changes
  RestoreReport report_ ABSL_GUARDED_BY(mu_);
  std::string save_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grid::services
