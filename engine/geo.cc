// Geometry for routing: boundary validation and conversion, the exact
// point-in-polygon test with its shared-edge rule, distances, and ShapeIndex
// (compact integer polygon records under a hierarchical cell grid over their
// bounding boxes, followed by the same exact test; see "ShapeIndex." below).
//
// Thread-safety: free functions are pure. A ShapeIndex is immutable after
// Build or Load; its const methods may be called concurrently from any number
// of threads (its arrays are only read).
//
// The containment rule (Contains, ContainingPolygon, ShapeIndex::Locate).
// A ray is cast from p towards increasing longitude (east). Over every ring of
// the polygon (outer ring and holes alike), an edge (a, b) is counted when
//   1. exactly one of a.lat <= p.lat and b.lat <= p.lat holds, i.e. with
//      lo, hi the endpoints ordered by latitude, lo.lat <= p.lat < hi.lat
//      (horizontal edges are never counted; the lower endpoint is included,
//      the upper one excluded), and
//   2. p lies strictly west of the edge: orient(lo, hi, p) > 0, evaluated
//      exactly (a point on the edge is not west of it).
// p is contained when the count is odd. All comparisons are exact (double
// comparisons plus an exact orientation predicate), so the result depends only
// on the coordinates.
// Equivalently: p is contained iff the point p + (e, d), for infinitesimals
// 0 < d << e, lies strictly inside the polygon. So a point on the boundary
// belongs to the polygon lying immediately east of it, or immediately north of
// it where the boundary is horizontal; a shared vertex belongs to the polygon
// whose interior contains the direction "east, a hair north" from it. Since the
// perturbed point is never on any edge, in a set of non-overlapping polygons
// that tile an area every point of the area has exactly one owner, the same one
// on every call (this holds for shared edges with identical vertices and, the
// test being exact, even at T-junctions). Points on a hole's edge follow the
// same rule (the hole is the "other" polygon). Points on the east or north
// outer boundary of a tiling belong to no polygon.
#include "engine/geo.h"

#include "engine/saved_file.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <new>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// Boost 1.74's Boost.Geometry includes a header it itself deprecated.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/iterator/function_output_iterator.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace grid::geo {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

constexpr double kEarthRadiusMeters = 6371008.8;
constexpr double kDegToRad = std::numbers::pi / 180.0;
constexpr double kRadToDeg = 180.0 / std::numbers::pi;

// ---------------------------------------------------------------------------
// Exact orientation predicate (after Shewchuk, "Adaptive Precision
// Floating-Point Arithmetic and Fast Robust Geometric Predicates", 1997).
// A floating-point filter decides almost every call; the rest are decided by
// an exact expansion sum. Exact as long as no product of two coordinates
// underflows (|coordinate| products above ~1e-290), which holds for any
// realistic WGS-84 coordinate.

constexpr double kEpsilon = 0x1p-53;  // half an ulp of 1.0
constexpr double kCcwErrBoundA = (3.0 + 16.0 * kEpsilon) * kEpsilon;

// x + y == a + b exactly, x = fl(a + b).
inline void TwoSum(double a, double b, double& x, double& y) {
  x = a + b;
  const double bv = x - a;
  const double av = x - bv;
  y = (a - av) + (b - bv);
}

int OrientExact(Point a, Point b, Point c) {
  // det = ax*by - ax*cy - ay*bx + ay*cx + bx*cy - by*cx, each product split
  // exactly into two doubles, then summed exactly (Grow-Expansion).
  double terms[12];
  auto product = [&terms](int i, double x, double y) {
    terms[i] = x * y;
    terms[i + 1] = std::fma(x, y, -terms[i]);
  };
  product(0, a.lng, b.lat);
  product(2, -a.lng, c.lat);
  product(4, -a.lat, b.lng);
  product(6, a.lat, c.lng);
  product(8, b.lng, c.lat);
  product(10, -b.lat, c.lng);
  double e[12];
  int n = 0;
  for (double t : terms) {
    double q = t;
    for (int i = 0; i < n; ++i) {
      double sum, err;
      TwoSum(q, e[i], sum, err);
      e[i] = err;
      q = sum;
    }
    e[n++] = q;
  }
  // Non-overlapping, increasing magnitude: the most significant non-zero
  // component has the sign of the sum.
  for (int i = n - 1; i >= 0; --i) {
    if (e[i] != 0) return e[i] > 0 ? 1 : -1;
  }
  return 0;
}

// +1 if c lies to the left of the directed line a->b (counter-clockwise),
// -1 if to the right, 0 if the three points are collinear. Exact.
int Orient(Point a, Point b, Point c) {
  const double detleft = (a.lng - c.lng) * (b.lat - c.lat);
  const double detright = (a.lat - c.lat) * (b.lng - c.lng);
  const double det = detleft - detright;
  const double bound = kCcwErrBoundA * (std::fabs(detleft) + std::fabs(detright));
  if (det > bound) return 1;
  if (-det > bound) return -1;
  // Both products have an exactly zero factor (fl(x - y) == 0 iff x == y):
  // the determinant is exactly zero. Common for axis-parallel edges.
  if ((a.lng == c.lng || b.lat == c.lat) && (a.lat == c.lat || b.lng == c.lng)) return 0;
  return OrientExact(a, b, c);
}

