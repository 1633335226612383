// Tests for engine/geo: validation, the half-open containment rule on shared
// edges and vertices, holes, multipolygons, ShapeIndex and distances. The saved
// index files go through storage/posix_files.h (real files in the temp dir).
//
// Thread-safety: single-threaded tests.
#include "engine/geo.h"
#include "engine/geo_internal.h"
#include "storage/posix_files.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace grid::geo {
namespace {

using Coords = std::vector<std::pair<double, double>>;  // (lng, lat)

void AddRing(grid::v1::Polygon* polygon, const Coords& coords) {
  grid::v1::Ring* ring = polygon->add_rings();
  for (const auto& [lng, lat] : coords) {
    ring->add_lng(lng);
    ring->add_lat(lat);
  }
}

// One polygon: outer ring then holes.
grid::v1::Boundary BoundaryOf(const std::vector<Coords>& rings) {
  grid::v1::Boundary b;
  grid::v1::Polygon* p = b.add_polygons();
  for (const Coords& r : rings) AddRing(p, r);
  return b;
}

MultiPolygon Shape(const std::vector<Coords>& rings) {
  StatusOr<MultiPolygon> s = FromProto(BoundaryOf(rings));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : MultiPolygon{};
}

Coords Rect(double min_lng, double min_lat, double max_lng, double max_lat) {
  return {{min_lng, min_lat}, {max_lng, min_lat}, {max_lng, max_lat}, {min_lng, max_lat}};
}

bool In(const MultiPolygon& s, double lng, double lat) { return ContainingPolygon(s, Point{lng, lat}) >= 0; }

// Number of shapes containing p by a linear scan (reference for Locate).
int Owners(const std::vector<MultiPolygon>& shapes, Point p) {
  int n = 0;
  for (const MultiPolygon& s : shapes) n += ContainingPolygon(s, p) >= 0 ? 1 : 0;
  return n;
}

void ExpectInvalid(const grid::v1::Boundary& b, const std::string& reason, const std::string& where) {
  StatusOr<MultiPolygon> s = FromProto(b);
  ASSERT_FALSE(s.ok()) << "expected " << reason;
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().reason(), reason) << s.status().ToString();
  EXPECT_NE(s.status().message().find(where), std::string::npos) << s.status().ToString();
}

// ---------------------------------------------------------------------------
// Containment.

TEST(Geo, SimpleSquare) {
  MultiPolygon s = Shape({Rect(0, 0, 1, 1)});
  EXPECT_TRUE(In(s, 0.5, 0.5));
  EXPECT_TRUE(In(s, 1e-12, 1e-12));
  EXPECT_FALSE(In(s, -0.5, 0.5));
  EXPECT_FALSE(In(s, 1.5, 0.5));
  EXPECT_FALSE(In(s, 0.5, -0.5));
  EXPECT_FALSE(In(s, 0.5, 1.5));
  EXPECT_FALSE(In(s, 2, 2));
  // The rule: west and south edges (and the south-west vertex) are inside,
  // east and north edges (and the other vertices) outside.
  EXPECT_TRUE(In(s, 0, 0.5));
  EXPECT_TRUE(In(s, 0.5, 0));
  EXPECT_TRUE(In(s, 0, 0));
  EXPECT_FALSE(In(s, 1, 0.5));
  EXPECT_FALSE(In(s, 0.5, 1));
  EXPECT_FALSE(In(s, 1, 0));
  EXPECT_FALSE(In(s, 0, 1));
  EXPECT_FALSE(In(s, 1, 1));
  EXPECT_FALSE(In(s, std::nan(""), 0.5));
  EXPECT_EQ(ContainingPolygon(s, Point{0.5, 0.5}), 0);
  EXPECT_EQ(s.bbox.min_lng, 0);
  EXPECT_EQ(s.bbox.max_lat, 1);
}

TEST(Geo, OrientationOfRingDoesNotMatter) {
  Coords cw = Rect(0, 0, 1, 1);
  Coords ccw(cw.rbegin(), cw.rend());
  MultiPolygon a = Shape({cw});
  MultiPolygon b = Shape({ccw});
  for (double lng : {-0.5, 0.0, 0.25, 0.5, 1.0, 1.5}) {
    for (double lat : {-0.5, 0.0, 0.25, 0.5, 1.0, 1.5}) {
      EXPECT_EQ(In(a, lng, lat), In(b, lng, lat)) << lng << "," << lat;
    }
  }
}

TEST(Geo, ConcavePolygon) {
  // A "U": the notch (1,1)-(2,3) is outside.
  MultiPolygon u = Shape({{{0, 0}, {3, 0}, {3, 3}, {2, 3}, {2, 1}, {1, 1}, {1, 3}, {0, 3}}});
  EXPECT_TRUE(In(u, 0.5, 2));
  EXPECT_TRUE(In(u, 2.5, 2));
  EXPECT_TRUE(In(u, 1.5, 0.5));
  EXPECT_FALSE(In(u, 1.5, 2));
  EXPECT_FALSE(In(u, 1.5, 1.5));
  // The ray from (0.5, 1) passes exactly through the notch's bottom vertices.
  EXPECT_TRUE(In(u, 0.5, 1));
  EXPECT_TRUE(In(u, 1.5, 0.999));
  EXPECT_TRUE(In(u, 2, 2));     // west edge of the right arm: inside
  EXPECT_FALSE(In(u, 1, 2));    // east edge of the left arm: outside
  EXPECT_FALSE(In(u, 1.5, 1));  // the notch floor is a horizontal boundary below the notch
}

TEST(Geo, PolygonWithHole) {
  const Coords hole = Rect(1, 1, 2, 2);
  MultiPolygon s = Shape({Rect(0, 0, 3, 3), hole});
  MultiPolygon filler = Shape({hole});
  EXPECT_TRUE(In(s, 0.5, 0.5));
  EXPECT_TRUE(In(s, 2.5, 1.5));
  EXPECT_FALSE(In(s, 1.5, 1.5));  // strictly inside the hole
  EXPECT_FALSE(In(s, 1.01, 1.99));
  // On the hole's edges and vertices: exactly one of the polygon and a polygon
  // that fills the hole exactly.
  std::vector<Point> boundary;
  for (int i = 0; i <= 8; ++i) {
    const double t = 1 + i / 8.0;
    boundary.push_back({t, 1});
    boundary.push_back({t, 2});
    boundary.push_back({1, t});
    boundary.push_back({2, t});
  }
  for (Point p : boundary) {
    const int owners = (ContainingPolygon(s, p) >= 0) + (ContainingPolygon(filler, p) >= 0);
    EXPECT_EQ(owners, 1) << p.lng << "," << p.lat;
    // Same answer every time.
    EXPECT_EQ(ContainingPolygon(s, p), ContainingPolygon(s, p));
  }
  // The hole's west and south edges belong to the filler (it lies east/north).
  EXPECT_TRUE(In(filler, 1, 1.5));
  EXPECT_FALSE(In(s, 1, 1.5));
  EXPECT_TRUE(In(filler, 1.5, 1));
  EXPECT_FALSE(In(s, 1.5, 1));
  // Its east and north edges belong to the polygon with the hole.
  EXPECT_TRUE(In(s, 2, 1.5));
  EXPECT_TRUE(In(s, 1.5, 2));
  EXPECT_FALSE(In(filler, 2, 1.5));
}

