// PosixFiles (posix_files.h): open/write/pwrite/fsync/rename for new files,
// open/mmap/pread for saved ones.
//
// Thread-safety: see posix_files.h.
#include "storage/posix_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/reasons.h"

namespace grid::storage {
namespace {

Status IoError(const std::string& path, const char* op) {
  return Error(reason::IO_ERROR, path + ": " + op + ": " + std::strerror(errno));
}

class PosixNewFile final : public NewFile {
 public:
  PosixNewFile(std::string path, int fd) : path_(std::move(path)), tmp_(path_ + ".tmp"), fd_(fd) {}
  ~PosixNewFile() override {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(tmp_.c_str());
  }

  Status Append(const void* data, size_t n) override {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
      if (w < 0) {
        if (errno == EINTR) continue;
        return IoError(tmp_, "write");
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }

  Status WriteAt(uint64_t offset, const void* data, size_t n) override {
    if (::pwrite(fd_, data, n, static_cast<off_t>(offset)) != static_cast<ssize_t>(n)) return IoError(tmp_, "write");
    return Status::Ok();
  }

  Status Sync() override {
    if (::fsync(fd_) != 0) return IoError(tmp_, "fsync");
    return Status::Ok();
  }

  // The rename, then the directory's fsync: until then a power loss may
  // leave the old file (or none) under the name.
  Status Rename() override {
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) return IoError(path_, "rename");
    renamed_ = true;
    const size_t slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return IoError(dir, "open");
    const int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) return IoError(dir, "fsync");
    return Status::Ok();
  }

 private:
  const std::string path_, tmp_;
  int fd_;
  bool renamed_ = false;
};

class MappedFile final : public ReadOnlyFile {
 public:
  MappedFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~MappedFile() override {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }

  Status Map() {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return IoError(path_, "stat");
    if (!S_ISREG(st.st_mode)) return Error(reason::IO_ERROR, path_ + ": not a regular file");
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) return Status::Ok();
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) return IoError(path_, "mmap");
    data_ = static_cast<const char*>(p);
    return Status::Ok();
  }

  const char* data() const override { return data_; }
  size_t size() const override { return size_; }

  StatusOr<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const override {
    for (;;) {
      const ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return IoError(path_, "read");
    }
  }

 private:
  const std::string path_;
  const int fd_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<NewFile>> PosixFiles::Create(const std::string& path) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(tmp, "open");
  return std::unique_ptr<NewFile>(std::make_unique<PosixNewFile>(path, fd));
}

StatusOr<std::shared_ptr<const ReadOnlyFile>> PosixFiles::OpenReadOnly(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrorWithCode(StatusCode::kNotFound, reason::IO_ERROR, path + ": open: " + std::strerror(errno));
  auto f = std::make_shared<MappedFile>(path, fd);
  GRID_RETURN_IF_ERROR(f->Map());
  return std::shared_ptr<const ReadOnlyFile>(std::move(f));
}

}  // namespace grid::storage
