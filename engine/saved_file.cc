// Saved-file helpers: see saved_file.h.
#include "engine/saved_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace grid {

SectionWriter::SectionWriter(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}

SectionWriter::~SectionWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (opened_ && !committed_) ::unlink(tmp_.c_str());
}

Status SectionWriter::Open() {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    fd_ = -1;
    return Internal("IO_ERROR", tmp_ + ": open: " + std::strerror(errno));
  }
  opened_ = true;
  return Status::Ok();
}

Status SectionWriter::Write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Internal("IO_ERROR", tmp_ + ": write: " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status SectionWriter::Section(const void* data, size_t n) {
  static const char kZeros[kSectionAlign] = {};
  GRID_RETURN_IF_ERROR(Write(data, n));
  GRID_RETURN_IF_ERROR(Write(kZeros, AlignUp(n) - n));
  if (header_done_) {
    sum_.Update(data, n);
    sum_.Update(kZeros, AlignUp(n) - n);
  }
  header_done_ = true;
  return Status::Ok();
}

Status SectionWriter::Rewrite(const void* data, size_t n) {
  if (::pwrite(fd_, data, n, 0) != static_cast<ssize_t>(n)) {
    return Internal("IO_ERROR", tmp_ + ": write: " + std::strerror(errno));
  }
  return Status::Ok();
}

Status SectionWriter::Commit() {
  if (::fsync(fd_) != 0) return Internal("IO_ERROR", tmp_ + ": fsync: " + std::strerror(errno));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return Internal("IO_ERROR", path_ + ": rename: " + std::strerror(errno));
  }
  committed_ = true;
  return Status::Ok();
}

StatusOr<std::shared_ptr<const MappedFile>> MappedFile::Open(const std::string& path) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd_ < 0) return NotFound("IO_ERROR", path + ": open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(f->fd_, &st) != 0) return Internal("IO_ERROR", path + ": stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Internal("IO_ERROR", path + ": not a regular file");
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ == 0) return std::shared_ptr<const MappedFile>(std::move(f));
  void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, f->fd_, 0);
  if (p == MAP_FAILED) return Internal("IO_ERROR", path + ": mmap: " + std::strerror(errno));
  f->data_ = static_cast<const char*>(p);
  return std::shared_ptr<const MappedFile>(std::move(f));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

StatusOr<uint64_t> MappedFile::ChecksumFrom(size_t from) const {
  Checksum sum;
  std::vector<char> buf(size_t{1} << 20);
  for (size_t at = from; at < size_;) {
    const ssize_t r = ::pread(fd_, buf.data(), std::min(buf.size(), size_ - at), static_cast<off_t>(at));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Internal("IO_ERROR", path_ + ": read: " + std::strerror(errno));
    }
    if (r == 0) return Internal("IO_ERROR", path_ + ": changed while read");
    sum.Update(buf.data(), static_cast<size_t>(r));
    at += static_cast<size_t>(r);
  }
  return sum.Finish();
}

}  // namespace grid
