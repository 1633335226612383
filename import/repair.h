// Boundary repair and sibling checks with GEOS (the C API, geos_c.h).
//
// RepairBoundary: a boundary whose positions are well formed but which the
// engine refuses (geo::FromProto: a ring that crosses itself, a ring that
// collapses to fewer than 3 distinct points) is passed through
// GEOSMakeValid_r; the polygons of the result are kept and anything of lower
// dimension that make-valid produces (a collapsed lobe becomes a line or a
// point) is dropped and counted. The result must pass geo::FromProto, or the
// feature is refused (UNREPAIRABLE_GEOMETRY).
//
// CheckSiblings: units of the same parent that overlap each other, and the
// gaps inside their parent that none of them covers (the parent's boundary
// minus the siblings' union when the parent's boundary is in the same
// content; otherwise the holes of the siblings' union, which lie inside the
// parent because every child lies in it). Routing reports the same at run
// time: a point in two grids is flagged ambiguous with the candidates, a
// point in no grid goes to the nearest one (docs/routing.md).
//
// Areas are in square metres on the sphere (an equal-area sinusoidal
// projection about the shape's own meridian, R = 6,371,008.8 m); the area of
// a ring that crosses itself is its signed (shoelace) area as drawn, where
// lobes of opposite winding cancel, which is what GEOS reports too.
//
// Thread-safety: pure functions; each call has its own GEOS context.
#pragma once

#include <string>
#include <vector>

#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid {

// What one repair changed.
struct BoundaryRepair {
  std::string feature;  // the feature, as the importer names it ("f.geojson: feature 3 (nc_id=91)")
  std::string why;      // the engine's refusal ("SELF_INTERSECTING_RING: polygon 0 ring 0: edges 3 and 7 intersect")
  double area_before_m2 = 0;
  double area_after_m2 = 0;
  int polygons_before = 0;
  int polygons_after = 0;
  int parts_dropped = 0;  // lines and points of make-valid's result, dropped
  // "f.geojson: feature 3 (nc_id=91): repaired (SELF_INTERSECTING_RING: ...):
  //  area 1,234 m² -> 1,240 m² (+0.5%), polygons 1 -> 2, 0 parts dropped"
  std::string ToString() const;
};

// REQUIRES: every ring of `boundary` has finite, in-range coordinates (the
// importer's checks). Returns the repaired boundary and fills *report
// (except `feature` and `why`), or UNREPAIRABLE_GEOMETRY saying why.
StatusOr<grid::v1::Boundary> RepairBoundary(const grid::v1::Boundary& boundary, BoundaryRepair* report);

// Area of a boundary (polygons' outer rings minus their holes), m².
double BoundaryAreaM2(const grid::v1::Boundary& boundary);

struct SiblingIssue {
  enum class Kind { kOverlap, kGap };
  Kind kind = Kind::kOverlap;
  std::string parent;
  std::string a, b;  // the two overlapping units; for a gap, empty
  double area_m2 = 0;
  int pieces = 0;  // polygons of the overlap or gap
  // "overlap: 47 and 52 (parent region-1) share 1,234 m² in 1 piece"
  // "gap: inside region-1, 567 m² in 2 pieces covered by no unit"
  std::string ToString() const;
};

// Overlaps between siblings and gaps inside their parent, each of at least
// `min_area_m2`, over the units of `content` that have a boundary, grouped
// by parent_code; in parent order, then unit order.
std::vector<SiblingIssue> CheckSiblings(const grid::v1::DirectoryContent& content, double min_area_m2 = 1.0);

}  // namespace grid
