// Tests for import/boundaries and import/repair: GEOS repair of an invalid
// polygon (a bow-tie, tests/data/boundaries/districts_bowtie.geojson) with
// its report, --no-repair's refusal, what cannot be repaired, sibling
// overlaps and gaps, a boundary file declared GCJ-02, and GDAL's formats: a
// Shapefile in a projected CRS (EPSG:2263, written here with OGR) that must
// route the same points as its GeoJSON twin, a GeoPackage in CGCS2000
// (EPSG:4490), TopoJSON, and every broken file refused with its reason.
//
// Thread-safety: single-threaded tests.
#include "import/boundaries.h"

#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/coordinates.h"
#include "engine/directory.h"
#include "engine/geo.h"
#include "engine/router.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace grid {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

BoundaryOptions DistrictOptions() {
  BoundaryOptions o;
  o.mapping.code_prop = "district";
  o.mapping.name_prop = "name";
  o.mapping.level = grid::v1::UNIT_LEVEL_GRID;
  o.mapping.parent_code = "city";
  return o;
}

// A directory county -> town -> community `parent`, with the units (grids
// of that community) and one category handled by the grid.
std::shared_ptr<const Directory> WithParent(const grid::v1::DirectoryContent& units,
                                            const std::string& parent = "city") {
  grid::v1::DirectoryContent c;
  auto* county = c.add_units();
  county->set_code("county");
  county->set_level(grid::v1::UNIT_LEVEL_COUNTY);
  county->set_name("County");
  auto* town = c.add_units();
  town->set_code("town");
  town->set_level(grid::v1::UNIT_LEVEL_TOWN);
  town->set_name("Town");
  town->set_parent_code("county");
  auto* community = c.add_units();
  community->set_code(parent);
  community->set_level(grid::v1::UNIT_LEVEL_COMMUNITY);
  community->set_name("Community");
  community->set_parent_code("town");
  auto* cat = c.add_categories();
  cat->set_code("general");
  cat->set_name("General");
  cat->set_handling(grid::v1::HANDLING_GRID);
  for (const auto& u : units.units()) *c.add_units() = u;
  auto d = Directory::Build(c, 1);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : nullptr;
}

std::string RoutedTo(const Directory& dir, double lng, double lat,
                     grid::v1::CoordinateSystem system = grid::v1::COORDINATE_SYSTEM_WGS84) {
  Router router(RouterOptions{.nearest_grid_max_meters = 0, .triage_unit = "county"});
  auto d =
      router.Route(dir, RouteInput{.category = "general", .location = geo::Point{lng, lat}, .location_system = system});
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  if (!d.ok() || d->method() != grid::v1::ROUTING_METHOD_LOCATION) return "";
  return d->unit_code();
}

const std::string kBowtie = "districts_bowtie.geojson";

TEST(BoundaryRepair, TheBowTieIsRepairedAndReported) {
  const std::string text = ReadText(testing::TestDataDir() + "/boundaries/" + kBowtie);
  auto loaded = ParseGeoJsonBoundaries(text, DistrictOptions(), kBowtie);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->units.units_size(), 3);
  ASSERT_EQ(loaded->report.repairs.size(), 1u);
  const BoundaryRepair& r = loaded->report.repairs[0];
  EXPECT_EQ(r.feature, kBowtie + ": feature 2 (district=3)");
  EXPECT_NE(r.why.find("SELF_INTERSECTING_RING"), std::string::npos) << r.why;
  EXPECT_EQ(r.polygons_before, 1);
  EXPECT_EQ(r.polygons_after, 2);  // the two lobes of the bow-tie
  EXPECT_EQ(r.parts_dropped, 0);
  // As drawn, the lobes wind opposite ways and partly cancel; repaired, they add.
  EXPECT_GT(r.area_after_m2, r.area_before_m2);
  EXPECT_GT(r.area_after_m2, 100000.0);
  const std::string line = r.ToString();
  EXPECT_NE(line.find("feature 2 (district=3): repaired (SELF_INTERSECTING_RING"), std::string::npos) << line;
  EXPECT_NE(line.find("polygons 1 -> 2"), std::string::npos) << line;
  EXPECT_TRUE(geo::FromProto(loaded->units.units(2).boundary()).ok());

  // The repaired district routes; the untouched ones are as drawn.
  auto dir = WithParent(loaded->units);
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(RoutedTo(*dir, -122.445, 37.755), "1");
  EXPECT_EQ(RoutedTo(*dir, -122.435, 37.755), "2");
  EXPECT_EQ(RoutedTo(*dir, -122.423, 37.7535), "3");  // the east lobe
  EXPECT_EQ(RoutedTo(*dir, -122.428, 37.7535), "3");  // the west lobe
  EXPECT_EQ(RoutedTo(*dir, -122.4255, 37.759), "");   // between the lobes: in no district
}

