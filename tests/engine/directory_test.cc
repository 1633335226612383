// Tests for engine/directory (the snapshot, its validation, Restore and the
// saved unit table and grid index).
//
// Thread-safety: single-threaded tests.
#include "engine/directory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/party_organisation.h"
#include "storage/posix_files.h"
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
  grid::v1::DirectoryContent units;                                      // without boundaries
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

// The saved files of these tests are real files in the temp dir.
storage::PosixFiles files;

TEST(Directory, RestoreLoadsTheSavedIndexOnlyForItsOwnVersionAndGrids) {
  const std::string path = ::testing::TempDir() + "directory_restore.idx";
  std::remove(path.c_str());
  const SplitDirectory split = Split(TinyWithCommunityBoundary());
  RestoreReport report;
  // No file: rebuilt from the source.
  auto d = Directory::Restore(split.units, 5, split.Source(), files, path, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "100001001002");
  EXPECT_TRUE((*d)->HasBoundary("100001001"));
  ASSERT_TRUE((*d)->SaveIndex(files, path).ok());
  // Saved for this version: loaded; the source's grids are not read.
  SplitDirectory no_grids = split;
  no_grids.grids.clear();
  d = Directory::Restore(split.units, 5, no_grids.Source(), files, path, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kLoaded);
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "100001001002");
  EXPECT_EQ(GridAtPoint(**d, 110.005, 20.005), "100001001001");
  // Another version: stale, rebuilt.
  d = Directory::Restore(split.units, 6, split.Source(), files, path, &report);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_NE(report.why_rebuilt.find("STALE_INDEX"), std::string::npos) << report.why_rebuilt;
  // Same version, other grids (grid 2 removed): stale, rebuilt without it.
  SplitDirectory fewer = split;
  fewer.units.mutable_units()->RemoveLast();
  fewer.grids.pop_back();
  fewer.units.mutable_members()->Clear();
  fewer.units.mutable_units(3)->clear_address_coverage();
  d = Directory::Restore(fewer.units, 5, fewer.Source(), files, path, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_NE(report.why_rebuilt.find("STALE_INDEX"), std::string::npos) << report.why_rebuilt;
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "");
  std::remove(path.c_str());
}

TEST(Directory, RestoreReadsBoundariesCarriedInlineByAnOlderStore) {
  auto c = testing::TinyDirectory();
  RestoreReport report;
  auto d = Directory::Restore(c, 1, SplitDirectory{}.Source(), files, "", &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "100001001002");
  EXPECT_EQ(GridAtPoint(**d, 110.005, 20.005), "100001001001");
  EXPECT_FALSE((*d)->FindUnit("100001001001")->has_boundary());
}

// A store as Restore sees it with a unit table: the content without units,
// and the units apart (counting how often they are read).
struct StoredUnits {
  grid::v1::DirectoryContent rest, units;
  mutable int reads = 0;
  UnitSource Source() const {
    return [this](const UnitVisitor& visit) {
      ++reads;
      for (const auto& u : units.units()) GRID_RETURN_IF_ERROR(visit(u));
      return Status::Ok();
    };
  }
};

StoredUnits StoreOf(const grid::v1::DirectoryContent& c) {
  StoredUnits s;
  s.rest = c;
  s.rest.clear_units();
  for (const auto& u : c.units()) *s.units.add_units() = u;
  return s;
}

void FlipByte(const std::string& path, long at) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, at, SEEK_SET);
  const int c = std::fgetc(f);
  std::fseek(f, at, SEEK_SET);
  std::fputc(c ^ 0x01, f);
  std::fclose(f);
}

