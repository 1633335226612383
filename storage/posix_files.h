// PosixFiles: the engine's FileAccess (engine/file_access.h) on a POSIX file
// system, for the grid index and unit table saved beside the store. A new
// file is written with write/pwrite to path + ".tmp", fsynced by Sync and
// renamed over path by Rename (which fsyncs the directory); a file opened read-only is mapped (mmap,
// private, never written) so that a restart does not copy it into memory.
//
// Thread-safety: PosixFiles holds no state and may be shared by any number
// of threads. A NewFile it creates is for one thread at a time; a
// ReadOnlyFile is immutable and safe to share.
#pragma once

#include <memory>
#include <string>

#include "engine/file_access.h"

namespace grid::storage {

class PosixFiles final : public FileAccess {
 public:
  StatusOr<std::unique_ptr<NewFile>> Create(const std::string& path) override;
  StatusOr<std::shared_ptr<const ReadOnlyFile>> OpenReadOnly(const std::string& path) override;
};

}  // namespace grid::storage
