// Geometry for routing: WGS-84 polygons with holes, multipolygons, an exact
// point-in-polygon test with a defined rule for shared edges, and a spatial
// index over many grids' boundaries.
//
// Shared edges. Containment uses a half-open crossing rule (documented
// precisely in geo.cc and docs/routing.md): of two polygons that share an edge
// exactly (same vertices), a point on that edge belongs to exactly one of
// them, the same one every time: the one lying east of the edge (north, for a
// horizontal edge). Vertices follow the same rule. Points in a hole are
// outside the polygon; a point on a hole's edge follows the same half-open
// rule against the hole. Coordinates are treated as planar (lng, lat); there
// is no antimeridian handling.
//
// Thread-safety: all types are immutable after construction; const methods are
// safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid::geo {

struct Point {
  double lng = 0;
  double lat = 0;
};

struct Box {
  double min_lng = 0, min_lat = 0, max_lng = 0, max_lat = 0;
  bool Contains(Point p) const {
    return p.lng >= min_lng && p.lng <= max_lng && p.lat >= min_lat && p.lat <= max_lat;
  }
};

// A closed ring without the repeated closing point.
struct Ring {
  std::vector<Point> points;
};

// rings[0] is the outer ring, further rings are holes.
struct Polygon {
  std::vector<Ring> rings;
  Box bbox;  // of the outer ring
};

struct MultiPolygon {
  std::vector<Polygon> polygons;
  Box bbox;
};

// Converts and validates a boundary: every ring has at least 3 distinct points
// (a repeated closing point and consecutive duplicate points are dropped),
// every coordinate is finite with lat in [-90, 90] and lng in [-180, 180], no
// ring intersects itself, and the boundary has at least one polygon.
// On failure the reason is one of: EMPTY_GEOMETRY, NON_FINITE_COORDINATE,
// COORDINATE_OUT_OF_RANGE, RING_TOO_SHORT, RING_LENGTH_MISMATCH,
// SELF_INTERSECTING_RING; the message names the polygon and ring index.
StatusOr<MultiPolygon> FromProto(const grid::v1::Boundary& boundary);

// The inverse of FromProto (no closing point repeated).
grid::v1::Boundary ToProto(const MultiPolygon& shape);

// Exact containment with the half-open rule above.
// REQUIRES: polygon.bbox is the outer ring's bounding box (as FromProto sets).
bool Contains(const Polygon& polygon, Point p);
// Returns the index of the first polygon of `shape` that contains p, or -1.
int ContainingPolygon(const MultiPolygon& shape, Point p);

// Great-circle distance in metres.
double DistanceMeters(Point a, Point b);
// Distance in metres from p to the nearest edge of shape (0 when inside;
// +infinity for a shape without edges). The nearest edge point is chosen in an
// equirectangular projection centred on p (accurate for a few km, not near
// the poles); the great-circle distance to it is returned.
double DistanceToShapeMeters(const MultiPolygon& shape, Point p);

// A spatial index over a fixed set of shapes, identified by dense ids
// 0..n-1 (the position in the vector given to Build).
class ShapeIndex {
 public:
  struct Hit {
    uint32_t id;
    int polygon;  // index within the shape's multipolygon
  };
  struct Near {
    uint32_t id;
    double meters;
  };

  ShapeIndex();
  ~ShapeIndex();
  ShapeIndex(ShapeIndex&&) noexcept;
  ShapeIndex& operator=(ShapeIndex&&) noexcept;

  static ShapeIndex Build(std::vector<MultiPolygon> shapes);

  // Every shape containing p, in ascending id order, once each (polygon is
  // its first containing polygon, as ContainingPolygon). Usually zero or one.
  std::vector<Hit> Locate(Point p) const;
  // The shape with the nearest edge to p within max_meters (inclusive), if
  // any, with DistanceToShapeMeters (0 when a shape contains p); ties go to
  // the lower id. nullopt for a negative or NaN max_meters.
  std::optional<Near> Nearest(Point p, double max_meters) const;

  size_t size() const;
  // REQUIRES: id < size().
  const MultiPolygon& shape(uint32_t id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grid::geo
