// ShapeIndex::Save and Load: the grid index file (grid-index.bin), written
// and read through the caller's FileAccess.
//
// Thread-safety: Save only reads the index; Load builds a new one.
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "engine/geo.h"
#include "engine/reasons.h"
#include "engine/saved_file.h"
#include "engine/shape_index_impl.h"

namespace grid::geo {

using namespace internal;

// ---------------------------------------------------------------------------
// Save and Load: a header, then the arrays' bytes in a fixed order, each
// section aligned (saved_file.h), then the label and a block of zeros.

namespace {

constexpr char kMagic[8] = {'G', 'R', 'I', 'D', 'G', 'E', 'O', '1'};

// Version 2 adds the caller's label and a checksum of everything after the
// header; version 3 starts every section at a multiple of kSectionAlign (the
// file is mapped, not read) and checksums the padding too. Older files are
// refused: they are rebuilt.
constexpr uint32_t kFileVersion = 3;

constexpr SavedFormat kFormat{kMagic, kFileVersion, "a ShapeIndex file", &reason::CORRUPT_INDEX};

struct FileHeader {
  char magic[8];
  uint32_t version;
  int32_t shift;
  int64_t x0, y0, x1, y1;
  uint32_t cols, rows;
  uint64_t polygons, vertices, integer_polygons;
  uint64_t n_words, n_dbl, n_shape_recs, n_cells, n_entries, n_big;
  uint64_t n_label;
  uint64_t checksum;  // Checksum of the sections, in file order
};

}  // namespace

Status ShapeIndex::Save(FileAccess& files, const std::string& path, std::string_view label) const {
  if (!impl_ || impl_->stage != FirstStage::kCellGrid) {
    return Error(reason::UNSUPPORTED, "only a cell-grid ShapeIndex can be saved");
  }
  const Impl& impl = *impl_;
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kFileVersion;
  h.shift = impl.grid.shift;
  h.x0 = impl.grid.x0, h.y0 = impl.grid.y0, h.x1 = impl.grid.x1, h.y1 = impl.grid.y1;
  h.cols = impl.grid.cols, h.rows = impl.grid.rows;
  h.polygons = impl.polygons, h.vertices = impl.vertices, h.integer_polygons = impl.integer_polygons;
  h.n_words = impl.words.size(), h.n_dbl = impl.dbl.size(), h.n_shape_recs = impl.shape_recs.size();
  h.n_cells = impl.grid.cells.size(), h.n_entries = impl.grid.entries.size(), h.n_big = impl.grid.big.size();
  h.n_label = label.size();
  SectionWriter w(files, path);
  GRID_RETURN_IF_ERROR(w.Open());
  GRID_RETURN_IF_ERROR(w.Section(&h, sizeof h));
  GRID_RETURN_IF_ERROR(w.Section(impl.words.data(), impl.words.bytes()));
  GRID_RETURN_IF_ERROR(w.Section(impl.dbl.data(), impl.dbl.bytes()));
  GRID_RETURN_IF_ERROR(w.Section(impl.shape_recs.data(), impl.shape_recs.bytes()));
  GRID_RETURN_IF_ERROR(w.Section(impl.grid.cells.data(), impl.grid.cells.bytes()));
  GRID_RETURN_IF_ERROR(w.Section(impl.grid.entries.data(), impl.grid.entries.bytes()));
  GRID_RETURN_IF_ERROR(w.Section(impl.grid.big.data(), impl.grid.big.bytes()));
  GRID_RETURN_IF_ERROR(w.Section(label.data(), label.size()));
  static const char kTail[kSectionAlign] = {};  // readable slack after the last array
  GRID_RETURN_IF_ERROR(w.Section(kTail, sizeof kTail));
  h.checksum = w.checksum();
  GRID_RETURN_IF_ERROR(w.Rewrite(&h, sizeof h));
  return w.Commit();
}

StatusOr<ShapeIndex> ShapeIndex::Load(FileAccess& files, const std::string& path, std::string* label) {
  return Load(files, path, label, LoadMode::kMap);
}

StatusOr<ShapeIndex> ShapeIndex::Load(FileAccess& files, const std::string& path, std::string* label, LoadMode mode) {
  FileHeader h;
  auto file = OpenSavedFile(files, path, kFormat, &h, sizeof h);
  if (!file.ok()) return file.status();
  const ReadOnlyFile& f = **file;
  // Sizes first (in 128-bit arithmetic: the counts are not trusted yet).
  const unsigned __int128 want = AlignUp(sizeof h) + AlignUp(h.n_words * 4) + AlignUp(h.n_dbl * sizeof(Point)) +
                                 AlignUp(h.n_shape_recs * 4) + AlignUp(h.n_cells * 8) +
                                 AlignUp(h.n_entries * sizeof(LeafEntry)) + AlignUp(h.n_big * 4) + AlignUp(h.n_label) +
                                 kSectionAlign;
  const bool sane_counts = h.n_words < (uint64_t{1} << 40) && h.n_dbl < (uint64_t{1} << 40) &&
                           h.n_shape_recs < (uint64_t{1} << 40) && h.n_cells < (uint64_t{1} << 40) &&
                           h.n_entries < (uint64_t{1} << 40) && h.n_big < (uint64_t{1} << 40) &&
                           h.n_label < (uint64_t{1} << 40);
  if (!sane_counts || want != f.size() || h.n_shape_recs == 0 || h.n_words > std::numeric_limits<uint32_t>::max() ||
      static_cast<uint64_t>(h.cols) * h.rows > h.n_cells || h.shift < kRelBits || h.shift > 62) {
    return kFormat.Corrupt(path, "inconsistent sizes");
  }
  GRID_RETURN_IF_ERROR(CheckSavedBody(f, kFormat, path, sizeof h, static_cast<uint64_t>(want), h.checksum));
  ShapeIndex index;
  Impl& impl = *index.impl_;
  impl.stage = FirstStage::kCellGrid;
  impl.polygons = h.polygons, impl.vertices = h.vertices, impl.integer_polygons = h.integer_polygons;
  impl.grid.shift = h.shift;
  impl.grid.x0 = h.x0, impl.grid.y0 = h.y0, impl.grid.x1 = h.x1, impl.grid.y1 = h.y1;
  impl.grid.cols = h.cols, impl.grid.rows = h.rows;
  // The arrays are views of the mapping: nothing is copied, and a page
  // becomes resident only when a lookup touches it. Every array is
  // followed by at least kSlack readable bytes (the file ends with a block
  // of zeros).
  size_t at = AlignUp(sizeof h);
  auto view = [&](auto& array, uint64_t n) {
    using T = std::remove_cvref_t<decltype(*array.data())>;
    const T* data = reinterpret_cast<const T*>(f.data() + at);
    if (mode == LoadMode::kMap) {
      array.Borrow(data, n);
    } else {
      array.ResizeUninitialized(n);
      if (n > 0) std::memcpy(static_cast<void*>(array.data()), data, n * sizeof(T));
    }
    at += AlignUp(n * sizeof(T));
  };
  view(impl.words, h.n_words);
  view(impl.dbl, h.n_dbl);
  view(impl.shape_recs, h.n_shape_recs);
  view(impl.grid.cells, h.n_cells);
  view(impl.grid.entries, h.n_entries);
  view(impl.grid.big, h.n_big);
  if (impl.shape_recs[h.n_shape_recs - 1] != h.n_words) {
    return kFormat.Corrupt(path, "inconsistent shape table");
  }
  if (label) label->assign(f.data() + at, h.n_label);
  if (mode == LoadMode::kMap) impl.mapping = std::move(file).value();
  return index;
}

}  // namespace grid::geo
