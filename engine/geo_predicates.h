// Internal to the geometry (geo.cc and the ShapeIndex files): the exact
// orientation predicate, the half-open crossing count of the containment
// rule (geo.cc's top comment), boxes and constants. Inline on purpose: they
// run inside every lookup.
//
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>

#include "engine/geo.h"

namespace grid::geo::internal {

inline constexpr double kEarthRadiusMeters = 6371008.8;
inline constexpr double kDegToRad = std::numbers::pi / 180.0;
inline constexpr double kRadToDeg = 180.0 / std::numbers::pi;

// ---------------------------------------------------------------------------
// Exact orientation predicate (after Shewchuk, "Adaptive Precision
// Floating-Point Arithmetic and Fast Robust Geometric Predicates", 1997).
// A floating-point filter decides almost every call; the rest are decided by
// an exact expansion sum. Exact as long as no product of two coordinates
// underflows (|coordinate| products above ~1e-290), which holds for any
// realistic WGS-84 coordinate.

inline constexpr double kEpsilon = 0x1p-53;  // half an ulp of 1.0
inline constexpr double kCcwErrBoundA = (3.0 + 16.0 * kEpsilon) * kEpsilon;

// x + y == a + b exactly, x = fl(a + b).
inline void TwoSum(double a, double b, double& x, double& y) {
  x = a + b;
  const double bv = x - a;
  const double av = x - bv;
  y = (a - av) + (b - bv);
}

inline int OrientExact(Point a, Point b, Point c) {
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
inline int Orient(Point a, Point b, Point c) {
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

// ---------------------------------------------------------------------------
// Containment.

// Flips `inside` once per edge of the ring counted by the rule at the top.
inline void CountCrossings(const Point* pts, size_t n, Point p, bool& inside) {
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

inline void CountCrossings(const Ring& ring, Point p, bool& inside) {
  CountCrossings(ring.points.data(), ring.points.size(), p, inside);
}

inline Box RingBox(const Ring& ring) {
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

inline Box Union(const Box& a, const Box& b) {
  return Box{std::min(a.min_lng, b.min_lng), std::min(a.min_lat, b.min_lat), std::max(a.max_lng, b.max_lng),
             std::max(a.max_lat, b.max_lat)};
}

// Distance from p to the nearest edge of polygon (0 when contained), or
// +infinity for a polygon without edges (see geo.cc).
double PolygonDistanceMeters(const Polygon& polygon, Point p);

}  // namespace grid::geo::internal
