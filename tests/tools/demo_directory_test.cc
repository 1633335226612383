// Tests for tools/demo/demo_directory: the 澄迈县 demo directory's figures,
// hierarchy, members, categories, determinism and geometry (the grids tile
// the county extent exactly). Geometry is checked with a local ray-casting
// helper, independent of engine/geo.
//
// Thread-safety: single-threaded tests.
#include "tools/demo/demo_directory.h"
#include "tests/support/paths.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "import/divisions.h"

namespace grid {
namespace {

using grid::v1::DirectoryContent;
using grid::v1::Member;
using grid::v1::Ring;
using grid::v1::Unit;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

using testing::SourceDir;
using testing::TestDataDir;

std::string TownsCsv() { return ReadFile(SourceDir() + "/data/chengmai/towns.csv"); }
std::string CommunitiesCsv() { return ReadFile(SourceDir() + "/data/chengmai/communities.csv"); }

std::string DeterministicBytes(const DirectoryContent& content) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    EXPECT_TRUE(content.SerializeToCodedStream(&coded));
  }
  return bytes;
}

// Even-odd ray casting (a ray towards +lng).
bool InRing(const Ring& ring, double lat, double lng) {
  bool inside = false;
  const int n = ring.lat_size();
  for (int i = 0, j = n - 1; i < n; j = i++) {
    const double yi = ring.lat(i), yj = ring.lat(j);
    const double xi = ring.lng(i), xj = ring.lng(j);
    if ((yi > lat) != (yj > lat) && lng < (xj - xi) * (lat - yi) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

bool InUnit(const Unit& unit, double lat, double lng) {
  for (const auto& polygon : unit.boundary().polygons()) {
    if (polygon.rings_size() == 0 || !InRing(polygon.rings(0), lat, lng)) continue;
    bool in_hole = false;
    for (int h = 1; h < polygon.rings_size(); ++h) in_hole |= InRing(polygon.rings(h), lat, lng);
    if (!in_hole) return true;
  }
  return false;
}

// Shoelace area (lng x lat, degrees squared) and centroid; positive when
// counter-clockwise.
struct AreaCentroid {
  double area = 0, lat = 0, lng = 0;
};
AreaCentroid RingArea(const Ring& ring) {
  double a = 0, cx = 0, cy = 0;
  const int n = ring.lat_size();
  for (int i = 0; i < n; ++i) {
    const int j = (i + 1) % n;
    const double cross = ring.lng(i) * ring.lat(j) - ring.lng(j) * ring.lat(i);
    a += cross;
    cx += (ring.lng(i) + ring.lng(j)) * cross;
    cy += (ring.lat(i) + ring.lat(j)) * cross;
  }
  a /= 2;
  return {a, cy / (6 * a), cx / (6 * a)};
}

class DemoDirectory : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto built = BuildChengmaiDemo(TownsCsv(), CommunitiesCsv());
    if (!built.ok()) {
      build_error_ = new std::string(built.status().ToString());
      return;
    }
    content_ = new DirectoryContent(std::move(built).value());
    units_ = new std::map<std::string, const Unit*>();
    members_ = new std::map<std::string, const Member*>();
    for (const Unit& u : content_->units()) (*units_)[u.code()] = &u;
    for (const Member& m : content_->members()) (*members_)[m.id()] = &m;
  }
  static void TearDownTestSuite() {
    delete members_;
    delete units_;
    delete content_;
    delete build_error_;
    members_ = nullptr;
    units_ = nullptr;
    content_ = nullptr;
    build_error_ = nullptr;
  }
  // A failed build fails every test (an assertion in SetUpTestSuite would
  // only skip them).
  void SetUp() override { ASSERT_NE(content_, nullptr) << (build_error_ != nullptr ? *build_error_ : "no build"); }

  static std::vector<const Unit*> Level(grid::v1::UnitLevel level) {
    std::vector<const Unit*> out;
    for (const Unit& u : content_->units()) {
      if (u.level() == level) out.push_back(&u);
    }
    return out;
  }
  static std::vector<const Member*> WithRole(grid::v1::MemberRole role) {
    std::vector<const Member*> out;
    for (const Member& m : content_->members()) {
      if (std::find(m.roles().begin(), m.roles().end(), role) != m.roles().end()) {
        out.push_back(&m);
      }
    }
    return out;
  }
  static const Unit& UnitAt(const std::string& code) { return *units_->at(code); }

  static const DirectoryContent* content_;
  static std::map<std::string, const Unit*>* units_;
  static std::map<std::string, const Member*>* members_;
  static std::string* build_error_;
};

const DirectoryContent* DemoDirectory::content_ = nullptr;
std::map<std::string, const Unit*>* DemoDirectory::units_ = nullptr;
std::map<std::string, const Member*>* DemoDirectory::members_ = nullptr;
std::string* DemoDirectory::build_error_ = nullptr;

TEST_F(DemoDirectory, UnitCountsMatchTheCountyFigures) {
  EXPECT_EQ(Level(grid::v1::UNIT_LEVEL_COUNTY).size(), 1u);
  EXPECT_EQ(Level(grid::v1::UNIT_LEVEL_TOWN).size(), 12u);
  EXPECT_EQ(Level(grid::v1::UNIT_LEVEL_COMMUNITY).size(), 202u);
  EXPECT_EQ(Level(grid::v1::UNIT_LEVEL_GRID).size(), static_cast<size_t>(kDemoGridCount));
  EXPECT_EQ(kDemoGridCount, 322);
  EXPECT_EQ(content_->units_size(), 1 + 12 + 202 + 322);
  EXPECT_EQ(units_->size(), static_cast<size_t>(content_->units_size())) << "codes not unique";
}

TEST_F(DemoDirectory, CountyIsTheRoot) {
  const Unit& county = content_->units(0);
  EXPECT_EQ(county.code(), "469023");
  EXPECT_EQ(county.name(), "澄迈县");
  EXPECT_EQ(county.level(), grid::v1::UNIT_LEVEL_COUNTY);
  EXPECT_EQ(county.parent_code(), "");
  EXPECT_EQ(county.party_organisation().name(), "中共澄迈县委员会");
  for (int i = 1; i < content_->units_size(); ++i) {
    EXPECT_NE(content_->units(i).parent_code(), "") << content_->units(i).code();
  }
}

TEST_F(DemoDirectory, HierarchyIsCountyTownCommunityGrid) {
  auto parsed = ParseDivisionCsv("communities.csv", CommunitiesCsv(), DivisionFile::kVillages);
  ASSERT_TRUE(parsed.ok());
  std::set<std::string> file_communities;
  for (const Unit& c : *parsed) file_communities.insert(c.code());

  std::set<std::string> seen;
  for (const Unit& u : content_->units()) {
    EXPECT_TRUE(seen.insert(u.code()).second) << "duplicate " << u.code();
    if (u.parent_code().empty()) continue;
    ASSERT_TRUE(units_->count(u.parent_code())) << u.code();
    const Unit& parent = UnitAt(u.parent_code());
    EXPECT_EQ(static_cast<int>(parent.level()) + 1, static_cast<int>(u.level())) << u.code();
    EXPECT_EQ(u.code().substr(0, parent.code().size()), parent.code()) << u.code();
    // Parents come before their children.
    EXPECT_TRUE(seen.count(parent.code())) << u.code();
  }
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    EXPECT_TRUE(file_communities.count(g->parent_code())) << g->code();
    EXPECT_EQ(g->code().size(), 15u);
    const std::string number = g->code().substr(12);
    EXPECT_EQ(number.find_first_not_of("0123456789"), std::string::npos) << g->code();
    const std::string short_name = CommunityShortName(UnitAt(g->parent_code()).name());
    EXPECT_EQ(g->name(), short_name + "第" + std::to_string(std::stoi(number)) + "网格");
    EXPECT_EQ(g->party_organisation().name(), g->name() + "党小组");
    EXPECT_EQ(g->party_organisation().kind(), "网格党小组");
  }
  EXPECT_EQ(UnitAt("469023100014001").name(), "金马东社区第1网格");
}