TEST(Geo, MultiPolygon) {
  grid::v1::Boundary b;
  AddRing(b.add_polygons(), Rect(0, 0, 1, 1));
  grid::v1::Polygon* second = b.add_polygons();
  AddRing(second, Rect(5, 5, 8, 8));
  AddRing(second, Rect(6, 6, 7, 7));
  StatusOr<MultiPolygon> s = FromProto(b);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->polygons.size(), 2u);
  EXPECT_EQ(ContainingPolygon(*s, {0.5, 0.5}), 0);
  EXPECT_EQ(ContainingPolygon(*s, {5.5, 7.5}), 1);
  EXPECT_EQ(ContainingPolygon(*s, {6.5, 6.5}), -1);  // in the hole
  EXPECT_EQ(ContainingPolygon(*s, {3, 3}), -1);      // between the parts
  EXPECT_EQ(ContainingPolygon(*s, {9, 9}), -1);
  EXPECT_EQ(s->bbox.min_lng, 0);
  EXPECT_EQ(s->bbox.min_lat, 0);
  EXPECT_EQ(s->bbox.max_lng, 8);
  EXPECT_EQ(s->bbox.max_lat, 8);
  EXPECT_EQ(s->polygons[1].bbox.min_lng, 5);
}

TEST(Geo, SquaresSharingAnEdgeHaveExactlyOneOwner) {
  // West/east neighbours sharing x = 110.25; south/north neighbours sharing y = 19.75.
  std::vector<MultiPolygon> shapes = {
      Shape({Rect(110.0, 19.5, 110.25, 19.75)}),  // 0: south-west
      Shape({Rect(110.25, 19.5, 110.5, 19.75)}),  // 1: south-east
      Shape({Rect(110.0, 19.75, 110.25, 20.0)}),  // 2: north-west
      Shape({Rect(110.25, 19.75, 110.5, 20.0)}),  // 3: north-east
  };
  auto owner = [&](Point p) {
    int found = -1, count = 0;
    for (size_t i = 0; i < shapes.size(); ++i) {
      if (ContainingPolygon(shapes[i], p) >= 0) {
        found = static_cast<int>(i);
        ++count;
      }
    }
    EXPECT_EQ(count, 1) << p.lng << "," << p.lat;
    return found;
  };
  for (int i = 0; i <= 16; ++i) {
    const double lat = 19.5 + i / 32.0;  // 19.5 .. 20.0, exact in binary
    const double lng = 110.0 + i / 32.0;
    // On the vertical shared edge: the eastern square owns it (south-east
    // square below 19.75, north-east from 19.75 up, except the top end 20.0).
    if (lat < 20.0) {
      EXPECT_EQ(owner({110.25, lat}), lat < 19.75 ? 1 : 3);
    }
    // On the horizontal shared edge: the northern square owns it.
    if (lng < 110.5) {
      EXPECT_EQ(owner({lng, 19.75}), lng < 110.25 ? 2 : 3);
    }
  }
  // The vertex shared by all four belongs to the north-east square.
  EXPECT_EQ(owner({110.25, 19.75}), 3);
  // Vertices shared by two on the outer boundary.
  EXPECT_EQ(owner({110.25, 19.5}), 1);
  EXPECT_EQ(owner({110.0, 19.75}), 2);
}

TEST(Geo, SlantedSharedEdgeHasExactlyOneOwner) {
  // Two triangles sharing the diagonal (0,0)-(1,1), plus two sharing a
  // diagonal with an irrational-looking slope.
  MultiPolygon lower = Shape({{{0, 0}, {1, 0}, {1, 1}}});
  MultiPolygon upper = Shape({{{0, 0}, {1, 1}, {0, 1}}});
  for (int i = 0; i < 64; ++i) {
    const double t = i / 64.0;
    const Point p{t, t};
    EXPECT_EQ(In(lower, p.lng, p.lat) + In(upper, p.lng, p.lat), 1) << t;
    // East of the diagonal is the lower triangle.
    EXPECT_TRUE(In(lower, p.lng, p.lat)) << t;
  }
  const Point a{110.123456789, 19.987654321}, b{110.3141592653, 20.2718281828};
  const Point c{110.4, 19.9}, d{110.0, 20.3};
  MultiPolygon right = Shape({{{a.lng, a.lat}, {c.lng, c.lat}, {b.lng, b.lat}}});
  MultiPolygon left = Shape({{{a.lng, a.lat}, {b.lng, b.lat}, {d.lng, d.lat}}});
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 2000; ++i) {
    // Points near (often exactly on, after rounding) the shared edge.
    const double t = u(rng);
    const Point p{a.lng + t * (b.lng - a.lng), a.lat + t * (b.lat - a.lat)};
    EXPECT_EQ(In(right, p.lng, p.lat) + In(left, p.lng, p.lat), 1) << i;
  }
  EXPECT_EQ(In(right, a.lng, a.lat) + In(left, a.lng, a.lat), 1);
}