TEST(BoundaryRepair, NoRepairKeepsTheStrictRefusal) {
  BoundaryOptions o = DistrictOptions();
  o.repair = false;
  auto loaded = ParseGeoJsonBoundaries(ReadText(testing::TestDataDir() + "/boundaries/" + kBowtie), o, kBowtie);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().reason(), "INVALID_GEOMETRY");
  EXPECT_NE(loaded.status().message().find(kBowtie + ": feature 2 (district=3): SELF_INTERSECTING_RING"),
            std::string::npos)
      << loaded.status().ToString();
}

std::string Feature(const std::string& code, const std::string& rings, const std::string& parent = "city") {
  return R"({"type":"Feature","properties":{"district":")" + code + R"(","name":"District )" + code +
         R"(","parent":")" + parent + R"("},"geometry":{"type":"Polygon","coordinates":[)" + rings + "]}}";
}
std::string Collection(const std::vector<std::string>& features) {
  std::string out = R"({"type":"FeatureCollection","features":[)";
  for (size_t i = 0; i < features.size(); ++i) out += (i ? "," : "") + features[i];
  return out + "]}";
}
std::string Square(double w, double s, double e, double n) {
  std::ostringstream o;
  o.precision(12);
  o << "[[" << w << "," << s << "],[" << e << "," << s << "],[" << e << "," << n << "],[" << w << "," << n << "],[" << w
    << "," << s << "]]";
  return o.str();
}

TEST(BoundaryRepair, WhatCannotBeRepairedIsRefusedAndNothingImported) {
  // A ring that goes out and back along one line: make-valid leaves a line.
  const std::string json = Collection(
      {Feature("1", Square(0, 0, 0.01, 0.01)), Feature("2", "[[0.02,0],[0.03,0.01],[0.02,0],[0.03,0.01],[0.02,0]]")});
  auto loaded = ParseGeoJsonBoundaries(json, DistrictOptions(), "flat.geojson");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().reason(), "UNREPAIRABLE_GEOMETRY") << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find("flat.geojson: feature 1 (district=2): "), std::string::npos)
      << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find("repair failed: make-valid leaves no polygon"), std::string::npos)
      << loaded.status().ToString();
}

// Each broken position is refused with repair on too: repair mends topology,
// never guesses coordinates.
struct BrokenCase {
  const char* name;
  std::string rings;
  const char* reason;
  const char* detail;
};

TEST(BoundaryRepair, BrokenPositionsAreRefusedEvenWithRepair) {
  const std::vector<BrokenCase> cases = {
      {"unclosed", "[[0,0],[0.01,0],[0.01,0.01],[0,0.01]]", "INVALID_GEOMETRY", "UNCLOSED_RING"},
      {"too_short", "[[0,0],[0.01,0],[0,0]]", "INVALID_GEOMETRY", "RING_TOO_SHORT"},
      {"out_of_range", "[[0,0],[190,0],[190,0.01],[0,0]]", "INVALID_GEOMETRY", "COORDINATE_OUT_OF_RANGE"},
      {"not_a_number", R"([[0,0],["x",0],[0.01,0.01],[0,0]])", "INVALID_GEOMETRY", "NON_NUMERIC_COORDINATE"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto loaded = ParseGeoJsonBoundaries(Collection({Feature("7", c.rings)}), DistrictOptions(), "b.geojson");
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().reason(), c.reason);
    EXPECT_NE(loaded.status().message().find(std::string("b.geojson: feature 0 (district=7): ") + c.detail),
              std::string::npos)
        << loaded.status().ToString();
  }
}

