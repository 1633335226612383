// Saved-file layout, writing and header checks (saved_file.h), on top of the
// FileAccess the caller gives.
//
// Thread-safety: see saved_file.h.
#include "engine/saved_file.h"

#include <algorithm>
#include <vector>

#include "engine/reasons.h"

namespace grid {

Status SectionWriter::Open() {
  auto file = files_.Create(path_);
  if (!file.ok()) return file.status();
  file_ = std::move(file).value();
  return Status::Ok();
}

Status SectionWriter::Section(const void* data, size_t n) {
  static const char kZeros[kSectionAlign] = {};
  GRID_RETURN_IF_ERROR(file_->Append(data, n));
  GRID_RETURN_IF_ERROR(file_->Append(kZeros, AlignUp(n) - n));
  if (header_done_) {
    sum_.Update(data, n);
    sum_.Update(kZeros, AlignUp(n) - n);
  }
  header_done_ = true;
  return Status::Ok();
}

Status SectionWriter::Rewrite(const void* data, size_t n) { return file_->WriteAt(0, data, n); }

Status SectionWriter::Commit() {
  GRID_RETURN_IF_ERROR(file_->Sync());
  return file_->Rename();
}

StatusOr<uint64_t> ChecksumFrom(const ReadOnlyFile& f, size_t from) {
  Checksum sum;
  std::vector<char> buf(size_t{1} << 20);
  for (size_t at = from; at < f.size();) {
    auto r = f.ReadAt(at, buf.data(), std::min(buf.size(), f.size() - at));
    if (!r.ok()) return r.status();
    if (*r == 0) return Error(reason::IO_ERROR, "saved file changed while read");
    sum.Update(buf.data(), *r);
    at += *r;
  }
  return sum.Finish();
}

Status SavedFormat::Corrupt(const std::string& path, const std::string& why) const {
  return Error(*corrupt, path + ": " + why);
}

StatusOr<std::shared_ptr<const ReadOnlyFile>> OpenSavedFile(FileAccess& files, const std::string& path,
                                                            const SavedFormat& format, void* header,
                                                            size_t header_size) {
  auto file = files.OpenReadOnly(path);
  if (!file.ok()) return file.status();
  const ReadOnlyFile& f = **file;
  if (f.size() < header_size) return format.Corrupt(path, "truncated");
  std::memcpy(header, f.data(), header_size);
  if (std::memcmp(header, format.magic, 8) != 0) return format.Corrupt(path, std::string("not ") + format.name);
  uint32_t version;
  std::memcpy(&version, static_cast<const char*>(header) + 8, sizeof version);
  if (version != format.file_version) {
    return format.Corrupt(path,
                          "file version " + std::to_string(version) + ", not " + std::to_string(format.file_version));
  }
  return file;
}

Status CheckSavedBody(const ReadOnlyFile& f, const SavedFormat& format, const std::string& path, size_t header_size,
                      uint64_t expected_size, uint64_t checksum) {
  if (expected_size != f.size()) return format.Corrupt(path, "inconsistent sizes");
  auto sum = ChecksumFrom(f, AlignUp(header_size));
  if (!sum.ok()) return sum.status();
  if (*sum != checksum) return format.Corrupt(path, "checksum mismatch");
  return Status::Ok();
}

}  // namespace grid
