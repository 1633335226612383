#include "engine/directory.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/tiny_directory.h"

namespace grid {
namespace {

std::shared_ptr<const Directory> BuildOk(grid::v1::DirectoryContent c, uint64_t version = 1) {
  auto d = Directory::Build(std::move(c), version);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : Directory::Empty();
}

std::string BuildReason(const grid::v1::DirectoryContent& c) {
  auto d = Directory::Build(c, 1);
  return d.ok() ? "OK" : d.status().reason();
}

TEST(Directory, IndexesTheTree) {
  auto d = BuildOk(testing::TinyDirectory(), 7);
  EXPECT_EQ(d->version(), 7u);
  EXPECT_EQ(d->unit_count(), 5u);
  ASSERT_NE(d->FindUnit("100001001001"), nullptr);
  EXPECT_EQ(d->FindUnit("nope"), nullptr);
  ASSERT_EQ(d->Children("100001001").size(), 2u);
  EXPECT_EQ(d->Children("100001001")[0]->code(), "100001001001");
  ASSERT_EQ(d->Children("").size(), 1u);
  EXPECT_EQ(d->Children("")[0]->code(), "100");
  auto anc = d->Ancestors("100001001002");
  ASSERT_EQ(anc.size(), 3u);
  EXPECT_EQ(anc[0]->code(), "100");
  EXPECT_EQ(anc[2]->code(), "100001001");
  EXPECT_EQ(d->PathName("100001001002"), "测试县 / 测试镇 / 测试社区 / 第2网格");
  EXPECT_TRUE(d->IsWithin("100001001002", "100001"));
  EXPECT_TRUE(d->IsWithin("100001", "100001"));
  EXPECT_FALSE(d->IsWithin("100001", "100001001002"));
  EXPECT_EQ(d->MembersOf("100001001001").size(), 2u);
  EXPECT_EQ(d->grid_index().size(), 2u);
  EXPECT_EQ(d->GridsOnStreet("文化北路").size(), 2u);
  EXPECT_NE(d->FindCategory("security"), nullptr);
  EXPECT_NE(d->FindDepartment("dept.water"), nullptr);
  EXPECT_NE(d->FindMember("M4"), nullptr);
}

TEST(Directory, RejectsEveryBrokenRule) {
  auto base = testing::TinyDirectory();
  {
    auto c = base;
    *c.add_units() = c.units(1);
    EXPECT_EQ(BuildReason(c), "DUPLICATE_CODE");
  }
  {
    auto c = base;
    c.mutable_units(3)->set_parent_code("999");
    EXPECT_EQ(BuildReason(c), "UNKNOWN_PARENT");
  }
  {
    auto c = base;
    c.mutable_units(3)->set_parent_code("100001");  // a grid under a town
    EXPECT_EQ(BuildReason(c), "PARENT_LEVEL");
  }
  {
    auto c = base;
    c.mutable_units(1)->set_parent_code("100001001");  // a town under a community
    EXPECT_EQ(BuildReason(c), "PARENT_LEVEL");
  }
  {
    auto c = base;
    c.mutable_units(0)->set_code("bad code");
    EXPECT_EQ(BuildReason(c), "INVALID_CODE");
  }
  {
    auto c = base;
    c.mutable_units(0)->set_level(grid::v1::UNIT_LEVEL_UNSPECIFIED);
    EXPECT_EQ(BuildReason(c), "INVALID_LEVEL");
  }
  {
    auto c = base;
    c.mutable_units(0)->set_name("");
    EXPECT_EQ(BuildReason(c), "INVALID_NAME");
  }
  {
    auto c = base;
    c.mutable_units(3)->mutable_boundary()->mutable_polygons(0)->mutable_rings(0)->set_lat(0, NAN);
    EXPECT_EQ(BuildReason(c), "INVALID_GEOMETRY");
  }
  {
    auto c = base;
    c.mutable_members(0)->set_unit_code("999");
    EXPECT_EQ(BuildReason(c), "UNKNOWN_UNIT");
  }
  {
    auto c = base;
    *c.add_members() = c.members(0);
    EXPECT_EQ(BuildReason(c), "DUPLICATE_MEMBER");
  }
  {
    auto c = base;
    c.mutable_categories(1)->set_department_codes(0, "dept.none");
    EXPECT_EQ(BuildReason(c), "UNKNOWN_DEPARTMENT");
  }
  {
    auto c = base;
    c.mutable_categories(2)->clear_department_codes();
    EXPECT_EQ(BuildReason(c), "INVALID_CATEGORY");
  }
  {
    auto c = base;
    c.mutable_units(3)->mutable_address_coverage(0)->set_to_number(-5);
    EXPECT_EQ(BuildReason(c), "INVALID_ADDRESS_COVERAGE");
  }
}

TEST(Directory, RejectsBadCategoryRules) {
  auto base = testing::TinyDirectory();
  auto with_rule = [&](auto edit) {
    auto c = base;
    auto* r = c.add_category_rules();
    r->set_unit_code("100001");
    r->set_category("sanitation");
    r->set_handling(grid::v1::HANDLING_DEPARTMENT);
    r->add_department_codes("dept.water");
    edit(&c, r);
    return BuildReason(c);
  };
  EXPECT_EQ(with_rule([](auto*, auto*) {}), "OK");
  EXPECT_EQ(with_rule([](auto*, auto* r) { r->set_unit_code("404"); }), "INVALID_RULE");
  EXPECT_EQ(with_rule([](auto*, auto* r) { r->set_category("nope"); }), "INVALID_RULE");
  EXPECT_EQ(with_rule([](auto*, auto* r) { r->set_handling(grid::v1::HANDLING_UNSPECIFIED); }), "INVALID_RULE");
  EXPECT_EQ(with_rule([](auto*, auto* r) { r->clear_department_codes(); }), "INVALID_RULE");
  EXPECT_EQ(with_rule([](auto*, auto* r) { r->set_department_codes(0, "dept.none"); }), "UNKNOWN_DEPARTMENT");
  EXPECT_EQ(with_rule([](auto* c, auto* r) { *c->add_category_rules() = *r; }), "INVALID_RULE");
}

TEST(Directory, AGridMustLieWithinItsCommunity) {
  auto c = testing::TinyDirectory();
  testing::AddSquare(c.mutable_units(2), 110.00, 20.00, 110.02, 20.01);  // the community covers both grids
  EXPECT_EQ(BuildReason(c), "OK");
  c.mutable_units(4)->clear_boundary();
  testing::AddSquare(c.mutable_units(4), 110.01, 20.00, 110.03, 20.01);  // grid 2 sticks out by ~1 km
  auto d = Directory::Build(c, 1);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().reason(), "GRID_OUTSIDE_COMMUNITY");
  EXPECT_NE(d.status().message().find("100001001002"), std::string::npos);
}

TEST(Directory, ErrorsNameTheEntry) {
  auto c = testing::TinyDirectory();
  c.mutable_units(3)->set_parent_code("999");
  auto d = Directory::Build(c, 1);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("100001001001"), std::string::npos);
  EXPECT_NE(d.status().message().find("999"), std::string::npos);
}

