// The directory's saved files: the grid index's label (which version and
// grids it was saved for) and the unit table file (unit-table.bin), written
// and mapped through the caller's FileAccess. Layout: storage/FORMAT.md.
//
// Thread-safety: saving only reads the directory; LoadTable and
// TakeIndexLabel run on a directory being restored, by one thread.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "engine/directory.h"
#include "engine/directory_internal.h"
#include "engine/reasons.h"
#include "engine/saved_file.h"

namespace grid {

using namespace directory_internal;
using grid::v1::Unit;

namespace {

// The grid index's label: this magic, "version V", "grids N", "codes C" (a
// checksum of the grids' codes in order) lines, then the grids' unit indices
// (N little-endian uint32). The indices let a restart that rebuilds the unit
// table (the same units give the same indices) take the grids from the
// label; the checksum proves they are the same grids.
constexpr std::string_view kIndexLabelMagic = "gridcase-directory-index 2\n";

// The unit table file: a header, then the table's sections (saved_file.h).
constexpr char kTableMagic[8] = {'G', 'R', 'I', 'D', 'U', 'N', 'T', '1'};
constexpr uint32_t kTableFileVersion = 1;
constexpr SavedFormat kTableFormat{kTableMagic, kTableFileVersion, "a unit table file", &reason::CORRUPT_TABLE};
struct TableHeader {
  char magic[8];
  uint32_t file_version;
  uint32_t reserved;
  uint64_t version;          // the directory's
  uint64_t index_label_sum;  // Checksum of the grid index's label saved with it
  uint64_t units, slots, arena, extras, extras_bytes;
  uint64_t checksum;  // of everything after the header
};

}  // namespace

std::string Directory::IndexLabel() const {
  Checksum codes;
  for (uint32_t i : indexed_grids_) {
    const std::string_view code = units_.at(i).code();
    codes.Update(code.data(), code.size());
    codes.Update("\n", 1);
  }
  std::string label(kIndexLabelMagic);
  label += "version " + std::to_string(version_) + "\ngrids " + std::to_string(indexed_grids_.size()) + "\ncodes " +
           std::to_string(codes.Finish()) + "\n";
  const size_t at = label.size();
  label.resize(at + 4 * indexed_grids_.size());
  for (size_t k = 0; k < indexed_grids_.size(); ++k) {
    const uint32_t v = indexed_grids_[k];
    for (int b = 0; b < 4; ++b) label[at + 4 * k + b] = static_cast<char>(v >> (8 * b));
  }
  return label;
}

Status Directory::TakeIndexLabel(std::string_view rest, bool paired) {
  if (!rest.starts_with(kIndexLabelMagic)) return Error(reason::STALE_INDEX, "not a directory index");
  rest.remove_prefix(kIndexLabelMagic.size());
  auto line = [&rest]() {
    const size_t nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    return l;
  };
  if (line() != "version " + std::to_string(version_)) {
    return Error(reason::STALE_INDEX, "saved for another directory version");
  }
  const std::string_view count = line(), codes = line();
  const size_t n = rest.size() / 4;
  if (rest.size() % 4 != 0 || count != "grids " + std::to_string(n) || grid_index_.size() != n) {
    return Error(reason::STALE_INDEX, "its grid count does not match");
  }
  std::vector<uint32_t> grids(n);
  Checksum sum;
  for (size_t k = 0; k < n; ++k) {
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= static_cast<uint32_t>(static_cast<unsigned char>(rest[4 * k + b])) << (8 * b);
    if (v >= units_.size() || (k > 0 && v <= grids[k - 1])) {
      return Error(reason::STALE_INDEX, "its grids are not this directory's");
    }
    grids[k] = v;
    if (paired) continue;  // checked when they were saved together
    if (units_.at(v).level() != grid::v1::UNIT_LEVEL_GRID) {
      return Error(reason::STALE_INDEX, "its grids are not this directory's");
    }
    const std::string_view code = units_.at(v).code();
    sum.Update(code.data(), code.size());
    sum.Update("\n", 1);
  }
  if (!paired && codes != "codes " + std::to_string(sum.Finish())) {
    return Error(reason::STALE_INDEX, "its grids are not this directory's");
  }
  indexed_grids_ = std::move(grids);
  return Status::Ok();
}

Status Directory::SaveIndex(FileAccess& files, const std::string& path) const {
  return grid_index_.Save(files, path, IndexLabel());
}

Status Directory::SaveTable(FileAccess& files, const std::string& path) const {
  const UnitTable::Counts c = units_.counts();
  TableHeader h{};
  std::memcpy(h.magic, kTableMagic, sizeof kTableMagic);
  h.file_version = kTableFileVersion;
  h.version = version_;
  h.index_label_sum = ChecksumOf(IndexLabel());
  h.units = c.units, h.slots = c.slots, h.arena = c.arena, h.extras = c.extras, h.extras_bytes = c.extras_bytes;
  SectionWriter w(files, path);
  GRID_RETURN_IF_ERROR(w.Open());
  GRID_RETURN_IF_ERROR(w.Section(&h, sizeof h));
  for (const UnitTable::Image& s : units_.Sections()) GRID_RETURN_IF_ERROR(w.Section(s.data, s.bytes));
  h.checksum = w.checksum();
  GRID_RETURN_IF_ERROR(w.Rewrite(&h, sizeof h));
  return w.Commit();
}

Status Directory::LoadTable(FileAccess& files, const std::string& path, uint64_t* index_label_sum) {
  TableHeader h;
  auto file = OpenSavedFile(files, path, kTableFormat, &h, sizeof h);
  if (!file.ok()) return file.status();
  const ReadOnlyFile& f = **file;
  if (h.version != version_) return Error(reason::STALE_TABLE, "saved for another directory version");
  const UnitTable::Counts c{h.units, h.slots, h.arena, h.extras, h.extras_bytes};
  if (c.units > (uint64_t{1} << 32) || c.slots > (uint64_t{1} << 34) || c.arena > (uint64_t{1} << 32) ||
      c.extras_bytes > (uint64_t{1} << 40)) {
    return kTableFormat.Corrupt(path, "inconsistent sizes");
  }
  const std::vector<size_t> bytes = UnitTable::SectionBytes(c);
  size_t want = AlignUp(sizeof h);
  for (size_t b : bytes) want += AlignUp(b);
  GRID_RETURN_IF_ERROR(CheckSavedBody(f, kTableFormat, path, sizeof h, want, h.checksum));
  std::vector<const char*> sections;
  size_t at = AlignUp(sizeof h);
  for (size_t b : bytes) {
    sections.push_back(f.data() + at);
    at += AlignUp(b);
  }
  auto table = UnitTable::FromSections(c, sections, std::move(file).value());
  if (!table.ok()) return kTableFormat.Corrupt(path, table.status().message());
  units_ = std::move(table).value();
  *index_label_sum = h.index_label_sum;
  return Status::Ok();
}

}  // namespace grid