TEST_F(DemoDirectory, EveryCommunityHasOneToFourGrids) {
  std::map<std::string, int> grids;
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) ++grids[g->parent_code()];
  int shequ_grids = 0;
  for (const Unit* c : Level(grid::v1::UNIT_LEVEL_COMMUNITY)) {
    const int n = grids[c->code()];
    EXPECT_GE(n, 1) << c->code();
    EXPECT_LE(n, 4) << c->code();
    if (c->name().find("社区") != std::string::npos) {
      EXPECT_GE(n, 2) << c->code();
      shequ_grids += n;
    }
  }
  // Every 社区 of the county seat 金江镇 has 4.
  EXPECT_EQ(grids["469023100014"], 4);
  EXPECT_GT(shequ_grids, 37 * 2);
}

TEST_F(DemoDirectory, MemberFigures) {
  const auto workers = WithRole(grid::v1::MEMBER_ROLE_GRID_WORKER);
  ASSERT_EQ(workers.size(), 322u);
  std::set<std::string> grids_with_worker;
  for (const Member* m : workers) {
    EXPECT_TRUE(m->on_duty());
    EXPECT_EQ(UnitAt(m->unit_code()).level(), grid::v1::UNIT_LEVEL_GRID);
    grids_with_worker.insert(m->unit_code());
  }
  EXPECT_EQ(grids_with_worker.size(), 322u);

  const auto pioneers = WithRole(grid::v1::MEMBER_ROLE_PIONEER_POST);
  EXPECT_EQ(pioneers.size(), static_cast<size_t>(kDemoPioneerPostCount));
  EXPECT_EQ(kDemoPioneerPostCount, 1321);
  std::set<std::string> pioneer_grids;
  for (const Member* m : pioneers) {
    EXPECT_TRUE(m->party_member());
    EXPECT_EQ(UnitAt(m->unit_code()).level(), grid::v1::UNIT_LEVEL_GRID);
    pioneer_grids.insert(m->unit_code());
  }
  EXPECT_EQ(pioneer_grids.size(), 322u) << "pioneer posts spread over every grid";

  const auto in_service = WithRole(grid::v1::MEMBER_ROLE_IN_SERVICE);
  EXPECT_EQ(in_service.size(), 2457u);
  std::set<std::string> employers;
  for (const Member* m : in_service) {
    EXPECT_TRUE(m->party_member());
    EXPECT_EQ(UnitAt(m->unit_code()).level(), grid::v1::UNIT_LEVEL_COMMUNITY);
    EXPECT_FALSE(m->employer().empty());
    employers.insert(m->employer());
  }
  EXPECT_EQ(employers.size(), 134u);

  const auto talents = WithRole(grid::v1::MEMBER_ROLE_SEASONAL_TALENT);
  EXPECT_EQ(talents.size(), 150u);
  const std::set<std::string> known_skills{"medical", "legal", "education", "agriculture", "elderly_care"};
  int medical = 0;
  for (const Member* m : talents) {
    EXPECT_FALSE(m->skills().empty());
    for (const std::string& s : m->skills()) {
      EXPECT_TRUE(known_skills.count(s)) << s;
      medical += s == "medical";
    }
  }
  EXPECT_EQ(medical, 21);

  EXPECT_EQ(WithRole(grid::v1::MEMBER_ROLE_MOBILE).size(), static_cast<size_t>(kDemoMobileMemberCount));
  EXPECT_GT(WithRole(grid::v1::MEMBER_ROLE_CADRE).size(), 0u);
}

