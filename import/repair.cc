// Boundary repair and sibling checks: see repair.h.
//
// Thread-safety: pure functions; each call creates and finishes its own GEOS
// context (GEOS_init_r), so calls may run concurrently.
#include "import/repair.h"

#include <geos_c.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <utility>

#include "engine/geo.h"
#include "engine/reasons.h"

namespace grid {
namespace {

constexpr double kEarthRadiusM = 6371008.8;
constexpr double kDegToRad = 3.14159265358979323846 / 180.0;

// One GEOS context for the duration of a call.
class Geos {
 public:
  Geos() : h_(GEOS_init_r()) {}
  ~Geos() { GEOS_finish_r(h_); }
  Geos(const Geos&) = delete;
  Geos& operator=(const Geos&) = delete;
  GEOSContextHandle_t h() const { return h_; }

  struct Deleter {
    GEOSContextHandle_t h;
    void operator()(GEOSGeometry* g) const {
      if (g != nullptr) GEOSGeom_destroy_r(h, g);
    }
  };
  using Ptr = std::unique_ptr<GEOSGeometry, Deleter>;
  Ptr Own(GEOSGeometry* g) const { return Ptr(g, Deleter{h_}); }

 private:
  GEOSContextHandle_t h_;
};

// A closed GEOS ring from a stored ring (no closing point); nullptr when GEOS
// refuses it (fewer than 3 points).
GEOSGeometry* RingOf(const Geos& geos, const grid::v1::Ring& r) {
  const int n = std::min(r.lng_size(), r.lat_size());
  if (n < 3) return nullptr;
  GEOSCoordSequence* seq = GEOSCoordSeq_create_r(geos.h(), static_cast<unsigned>(n + 1), 2);
  if (seq == nullptr) return nullptr;
  for (int k = 0; k <= n; ++k)
    GEOSCoordSeq_setXY_r(geos.h(), seq, static_cast<unsigned>(k), r.lng(k % n), r.lat(k % n));
  return GEOSGeom_createLinearRing_r(geos.h(), seq);  // takes the sequence, even on failure
}

// A MultiPolygon from a boundary; nullptr when a ring cannot be built.
Geos::Ptr GeometryOf(const Geos& geos, const grid::v1::Boundary& b) {
  std::vector<GEOSGeometry*> polygons;
  auto release = [&] {
    for (GEOSGeometry* g : polygons) GEOSGeom_destroy_r(geos.h(), g);
  };
  for (const auto& p : b.polygons()) {
    if (p.rings_size() == 0) continue;
    GEOSGeometry* shell = RingOf(geos, p.rings(0));
    if (shell == nullptr) {
      release();
      return geos.Own(nullptr);
    }
    std::vector<GEOSGeometry*> holes;
    bool ok = true;
    for (int i = 1; i < p.rings_size(); ++i) {
      GEOSGeometry* hole = RingOf(geos, p.rings(i));
      if (hole == nullptr) {
        ok = false;
        break;
      }
      holes.push_back(hole);
    }
    if (!ok) {
      GEOSGeom_destroy_r(geos.h(), shell);
      for (GEOSGeometry* g : holes) GEOSGeom_destroy_r(geos.h(), g);
      release();
      return geos.Own(nullptr);
    }
    GEOSGeometry* polygon =
        GEOSGeom_createPolygon_r(geos.h(), shell, holes.data(), static_cast<unsigned>(holes.size()));
    if (polygon == nullptr) {
      release();
      return geos.Own(nullptr);
    }
    polygons.push_back(polygon);
  }
  GEOSGeometry* multi =
      GEOSGeom_createCollection_r(geos.h(), GEOS_MULTIPOLYGON, polygons.data(), static_cast<unsigned>(polygons.size()));
  if (multi == nullptr) release();
  return geos.Own(multi);
}

void AddRing(const Geos& geos, const GEOSGeometry* ring, grid::v1::Polygon* out) {
  const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(geos.h(), ring);
  unsigned n = 0;
  if (seq == nullptr || GEOSCoordSeq_getSize_r(geos.h(), seq, &n) == 0 || n == 0) return;
  auto* r = out->add_rings();
  for (unsigned k = 0; k + 1 < n; ++k) {  // the closing point is not stored
    double x = 0, y = 0;
    GEOSCoordSeq_getXY_r(geos.h(), seq, k, &x, &y);
    r->add_lng(x);
    r->add_lat(y);
  }
}

// The polygons of `g` (of any nesting of collections) into `out`; every part
// of lower dimension is counted in *dropped.
void CollectPolygons(const Geos& geos, const GEOSGeometry* g, grid::v1::Boundary* out, int* dropped) {
  const int type = GEOSGeomTypeId_r(geos.h(), g);
  if (type == GEOS_POLYGON) {
    if (GEOSisEmpty_r(geos.h(), g) == 1) return;
    auto* p = out->add_polygons();
    AddRing(geos, GEOSGetExteriorRing_r(geos.h(), g), p);
    const int holes = GEOSGetNumInteriorRings_r(geos.h(), g);
    for (int i = 0; i < holes; ++i) AddRing(geos, GEOSGetInteriorRingN_r(geos.h(), g, i), p);
    return;
  }
  if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
    const int n = GEOSGetNumGeometries_r(geos.h(), g);
    for (int i = 0; i < n; ++i) CollectPolygons(geos, GEOSGetGeometryN_r(geos.h(), g, i), out, dropped);
    return;
  }
  if (GEOSisEmpty_r(geos.h(), g) != 1) {
    *dropped += type == GEOS_MULTILINESTRING || type == GEOS_MULTIPOINT ? GEOSGetNumGeometries_r(geos.h(), g) : 1;
  }
}

// Signed shoelace area of a ring in the sinusoidal projection about `lng0`.
double RingAreaM2(const grid::v1::Ring& r, double lng0) {
  const int n = std::min(r.lng_size(), r.lat_size());
  double twice = 0;
  for (int k = 0; k < n; ++k) {
    const int j = (k + 1) % n;
    const double x1 = (r.lng(k) - lng0) * kDegToRad * std::cos(r.lat(k) * kDegToRad);
    const double y1 = r.lat(k) * kDegToRad;
    const double x2 = (r.lng(j) - lng0) * kDegToRad * std::cos(r.lat(j) * kDegToRad);
    const double y2 = r.lat(j) * kDegToRad;
    twice += x1 * y2 - x2 * y1;
  }
  return twice / 2 * kEarthRadiusM * kEarthRadiusM;
}

std::string Thousands(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string digits = buf, out;
  const bool neg = !digits.empty() && digits[0] == '-';
  if (neg) digits.erase(0, 1);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return (neg ? "-" : "") + out;
}

}  // namespace

