// The ShapeIndex's first stage: a hierarchical cell grid over the polygons'
// integer boxes (layout in shape_index_impl.h), and its lookup, inline for
// the lookups' sake. Built by GridBuilder (shape_index_build.cc).
//
// Thread-safety: immutable once built; const methods are safe to share.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "engine/flat_array.h"
#include "engine/geo_records.h"

namespace grid::geo::internal {

// A polygon's integer box for the first stage (conservative for kDouble).
struct Item {
  int32_t min_x, min_y, max_x, max_y;
  uint32_t rec;  // word offset
};

struct LeafEntry {
  uint32_t rec;
  uint8_t x0, y0, x1, y1;  // the box relative to the leaf, in 1/256ths, rounded outward
};
static_assert(sizeof(LeafEntry) == 8);

inline constexpr uint64_t kSubgridFlag = uint64_t{1} << 63;
inline constexpr int kSubBits = 2;  // 4x4 children
inline constexpr size_t kLeafMax = 10;
inline constexpr int kRelBits = 8;
inline constexpr int64_t kBigCells = 1024;

struct CellGrid {
  int64_t x0 = 0, y0 = 0, x1 = -1, y1 = -1;  // extent of all boxes (inclusive)
  int shift = 0;
  uint32_t cols = 0, rows = 0;
  // Top cells (row-major) then 4x4 blocks of children. A leaf is
  // begin | count << 32 into entries; a split cell is kSubgridFlag | the
  // index of its first child.
  FlatArray<uint64_t> cells;
  FlatArray<LeafEntry> entries;
  FlatArray<uint32_t> big;  // records checked on every lookup

  // The leaf holding (px, py): its entries, and the point within the leaf in
  // the entries' 1/256ths. False outside the grid's extent.
  struct LeafSpot {
    const LeafEntry* begin;
    const LeafEntry* end;
    int64_t rx, ry;
  };
  bool FindLeaf(int64_t px, int64_t py, LeafSpot& out) const {
    if (px < x0 || py < y0 || px > x1 || py > y1) return false;
    int sh = shift;
    const int64_t cx = (px - x0) >> sh, cy = (py - y0) >> sh;
    int64_t ox = x0 + (cx << sh), oy = y0 + (cy << sh);
    uint64_t c = cells[static_cast<size_t>(cy) * cols + static_cast<size_t>(cx)];
    while (c & kSubgridFlag) {
      sh -= kSubBits;
      const int64_t lx = (px - ox) >> sh, ly = (py - oy) >> sh;
      ox += lx << sh;
      oy += ly << sh;
      c = cells[(c & ~kSubgridFlag) + static_cast<size_t>((ly << kSubBits) + lx)];
    }
    const int r = sh - kRelBits;
    out.begin = entries.data() + static_cast<uint32_t>(c);
    out.end = out.begin + (c >> 32);
    out.rx = (px - ox) >> r;
    out.ry = (py - oy) >> r;
    return true;
  }

  template <typename F>
  void ForCandidates(int64_t px, int64_t py, F&& f) const {
    for (uint32_t rec : big) f(rec);
    LeafSpot leaf;
    if (!FindLeaf(px, py, leaf)) return;
    for (const LeafEntry* e = leaf.begin; e != leaf.end; ++e) {
      if (e->x0 <= leaf.rx && leaf.rx <= e->x1 && e->y0 <= leaf.ry && leaf.ry <= e->y1) f(e->rec);
    }
  }

  // The records whose leaf entry (or the big list) admits (px, py), as
  // ForCandidates, written to out; returns their count, or cap + 1 when there
  // are more than cap (out then holds the first cap). Each record's first
  // cache lines are prefetched as it is found, so that the records' misses
  // overlap instead of following one another.
  size_t CollectCandidates(int64_t px, int64_t py, const uint32_t* words, uint32_t* out, size_t cap) const {
    size_t n = 0;
    auto add = [&](uint32_t rec) {
      if (n == cap) return false;
      // A record of ~40 vertices spans 4-5 lines; the hardware prefetcher
      // follows on from these.
      __builtin_prefetch(words + rec);
      __builtin_prefetch(words + rec + 16);
      __builtin_prefetch(words + rec + 32);
      __builtin_prefetch(words + rec + 48);
      out[n++] = rec;
      return true;
    };
    for (uint32_t rec : big) {
      if (!add(rec)) return cap + 1;
    }
    LeafSpot leaf;
    if (!FindLeaf(px, py, leaf)) return n;
    for (const LeafEntry* e = leaf.begin; e != leaf.end; ++e) {
      if (e->x0 <= leaf.rx && leaf.rx <= e->x1 && e->y0 <= leaf.ry && leaf.ry <= e->y1 && !add(e->rec)) {
        return cap + 1;
      }
    }
    return n;
  }

  // Records of every leaf meeting the box [bx0, bx1] x [by0, by1]; false
  // when the box spans more top cells than `limit` (the caller scans all).
  bool CollectBox(int64_t bx0, int64_t by0, int64_t bx1, int64_t by1, size_t limit, std::vector<uint32_t>& out) const {
    out.insert(out.end(), big.begin(), big.end());
    if (bx1 < x0 || by1 < y0 || bx0 > x1 || by0 > y1 || cols == 0) return true;
    const int64_t cx0 = bx0 <= x0 ? 0 : (bx0 - x0) >> shift;
    const int64_t cy0 = by0 <= y0 ? 0 : (by0 - y0) >> shift;
    const int64_t cx1 = std::min<int64_t>(cols - 1, (bx1 - x0) >> shift);
    const int64_t cy1 = std::min<int64_t>(rows - 1, (by1 - y0) >> shift);
    if (static_cast<double>(cx1 - cx0 + 1) * static_cast<double>(cy1 - cy0 + 1) > static_cast<double>(limit)) {
      return false;
    }
    // Polygons repeat in every leaf they meet: past 4 entries a polygon on
    // average, scanning every record is cheaper.
    const size_t max_out = out.size() + 4 * limit;
    for (int64_t cy = cy0; cy <= cy1; ++cy) {
      for (int64_t cx = cx0; cx <= cx1; ++cx) {
        Walk(cells[static_cast<size_t>(cy) * cols + static_cast<size_t>(cx)], x0 + (cx << shift), y0 + (cy << shift),
             shift, bx0, by0, bx1, by1, out);
        if (out.size() > max_out) return false;
      }
    }
    return true;
  }

  void Walk(uint64_t c, int64_t ox, int64_t oy, int sh, int64_t bx0, int64_t by0, int64_t bx1, int64_t by1,
            std::vector<uint32_t>& out) const {
    if (!(c & kSubgridFlag)) {
      const LeafEntry* e = entries.data() + static_cast<uint32_t>(c);
      for (const LeafEntry* end = e + (c >> 32); e != end; ++e) out.push_back(e->rec);
      return;
    }
    const int csh = sh - kSubBits;
    const int64_t size = int64_t{1} << csh;
    for (int ly = 0; ly < (1 << kSubBits); ++ly) {
      const int64_t cy = oy + ly * size;
      if (cy > by1 || cy + size - 1 < by0) continue;
      for (int lx = 0; lx < (1 << kSubBits); ++lx) {
        const int64_t cx = ox + lx * size;
        if (cx > bx1 || cx + size - 1 < bx0) continue;
        Walk(cells[(c & ~kSubgridFlag) + static_cast<size_t>((ly << kSubBits) + lx)], cx, cy, csh, bx0, by0, bx1, by1,
             out);
      }
    }
  }
};

}  // namespace grid::geo::internal
