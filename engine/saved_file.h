// The layout every file the engine saves shares (the grid index, the unit
// table): a fixed header that starts with an 8-byte magic and a 32-bit file
// version and ends with a 64-bit checksum of everything after it, then
// sections each aligned to kSectionAlign. Here: the checksum, the section
// writer, and the one check of a saved file's header (magic, file version,
// checksum) that every reader uses. The bytes come and go through the
// FileAccess the caller gives (file_access.h); nothing here does I/O itself.
//
// Thread-safety: Checksum and SectionWriter are plain values for one thread;
// the free functions are safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "engine/file_access.h"
#include "engine/reasons.h"
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

// Writes a file through `files` as a sequence of sections, each padded with
// zeros to kSectionAlign, to a temporary name that Commit syncs and renames
// over `path` (so `path` is always a whole file). The first section is the
// header; checksum() covers every byte after it (padding included), as
// ChecksumFrom reads them. Errors are INTERNAL, IO_ERROR.
class SectionWriter {
 public:
  // REQUIRES: `files` outlives the writer.
  SectionWriter(FileAccess& files, std::string path) : files_(files), path_(std::move(path)) {}

  [[nodiscard]] Status Open();
  // Appends `n` bytes and pads them to kSectionAlign.
  [[nodiscard]] Status Section(const void* data, size_t n);
  // Rewrites the first `n` bytes (the header, once its checksum is known).
  [[nodiscard]] Status Rewrite(const void* data, size_t n);
  // Syncs, then renames the file over `path`.
  [[nodiscard]] Status Commit();
  uint64_t checksum() const { return sum_.Finish(); }

 private:
  FileAccess& files_;
  std::string path_;
  std::unique_ptr<NewFile> file_;
  bool header_done_ = false;
  Checksum sum_;
};

// The checksum of [from, f.size()), read with ReadAt rather than through
// data() so that checking a mapped file leaves it untouched (and the RSS as
// it was). INTERNAL, IO_ERROR on a read error or a file that changed.
StatusOr<uint64_t> ChecksumFrom(const ReadOnlyFile& f, size_t from);

// What identifies one kind of saved file, and the reason its readers refuse
// a damaged one with.
struct SavedFormat {
  const char* magic;      // 8 bytes, at offset 0
  uint32_t file_version;  // at offset 8
  const char* name;       // "a ShapeIndex file", in messages
  const Reason* corrupt;  // the reason of every refusal: &reason::CORRUPT_INDEX
  // INVALID_ARGUMENT with reason `corrupt` and message "<path>: <why>".
  Status Corrupt(const std::string& path, const std::string& why) const;
};

// Opens the saved file at `path` and copies its header (header_size bytes)
// into `header` once it has checked that the file holds one, with the
// format's magic and file version. The caller then checks its own counts
// and calls CheckSavedBody. NOT_FOUND when the file cannot be opened;
// format.Corrupt ("truncated", "not <name>", "file version N, not M").
StatusOr<std::shared_ptr<const ReadOnlyFile>> OpenSavedFile(FileAccess& files, const std::string& path,
                                                            const SavedFormat& format, void* header,
                                                            size_t header_size);
// Checks the file's size against `expected_size` (the caller's layout) and
// the checksum of everything after the header against `checksum` (the
// header's). format.Corrupt ("inconsistent sizes", "checksum mismatch"), or
// ChecksumFrom's error.
Status CheckSavedBody(const ReadOnlyFile& f, const SavedFormat& format, const std::string& path, size_t header_size,
                      uint64_t expected_size, uint64_t checksum);

}  // namespace grid
