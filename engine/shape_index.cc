// ShapeIndex lookups: Locate (one point, or a batch with overlapping memory
// accesses), Nearest, and reading the stored shapes back.
//
// Thread-safety: every method here is const and safe to call concurrently.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "engine/geo.h"
#include "engine/shape_index_impl.h"

namespace grid::geo {

std::vector<ShapeIndex::Hit> ShapeIndex::Locate(Point p) const { return Locate(p, SingleLookup::kPrefetched); }

std::vector<ShapeIndex::Hit> ShapeIndex::Locate(Point p, SingleLookup how) const {
  std::vector<Hit> hits;
  if (!impl_ || std::isnan(p.lng) || std::isnan(p.lat)) return hits;
  const Impl& impl = *impl_;
  const Query q = MakeQuery(p);
  auto test = [&](uint32_t off) {
    const uint32_t* rec = impl.rec(off);
    if (RecordContains(rec, impl.dbl.data(), q)) {
      const RecordHeader h = ReadHeader(rec);
      hits.push_back(Hit{h.shape, static_cast<int>(h.polygon)});
    }
  };
  constexpr size_t kCap = 16;
  uint32_t cand[kCap];
  size_t n = kCap + 1;
  if (how == SingleLookup::kPrefetched && impl.stage == FirstStage::kCellGrid) {
    n = impl.grid.CollectCandidates(q.x.gt - 1, q.y.gt - 1, impl.words.data(), cand, kCap);
  }
  if (n <= kCap) {
    for (size_t k = 0; k < n; ++k) test(cand[k]);
  } else {
    impl.ForCandidates(q, test);
  }
  if (hits.size() > 1) {
    std::sort(hits.begin(), hits.end(),
              [](const Hit& a, const Hit& b) { return a.id < b.id || (a.id == b.id && a.polygon < b.polygon); });
    // One hit per shape: its first containing polygon, as ContainingPolygon.
    hits.erase(std::unique(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.id == b.id; }),
               hits.end());
  }
  return hits;
}