TEST(Directory, MergeAddsAndReplaces) {
  auto base = testing::TinyDirectory();
  grid::v1::DirectoryContent delta;
  auto* renamed = delta.add_units();
  *renamed = base.units(2);
  renamed->set_name("改名社区");
  auto* added = delta.add_units();
  added->set_code("100002");
  added->set_level(grid::v1::UNIT_LEVEL_TOWN);
  added->set_name("新镇");
  added->set_parent_code("100");
  auto merged = MergeContent(base, delta, /*replace=*/false);
  auto d = BuildOk(merged, 2);
  EXPECT_EQ(d->unit_count(), 6u);
  EXPECT_EQ(d->FindUnit("100001001")->name(), "改名社区");
  EXPECT_EQ(d->Children("100").size(), 2u);
  // Replace keeps only the delta (which alone is invalid: the community has no town).
  EXPECT_EQ(MergeContent(base, delta, /*replace=*/true).units_size(), 2);
}

TEST(DirectoryHandle, SwapsAtomically) {
  DirectoryHandle h;
  EXPECT_EQ(h.Get()->version(), 0u);
  auto held = h.Get();
  h.Set(BuildOk(testing::TinyDirectory(), 3));
  EXPECT_EQ(h.Get()->version(), 3u);
  EXPECT_EQ(held->version(), 0u);  // a reader keeps its snapshot
}

}  // namespace
}  // namespace grid
