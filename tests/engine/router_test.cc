// The router on the tiny directory: location, address, unit and category
// rules, fallbacks, and why each decision was taken.
#include "engine/router.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/tiny_directory.h"

namespace grid {
namespace {

using grid::v1::RoutingDecision;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override { Rebuild(testing::TinyDirectory()); }
  void Rebuild(grid::v1::DirectoryContent c) {
    auto d = Directory::Build(std::move(c), 4);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dir_ = *d;
  }
  RoutingDecision RouteOk(const RouteInput& in, const Router& router = Router()) {
    auto r = router.Route(*dir_, in);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RoutingDecision();
  }
  std::shared_ptr<const Directory> dir_;
};

TEST_F(RouterTest, ExplicitUnitWins) {
  RouteInput in{.category = "sanitation", .location = geo::Point{110.015, 20.005}, .unit_code = "100001001001"};
  auto d = RouteOk(in);
  EXPECT_EQ(d.unit_code(), "100001001001");
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_EXPLICIT_UNIT);
  EXPECT_EQ(d.directory_version(), 4u);
  EXPECT_FALSE(d.needs_manual_dispatch());
}

TEST_F(RouterTest, ExplicitCommunityNeedsManualDispatch) {
  auto d = RouteOk({.category = "sanitation", .unit_code = "100001001"});
  EXPECT_EQ(d.unit_code(), "100001001");
  EXPECT_TRUE(d.needs_manual_dispatch());
}

TEST_F(RouterTest, UnknownUnitAndCategoryAreErrors) {
  Router router;
  auto r = router.Route(*dir_, {.category = "sanitation", .unit_code = "404"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "UNKNOWN_UNIT");
  r = router.Route(*dir_, {.category = "nope"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "UNKNOWN_CATEGORY");
}

TEST_F(RouterTest, LocationFindsTheGridWithItsPolygonAndPath) {
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{110.015, 20.005}});
  EXPECT_EQ(d.unit_code(), "100001001002");
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_LOCATION);
  EXPECT_EQ(d.matched_polygon(), "100001001002#0");
  EXPECT_EQ(d.path(), "测试县 / 测试镇 / 测试社区 / 第2网格");
  EXPECT_NE(d.explanation().find("第2网格"), std::string::npos);
  EXPECT_FALSE(d.ambiguous());
}

TEST_F(RouterTest, SharedEdgeHasExactlyOneOwnerEveryTime) {
  std::string first;
  for (int i = 0; i < 3; ++i) {
    auto d = RouteOk({.category = "sanitation", .location = geo::Point{110.01, 20.005}});
    EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_LOCATION);
    EXPECT_FALSE(d.ambiguous());
    if (i == 0) first = d.unit_code();
    EXPECT_EQ(d.unit_code(), first);
  }
}

TEST_F(RouterTest, OverlapIsFlaggedAndLowestCodeWins) {
  auto c = testing::TinyDirectory();
  // Grid 2 grows west over half of grid 1.
  c.mutable_units(4)->clear_boundary();
  testing::AddSquare(c.mutable_units(4), 110.005, 20.00, 110.02, 20.01);
  Rebuild(c);
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{110.007, 20.005}});
  EXPECT_EQ(d.unit_code(), "100001001001");
  EXPECT_TRUE(d.ambiguous());
  ASSERT_EQ(d.candidates_size(), 2);
  EXPECT_EQ(d.candidates(0), "100001001001");
  EXPECT_EQ(d.candidates(1), "100001001002");
}

TEST_F(RouterTest, PointNearAGridGoesToTheNearestWithinReach) {
  // 0.001 degree of latitude south of grid 1: about 111 m.
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{110.005, 19.999}});
  EXPECT_EQ(d.unit_code(), "100001001001");
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_NEAREST_GRID);
  ASSERT_EQ(d.steps_size(), 2);
  EXPECT_FALSE(d.steps(0).matched());
}

TEST_F(RouterTest, PointFarFromEveryGridFallsBackToTheRoot) {
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{116.4, 39.9}});
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_FALLBACK);
  EXPECT_EQ(d.unit_code(), "100");
  EXPECT_TRUE(d.needs_manual_dispatch());
}

TEST_F(RouterTest, FallbackPrefersTheCallersScopeThenTheTriageUnit) {
  auto d = RouteOk({.category = "sanitation", .fallback_unit = "100001"});
  EXPECT_EQ(d.unit_code(), "100001");
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_FALLBACK);
  Router triage(RouterOptions{.triage_unit = "100001001"});
  d = RouteOk({.category = "sanitation"}, triage);
  EXPECT_EQ(d.unit_code(), "100001001");
}

TEST_F(RouterTest, NoUnitAtAllIsUnroutable) {
  auto c = testing::TinyDirectory();
  testing::AddUnit(&c, "200", grid::v1::UNIT_LEVEL_COUNTY, "另一县", "");
  Rebuild(c);  // two roots: no single root to fall back to
  auto r = Router().Route(*dir_, {.category = "sanitation"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "UNROUTABLE");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RouterTest, AddressMatchesStreetAndHouseNumberParity) {
  auto d = RouteOk({.category = "sanitation", .address = "测试镇文化北路１５号"});  // full-width digits
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_ADDRESS);
  EXPECT_EQ(d.unit_code(), "100001001001");  // odd numbers
  EXPECT_EQ(d.matched_address_entry(), "文化北路 1-99号");
  d = RouteOk({.category = "sanitation", .address = "文化北路16号"});
  EXPECT_EQ(d.unit_code(), "100001001002");  // even numbers
  d = RouteOk({.category = "sanitation", .address = "幸福巷 3 号"});
  EXPECT_EQ(d.unit_code(), "100001001002");  // a whole alley
}

