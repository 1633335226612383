// Coordinate transforms: see coordinates.h. The GCJ-02 formula and the BD-09
// rotation are the published ones (as implemented, for example, by
// eviltransform); the constants are those of the Krasovsky 1940 ellipsoid
// the formula uses.
//
// Thread-safety: pure functions.
#include "engine/coordinates.h"

#include <cmath>
#include <numbers>

namespace grid::coords {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kA = 6378245.0;                // semi-major axis
constexpr double kEe = 0.00669342162296594323;  // first eccentricity squared
constexpr double kXPi = kPi * 3000.0 / 180.0;   // BD-09's rotation constant

double TransformLat(double x, double y) {
  double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::fabs(x));
  r += (20.0 * std::sin(6.0 * x * kPi) + 20.0 * std::sin(2.0 * x * kPi)) * 2.0 / 3.0;
  r += (20.0 * std::sin(y * kPi) + 40.0 * std::sin(y / 3.0 * kPi)) * 2.0 / 3.0;
  r += (160.0 * std::sin(y / 12.0 * kPi) + 320.0 * std::sin(y * kPi / 30.0)) * 2.0 / 3.0;
  return r;
}

double TransformLng(double x, double y) {
  double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::fabs(x));
  r += (20.0 * std::sin(6.0 * x * kPi) + 20.0 * std::sin(2.0 * x * kPi)) * 2.0 / 3.0;
  r += (20.0 * std::sin(x * kPi) + 40.0 * std::sin(x / 3.0 * kPi)) * 2.0 / 3.0;
  r += (150.0 * std::sin(x / 12.0 * kPi) + 300.0 * std::sin(x / 30.0 * kPi)) * 2.0 / 3.0;
  return r;
}

// The GCJ-02 offset at a WGS-84 point (inside China).
geo::Point Offset(geo::Point wgs) {
  const double x = wgs.lng - 105.0, y = wgs.lat - 35.0;
  double d_lat = TransformLat(x, y);
  double d_lng = TransformLng(x, y);
  const double rad_lat = wgs.lat / 180.0 * kPi;
  double magic = std::sin(rad_lat);
  magic = 1 - kEe * magic * magic;
  const double sqrt_magic = std::sqrt(magic);
  d_lat = (d_lat * 180.0) / ((kA * (1 - kEe)) / (magic * sqrt_magic) * kPi);
  d_lng = (d_lng * 180.0) / (kA / sqrt_magic * std::cos(rad_lat) * kPi);
  return geo::Point{d_lng, d_lat};
}

}  // namespace

bool OutsideChina(geo::Point p) { return p.lng < 72.004 || p.lng > 137.8347 || p.lat < 0.8293 || p.lat > 55.8271; }

geo::Point Wgs84ToGcj02(geo::Point wgs) {
  if (OutsideChina(wgs)) return wgs;
  const geo::Point d = Offset(wgs);
  return geo::Point{wgs.lng + d.lng, wgs.lat + d.lat};
}

geo::Point Gcj02ToWgs84(geo::Point gcj) {
  if (OutsideChina(gcj)) return gcj;
  // Fixed-point iteration on the forward transform: the offset changes by
  // well under 1% across its own size, so each step gains two digits.
  geo::Point wgs{gcj.lng - Offset(gcj).lng, gcj.lat - Offset(gcj).lat};
  for (int i = 0; i < 30; ++i) {
    const geo::Point back = Wgs84ToGcj02(wgs);
    const double e_lng = back.lng - gcj.lng, e_lat = back.lat - gcj.lat;
    wgs.lng -= e_lng;
    wgs.lat -= e_lat;
    if (std::fabs(e_lng) < 1e-10 && std::fabs(e_lat) < 1e-10) break;
  }
  return wgs;
}

geo::Point Gcj02ToBd09(geo::Point gcj) {
  const double x = gcj.lng, y = gcj.lat;
  const double z = std::sqrt(x * x + y * y) + 0.00002 * std::sin(y * kXPi);
  const double theta = std::atan2(y, x) + 0.000003 * std::cos(x * kXPi);
  return geo::Point{z * std::cos(theta) + 0.0065, z * std::sin(theta) + 0.006};
}

geo::Point Bd09ToGcj02(geo::Point bd) {
  // The published inverse, then refined against the forward formula (the
  // published inverse alone is off by up to ~0.15 m).
  const double x = bd.lng - 0.0065, y = bd.lat - 0.006;
  const double z = std::sqrt(x * x + y * y) - 0.00002 * std::sin(y * kXPi);
  const double theta = std::atan2(y, x) - 0.000003 * std::cos(x * kXPi);
  geo::Point gcj{z * std::cos(theta), z * std::sin(theta)};
  for (int i = 0; i < 10; ++i) {
    const geo::Point back = Gcj02ToBd09(gcj);
    const double e_lng = back.lng - bd.lng, e_lat = back.lat - bd.lat;
    gcj.lng -= e_lng;
    gcj.lat -= e_lat;
    if (std::fabs(e_lng) < 1e-10 && std::fabs(e_lat) < 1e-10) break;
  }
  return gcj;
}

geo::Point ToWgs84(geo::Point p, grid::v1::CoordinateSystem system) {
  switch (system) {
    case grid::v1::COORDINATE_SYSTEM_GCJ02: return Gcj02ToWgs84(p);
    case grid::v1::COORDINATE_SYSTEM_BD09: return Gcj02ToWgs84(Bd09ToGcj02(p));
    default: return p;
  }
}

geo::Point FromWgs84(geo::Point wgs, grid::v1::CoordinateSystem system) {
  switch (system) {
    case grid::v1::COORDINATE_SYSTEM_GCJ02: return Wgs84ToGcj02(wgs);
    case grid::v1::COORDINATE_SYSTEM_BD09: return Gcj02ToBd09(Wgs84ToGcj02(wgs));
    default: return wgs;
  }
}

std::string_view SystemName(grid::v1::CoordinateSystem system) {
  switch (system) {
    case grid::v1::COORDINATE_SYSTEM_GCJ02: return "GCJ-02";
    case grid::v1::COORDINATE_SYSTEM_BD09: return "BD-09";
    case grid::v1::COORDINATE_SYSTEM_CGCS2000: return "CGCS2000";
    default: return "WGS-84";
  }
}

}  // namespace grid::coords