double BoundaryAreaM2(const grid::v1::Boundary& b) {
  double lng0 = 0;
  for (const auto& p : b.polygons()) {
    if (p.rings_size() > 0 && p.rings(0).lng_size() > 0) {
      lng0 = p.rings(0).lng(0);
      break;
    }
  }
  double area = 0;
  for (const auto& p : b.polygons()) {
    for (int i = 0; i < p.rings_size(); ++i) {
      const double a = std::fabs(RingAreaM2(p.rings(i), lng0));
      area += i == 0 ? a : -a;
    }
  }
  return area;
}

std::string BoundaryRepair::ToString() const {
  std::string s = feature + ": repaired (" + why + "): area " + Thousands(area_before_m2) + " m² -> " +
                  Thousands(area_after_m2) + " m²";
  if (area_before_m2 > 0) {
    char pct[32];
    std::snprintf(pct, sizeof pct, " (%+.2f%%)", 100.0 * (area_after_m2 - area_before_m2) / area_before_m2);
    s += pct;
  }
  s += ", polygons " + std::to_string(polygons_before) + " -> " + std::to_string(polygons_after) + ", " +
       std::to_string(parts_dropped) + " part(s) dropped";
  return s;
}

StatusOr<grid::v1::Boundary> RepairBoundary(const grid::v1::Boundary& boundary, BoundaryRepair* report) {
  Geos geos;
  report->area_before_m2 = BoundaryAreaM2(boundary);
  report->polygons_before = boundary.polygons_size();
  Geos::Ptr input = GeometryOf(geos, boundary);
  if (!input) {
    return Error(reason::UNREPAIRABLE_GEOMETRY, "GEOS cannot build its rings (a ring of fewer than 3 points)");
  }
  Geos::Ptr valid = geos.Own(GEOSMakeValid_r(geos.h(), input.get()));
  if (!valid) return Error(reason::UNREPAIRABLE_GEOMETRY, "GEOS make-valid failed");
  grid::v1::Boundary out;
  int dropped = 0;
  CollectPolygons(geos, valid.get(), &out, &dropped);
  report->parts_dropped = dropped;
  report->polygons_after = out.polygons_size();
  report->area_after_m2 = BoundaryAreaM2(out);
  if (out.polygons_size() == 0) {
    return Error(reason::UNREPAIRABLE_GEOMETRY, "make-valid leaves no polygon (the rings collapse to " +
                                                    std::to_string(dropped) + " line(s) or point(s))");
  }
  if (auto shape = geo::FromProto(out); !shape.ok()) {
    return Error(reason::UNREPAIRABLE_GEOMETRY, "the repaired boundary is still refused: " + shape.status().ToString());
  }
  return out;
}

std::string SiblingIssue::ToString() const {
  const std::string where = pieces == 1 ? " in 1 piece" : " in " + std::to_string(pieces) + " pieces";
  if (kind == Kind::kOverlap) {
    return "overlap: " + a + " and " + b + " (parent " + parent + ") share " + Thousands(area_m2) + " m²" + where;
  }
  return "gap: inside " + parent + ", " + Thousands(area_m2) + " m²" + where + " covered by no unit";
}

