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

  struct Applied {
    uint64_t version = 0;        // the new version serving
    uint32_t removed_units = 0;  // units of the version before that it lacks
  };

  // Merges (or, with replace, substitutes) `delta` into the current
  // directory, validates the result, saves it and swaps it in. Nothing
  // changes on error. A replace keeps the version it replaces (see
  // RestorePrevious) and is refused with REPLACE_REMOVES_UNITS when it
  // removes the root or a unit with open cases in its subtree, unless
  // `confirm_removed_units` is the number of units it removes; a non-zero
  // `confirm_removed_units` must match in any case.
  StatusOr<Applied> Apply(const grid::v1::DirectoryContent& delta, bool replace, uint32_t confirm_removed_units = 0)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Substitutes the directory the last replace replaced (its content, as a
  // new version), guarded as Apply guards a replace; the version serving is
  // kept in its place. NO_PREVIOUS_DIRECTORY when none is kept. Returns the
  // new version and, in *restored, the version whose content it holds.
  StatusOr<Applied> RestorePrevious(uint32_t confirm_removed_units, uint64_t* restored) ABSL_LOCKS_EXCLUDED(mu_);

  // How LoadAtStart got the grid index and unit table, and the last failure
  // to save them (empty when none): a failed save costs the next restart a
  // rebuild only.
  RestoreReport restore_report() const ABSL_LOCKS_EXCLUDED(mu_);
  std::string last_index_save_error() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Saves the unit table, and the grid index unless `index` is false (it
  // was loaded from its file, which then holds the same label).
  void SaveFiles(const Directory& d, bool index = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Apply's body: `next` is validated content built from the version
  // serving (`current`).
  StatusOr<Applied> ReplaceOrMerge(const Directory& current, const grid::v1::DirectoryContent& delta, bool replace,
                                   uint32_t confirm_removed_units) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // OK unless the replace of `current` by `next` must be confirmed and is
  // not (REPLACE_REMOVES_UNITS), or `confirm` is set and differs from the
  // number removed. *removed: that number.
  Status CheckRemovals(const Directory& current, const Directory& next, uint32_t confirm, uint32_t* removed) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::Store* const store_;
  DirectoryHandle* const handle_;
  const SavedPaths saved_;
  mutable Mutex mu_;  // serialises changes
  RestoreReport report_ ABSL_GUARDED_BY(mu_);
  std::string save_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grid::services
