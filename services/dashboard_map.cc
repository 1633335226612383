// The dashboard's map shapes (see dashboard_map.h).
#include "services/dashboard_map.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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

std::vector<geo::Point> SimplifyRing(const std::vector<geo::Point>& ring, double tolerance) {
  if (ring.size() <= 3) return ring;
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

MapShapes GridShapes(const Directory& directory, std::string_view unit, int zoom) {
  const double tolerance = ToleranceForZoom(zoom);
  const int digits = DigitsFor(tolerance);
  MapShapes shapes;
  std::string& out = shapes.geojson;
  out = R"({"type":"FeatureCollection","features":[)";
  // (unit, the child of `unit` it lies in); depth first.
  std::vector<std::pair<UnitRef, std::string>> todo;
  const UnitRef root = directory.FindUnit(unit);
  if (root) todo.push_back({root, ""});
  while (!todo.empty()) {
    auto [u, child] = todo.back();
    todo.pop_back();
    const std::string code(u.code());
    for (const auto k : directory.Children(code))
      todo.push_back({*k, child.empty() ? std::string((*k).code()) : child});
    if (u.level() != grid::v1::UNIT_LEVEL_GRID) continue;
    auto shape = directory.GridShape(code);
    if (!shape) continue;
    if (shapes.grids++ > 0) out.push_back(',');
    out += R"({"type":"Feature","properties":)";
    out +=
        nlohmann::json{{"code", code}, {"name", std::string(u.name())}, {"child", child.empty() ? code : child}}.dump();
    out += R"(,"geometry":{"type":"MultiPolygon","coordinates":[)";
    bool first_polygon = true;
    for (const auto& polygon : shape->polygons) {
      out += first_polygon ? "[" : ",[";
      first_polygon = false;
      bool first_ring = true;
      for (const auto& ring : polygon.rings) {
        shapes.points_in += ring.points.size();
        if (!first_ring && Extent(ring.points) < tolerance) continue;  // a hole smaller than a pixel
        auto kept = SimplifyRing(ring.points, tolerance);
        if (kept.size() < 3) continue;
        shapes.points_out += kept.size();
        if (!first_ring) out.push_back(',');
        first_ring = false;
        AppendRing(kept, digits, &out);
      }
      out.push_back(']');
    }
    out += "]}}";
  }
  out += "]}";
  return shapes;
}

}  // namespace grid::services::dashboard
