// The engine's only way to files: a small interface its callers give it, for
// the files the directory saves beside the store (the grid index and the
// unit table; saved_file.h). The engine does no I/O of its own; the POSIX
// implementation (with mmap) is storage/posix_files.h, and tests may use
// tests/support/memory_files.h.
//
// Writing is explicit about durability, so that an implementation can drop
// what was never synced (fault injection): a file is created under a
// temporary name, written, Sync()ed, then Rename()d over its final name. A
// NewFile destroyed before Rename leaves nothing behind.
//
// Thread-safety: a FileAccess may be shared by threads (implementations say
// so). A NewFile is used by one thread at a time. A ReadOnlyFile is immutable
// once opened and safe to share; its bytes live as long as it does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/status.h"

namespace grid {

// A file being written under a temporary name (the final name + ".tmp").
class NewFile {
 public:
  virtual ~NewFile() = default;  // removes the temporary file unless renamed
  // Appends n bytes. INTERNAL (IO_ERROR) on failure.
  [[nodiscard]] virtual Status Append(const void* data, size_t n) = 0;
  // Overwrites n bytes at `offset`. REQUIRES: offset + n <= bytes appended.
  [[nodiscard]] virtual Status WriteAt(uint64_t offset, const void* data, size_t n) = 0;
  // Makes every byte written so far durable (fsync).
  [[nodiscard]] virtual Status Sync() = 0;
  // Renames the temporary file over the final name, which then always names
  // a whole file. REQUIRES: Sync() succeeded after the last write; bytes not
  // synced may be lost in a crash even after Rename.
  [[nodiscard]] virtual Status Rename() = 0;
};

// A whole file opened read-only. data() may be a read-only mapping: its
// pages then become resident (and count in the RSS) only once touched.
class ReadOnlyFile {
 public:
  virtual ~ReadOnlyFile() = default;
  virtual const char* data() const = 0;  // null for an empty file
  virtual size_t size() const = 0;
  // Reads up to n bytes at `offset` into buf without touching data() (so
  // that checking a mapped file leaves its pages as they were); returns the
  // bytes read, 0 at the end. INTERNAL (IO_ERROR) on a read error.
  [[nodiscard]] virtual StatusOr<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const = 0;
};

class FileAccess {
 public:
  virtual ~FileAccess() = default;
  // Creates (or truncates) path + ".tmp" for writing; NewFile::Rename moves
  // it over `path`. INTERNAL (IO_ERROR) on failure.
  [[nodiscard]] virtual StatusOr<std::unique_ptr<NewFile>> Create(const std::string& path) = 0;
  // Opens `path` read-only. NOT_FOUND (IO_ERROR) when it cannot be opened,
  // INTERNAL (IO_ERROR) otherwise.
  [[nodiscard]] virtual StatusOr<std::shared_ptr<const ReadOnlyFile>> OpenReadOnly(const std::string& path) = 0;
};

}  // namespace grid
