// The dashboard's map shapes (see dashboard_map.h).
#include "services/dashboard_map.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <geos_c.h>

#include <nlohmann/json.hpp>

namespace grid::services::dashboard {
namespace {

// Distance from p to the segment a-b, in degrees (plane: the grids are small).
double SegmentDistance(geo::Point p, geo::Point a, geo::Point b) {
  const double dx = b.lng - a.lng, dy = b.lat - a.lat;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.lng - a.lng) * dx + (p.lat - a.lat) * dy) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(p.lng - (a.lng + t * dx), p.lat - (a.lat + t * dy));
}

// Marks the points of [first, last] to keep (iterative: no deep recursion).
void Mark(const std::vector<geo::Point>& pts, size_t first, size_t last, double tolerance, std::vector<bool>* keep) {
  std::vector<std::pair<size_t, size_t>> todo{{first, last}};
  while (!todo.empty()) {
    auto [a, b] = todo.back();
    todo.pop_back();
    double worst = -1;
    size_t at = a;
    for (size_t i = a + 1; i < b; ++i) {
      const double d = SegmentDistance(pts[i], pts[a], pts[b]);
      if (d > worst) worst = d, at = i;
    }
    if (worst > tolerance) {
      (*keep)[at] = true;
      todo.push_back({a, at});
      todo.push_back({at, b});
    }
  }
}

// The larger side of the ring's bounding box, in degrees.
double Extent(const std::vector<geo::Point>& ring) {
  if (ring.empty()) return 0;
  double w = ring[0].lng, e = w, s = ring[0].lat, n = s;
  for (const auto& p : ring)
    w = std::min(w, p.lng), e = std::max(e, p.lng), s = std::min(s, p.lat), n = std::max(n, p.lat);
  return std::max(e - w, n - s);
}

// Decimal places that resolve `tolerance`.
int DigitsFor(double tolerance) { return std::clamp(static_cast<int>(std::ceil(-std::log10(tolerance))) + 1, 1, 7); }

void AppendRing(const std::vector<geo::Point>& ring, int digits, std::string* out) {
  char buf[64];
  out->push_back('[');
  for (size_t i = 0; i <= ring.size(); ++i) {
    const geo::Point& p = ring[i % ring.size()];  // closed: the first point again
    std::snprintf(buf, sizeof buf, "%s[%.*f,%.*f]", i ? "," : "", digits, p.lng, digits, p.lat);
    out->append(buf);
  }
  out->push_back(']');
}

}  // namespace

double ToleranceForZoom(int zoom) { return 360.0 / (256.0 * std::ldexp(1.0, zoom)) / 2; }

std::vector<geo::Point> SimplifyRing(const std::vector<geo::Point>& input, double tolerance) {
  if (input.size() <= 3) return input;
  // Start at the lowest of the westmost points: a corner of the convex hull,
  // so always worth keeping (a merged outline may start half-way along an edge).
  const auto corner = std::min_element(input.begin(), input.end(), [](geo::Point a, geo::Point b) {
    return a.lng < b.lng || (a.lng == b.lng && a.lat < b.lat);
  });
  std::vector<geo::Point> ring(corner, input.end());
  ring.insert(ring.end(), input.begin(), corner);
  // Split the ring at its first point and the point farthest from it.
  size_t far = 0;
  double best = -1;
  for (size_t i = 1; i < ring.size(); ++i) {
    const double d = std::hypot(ring[i].lng - ring[0].lng, ring[i].lat - ring[0].lat);
    if (d > best) best = d, far = i;
  }
  std::vector<geo::Point> closed(ring);
  closed.push_back(ring[0]);
  std::vector<bool> keep(closed.size(), false);
  keep[0] = keep[far] = keep[closed.size() - 1] = true;
  Mark(closed, 0, far, tolerance, &keep);
  Mark(closed, far, closed.size() - 1, tolerance, &keep);
  std::vector<geo::Point> out;
  for (size_t i = 0; i + 1 < closed.size(); ++i) {
    if (keep[i]) out.push_back(closed[i]);
  }
  // Keep a triangle: the two kept points and the one farthest from them.
  if (out.size() < 3) {
    size_t third = 1;
    double worst = -1;
    for (size_t i = 1; i < ring.size(); ++i) {
      if (i == far) continue;
      const double d = SegmentDistance(ring[i], ring[0], ring[far]);
      if (d > worst) worst = d, third = i;
    }
    out = {ring[0]};
    for (size_t i : {std::min(third, far), std::max(third, far)}) out.push_back(ring[i]);
  }
  return out;
}