TEST(Geo, ContainmentIsExactNearASlantedEdge) {
  // Points within an ulp or so of a slanted edge, decided against an exact
  // integer computation: lng in [64, 128) and lat in [16, 32) are multiples of
  // 2^-48, so scaled by 2^48 they are integers below 2^55 and the cross
  // product fits in __int128. Many of these points are so close to the line
  // that a plain floating-point cross product gets the side wrong.
  const Point a{110.123456789, 19.987654321}, b{110.3141592653, 20.2718281828};
  MultiPolygon east = Shape({{{a.lng, a.lat}, {110.4, 19.9}, {b.lng, b.lat}}});
  MultiPolygon west = Shape({{{a.lng, a.lat}, {b.lng, b.lat}, {110.0, 20.3}}});
  auto scaled = [](double v) { return static_cast<__int128>(std::ldexp(v, 48)); };
  auto cross = [&](Point p) {  // > 0: p is west of (left of) a->b
    return (scaled(b.lng) - scaled(a.lng)) * (scaled(p.lat) - scaled(a.lat)) -
           (scaled(b.lat) - scaled(a.lat)) * (scaled(p.lng) - scaled(a.lng));
  };
  const double slope = (b.lat - a.lat) / (b.lng - a.lng);
  int west_count = 0, east_count = 0, very_close = 0;
  for (int i = 0; i < 100000; ++i) {
    const double lng = 110.2 + i * std::ldexp(1.0, -46);
    const double lat0 = a.lat + (lng - a.lng) * slope;
    for (int k = -2; k <= 2; ++k) {
      const Point p{lng, lat0 + k * std::ldexp(1.0, -48)};
      const __int128 c = cross(p);
      const __int128 abs_c = c < 0 ? -c : c;
      if (abs_c < (static_cast<__int128>(1) << 40)) ++very_close;
      ASSERT_EQ(In(west, p.lng, p.lat), c > 0) << i << " " << k;
      ASSERT_EQ(In(east, p.lng, p.lat), c <= 0) << i << " " << k;
      (c > 0 ? west_count : east_count)++;
    }
  }
  EXPECT_GT(west_count, 10000);
  EXPECT_GT(east_count, 10000);
  EXPECT_GT(very_close, 100);
}

// A 10x10 tiling of quads whose interior lattice vertices are jittered
// deterministically. Coordinates are dyadic so that edge midpoints are exact.
class JitteredTiling {
 public:
  static constexpr int kN = 10;
  static constexpr double kLng0 = 110.0, kLat0 = 19.5, kStep = 1.0 / 128;

  JitteredTiling() {
    for (int i = 0; i <= kN; ++i) {
      for (int j = 0; j <= kN; ++j) {
        double lng = kLng0 + i * kStep, lat = kLat0 + j * kStep;
        if (i > 0 && i < kN && j > 0 && j < kN) {
          // Jitter up to 0.3 of a step, in units of 1/8192 degree.
          const uint32_t h = static_cast<uint32_t>(i * 73856093) ^ static_cast<uint32_t>(j * 19349663);
          lng += (static_cast<int>(h % 39) - 19) / 8192.0;
          lat += (static_cast<int>((h / 39) % 39) - 19) / 8192.0;
        }
        v_[i][j] = {lng, lat};
      }
    }
    for (int i = 0; i < kN; ++i) {
      for (int j = 0; j < kN; ++j) {
        Coords quad = {{v_[i][j].lng, v_[i][j].lat},
                       {v_[i + 1][j].lng, v_[i + 1][j].lat},
                       {v_[i + 1][j + 1].lng, v_[i + 1][j + 1].lat},
                       {v_[i][j + 1].lng, v_[i][j + 1].lat}};
        shapes_.push_back(Shape({quad}));
      }
    }
  }
  const std::vector<MultiPolygon>& shapes() const { return shapes_; }
  Point vertex(int i, int j) const { return v_[i][j]; }
  static bool StrictlyInsideExtent(Point p) {
    return p.lng > kLng0 && p.lng < kLng0 + kN * kStep && p.lat > kLat0 && p.lat < kLat0 + kN * kStep;
  }

 private:
  Point v_[kN + 1][kN + 1];
  std::vector<MultiPolygon> shapes_;
};

TEST(Geo, JitteredTilingEveryInteriorPointHasExactlyOneOwner) {
  JitteredTiling tiling;
  ShapeIndex index = ShapeIndex::Build(tiling.shapes());
  ASSERT_EQ(index.size(), 100u);
  std::vector<Point> points;
  // Every lattice vertex, edge midpoint and quarter point.
  for (int i = 0; i <= JitteredTiling::kN; ++i) {
    for (int j = 0; j <= JitteredTiling::kN; ++j) {
      const Point a = tiling.vertex(i, j);
      points.push_back(a);
      for (auto [di, dj] : {std::pair{1, 0}, std::pair{0, 1}}) {
        if (i + di > JitteredTiling::kN || j + dj > JitteredTiling::kN) continue;
        const Point b = tiling.vertex(i + di, j + dj);
        for (double t : {0.25, 0.5, 0.75}) {
          points.push_back({a.lng + t * (b.lng - a.lng), a.lat + t * (b.lat - a.lat)});
        }
      }
    }
  }
  const size_t lattice_points = points.size();
  // Random points, continuous and snapped to the 1/8192 degree lattice (which
  // often lands on vertices and axis-parallel runs).
  std::mt19937_64 rng(20240601);
  const double span = JitteredTiling::kN * JitteredTiling::kStep;
  std::uniform_real_distribution<double> u(0, 1);
  for (int k = 0; k < 5000; ++k) {
    Point p{JitteredTiling::kLng0 + u(rng) * span, JitteredTiling::kLat0 + u(rng) * span};
    points.push_back(p);
    points.push_back({std::round(p.lng * 8192) / 8192, std::round(p.lat * 8192) / 8192});
  }
  int checked = 0, on_lattice_checked = 0;
  for (size_t k = 0; k < points.size(); ++k) {
    const Point p = points[k];
    std::vector<ShapeIndex::Hit> hits = index.Locate(p);
    EXPECT_EQ(static_cast<int>(hits.size()), Owners(tiling.shapes(), p));
    if (JitteredTiling::StrictlyInsideExtent(p)) {
      ASSERT_EQ(hits.size(), 1u) << "point " << k << " " << p.lng << "," << p.lat;
      EXPECT_EQ(hits[0].polygon, 0);
      EXPECT_GE(ContainingPolygon(index.shape(hits[0].id), p), 0);
      ++checked;
      if (k < lattice_points) ++on_lattice_checked;
    } else if (p.lng < JitteredTiling::kLng0 || p.lat < JitteredTiling::kLat0) {
      EXPECT_TRUE(hits.empty());
    }
  }
  EXPECT_GT(checked, 10000);
  EXPECT_GT(on_lattice_checked, 400);
  // Outside the extent: nobody.
  EXPECT_TRUE(index.Locate({109.9, 19.6}).empty());
  EXPECT_TRUE(index.Locate({110.05, 19.4}).empty());
  // The outer east and north boundaries are owned by nobody (nothing lies
  // east / north of them); the west and south ones by the edge quads.
  EXPECT_TRUE(index.Locate({JitteredTiling::kLng0 + span, 19.53}).empty());
  EXPECT_TRUE(index.Locate({110.03, JitteredTiling::kLat0 + span}).empty());
  EXPECT_EQ(index.Locate({JitteredTiling::kLng0, 19.53}).size(), 1u);
  EXPECT_EQ(index.Locate({110.03, JitteredTiling::kLat0}).size(), 1u);
}

