// Tests for engine/coordinates: the published GCJ-02 reference pairs (the
// test vectors of eviltransform, go/transform_test.go), a published BD-09
// pair, round trips over a lattice across China, the identity outside
// China, and the router naming the system and the converted point.
//
// Thread-safety: single-threaded tests.
#include "engine/coordinates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "engine/directory.h"
#include "engine/geo.h"
#include "engine/router.h"
#include "engine/validation.h"

namespace grid {
namespace {

struct Pair {
  const char* where;
  double wgs_lat, wgs_lng, gcj_lat, gcj_lng;
};

// wgsLat, wgsLng, gcjLat, gcjLng as published.
constexpr Pair kPairs[] = {
    {"Shanghai", 31.1774276, 121.5272106, 31.17530398364597, 121.531541859215},
    {"Shenzhen", 22.543847, 113.912316, 22.540796131694766, 113.9171764808363},
    {"Beijing", 39.911954, 116.377817, 39.91334545536069, 116.38404722455657},
};

TEST(Coordinates, Wgs84ToGcj02MatchesThePublishedPairs) {
  for (const Pair& p : kPairs) {
    SCOPED_TRACE(p.where);
    const geo::Point g = coords::Wgs84ToGcj02(geo::Point{p.wgs_lng, p.wgs_lat});
    EXPECT_NEAR(g.lat, p.gcj_lat, 1e-9);
    EXPECT_NEAR(g.lng, p.gcj_lng, 1e-9);
  }
}

TEST(Coordinates, Gcj02ToWgs84IsWithinAMetreOfThePublishedPairs) {
  for (const Pair& p : kPairs) {
    SCOPED_TRACE(p.where);
    const geo::Point w = coords::Gcj02ToWgs84(geo::Point{p.gcj_lng, p.gcj_lat});
    EXPECT_LT(geo::DistanceMeters(w, geo::Point{p.wgs_lng, p.wgs_lat}), 0.01);
    // The offset itself is hundreds of metres.
    EXPECT_GT(geo::DistanceMeters(geo::Point{p.gcj_lng, p.gcj_lat}, geo::Point{p.wgs_lng, p.wgs_lat}), 300.0);
  }
}

TEST(Coordinates, Bd09IsWithinTenMetresOfAPublishedPair) {
  // bdLat, bdLng -> wgsLat, wgsLng, a published pair (eviltransform's tests,
  // Jinhua). Neither eviltransform's own formula nor ours reproduces it
  // exactly: it was not made with the public formula. The public BD-09
  // formula is within about 10 m of it, which is the formula's known
  // agreement with Baidu's own conversion.
  const geo::Point w = coords::ToWgs84(geo::Point{120.019809, 29.199786}, grid::v1::COORDINATE_SYSTEM_BD09);
  const double m = geo::DistanceMeters(w, geo::Point{120.00877901149691, 29.196131605295484});
  EXPECT_LT(m, 12.0);
  // The BD-09 offset itself is over 1 km here.
  EXPECT_GT(geo::DistanceMeters(w, geo::Point{120.019809, 29.199786}), 1000.0);
}

TEST(Coordinates, RoundTripsAcrossChina) {
  double worst_gcj = 0, worst_bd = 0;
  for (double lat = 18.0; lat <= 53.0; lat += 0.7) {
    for (double lng = 74.0; lng <= 134.0; lng += 0.9) {
      const geo::Point w{lng, lat};
      for (auto system : {grid::v1::COORDINATE_SYSTEM_GCJ02, grid::v1::COORDINATE_SYSTEM_BD09}) {
        const geo::Point there = coords::FromWgs84(w, system);
        const geo::Point back = coords::ToWgs84(there, system);
        const double m = geo::DistanceMeters(w, back);
        (system == grid::v1::COORDINATE_SYSTEM_GCJ02 ? worst_gcj : worst_bd) =
            std::max(system == grid::v1::COORDINATE_SYSTEM_GCJ02 ? worst_gcj : worst_bd, m);
        EXPECT_GT(geo::DistanceMeters(w, there), 1.0) << lng << "," << lat;  // it moved
      }
    }
  }
  EXPECT_LT(worst_gcj, 0.01);  // metres
  EXPECT_LT(worst_bd, 0.01);
}

TEST(Coordinates, NoShiftOutsideChina) {
  for (geo::Point p : {geo::Point{-118.25, 34.05}, geo::Point{139.767125, 35.681236}, geo::Point{2.35, 48.85},
                       geo::Point{153.0251, -27.4698}}) {
    EXPECT_TRUE(coords::OutsideChina(p));
    const geo::Point g = coords::Wgs84ToGcj02(p);
    EXPECT_EQ(g.lng, p.lng);
    EXPECT_EQ(g.lat, p.lat);
    const geo::Point w = coords::ToWgs84(p, grid::v1::COORDINATE_SYSTEM_GCJ02);
    EXPECT_EQ(w.lng, p.lng);
    EXPECT_EQ(w.lat, p.lat);
  }
  EXPECT_FALSE(coords::OutsideChina(geo::Point{110.0, 19.7}));
}

TEST(Coordinates, Cgcs2000AndWgs84AreTheIdentity) {
  const geo::Point p{110.018842, 19.718341};
  for (auto system : {grid::v1::COORDINATE_SYSTEM_WGS84, grid::v1::COORDINATE_SYSTEM_CGCS2000}) {
    const geo::Point w = coords::ToWgs84(p, system);
    EXPECT_EQ(w.lng, p.lng);
    EXPECT_EQ(w.lat, p.lat);
  }
  EXPECT_EQ(coords::SystemName(grid::v1::COORDINATE_SYSTEM_GCJ02), "GCJ-02");
  EXPECT_EQ(coords::SystemName(grid::v1::COORDINATE_SYSTEM_BD09), "BD-09");
}

TEST(Coordinates, AnUnknownSystemIsRefused) {
  grid::v1::LatLng p;
  p.set_lat(19.7);
  p.set_lng(110.0);
  p.set_coordinate_system(static_cast<grid::v1::CoordinateSystem>(9));
  const Status s = ValidateLocation(p);
  EXPECT_EQ(s.reason(), "UNKNOWN_COORDINATE_SYSTEM");
  EXPECT_NE(s.message().find("coordinate_system 9"), std::string::npos) << s.ToString();
  p.set_coordinate_system(grid::v1::COORDINATE_SYSTEM_BD09);
  EXPECT_TRUE(ValidateLocation(p).ok());
}

// One grid drawn in WGS-84 around a WGS-84 point in Chengmai; the point as a
// phone's map app reports it (GCJ-02, BD-09) routes to the same grid, and
// the explanation names the system, the point as given and the converted one.
TEST(Coordinates, TheRouterConvertsAndExplains) {
  const geo::Point wgs{110.018842, 19.718341};
  grid::v1::DirectoryContent c;
  auto* county = c.add_units();
  county->set_code("469023");
  county->set_level(grid::v1::UNIT_LEVEL_COUNTY);
  county->set_name("澄迈县");
  auto* town = c.add_units();
  town->set_code("469023100");
  town->set_level(grid::v1::UNIT_LEVEL_TOWN);
  town->set_name("金江镇");
  town->set_parent_code("469023");
  auto* community = c.add_units();
  community->set_code("469023100008");
  community->set_level(grid::v1::UNIT_LEVEL_COMMUNITY);
  community->set_name("光明社区");
  community->set_parent_code("469023100");
  auto* g = c.add_units();
  g->set_code("g1");
  g->set_level(grid::v1::UNIT_LEVEL_GRID);
  g->set_name("第1网格");
  g->set_parent_code("469023100008");
  auto* ring = g->mutable_boundary()->add_polygons()->add_rings();
  for (auto [dx, dy] : {std::pair{-1, -1}, {1, -1}, {1, 1}, {-1, 1}}) {
    ring->add_lng(wgs.lng + dx * 0.001);  // about 100 m each way: the GCJ-02 offset is 5 times that
    ring->add_lat(wgs.lat + dy * 0.001);
  }
  auto* cat = c.add_categories();
  cat->set_code("general");
  cat->set_name("General");
  cat->set_handling(grid::v1::HANDLING_GRID);
  auto dir = Directory::Build(c, 1);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  Router router(RouterOptions{.nearest_grid_max_meters = 0, .triage_unit = "469023"});

  const geo::Point gcj = coords::Wgs84ToGcj02(wgs);
  auto d = router.Route(
      **dir, RouteInput{.category = "general", .location = gcj, .location_system = grid::v1::COORDINATE_SYSTEM_GCJ02});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->unit_code(), "g1");
  EXPECT_EQ(d->method(), grid::v1::ROUTING_METHOD_LOCATION);
  char expected[160];
  std::snprintf(expected, sizeof expected, "point GCJ-02 (%.6f, %.6f) = WGS-84 (%.6f, %.6f) lies in", gcj.lat, gcj.lng,
                wgs.lat, wgs.lng);
  EXPECT_NE(d->explanation().find(expected), std::string::npos) << d->explanation() << "\n" << expected;

  const geo::Point bd = coords::FromWgs84(wgs, grid::v1::COORDINATE_SYSTEM_BD09);
  auto b = router.Route(
      **dir, RouteInput{.category = "general", .location = bd, .location_system = grid::v1::COORDINATE_SYSTEM_BD09});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->unit_code(), "g1");
  EXPECT_NE(b->explanation().find("point BD-09 ("), std::string::npos) << b->explanation();

  // The GCJ-02 numbers taken as WGS-84 miss the grid by hundreds of metres.
  auto wrong = router.Route(**dir, RouteInput{.category = "general", .location = gcj});
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(wrong->method(), grid::v1::ROUTING_METHOD_LOCATION);
}

}  // namespace
}  // namespace grid
