// The dashboard's map shapes as pure functions: the grids below a unit as a
// GeoJSON FeatureCollection, simplified for a web-map zoom level with
// Douglas-Peucker and rounded to the precision that zoom can show
// (docs/dashboard.md, "Map shapes").
//
// Rings are simplified one by one, so neighbours that share an edge may part
// by at most the tolerance (half a screen pixel at that zoom): invisible at
// that zoom, and it needs no topology. An outer ring never falls below 4
// points (a triangle and its closing point); a hole smaller than the
// tolerance is dropped.
//
// Thread-safety: pure functions over an immutable directory snapshot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/directory.h"
#include "engine/geo.h"

namespace grid::services::dashboard {

inline constexpr int kMinZoom = 0;
inline constexpr int kMaxZoom = 18;

// Half a 256-pixel tile's pixel at `zoom`, in degrees of longitude.
double ToleranceForZoom(int zoom);

// Douglas-Peucker over a closed ring (no repeated closing point): the points
// kept, in order, at least 3 when the ring has them.
std::vector<geo::Point> SimplifyRing(const std::vector<geo::Point>& ring, double tolerance);

struct MapShapes {
  std::string geojson;  // {"type":"FeatureCollection","features":[...]}
  size_t grids = 0;
  size_t points_in = 0;   // vertices before simplification
  size_t points_out = 0;  // after
};

// Every grid at or below `unit` that has a boundary, one Feature each with
// properties {code, name, child}: child is the child of `unit` the grid lies
// in (the grid itself when `unit` is its community or the grid). REQUIRES:
// `unit` exists in `directory`; kMinZoom <= zoom <= kMaxZoom.
MapShapes GridShapes(const Directory& directory, std::string_view unit, int zoom);

}  // namespace grid::services::dashboard