TEST(Geo, LocateReturnsAllContainingShapesInAscendingId) {
  std::vector<MultiPolygon> shapes = {
      Shape({Rect(0, 0, 10, 10)}),                               // 0
      Shape({Rect(20, 20, 30, 30)}), Shape({Rect(2, 2, 4, 4)}),  // 2: overlaps 0
      Shape({Rect(1, 1, 5, 5)}),                                 // 3: overlaps 0 and 2
  };
  // A shape whose two polygons both contain the point: one hit, polygon 0.
  grid::v1::Boundary b;
  AddRing(b.add_polygons(), Rect(3, 3, 6, 6));
  AddRing(b.add_polygons(), Rect(2.5, 2.5, 3.5, 3.5));
  StatusOr<MultiPolygon> twice = FromProto(b);
  ASSERT_TRUE(twice.ok());
  shapes.push_back(*twice);  // 4
  ShapeIndex index = ShapeIndex::Build(shapes);
  std::vector<ShapeIndex::Hit> hits = index.Locate({3.25, 3.25});
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].id, 0u);
  EXPECT_EQ(hits[1].id, 2u);
  EXPECT_EQ(hits[2].id, 3u);
  EXPECT_EQ(hits[3].id, 4u);
  EXPECT_EQ(hits[3].polygon, 0);
  hits = index.Locate({2.75, 2.75});
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[3].id, 4u);
  EXPECT_EQ(hits[3].polygon, 1);
  hits = index.Locate({25, 25});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, 1u);
  EXPECT_TRUE(index.Locate({15, 15}).empty());
  EXPECT_EQ(index.shape(1).bbox.min_lng, 20);
}

TEST(Geo, EmptyAndMovedIndex) {
  ShapeIndex empty;
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_TRUE(empty.Locate({0, 0}).empty());
  EXPECT_FALSE(empty.Nearest({0, 0}, 1000).has_value());
  ShapeIndex built = ShapeIndex::Build({Shape({Rect(0, 0, 1, 1)})});
  ShapeIndex moved = std::move(built);
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved.Locate({0.5, 0.5}).size(), 1u);
  ShapeIndex assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.Locate({0.5, 0.5}).size(), 1u);
}

// ---------------------------------------------------------------------------
// Distances.

TEST(Geo, DistanceMetersHaversine) {
  const double one_degree = 6371008.8 * std::numbers::pi / 180;  // 111195.08 m
  EXPECT_NEAR(DistanceMeters({110, 19}, {110, 20}), one_degree, 1e-6);
  EXPECT_NEAR(DistanceMeters({0, 0}, {1, 0}), one_degree, 1e-6);
  EXPECT_NEAR(DistanceMeters({0, 60}, {1, 60}), one_degree * 0.5, 5.0);  // ~cos(60)
  EXPECT_EQ(DistanceMeters({110.2, 19.7}, {110.2, 19.7}), 0);
  EXPECT_NEAR(DistanceMeters({0, 0}, {180, 0}), 6371008.8 * std::numbers::pi, 1e-3);
  // Symmetric. London - Paris is about 343.5 km.
  const Point london{-0.1278, 51.5074}, paris{2.3522, 48.8566};
  EXPECT_DOUBLE_EQ(DistanceMeters(london, paris), DistanceMeters(paris, london));
  EXPECT_NEAR(DistanceMeters(london, paris), 343.5e3, 1.5e3);
}

TEST(Geo, DistanceToShape) {
  MultiPolygon s = Shape({Rect(110.0, 19.5, 110.1, 19.6), Rect(110.04, 19.54, 110.06, 19.56)});
  EXPECT_EQ(DistanceToShapeMeters(s, {110.01, 19.51}), 0);
  // Due north of the north edge: the meridian distance.
  EXPECT_NEAR(DistanceToShapeMeters(s, {110.05, 19.61}), DistanceMeters({110.05, 19.61}, {110.05, 19.6}), 0.01);
  // Nearest to a corner.
  EXPECT_NEAR(DistanceToShapeMeters(s, {110.11, 19.61}), DistanceMeters({110.11, 19.61}, {110.1, 19.6}), 0.01);
  // Inside the hole: distance to the hole's edge (1 km-ish).
  EXPECT_NEAR(DistanceToShapeMeters(s, {110.05, 19.555}), DistanceMeters({110.05, 19.555}, {110.05, 19.56}), 0.01);
}

TEST(Geo, NearestWithinAndBeyondDistance) {
  const double lat_m = 6371008.8 * std::numbers::pi / 180;  // metres per degree
  std::vector<MultiPolygon> shapes = {
      Shape({Rect(110.0, 19.5, 110.01, 19.51)}),   // 0
      Shape({Rect(110.03, 19.5, 110.04, 19.51)}),  // 1
  };
  ShapeIndex index = ShapeIndex::Build(shapes);
  // 0.005 degree north of shape 0 (~556 m).
  const Point p{110.005, 19.515};
  std::optional<ShapeIndex::Near> n = index.Nearest(p, 1000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->id, 0u);
  EXPECT_NEAR(n->meters, 0.005 * lat_m, 0.5);
  EXPECT_DOUBLE_EQ(n->meters, DistanceToShapeMeters(shapes[0], p));
  EXPECT_FALSE(index.Nearest(p, 500).has_value());
  EXPECT_TRUE(index.Nearest(p, 560).has_value());
  // Inside: distance 0.
  n = index.Nearest({110.035, 19.505}, 10);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->id, 1u);
  EXPECT_EQ(n->meters, 0);
  // Between the two, closer to 1.
  n = index.Nearest({110.025, 19.505}, 5000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->id, 1u);
  EXPECT_FALSE(index.Nearest({110.025, 19.505}, -1).has_value());
}

TEST(Geo, NearestTiesGoToLowerId) {
  // Shapes 1 and 2 are identical; 0 is far away.
  std::vector<MultiPolygon> shapes = {Shape({Rect(10, 10, 11, 11)}), Shape({Rect(110.0, 19.5, 110.01, 19.51)}),
                                      Shape({Rect(110.0, 19.5, 110.01, 19.51)})};
  ShapeIndex index = ShapeIndex::Build(shapes);
  std::optional<ShapeIndex::Near> n = index.Nearest({110.02, 19.505}, 2000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->id, 1u);
  // Mirror-symmetric neighbours at equal distance: the lower id wins.
  ShapeIndex sym = ShapeIndex::Build({Shape({Rect(0.5, 0, 1, 1)}), Shape({Rect(-1, 0, -0.5, 1)})});
  n = sym.Nearest({0, 0.5}, 100000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->id, 0u);
}

