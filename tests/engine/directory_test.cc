#include "engine/directory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

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

// The grid hit at a point, or "" for none.
std::string GridAtPoint(const Directory& d, double lng, double lat) {
  auto hits = d.grid_index().Locate(geo::Point{lng, lat});
  return hits.empty() ? "" : std::string(d.GridAt(hits[0].id)->code());
}

// TinyDirectory with a boundary on its community (covering both grids).
grid::v1::DirectoryContent TinyWithCommunityBoundary() {
  auto c = testing::TinyDirectory();
  testing::AddSquare(c.mutable_units(2), 110.00, 20.00, 110.02, 20.01);
  return c;
}

// A delta of one unit of `c`, its boundary replaced by the square (none when w is NaN).
grid::v1::DirectoryContent Reshaped(const grid::v1::DirectoryContent& c, int unit, double w, double s, double e,
                                    double n) {
  grid::v1::DirectoryContent delta;
  *delta.add_units() = c.units(unit);
  delta.mutable_units(0)->clear_boundary();
  if (!std::isnan(w)) testing::AddSquare(delta.mutable_units(0), w, s, e, n);
  return delta;
}

TEST(Directory, KeepsNoBoundaryInTheUnitsButServesTheirGeometry) {
  auto c = TinyWithCommunityBoundary();
  const grid::v1::Boundary grid2 = c.units(4).boundary();
  auto d = BuildOk(c);
  const grid::v1::DirectoryContent all = d->ContentWithUnits();
  for (const auto& u : all.units()) EXPECT_FALSE(u.has_boundary()) << u.code();
  EXPECT_FALSE(d->FindUnit("100001001002")->has_boundary());
  EXPECT_TRUE(d->HasBoundary("100001001002"));
  EXPECT_TRUE(d->HasBoundary("100001001"));
  EXPECT_FALSE(d->HasBoundary("100001"));
  // The grid's shape decodes exactly from the index.
  auto shape = d->GridShape("100001001002");
  ASSERT_TRUE(shape);
  EXPECT_EQ(geo::ToProto(*shape).SerializeAsString(), grid2.SerializeAsString());
  EXPECT_FALSE(d->GridShape("100001001"));
  ASSERT_NE(d->AreaShape("100001001"), nullptr);
  EXPECT_EQ(GridAtPoint(*d, 110.015, 20.005), "100001001002");
}

TEST(Directory, ApplyKeepsTheBaseGeometryOfUnitsNotInTheDelta) {
  auto c = TinyWithCommunityBoundary();
  auto base = BuildOk(c);
  // Rename grid 1 without its boundary: it loses it; grid 2 keeps its own.
  grid::v1::DirectoryContent delta = Reshaped(c, 3, NAN, 0, 0, 0);
  delta.mutable_units(0)->set_name("改名网格");
  auto next = Directory::Apply(*base, delta, /*replace=*/false, 2);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ((*next)->version(), 2u);
  EXPECT_EQ((*next)->FindUnit("100001001001")->name(), "改名网格");
  EXPECT_EQ(GridAtPoint(**next, 110.005, 20.005), "");
  EXPECT_EQ(GridAtPoint(**next, 110.015, 20.005), "100001001002");
  EXPECT_TRUE((*next)->HasBoundary("100001001"));  // the community's, from the base
  // The base is untouched.
  EXPECT_EQ(GridAtPoint(*base, 110.005, 20.005), "100001001001");
}

TEST(Directory, ApplyChecksAChangedGridAgainstItsCommunitysStoredBoundary) {
  auto c = TinyWithCommunityBoundary();
  auto base = BuildOk(c);
  auto next = Directory::Apply(*base, Reshaped(c, 4, 110.01, 20.00, 110.03, 20.01), /*replace=*/false, 2);  // ~1 km out
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().reason(), "GRID_OUTSIDE_COMMUNITY");
  // A community shrunk under its unchanged grid 2 is refused as well.
  next = Directory::Apply(*base, Reshaped(c, 2, 110.00, 20.00, 110.01, 20.01), /*replace=*/false, 2);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().reason(), "GRID_OUTSIDE_COMMUNITY");
  EXPECT_NE(next.status().message().find("100001001002"), std::string::npos);
}

// Boundaries kept apart, as the store keeps them, for Restore.
struct SplitDirectory {
  grid::v1::DirectoryContent units;  // without boundaries
  std::vector<std::pair<std::string, grid::v1::Boundary>> grids, areas;  // code order
  BoundarySource Source() const {
    return [this](bool g, const BoundaryVisitor& visit) -> Status {
      for (const auto& [code, b] : g ? grids : areas) GRID_RETURN_IF_ERROR(visit(code, b));
      return Status::Ok();
    };
  }
};

SplitDirectory Split(grid::v1::DirectoryContent c) {
  SplitDirectory out;
  for (auto& u : *c.mutable_units()) {
    if (u.has_boundary()) {
      (u.level() == grid::v1::UNIT_LEVEL_GRID ? out.grids : out.areas).emplace_back(u.code(), u.boundary());
      u.clear_boundary();
    }
  }
  std::sort(out.grids.begin(), out.grids.end(), [](auto& a, auto& b) { return a.first < b.first; });
  out.units = std::move(c);
  return out;
}

TEST(Directory, RestoreLoadsTheSavedIndexOnlyForItsOwnVersionAndGrids) {
  const std::string path = ::testing::TempDir() + "directory_restore.idx";
  std::remove(path.c_str());
  const SplitDirectory split = Split(TinyWithCommunityBoundary());
  RestoreReport report;
  // No file: rebuilt from the source.
  auto d = Directory::Restore(split.units, 5, split.Source(), path, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "100001001002");
  EXPECT_TRUE((*d)->HasBoundary("100001001"));
  ASSERT_TRUE((*d)->SaveIndex(path).ok());
  // Saved for this version: loaded; the source's grids are not read.
  SplitDirectory no_grids = split;
  no_grids.grids.clear();
  d = Directory::Restore(split.units, 5, no_grids.Source(), path, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kLoaded);
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "100001001002");
  EXPECT_EQ(GridAtPoint(**d, 110.005, 20.005), "100001001001");
  // Another version: stale, rebuilt.
  d = Directory::Restore(split.units, 6, split.Source(), path, &report);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_NE(report.why_rebuilt.find("STALE_INDEX"), std::string::npos) << report.why_rebuilt;
  // Same version, other grids (grid 2 removed): stale, rebuilt without it.
  SplitDirectory fewer = split;
  fewer.units.mutable_units()->RemoveLast();
  fewer.grids.pop_back();
  fewer.units.mutable_members()->Clear();
  fewer.units.mutable_units(3)->clear_address_coverage();
  d = Directory::Restore(fewer.units, 5, fewer.Source(), path, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_NE(report.why_rebuilt.find("STALE_INDEX"), std::string::npos) << report.why_rebuilt;
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "");
  std::remove(path.c_str());
}

TEST(Directory, RestoreReadsBoundariesCarriedInlineByAnOlderStore) {
  auto c = testing::TinyDirectory();
  RestoreReport report;
  auto d = Directory::Restore(c, 1, SplitDirectory{}.Source(), "", &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "100001001002");
  EXPECT_EQ(GridAtPoint(**d, 110.005, 20.005), "100001001001");
  EXPECT_FALSE((*d)->FindUnit("100001001001")->has_boundary());
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