TEST_F(DemoDirectory, MembersAreWellFormed) {
  std::set<std::string> phones;
  for (const Member& m : content_->members()) {
    EXPECT_EQ(m.id().size(), 7u);
    EXPECT_EQ(m.id()[0], 'M');
    EXPECT_TRUE(units_->count(m.unit_code())) << m.id() << " " << m.unit_code();
    EXPECT_FALSE(m.name().empty());
    EXPECT_EQ(m.phone().size(), 11u);
    EXPECT_EQ(m.phone().find_first_not_of("0123456789"), std::string::npos);
    EXPECT_EQ(m.phone()[0], '1');
    EXPECT_TRUE(phones.insert(m.phone()).second) << m.phone();
    EXPECT_EQ(m.roles_size(), 1) << m.id();
  }
  EXPECT_EQ(members_->size(), static_cast<size_t>(content_->members_size())) << "ids not unique";
  EXPECT_EQ(content_->members(0).id(), "M000001");
}

TEST_F(DemoDirectory, GridsHaveWorkerContactAndSecretary) {
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    ASSERT_EQ(g->on_duty_size(), 1) << g->code();
    const std::string& secretary = g->party_organisation().secretary_member_id();
    ASSERT_TRUE(members_->count(secretary)) << g->code();
    const Member& worker = *members_->at(secretary);
    EXPECT_EQ(worker.unit_code(), g->code());
    EXPECT_EQ(g->on_duty(0).phone(), worker.phone());
    EXPECT_EQ(g->on_duty(0).duty(), "网格员");
  }
}