bool SamePoint(Point a, Point b) { return a.lng == b.lng && a.lat == b.lat; }

// REQUIRES: p collinear with a and b. Whether p lies on the closed segment.
bool WithinSegmentBox(Point a, Point b, Point p) {
  return std::min(a.lng, b.lng) <= p.lng && p.lng <= std::max(a.lng, b.lng) &&
         std::min(a.lat, b.lat) <= p.lat && p.lat <= std::max(a.lat, b.lat);
}

// Whether the closed segments p1p2 and q1q2 share at least one point. Exact.
bool SegmentsIntersect(Point p1, Point p2, Point q1, Point q2) {
  const int d1 = Orient(q1, q2, p1);
  const int d2 = Orient(q1, q2, p2);
  const int d3 = Orient(p1, p2, q1);
  const int d4 = Orient(p1, p2, q2);
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  if (d1 == 0 && WithinSegmentBox(q1, q2, p1)) return true;
  if (d2 == 0 && WithinSegmentBox(q1, q2, p2)) return true;
  if (d3 == 0 && WithinSegmentBox(p1, p2, q1)) return true;
  if (d4 == 0 && WithinSegmentBox(p1, p2, q2)) return true;
  return false;
}

// Edges a->v and v->b share v; they overlap beyond v iff a, v, b are
// collinear and a and b lie on the same side of v (a spike).
// REQUIRES: a != v, b != v.
bool AdjacentEdgesOverlap(Point a, Point v, Point b) {
  if (Orient(a, v, b) != 0) return false;
  if (a.lng != v.lng) return (a.lng < v.lng) == (b.lng < v.lng) && b.lng != v.lng;
  return (a.lat < v.lat) == (b.lat < v.lat);
}

// Returns the indices (i, j) of two edges of the ring that intersect other
// than at a vertex they legitimately share, or nullopt if the ring is simple.
// Edge i runs from points[i] to points[(i + 1) % n].
// REQUIRES: n >= 3, no two consecutive points equal.
// A sweep over edges sorted by minimum longitude: O(n log n + k) where k is
// the number of edge pairs whose bounding boxes overlap.
std::optional<std::pair<size_t, size_t>> FindSelfIntersection(const std::vector<Point>& pts) {
  const size_t n = pts.size();
  struct Edge {
    double min_lng, max_lng, min_lat, max_lat;
    size_t index;
  };
  std::vector<Edge> edges(n);
  for (size_t i = 0; i < n; ++i) {
    const Point a = pts[i];
    const Point b = pts[(i + 1) % n];
    edges[i] = {std::min(a.lng, b.lng), std::max(a.lng, b.lng), std::min(a.lat, b.lat),
                std::max(a.lat, b.lat), i};
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
    return x.min_lng < y.min_lng || (x.min_lng == y.min_lng && x.index < y.index);
  });
  for (size_t s = 0; s < n; ++s) {
    const Edge& e = edges[s];
    for (size_t t = s + 1; t < n && edges[t].min_lng <= e.max_lng; ++t) {
      const Edge& f = edges[t];
      if (f.max_lat < e.min_lat || f.min_lat > e.max_lat) continue;
      size_t i = std::min(e.index, f.index);
      size_t j = std::max(e.index, f.index);
      bool overlap;
      if (j == i + 1) {
        overlap = AdjacentEdgesOverlap(pts[i], pts[j], pts[(j + 1) % n]);
      } else if (i == 0 && j == n - 1) {
        overlap = AdjacentEdgesOverlap(pts[n - 1], pts[0], pts[1]);
      } else {
        overlap = SegmentsIntersect(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]);
      }
      if (overlap) return std::make_pair(i, j);
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Containment.

// Flips `inside` once per edge of the ring counted by the rule at the top.
void CountCrossings(const Point* pts, size_t n, Point p, bool& inside) {
  if (n == 0) return;
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const Point a = pts[j];
    const Point b = pts[i];
    const bool a_below = a.lat <= p.lat;
    if (a_below == (b.lat <= p.lat)) continue;  // rule 1 fails (incl. horizontal)
    const Point lo = a_below ? a : b;
    const Point hi = a_below ? b : a;
    if (p.lng < std::min(a.lng, b.lng)) {
      inside = !inside;  // strictly west of the whole edge
    } else if (p.lng >= std::max(a.lng, b.lng)) {
      continue;  // on or east of the edge
    } else if (Orient(lo, hi, p) > 0) {
      inside = !inside;
    }
  }
}

void CountCrossings(const Ring& ring, Point p, bool& inside) {
  CountCrossings(ring.points.data(), ring.points.size(), p, inside);
}