TEST(Geo, NearestAtHighLatitudeAccountsForLongitudeScale) {
  // At 60 N a degree of longitude is half a degree of latitude. A shape 5 km
  // east must be found with max 6 km, though 6 km is only ~0.054 degrees of
  // latitude and the gap is ~0.09 degrees of longitude.
  const double lat = 60.0;
  const double lng_m = DistanceMeters({0, lat}, {1, lat});
  const double gap_deg = 5000 / lng_m;
  ShapeIndex index = ShapeIndex::Build({Shape({Rect(gap_deg, 59.99, gap_deg + 0.01, 60.01)})});
  std::optional<ShapeIndex::Near> n = index.Nearest({0, lat}, 6000);
  ASSERT_TRUE(n.has_value());
  EXPECT_NEAR(n->meters, 5000, 5);
  EXPECT_FALSE(index.Nearest({0, lat}, 4900).has_value());
}

// ---------------------------------------------------------------------------
// Validation and conversion.

TEST(Geo, FromProtoStripsClosingPointAndDuplicates) {
  Coords closed = Rect(0, 0, 1, 1);
  closed.push_back(closed.front());
  StatusOr<MultiPolygon> s = FromProto(BoundaryOf({closed}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->polygons[0].rings[0].points.size(), 4u);
  EXPECT_EQ(s->polygons[0].rings[0].points.back().lat, 1);
  // Consecutive duplicates are dropped too.
  s = FromProto(BoundaryOf({{{0, 0}, {0, 0}, {1, 0}, {1, 1}, {1, 1}, {0, 1}, {0, 0}, {0, 0}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->polygons[0].rings[0].points.size(), 4u);
  // A closed triangle with exactly four points is fine.
  EXPECT_TRUE(FromProto(BoundaryOf({{{0, 0}, {1, 0}, {0, 1}, {0, 0}}})).ok());
  // Extremes of the valid range.
  EXPECT_TRUE(FromProto(BoundaryOf({{{-180, -90}, {180, -90}, {180, 90}, {-180, 90}}})).ok());
}

TEST(Geo, FromProtoRejectsEmptyGeometry) {
  ExpectInvalid(grid::v1::Boundary(), "EMPTY_GEOMETRY", "");
  grid::v1::Boundary b;
  AddRing(b.add_polygons(), Rect(0, 0, 1, 1));
  b.add_polygons();  // no ring
  ExpectInvalid(b, "EMPTY_GEOMETRY", "polygon 1");
}

TEST(Geo, FromProtoRejectsNonFiniteCoordinates) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, nan}, {1, 1}}}), "NON_FINITE_COORDINATE", "polygon 0 ring 0");
  ExpectInvalid(BoundaryOf({Rect(0, 0, 3, 3), {{1, 1}, {inf, 1}, {2, 2}}}), "NON_FINITE_COORDINATE",
                "polygon 0 ring 1");
}

TEST(Geo, FromProtoRejectsOutOfRangeCoordinates) {
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, 90.5}, {1, 1}}}), "COORDINATE_OUT_OF_RANGE", "polygon 0 ring 0");
  ExpectInvalid(BoundaryOf({{{0, 0}, {-180.01, 0}, {1, 1}}}), "COORDINATE_OUT_OF_RANGE", "polygon 0 ring 0");
  grid::v1::Boundary b;
  AddRing(b.add_polygons(), Rect(0, 0, 1, 1));
  AddRing(b.add_polygons(), {{0, 0}, {1, -91}, {1, 1}});
  ExpectInvalid(b, "COORDINATE_OUT_OF_RANGE", "polygon 1 ring 0");
}

TEST(Geo, FromProtoRejectsShortRings) {
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, 1}}}), "RING_TOO_SHORT", "polygon 0 ring 0");
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, 1}, {0, 0}}}), "RING_TOO_SHORT", "polygon 0 ring 0");
  ExpectInvalid(BoundaryOf({{}}), "RING_TOO_SHORT", "polygon 0 ring 0");
  // Four points but only two distinct ones.
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, 1}, {0, 0}, {1, 1}}}), "RING_TOO_SHORT", "polygon 0 ring 0");
  ExpectInvalid(BoundaryOf({Rect(0, 0, 3, 3), {{1, 1}, {2, 2}, {1, 1}}}), "RING_TOO_SHORT", "polygon 0 ring 1");
}

TEST(Geo, FromProtoRejectsRingLengthMismatch) {
  grid::v1::Boundary b = BoundaryOf({Rect(0, 0, 1, 1)});
  b.mutable_polygons(0)->mutable_rings(0)->add_lng(0.5);
  ExpectInvalid(b, "RING_LENGTH_MISMATCH", "polygon 0 ring 0");
}

TEST(Geo, FromProtoRejectsSelfIntersectingRings) {
  // Bow tie: edges cross properly.
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, 1}, {1, 0}, {0, 1}}}), "SELF_INTERSECTING_RING", "polygon 0 ring 0");
  // Figure eight touching itself at a repeated vertex.
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, 1}, {2, 0}, {2, 2}, {1, 1}, {0, 2}}}), "SELF_INTERSECTING_RING",
                "polygon 0 ring 0");
  // A vertex touching a non-adjacent edge.
  ExpectInvalid(BoundaryOf({{{0, 0}, {4, 0}, {4, 4}, {2, 0}, {0, 4}}}), "SELF_INTERSECTING_RING", "polygon 0 ring 0");
  // Collinear overlap of non-adjacent edges.
  ExpectInvalid(BoundaryOf({{{0, 0}, {3, 0}, {3, 1}, {2, 1}, {2, 0}, {1, 0}, {1, 2}, {0, 2}}}),
                "SELF_INTERSECTING_RING", "polygon 0 ring 0");
  // A spike: adjacent edges folding back on each other.
  ExpectInvalid(BoundaryOf({{{0, 0}, {2, 0}, {1, 0}, {1, 1}}}), "SELF_INTERSECTING_RING", "polygon 0 ring 0");
  // Three distinct collinear points (zero area).
  ExpectInvalid(BoundaryOf({{{0, 0}, {1, 0}, {2, 0}}}), "SELF_INTERSECTING_RING", "polygon 0 ring 0");
  // In a hole.
  ExpectInvalid(BoundaryOf({Rect(0, 0, 10, 10), {{1, 1}, {2, 2}, {2, 1}, {1, 2}}}), "SELF_INTERSECTING_RING",
                "polygon 0 ring 1");
  // A near miss is valid: the vertex (2, 1e-12) is just above the bottom edge.
  EXPECT_TRUE(FromProto(BoundaryOf({{{0, 0}, {4, 0}, {4, 4}, {2, 1e-12}, {0, 4}}})).ok());
  // Collinear consecutive points (a straight vertex) are legitimate.
  EXPECT_TRUE(FromProto(BoundaryOf({{{0, 0}, {1, 0}, {2, 0}, {2, 2}, {0, 2}}})).ok());
}