TEST_F(DemoDirectory, BackStreetsAreHeldByCadres) {
  int back_streets = 0;
  std::set<std::string> alley_names;
  std::map<std::string, std::set<std::string>> held;  // member -> streets
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    ASSERT_GE(g->address_coverage_size(), 1) << g->code();
    EXPECT_LE(g->address_coverage_size(), 3) << g->code();
    for (const auto& range : g->address_coverage()) {
      EXPECT_FALSE(range.street().empty());
      EXPECT_GE(range.from_number(), 1);
      EXPECT_GE(range.to_number(), range.from_number());
      if (range.member_id().empty()) continue;
      ++back_streets;
      EXPECT_TRUE(alley_names.insert(range.street()).second) << range.street();
      EXPECT_EQ(range.street().substr(range.street().size() - 3), "巷") << range.street();
      ASSERT_TRUE(members_->count(range.member_id())) << range.member_id();
      held[range.member_id()].insert(range.street());
    }
  }
  EXPECT_EQ(back_streets, 416);
  EXPECT_EQ(kDemoBackStreetCount, 416);
  for (const auto& [id, streets] : held) {
    const Member& cadre = *members_->at(id);
    EXPECT_EQ(cadre.roles(0), grid::v1::MEMBER_ROLE_CADRE);
    const std::set<std::string> points(cadre.responsibility_points().begin(), cadre.responsibility_points().end());
    EXPECT_EQ(points, streets) << id;
  }
  EXPECT_EQ(held.size(), WithRole(grid::v1::MEMBER_ROLE_CADRE).size());
}

TEST_F(DemoDirectory, StreetNamesAreUniquePerCommunity) {
  // A road is shared by one community's grids with disjoint number ranges;
  // no two communities share a street name.
  std::map<std::string, std::string> owner;  // street -> community
  std::map<std::string, std::vector<std::pair<int, int>>> ranges;
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    for (const auto& range : g->address_coverage()) {
      auto [it, inserted] = owner.emplace(range.street(), g->parent_code());
      EXPECT_EQ(it->second, g->parent_code()) << range.street();
      ranges[range.street()].push_back({range.from_number(), range.to_number()});
    }
  }
  for (auto& [street, list] : ranges) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_LT(list[i - 1].second, list[i].first) << street;
    }
  }
  EXPECT_TRUE(owner.count("金马东路"));
}