std::vector<SiblingIssue> CheckSiblings(const grid::v1::DirectoryContent& content, double min_area_m2) {
  Geos geos;
  struct Member {
    const grid::v1::Unit* unit;
    Geos::Ptr shape;
    double min_x, min_y, max_x, max_y;
  };
  std::map<std::string, const grid::v1::Unit*> by_code;
  std::map<std::string, std::vector<Member>> children;  // parent -> units with a boundary
  for (const auto& u : content.units()) {
    by_code[u.code()] = &u;
    if (u.boundary().polygons_size() == 0 || u.parent_code().empty()) continue;
    Geos::Ptr g = GeometryOf(geos, u.boundary());
    if (!g) continue;
    Member m{&u, std::move(g), 0, 0, 0, 0};
    GEOSGeom_getXMin_r(geos.h(), m.shape.get(), &m.min_x);
    GEOSGeom_getYMin_r(geos.h(), m.shape.get(), &m.min_y);
    GEOSGeom_getXMax_r(geos.h(), m.shape.get(), &m.max_x);
    GEOSGeom_getYMax_r(geos.h(), m.shape.get(), &m.max_y);
    children[u.parent_code()].push_back(std::move(m));
  }
  std::vector<SiblingIssue> out;
  auto measure = [&](const GEOSGeometry* g, SiblingIssue issue) {
    grid::v1::Boundary b;
    int dropped = 0;
    CollectPolygons(geos, g, &b, &dropped);
    issue.area_m2 = BoundaryAreaM2(b);
    issue.pieces = b.polygons_size();
    if (issue.area_m2 >= min_area_m2) out.push_back(std::move(issue));
  };
  for (auto& [parent, members] : children) {
    // Overlaps: every pair whose boxes meet.
    for (size_t i = 0; i < members.size(); ++i) {
      for (size_t j = i + 1; j < members.size(); ++j) {
        const Member& a = members[i];
        const Member& b = members[j];
        if (a.max_x < b.min_x || b.max_x < a.min_x || a.max_y < b.min_y || b.max_y < a.min_y) continue;
        Geos::Ptr both = geos.Own(GEOSIntersection_r(geos.h(), a.shape.get(), b.shape.get()));
        if (!both) continue;
        measure(both.get(), SiblingIssue{SiblingIssue::Kind::kOverlap, parent, a.unit->code(), b.unit->code(), 0, 0});
      }
    }
    // Gaps: the parent's boundary minus the union, or the union's holes.
    std::vector<GEOSGeometry*> parts;
    for (const Member& m : members) parts.push_back(GEOSGeom_clone_r(geos.h(), m.shape.get()));
    Geos::Ptr all = geos.Own(GEOSGeom_createCollection_r(geos.h(), GEOS_GEOMETRYCOLLECTION, parts.data(),
                                                         static_cast<unsigned>(parts.size())));
    if (!all) continue;
    Geos::Ptr merged = geos.Own(GEOSUnaryUnion_r(geos.h(), all.get()));
    if (!merged) continue;
    const SiblingIssue gap{SiblingIssue::Kind::kGap, parent, "", "", 0, 0};
    auto parent_it = by_code.find(parent);
    if (parent_it != by_code.end() && parent_it->second->boundary().polygons_size() > 0) {
      Geos::Ptr whole = GeometryOf(geos, parent_it->second->boundary());
      if (!whole) continue;
      Geos::Ptr rest = geos.Own(GEOSDifference_r(geos.h(), whole.get(), merged.get()));
      if (rest) measure(rest.get(), gap);
      continue;
    }
    std::vector<GEOSGeometry*> holes;
    const int n = GEOSGetNumGeometries_r(geos.h(), merged.get());
    for (int i = 0; i < n; ++i) {
      const GEOSGeometry* p = GEOSGetGeometryN_r(geos.h(), merged.get(), i);
      if (GEOSGeomTypeId_r(geos.h(), p) != GEOS_POLYGON) continue;
      const int k = GEOSGetNumInteriorRings_r(geos.h(), p);
      for (int r = 0; r < k; ++r) {
        GEOSGeometry* ring = GEOSGeom_clone_r(geos.h(), GEOSGetInteriorRingN_r(geos.h(), p, r));
        GEOSGeometry* hole = ring == nullptr ? nullptr : GEOSGeom_createPolygon_r(geos.h(), ring, nullptr, 0);
        if (hole != nullptr) holes.push_back(hole);
      }
    }
    Geos::Ptr gaps = geos.Own(GEOSGeom_createCollection_r(geos.h(), GEOS_GEOMETRYCOLLECTION, holes.data(),
                                                          static_cast<unsigned>(holes.size())));
    if (gaps) measure(gaps.get(), gap);
  }
  return out;
}

}  // namespace grid
