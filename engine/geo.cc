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

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/geo_predicates.h"
#include "engine/reasons.h"

namespace grid::geo {

using namespace internal;

namespace {

bool SamePoint(Point a, Point b) { return a.lng == b.lng && a.lat == b.lat; }

// REQUIRES: p collinear with a and b. Whether p lies on the closed segment.
bool WithinSegmentBox(Point a, Point b, Point p) {
  return std::min(a.lng, b.lng) <= p.lng && p.lng <= std::max(a.lng, b.lng) && std::min(a.lat, b.lat) <= p.lat &&
         p.lat <= std::max(a.lat, b.lat);
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
    edges[i] = {std::min(a.lng, b.lng), std::max(a.lng, b.lng), std::min(a.lat, b.lat), std::max(a.lat, b.lat), i};
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
// Distances.

// Distance from p to the nearest edge of polygon (0 when contained), or
// +infinity for a polygon without edges. The nearest point is chosen in an
// equirectangular projection centred on p (x = dlng * cos(lat_p), y = dlat,
// scaled to metres), then the great-circle distance to that point is
// returned. For distances of a few km the choice error is far below a metre;
// the projection degrades near the poles and does not wrap at +-180.
}  // namespace

namespace internal {

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

}  // namespace internal

namespace {

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
    return Error(reason::EMPTY_GEOMETRY, "boundary has no polygon");
  }
  MultiPolygon shape;
  shape.polygons.reserve(boundary.polygons_size());
  for (int pi = 0; pi < boundary.polygons_size(); ++pi) {
    const grid::v1::Polygon& in = boundary.polygons(pi);
    if (in.rings_size() == 0) {
      return Error(reason::EMPTY_GEOMETRY, "polygon " + std::to_string(pi) + " has no ring");
    }
    Polygon polygon;
    polygon.rings.reserve(in.rings_size());
    for (int ri = 0; ri < in.rings_size(); ++ri) {
      const grid::v1::Ring& r = in.rings(ri);
      if (r.lng_size() != r.lat_size()) {
        return Error(reason::RING_LENGTH_MISMATCH, Where(pi, ri) + std::to_string(r.lng_size()) + " longitudes but " +
                                                       std::to_string(r.lat_size()) + " latitudes");
      }
      Ring ring;
      ring.points.reserve(r.lng_size());
      for (int k = 0; k < r.lng_size(); ++k) {
        const Point q{r.lng(k), r.lat(k)};
        if (!std::isfinite(q.lng) || !std::isfinite(q.lat)) {
          return Error(reason::NON_FINITE_COORDINATE, Where(pi, ri) + "point " + std::to_string(k) + " is not finite");
        }
        if (q.lat < -90 || q.lat > 90 || q.lng < -180 || q.lng > 180) {
          return Error(reason::COORDINATE_OUT_OF_RANGE, Where(pi, ri) + "point " + std::to_string(k) + " (lng " +
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
        return Error(reason::RING_TOO_SHORT,
                     Where(pi, ri) + "has " + std::to_string(n_distinct) + " distinct points, needs at least 3");
      }
      if (auto bad = FindSelfIntersection(ring.points)) {
        return Error(reason::SELF_INTERSECTING_RING, Where(pi, ri) + "edges " + std::to_string(bad->first) + " and " +
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
  const double h = sin_dphi * sin_dphi + std::cos(phi1) * std::cos(phi2) * sin_dlambda * sin_dlambda;
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

}  // namespace grid::geo