TEST(Geo, FromProtoAcceptsLargeSimpleRing) {
  // A 2000-vertex star-shaped ring (the sweep must handle it quickly and
  // without false positives).
  Coords ring;
  const int n = 2000;
  for (int k = 0; k < n; ++k) {
    const double a = 2 * std::numbers::pi * k / n;
    const double r = (k % 2 == 0) ? 0.01 : 0.008;
    ring.emplace_back(110.2 + r * std::cos(a), 19.7 + r * std::sin(a));
  }
  StatusOr<MultiPolygon> s = FromProto(BoundaryOf({ring}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(In(*s, 110.2, 19.7));
  EXPECT_FALSE(In(*s, 110.2 + 0.0101, 19.7));
  // Swapping two far-apart vertices makes it cross itself.
  std::swap(ring[10], ring[1010]);
  ExpectInvalid(BoundaryOf({ring}), "SELF_INTERSECTING_RING", "polygon 0 ring 0");
}

TEST(Geo, ToProtoRoundTrip) {
  grid::v1::Boundary b;
  grid::v1::Polygon* first = b.add_polygons();
  AddRing(first, {{110.1, 19.1}, {110.3, 19.15}, {110.25, 19.4}, {110.05, 19.3}});
  AddRing(first, Rect(110.15, 19.2, 110.2, 19.25));
  AddRing(b.add_polygons(), Rect(111, 20, 111.5, 20.5));
  StatusOr<MultiPolygon> s = FromProto(b);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  grid::v1::Boundary out = ToProto(*s);
  // No closing points were given, so the proto comes back identical.
  EXPECT_EQ(out.SerializeAsString(), b.SerializeAsString());
  StatusOr<MultiPolygon> again = FromProto(out);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->polygons.size(), s->polygons.size());
  for (size_t i = 0; i < s->polygons.size(); ++i) {
    ASSERT_EQ(again->polygons[i].rings.size(), s->polygons[i].rings.size());
    for (size_t r = 0; r < s->polygons[i].rings.size(); ++r) {
      const auto& x = s->polygons[i].rings[r].points;
      const auto& y = again->polygons[i].rings[r].points;
      ASSERT_EQ(x.size(), y.size());
      for (size_t k = 0; k < x.size(); ++k) {
        EXPECT_EQ(x[k].lng, y[k].lng);
        EXPECT_EQ(x[k].lat, y[k].lat);
      }
    }
  }
  // A closed input loses its closing point.
  Coords closed = Rect(0, 0, 1, 1);
  closed.push_back(closed.front());
  StatusOr<MultiPolygon> c = FromProto(BoundaryOf({closed}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ToProto(*c).polygons(0).rings(0).lng_size(), 4);
}

// ---------------------------------------------------------------------------
// Compact storage: integer (1e-7 degree lattice) and double records, both
// first stages, and Save / Load, against the reference functions.

double OnLattice(double v) { return std::nearbyint(v * 1e7) / 1e7; }

// A star-shaped (hence simple) ring around (cx, cy), radii in [r/2, r].
Coords Star(std::mt19937_64& rng, double cx, double cy, double r, int n, bool lattice) {
  std::uniform_real_distribution<double> u(0, 1);
  Coords ring;
  for (int i = 0; i < n; ++i) {
    const double a = 2 * std::numbers::pi * (i + 0.2 + 0.6 * u(rng)) / n;
    const double rr = r * (0.5 + 0.5 * u(rng));
    double x = cx + rr * std::cos(a), y = cy + rr * 0.8 * std::sin(a);
    if (lattice) x = OnLattice(x), y = OnLattice(y);
    ring.push_back({x, y});
  }
  return ring;
}

// Every shape containing p by ContainingPolygon, as Locate reports them.
std::vector<std::pair<uint32_t, int>> BruteLocate(const std::vector<MultiPolygon>& shapes, Point p) {
  std::vector<std::pair<uint32_t, int>> out;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const int k = ContainingPolygon(shapes[i], p);
    if (k >= 0) out.push_back({static_cast<uint32_t>(i), k});
  }
  return out;
}

std::vector<std::pair<uint32_t, int>> AsPairs(const std::vector<ShapeIndex::Hit>& hits) {
  std::vector<std::pair<uint32_t, int>> out;
  for (const auto& h : hits) out.push_back({h.id, h.polygon});
  return out;
}

// Lattice tiling of jittered quads with wiggly shared edges (the national
// benchmark's shape), plus overlapping stars of every storage format.
std::vector<MultiPolygon> MixedShapes() {
  std::vector<MultiPolygon> shapes;
  constexpr int kN = 12;
  const double x0 = 116.3, y0 = 39.9, step = 0.003;  // ~300 m urban grids
  std::vector<std::vector<Point>> v(kN + 1, std::vector<Point>(kN + 1));
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int i = 0; i <= kN; ++i) {
    for (int j = 0; j <= kN; ++j) {
      const bool inner = i > 0 && i < kN && j > 0 && j < kN;
      v[i][j] = {OnLattice(x0 + step * (i + (inner ? 0.2 * u(rng) : 0))),
                 OnLattice(y0 + step * (j + (inner ? 0.2 * u(rng) : 0)))};
    }
  }
  // Intermediate points of the edge a->b, identical for both neighbours.
  auto side = [&](Point a, Point b, bool wiggle) {
    std::vector<Point> pts;
    const int k = 3;
    for (int m = 1; m <= k; ++m) {
      const double t = static_cast<double>(m) / (k + 1);
      const double off = wiggle ? 0.05 * std::sin(std::numbers::pi * t) * ((m % 2) ? 1 : -1) : 0;
      pts.push_back({OnLattice(a.lng + t * (b.lng - a.lng) - off * (b.lat - a.lat)),
                     OnLattice(a.lat + t * (b.lat - a.lat) + off * (b.lng - a.lng))});
    }
    return pts;
  };
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) {
      const Point c[4] = {v[i][j], v[i + 1][j], v[i + 1][j + 1], v[i][j + 1]};
      const bool wiggle[4] = {j > 0, i + 1 < kN, j + 1 < kN, i > 0};
      Coords ring;
      for (int e = 0; e < 4; ++e) {
        ring.push_back({c[e].lng, c[e].lat});
        // Canonical direction: south->north / west->east, reversed as needed.
        const Point a = c[e], b = c[(e + 1) % 4];
        const bool forward = e < 2;
        std::vector<Point> pts = forward ? side(a, b, wiggle[e]) : side(b, a, wiggle[e]);
        if (!forward) std::reverse(pts.begin(), pts.end());
        for (const Point& q : pts) ring.push_back({q.lng, q.lat});
      }
      shapes.push_back(Shape({ring}));
    }
  }
  // Stars: small (16-bit), medium (24-bit), huge (32-bit), with holes, off
  // the lattice (double), and a two-polygon shape.
  for (int k = 0; k < 30; ++k) {
    const double r = k % 3 == 0 ? 0.004 : k % 3 == 1 ? 0.05 : 2.0;
    const bool lattice = k % 5 != 4;
    std::uniform_real_distribution<double> c(0, 0.04);
    const double cx = x0 + c(rng), cy = y0 + c(rng);
    std::vector<Coords> rings = {Star(rng, cx, cy, r, 5 + k, lattice)};
    if (k % 4 == 1) rings.push_back(Star(rng, cx, cy, r / 4, 6, lattice));
    if (k % 7 == 3) {
      grid::v1::Boundary b = BoundaryOf(rings);
      AddRing(b.add_polygons(), Star(rng, cx + 0.01, cy, r / 3, 9, lattice));
      StatusOr<MultiPolygon> two = FromProto(b);
      EXPECT_TRUE(two.ok()) << two.status().ToString();
      shapes.push_back(two.ok() ? *two : MultiPolygon{});
    } else {
      shapes.push_back(Shape(rings));
    }
  }
  // A hole reaching outside the outer ring's box (absolute storage).
  shapes.push_back(Shape({Rect(116.31, 39.91, 116.32, 39.92), Rect(116.315, 39.915, 116.33, 39.916)}));
  shapes.push_back(MultiPolygon{});  // no polygon: never found
  return shapes;
}

