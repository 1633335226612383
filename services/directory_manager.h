// The directory's owner on the server: loads it at start, applies imports
// and upserts as new versions (validated, saved in one synced batch, then
// swapped in atomically), one change at a time.
//
// The grid index of the version serving is also saved to `index_path` (next
// to the store), labelled with its version, so that a restart loads it
// instead of rebuilding it from every stored boundary; a missing, stale or
// corrupt file is rebuilt (and saved again).
//
// Thread-safety: Apply and LoadAtStart are serialised by mu_; readers use the
// DirectoryHandle and never wait for a change.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "engine/directory.h"
#include "engine/status.h"
#include "storage/store.h"

namespace grid::services {

class DirectoryManager {
 public:
  // REQUIRES: store and handle outlive the manager. An empty index_path
  // saves no index (every start rebuilds it).
  DirectoryManager(storage::Store* store, DirectoryHandle* handle, std::string index_path = {})
      : store_(store), handle_(handle), index_path_(std::move(index_path)) {}

  // Loads the stored directory into the handle. When none is stored and
  // `initial` is given, validates and saves it as version 1 first. Returns
  // the version serving (0: an empty directory).
  StatusOr<uint64_t> LoadAtStart(const std::optional<grid::v1::DirectoryContent>& initial);

  // Merges (or, with replace, substitutes) `delta` into the current
  // directory, validates the result, saves it and swaps it in. Nothing
  // changes on error. Returns the new version.
  StatusOr<uint64_t> Apply(const grid::v1::DirectoryContent& delta, bool replace);

  // How LoadAtStart got the grid index, and the last failure to save it
  // (empty when none): a failed save costs the next restart a rebuild only.
  RestoreReport restore_report() const;
  std::string last_index_save_error() const;

 private:
  void SaveIndex(const Directory& d);  // REQUIRES: mu_ held

  storage::Store* const store_;
  DirectoryHandle* const handle_;
  const std::string index_path_;
  mutable std::mutex mu_;  // serialises changes
  RestoreReport report_;
  std::string save_error_;
};

}  // namespace grid::services
