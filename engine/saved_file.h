// Helpers for the engine's own saved files (the grid index, the unit table):
// a fast 64-bit checksum, writing a file atomically, and mapping a saved file
// read-only so that a restart does not copy it into memory.
//
// Thread-safety: Checksum is a plain value; MappedFile is immutable once
// opened and safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace grid {

// A 64-bit checksum over byte sections in sequence, fast enough to check a
// 2 GB file at load (four independent multiply-xor lanes over 8-byte words).
// Detects corruption, not tampering.
class Checksum {
 public:
  void Update(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    while (n > 0 && fill_ != 0) {  // finish a pending word
      pending_[fill_++] = *p++;
      --n;
      if (fill_ == 32) {
        Block(pending_);
        fill_ = 0;
      }
    }
    for (; n >= 32; p += 32, n -= 32) Block(p);
    std::memcpy(pending_, p, n);
    fill_ = n;
  }
  uint64_t Finish() const {
    uint64_t h = lane_[0] ^ Rot(lane_[1], 17) ^ Rot(lane_[2], 31) ^ Rot(lane_[3], 47);
    for (size_t i = 0; i < fill_; ++i) h = (h ^ pending_[i]) * kPrime;
    h ^= fill_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
  }

 private:
  static constexpr uint64_t kPrime = 0x9e3779b97f4a7c15ull;
  static uint64_t Rot(uint64_t v, int r) { return (v << r) | (v >> (64 - r)); }
  void Block(const unsigned char* p) {
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      std::memcpy(&w, p + 8 * k, 8);
      lane_[k] = Rot((lane_[k] ^ w) * kPrime, 29);
    }
  }
  uint64_t lane_[4] = {1, 2, 3, 4};
  unsigned char pending_[32];
  size_t fill_ = 0;
};

// Section alignment in saved files: every section starts at a multiple of
// this offset, so that a mapped file's arrays are aligned for their types.
inline constexpr size_t kSectionAlign = 64;
inline constexpr size_t AlignUp(size_t n) { return (n + kSectionAlign - 1) / kSectionAlign * kSectionAlign; }

// Writes a file as a sequence of sections to path + ".tmp", each padded with
// zeros to kSectionAlign, fsyncs it and renames it over `path` (so `path` is
// always a whole file). The first section is the header; checksum() covers
// every byte after it (padding included), as MappedFile::ChecksumFrom reads
// them. Errors are INTERNAL, IO_ERROR.
class SectionWriter {
 public:
  explicit SectionWriter(std::string path);
  ~SectionWriter();  // removes the temporary file unless Commit succeeded
  SectionWriter(const SectionWriter&) = delete;
  SectionWriter& operator=(const SectionWriter&) = delete;

  Status Open();
  // Appends `n` bytes and pads them to kSectionAlign.
  Status Section(const void* data, size_t n);
  // Rewrites the first `n` bytes (the header, once its checksum is known).
  Status Rewrite(const void* data, size_t n);
  Status Commit();
  uint64_t checksum() const { return sum_.Finish(); }

 private:
  Status Write(const void* data, size_t n);
  std::string path_, tmp_;
  int fd_ = -1;
  bool opened_ = false, committed_ = false, header_done_ = false;
  Checksum sum_;
};

// A saved file mapped read-only (private, never written). Its pages are the
// page cache's: they count in the process's RSS only once touched.
class MappedFile {
 public:
  // NOT_FOUND (IO_ERROR) when the file cannot be opened; INTERNAL otherwise.
  static StatusOr<std::shared_ptr<const MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  // The checksum of [from, size()), read through the file rather than the
  // mapping so that checking it leaves the mapping untouched (and the RSS
  // as it was). INTERNAL, IO_ERROR on a read error.
  StatusOr<uint64_t> ChecksumFrom(size_t from) const;

 private:
  MappedFile() = default;
  std::string path_;
  int fd_ = -1;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace grid
