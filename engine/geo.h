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
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/file_access.h"
#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid::geo {

// Benchmark and test options (geo_internal.h), declared here only so that
// ShapeIndex can name them in its private members.
namespace internal {
enum class FirstStage;
enum class SingleLookup;
enum class LoadMode;
struct ShapeIndexAccess;
}  // namespace internal

struct Point {
  double lng = 0;
  double lat = 0;
};

struct Box {
  double min_lng = 0, min_lat = 0, max_lng = 0, max_lat = 0;
  bool Contains(Point p) const { return p.lng >= min_lng && p.lng <= max_lng && p.lat >= min_lat && p.lat <= max_lat; }
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
// 0..n-1 (the position in the vector given to Build, or the order of
// Builder::Add).
//
// Storage is compact (see shape_index_impl.h): every polygon is one flat record; a ring
// whose coordinates are all on the 1e-7 degree lattice (every coordinate
// written with at most 7 decimals, as GeoJSON usually is) is stored as 16,
// 24 or 32-bit integers relative to its bounding box, any other ring as
// doubles. The stored coordinates decode to exactly the doubles given, so
// Locate and Nearest decide exactly as Contains / ContainingPolygon /
// DistanceToShapeMeters on the shapes given would, half-open rule included.
// The first stage is a hierarchical cell grid over the polygons' bounding
// boxes (a packed Boost.Geometry R-tree is kept for comparison in
// tools/geobench: geo_internal.h).
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
  struct Stats {
    size_t shapes = 0, polygons = 0, vertices = 0;
    size_t integer_polygons = 0;  // stored on the 1e-7 degree lattice
    size_t geometry_bytes = 0;    // polygon records (+ double coordinates)
    size_t index_bytes = 0;       // first stage
    size_t cells = 0, entries = 0, big_polygons = 0;
  };

  // Adds shapes one at a time without keeping them (for millions of shapes).
  class Builder {
   public:
    Builder();
    ~Builder();
    Builder(Builder&&) noexcept;
    Builder& operator=(Builder&&) noexcept;
    // Adds the shape with the next id and returns that id. A shape with no
    // polygon (or polygons without rings) gets an id but is never found.
    // REQUIRES: every polygon's bbox is its outer ring's box (as FromProto sets).
    uint32_t Add(const MultiPolygon& shape);
    // Builds the first stage. The builder is empty afterwards.
    ShapeIndex Finish();

   private:
    friend class ShapeIndex;
    friend struct internal::ShapeIndexAccess;
    explicit Builder(internal::FirstStage stage);
    struct State;
    std::unique_ptr<State> state_;
  };

  ShapeIndex();
  ~ShapeIndex();
  ShapeIndex(ShapeIndex&&) noexcept;
  ShapeIndex& operator=(ShapeIndex&&) noexcept;

  static ShapeIndex Build(const std::vector<MultiPolygon>& shapes);

  // Every shape containing p, in ascending id order, once each (polygon is
  // its first containing polygon, as ContainingPolygon). Usually zero or one.
  std::vector<Hit> Locate(Point p) const;
  // Locate for many points at once, with the same answers: the hits of
  // points[i] are hits[offsets[i], offsets[i + 1]) (both are overwritten;
  // offsets gets points.size() + 1 values). Runs up to 16 lookups side by
  // side so that their memory accesses overlap: for a batch of cases
  // (replays, imports, re-routing after a boundary change) it is several
  // times faster than one Locate after another over an index far larger
  // than the CPU caches.
  void LocateBatch(std::span<const Point> points, std::vector<Hit>& hits, std::vector<uint32_t>& offsets) const;
  // The shape with the nearest edge to p within max_meters (inclusive), if
  // any, with DistanceToShapeMeters (0 when a shape contains p); ties go to
  // the lower id. nullopt for a negative or NaN max_meters.
  std::optional<Near> Nearest(Point p, double max_meters) const;

  size_t size() const;
  // A copy of the stored shape (identical coordinates; bboxes recomputed
  // from the rings). REQUIRES: id < size().
  MultiPolygon shape(uint32_t id) const;
  Stats stats() const;

  // Writes the built index (cell grid only) to a file that Load maps back
  // with no rebuilding: a restart serves in the time it takes to check it.
  // The file is written through `files` to path + ".tmp", synced and
  // renamed over path, so path is always a whole file. `label` is the caller's own (e.g. what the
  // index was built from); Load returns it for the caller to check.
  // Load refuses (INVALID_ARGUMENT, CORRUPT_INDEX) a file with a wrong magic
  // or file version, inconsistent section sizes, or a checksum mismatch (any
  // flipped byte); NOT_FOUND when it cannot be opened. Beyond that it trusts
  // the contents (they come from Save): it is not for untrusted input.
  // Load keeps the file `files` opens (a read-only mapping, with
  // storage/posix_files.h): nothing is copied, and its pages become
  // resident as lookups touch them.
  [[nodiscard]] Status Save(FileAccess& files, const std::string& path, std::string_view label = {}) const;
  static StatusOr<ShapeIndex> Load(FileAccess& files, const std::string& path, std::string* label = nullptr);

 private:
  friend struct internal::ShapeIndexAccess;
  static ShapeIndex Build(const std::vector<MultiPolygon>& shapes, internal::FirstStage stage);
  std::vector<Hit> Locate(Point p, internal::SingleLookup how) const;
  static StatusOr<ShapeIndex> Load(FileAccess& files, const std::string& path, std::string* label,
                                   internal::LoadMode mode);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grid::geo