std::vector<Point> ProbePoints(const std::vector<MultiPolygon>& shapes) {
  std::vector<Point> points;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (const MultiPolygon& s : shapes) {
    for (const Polygon& poly : s.polygons) {
      for (const Ring& ring : poly.rings) {
        const size_t n = ring.points.size();
        for (size_t i = 0; i < n; ++i) {
          const Point a = ring.points[i], b = ring.points[(i + 1) % n];
          points.push_back(a);
          points.push_back({std::nextafter(a.lng, 200.0), a.lat});
          points.push_back({a.lng, std::nextafter(a.lat, -100.0)});
          const double t = u(rng);
          points.push_back({a.lng + t * (b.lng - a.lng), a.lat + t * (b.lat - a.lat)});
          points.push_back({(a.lng + b.lng) / 2, (a.lat + b.lat) / 2});
        }
      }
    }
  }
  for (int k = 0; k < 8000; ++k) {
    const Point p{116.28 + 0.1 * u(rng), 39.88 + 0.1 * u(rng)};
    points.push_back(p);
    points.push_back({OnLattice(p.lng), OnLattice(p.lat)});
  }
  return points;
}

// The saved index files of these tests are real files in the temp dir.
storage::PosixFiles files;

TEST(GeoIndex, CompactStorageMatchesReferenceContainment) {
  const std::vector<MultiPolygon> shapes = MixedShapes();
  const std::vector<Point> points = ProbePoints(shapes);
  const std::string path = testing::TempDir() + "geo_index_test.idx";
  ShapeIndex grid = ShapeIndex::Build(shapes);
  ShapeIndex rtree = internal::ShapeIndexAccess::Build(shapes, internal::FirstStage::kRTree);
  ASSERT_TRUE(grid.Save(files, path).ok());
  StatusOr<ShapeIndex> loaded = ShapeIndex::Load(files, path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::remove(path.c_str());
  const ShapeIndex::Stats stats = grid.stats();
  EXPECT_EQ(stats.shapes, shapes.size());
  EXPECT_GT(stats.integer_polygons, 144u);
  EXPECT_LT(stats.integer_polygons, stats.polygons);  // some double records too
  int tiled = 0, multi = 0;
  for (size_t k = 0; k < points.size(); ++k) {
    const Point p = points[k];
    const auto want = BruteLocate(shapes, p);
    ASSERT_EQ(AsPairs(grid.Locate(p)), want) << k << " " << p.lng << "," << p.lat;
    ASSERT_EQ(AsPairs(internal::ShapeIndexAccess::Locate(grid, p, internal::SingleLookup::kSerial)), want) << k;
    ASSERT_EQ(AsPairs(rtree.Locate(p)), want) << k;
    ASSERT_EQ(AsPairs(loaded->Locate(p)), want) << k;
    // The tiling (ids 0..143): every point strictly inside has one owner.
    int owners = 0;
    for (const auto& [id, poly] : want) owners += id < 144 ? 1 : 0;
    if (p.lng > 116.3 && p.lng < 116.336 && p.lat > 39.9 && p.lat < 39.936) {
      ASSERT_EQ(owners, 1) << k;
      ++tiled;
    }
    multi += want.size() > 1 ? 1 : 0;
  }
  EXPECT_GT(tiled, 1000);
  EXPECT_GT(multi, 100);
}

TEST(GeoIndex, LocateBatchMatchesLocate) {
  const std::vector<MultiPolygon> shapes = MixedShapes();
  std::vector<Point> points = ProbePoints(shapes);
  points.push_back({std::nan(""), 39.9});
  points.push_back({-170, -80});  // outside the extent
  for (auto stage : {internal::FirstStage::kCellGrid, internal::FirstStage::kRTree}) {
    ShapeIndex index = internal::ShapeIndexAccess::Build(shapes, stage);
    std::vector<ShapeIndex::Hit> hits;
    std::vector<uint32_t> offsets;
    index.LocateBatch(points, hits, offsets);
    ASSERT_EQ(offsets.size(), points.size() + 1);
    for (size_t k = 0; k < points.size(); ++k) {
      const std::vector<ShapeIndex::Hit> want = index.Locate(points[k]);
      ASSERT_EQ(offsets[k + 1] - offsets[k], want.size()) << k;
      for (size_t j = 0; j < want.size(); ++j) {
        EXPECT_EQ(hits[offsets[k] + j].id, want[j].id);
        EXPECT_EQ(hits[offsets[k] + j].polygon, want[j].polygon);
      }
    }
  }
  ShapeIndex empty;
  std::vector<ShapeIndex::Hit> hits;
  std::vector<uint32_t> offsets;
  empty.LocateBatch(points, hits, offsets);
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(offsets.size(), points.size() + 1);
}

TEST(GeoIndex, ShapeRoundTripsExactly) {
  const std::vector<MultiPolygon> shapes = MixedShapes();
  ShapeIndex index = ShapeIndex::Build(shapes);
  ASSERT_EQ(index.size(), shapes.size());
  for (uint32_t id = 0; id < shapes.size(); ++id) {
    const MultiPolygon got = index.shape(id);
    ASSERT_EQ(got.polygons.size(), shapes[id].polygons.size());
    for (size_t k = 0; k < got.polygons.size(); ++k) {
      const Polygon& a = got.polygons[k];
      const Polygon& b = shapes[id].polygons[k];
      ASSERT_EQ(a.rings.size(), b.rings.size());
      for (size_t r = 0; r < a.rings.size(); ++r) {
        ASSERT_EQ(a.rings[r].points.size(), b.rings[r].points.size());
        for (size_t i = 0; i < a.rings[r].points.size(); ++i) {
          EXPECT_EQ(a.rings[r].points[i].lng, b.rings[r].points[i].lng);
          EXPECT_EQ(a.rings[r].points[i].lat, b.rings[r].points[i].lat);
        }
      }
      EXPECT_EQ(a.bbox.min_lng, b.bbox.min_lng);
      EXPECT_EQ(a.bbox.max_lat, b.bbox.max_lat);
    }
  }
}

TEST(GeoIndex, NearestMatchesBruteForce) {
  const std::vector<MultiPolygon> shapes = MixedShapes();
  ShapeIndex grid = ShapeIndex::Build(shapes);
  ShapeIndex rtree = internal::ShapeIndexAccess::Build(shapes, internal::FirstStage::kRTree);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  for (int k = 0; k < 160; ++k) {
    const Point p{116.2 + 0.3 * u(rng), 39.8 + 0.3 * u(rng)};
    const double max_m = k % 4 == 0 ? 50 : k % 4 == 1 ? 500 : k % 4 == 2 ? 5000 : 1e7;
    std::optional<ShapeIndex::Near> want;
    for (uint32_t id = 0; id < shapes.size(); ++id) {
      const double d = DistanceToShapeMeters(shapes[id], p);
      if (d <= max_m && (!want || d < want->meters)) want = ShapeIndex::Near{id, d};
    }
    for (const ShapeIndex* index : {&grid, &rtree}) {
      const auto got = index->Nearest(p, max_m);
      ASSERT_EQ(got.has_value(), want.has_value()) << k;
      if (want) {
        EXPECT_EQ(got->id, want->id) << k;
        EXPECT_EQ(got->meters, want->meters) << k;
      }
    }
  }
}

TEST(GeoIndex, LoadRejectsBadFiles) {
  const std::string path = testing::TempDir() + "geo_index_bad.idx";
  EXPECT_FALSE(ShapeIndex::Load(files, path + ".missing").ok());
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("not an index at all, not at all, not at all, not at all, not at all, not at all", f);
    std::fclose(f);
  }
  StatusOr<ShapeIndex> bad = ShapeIndex::Load(files, path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "CORRUPT_INDEX");
  // A saved index cut short.
  ASSERT_TRUE(ShapeIndex::Build(MixedShapes()).Save(files, path).ok());
  ASSERT_EQ(truncate(path.c_str(), 4000), 0);
  EXPECT_FALSE(ShapeIndex::Load(files, path).ok());
  std::remove(path.c_str());
  // Only the cell grid saves.
  EXPECT_FALSE(internal::ShapeIndexAccess::Build(MixedShapes(), internal::FirstStage::kRTree).Save(files, path).ok());
}