TEST_F(DemoDirectory, DepartmentsAndCategories) {
  std::set<std::string> departments;
  for (const auto& d : content_->departments()) {
    EXPECT_EQ(d.code().substr(0, 5), "dept.");
    EXPECT_EQ(d.unit_code(), "469023");
    EXPECT_FALSE(d.name().empty());
    EXPECT_TRUE(departments.insert(d.code()).second) << d.code();
  }
  EXPECT_EQ(departments.size(), 12u);
  for (const char* code :
       {"dept.housing", "dept.city_management", "dept.police", "dept.health", "dept.water", "dept.power"}) {
    EXPECT_TRUE(departments.count(code)) << code;
  }
  std::map<std::string, const grid::v1::Category*> categories;
  for (const auto& c : content_->categories()) {
    categories[c.code()] = &c;
    EXPECT_FALSE(c.name().empty());
    EXPECT_NE(c.handling(), grid::v1::HANDLING_UNSPECIFIED);
    EXPECT_FALSE(c.deadline_class().empty());
    for (const std::string& d : c.department_codes()) {
      EXPECT_TRUE(departments.count(d)) << c.code() << " -> " << d;
    }
    if (c.handling() != grid::v1::HANDLING_GRID) {
      EXPECT_GT(c.department_codes_size(), 0) << c.code();
    }
  }
  EXPECT_EQ(categories.size(), 13u);
  const auto& water = *categories.at("water.main_burst");
  EXPECT_EQ(water.handling(), grid::v1::HANDLING_GRID_WITH_SUMMONS);
  EXPECT_EQ(water.department_codes(0), "dept.water");
  EXPECT_EQ(water.deadline_class(), "utilities");
  const auto& construction = *categories.at("illegal_construction");
  EXPECT_EQ(construction.department_codes_size(), 2);
  EXPECT_EQ(construction.deadline_class(), "complex");
  EXPECT_EQ(categories.at("power.outage")->handling(), grid::v1::HANDLING_DEPARTMENT);
  EXPECT_EQ(categories.at("health.medical_help")->required_skills(0), "medical");
  EXPECT_EQ(categories.at("health.medical_help")->deadline_class(), "emergency");
  EXPECT_EQ(categories.at("public_security")->department_codes(0), "dept.police");
}

TEST_F(DemoDirectory, IsDeterministic) {
  auto again = BuildChengmaiDemo(TownsCsv(), CommunitiesCsv());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(DeterministicBytes(*again), DeterministicBytes(*content_));
  EXPECT_EQ(again->SerializeAsString(), content_->SerializeAsString());
}

TEST_F(DemoDirectory, TestFixturesGiveTheSameDirectory) {
  // tests/data/divisions holds the same 澄迈县 rows as data/chengmai.
  auto from_fixtures = BuildChengmaiDemo(ReadFile(TestDataDir() + "/divisions/streets.csv"),
                                         ReadFile(TestDataDir() + "/divisions/villages.csv"));
  ASSERT_TRUE(from_fixtures.ok()) << from_fixtures.status().ToString();
  EXPECT_EQ(DeterministicBytes(*from_fixtures), DeterministicBytes(*content_));
}

TEST_F(DemoDirectory, BuildsWellUnderASecond) {
  const std::string towns = TownsCsv();
  const std::string communities = CommunitiesCsv();
  const std::clock_t start = std::clock();
  auto built = BuildChengmaiDemo(towns, communities);
  const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  ASSERT_TRUE(built.ok());
  EXPECT_LT(seconds, 0.5);
}

TEST_F(DemoDirectory, GridPolygonsLieInsideTheCountyExtent) {
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    ASSERT_EQ(g->boundary().polygons_size(), 1) << g->code();
    ASSERT_EQ(g->boundary().polygons(0).rings_size(), 1) << g->code();
    const Ring& ring = g->boundary().polygons(0).rings(0);
    ASSERT_EQ(ring.lat_size(), ring.lng_size());
    EXPECT_GE(ring.lat_size(), 4) << g->code();
    for (int i = 0; i < ring.lat_size(); ++i) {
      EXPECT_GE(ring.lat(i), kDemoCountyExtent.south);
      EXPECT_LE(ring.lat(i), kDemoCountyExtent.north);
      EXPECT_GE(ring.lng(i), kDemoCountyExtent.west);
      EXPECT_LE(ring.lng(i), kDemoCountyExtent.east);
    }
    EXPECT_GT(RingArea(ring).area, 0) << g->code() << " is not counter-clockwise";
  }
}

