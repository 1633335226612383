// Geometry for routing: boundary validation and conversion, the exact
// point-in-polygon test with its shared-edge rule, distances, and ShapeIndex
// (a bulk-loaded Boost.Geometry R-tree over polygon bounding boxes followed by
// the exact test).
//
// Thread-safety: free functions are pure. A ShapeIndex is immutable after
// Build; its const methods may be called concurrently from any number of
// threads (the R-tree is only read).
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

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Boost 1.74's Boost.Geometry includes a header it itself deprecated.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/iterator/function_output_iterator.hpp>

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
void CountCrossings(const Ring& ring, Point p, bool& inside) {
  const std::vector<Point>& pts = ring.points;
  const size_t n = pts.size();
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
// R-tree types.

using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
// (bounding box of one polygon, id << 32 | polygon index)
using Entry = std::pair<BBox, uint64_t>;
using Tree = bgi::rtree<Entry, bgi::rstar<16>>;

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

struct ShapeIndex::Impl {
  std::vector<MultiPolygon> shapes;
  Tree tree;
};

ShapeIndex::ShapeIndex() : impl_(std::make_unique<Impl>()) {}
ShapeIndex::~ShapeIndex() = default;
ShapeIndex::ShapeIndex(ShapeIndex&&) noexcept = default;
ShapeIndex& ShapeIndex::operator=(ShapeIndex&&) noexcept = default;

ShapeIndex ShapeIndex::Build(std::vector<MultiPolygon> shapes) {
  assert(shapes.size() <= std::numeric_limits<uint32_t>::max());
  std::vector<Entry> entries;
  size_t total = 0;
  for (const MultiPolygon& s : shapes) total += s.polygons.size();
  entries.reserve(total);
  for (size_t id = 0; id < shapes.size(); ++id) {
    const std::vector<Polygon>& polygons = shapes[id].polygons;
    for (size_t k = 0; k < polygons.size(); ++k) {
      if (polygons[k].rings.empty()) continue;
      const Box& b = polygons[k].bbox;
      entries.emplace_back(BBox(BPoint(b.min_lng, b.min_lat), BPoint(b.max_lng, b.max_lat)),
                           (static_cast<uint64_t>(id) << 32) | static_cast<uint64_t>(k));
    }
  }
  ShapeIndex index;
  index.impl_->shapes = std::move(shapes);
  // The range constructor bulk-loads (packs) the tree.
  index.impl_->tree = Tree(entries.begin(), entries.end());
  return index;
}

std::vector<ShapeIndex::Hit> ShapeIndex::Locate(Point p) const {
  std::vector<Hit> hits;
  if (!impl_) return hits;
  const std::vector<MultiPolygon>& shapes = impl_->shapes;
  impl_->tree.query(bgi::intersects(BPoint(p.lng, p.lat)),
                    boost::make_function_output_iterator([&](const Entry& e) {
                      const uint32_t id = static_cast<uint32_t>(e.second >> 32);
                      const int k = static_cast<int>(e.second & 0xffffffffu);
                      if (Contains(shapes[id].polygons[k], p)) hits.push_back(Hit{id, k});
                    }));
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

std::optional<ShapeIndex::Near> ShapeIndex::Nearest(Point p, double max_meters) const {
  if (!impl_ || !(max_meters >= 0) || !std::isfinite(p.lng) || !std::isfinite(p.lat)) {
    return std::nullopt;
  }
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
  const BBox search(BPoint(min_lng, std::max(-90.0, p.lat - dlat)),
                    BPoint(max_lng, std::min(90.0, p.lat + dlat)));

  std::optional<Near> best;
  const std::vector<MultiPolygon>& shapes = impl_->shapes;
  impl_->tree.query(bgi::intersects(search),
                    boost::make_function_output_iterator([&](const Entry& e) {
                      const uint32_t id = static_cast<uint32_t>(e.second >> 32);
                      const size_t k = static_cast<size_t>(e.second & 0xffffffffu);
                      if (best && best->meters == 0 && best->id < id) return;
                      const double d = PolygonDistanceMeters(shapes[id].polygons[k], p);
                      if (!(d <= max_meters)) return;
                      if (!best || d < best->meters || (d == best->meters && id < best->id)) {
                        best = Near{id, d};
                      }
                    }));
  return best;
}

size_t ShapeIndex::size() const { return impl_ ? impl_->shapes.size() : 0; }

const MultiPolygon& ShapeIndex::shape(uint32_t id) const {
  assert(impl_ && id < impl_->shapes.size());
  return impl_->shapes[id];
}

}  // namespace grid::geo
