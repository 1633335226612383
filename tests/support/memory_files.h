// MemoryFiles: an in-memory FileAccess (engine/file_access.h) for engine
// tests: files are strings, and every call is logged ("create p", "append",
// "write_at", "sync", "rename p") so that a test can check the order of
// writes, syncs and renames. A file becomes visible under its name only
// when renamed, as on disk.
//
// Thread-safety: none; for one test thread.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "engine/file_access.h"

namespace grid::testing {

class MemoryFiles final : public FileAccess {
 public:
  std::map<std::string, std::string> files;  // by final name
  std::vector<std::string> log;

  StatusOr<std::unique_ptr<NewFile>> Create(const std::string& path) override {
    log.push_back("create " + path);
    return std::unique_ptr<NewFile>(std::make_unique<File>(this, path));
  }

  StatusOr<std::shared_ptr<const ReadOnlyFile>> OpenReadOnly(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return NotFound("IO_ERROR", path + ": no such file");
    return std::shared_ptr<const ReadOnlyFile>(std::make_shared<Contents>(it->second));
  }

 private:
  class File final : public NewFile {
   public:
    File(MemoryFiles* owner, std::string path) : owner_(owner), path_(std::move(path)) {}
    Status Append(const void* data, size_t n) override {
      owner_->log.push_back("append");
      bytes_.append(static_cast<const char*>(data), n);
      return Status::Ok();
    }
    Status WriteAt(uint64_t offset, const void* data, size_t n) override {
      owner_->log.push_back("write_at");
      bytes_.replace(offset, n, static_cast<const char*>(data), n);
      return Status::Ok();
    }
    Status Sync() override {
      owner_->log.push_back("sync");
      return Status::Ok();
    }
    Status Rename() override {
      owner_->log.push_back("rename " + path_);
      owner_->files[path_] = bytes_;
      return Status::Ok();
    }

   private:
    MemoryFiles* owner_;
    std::string path_;
    std::string bytes_;
  };

  // A copy of the bytes, in memory aligned for the sections' arrays.
  class Contents final : public ReadOnlyFile {
   public:
    explicit Contents(const std::string& bytes)
        : size_(bytes.size()), data_(new (std::align_val_t{64}) char[bytes.size() + 64]) {
      std::memcpy(data_.get(), bytes.data(), bytes.size());
    }
    const char* data() const override { return size_ == 0 ? nullptr : data_.get(); }
    size_t size() const override { return size_; }
    StatusOr<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const override {
      if (offset >= size_) return size_t{0};
      n = std::min<size_t>(n, size_ - offset);
      std::memcpy(buf, data_.get() + offset, n);
      return n;
    }

   private:
    struct Free {
      void operator()(char* p) const { ::operator delete[](p, std::align_val_t{64}); }
    };
    size_t size_;
    std::unique_ptr<char[], Free> data_;
  };
};

}  // namespace grid::testing
