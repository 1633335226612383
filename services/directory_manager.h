// The directory's owner on the server: loads it at start, applies imports
// and upserts as new versions (validated, saved in one synced batch, then
// swapped in atomically), one change at a time.
//
// Thread-safety: Apply and LoadAtStart are serialised by mu_; readers use the
// DirectoryHandle and never wait for a change.
#pragma once

#include <mutex>
#include <optional>

#include "engine/directory.h"
#include "engine/status.h"
#include "storage/store.h"

namespace grid::services {

class DirectoryManager {
 public:
  // REQUIRES: store and handle outlive the manager.
  DirectoryManager(storage::Store* store, DirectoryHandle* handle) : store_(store), handle_(handle) {}

  // Loads the stored directory into the handle. When none is stored and
  // `initial` is given, validates and saves it as version 1 first. Returns
  // the version serving (0: an empty directory).
  StatusOr<uint64_t> LoadAtStart(const std::optional<grid::v1::DirectoryContent>& initial);

  // Merges (or, with replace, substitutes) `delta` into the current
  // directory, validates the result, saves it and swaps it in. Nothing
  // changes on error. Returns the new version.
  StatusOr<uint64_t> Apply(const grid::v1::DirectoryContent& delta, bool replace);

 private:
  storage::Store* const store_;
  DirectoryHandle* const handle_;
  std::mutex mu_;  // serialises changes
};

}  // namespace grid::services
