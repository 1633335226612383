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
// Below a zoom where a typical grid would be under kMinGridPixels across, a
// unit above community level is drawn as its children's outlines instead of
// its grids (a county as its towns): the directory's own boundary of the
// child when it has one, else the union of the child's grids (GEOS, the
// vertices rounded to a decimal grid finer than a quarter of the tolerance
// so that neighbours' shared edges vanish).
//
// Thread-safety: pure functions over an immutable directory snapshot.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/directory.h"
#include "engine/geo.h"

namespace grid::services::dashboard {

inline constexpr int kMinZoom = 0;
inline constexpr int kMaxZoom = 18;
// A typical (median) grid narrower than this many pixels at the zoom: the
// children's outlines are drawn instead of the grids.
inline constexpr double kMinGridPixels = 16;

// Half a 256-pixel tile's pixel at `zoom`, in degrees of longitude.
double ToleranceForZoom(int zoom);

// Douglas-Peucker over a closed ring (no repeated closing point): the points
// kept, in order from the ring's westmost (then southmost) point, at least 3
// when the ring has them.
std::vector<geo::Point> SimplifyRing(const std::vector<geo::Point>& ring, double tolerance);

enum class Outline { kGrids, kChildren };

struct MapShapes {
  // {"type":"FeatureCollection","outline":"grids"|"children","grids":N,"features":[...]}
  std::string geojson;
  Outline outline = Outline::kGrids;
  size_t features = 0;
  size_t grids = 0;       // grids with a boundary at or below the unit
  size_t points_in = 0;   // vertices before simplification
  size_t points_out = 0;  // after
};

// What the map draws of `unit` at `zoom`: every grid at or below it that has
// a boundary, one Feature each with properties {child, name}: child is the
// child of `unit` the grid lies in (the grid itself when `unit` is its
// community or the grid), name the grid's. Or, where grids are too small to
// see (see above), one Feature per child of `unit` with {child, name} of the
// child. `outline` forces one of the two. REQUIRES: `unit` exists in
// `directory`; kMinZoom <= zoom <= kMaxZoom.
MapShapes GridShapes(const Directory& directory, std::string_view unit, int zoom,
                     std::optional<Outline> outline = std::nullopt);

}  // namespace grid::services::dashboard