// Many units in shuffled order: lookups by code, children in code order and
// ancestors come from the table, not from the input order.
TEST(UnitTable, FindsByCodeAndKeepsChildrenInCodeOrder) {
  grid::v1::DirectoryContent c;
  auto unit = [&](std::string code, grid::v1::UnitLevel level, std::string parent) {
    auto* u = c.add_units();
    u->set_code(code);
    u->set_level(level);
    u->set_name("单位" + code);
    u->set_parent_code(parent);
    return u;
  };
  unit("9", grid::v1::UNIT_LEVEL_COUNTY, "");
  for (int t = 9; t >= 0; --t) {  // descending: the table must sort them
    const std::string town = "9" + std::to_string(t);
    unit(town, grid::v1::UNIT_LEVEL_TOWN, "9");
    for (int k = 0; k < 30; ++k) {
      const std::string community = town + "-" + std::to_string((k * 7) % 30);
      unit(community, grid::v1::UNIT_LEVEL_COMMUNITY, town);
    }
  }
  unit("8", grid::v1::UNIT_LEVEL_COUNTY, "");
  auto* rich = unit("8a", grid::v1::UNIT_LEVEL_TOWN, "8");
  rich->add_on_duty()->set_name("值班员");
  auto d = BuildOk(c);
  EXPECT_EQ(d->unit_count(), 1u + 10 + 300 + 2);
  for (const auto& u : c.units()) {
    const UnitRef r = d->FindUnit(u.code());
    ASSERT_NE(r, nullptr) << u.code();
    EXPECT_EQ(r->code(), u.code());
    EXPECT_EQ(r->name(), u.name());
    EXPECT_EQ(r->level(), u.level());
    EXPECT_EQ(r->parent_code(), u.parent_code());
  }
  EXPECT_EQ(d->FindUnit("9-"), nullptr);
  EXPECT_EQ(d->FindUnit(""), nullptr);
  EXPECT_EQ(d->FindUnit("95-300"), nullptr);
  const UnitRange roots = d->Children("");
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[0]->code(), "8");
  EXPECT_EQ(roots[1]->code(), "9");
  const UnitRange kids = d->Children("95");
  ASSERT_EQ(kids.size(), 30u);
  EXPECT_TRUE(std::is_sorted(kids.begin(), kids.end(), [](UnitRef a, UnitRef b) { return a->code() < b->code(); }));
  EXPECT_EQ(kids.front()->code(), "95-0");
  EXPECT_TRUE(d->Children("95-3").empty());
  EXPECT_TRUE(d->Children("nope").empty());
  const auto anc = d->Ancestors("93-17");
  ASSERT_EQ(anc.size(), 2u);
  EXPECT_EQ(anc[0]->code(), "9");
  EXPECT_EQ(anc[1]->code(), "93");
  EXPECT_EQ(d->PathName("93-17"), "单位9 / 单位93 / 单位93-17");
  // Only the unit carrying more than code/level/name/parent keeps its message.
  EXPECT_EQ(d->FindUnit("93-17")->extra(), nullptr);
  ASSERT_NE(d->FindUnit("8a")->extra(), nullptr);
  EXPECT_EQ(d->FindUnit("8a")->on_duty().Get(0).name(), "值班员");
  EXPECT_EQ(d->FindUnit("8a")->ToProto().parent_code(), "8");
  EXPECT_EQ(d->units().WithExtras().size(), 1u);
}

