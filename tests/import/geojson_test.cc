// Tests for import/geojson: good Polygon / MultiPolygon / hole inputs, every
// bad input the importer must refuse (with the feature and the reason named),
// the checks against the directory an import joins, and a hand-drawn
// real-shaped fixture (tests/data/geojson/councils.geojson).
//
// Thread-safety: single-threaded tests.
#include "import/geojson.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "engine/router.h"
#include "tests/support/paths.h"

namespace grid {
namespace {

using grid::v1::UnitLevel;

GeoJsonMapping CommunityMapping() {
  GeoJsonMapping m;
  m.code_prop = "nc_id";
  m.name_prop = "name";
  m.level = grid::v1::UNIT_LEVEL_COMMUNITY;
  m.parent_code = "la-r1";
  return m;
}

// A closed square ring [lng, lat] as GeoJSON text.
std::string Square(double w, double s, double e, double n) {
  std::ostringstream o;
  o.precision(10);
  o << "[[" << w << "," << s << "],[" << e << "," << s << "],[" << e << "," << n << "],[" << w << "," << n << "],[" << w
    << "," << s << "]]";
  return o.str();
}

std::string Feature(const std::string& props, const std::string& geometry) {
  return R"({"type":"Feature","properties":)" + props + R"(,"geometry":)" + geometry + "}";
}

std::string PolygonGeometry(const std::string& rings) { return R"({"type":"Polygon","coordinates":[)" + rings + "]}"; }

std::string Collection(std::initializer_list<std::string> features) {
  std::string out = R"({"type":"FeatureCollection","features":[)";
  bool first = true;
  for (const auto& f : features) {
    if (!first) out += ",";
    out += f;
    first = false;
  }
  return out + "]}";
}

std::string GoodFeature(const std::string& id, double w, double s) {
  return Feature(R"({"nc_id":")" + id + R"(","name":"Council )" + id + R"("})",
                 PolygonGeometry(Square(w, s, w + 0.01, s + 0.01)));
}

Status ParseStatus(const std::string& json, const GeoJsonMapping& m = CommunityMapping()) {
  return ParseGeoJsonUnits(json, m, "test.geojson").status();
}

TEST(GeoJson, PolygonBecomesAUnit) {
  auto c = ParseGeoJsonUnits(Collection({GoodFeature("47", -118.21, 34.05)}), CommunityMapping(), "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->units_size(), 1);
  const auto& u = c->units(0);
  EXPECT_EQ(u.code(), "47");
  EXPECT_EQ(u.name(), "Council 47");
  EXPECT_EQ(u.parent_code(), "la-r1");
  EXPECT_EQ(u.level(), grid::v1::UNIT_LEVEL_COMMUNITY);
  ASSERT_EQ(u.boundary().polygons_size(), 1);
  ASSERT_EQ(u.boundary().polygons(0).rings_size(), 1);
  // The closing position is not stored twice; [lng, lat] order is kept.
  EXPECT_EQ(u.boundary().polygons(0).rings(0).lng_size(), 4);
  EXPECT_DOUBLE_EQ(u.boundary().polygons(0).rings(0).lng(0), -118.21);
  EXPECT_DOUBLE_EQ(u.boundary().polygons(0).rings(0).lat(0), 34.05);
}

TEST(GeoJson, MultiPolygonWithHoleRoutesAroundTheHole) {
  // Polygon 0: a square with a hole; polygon 1: a separate island east of it.
  const std::string json = Collection(
      {Feature(R"({"id":"g1","name":"Grid one"})",
               R"({"type":"MultiPolygon","coordinates":[[)" + Square(110.00, 20.00, 110.04, 20.04) + "," +
                   Square(110.01, 20.01, 110.02, 20.02) + "],[" + Square(110.10, 20.00, 110.11, 20.01) + "]]}")});
  GeoJsonMapping m;
  m.code_prop = "id";
  m.name_prop = "name";
  m.level = grid::v1::UNIT_LEVEL_GRID;
  m.parent_code = "c1";
  auto units = ParseGeoJsonUnits(json, m, "t");
  ASSERT_TRUE(units.ok()) << units.status().ToString();
  ASSERT_EQ(units->units(0).boundary().polygons_size(), 2);
  EXPECT_EQ(units->units(0).boundary().polygons(0).rings_size(), 2);

  grid::v1::DirectoryContent content;
  auto* county = content.add_units();
  county->set_code("k");
  county->set_level(grid::v1::UNIT_LEVEL_COUNTY);
  county->set_name("County");
  auto* community = content.add_units();
  community->set_code("c1");
  community->set_level(grid::v1::UNIT_LEVEL_COMMUNITY);
  community->set_name("Community");
  community->set_parent_code("k");
  auto* cat = content.add_categories();
  cat->set_code("general");
  cat->set_name("General");
  cat->set_handling(grid::v1::HANDLING_GRID);
  auto base = Directory::Build(content, 1);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  auto next = ImportGeoJson(**base, json, m, "t");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ((*next)->version(), 2u);

  Router router;
  auto route = [&](double lng, double lat) {
    auto d = router.Route(**next, RouteInput{.category = "general", .location = geo::Point{lng, lat}});
    EXPECT_TRUE(d.ok());
    return d.ok() ? d->method() : grid::v1::ROUTING_METHOD_UNSPECIFIED;
  };
  EXPECT_EQ(route(110.005, 20.005), grid::v1::ROUTING_METHOD_LOCATION);  // in the square
  EXPECT_EQ(route(110.105, 20.005), grid::v1::ROUTING_METHOD_LOCATION);  // on the island
  // In the hole, 550 m from its edge: no grid contains it and none is within 300 m.
  EXPECT_EQ(route(110.015, 20.015), grid::v1::ROUTING_METHOD_FALLBACK);
}

TEST(GeoJson, NumericKeysBecomeText) {
  const std::string json = Collection({Feature(R"({"nc_id":52,"name":"A"})", PolygonGeometry(Square(0, 0, 1, 1))),
                                       Feature(R"({"nc_id":53.0,"name":"B"})", PolygonGeometry(Square(1, 0, 2, 1))),
                                       Feature(R"({"nc_id":7.5,"name":"C"})", PolygonGeometry(Square(2, 0, 3, 1)))});
  auto c = ParseGeoJsonUnits(json, CommunityMapping(), "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->units(0).code(), "52");
  EXPECT_EQ(c->units(1).code(), "53");
  EXPECT_EQ(c->units(2).code(), "7.5");
}

TEST(GeoJson, ParentFromAPropertyPrefixAndSlug) {
  GeoJsonMapping m = CommunityMapping();
  m.parent_prop = "service_re";
  m.slug_values = true;
  m.code_prefix = "nc";
  const std::string json =
      Collection({Feature(R"({"nc_id":"47","name":"LINCOLN HEIGHTS NC","service_re":"REGION 8 - NORTH EAST LA"})",
                          PolygonGeometry(Square(0, 0, 1, 1)))});
  auto c = ParseGeoJsonUnits(json, m, "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->units(0).code(), "nc47");
  EXPECT_EQ(c->units(0).parent_code(), "region-8-north-east-la");
  EXPECT_EQ(CodeSlug("  Région 8 -- North  "), "r-gion-8-north");
  // Without slugging, a name is not a code.
  m.slug_values = false;
  Status st = ParseStatus(json, m);
  EXPECT_EQ(st.reason(), "INVALID_CODE") << st.ToString();
}

TEST(GeoJson, RejectsJsonThatIsNotAFeatureCollection) {
  EXPECT_EQ(ParseStatus("{").reason(), "INVALID_GEOJSON");
  EXPECT_EQ(ParseStatus("[]").reason(), "INVALID_GEOJSON");
  EXPECT_EQ(ParseStatus(R"({"type":"Feature"})").reason(), "INVALID_GEOJSON");
  EXPECT_EQ(ParseStatus(R"({"type":"FeatureCollection"})").reason(), "INVALID_GEOJSON");
  EXPECT_EQ(ParseStatus(R"({"type":"FeatureCollection","features":[]})").reason(), "INVALID_GEOJSON");
  EXPECT_EQ(ParseStatus(Collection({R"({"type":"Point"})"})).reason(), "INVALID_GEOJSON");
  Status point =
      ParseStatus(Collection({Feature(R"({"nc_id":"1","name":"x"})", R"({"type":"Point","coordinates":[0,0]})")}));
  EXPECT_EQ(point.reason(), "INVALID_GEOJSON");
  EXPECT_NE(point.message().find("Point"), std::string::npos) << point.ToString();
  // NaN is not JSON.
  EXPECT_EQ(ParseStatus(Collection({Feature(R"({"nc_id":"1","name":"x"})",
                                            R"({"type":"Polygon","coordinates":[[[0,0],[1,NaN],[1,1],[0,0]]]})")}))
                .reason(),
            "INVALID_GEOJSON");
}

TEST(GeoJson, UnclosedRingNamesTheFeature) {
  Status st = ParseStatus(Collection(
      {GoodFeature("1", 0, 0), Feature(R"({"nc_id":"52","name":"x"})", PolygonGeometry("[[0,0],[1,0],[1,1],[0,1]]"))}));
  EXPECT_EQ(st.reason(), "INVALID_GEOMETRY");
  EXPECT_NE(st.message().find("test.geojson: feature 1 (nc_id=52): UNCLOSED_RING: polygon 0 ring 0"), std::string::npos)
      << st.ToString();
}

TEST(GeoJson, SelfIntersectionNamesTheFeature) {
  // A bow tie.
  Status st = ParseStatus(
      Collection({GoodFeature("1", 0, 0), GoodFeature("2", 1, 0),
                  Feature(R"({"nc_id":52,"name":"x"})", PolygonGeometry("[[0,0],[1,1],[1,0],[0,1],[0,0]]"))}));
  EXPECT_EQ(st.reason(), "INVALID_GEOMETRY");
  EXPECT_NE(st.message().find("feature 2 (nc_id=52): SELF_INTERSECTING_RING: polygon 0 ring 0"), std::string::npos)
      << st.ToString();
}

TEST(GeoJson, SwappedCoordinatesOutOfRange) {
  // [lat, lng] for Los Angeles: latitude -118 cannot be.
  Status st = ParseStatus(
      Collection({Feature(R"({"nc_id":"5","name":"x"})", PolygonGeometry(Square(34.05, -118.21, 34.06, -118.20)))}));
  EXPECT_EQ(st.reason(), "SWAPPED_COORDINATES") << st.ToString();
  EXPECT_NE(st.message().find("feature 0 (nc_id=5)"), std::string::npos) << st.ToString();
}

TEST(GeoJson, SwappedCoordinatesWithinRange) {
  // Europe: lng 10, lat 50. One feature of four is [lat, lng]; every value is
  // in range, but it lies 40 degrees from the others.
  Status st = ParseStatus(
      Collection({GoodFeature("1", 10.0, 50.0), GoodFeature("2", 10.1, 50.0), GoodFeature("3", 10.0, 50.1),
                  Feature(R"({"nc_id":"4","name":"x"})", PolygonGeometry(Square(50.1, 10.1, 50.11, 10.11)))}));
  EXPECT_EQ(st.reason(), "SWAPPED_COORDINATES") << st.ToString();
  EXPECT_NE(st.message().find("feature 3 (nc_id=4)"), std::string::npos) << st.ToString();
}

TEST(GeoJson, CoordinatesOutOfRangeEitherWay) {
  Status st =
      ParseStatus(Collection({Feature(R"({"nc_id":"5","name":"x"})", PolygonGeometry(Square(200, 0, 201, 1)))}));
  EXPECT_EQ(st.reason(), "INVALID_GEOMETRY");
  EXPECT_NE(st.message().find("COORDINATE_OUT_OF_RANGE"), std::string::npos) << st.ToString();
}

TEST(GeoJson, NonNumbersAndNonFiniteCoordinates) {
  for (const char* ring :
       {R"([[0,0],[1,"0"],[1,1],[0,0]])", R"([[0,0],[1,null],[1,1],[0,0]])", R"([[0,0],[1,true],[1,1],[0,0]])"}) {
    Status st = ParseStatus(Collection({Feature(R"({"nc_id":"9","name":"x"})", PolygonGeometry(ring))}));
    EXPECT_EQ(st.reason(), "INVALID_GEOMETRY") << ring;
    EXPECT_NE(st.message().find("NON_NUMERIC_COORDINATE: polygon 0 ring 0 position 1"), std::string::npos)
        << st.ToString();
  }
  Status inf = ParseStatus(
      Collection({Feature(R"({"nc_id":"9","name":"x"})", PolygonGeometry("[[0,0],[1,1e999],[1,1],[0,0]]"))}));
  // JSON has no NaN or infinity; an overflowing literal is refused by the parser.
  EXPECT_EQ(inf.reason(), "INVALID_GEOJSON") << inf.ToString();
  Status short_pos =
      ParseStatus(Collection({Feature(R"({"nc_id":"9","name":"x"})", PolygonGeometry("[[0,0],[1],[1,1],[0,0]]"))}));
  EXPECT_EQ(short_pos.reason(), "INVALID_GEOMETRY");
  EXPECT_NE(short_pos.message().find("MALFORMED_POSITION"), std::string::npos) << short_pos.ToString();
}

TEST(GeoJson, EmptyGeometry) {
  const std::string props = R"({"nc_id":"3","name":"x"})";
  for (const std::string& geometry :
       {std::string("null"), std::string(R"({"type":"Polygon","coordinates":[]})"),
        std::string(R"({"type":"MultiPolygon","coordinates":[]})"),
        std::string(R"({"type":"MultiPolygon","coordinates":[[]]})"), std::string(R"({"type":"Polygon"})"),
        std::string(R"({"type":"Polygon","coordinates":[[]]})")}) {
    Status st = ParseStatus(Collection({Feature(props, geometry)}));
    EXPECT_EQ(st.reason(), "EMPTY_GEOMETRY") << geometry << " -> " << st.ToString();
    EXPECT_NE(st.message().find("feature 0 (nc_id=3)"), std::string::npos) << st.ToString();
  }
  // A feature without any geometry member at all.
  Status st = ParseStatus(Collection({R"({"type":"Feature","properties":{"nc_id":"3","name":"x"}})"}));
  EXPECT_EQ(st.reason(), "EMPTY_GEOMETRY");
  // Degenerate: all positions the same point.
  Status flat = ParseStatus(Collection({Feature(props, PolygonGeometry("[[0,0],[0,0],[0,0],[0,0]]"))}));
  EXPECT_EQ(flat.reason(), "INVALID_GEOMETRY");
  EXPECT_NE(flat.message().find("RING_TOO_SHORT"), std::string::npos) << flat.ToString();
}

TEST(GeoJson, MissingKeyNameOrParentProperty) {
  const std::string geometry = PolygonGeometry(Square(0, 0, 1, 1));
  Status no_key = ParseStatus(Collection({GoodFeature("1", 2, 2), Feature(R"({"name":"x"})", geometry)}));
  EXPECT_EQ(no_key.reason(), "MISSING_PROPERTY");
  EXPECT_NE(no_key.message().find("feature 1: has no property \"nc_id\""), std::string::npos) << no_key.ToString();
  EXPECT_EQ(ParseStatus(Collection({Feature(R"({"nc_id":null,"name":"x"})", geometry)})).reason(), "MISSING_PROPERTY");
  EXPECT_EQ(ParseStatus(Collection({Feature(R"({"nc_id":"","name":"x"})", geometry)})).reason(), "MISSING_PROPERTY");
  EXPECT_EQ(ParseStatus(Collection({Feature(R"(null)", geometry)})).reason(), "MISSING_PROPERTY");
  EXPECT_EQ(ParseStatus(Collection({Feature(R"({"nc_id":{"a":1},"name":"x"})", geometry)})).reason(),
            "INVALID_PROPERTY");
  Status no_name = ParseStatus(Collection({Feature(R"({"nc_id":"8"})", geometry)}));
  EXPECT_EQ(no_name.reason(), "MISSING_PROPERTY");
  EXPECT_NE(no_name.message().find("feature 0 (nc_id=8): has no property \"name\""), std::string::npos)
      << no_name.ToString();
  GeoJsonMapping m = CommunityMapping();
  m.parent_prop = "service_re";
  EXPECT_EQ(ParseStatus(Collection({Feature(R"({"nc_id":"8","name":"x"})", geometry)}), m).reason(),
            "MISSING_PROPERTY");
  m.code_prop.clear();
  EXPECT_EQ(ParseStatus(Collection({Feature(R"({"nc_id":"8","name":"x"})", geometry)}), m).reason(),
            "MISSING_PROPERTY");
}

TEST(GeoJson, DuplicateCodesInTheFile) {
  Status st = ParseStatus(Collection({GoodFeature("12", 0, 0), GoodFeature("13", 1, 0), GoodFeature("12", 2, 0)}));
  EXPECT_EQ(st.reason(), "DUPLICATE_CODE");
  EXPECT_NE(st.message().find("feature 2 (nc_id=12): code 12 was already used by feature 0"), std::string::npos)
      << st.ToString();
  // 12 and 12.0 are the same code.
  Status numeric =
      ParseStatus(Collection({Feature(R"({"nc_id":12,"name":"a"})", PolygonGeometry(Square(0, 0, 1, 1))),
                              Feature(R"({"nc_id":"12","name":"b"})", PolygonGeometry(Square(1, 0, 2, 1)))}));
  EXPECT_EQ(numeric.reason(), "DUPLICATE_CODE");
}

// A directory with city -> region -> community 47 (a 0.02 degree square).
std::shared_ptr<const Directory> Base() {
  grid::v1::DirectoryContent c;
  auto unit = [&](const char* code, UnitLevel level, const char* parent) {
    auto* u = c.add_units();
    u->set_code(code);
    u->set_level(level);
    u->set_name(std::string("unit ") + code);
    u->set_parent_code(parent);
    return u;
  };
  unit("la", grid::v1::UNIT_LEVEL_COUNTY, "");
  unit("la-r1", grid::v1::UNIT_LEVEL_TOWN, "la");
  auto* nc = unit("47", grid::v1::UNIT_LEVEL_COMMUNITY, "la-r1");
  auto* ring = nc->mutable_boundary()->add_polygons()->add_rings();
  for (auto [x, y] : {std::pair{0.0, 0.0}, {0.02, 0.0}, {0.02, 0.02}, {0.0, 0.02}}) {
    ring->add_lng(x);
    ring->add_lat(y);
  }
  auto* g = unit("47-1", grid::v1::UNIT_LEVEL_GRID, "47");
  auto* gr = g->mutable_boundary()->add_polygons()->add_rings();
  for (auto [x, y] : {std::pair{0.0, 0.0}, {0.01, 0.0}, {0.01, 0.01}, {0.0, 0.01}}) {
    gr->add_lng(x);
    gr->add_lat(y);
  }
  auto d = Directory::Build(c, 1);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : Directory::Empty();
}

GeoJsonMapping GridMapping() {
  GeoJsonMapping m;
  m.code_prop = "id";
  m.level = grid::v1::UNIT_LEVEL_GRID;
  m.parent_prop = "nc";
  return m;
}

TEST(GeoJson, ImportRejectsAnUnknownParent) {
  auto base = Base();
  const std::string json =
      Collection({Feature(R"({"id":"47-2","nc":"47"})", PolygonGeometry(Square(0.01, 0, 0.02, 0.01))),
                  Feature(R"({"id":"99-1","nc":"99"})", PolygonGeometry(Square(0.01, 0.01, 0.02, 0.02)))});
  auto r = ImportGeoJson(*base, json, GridMapping(), "grids.geojson");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "UNKNOWN_PARENT");
  EXPECT_NE(r.status().message().find("grids.geojson: unit 99-1: parent 99"), std::string::npos)
      << r.status().ToString();
  // The serving directory is untouched (imports never mutate it).
  EXPECT_EQ(base->unit_count(), 4u);
}

TEST(GeoJson, ImportRejectsAGridOutsideItsCommunity) {
  auto base = Base();
  // Reaches 0.01 degrees (about 1 km) east of community 47.
  const std::string json =
      Collection({Feature(R"({"id":"47-2","nc":"47"})", PolygonGeometry(Square(0.01, 0, 0.03, 0.01)))});
  auto r = ImportGeoJson(*base, json, GridMapping(), "grids.geojson");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "GRID_OUTSIDE_COMMUNITY") << r.status().ToString();
  EXPECT_NE(r.status().message().find("grid 47-2"), std::string::npos) << r.status().ToString();

  // A grid exactly on the community's east edge (shared vertices) is inside.
  const std::string edge =
      Collection({Feature(R"({"id":"47-2","nc":"47"})", PolygonGeometry(Square(0.01, 0, 0.02, 0.01)))});
  auto next = ImportGeoJson(*base, edge, GridMapping(), "grids.geojson");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ((*next)->grid_index().size(), 2u);

  // A new boundary for the community that would leave its existing grid outside.
  GeoJsonMapping cm = CommunityMapping();
  cm.code_prop = "nc_id";
  const std::string shrunk =
      Collection({Feature(R"({"nc_id":"47","name":"smaller"})", PolygonGeometry(Square(0.015, 0.015, 0.02, 0.02)))});
  auto r2 = ImportGeoJson(*base, shrunk, cm, "councils.geojson");
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().reason(), "GRID_OUTSIDE_COMMUNITY") << r2.status().ToString();
}

TEST(GeoJson, ReimportMakesANewVersionAndReplacesBoundaries) {
  auto base = Base();
  GeoJsonMapping cm = CommunityMapping();
  const std::string bigger =
      Collection({Feature(R"({"nc_id":"47","name":"Bigger 47"})", PolygonGeometry(Square(-0.01, -0.01, 0.03, 0.03)))});
  auto next = ImportGeoJson(*base, bigger, cm, "councils.geojson");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ((*next)->version(), base->version() + 1);
  EXPECT_EQ((*next)->FindUnit("47")->name(), "Bigger 47");
  EXPECT_EQ((*next)->unit_count(), base->unit_count());
  EXPECT_EQ(base->FindUnit("47")->name(), "unit 47");  // the old version is unchanged
}

TEST(GeoJson, HandDrawnCouncilsFixture) {
  // Three neighbouring "councils" drawn by hand in the shape of the LA files
  // (MultiPolygon, string nc_id, service_re), one with a hole and one with an
  // island; not copied from the real data.
  std::ifstream in(testing::TestDataDir() + "/geojson/councils.geojson");
  ASSERT_TRUE(in) << "missing tests/data/geojson/councils.geojson";
  std::stringstream ss;
  ss << in.rdbuf();
  GeoJsonMapping m;
  m.code_prop = "nc_id";
  m.name_prop = "name";
  m.parent_prop = "service_re";
  m.slug_values = true;
  m.level = grid::v1::UNIT_LEVEL_COMMUNITY;
  auto units = ParseGeoJsonUnits(ss.str(), m, "councils.geojson");
  ASSERT_TRUE(units.ok()) << units.status().ToString();
  ASSERT_EQ(units->units_size(), 3);
  EXPECT_EQ(units->units(0).code(), "47");
  EXPECT_EQ(units->units(0).parent_code(), "region-8-north-east-la");
  EXPECT_EQ(units->units(2).parent_code(), "region-7-east");

  grid::v1::DirectoryContent c;
  auto unit = [&](const std::string& code, UnitLevel level, const std::string& parent) {
    auto* u = c.add_units();
    u->set_code(code);
    u->set_level(level);
    u->set_name(code);
    u->set_parent_code(parent);
  };
  unit("la", grid::v1::UNIT_LEVEL_COUNTY, "");
  unit("region-8-north-east-la", grid::v1::UNIT_LEVEL_TOWN, "la");
  unit("region-7-east", grid::v1::UNIT_LEVEL_TOWN, "la");
  auto* cat = c.add_categories();
  cat->set_code("la311");
  cat->set_name("311");
  cat->set_handling(grid::v1::HANDLING_GRID);
  auto base = Directory::Build(c, 1);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  auto imported = ImportGeoJson(**base, ss.str(), m, "councils.geojson");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto merged = std::optional<grid::v1::DirectoryContent>((*imported)->ContentWithUnits());
  // Each council becomes one grid with the council's own boundary.
  for (const auto& u : units->units()) {
    auto* g = merged->add_units();
    g->set_code(u.code() + "-1");
    g->set_level(grid::v1::UNIT_LEVEL_GRID);
    g->set_name(u.name() + " grid 1");
    g->set_parent_code(u.code());
    *g->mutable_boundary() = u.boundary();
  }
  auto dir = Directory::Build(*merged, 2);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  Router router;
  auto council_at = [&](double lng, double lat) -> std::string {
    auto d = router.Route(**dir, RouteInput{.category = "la311", .location = geo::Point{lng, lat}});
    if (!d.ok() || d->method() != grid::v1::ROUTING_METHOD_LOCATION) return "-";
    return (*dir)->FindUnit(d->unit_code())->parent_code();
  };
  EXPECT_EQ(council_at(-118.215, 34.065), "47");
  EXPECT_EQ(council_at(-118.195, 34.065), "48");
  EXPECT_EQ(council_at(-118.205, 34.045), "49");
  EXPECT_EQ(council_at(-118.2125, 34.0675), "49");  // 49's island inside 47's hole
  EXPECT_EQ(council_at(-118.2000, 34.0650), "48");  // on the 47|48 shared edge: the council east of it
  EXPECT_EQ(council_at(-118.3, 34.3), "-");
}

}  // namespace
}  // namespace grid