void ShapeIndex::LocateBatch(std::span<const Point> points, std::vector<Hit>& hits,
                             std::vector<uint32_t>& offsets) const {
  hits.clear();
  offsets.clear();
  offsets.reserve(points.size() + 1);
  offsets.push_back(0);
  auto finish_point = [&](size_t first) {
    if (hits.size() - first > 1) {
      std::sort(hits.begin() + static_cast<std::ptrdiff_t>(first), hits.end(),
                [](const Hit& a, const Hit& b) { return a.id < b.id || (a.id == b.id && a.polygon < b.polygon); });
      hits.erase(std::unique(hits.begin() + static_cast<std::ptrdiff_t>(first), hits.end(),
                             [](const Hit& a, const Hit& b) { return a.id == b.id; }),
                 hits.end());
    }
    offsets.push_back(static_cast<uint32_t>(hits.size()));
  };
  if (!impl_ || impl_->stage != FirstStage::kCellGrid || impl_->grid.cols == 0) {
    for (const Point& p : points) {
      const size_t first = hits.size();
      for (const Hit& h : Locate(p)) hits.push_back(h);
      finish_point(first);
    }
    return;
  }
  const Impl& impl = *impl_;
  const CellGrid& g = impl.grid;
  const uint32_t* words = impl.words.data();
  constexpr size_t kGroup = 16, kCap = 8;
  Query q[kGroup];
  int64_t px[kGroup], py[kGroup], ox[kGroup], oy[kGroup];
  int sh[kGroup];
  size_t slot[kGroup];
  uint64_t cell[kGroup];
  bool in_grid[kGroup], descend[kGroup], overflow[kGroup];
  uint32_t cand[kGroup][kCap];
  size_t ncand[kGroup];
  for (size_t base = 0; base < points.size(); base += kGroup) {
    const size_t m = std::min(kGroup, points.size() - base);
    // Top cells.
    for (size_t i = 0; i < m; ++i) {
      const Point p = points[base + i];
      in_grid[i] = !std::isnan(p.lng) && !std::isnan(p.lat);
      if (!in_grid[i]) continue;
      q[i] = MakeQuery(p);
      px[i] = q[i].x.gt - 1, py[i] = q[i].y.gt - 1;
      in_grid[i] = px[i] >= g.x0 && py[i] >= g.y0 && px[i] <= g.x1 && py[i] <= g.y1;
      if (!in_grid[i]) continue;
      sh[i] = g.shift;
      const int64_t cx = (px[i] - g.x0) >> sh[i], cy = (py[i] - g.y0) >> sh[i];
      ox[i] = g.x0 + (cx << sh[i]), oy[i] = g.y0 + (cy << sh[i]);
      slot[i] = static_cast<size_t>(cy) * g.cols + static_cast<size_t>(cx);
      __builtin_prefetch(g.cells.data() + slot[i]);
    }
    // Down the split cells, one level for the whole group at a time.
    bool any = false;
    for (size_t i = 0; i < m; ++i) {
      descend[i] = false;
      if (!in_grid[i]) continue;
      cell[i] = g.cells[slot[i]];
      descend[i] = (cell[i] & kSubgridFlag) != 0;
      any |= descend[i];
    }
    while (any) {
      for (size_t i = 0; i < m; ++i) {
        if (!descend[i]) continue;
        sh[i] -= kSubBits;
        const int64_t lx = (px[i] - ox[i]) >> sh[i], ly = (py[i] - oy[i]) >> sh[i];
        ox[i] += lx << sh[i];
        oy[i] += ly << sh[i];
        slot[i] = (cell[i] & ~kSubgridFlag) + static_cast<size_t>((ly << kSubBits) + lx);
        __builtin_prefetch(g.cells.data() + slot[i]);
      }
      any = false;
      for (size_t i = 0; i < m; ++i) {
        if (!descend[i]) continue;
        cell[i] = g.cells[slot[i]];
        descend[i] = (cell[i] & kSubgridFlag) != 0;
        any |= descend[i];
      }
    }
    for (size_t i = 0; i < m; ++i) {
      if (in_grid[i]) __builtin_prefetch(g.entries.data() + static_cast<uint32_t>(cell[i]));
    }
    // Leaf entries: candidates, and their records fetched.
    for (size_t i = 0; i < m; ++i) {
      ncand[i] = 0;
      overflow[i] = false;
      if (!in_grid[i]) continue;
      const int r = sh[i] - kRelBits;
      const int64_t rx = (px[i] - ox[i]) >> r, ry = (py[i] - oy[i]) >> r;
      const LeafEntry* e = g.entries.data() + static_cast<uint32_t>(cell[i]);
      for (const LeafEntry* end = e + (cell[i] >> 32); e != end; ++e) {
        if (e->x0 <= rx && rx <= e->x1 && e->y0 <= ry && ry <= e->y1) {
          if (ncand[i] == kCap) {
            overflow[i] = true;
            break;
          }
          const uint32_t* rec = words + e->rec;
          __builtin_prefetch(rec);
          __builtin_prefetch(rec + 16);
          __builtin_prefetch(rec + 32);
          __builtin_prefetch(rec + 48);
          cand[i][ncand[i]++] = e->rec;
        }
      }
    }
    // Exact tests.
    for (size_t i = 0; i < m; ++i) {
      const size_t first = hits.size();
      const Point p = points[base + i];
      if (!std::isnan(p.lng) && !std::isnan(p.lat)) {
        if (!in_grid[i]) q[i] = MakeQuery(p);
        auto test = [&](uint32_t off) {
          const uint32_t* rec = words + off;
          if (RecordContains(rec, impl.dbl.data(), q[i])) {
            const RecordHeader h = ReadHeader(rec);
            hits.push_back(Hit{h.shape, static_cast<int>(h.polygon)});
          }
        };
        if (overflow[i]) {
          g.ForCandidates(q[i].x.gt - 1, q[i].y.gt - 1, test);
        } else {
          for (uint32_t off : g.big) test(off);
          for (size_t k = 0; k < ncand[i]; ++k) test(cand[i][k]);
        }
      }
      finish_point(first);
    }
  }
}