// Division units carry the party organisation their level and name imply:
// the table makes it again instead of keeping the message (665,000 of them
// in the national directory).
TEST(UnitTable, KeepsNoImpliedPartyOrganisation) {
  grid::v1::DirectoryContent c;
  auto unit = [&](std::string code, grid::v1::UnitLevel level, std::string name, std::string parent) {
    auto* u = c.add_units();
    u->set_code(code);
    u->set_level(level);
    u->set_name(name);
    u->set_parent_code(parent);
    *u->mutable_party_organisation() = PartyOrganisationFor(level, name);
    return u;
  };
  unit("469023", grid::v1::UNIT_LEVEL_COUNTY, "澄迈县", "");
  unit("469023100", grid::v1::UNIT_LEVEL_TOWN, "金江镇", "469023");
  auto* own = unit("469023100001", grid::v1::UNIT_LEVEL_COMMUNITY, "金马东社区", "469023100");
  own->mutable_party_organisation()->set_secretary_member_id("M1");
  auto* none = unit("469023100002", grid::v1::UNIT_LEVEL_COMMUNITY, "大塘村", "469023100");
  none->clear_party_organisation();
  auto d = BuildOk(c);
  const UnitRef county = d->FindUnit("469023");
  EXPECT_EQ(county->extra(), nullptr);
  EXPECT_TRUE(county->has_party_organisation());
  EXPECT_EQ(county->party_organisation().name(), "中共澄迈县委员会");
  EXPECT_EQ(county->ToProto().SerializeAsString(), c.units(0).SerializeAsString());
  EXPECT_EQ(d->FindUnit("469023100")->party_organisation().kind(), "镇党委");
  ASSERT_NE(d->FindUnit("469023100001")->extra(), nullptr);  // its own secretary: kept whole
  EXPECT_EQ(d->FindUnit("469023100001")->party_organisation().secretary_member_id(), "M1");
  EXPECT_FALSE(d->FindUnit("469023100002")->has_party_organisation());
  EXPECT_EQ(d->FindUnit("469023100002")->ToProto().SerializeAsString(), c.units(3).SerializeAsString());
  // A next version keeps them so.
  grid::v1::DirectoryContent delta;
  *delta.add_units() = c.units(3);
  delta.mutable_units(0)->set_name("大塘村委会");
  auto next = Directory::Apply(*d, delta, false, 2);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ((*next)->FindUnit("469023")->party_organisation().name(), "中共澄迈县委员会");
  EXPECT_EQ((*next)->FindUnit("469023")->extra(), nullptr);
  EXPECT_EQ((*next)->FindUnit("469023100001")->party_organisation().secretary_member_id(), "M1");
}

TEST(UnitTable, DuplicatesAreReportedAtTheirSecondOccurrence) {
  auto c = testing::TinyDirectory();
  *c.add_units() = c.units(3);  // a grid again, last
  EXPECT_EQ(BuildReason(c), "DUPLICATE_CODE");
  auto d = Directory::Build(c, 1);
  EXPECT_NE(d.status().message().find(c.units(3).code()), std::string::npos) << d.status().ToString();
}

// A unit field added to the proto must be kept by the table:
// UnitTable::InputOf has to learn it (and this test its number).
TEST(UnitTable, KnowsEveryFieldOfUnit) { EXPECT_EQ(grid::v1::Unit::descriptor()->field_count(), 8); }