namespace {

struct GridOf {
  std::string child;  // the child of the unit shown it lies in
  std::string name;
  geo::MultiPolygon shape;
};

// Every grid with a boundary at or below `unit`, depth first.
std::vector<GridOf> GridsBelow(const Directory& directory, std::string_view unit) {
  std::vector<GridOf> grids;
  std::vector<std::pair<UnitRef, std::string>> todo;  // (unit, the child of `unit` it lies in)
  if (const UnitRef root = directory.FindUnit(unit)) todo.push_back({root, ""});
  while (!todo.empty()) {
    auto [u, child] = todo.back();
    todo.pop_back();
    const std::string code(u.code());
    for (const auto k : directory.Children(code))
      todo.push_back({*k, child.empty() ? std::string((*k).code()) : child});
    if (u.level() != grid::v1::UNIT_LEVEL_GRID) continue;
    if (auto shape = directory.GridShape(code))
      grids.push_back({child.empty() ? code : child, std::string(u.name()), std::move(*shape)});
  }
  return grids;
}

// Whether a typical grid is too small to see at `tolerance` (half a pixel).
bool GridsTooSmall(const std::vector<GridOf>& grids, double tolerance) {
  if (grids.empty()) return false;
  std::vector<double> sides;
  sides.reserve(grids.size());
  for (const auto& g : grids) {
    const geo::Box& b = g.shape.bbox;
    sides.push_back(std::max(b.max_lng - b.min_lng, b.max_lat - b.min_lat));
  }
  std::nth_element(sides.begin(), sides.begin() + sides.size() / 2, sides.end());
  return sides[sides.size() / 2] / (2 * tolerance) < kMinGridPixels;
}

// A GEOS context for one union; finished when it goes.
class Geos {
 public:
  Geos() : ctx_(GEOS_init_r()) {}
  ~Geos() { GEOS_finish_r(ctx_); }
  Geos(const Geos&) = delete;
  Geos& operator=(const Geos&) = delete;

  // The union of `parts`, its coordinates snapped to `grid_size`; nullopt
  // when GEOS fails (the caller then draws the grids).
  std::optional<geo::MultiPolygon> Union(const std::vector<const geo::MultiPolygon*>& parts, double grid_size) {
    // The vertices rounded to the grid first, so that neighbours' shared
    // vertices coincide exactly; snap-rounding (slow) only if the floating
    // point union fails.
    snap_ = grid_size;
    std::vector<GEOSGeometry*> polygons;
    for (const auto* part : parts) {
      for (const auto& polygon : part->polygons) {
        if (GEOSGeometry* g = MakePolygon(polygon)) polygons.push_back(g);
      }
    }
    GEOSGeometry* all = GEOSGeom_createCollection_r(ctx_, GEOS_GEOMETRYCOLLECTION, polygons.data(),
                                                    static_cast<unsigned>(polygons.size()));
    if (all == nullptr) {
      for (auto* g : polygons) GEOSGeom_destroy_r(ctx_, g);
      return std::nullopt;
    }
    // Grids that tile exactly (every shared edge has the same vertices on
    // both sides) merge by dropping the shared edges: the coverage union,
    // linear. Otherwise (gaps, overlaps, a vertex on one side only) its
    // result is invalid, and the general union does it.
    GEOSGeometry* merged = GEOSCoverageUnion_r(ctx_, all);
    if (merged != nullptr && GEOSisValid_r(ctx_, merged) != 1) {
      GEOSGeom_destroy_r(ctx_, merged);
      merged = nullptr;
    }
    if (merged == nullptr) merged = GEOSUnaryUnion_r(ctx_, all);
    if (merged == nullptr) merged = GEOSUnaryUnionPrec_r(ctx_, all, grid_size);
    GEOSGeom_destroy_r(ctx_, all);
    if (merged == nullptr) return std::nullopt;
    geo::MultiPolygon out;
    const int n = GEOSGetNumGeometries_r(ctx_, merged);
    for (int i = 0; i < n; ++i) {
      const GEOSGeometry* p = GEOSGetGeometryN_r(ctx_, merged, i);
      if (GEOSGeomTypeId_r(ctx_, p) != GEOS_POLYGON) continue;
      geo::Polygon polygon;
      polygon.rings.push_back(ReadRing(GEOSGetExteriorRing_r(ctx_, p)));
      const int holes = GEOSGetNumInteriorRings_r(ctx_, p);
      for (int h = 0; h < holes; ++h) polygon.rings.push_back(ReadRing(GEOSGetInteriorRingN_r(ctx_, p, h)));
      if (polygon.rings[0].points.size() >= 3) out.polygons.push_back(std::move(polygon));
    }
    GEOSGeom_destroy_r(ctx_, merged);
    if (out.polygons.empty()) return std::nullopt;
    return out;
  }

 private:
  GEOSGeometry* MakeRing(const geo::Ring& ring) {
    const auto n = static_cast<unsigned>(ring.points.size());
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(ctx_, n + 1, 2);
    if (seq == nullptr) return nullptr;
    for (unsigned i = 0; i <= n; ++i) {
      const geo::Point& p = ring.points[i % n];
      GEOSCoordSeq_setXY_r(ctx_, seq, i, std::round(p.lng / snap_) * snap_, std::round(p.lat / snap_) * snap_);
    }
    return GEOSGeom_createLinearRing_r(ctx_, seq);  // owns seq, also on failure
  }