std::optional<ShapeIndex::Near> ShapeIndex::Nearest(Point p, double max_meters) const {
  if (!impl_ || !(max_meters >= 0) || !std::isfinite(p.lng) || !std::isfinite(p.lat)) {
    return std::nullopt;
  }
  const Impl& impl = *impl_;
  // The bounding box of the spherical cap of radius max_meters around p, a
  // little enlarged against rounding. Any boundary point within max_meters of
  // p lies in the cap, so its polygon's bbox meets this box.
  const double r = max_meters / kEarthRadiusMeters;  // angular radius
  const double phi = p.lat * kDegToRad;
  const double dlat = r * kRadToDeg * (1 + 1e-9) + 1e-9;
  double min_lng = -180, max_lng = 180;
  if (std::fabs(phi) + r < std::numbers::pi / 2 - 1e-9) {
    const double s = std::min(1.0, std::sin(std::min(r, std::numbers::pi / 2)) / std::cos(phi));
    const double dlng = std::asin(s) * kRadToDeg * (1 + 1e-9) + 1e-9;
    min_lng = p.lng - dlng;
    max_lng = p.lng + dlng;
  }
  const double min_lat = std::max(-90.0, p.lat - dlat), max_lat = std::min(90.0, p.lat + dlat);
  // The same box in units, rounded outward.
  const int64_t bx0 = AboveThreshold(min_lng) - 1, by0 = AboveThreshold(min_lat) - 1;
  const int64_t bx1 = MakeAxis(max_lng).ge, by1 = MakeAxis(max_lat).ge;

  std::vector<uint32_t> candidates;
  bool all = false;
  if (impl.stage == FirstStage::kCellGrid) {
    all = !impl.grid.CollectBox(bx0, by0, bx1, by1, impl.polygons + 64, candidates);
  } else if (impl.tree) {
    const IBox search(IPoint(ClampToInt32(bx0), ClampToInt32(by0)), IPoint(ClampToInt32(bx1), ClampToInt32(by1)));
    impl.tree->query(bgi::intersects(search),
                     boost::make_function_output_iterator([&](const TreeEntry& e) { candidates.push_back(e.second); }));
  }
  if (all) {
    candidates.clear();
    const size_t end = impl.words.size();
    for (size_t off = 0; off < end; off += RecordWords(impl.rec(static_cast<uint32_t>(off)))) {
      candidates.push_back(static_cast<uint32_t>(off));
    }
  } else {
    // Record order is (id, polygon) order.
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  }

  std::optional<Near> best;
  for (uint32_t off : candidates) {
    const uint32_t* rec = impl.rec(off);
    const RecordHeader h = ReadHeader(rec);
    if (h.max_x < bx0 || h.min_x > bx1 || h.max_y < by0 || h.min_y > by1) continue;
    if (best && best->meters == 0 && best->id < h.shape) break;
    const double d = PolygonDistanceMeters(DecodeRecord(rec, impl.dbl.data()), p);
    if (!(d <= max_meters)) continue;
    if (!best || d < best->meters || (d == best->meters && h.shape < best->id)) {
      best = Near{h.shape, d};
    }
  }
  return best;
}

size_t ShapeIndex::size() const { return impl_ && !impl_->shape_recs.empty() ? impl_->shape_recs.size() - 1 : 0; }

MultiPolygon ShapeIndex::shape(uint32_t id) const {
  assert(id < size());
  MultiPolygon shape;
  const Impl& impl = *impl_;
  for (uint32_t off = impl.shape_recs[id]; off < impl.shape_recs[id + 1];
       off += static_cast<uint32_t>(RecordWords(impl.rec(off)))) {
    Polygon polygon = DecodeRecord(impl.rec(off), impl.dbl.data());
    shape.bbox = shape.polygons.empty() ? polygon.bbox : Union(shape.bbox, polygon.bbox);
    shape.polygons.push_back(std::move(polygon));
  }
  return shape;
}

ShapeIndex::Stats ShapeIndex::stats() const {
  Stats s;
  if (!impl_) return s;
  const Impl& impl = *impl_;
  s.shapes = size();
  s.polygons = impl.polygons;
  s.vertices = impl.vertices;
  s.integer_polygons = impl.integer_polygons;
  s.geometry_bytes = impl.words.bytes() + impl.dbl.bytes() + impl.shape_recs.bytes();
  if (impl.stage == FirstStage::kCellGrid) {
    s.index_bytes = impl.grid.cells.bytes() + impl.grid.entries.bytes() + impl.grid.big.bytes();
    s.cells = impl.grid.cells.size();
    s.entries = impl.grid.entries.size();
    s.big_polygons = impl.grid.big.size();
  } else if (impl.tree) {
    s.entries = impl.tree->size();
  }
  return s;
}

}  // namespace grid::geo