TEST(GeoIndex, MoreCandidatesThanOneLookupCollectsAreAllFound) {
  // 40 overlapping squares, each a little larger than the last: a point in
  // the smallest has 40 candidates (more than Locate collects at once).
  std::vector<MultiPolygon> shapes;
  for (int i = 0; i < 40; ++i) {
    const double d = 0.001 * i;
    shapes.push_back(Shape({Rect(116.0 - d, 39.0 - d, 116.01 + d, 39.01 + d)}));
  }
  const ShapeIndex index = ShapeIndex::Build(shapes);
  for (auto how : {internal::SingleLookup::kSerial, internal::SingleLookup::kPrefetched}) {
    EXPECT_EQ(internal::ShapeIndexAccess::Locate(index, Point{116.005, 39.005}, how).size(), 40u);
    EXPECT_EQ(internal::ShapeIndexAccess::Locate(index, Point{116.0 - 0.0385, 39.005}, how).size(),
              1u);  // only the largest
  }
}

TEST(GeoIndex, SaveKeepsTheLabelAndLoadDetectsAFlippedByte) {
  const std::string path = testing::TempDir() + "geo_index_label.idx";
  const ShapeIndex built = ShapeIndex::Build(MixedShapes());
  ASSERT_TRUE(built.Save(files, path, "built from version 7").ok());
  std::string label;
  StatusOr<ShapeIndex> loaded = ShapeIndex::Load(files, path, &label);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(label, "built from version 7");
  EXPECT_EQ(loaded->size(), built.size());
  // Mapped (the default) or copied into memory: the same answers.
  StatusOr<ShapeIndex> copied = internal::ShapeIndexAccess::Load(files, path, nullptr, internal::LoadMode::kRead);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  for (uint32_t id = 0; id < built.size(); ++id) {
    EXPECT_EQ(loaded->shape(id).polygons.size(), built.shape(id).polygons.size()) << id;
    EXPECT_EQ(copied->shape(id).polygons.size(), built.shape(id).polygons.size()) << id;
  }
  for (double x = 116.29; x < 116.35; x += 0.0013) {  // over the grids and around them
    for (double y = 39.89; y < 39.95; y += 0.0011) {
      const auto want = built.Locate(Point{x, y});
      for (const ShapeIndex* index : {&*loaded, &*copied}) {
        const auto got = index->Locate(Point{x, y});
        ASSERT_EQ(got.size(), want.size()) << x << " " << y;
        for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].id, want[i].id);
      }
    }
  }
  // One byte flipped in the middle of the geometry, and one in the label:
  // both refused, with the file's size unchanged.
  const auto size = std::filesystem::file_size(path);
  for (const auto at : {size / 2, size - 3}) {
    ASSERT_TRUE(built.Save(files, path, "built from version 7").ok());
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, static_cast<long>(at), SEEK_SET);
    const int c = std::fgetc(f);
    std::fseek(f, static_cast<long>(at), SEEK_SET);
    std::fputc(c ^ 0x10, f);
    std::fclose(f);
    StatusOr<ShapeIndex> bad = ShapeIndex::Load(files, path, &label);
    ASSERT_FALSE(bad.ok()) << at;
    EXPECT_EQ(bad.status().reason(), "CORRUPT_INDEX") << at;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace grid::geo