TEST_F(RouterTest, LatinAddressesMatchAcrossAbbreviations) {
  auto c = testing::TinyDirectory();
  auto* entry = c.mutable_units(3)->add_address_coverage();
  entry->set_street("North De Soto Avenue");
  entry->set_from_number(8000);
  entry->set_to_number(8999);
  Rebuild(c);
  auto d = RouteOk({.category = "sanitation", .address = "8525 N DE SOTO AVE, 91304"});
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_ADDRESS);
  EXPECT_EQ(d.unit_code(), "100001001001");
  d = RouteOk({.category = "sanitation", .address = "9525 N DE SOTO AVE, 91304"});  // outside the range
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_FALLBACK);
}

TEST_F(RouterTest, AddressIsUsedOnlyWhenLocationFails) {
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{116.4, 39.9}, .address = "幸福巷"});
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_ADDRESS);
  ASSERT_GE(d.steps_size(), 2);
  EXPECT_EQ(d.steps(0).method(), grid::v1::ROUTING_METHOD_LOCATION);
  EXPECT_FALSE(d.steps(0).matched());
}

TEST_F(RouterTest, UnknownAddressFallsBack) {
  auto d = RouteOk({.category = "sanitation", .address = "人民大道100号"});
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_FALLBACK);
}

TEST_F(RouterTest, CategoryRuleNamesTheDepartment) {
  auto d = RouteOk({.category = "security", .location = geo::Point{110.005, 20.005}});
  EXPECT_EQ(d.department_code(), "dept.police");
  EXPECT_EQ(d.unit_code(), "100001001001");  // where it happened
  EXPECT_TRUE(d.assignee_member_id().empty());
  d = RouteOk({.category = "security"});
  EXPECT_EQ(d.unit_code(), "100");  // the department's unit
  EXPECT_EQ(d.method(), grid::v1::ROUTING_METHOD_CATEGORY_RULE);
  EXPECT_FALSE(d.needs_manual_dispatch());
}

TEST_F(RouterTest, SummonsListTheDepartments) {
  auto d = RouteOk({.category = "water.burst", .location = geo::Point{110.005, 20.005}});
  EXPECT_EQ(d.unit_code(), "100001001001");
  ASSERT_EQ(d.summoned_department_codes_size(), 1);
  EXPECT_EQ(d.summoned_department_codes(0), "dept.water");
}

TEST_F(RouterTest, ACountyRuleOverridesTheCategoryDefault) {
  auto c = testing::TinyDirectory();
  auto* rule = c.add_category_rules();  // this county sends sanitation to the water bureau, with medical skills
  rule->set_unit_code("100001");
  rule->set_category("sanitation");
  rule->set_handling(grid::v1::HANDLING_GRID_WITH_SUMMONS);
  rule->add_department_codes("dept.water");
  rule->add_required_skills("medical");
  Rebuild(c);
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{110.005, 20.005}});
  ASSERT_EQ(d.summoned_department_codes_size(), 1);
  EXPECT_EQ(d.summoned_department_codes(0), "dept.water");
  EXPECT_EQ(d.assignee_member_id(), "M4");  // the skill now required
  bool explained = false;
  for (const auto& s : d.steps()) explained |= s.detail().find("rule of 测试镇 (100001)") != std::string::npos;
  EXPECT_TRUE(explained);
  // Outside the rule's subtree (fallback at the county) the default applies.
  d = RouteOk({.category = "sanitation", .fallback_unit = "100"});
  EXPECT_EQ(d.summoned_department_codes_size(), 0);
}

TEST_F(RouterTest, AssigneeIsOnDutyAndSkilled) {
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{110.005, 20.005}});
  EXPECT_EQ(d.assignee_member_id(), "M1");  // M2 is off duty
  // Medical needs the skill: M2 has it but is off duty, so the community's M4 takes it.
  d = RouteOk({.category = "medical", .location = geo::Point{110.005, 20.005}});
  EXPECT_EQ(d.assignee_member_id(), "M4");
  EXPECT_NE(d.assignee_explanation().find("community"), std::string::npos);
}

TEST_F(RouterTest, AssigneeTakesTheLeastLoad) {
  auto c = testing::TinyDirectory();
  c.mutable_members(1)->set_on_duty(true);  // M2 now on duty in grid 1
  Rebuild(c);
  std::map<std::string, uint32_t, std::less<>> load{{"M1", 5}, {"M2", 1}};
  Router router({}, [&](std::string_view id) {
    auto it = load.find(id);
    return it == load.end() ? 0u : it->second;
  });
  auto d = RouteOk({.category = "sanitation", .location = geo::Point{110.005, 20.005}}, router);
  EXPECT_EQ(d.assignee_member_id(), "M2");
  load["M2"] = 5;  // a tie goes to the lower id
  d = RouteOk({.category = "sanitation", .location = geo::Point{110.005, 20.005}}, router);
  EXPECT_EQ(d.assignee_member_id(), "M1");
}

}  // namespace
}  // namespace grid