Box RingBox(const Ring& ring) {
  Box box{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (const Point& q : ring.points) {
    box.min_lng = std::min(box.min_lng, q.lng);
    box.min_lat = std::min(box.min_lat, q.lat);
    box.max_lng = std::max(box.max_lng, q.lng);
    box.max_lat = std::max(box.max_lat, q.lat);
  }
  return box;
}

Box Union(const Box& a, const Box& b) {
  return Box{std::min(a.min_lng, b.min_lng), std::min(a.min_lat, b.min_lat),
             std::max(a.max_lng, b.max_lng), std::max(a.max_lat, b.max_lat)};
}

// ---------------------------------------------------------------------------
// Distances.

// Distance from p to the nearest edge of polygon (0 when contained), or
// +infinity for a polygon without edges. The nearest point is chosen in an
// equirectangular projection centred on p (x = dlng * cos(lat_p), y = dlat,
// scaled to metres), then the great-circle distance to that point is
// returned. For distances of a few km the choice error is far below a metre;
// the projection degrades near the poles and does not wrap at +-180.
double PolygonDistanceMeters(const Polygon& polygon, Point p) {
  if (Contains(polygon, p)) return 0.0;
  const double ky = kEarthRadiusMeters * kDegToRad;
  const double kx = ky * std::cos(p.lat * kDegToRad);
  double best_d2 = std::numeric_limits<double>::infinity();
  Point best{};
  for (const Ring& ring : polygon.rings) {
    const std::vector<Point>& pts = ring.points;
    const size_t n = pts.size();
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
      const Point a = pts[j];
      const Point b = pts[i];
      const double ax = (a.lng - p.lng) * kx, ay = (a.lat - p.lat) * ky;
      const double dx = (b.lng - a.lng) * kx, dy = (b.lat - a.lat) * ky;
      const double len2 = dx * dx + dy * dy;
      double t = 0.0;
      if (len2 > 0) t = std::clamp(-(ax * dx + ay * dy) / len2, 0.0, 1.0);
      const double cx = ax + t * dx, cy = ay + t * dy;
      const double d2 = cx * cx + cy * cy;
      if (d2 < best_d2) {
        best_d2 = d2;
        best = Point{a.lng + t * (b.lng - a.lng), a.lat + t * (b.lat - a.lat)};
      }
    }
  }
  if (best_d2 == std::numeric_limits<double>::infinity()) return best_d2;
  return DistanceMeters(p, best);
}

// ---------------------------------------------------------------------------
// min(3, number of distinct points).
int CountDistinctUpTo3(const std::vector<Point>& pts) {
  if (pts.empty()) return 0;
  const Point first = pts[0];
  std::optional<Point> second;
  for (const Point& q : pts) {
    if (SamePoint(q, first)) continue;
    if (!second) {
      second = q;
    } else if (!SamePoint(q, *second)) {
      return 3;
    }
  }
  return second ? 2 : 1;
}

std::string Where(int polygon, int ring) {
  return "polygon " + std::to_string(polygon) + " ring " + std::to_string(ring) + ": ";
}

}  // namespace

// ---------------------------------------------------------------------------
// Conversion.

StatusOr<MultiPolygon> FromProto(const grid::v1::Boundary& boundary) {
  if (boundary.polygons_size() == 0) {
    return InvalidArgument("EMPTY_GEOMETRY", "boundary has no polygon");
  }
  MultiPolygon shape;
  shape.polygons.reserve(boundary.polygons_size());
  for (int pi = 0; pi < boundary.polygons_size(); ++pi) {
    const grid::v1::Polygon& in = boundary.polygons(pi);
    if (in.rings_size() == 0) {
      return InvalidArgument("EMPTY_GEOMETRY",
                             "polygon " + std::to_string(pi) + " has no ring");
    }
    Polygon polygon;
    polygon.rings.reserve(in.rings_size());
    for (int ri = 0; ri < in.rings_size(); ++ri) {
      const grid::v1::Ring& r = in.rings(ri);
      if (r.lng_size() != r.lat_size()) {
        return InvalidArgument("RING_LENGTH_MISMATCH",
                               Where(pi, ri) + std::to_string(r.lng_size()) + " longitudes but " +
                                   std::to_string(r.lat_size()) + " latitudes");
      }
      Ring ring;
      ring.points.reserve(r.lng_size());
      for (int k = 0; k < r.lng_size(); ++k) {
        const Point q{r.lng(k), r.lat(k)};
        if (!std::isfinite(q.lng) || !std::isfinite(q.lat)) {
          return InvalidArgument("NON_FINITE_COORDINATE",
                                 Where(pi, ri) + "point " + std::to_string(k) + " is not finite");
        }
        if (q.lat < -90 || q.lat > 90 || q.lng < -180 || q.lng > 180) {
          return InvalidArgument("COORDINATE_OUT_OF_RANGE",
                                 Where(pi, ri) + "point " + std::to_string(k) + " (lng " +
                                     std::to_string(q.lng) + ", lat " + std::to_string(q.lat) +
                                     ") is outside lng [-180, 180], lat [-90, 90]");
        }
        // Consecutive duplicates add nothing to the shape: drop them.
        if (!ring.points.empty() && SamePoint(ring.points.back(), q)) continue;
        ring.points.push_back(q);
      }
      // The closing point, if repeated.
      while (ring.points.size() > 1 && SamePoint(ring.points.back(), ring.points.front())) {
        ring.points.pop_back();
      }
      const int n_distinct = CountDistinctUpTo3(ring.points);
      if (n_distinct < 3) {
        return InvalidArgument("RING_TOO_SHORT", Where(pi, ri) + "has " +
                                                     std::to_string(n_distinct) +
                                                     " distinct points, needs at least 3");
      }
      if (auto bad = FindSelfIntersection(ring.points)) {
        return InvalidArgument("SELF_INTERSECTING_RING",
                               Where(pi, ri) + "edges " + std::to_string(bad->first) + " and " +
                                   std::to_string(bad->second) + " intersect");
      }
      polygon.rings.push_back(std::move(ring));
    }
    polygon.bbox = RingBox(polygon.rings[0]);
    shape.bbox = pi == 0 ? polygon.bbox : Union(shape.bbox, polygon.bbox);
    shape.polygons.push_back(std::move(polygon));
  }
  return shape;
}