TEST_F(DemoDirectory, GridsTileTheExtentWithoutGapsOrOverlaps) {
  const auto grids = Level(grid::v1::UNIT_LEVEL_GRID);
  // Areas add up to the extent's.
  double total = 0;
  for (const Unit* g : grids) total += RingArea(g->boundary().polygons(0).rings(0)).area;
  const DemoExtent& e = kDemoCountyExtent;
  const double extent_area = (e.north - e.south) * (e.east - e.west);
  EXPECT_NEAR(total, extent_area, extent_area * 1e-9);

  // Every sample point of a deterministic 90 x 75 lattice (none on the outer
  // boundary) lies in exactly one grid.
  constexpr int kLat = 90, kLng = 75;
  int checked = 0;
  for (int i = 0; i < kLat; ++i) {
    for (int j = 0; j < kLng; ++j) {
      const double lat = e.south + (i + 0.37) / kLat * (e.north - e.south);
      const double lng = e.west + (j + 0.61) / kLng * (e.east - e.west);
      int containing = 0;
      for (const Unit* g : grids) containing += InUnit(*g, lat, lng);
      EXPECT_EQ(containing, 1) << "at " << lat << ", " << lng;
      ++checked;
    }
  }
  EXPECT_EQ(checked, kLat * kLng);
}

// Every edge not on the extent's outline is shared, vertex for vertex, by
// exactly one other grid, run the other way; a community's grids are
// connected through such edges.
TEST_F(DemoDirectory, NeighboursShareEdgesExactly) {
  using Point = std::pair<double, double>;
  std::map<std::pair<Point, Point>, std::string> edges;
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    const Ring& ring = g->boundary().polygons(0).rings(0);
    const int n = ring.lat_size();
    for (int i = 0; i < n; ++i) {
      const int j = (i + 1) % n;
      const Point a{ring.lat(i), ring.lng(i)}, b{ring.lat(j), ring.lng(j)};
      ASSERT_NE(a, b) << g->code();
      EXPECT_TRUE(edges.emplace(std::make_pair(a, b), g->code()).second) << g->code();
    }
  }
  const DemoExtent& e = kDemoCountyExtent;
  auto on_outline = [&](const Point& a, const Point& b) {
    return (a.first == e.south && b.first == e.south) || (a.first == e.north && b.first == e.north) ||
           (a.second == e.west && b.second == e.west) || (a.second == e.east && b.second == e.east);
  };
  std::map<std::string, std::set<std::string>> neighbours;
  int outline = 0;
  for (const auto& [edge, code] : edges) {
    auto twin = edges.find({edge.second, edge.first});
    if (twin == edges.end()) {
      EXPECT_TRUE(on_outline(edge.first, edge.second))
          << code << " edge (" << edge.first.first << "," << edge.first.second << ")-(" << edge.second.first << ","
          << edge.second.second << ") has no twin";
      ++outline;
      continue;
    }
    EXPECT_NE(twin->second, code);
    neighbours[code].insert(twin->second);
  }
  EXPECT_EQ(outline, 2 * (48 + 36));  // the lattice's outer edges

  // Grids of one community are contiguous.
  std::map<std::string, std::vector<std::string>> by_community;
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    by_community[g->parent_code()].push_back(g->code());
  }
  for (const auto& [community, codes] : by_community) {
    std::set<std::string> reached{codes[0]};
    std::vector<std::string> stack{codes[0]};
    while (!stack.empty()) {
      const std::string code = stack.back();
      stack.pop_back();
      for (const std::string& n : neighbours[code]) {
        if (UnitAt(n).parent_code() == community && reached.insert(n).second) {
          stack.push_back(n);
        }
      }
    }
    EXPECT_EQ(reached.size(), codes.size()) << community << " is not contiguous";
  }
}

