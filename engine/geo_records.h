// The ShapeIndex's fixed-point polygon records (the storage layout is
// described in shape_index_impl.h): encoding coordinates on the 1e-7 degree
// lattice, the exact containment test on a record, and decoding a record
// back to the polygon it was made from. Inline on purpose: RecordContains
// runs for every candidate of every lookup.
//
// Thread-safety: pure functions over immutable records.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "engine/geo.h"
#include "engine/geo_predicates.h"

namespace grid::geo::internal {

inline constexpr double kUnitsPerDegree = 1e7;

inline double Decode(int64_t q) { return static_cast<double>(q) / kUnitsPerDegree; }

// Whether v is on the lattice (v == Decode(q) for an int32 q), and that q.
inline bool EncodeExact(double v, int32_t& q) {
  if (!(std::fabs(v) < 214.0)) return false;
  const double r = std::nearbyint(v * kUnitsPerDegree);
  q = static_cast<int32_t>(r);
  return Decode(q) == v;
}

// The least q with Decode(q) > v. REQUIRES: v is not NaN.
inline int64_t AboveThreshold(double v) {
  constexpr int64_t kFar = int64_t{1} << 40;  // beyond every int32
  if (v >= 1e3) return kFar;
  if (v < -1e3) return -kFar;
  int64_t c = static_cast<int64_t>(std::floor(v * kUnitsPerDegree));
  while (Decode(c) > v) --c;
  while (Decode(c + 1) <= v) ++c;
  return c + 1;
}

struct Axis {
  int64_t gt;  // least q with Decode(q) > v
  int64_t ge;  // least q with Decode(q) >= v
};

inline Axis MakeAxis(double v) {
  Axis a;
  a.gt = AboveThreshold(v);
  a.ge = Decode(a.gt - 1) == v ? a.gt - 1 : a.gt;
  return a;
}

inline int32_t ClampToInt32(int64_t v) {
  return static_cast<int32_t>(
      std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

struct Query {
  Point p;
  double sx, sy;  // p scaled to units
  Axis x, y;
};

inline Query MakeQuery(Point p) {
  return Query{p, p.lng * kUnitsPerDegree, p.lat * kUnitsPerDegree, MakeAxis(p.lng), MakeAxis(p.lat)};
}

enum Format : uint32_t { kRel16 = 0, kRel24 = 1, kAbs32 = 2, kDouble = 3 };

struct RecordHeader {
  int32_t min_x, min_y, max_x, max_y;
  uint32_t shape;
  uint32_t polygon;
  uint32_t info;  // format | rings << 2
};
static_assert(sizeof(RecordHeader) == 28);
inline constexpr size_t kHeaderWords = 7;

inline RecordHeader ReadHeader(const uint32_t* rec) {
  RecordHeader h;
  std::memcpy(&h, rec, sizeof h);
  return h;
}

template <int W>
inline int64_t LoadCoord(const uint8_t* p) {
  if constexpr (W == 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  } else if constexpr (W == 3) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v & 0xffffffu;
  } else {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
}

// orient(lo, hi, p) > 0 for an edge in units relative to (bx, by); sx, sy are
// p's scaled coordinates relative to the same base. The true determinant (of
// the decoded doubles) differs from the computed one by at most
// ~7.2e-7 * (|dx| + |dy| + |ex| + |ey|) + 4e-16 * (|dx*ey| + |dy*ex|): every
// difference is off by at most 7.2e-7 units (scaling p, rebasing it, decoding
// two vertices: 2.4e-7 each for magnitudes below 2^31) plus a relative 2^-53,
// and the products and their difference add relative 2^-53 each. The bound
// below is more than twice that; inside it, the exact predicate decides.
inline bool WestOfEdge(int64_t lx, int64_t ly, int64_t hx, int64_t hy, double sx, double sy, int64_t bx, int64_t by,
                       Point p) {
  const double dx = static_cast<double>(hx - lx), dy = static_cast<double>(hy - ly);
  const double ex = sx - static_cast<double>(lx), ey = sy - static_cast<double>(ly);
  const double a = dx * ey, b = dy * ex;
  const double det = a - b;
  const double bound = 2e-6 * (std::fabs(dx) + std::fabs(dy) + std::fabs(ex) + std::fabs(ey) + 1) +
                       1e-15 * (std::fabs(a) + std::fabs(b));
  if (det > bound) return true;
  if (det < -bound) return false;
  return Orient(Point{Decode(bx + lx), Decode(by + ly)}, Point{Decode(bx + hx), Decode(by + hy)}, p) > 0;
}

// CountCrossings over integer rings. REQUIRES: the box test passed.
// Always inlined into RecordContains (as it was when both were private to
// one file): a call per candidate record costs lookups measurably.
template <int W>
[[gnu::always_inline]] inline bool ContainsFixed(const uint32_t* sizes, uint32_t rings, const uint8_t* v, int64_t bx,
                                                 int64_t by, const Query& q) {
  const int64_t gx = q.x.gt - bx, gy = q.y.gt - by;
  const double sx = q.sx - static_cast<double>(bx), sy = q.sy - static_cast<double>(by);
  bool inside = false;
  for (uint32_t r = 0; r < rings; ++r) {
    const uint32_t n = sizes[r];
    if (n == 0) continue;
    int64_t ax = LoadCoord<W>(v + size_t{2} * W * (n - 1));
    int64_t ay = LoadCoord<W>(v + size_t{2} * W * (n - 1) + W);
    bool a_below = ay < gy;
    for (uint32_t i = 0; i < n; ++i) {
      const int64_t cx = LoadCoord<W>(v + size_t{2} * W * i);
      const int64_t cy = LoadCoord<W>(v + size_t{2} * W * i + W);
      const bool c_below = cy < gy;
      if (a_below != c_below) {
        if (std::min(ax, cx) >= gx) {
          inside = !inside;  // strictly west of the whole edge
        } else if (std::max(ax, cx) >= gx) {
          const bool west = a_below ? WestOfEdge(ax, ay, cx, cy, sx, sy, bx, by, q.p)
                                    : WestOfEdge(cx, cy, ax, ay, sx, sy, bx, by, q.p);
          if (west) inside = !inside;
        }
      }
      ax = cx;
      ay = cy;
      a_below = c_below;
    }
    v += size_t{2} * W * n;
  }
  return inside;
}

// Contains(polygon of the record, q.p).
inline bool RecordContains(const uint32_t* rec, const Point* dbl, const Query& q) {
  const RecordHeader h = ReadHeader(rec);
  if (!(h.min_x < q.x.gt && h.max_x >= q.x.ge && h.min_y < q.y.gt && h.max_y >= q.y.ge)) return false;
  const uint32_t rings = h.info >> 2;
  const uint32_t format = h.info & 3;
  if (format == kDouble) {
    uint64_t off;
    std::memcpy(&off, rec + kHeaderWords, 8);
    const Point* pts = dbl + off;
    const Box box{pts[0].lng, pts[0].lat, pts[1].lng, pts[1].lat};
    if (!box.Contains(q.p)) return false;
    pts += 2;
    const uint32_t* sizes = rec + kHeaderWords + 2;
    bool inside = false;
    for (uint32_t r = 0; r < rings; ++r) {
      CountCrossings(pts, sizes[r], q.p, inside);
      pts += sizes[r];
    }
    return inside;
  }
  const uint32_t* sizes = rec + kHeaderWords;
  const uint8_t* v = reinterpret_cast<const uint8_t*>(sizes + rings);
  switch (format) {
    case kRel16: return ContainsFixed<2>(sizes, rings, v, h.min_x, h.min_y, q);
    case kRel24: return ContainsFixed<3>(sizes, rings, v, h.min_x, h.min_y, q);
    default: return ContainsFixed<4>(sizes, rings, v, 0, 0, q);
  }
}

// The record's length in words.
inline size_t RecordWords(const uint32_t* rec) {
  const RecordHeader h = ReadHeader(rec);
  const uint32_t rings = h.info >> 2;
  const uint32_t format = h.info & 3;
  const uint32_t* sizes = rec + kHeaderWords + (format == kDouble ? 2 : 0);
  size_t words = kHeaderWords + (format == kDouble ? 2 : 0) + rings;
  if (format == kDouble) return words;
  size_t vertices = 0;
  for (uint32_t r = 0; r < rings; ++r) vertices += sizes[r];
  const size_t w = format == kRel16 ? 2 : format == kRel24 ? 3 : 4;
  return words + (vertices * 2 * w + 3) / 4;
}

inline Polygon DecodeRecord(const uint32_t* rec, const Point* dbl) {
  const RecordHeader h = ReadHeader(rec);
  const uint32_t rings = h.info >> 2;
  const uint32_t format = h.info & 3;
  Polygon polygon;
  polygon.rings.resize(rings);
  if (format == kDouble) {
    uint64_t off;
    std::memcpy(&off, rec + kHeaderWords, 8);
    const Point* pts = dbl + off + 2;
    const uint32_t* sizes = rec + kHeaderWords + 2;
    for (uint32_t r = 0; r < rings; ++r) {
      polygon.rings[r].points.assign(pts, pts + sizes[r]);
      pts += sizes[r];
    }
  } else {
    const uint32_t* sizes = rec + kHeaderWords;
    const uint8_t* v = reinterpret_cast<const uint8_t*>(sizes + rings);
    const size_t w = format == kRel16 ? 2 : format == kRel24 ? 3 : 4;
    const int64_t bx = format == kAbs32 ? 0 : h.min_x, by = format == kAbs32 ? 0 : h.min_y;
    for (uint32_t r = 0; r < rings; ++r) {
      std::vector<Point>& out = polygon.rings[r].points;
      out.resize(sizes[r]);
      for (uint32_t i = 0; i < sizes[r]; ++i, v += 2 * w) {
        int64_t x, y;
        if (w == 2) {
          x = LoadCoord<2>(v), y = LoadCoord<2>(v + 2);
        } else if (w == 3) {
          x = LoadCoord<3>(v), y = LoadCoord<3>(v + 3);
        } else {
          x = LoadCoord<4>(v), y = LoadCoord<4>(v + 4);
        }
        out[i] = Point{Decode(bx + x), Decode(by + y)};
      }
    }
  }
  if (rings > 0 && !polygon.rings[0].points.empty()) polygon.bbox = RingBox(polygon.rings[0]);
  return polygon;
}

}  // namespace grid::geo::internal