grid::v1::Boundary ToProto(const MultiPolygon& shape) {
  grid::v1::Boundary out;
  for (const Polygon& polygon : shape.polygons) {
    grid::v1::Polygon* p = out.add_polygons();
    for (const Ring& ring : polygon.rings) {
      grid::v1::Ring* r = p->add_rings();
      r->mutable_lng()->Reserve(static_cast<int>(ring.points.size()));
      r->mutable_lat()->Reserve(static_cast<int>(ring.points.size()));
      for (const Point& q : ring.points) {
        r->add_lng(q.lng);
        r->add_lat(q.lat);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Containment.

bool Contains(const Polygon& polygon, Point p) {
  if (polygon.rings.empty() || !polygon.bbox.Contains(p)) return false;
  bool inside = false;
  for (const Ring& ring : polygon.rings) CountCrossings(ring, p, inside);
  return inside;
}

int ContainingPolygon(const MultiPolygon& shape, Point p) {
  if (!shape.bbox.Contains(p)) return -1;
  for (size_t i = 0; i < shape.polygons.size(); ++i) {
    if (Contains(shape.polygons[i], p)) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Distances.

double DistanceMeters(Point a, Point b) {
  const double phi1 = a.lat * kDegToRad;
  const double phi2 = b.lat * kDegToRad;
  const double sin_dphi = std::sin((phi2 - phi1) / 2);
  const double sin_dlambda = std::sin((b.lng - a.lng) * kDegToRad / 2);
  const double h =
      sin_dphi * sin_dphi + std::cos(phi1) * std::cos(phi2) * sin_dlambda * sin_dlambda;
  return 2 * kEarthRadiusMeters * std::asin(std::sqrt(std::clamp(h, 0.0, 1.0)));
}

double DistanceToShapeMeters(const MultiPolygon& shape, Point p) {
  double best = std::numeric_limits<double>::infinity();
  for (const Polygon& polygon : shape.polygons) {
    best = std::min(best, PolygonDistanceMeters(polygon, p));
    if (best == 0) break;
  }
  return best;
}

// ---------------------------------------------------------------------------
// ShapeIndex.
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

namespace {

// A growable array of trivially copyable T in anonymous mmap memory: grows
// with mremap (no copy, no transient double footprint), asks for transparent
// huge pages when large (fewer TLB misses on random lookups over gigabytes),
// and is never zero-filled by ResizeUninitialized (Load reads into it).
template <typename T>
class FlatArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  FlatArray() = default;
  ~FlatArray() { Release(); }
  FlatArray(FlatArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        bytes_(std::exchange(o.bytes_, 0)),
        borrowed_(std::exchange(o.borrowed_, false)) {}
  FlatArray& operator=(FlatArray&& o) noexcept {
    if (this != &o) {
      Release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      bytes_ = std::exchange(o.bytes_, 0);
      borrowed_ = std::exchange(o.borrowed_, false);
    }
    return *this;
  }
  // Views n elements owned by someone else (a mapped file that outlives
  // this array, with kSlack readable bytes past them). Read-only from then
  // on: nothing may grow or write it.
  void Borrow(const T* data, size_t n) {
    Release();
    data_ = const_cast<T*>(data);
    size_ = n;
    borrowed_ = true;
  }
  FlatArray(const FlatArray&) = delete;
  FlatArray& operator=(const FlatArray&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  size_t bytes() const { return size_ * sizeof(T); }

  void push_back(const T& v) {
    if ((size_ + 1) * sizeof(T) + kSlack > bytes_) Grow(size_ + 1);
    data_[size_++] = v;
  }
  void append(const T* v, size_t n) {
    if ((size_ + n) * sizeof(T) + kSlack > bytes_) Grow(size_ + n);
    if (n) std::memcpy(data_ + size_, v, n * sizeof(T));
    size_ += n;
  }
  void ResizeUninitialized(size_t n) {
    if (n * sizeof(T) + kSlack > bytes_) Grow(n);
    size_ = n;
  }
  void resize(size_t n) {
    const size_t old = size_;
    ResizeUninitialized(n);
    if (n > old) std::memset(static_cast<void*>(data_ + old), 0, (n - old) * sizeof(T));
  }
  void clear() { Release(); }

 private:
  // Bytes readable past the end (24-bit coordinates are loaded 4 bytes wide).
  static constexpr size_t kSlack = 8;
  static constexpr size_t kPage = 4096, kHuge = size_t{2} << 20;

  void Grow(size_t min_elems) {
    size_t want = std::max(min_elems * sizeof(T) + kSlack, bytes_ + bytes_ / 2);
    const size_t unit = want >= 2 * kHuge ? kHuge : kPage;
    want = (want + unit - 1) / unit * unit;
    void* p = data_ ? mremap(data_, bytes_, want, MREMAP_MAYMOVE)
                    : mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (unit == kHuge) (void)madvise(p, want, MADV_HUGEPAGE);
    data_ = static_cast<T*>(p);
    bytes_ = want;
  }
  void Release() {
    if (data_ && !borrowed_) munmap(data_, bytes_);
    data_ = nullptr;
    size_ = bytes_ = 0;
    borrowed_ = false;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
  bool borrowed_ = false;
};

constexpr double kUnitsPerDegree = 1e7;

inline double Decode(int64_t q) { return static_cast<double>(q) / kUnitsPerDegree; }

// Whether v is on the lattice (v == Decode(q) for an int32 q), and that q.
bool EncodeExact(double v, int32_t& q) {
  if (!(std::fabs(v) < 214.0)) return false;
  const double r = std::nearbyint(v * kUnitsPerDegree);
  q = static_cast<int32_t>(r);
  return Decode(q) == v;
}

// The least q with Decode(q) > v. REQUIRES: v is not NaN.
int64_t AboveThreshold(double v) {
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

Axis MakeAxis(double v) {
  Axis a;
  a.gt = AboveThreshold(v);
  a.ge = Decode(a.gt - 1) == v ? a.gt - 1 : a.gt;
  return a;
}

int32_t ClampToInt32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

struct Query {
  Point p;
  double sx, sy;  // p scaled to units
  Axis x, y;
};

Query MakeQuery(Point p) {
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
constexpr size_t kHeaderWords = 7;

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
inline bool WestOfEdge(int64_t lx, int64_t ly, int64_t hx, int64_t hy, double sx, double sy,
                       int64_t bx, int64_t by, Point p) {
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
template <int W>
bool ContainsFixed(const uint32_t* sizes, uint32_t rings, const uint8_t* v, int64_t bx, int64_t by,
                   const Query& q) {
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
bool RecordContains(const uint32_t* rec, const Point* dbl, const Query& q) {
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
    case kRel16:
      return ContainsFixed<2>(sizes, rings, v, h.min_x, h.min_y, q);
    case kRel24:
      return ContainsFixed<3>(sizes, rings, v, h.min_x, h.min_y, q);
    default:
      return ContainsFixed<4>(sizes, rings, v, 0, 0, q);
  }
}

// The record's length in words.
size_t RecordWords(const uint32_t* rec) {
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

Polygon DecodeRecord(const uint32_t* rec, const Point* dbl) {
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

constexpr uint64_t kSubgridFlag = uint64_t{1} << 63;
constexpr int kSubBits = 2;  // 4x4 children
constexpr size_t kLeafMax = 10;
constexpr int kRelBits = 8;
constexpr int64_t kBigCells = 1024;

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
  bool CollectBox(int64_t bx0, int64_t by0, int64_t bx1, int64_t by1, size_t limit,
                  std::vector<uint32_t>& out) const {
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
        Walk(cells[static_cast<size_t>(cy) * cols + static_cast<size_t>(cx)], x0 + (cx << shift),
             y0 + (cy << shift), shift, bx0, by0, bx1, by1, out);
        if (out.size() > max_out) return false;
      }
    }
    return true;
  }

  void Walk(uint64_t c, int64_t ox, int64_t oy, int sh, int64_t bx0, int64_t by0, int64_t bx1,
            int64_t by1, std::vector<uint32_t>& out) const {
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
        Walk(cells[(c & ~kSubgridFlag) + static_cast<size_t>((ly << kSubBits) + lx)], cx, cy, csh,
             bx0, by0, bx1, by1, out);
      }
    }
  }
};

class GridBuilder {
 public:
  GridBuilder(CellGrid& g, const FlatArray<Item>& items) : g_(g), items_(items) {}

  void Build() {
    const size_t n = items_.size();
    if (n == 0) return;
    int64_t x0 = std::numeric_limits<int64_t>::max(), y0 = x0;
    int64_t x1 = std::numeric_limits<int64_t>::min(), y1 = x1;
    for (const Item& it : items_) {
      x0 = std::min<int64_t>(x0, it.min_x);
      y0 = std::min<int64_t>(y0, it.min_y);
      x1 = std::max<int64_t>(x1, it.max_x);
      y1 = std::max<int64_t>(y1, it.max_y);
    }
    g_.x0 = x0, g_.y0 = y0, g_.x1 = x1, g_.y1 = y1;
    const double target = std::max<double>(static_cast<double>(n), 1.0);
    int s = kRelBits;
    auto ncols = [&](int sh) { return ((x1 - x0) >> sh) + 1; };
    auto nrows = [&](int sh) { return ((y1 - y0) >> sh) + 1; };
    while (static_cast<double>(ncols(s)) * static_cast<double>(nrows(s)) > target) ++s;
    g_.shift = s;
    g_.cols = static_cast<uint32_t>(ncols(s));
    g_.rows = static_cast<uint32_t>(nrows(s));
    const size_t ncells = static_cast<size_t>(g_.cols) * g_.rows;

    // Top-level lists (CSR of item indices).
    std::vector<uint32_t> start(ncells + 1, 0);
    std::vector<uint8_t> is_big(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Item& it = items_[i];
      const int64_t cx0 = (it.min_x - x0) >> s, cx1 = (it.max_x - x0) >> s;
      const int64_t cy0 = (it.min_y - y0) >> s, cy1 = (it.max_y - y0) >> s;
      if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > kBigCells) {
        is_big[i] = 1;
        g_.big.push_back(it.rec);
        continue;
      }
      for (int64_t cy = cy0; cy <= cy1; ++cy) {
        for (int64_t cx = cx0; cx <= cx1; ++cx) ++start[static_cast<size_t>(cy) * g_.cols + cx + 1];
      }
    }
    for (size_t c = 0; c < ncells; ++c) start[c + 1] += start[c];
    std::vector<uint32_t> list(start[ncells]);
    {
      std::vector<uint32_t> fill(start.begin(), start.end() - 1);
      for (size_t i = 0; i < n; ++i) {
        if (is_big[i]) continue;
        const Item& it = items_[i];
        const int64_t cx0 = (it.min_x - x0) >> s, cx1 = (it.max_x - x0) >> s;
        const int64_t cy0 = (it.min_y - y0) >> s, cy1 = (it.max_y - y0) >> s;
        for (int64_t cy = cy0; cy <= cy1; ++cy) {
          for (int64_t cx = cx0; cx <= cx1; ++cx) {
            list[fill[static_cast<size_t>(cy) * g_.cols + cx]++] = static_cast<uint32_t>(i);
          }
        }
      }
    }
    std::vector<uint8_t>().swap(is_big);
    g_.cells.resize(ncells);
    for (size_t c = 0; c < ncells; ++c) {
      const int64_t cx = static_cast<int64_t>(c % g_.cols), cy = static_cast<int64_t>(c / g_.cols);
      Emit(c, x0 + (cx << s), y0 + (cy << s), s, list.data() + start[c], start[c + 1] - start[c]);
    }
  }

 private:
  void Emit(size_t slot, int64_t ox, int64_t oy, int sh, const uint32_t* ids, size_t n) {
    if (n <= kLeafMax || sh - kSubBits < kRelBits) return Leaf(slot, ox, oy, sh, ids, n);
    const int csh = sh - kSubBits;
    constexpr int kChildren = 1 << (2 * kSubBits);
    constexpr int64_t kSide = 1 << kSubBits;
    size_t count[kChildren] = {};
    auto range = [&](const Item& it, int64_t& lx0, int64_t& lx1, int64_t& ly0, int64_t& ly1) {
      lx0 = std::clamp<int64_t>(it.min_x < ox ? -1 : (it.min_x - ox) >> csh, 0, kSide - 1);
      lx1 = std::clamp<int64_t>(it.max_x < ox ? -1 : (it.max_x - ox) >> csh, 0, kSide - 1);
      ly0 = std::clamp<int64_t>(it.min_y < oy ? -1 : (it.min_y - oy) >> csh, 0, kSide - 1);
      ly1 = std::clamp<int64_t>(it.max_y < oy ? -1 : (it.max_y - oy) >> csh, 0, kSide - 1);
    };
    for (size_t k = 0; k < n; ++k) {
      int64_t lx0, lx1, ly0, ly1;
      range(items_[ids[k]], lx0, lx1, ly0, ly1);
      for (int64_t ly = ly0; ly <= ly1; ++ly) {
        for (int64_t lx = lx0; lx <= lx1; ++lx) ++count[ly * kSide + lx];
      }
    }
    bool progress = false;
    for (size_t c : count) progress |= c < n;
    if (!progress) return Leaf(slot, ox, oy, sh, ids, n);
    size_t offset[kChildren + 1] = {};
    for (int c = 0; c < kChildren; ++c) offset[c + 1] = offset[c] + count[c];
    std::vector<uint32_t> buf(offset[kChildren]);
    size_t fill[kChildren];
    std::copy(offset, offset + kChildren, fill);
    for (size_t k = 0; k < n; ++k) {
      int64_t lx0, lx1, ly0, ly1;
      range(items_[ids[k]], lx0, lx1, ly0, ly1);
      for (int64_t ly = ly0; ly <= ly1; ++ly) {
        for (int64_t lx = lx0; lx <= lx1; ++lx) buf[fill[ly * kSide + lx]++] = ids[k];
      }
    }
    const size_t base = g_.cells.size();
    g_.cells.resize(base + kChildren);
    g_.cells[slot] = kSubgridFlag | base;
    for (int c = 0; c < kChildren; ++c) {
      const int64_t lx = c % kSide, ly = c / kSide;
      Emit(base + c, ox + (lx << csh), oy + (ly << csh), csh, buf.data() + offset[c], count[c]);
    }
  }

  void Leaf(size_t slot, int64_t ox, int64_t oy, int sh, const uint32_t* ids, size_t n) {
    const size_t begin = g_.entries.size();
    if (begin + n > std::numeric_limits<uint32_t>::max()) throw std::length_error("ShapeIndex: too many entries");
    const int r = sh - kRelBits;
    auto rel = [r](int64_t v, int64_t o) {
      return static_cast<uint8_t>(std::clamp<int64_t>(v < o ? -1 : (v - o) >> r, 0, 255));
    };
    for (size_t k = 0; k < n; ++k) {
      const Item& it = items_[ids[k]];
      g_.entries.push_back(
          LeafEntry{it.rec, rel(it.min_x, ox), rel(it.min_y, oy), rel(it.max_x, ox), rel(it.max_y, oy)});
    }
    g_.cells[slot] = static_cast<uint64_t>(begin) | (static_cast<uint64_t>(n) << 32);
  }

  CellGrid& g_;
  const FlatArray<Item>& items_;
};

// The R-tree first stage, for comparison.
// (Boxes in the lattice's integers, held as doubles (exact): with int32
// coordinates Boost's packing computes areas in int and overflows.)
using IPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using IBox = bg::model::box<IPoint>;
using TreeEntry = std::pair<IBox, uint32_t>;
using Tree = bgi::rtree<TreeEntry, bgi::rstar<16>>;

}  // namespace

struct ShapeIndex::Impl {
  FirstStage stage = FirstStage::kCellGrid;
  FlatArray<uint32_t> words;       // polygon records
  FlatArray<Point> dbl;            // coordinates of kDouble records
  FlatArray<uint32_t> shape_recs;  // first record of each shape, then the end
  size_t polygons = 0, vertices = 0, integer_polygons = 0;
  CellGrid grid;
  std::unique_ptr<Tree> tree;
  std::shared_ptr<const MappedFile> mapping;  // a loaded index's arrays live here

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
    tree->query(bgi::intersects(ip),
                boost::make_function_output_iterator([&](const TreeEntry& e) { f(e.second); }));
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
    RecordHeader h{std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::max(),
                   std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::min(), id, k,
                   static_cast<uint32_t>(kAbs32 | rings << 2)};
    const bool usable = rings > 0 && !polygon.rings[0].points.empty();
    const Box box = usable ? RingBox(polygon.rings[0]) : Box{};
    if (!usable || !std::isfinite(box.min_lng) || !std::isfinite(box.max_lng) ||
        !std::isfinite(box.min_lat) || !std::isfinite(box.max_lat)) {
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

struct ShapeIndex::Builder::State {
  FirstStage stage;
  std::unique_ptr<Impl> impl = std::make_unique<Impl>();
  FlatArray<Item> items;
};

ShapeIndex::Builder::Builder(FirstStage stage) : state_(std::make_unique<State>()) {
  state_->stage = stage;
  state_->impl->stage = stage;
}
ShapeIndex::Builder::~Builder() = default;
ShapeIndex::Builder::Builder(Builder&&) noexcept = default;
ShapeIndex::Builder& ShapeIndex::Builder::operator=(Builder&&) noexcept = default;

uint32_t ShapeIndex::Builder::Add(const MultiPolygon& shape) {
  Impl& impl = *state_->impl;
  if (impl.shape_recs.size() >= std::numeric_limits<uint32_t>::max() - 1) {
    throw std::length_error("ShapeIndex: too many shapes");
  }
  const uint32_t id = static_cast<uint32_t>(impl.shape_recs.size());
  impl.shape_recs.push_back(static_cast<uint32_t>(impl.words.size()));
  for (size_t k = 0; k < shape.polygons.size(); ++k) {
    if (auto item = impl.Append(shape.polygons[k], id, static_cast<uint32_t>(k))) state_->items.push_back(*item);
  }
  return id;
}

ShapeIndex ShapeIndex::Builder::Finish() {
  ShapeIndex index;
  index.impl_ = std::move(state_->impl);
  Impl& impl = *index.impl_;
  impl.shape_recs.push_back(static_cast<uint32_t>(impl.words.size()));
  const FlatArray<Item>& items = state_->items;
  if (impl.stage == FirstStage::kCellGrid) {
    GridBuilder(impl.grid, items).Build();
  } else {
    std::vector<TreeEntry> entries;
    entries.reserve(items.size());
    for (const Item& it : items) {
      entries.emplace_back(IBox(IPoint(it.min_x, it.min_y), IPoint(it.max_x, it.max_y)), it.rec);
    }
    // The range constructor bulk-loads (packs) the tree.
    impl.tree = std::make_unique<Tree>(entries.begin(), entries.end());
  }
  const FirstStage stage = state_->stage;
  state_ = std::make_unique<State>();
  state_->stage = stage;
  state_->impl->stage = stage;
  return index;
}

ShapeIndex::ShapeIndex() : impl_(std::make_unique<Impl>()) {}
ShapeIndex::~ShapeIndex() = default;
ShapeIndex::ShapeIndex(ShapeIndex&&) noexcept = default;
ShapeIndex& ShapeIndex::operator=(ShapeIndex&&) noexcept = default;

ShapeIndex ShapeIndex::Build(const std::vector<MultiPolygon>& shapes, FirstStage stage) {
  assert(shapes.size() <= std::numeric_limits<uint32_t>::max());
  Builder builder(stage);
  for (const MultiPolygon& s : shapes) builder.Add(s);
  return builder.Finish();
}

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
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
      return a.id < b.id || (a.id == b.id && a.polygon < b.polygon);
    });
    // One hit per shape: its first containing polygon, as ContainingPolygon.
    hits.erase(std::unique(hits.begin(), hits.end(),
                           [](const Hit& a, const Hit& b) { return a.id == b.id; }),
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
      std::sort(hits.begin() + static_cast<std::ptrdiff_t>(first), hits.end(), [](const Hit& a, const Hit& b) {
        return a.id < b.id || (a.id == b.id && a.polygon < b.polygon);
      });
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
    impl.tree->query(bgi::intersects(search), boost::make_function_output_iterator(
                                                  [&](const TreeEntry& e) { candidates.push_back(e.second); }));
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

size_t ShapeIndex::size() const {
  return impl_ && !impl_->shape_recs.empty() ? impl_->shape_recs.size() - 1 : 0;
}

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

Status ShapeIndex::Save(const std::string& path, std::string_view label) const {
  if (!impl_ || impl_->stage != FirstStage::kCellGrid) {
    return FailedPrecondition("UNSUPPORTED", "only a cell-grid ShapeIndex can be saved");
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
  SectionWriter w(path);
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

StatusOr<ShapeIndex> ShapeIndex::Load(const std::string& path, std::string* label, LoadMode mode) {
  auto file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  const MappedFile& f = **file;
  FileHeader h;
  if (f.size() < sizeof h) return InvalidArgument("CORRUPT_INDEX", path + ": truncated");
  std::memcpy(&h, f.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    return InvalidArgument("CORRUPT_INDEX", path + ": not a ShapeIndex file");
  }
  if (h.version != kFileVersion) {
    return InvalidArgument("CORRUPT_INDEX", path + ": file version " + std::to_string(h.version) + ", not " +
                                                std::to_string(kFileVersion));
  }
  // Sizes first (in 128-bit arithmetic: the counts are not trusted yet).
  const unsigned __int128 want = AlignUp(sizeof h) + AlignUp(h.n_words * 4) + AlignUp(h.n_dbl * sizeof(Point)) +
                                 AlignUp(h.n_shape_recs * 4) + AlignUp(h.n_cells * 8) +
                                 AlignUp(h.n_entries * sizeof(LeafEntry)) + AlignUp(h.n_big * 4) + AlignUp(h.n_label) + kSectionAlign;
  const bool sane_counts = h.n_words < (uint64_t{1} << 40) && h.n_dbl < (uint64_t{1} << 40) &&
                           h.n_shape_recs < (uint64_t{1} << 40) && h.n_cells < (uint64_t{1} << 40) &&
                           h.n_entries < (uint64_t{1} << 40) && h.n_big < (uint64_t{1} << 40) &&
                           h.n_label < (uint64_t{1} << 40);
  if (!sane_counts || want != f.size() || h.n_shape_recs == 0 || h.n_words > std::numeric_limits<uint32_t>::max() ||
      static_cast<uint64_t>(h.cols) * h.rows > h.n_cells || h.shift < kRelBits || h.shift > 62) {
    return InvalidArgument("CORRUPT_INDEX", path + ": inconsistent sizes");
  }
  auto sum = f.ChecksumFrom(AlignUp(sizeof h));
  if (!sum.ok()) return sum.status();
  if (*sum != h.checksum) return InvalidArgument("CORRUPT_INDEX", path + ": checksum mismatch");
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
    return InvalidArgument("CORRUPT_INDEX", path + ": inconsistent shape table");
  }
  if (label) label->assign(f.data() + at, h.n_label);
  if (mode == LoadMode::kMap) impl.mapping = std::move(file).value();
  return index;
}

}  // namespace grid::geo