TEST_F(DemoDirectory, TownsSitRoughlyWhereTheyAre) {
  auto town_centre = [&](const std::string& town) {
    double area = 0, lat = 0, lng = 0;
    for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
      if (g->code().substr(0, 9) != town) continue;
      const AreaCentroid c = RingArea(g->boundary().polygons(0).rings(0));
      area += c.area;
      lat += c.lat * c.area;
      lng += c.lng * c.area;
    }
    return std::make_pair(lat / area, lng / area);
  };
  const auto jinjiang = town_centre("469023100");
  EXPECT_NEAR(jinjiang.first, 19.70, 0.08);
  EXPECT_NEAR(jinjiang.second, 110.01, 0.05);
  const auto laocheng = town_centre("469023101");
  EXPECT_NEAR(laocheng.first, 19.97, 0.06);
  EXPECT_NEAR(laocheng.second, 110.15, 0.06);
}

TEST_F(DemoDirectory, JinjiangPointLiesInItsGrid) {
  std::vector<std::string> containing;
  for (const Unit* g : Level(grid::v1::UNIT_LEVEL_GRID)) {
    if (InUnit(*g, kDemoJinjiangPoint.lat, kDemoJinjiangPoint.lng)) {
      containing.push_back(g->code());
    }
  }
  ASSERT_EQ(containing, std::vector<std::string>{std::string(kDemoJinjiangGridCode)});
  const Unit& grid_unit = UnitAt(std::string(kDemoJinjiangGridCode));
  EXPECT_EQ(grid_unit.name(), "光明社区第1网格");
  EXPECT_EQ(grid_unit.parent_code(), kDemoJinjiangCommunityCode);
  const Unit& community = UnitAt(grid_unit.parent_code());
  EXPECT_EQ(community.level(), grid::v1::UNIT_LEVEL_COMMUNITY);
  EXPECT_EQ(community.parent_code(), kDemoJinjiangTownCode);
  EXPECT_EQ(UnitAt(community.parent_code()).name(), "金江镇");
  EXPECT_EQ(UnitAt(community.parent_code()).parent_code(), kDemoCountyCode);

  // The constant is the grid's centroid, rounded.
  const AreaCentroid c = RingArea(grid_unit.boundary().polygons(0).rings(0));
  EXPECT_NEAR(c.lat, kDemoJinjiangPoint.lat, 1e-6);
  EXPECT_NEAR(c.lng, kDemoJinjiangPoint.lng, 1e-6);

  // The grid has an on-duty member with the medical skill.
  bool medical = false;
  for (const Member& m : content_->members()) {
    if (m.unit_code() != kDemoJinjiangGridCode || !m.on_duty()) continue;
    for (const std::string& s : m.skills()) medical |= s == "medical";
  }
  EXPECT_TRUE(medical);
}

TEST_F(DemoDirectory, RejectsInputThatIsNotChengmai) {
  const std::string towns_header = "code,name,areaCode,provinceCode,cityCode\n";
  const std::string communities = CommunitiesCsv();
  {
    auto built = BuildChengmaiDemo(towns_header + "469024100,\"临城镇\",469024,46,4690\n", communities);
    ASSERT_FALSE(built.ok());
    EXPECT_EQ(built.status().reason(), "DEMO_INPUT");
  }
  {
    // 11 of the 12 towns: a hole in the layout.
    std::string towns = TownsCsv();
    towns = towns.substr(0, towns.rfind("469023405"));
    auto built = BuildChengmaiDemo(towns, communities);
    ASSERT_FALSE(built.ok());
    EXPECT_EQ(built.status().reason(), "DEMO_INPUT");
  }
  {
    auto built = BuildChengmaiDemo(TownsCsv(), communities + "469023100999,\"x\"\n");
    ASSERT_FALSE(built.ok());
    EXPECT_EQ(built.status().reason(), "MALFORMED_CSV");
    EXPECT_EQ(built.status().message().substr(0, 20), "communities.csv line");
  }
  {
    auto built = BuildChengmaiDemo(TownsCsv(), communities + "469023111001,\"某村委会\",469023111,46,4690,469023\n");
    ASSERT_FALSE(built.ok());
    EXPECT_EQ(built.status().reason(), "DEMO_INPUT");
  }
}

}  // namespace
}  // namespace grid
