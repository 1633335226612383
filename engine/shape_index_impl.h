// The ShapeIndex's representation, shared by its build (shape_index_build.cc),
// lookups (shape_index.cc) and file (shape_index_file.cc).
//
// Thread-safety: an Impl is immutable once built or loaded; its const
// methods are safe to call concurrently.
//
// Storage. Every polygon is one record in one flat array of 32-bit words, in
// (shape id, polygon index) order:
//   int32 min_x, min_y, max_x, max_y   outer ring's box, in units of 1e-7 degree
//   uint32 shape id, polygon index, info = format | rings << 2
//   [uint64 offset into the double coordinates, format kDouble only]
//   uint32 ring sizes[rings]
//   coordinates (x, y per vertex), padded to a whole word:
//     kRel16 / kRel24: unsigned 16 / 24-bit offsets from (min_x, min_y),
//     kAbs32: absolute int32, kDouble: none here (doubles in a side array,
//     the outer box's exact corners first).
// A coordinate v is stored as an integer q only when Decode(q) == v, with
// Decode(q) = q / 1e7 correctly rounded: then the record decodes to exactly
// the doubles given and every comparison of the half-open rule can be made on
// integers. For a query point p, per axis, gt = the least q with Decode(q) > p
// (Decode is strictly increasing), so Decode(q) <= p iff q < gt, and
// Decode(q) >= p iff q >= ge (ge = gt - 1 when Decode(gt - 1) == p, else gt).
// The orientation test runs in doubles on the integers with an error bound
// (every input error is below 1e-6 units, see WestOfEdge); inside the bound
// (a point within ~1e-13 degree of an edge's line) it falls back to the exact
// Orient on the decoded doubles. So the answers are those of Contains on the
// original shapes, bit for bit. Coordinates off the lattice (e.g. binary
// fractions in tests, or more than 7 decimals) make the polygon a kDouble
// record that runs the original double code.
//
// First stage (kCellGrid). A uniform grid of 2^shift-unit cells over the
// polygons' extent (about two cells per polygon); a cell with more than
// kLeafMax polygon boxes is split into 4x4 children, recursively (cell sizes
// stay powers of two, so descending is shifts and one load per level), until
// few enough boxes or no progress. A leaf lists (record, box) entries with
// the box quantised outward to 1/256 of the leaf (8 bytes an entry), so most
// candidates are rejected inside the leaf's own cache lines. Polygons covering
// more than kBigCells top cells are kept in a short list checked on every
// lookup. A point is mapped to the last lattice value at or below it (gt - 1),
// which lies within a polygon's integer box whenever the point lies in its
// box, so the grid never loses a candidate.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

// Boost 1.74's Boost.Geometry includes a header it itself deprecated.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/iterator/function_output_iterator.hpp>

#include "engine/file_access.h"
#include "engine/flat_array.h"
#include "engine/geo.h"
#include "engine/geo_cell_grid.h"
#include "engine/geo_internal.h"
#include "engine/geo_records.h"

namespace grid::geo {
namespace internal {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

// The R-tree first stage, for comparison.
// (Boxes in the lattice's integers, held as doubles (exact): with int32
// coordinates Boost's packing computes areas in int and overflows.)
using IPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using IBox = bg::model::box<IPoint>;
using TreeEntry = std::pair<IBox, uint32_t>;
using Tree = bgi::rtree<TreeEntry, bgi::rstar<16>>;

}  // namespace internal

using namespace internal;

struct ShapeIndex::Impl {
  internal::FirstStage stage = internal::FirstStage::kCellGrid;
  FlatArray<uint32_t> words;       // polygon records
  FlatArray<Point> dbl;            // coordinates of kDouble records
  FlatArray<uint32_t> shape_recs;  // first record of each shape, then the end
  size_t polygons = 0, vertices = 0, integer_polygons = 0;
  CellGrid grid;
  std::unique_ptr<Tree> tree;
  std::shared_ptr<const ReadOnlyFile> mapping;  // a loaded index's arrays live here

  const uint32_t* rec(uint32_t off) const { return words.data() + off; }

  template <typename F>
  void ForCandidates(const Query& q, F&& f) const {
    const int64_t px = q.x.gt - 1, py = q.y.gt - 1;
    if (stage == FirstStage::kCellGrid) return grid.ForCandidates(px, py, f);
    if (!tree || px < std::numeric_limits<int32_t>::min() || px > std::numeric_limits<int32_t>::max() ||
        py < std::numeric_limits<int32_t>::min() || py > std::numeric_limits<int32_t>::max()) {
      return;
    }
    const IPoint ip(static_cast<int32_t>(px), static_cast<int32_t>(py));
    tree->query(bgi::intersects(ip), boost::make_function_output_iterator([&](const TreeEntry& e) { f(e.second); }));
  }