TEST(SiblingCheck, OverlapsAndGapsAreReportedWithTheirAreas) {
  // Three districts of one parent: 1 reaches 0.001 degrees into 2 except
  // for a notch 0.002 degrees high, so they overlap by 0.001 x 0.008 and the
  // west half of the notch is a hole that no district covers; 3 lies north
  // of both and only shares their edges.
  BoundaryOptions o = DistrictOptions();
  o.mapping.parent_prop = "parent";
  const std::string north = "[[0,0.01],[0.02,0.01],[0.02,0.02],[0,0.02],[0,0.01]]";
  const std::string json = Collection({
      Feature("1",
              "[[0,0],[0.011,0],[0.011,0.004],[0.009,0.004],[0.009,0.006],[0.011,0.006],[0.011,0.01],[0,0.01],"
              "[0,0]]"),
      Feature("2", "[[0.01,0],[0.02,0],[0.02,0.01],[0.01,0.01],[0.01,0]]"),
      Feature("3", north),
  });
  auto loaded = ParseGeoJsonBoundaries(json, o, "s.geojson");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const auto& issues = loaded->report.siblings;
  ASSERT_EQ(issues.size(), 2u) << (issues.empty() ? "" : issues[0].ToString());
  EXPECT_EQ(issues[0].kind, SiblingIssue::Kind::kOverlap);
  EXPECT_EQ(issues[0].a, "1");
  EXPECT_EQ(issues[0].b, "2");
  // 0.001 x 0.008 degrees at the equator: 111.195 m x 889.56 m = 98,914 m².
  EXPECT_NEAR(issues[0].area_m2, 98900, 300);
  EXPECT_EQ(issues[1].kind, SiblingIssue::Kind::kGap);
  EXPECT_EQ(issues[1].parent, "city");
  EXPECT_EQ(issues[1].pieces, 1);
  // The notch west of district 2's edge: 0.001 x 0.002 degrees = 24,728 m².
  EXPECT_NEAR(issues[1].area_m2, 24700, 300);
  EXPECT_NE(issues[0].ToString().find("overlap: 1 and 2 (parent city) share "), std::string::npos)
      << issues[0].ToString();
  EXPECT_NE(issues[1].ToString().find("gap: inside city, "), std::string::npos) << issues[1].ToString();
}

TEST(SiblingCheck, AParentWithABoundaryGivesItsOwnGaps) {
  // "city" and one district covering its west half: the east half is a gap.
  grid::v1::DirectoryContent c;
  auto* parent = c.add_units();
  parent->set_code("city");
  auto* ring = parent->mutable_boundary()->add_polygons()->add_rings();
  for (auto [x, y] : {std::pair{0.0, 0.0}, {0.02, 0.0}, {0.02, 0.01}, {0.0, 0.01}}) {
    ring->add_lng(x);
    ring->add_lat(y);
  }
  auto* child = c.add_units();
  child->set_code("1");
  child->set_parent_code("city");
  auto* cr = child->mutable_boundary()->add_polygons()->add_rings();
  for (auto [x, y] : {std::pair{0.0, 0.0}, {0.01, 0.0}, {0.01, 0.01}, {0.0, 0.01}}) {
    cr->add_lng(x);
    cr->add_lat(y);
  }
  auto issues = CheckSiblings(c);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, SiblingIssue::Kind::kGap);
  EXPECT_NEAR(issues[0].area_m2, 1111.95 * 1111.95, 2000);
}