TEST(Directory, RestoreMapsTheSavedTableAndIndexWithoutReadingTheUnits) {
  const std::string index = ::testing::TempDir() + "restore_table.idx";
  const std::string table = ::testing::TempDir() + "restore_table.tab";
  std::remove(index.c_str());
  std::remove(table.c_str());
  const SplitDirectory split = Split(TinyWithCommunityBoundary());
  const StoredUnits stored = StoreOf(split.units);
  const SavedPaths saved{index, table, &files};
  RestoreReport report;
  // No files: both rebuilt from the store.
  auto d = Directory::Restore(stored.rest, 5, stored.Source(), split.Source(), saved, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_EQ(report.table_origin, IndexOrigin::kRebuilt);
  EXPECT_NE(report.why_table_rebuilt.find("IO_ERROR"), std::string::npos) << report.why_table_rebuilt;
  EXPECT_EQ(stored.reads, 1);
  ASSERT_TRUE((*d)->SaveIndex(files, index).ok());
  ASSERT_TRUE((*d)->SaveTable(files, table).ok());
  // Round trip: both mapped; no unit and no grid boundary is read.
  SplitDirectory no_grids = split;
  no_grids.grids.clear();
  auto r = Directory::Restore(stored.rest, 5, stored.Source(), no_grids.Source(), saved, &report);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(report.origin, IndexOrigin::kLoaded) << report.why_rebuilt;
  EXPECT_EQ(report.table_origin, IndexOrigin::kLoaded) << report.why_table_rebuilt;
  EXPECT_EQ(stored.reads, 1);
  EXPECT_EQ(GridAtPoint(**r, 110.015, 20.005), "100001001002");
  EXPECT_EQ(GridAtPoint(**r, 110.005, 20.005), "100001001001");
  EXPECT_TRUE((*r)->HasBoundary("100001001"));  // an area, read from the store
  const auto all_d = (*d)->ContentWithUnits(), all_r = (*r)->ContentWithUnits();
  EXPECT_EQ(all_r.SerializeAsString(), all_d.SerializeAsString());
  EXPECT_EQ((*r)->PathName("100001001002"), "测试县 / 测试镇 / 测试社区 / 第2网格");
  EXPECT_EQ((*r)->GridsOnStreet("文化北路").size(), 2u);
  EXPECT_EQ((*r)->MembersOf("100001001001").size(), 2u);
  // The restored directory's next version works as any other's.
  auto next = Directory::Apply(**r, Reshaped(split.units, 3, NAN, 0, 0, 0), false, 6);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(GridAtPoint(**next, 110.005, 20.005), "");
  EXPECT_EQ(GridAtPoint(**next, 110.015, 20.005), "100001001002");
  // Another version: the table is stale, the units are read again.
  d = Directory::Restore(stored.rest, 6, stored.Source(), split.Source(), saved, &report);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(report.table_origin, IndexOrigin::kRebuilt);
  EXPECT_NE(report.why_table_rebuilt.find("STALE_TABLE"), std::string::npos) << report.why_table_rebuilt;
  EXPECT_EQ(report.origin, IndexOrigin::kRebuilt);
  EXPECT_EQ(stored.reads, 2);
  EXPECT_EQ(GridAtPoint(**d, 110.015, 20.005), "100001001002");
  std::remove(index.c_str());
  std::remove(table.c_str());
}

TEST(Directory, RestoreRebuildsACorruptOrMismatchedTable) {
  const std::string index = ::testing::TempDir() + "restore_bad_table.idx";
  const std::string table = ::testing::TempDir() + "restore_bad_table.tab";
  const SplitDirectory split = Split(TinyWithCommunityBoundary());
  const StoredUnits stored = StoreOf(split.units);
  const SavedPaths saved{index, table, &files};
  auto d = Directory::Restore(stored.rest, 5, stored.Source(), split.Source(), saved, nullptr);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto save = [&](const Directory& dir) {
    ASSERT_TRUE(dir.SaveIndex(files, index).ok());
    ASSERT_TRUE(dir.SaveTable(files, table).ok());
  };
  RestoreReport report;
  auto restore_expect = [&](const std::string& reason) {
    auto r = Directory::Restore(stored.rest, 5, stored.Source(), split.Source(), saved, &report);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(report.table_origin, IndexOrigin::kRebuilt) << reason;
    EXPECT_NE(report.why_table_rebuilt.find(reason), std::string::npos) << report.why_table_rebuilt;
    EXPECT_EQ(GridAtPoint(**r, 110.015, 20.005), "100001001002");
    EXPECT_EQ((*r)->FindUnit("100001001001")->name(), (*d)->FindUnit("100001001001")->name());
  };
  // A flipped byte in the middle and near the end (the extras).
  save(**d);
  const long size = static_cast<long>(std::filesystem::file_size(table));
  FlipByte(table, size / 2);
  restore_expect("CORRUPT_TABLE");
  save(**d);
  FlipByte(table, size - 70);
  restore_expect("CORRUPT_TABLE");
  // Cut short.
  save(**d);
  std::filesystem::resize_file(table, static_cast<uintmax_t>(size - 64));
  restore_expect("CORRUPT_TABLE");
  // Not a table at all.
  save(**d);
  std::filesystem::copy_file(index, table, std::filesystem::copy_options::overwrite_existing);
  restore_expect("CORRUPT_TABLE");
  // The table of this version, but saved beside an index of other grids
  // (as after a crash between saving the two files of a same-version pair
  // is not possible, but a hand-copied file is): refused as a pair.
  save(**d);
  auto other = Directory::Apply(**d, Reshaped(split.units, 3, NAN, 0, 0, 0), false, 5);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE((*other)->SaveIndex(files, index).ok());
  restore_expect("not saved with the unit table");
  // Both files good again: loaded.
  save(**d);
  auto r = Directory::Restore(stored.rest, 5, stored.Source(), split.Source(), saved, &report);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(report.table_origin, IndexOrigin::kLoaded) << report.why_table_rebuilt;
  std::remove(index.c_str());
  std::remove(table.c_str());
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