  // Appends one polygon's record; returns its first-stage item (nullopt for
  // a polygon that can contain nothing).
  std::optional<Item> Append(const Polygon& polygon, uint32_t id, uint32_t k) {
    if (words.size() > std::numeric_limits<uint32_t>::max() / 2) {
      throw std::length_error("ShapeIndex: geometry too large");
    }
    const uint32_t off = static_cast<uint32_t>(words.size());
    ++polygons;
    const size_t rings = polygon.rings.size();
    size_t nv = 0;
    for (const Ring& r : polygon.rings) nv += r.points.size();
    vertices += nv;
    RecordHeader h{std::numeric_limits<int32_t>::max(),
                   std::numeric_limits<int32_t>::max(),
                   std::numeric_limits<int32_t>::min(),
                   std::numeric_limits<int32_t>::min(),
                   id,
                   k,
                   static_cast<uint32_t>(kAbs32 | rings << 2)};
    const bool usable = rings > 0 && !polygon.rings[0].points.empty();
    const Box box = usable ? RingBox(polygon.rings[0]) : Box{};
    if (!usable || !std::isfinite(box.min_lng) || !std::isfinite(box.max_lng) || !std::isfinite(box.min_lat) ||
        !std::isfinite(box.max_lat)) {
      // Contains nothing (the original Contains fails its box test): keep the
      // rings as doubles for shape(), never index it.
      h.info = static_cast<uint32_t>(kDouble | rings << 2);
      AppendDouble(h, polygon, box);
      return std::nullopt;
    }
    // Integer coordinates if every one is on the lattice.
    std::vector<int32_t> q;
    q.reserve(2 * nv);
    bool exact = true;
    for (const Ring& r : polygon.rings) {
      for (const Point& pt : r.points) {
        int32_t x, y;
        if (!EncodeExact(pt.lng, x) || !EncodeExact(pt.lat, y)) {
          exact = false;
          break;
        }
        q.push_back(x);
        q.push_back(y);
      }
      if (!exact) break;
    }
    if (!exact) {
      h.min_x = ClampToInt32(AboveThreshold(box.min_lng) - 1);
      h.min_y = ClampToInt32(AboveThreshold(box.min_lat) - 1);
      h.max_x = ClampToInt32(MakeAxis(box.max_lng).ge);
      h.max_y = ClampToInt32(MakeAxis(box.max_lat).ge);
      h.info = static_cast<uint32_t>(kDouble | rings << 2);
      AppendDouble(h, polygon, box);
      return Item{h.min_x, h.min_y, h.max_x, h.max_y, off};
    }
    ++integer_polygons;
    const size_t outer = 2 * polygon.rings[0].points.size();
    for (size_t i = 0; i < outer; i += 2) {
      h.min_x = std::min(h.min_x, q[i]);
      h.max_x = std::max(h.max_x, q[i]);
      h.min_y = std::min(h.min_y, q[i + 1]);
      h.max_y = std::max(h.max_y, q[i + 1]);
    }
    bool within = true;  // holes inside the outer box
    for (size_t i = outer; i < q.size(); i += 2) {
      within &= q[i] >= h.min_x && q[i] <= h.max_x && q[i + 1] >= h.min_y && q[i + 1] <= h.max_y;
    }
    const int64_t span = std::max<int64_t>(int64_t{h.max_x} - h.min_x, int64_t{h.max_y} - h.min_y);
    const Format format = !within ? kAbs32 : span < (1 << 16) ? kRel16 : span < (1 << 24) ? kRel24 : kAbs32;
    h.info = static_cast<uint32_t>(format | rings << 2);
    PushHeader(h);
    for (const Ring& r : polygon.rings) words.push_back(static_cast<uint32_t>(r.points.size()));
    const size_t w = format == kRel16 ? 2 : format == kRel24 ? 3 : 4;
    std::vector<uint8_t> bytes((q.size() * w + 3) / 4 * 4, 0);
    const int64_t bx = format == kAbs32 ? 0 : h.min_x, by = format == kAbs32 ? 0 : h.min_y;
    for (size_t i = 0; i < q.size(); ++i) {
      const int64_t rel = q[i] - (i % 2 == 0 ? bx : by);
      const uint32_t u = static_cast<uint32_t>(rel);
      std::memcpy(bytes.data() + i * w, &u, w);  // little-endian
    }
    words.append(reinterpret_cast<const uint32_t*>(bytes.data()), bytes.size() / 4);
    return Item{h.min_x, h.min_y, h.max_x, h.max_y, off};
  }

  void PushHeader(const RecordHeader& h) {
    uint32_t raw[kHeaderWords];
    std::memcpy(raw, &h, sizeof h);
    words.append(raw, kHeaderWords);
  }

  void AppendDouble(const RecordHeader& h, const Polygon& polygon, const Box& box) {
    PushHeader(h);
    const uint64_t off = dbl.size();
    uint32_t raw[2];
    std::memcpy(raw, &off, 8);
    words.append(raw, 2);
    for (const Ring& r : polygon.rings) words.push_back(static_cast<uint32_t>(r.points.size()));
    dbl.push_back(Point{box.min_lng, box.min_lat});
    dbl.push_back(Point{box.max_lng, box.max_lat});
    for (const Ring& r : polygon.rings) dbl.append(r.points.data(), r.points.size());
  }
};

}  // namespace grid::geo