TEST(BoundaryCoordinates, AGcj02FileIsConvertedToWgs84) {
  // A 0.01-degree square in Haikou drawn in GCJ-02 (as the DataV outlines are).
  BoundaryOptions o = DistrictOptions();
  o.coordinate_system = grid::v1::COORDINATE_SYSTEM_GCJ02;
  const std::string json = Collection({Feature("1", Square(110.30, 20.00, 110.31, 20.01))});
  auto loaded = ParseGeoJsonBoundaries(json, o, "datav.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const auto& ring = loaded->units.units(0).boundary().polygons(0).rings(0);
  const geo::Point corner = coords::Gcj02ToWgs84(geo::Point{110.30, 20.00});
  EXPECT_DOUBLE_EQ(ring.lng(0), corner.lng);
  EXPECT_DOUBLE_EQ(ring.lat(0), corner.lat);
  EXPECT_GT(geo::DistanceMeters(corner, geo::Point{110.30, 20.00}), 300.0);  // the offset is real
  EXPECT_NE(loaded->report.crs.find("GCJ-02 -> WGS-84"), std::string::npos) << loaded->report.crs;
  auto dir = WithParent(loaded->units);
  ASSERT_NE(dir, nullptr);
  // A GCJ-02 point just inside the square's edge that the offset moves: given
  // as GCJ-02 it routes to the square; the same numbers read as WGS-84 do not.
  const double d = 110.305 - coords::Gcj02ToWgs84(geo::Point{110.305, 20.005}).lng;
  const double lng = d > 0 ? 110.31 - d / 2 : 110.30 - d / 2;
  EXPECT_EQ(RoutedTo(*dir, lng, 20.005, grid::v1::COORDINATE_SYSTEM_GCJ02), "1");
  EXPECT_EQ(RoutedTo(*dir, lng, 20.005), "");

  o.coordinate_system = static_cast<grid::v1::CoordinateSystem>(17);
  EXPECT_EQ(ParseGeoJsonBoundaries(json, o, "datav.json").status().reason(), "UNKNOWN_COORDINATE_SYSTEM");
}

TEST(BoundaryFormat, ByExtensionOrByName) {
  EXPECT_EQ(*BoundaryFormatOf("a/b.geojson", ""), BoundaryFormat::kGeoJson);
  EXPECT_EQ(*BoundaryFormatOf("a/b.JSON.gz", ""), BoundaryFormat::kGeoJson);
  EXPECT_EQ(*BoundaryFormatOf("b.topojson", ""), BoundaryFormat::kTopoJson);
  EXPECT_EQ(*BoundaryFormatOf("b.shp", ""), BoundaryFormat::kShapefile);
  EXPECT_EQ(*BoundaryFormatOf("b.gpkg", ""), BoundaryFormat::kGeoPackage);
  EXPECT_EQ(*BoundaryFormatOf("b.json", "topojson"), BoundaryFormat::kTopoJson);
  EXPECT_EQ(*BoundaryFormatOf("b.dat", "shp"), BoundaryFormat::kShapefile);
  EXPECT_EQ(BoundaryFormatOf("b.kml", "").status().reason(), "UNSUPPORTED_FORMAT");
  EXPECT_EQ(BoundaryFormatOf("b.shp", "kml").status().reason(), "UNSUPPORTED_FORMAT");
}

// ---------------------------------------------------------------------------
// GDAL formats. The files are written here with OGR's C API.

struct Shape {
  std::string code;
  std::vector<std::pair<double, double>> ring;  // lng, lat, WGS-84, closed
};

std::vector<Shape> TwinShapes() {
  // Two districts in Manhattan sharing an edge, and one bow-tie.
  return {
      {"A", {{-73.99, 40.75}, {-73.98, 40.75}, {-73.98, 40.76}, {-73.99, 40.76}, {-73.99, 40.75}}},
      {"B", {{-73.98, 40.75}, {-73.97, 40.75}, {-73.97, 40.76}, {-73.98, 40.76}, {-73.98, 40.75}}},
      {"C", {{-73.97, 40.75}, {-73.96, 40.76}, {-73.96, 40.75}, {-73.97, 40.757}, {-73.97, 40.75}}},
  };
}

std::string TwinGeoJson() {
  std::vector<std::string> features;
  for (const Shape& s : TwinShapes()) {
    std::ostringstream o;
    o.precision(12);
    o << "[";
    for (size_t i = 0; i < s.ring.size(); ++i)
      o << (i ? "," : "") << "[" << s.ring[i].first << "," << s.ring[i].second << "]";
    o << "]";
    features.push_back(Feature(s.code, o.str()));
  }
  return Collection(features);
}

// Writes `shapes` with OGR to `path` in the driver's format and `epsg` (the
// WGS-84 rings transformed to it), with one text field "district".
void WriteOgr(const std::string& driver_name, const std::string& path, int epsg, const std::vector<Shape>& shapes) {
  OGRRegisterAll();
  GDALDriverH driver = GDALGetDriverByName(driver_name.c_str());
  ASSERT_NE(driver, nullptr);
  GDALDatasetH ds = GDALCreate(driver, path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
  ASSERT_NE(ds, nullptr);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  ASSERT_EQ(OSRImportFromEPSG(srs, epsg), OGRERR_NONE);
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReferenceH wgs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(wgs, 4326);
  OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
  OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(wgs, srs);
  ASSERT_NE(ct, nullptr);
  OGRLayerH layer = GDALDatasetCreateLayer(ds, "districts", srs, wkbPolygon, nullptr);
  ASSERT_NE(layer, nullptr);
  OGRFieldDefnH fd = OGR_Fld_Create("district", OFTString);
  OGR_L_CreateField(layer, fd, TRUE);
  OGR_Fld_Destroy(fd);
  for (const Shape& s : shapes) {
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(layer));
    OGR_F_SetFieldString(f, 0, s.code.c_str());
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    for (auto [x, y] : s.ring) OGR_G_AddPoint_2D(ring, x, y);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGR_G_AddGeometryDirectly(poly, ring);
    OGR_G_AssignSpatialReference(poly, wgs);
    ASSERT_EQ(OGR_G_Transform(poly, ct), OGRERR_NONE);
    OGR_F_SetGeometryDirectly(f, poly);
    ASSERT_EQ(OGR_L_CreateFeature(layer, f), OGRERR_NONE);
    OGR_F_Destroy(f);
  }
  OCTDestroyCoordinateTransformation(ct);
  OSRDestroySpatialReference(srs);
  OSRDestroySpatialReference(wgs);
  GDALClose(ds);
}

BoundaryOptions TwinOptions() {
  BoundaryOptions o;
  o.mapping.code_prop = "district";
  o.mapping.level = grid::v1::UNIT_LEVEL_GRID;
  o.mapping.parent_code = "city";
  return o;
}

TEST(BoundaryGdal, AProjectedShapefileRoutesAsItsGeoJsonTwin) {
  testing::TempDir tmp;
  const std::string shp = tmp.Sub("districts.shp");
  WriteOgr("ESRI Shapefile", shp, 2263, TwinShapes());  // NAD83 / New York Long Island (US feet)
  auto from_shp = ReadOgrBoundaries(shp, BoundaryFormat::kShapefile, TwinOptions(), "districts.shp");
  ASSERT_TRUE(from_shp.ok()) << from_shp.status().ToString();
  EXPECT_NE(from_shp->report.crs.find("EPSG:2263"), std::string::npos) << from_shp->report.crs;
  ASSERT_EQ(from_shp->report.repairs.size(), 1u);  // the bow-tie, also after reprojection
  EXPECT_EQ(from_shp->report.repairs[0].feature, "districts.shp: feature 2 (district=C)");
  auto from_json = ParseGeoJsonBoundaries(TwinGeoJson(), TwinOptions(), "districts.geojson");
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();

  // The shapefile writer turns rings clockwise and starts them elsewhere;
  // the areas agree to a square metre after the round trip through feet.
  ASSERT_EQ(from_shp->units.units_size(), from_json->units.units_size());
  for (int i = 0; i < from_shp->units.units_size(); ++i) {
    EXPECT_NEAR(BoundaryAreaM2(from_shp->units.units(i).boundary()),
                BoundaryAreaM2(from_json->units.units(i).boundary()), 1.0);
  }
  auto d1 = WithParent(from_shp->units);
  auto d2 = WithParent(from_json->units);
  ASSERT_NE(d1, nullptr);
  ASSERT_NE(d2, nullptr);
  // A lattice of points over the three districts and around them.
  int routed = 0;
  for (double x = -73.995; x <= -73.955; x += 0.00125) {
    for (double y = 40.745; y <= 40.765; y += 0.00125) {
      const std::string r1 = RoutedTo(*d1, x, y), r2 = RoutedTo(*d2, x, y);
      EXPECT_EQ(r1, r2) << x << "," << y;
      if (!r1.empty()) ++routed;
    }
  }
  EXPECT_GT(routed, 120);
}

TEST(BoundaryGdal, AGeoPackageInCgcs2000) {
  testing::TempDir tmp;
  const std::string gpkg = tmp.Sub("grids.gpkg");
  WriteOgr("GPKG", gpkg, 4490,
           {{"G1", {{110.0, 19.7}, {110.01, 19.7}, {110.01, 19.71}, {110.0, 19.71}, {110.0, 19.7}}}});
  auto loaded = ReadOgrBoundaries(gpkg, BoundaryFormat::kGeoPackage, TwinOptions(), "grids.gpkg");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_NE(loaded->report.crs.find("EPSG:4490"), std::string::npos) << loaded->report.crs;
  const auto& r = loaded->units.units(0).boundary().polygons(0).rings(0);
  EXPECT_NEAR(r.lng(0), 110.0, 1e-6);
  EXPECT_NEAR(r.lat(0), 19.7, 1e-6);
}

TEST(BoundaryGdal, TopoJsonThroughGdal) {
  BoundaryOptions o;
  o.mapping.code_prop = "nc_id";
  o.mapping.name_prop = "name";
  o.mapping.level = grid::v1::UNIT_LEVEL_GRID;
  o.mapping.parent_code = "city";
  const std::string path = testing::TestDataDir() + "/boundaries/councils.topojson";
  auto loaded = ReadOgrBoundaries(path, BoundaryFormat::kTopoJson, o, "councils.topojson");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->units.units_size(), 2);
  EXPECT_TRUE(loaded->report.siblings.empty()) << loaded->report.siblings[0].ToString();
  auto dir = WithParent(loaded->units);
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(RoutedTo(*dir, -118.295, 34.005), "10");
  EXPECT_EQ(RoutedTo(*dir, -118.285, 34.005), "11");
}