  GEOSGeometry* MakePolygon(const geo::Polygon& polygon) {
    if (polygon.rings.empty() || polygon.rings[0].points.size() < 3) return nullptr;
    GEOSGeometry* shell = MakeRing(polygon.rings[0]);
    if (shell == nullptr) return nullptr;
    std::vector<GEOSGeometry*> holes;
    for (size_t i = 1; i < polygon.rings.size(); ++i) {
      if (polygon.rings[i].points.size() < 3) continue;
      if (GEOSGeometry* h = MakeRing(polygon.rings[i])) holes.push_back(h);
    }
    return GEOSGeom_createPolygon_r(ctx_, shell, holes.data(), static_cast<unsigned>(holes.size()));
  }

  geo::Ring ReadRing(const GEOSGeometry* ring) {
    geo::Ring out;
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(ctx_, ring);
    unsigned n = 0;
    if (seq == nullptr || !GEOSCoordSeq_getSize_r(ctx_, seq, &n)) return out;
    for (unsigned i = 0; i + 1 < n; ++i) {  // without the closing point
      geo::Point p;
      GEOSCoordSeq_getXY_r(ctx_, seq, i, &p.lng, &p.lat);
      out.points.push_back(p);
    }
    return out;
  }

  GEOSContextHandle_t ctx_;
  double snap_ = 1e-7;  // the grid the input vertices are rounded to
};

void AppendFeature(const std::string& child, const std::string& name, const geo::MultiPolygon& shape, double tolerance,
                   int digits, MapShapes* shapes) {
  std::string& out = shapes->geojson;
  if (shapes->features++ > 0) out.push_back(',');
  out += R"({"type":"Feature","properties":)";
  out += nlohmann::json{{"child", child}, {"name", name}}.dump();
  out += R"(,"geometry":{"type":"MultiPolygon","coordinates":[)";
  bool first_polygon = true;
  for (const auto& polygon : shape.polygons) {
    out += first_polygon ? "[" : ",[";
    first_polygon = false;
    bool first_ring = true;
    for (const auto& ring : polygon.rings) {
      shapes->points_in += ring.points.size();
      if (!first_ring && Extent(ring.points) < tolerance) continue;  // a hole smaller than a pixel
      auto kept = SimplifyRing(ring.points, tolerance);
      if (kept.size() < 3) continue;
      shapes->points_out += kept.size();
      if (!first_ring) out.push_back(',');
      first_ring = false;
      AppendRing(kept, digits, &out);
    }
    out.push_back(']');
  }
  out += "]}}";
}

// One feature per child of `unit`: its own boundary, else its grids merged.
// False when a union fails.
bool AppendChildren(const Directory& directory, std::string_view unit, const std::vector<GridOf>& grids,
                    double tolerance, int digits, MapShapes* shapes) {
  std::map<std::string, std::vector<const geo::MultiPolygon*>, std::less<>> parts;
  for (const auto& g : grids) parts[g.child].push_back(&g.shape);
  Geos geos;
  for (const auto k : directory.Children(unit)) {
    const std::string code((*k).code());
    const std::string name((*k).name());
    if (const geo::MultiPolygon* own = directory.AreaShape(code)) {
      AppendFeature(code, name, *own, tolerance, digits, shapes);
      continue;
    }
    const auto it = parts.find(code);
    if (it == parts.end()) continue;
    if (it->second.size() == 1) {
      AppendFeature(code, name, *it->second[0], tolerance, digits, shapes);
      continue;
    }
    // Snapped to a power of ten, as the coordinates are then rounded.
    auto merged = geos.Union(it->second, std::pow(10.0, std::floor(std::log10(tolerance / 4))));
    if (!merged) return false;
    AppendFeature(code, name, *merged, tolerance, digits, shapes);
  }
  return true;
}

}  // namespace

MapShapes GridShapes(const Directory& directory, std::string_view unit, int zoom, std::optional<Outline> outline) {
  const double tolerance = ToleranceForZoom(zoom);
  const int digits = DigitsFor(tolerance);
  const std::vector<GridOf> grids = GridsBelow(directory, unit);
  const UnitRef root = directory.FindUnit(unit);
  const bool above_community =
      root && root.level() != grid::v1::UNIT_LEVEL_COMMUNITY && root.level() != grid::v1::UNIT_LEVEL_GRID;
  if (!outline) outline = above_community && GridsTooSmall(grids, tolerance) ? Outline::kChildren : Outline::kGrids;
  MapShapes shapes;
  shapes.grids = grids.size();
  auto head = [&](Outline o) {
    shapes.outline = o;
    shapes.features = shapes.points_in = shapes.points_out = 0;
    shapes.geojson = std::string(R"({"type":"FeatureCollection","outline":")") +
                     (o == Outline::kChildren ? "children" : "grids") + R"(","grids":)" + std::to_string(grids.size()) +
                     R"(,"features":[)";
  };
  head(*outline);
  if (*outline == Outline::kChildren && !AppendChildren(directory, unit, grids, tolerance, digits, &shapes)) {
    head(Outline::kGrids);
  }
  if (shapes.outline == Outline::kGrids) {
    for (const auto& g : grids) AppendFeature(g.child, g.name, g.shape, tolerance, digits, &shapes);
  }
  shapes.geojson += "]}";
  return shapes;
}

}  // namespace grid::services::dashboard