TEST(BoundaryGdal, BrokenFilesAreRefusedWithTheirReason) {
  testing::TempDir tmp;
  const std::string shp = tmp.Sub("d.shp");
  WriteOgr("ESRI Shapefile", shp, 2263, TwinShapes());

  // A field that is not there.
  BoundaryOptions o = TwinOptions();
  o.mapping.name_prop = "NAME";
  auto no_field = ReadOgrBoundaries(shp, BoundaryFormat::kShapefile, o, "d.shp");
  EXPECT_EQ(no_field.status().reason(), "MISSING_PROPERTY");
  EXPECT_NE(no_field.status().message().find("d.shp: layer d has no field \"NAME\" (its fields: district)"),
            std::string::npos)
      << no_field.status().ToString();

  // An unknown CRS: a .prj PROJ cannot read.
  fs::copy_file(tmp.Sub("d.prj"), tmp.Sub("d.prj.good"));
  std::ofstream(tmp.Sub("d.prj"), std::ios::trunc) << "PROJCS[\"nothing known\"]";
  auto bad_crs = ReadOgrBoundaries(shp, BoundaryFormat::kShapefile, TwinOptions(), "d.shp");
  EXPECT_EQ(bad_crs.status().reason(), "UNKNOWN_CRS") << bad_crs.status().ToString();

  // No .prj at all.
  fs::remove(tmp.Sub("d.prj"));
  auto no_prj = ReadOgrBoundaries(shp, BoundaryFormat::kShapefile, TwinOptions(), "d.shp");
  EXPECT_EQ(no_prj.status().reason(), "UNKNOWN_CRS");
  EXPECT_NE(no_prj.status().message().find("d.shp: the shapefile has no .prj"), std::string::npos)
      << no_prj.status().ToString();
  fs::rename(tmp.Sub("d.prj.good"), tmp.Sub("d.prj"));

  // No .dbf.
  fs::rename(tmp.Sub("d.dbf"), tmp.Sub("d.dbf.away"));
  auto no_dbf = ReadOgrBoundaries(shp, BoundaryFormat::kShapefile, TwinOptions(), "d.shp");
  EXPECT_EQ(no_dbf.status().reason(), "INVALID_BOUNDARY_FILE");
  EXPECT_NE(no_dbf.status().message().find("d.shp: the shapefile has no .dbf"), std::string::npos)
      << no_dbf.status().ToString();
  fs::rename(tmp.Sub("d.dbf.away"), tmp.Sub("d.dbf"));

  // Not a shapefile at all.
  std::ofstream(tmp.Sub("junk.gpkg")) << "not a geopackage";
  auto junk = ReadOgrBoundaries(tmp.Sub("junk.gpkg"), BoundaryFormat::kGeoPackage, TwinOptions(), "junk.gpkg");
  EXPECT_EQ(junk.status().reason(), "INVALID_BOUNDARY_FILE") << junk.status().ToString();

  // With --no-repair the bow-tie refuses the whole file.
  BoundaryOptions strict = TwinOptions();
  strict.repair = false;
  auto refused = ReadOgrBoundaries(shp, BoundaryFormat::kShapefile, strict, "d.shp");
  EXPECT_EQ(refused.status().reason(), "INVALID_GEOMETRY");
  EXPECT_NE(refused.status().message().find("d.shp: feature 2 (district=C): SELF_INTERSECTING_RING"), std::string::npos)
      << refused.status().ToString();

  // And the intact file still loads.
  EXPECT_TRUE(ReadOgrBoundaries(shp, BoundaryFormat::kShapefile, TwinOptions(), "d.shp").ok());
}

}  // namespace
}  // namespace grid
