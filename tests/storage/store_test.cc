// The store on a real RocksDB in a temp dir: key encodings, cases with
// their indexes and events, the directory, the feed, reopening.
#include "storage/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <fstream>

#include "engine/case_id.h"
#include "engine/intake.h"
#include "storage/keys.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::storage {
namespace {

std::unique_ptr<Store> OpenOk(const std::string& path) {
  auto s = Store::Open(StoreOptions{path, true});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

NewCase MakeCase(uint64_t id, const std::string& unit) {
  const grid::v1::SubmitCaseRequest r = testing::Submission().Description("test").NoLocation().NoCitizen().Build();
  grid::v1::RoutingDecision d;
  d.set_unit_code(unit);
  return BuildNewCase(r, Actor{"cc1", "call_center"}, d, id, 1'795'000'000'000'000);
}

TEST(Keys, BigEndianKeysSortLikeNumbers) {
  EXPECT_LT(CaseKey(255), CaseKey(256));
  EXPECT_LT(CaseKey(1), CaseKey(1ULL << 40));
  EXPECT_LT(EventKey(7, 2), EventKey(7, 10));
  EXPECT_LT(EventKey(7, 0xFFFFFFFF), EventKey(8, 0));
  EXPECT_EQ(DecodeCaseKey(CaseKey(1795000000000123ULL)), 1795000000000123ULL);
  EXPECT_LT(ByUnitKey("100", 9), ByUnitKey("100", 10));
  EXPECT_LT(ByUnitKey("100", 0xFFFFFFFFFFFFFFFF), ByUnitKey("1000", 0));  // the 0x00 separator
}

TEST(Keys, RoundTrips) {
  for (uint64_t v : {0ULL, 1ULL, 0x0102030405060708ULL, ~0ULL}) {
    std::string s;
    PutFixed64BE(&s, v);
    EXPECT_EQ(DecodeFixed64BE(s.data()), v);
  }
  for (uint32_t v : {0u, 1u, 0x01020304u, ~0u}) {
    std::string s;
    PutFixed32BE(&s, v);
    EXPECT_EQ(DecodeFixed32BE(s.data()), v);
  }
  auto v = DecodeIdempotencyValue(EncodeIdempotencyValue(42, 0xDEADBEEF));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->first, 42u);
  EXPECT_EQ(v->second, 0xDEADBEEFu);
  EXPECT_FALSE(DecodeIdempotencyValue("short"));
  EXPECT_EQ(IdempotencyKey("a", "b"), std::string("a\0b", 3));
}

TEST(Store, DirectorySurvivesReopen) {
  testing::TempDir tmp;
  {
    auto store = OpenOk(tmp.path());
    ASSERT_TRUE(store);
    auto none = store->LoadDirectory();
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    auto content = testing::TinyDirectory();
    auto* rule = content.add_category_rules();
    rule->set_unit_code("100001");
    rule->set_category("sanitation");
    rule->set_handling(grid::v1::HANDLING_GRID);
    ASSERT_TRUE(store->SaveDirectory(content, 1, true).ok());
    grid::v1::DirectoryContent delta;
    *delta.add_units() = testing::TinyDirectory().units(2);
    delta.mutable_units(0)->set_name("改名");
    ASSERT_TRUE(store->SaveDirectory(delta, 2, false).ok());
  }
  auto store = OpenOk(tmp.path());
  auto loaded = store->LoadDirectory();
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->version, 2u);
  EXPECT_EQ((*loaded)->content.units_size(), 5);
  EXPECT_EQ((*loaded)->content.members_size(), 4);
  EXPECT_EQ((*loaded)->content.categories_size(), 4);
  ASSERT_EQ((*loaded)->content.category_rules_size(), 1);
  EXPECT_EQ((*loaded)->content.category_rules(0).unit_code(), "100001");
  bool renamed = false;
  for (const auto& u : (*loaded)->content.units()) renamed |= u.code() == "100001001" && u.name() == "改名";
  EXPECT_TRUE(renamed);
  // Without the units (a restart with the unit table saved), then the units
  // alone: together the same content.
  auto rest = store->LoadDirectory(/*with_units=*/false);
  ASSERT_TRUE(rest.ok());
  ASSERT_TRUE(rest->has_value());
  EXPECT_EQ((*rest)->version, 2u);
  EXPECT_EQ((*rest)->content.units_size(), 0);
  EXPECT_EQ((*rest)->content.members_size(), 4);
  EXPECT_EQ((*rest)->content.category_rules_size(), 1);
  grid::v1::DirectoryContent units;
  ASSERT_TRUE(store
                  ->ForEachUnit([&](const grid::v1::Unit& u) {
                    *units.add_units() = u;
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(units.units_size(), 5);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(units.units(i).SerializeAsString(), (*loaded)->content.units(i).SerializeAsString());
  // Replace removes what is not in the new content.
  grid::v1::DirectoryContent only_root;
  *only_root.add_units() = testing::TinyDirectory().units(0);
  ASSERT_TRUE(store->SaveDirectory(only_root, 3, true).ok());
  loaded = store->LoadDirectory();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->content.units_size(), 1);
  EXPECT_EQ((*loaded)->content.members_size(), 0);
}

std::vector<std::string> BoundaryCodes(const Store& store, bool grids) {
  std::vector<std::string> codes;
  EXPECT_TRUE(store
                  .ForEachBoundary(grids,
                                   [&](std::string_view code, const grid::v1::Boundary& b) {
                                     EXPECT_GT(b.polygons_size(), 0) << code;
                                     codes.emplace_back(code);
                                     return Status::Ok();
                                   })
                  .ok());
  return codes;
}

TEST(Store, BoundariesAreKeptApartFromTheirUnits) {
  testing::TempDir tmp;
  auto content = testing::TinyDirectory();
  testing::AddSquare(content.mutable_units(2), 110.00, 20.00, 110.02, 20.01);  // the community
  const std::string grid2 = content.units(4).boundary().SerializeAsString();
  {
    auto store = OpenOk(tmp.path());
    ASSERT_TRUE(store->SaveDirectory(content, 1, true).ok());
  }
  auto store = OpenOk(tmp.path());
  auto loaded = store->LoadDirectory();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ((*loaded)->content.units_size(), 5);
  for (const auto& u : (*loaded)->content.units()) EXPECT_FALSE(u.has_boundary()) << u.code();
  EXPECT_EQ(BoundaryCodes(*store, true), (std::vector<std::string>{"100001001001", "100001001002"}));
  EXPECT_EQ(BoundaryCodes(*store, false), (std::vector<std::string>{"100001001"}));
  auto b = store->GetBoundary("100001001002");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->SerializeAsString(), grid2);
  EXPECT_FALSE(store->GetBoundary("100001")->has_value());
  EXPECT_FALSE(store->GetBoundary("nope")->has_value());
  // A unit saved again without a boundary loses its stored one.
  grid::v1::DirectoryContent delta;
  *delta.add_units() = content.units(4);
  delta.mutable_units(0)->clear_boundary();
  ASSERT_TRUE(store->SaveDirectory(delta, 2, false).ok());
  EXPECT_FALSE(store->GetBoundary("100001001002")->has_value());
  EXPECT_EQ(BoundaryCodes(*store, true), (std::vector<std::string>{"100001001001"}));
  EXPECT_EQ((*store->LoadDirectory())->content.units_size(), 5);
}

TEST(Store, ABoundaryInsideAUnitRecordOfAnOlderStoreIsStillRead) {
  testing::TempDir tmp;
  auto content = testing::TinyDirectory();
  {
    auto store = OpenOk(tmp.path());
    ASSERT_TRUE(store->SaveDirectory(content, 1, true).ok());
  }
  {
    // Write grid 2 the way stores did before boundaries were kept apart.
    rocksdb::DBOptions o;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {kMetaCf, kDirectoryCf, kCasesCf, kEventsCf, kIdempotencyCf, kIndexCf, kFeedCf}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, tmp.path(), cfs, &handles, &db).ok());
    ASSERT_TRUE(
        db->Delete(rocksdb::WriteOptions(), handles[1], DirectoryKey(DirectoryKind::kGridBoundary, "100001001002"))
            .ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], DirectoryKey(DirectoryKind::kUnit, "100001001002"),
                        content.units(4).SerializeAsString())
                    .ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto store = OpenOk(tmp.path());
  auto b = store->GetBoundary("100001001002");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->SerializeAsString(), content.units(4).boundary().SerializeAsString());
  auto loaded = store->LoadDirectory();
  ASSERT_TRUE(loaded.ok());
  int inline_boundaries = 0;
  for (const auto& u : (*loaded)->content.units()) inline_boundaries += u.has_boundary();
  EXPECT_EQ(inline_boundaries, 1);
  EXPECT_EQ(BoundaryCodes(*store, true), (std::vector<std::string>{"100001001001"}));
}

TEST(Store, CasesEventsIndexesAndIdempotencySurviveReopen) {
  testing::TempDir tmp;
  NewCase a = MakeCase(1795000000000001ULL, "100001001001");
  NewCase b = MakeCase(1795000000000002ULL, "100001001002");
  {
    auto store = OpenOk(tmp.path());
    EXPECT_EQ(*store->MaxCaseId(), 0u);
    std::vector<CaseChange> writes = {{nullptr, &a.record, &a.events, "cc1", "key-a", 11},
                                      {nullptr, &b.record, &b.events, "cc1", "", 0}};
    ASSERT_TRUE(store->Commit(writes, {}).ok());
  }
  auto store = OpenOk(tmp.path());
  EXPECT_EQ(*store->MaxCaseId(), 1795000000000002ULL);
  auto got = store->GetCase(1795000000000001ULL);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->id(), "1795000000000001");
  EXPECT_EQ((*got)->routing().unit_code(), "100001001001");
  auto events = store->GetEvents(1795000000000001ULL);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].type(), grid::v1::EVENT_TYPE_SUBMITTED);
  EXPECT_EQ((*events)[1].type(), grid::v1::EVENT_TYPE_ROUTED);
  auto idem = store->FindIdempotency("cc1", "key-a");
  ASSERT_TRUE(idem.ok());
  ASSERT_TRUE(idem->has_value());
  EXPECT_EQ((*idem)->case_id, 1795000000000001ULL);
  EXPECT_EQ((*idem)->fingerprint, 11u);
  EXPECT_FALSE(store->FindIdempotency("cc2", "key-a")->has_value());  // keys are per caller
  auto of_unit = store->CasesOfUnit("100001001002", 10);
  ASSERT_TRUE(of_unit.ok());
  ASSERT_EQ(of_unit->size(), 1u);
  EXPECT_EQ((*of_unit)[0], 1795000000000002ULL);
  EXPECT_FALSE(store->GetCase(42)->has_value());
  EXPECT_TRUE(store->GetEvents(42)->empty());
}

TEST(Store, RefusesANonEmptyForeignDirectoryAndTouchesNothing) {
  testing::TempDir tmp;
  { std::ofstream(tmp.Sub("notes.txt")) << "precious"; }
  auto s = Store::Open(StoreOptions{tmp.path(), true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "FOREIGN_DATA_DIR");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path()), std::filesystem::directory_iterator()), 1);
}

TEST(Store, RefusesAFileInsteadOfADirectory) {
  testing::TempDir tmp;
  { std::ofstream(tmp.Sub("file")) << "x"; }
  auto s = Store::Open(StoreOptions{tmp.Sub("file"), true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "FOREIGN_DATA_DIR");
}

TEST(Store, RefusesAnotherRocksDbAndLeavesItIntact) {
  testing::TempDir tmp;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, tmp.path(), &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "their", "data").ok());
    delete db;
  }
  auto s = Store::Open(StoreOptions{tmp.path(), true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "FOREIGN_DATA_DIR");
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), tmp.path(), &db).ok());
  std::string v;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "their", &v).ok());
  EXPECT_EQ(v, "data");
  delete db;
}

TEST(Store, RefusesAStoreInUse) {
  testing::TempDir tmp;
  auto first = OpenOk(tmp.path());
  auto second = Store::Open(StoreOptions{tmp.path(), true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().reason(), "DATA_DIR_UNREADABLE");
}

TEST(Store, ATransitionRewritesTheIndexDifferenceAndTheDueTimes) {
  testing::TempDir tmp;
  auto store = OpenOk(tmp.path());
  NewCase a = MakeCase(1795000000000001ULL, "100001001001");
  auto* d = a.record.mutable_deadlines();
  d->set_deadline_class("general");
  d->mutable_accept_due()->set_seconds(1'795'000'100);
  d->mutable_resolve_due()->set_seconds(1'795'000'400);
  a.record.set_unit_code("100001001001");
  a.record.set_assignee_member_id("M1");
  std::vector<grid::v1::FeedEntry> feed(2);
  feed[0].set_cursor(1);
  feed[1].set_cursor(2);
  ASSERT_TRUE(store->Commit({{nullptr, &a.record, &a.events, "cc1", "", 0}}, feed).ok());
  EXPECT_EQ(*store->CountDue(), 2u);
  auto first = store->NextDue();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->due_micros, 1'795'000'100'000'000ULL);
  EXPECT_EQ((*first)->case_id, 1795000000000001ULL);
  EXPECT_EQ((*first)->kind, grid::v1::DEADLINE_KIND_ACCEPT);
  EXPECT_EQ(store->DueUpTo(1'795'000'100'000'000ULL, 10)->size(), 1u);
  EXPECT_EQ(store->DueUpTo(1'795'000'099'999'999ULL, 10)->size(), 0u);
  EXPECT_EQ(store->OpenCasesPerAssignee()->at("M1"), 1u);

  // Accepted and moved to grid 2: the accept timer, the old unit entry and
  // the old status entry go, in the same batch.
  grid::v1::Case b = a.record;
  b.set_status(grid::v1::CASE_STATUS_ACCEPTED);
  b.set_unit_code("100001001002");
  b.set_assignee_member_id("M3");
  b.set_version(3);
  std::vector<grid::v1::CaseEvent> events(1);
  events[0].set_case_id(b.id());
  events[0].set_seq(3);
  feed.assign(1, grid::v1::FeedEntry());
  feed[0].set_cursor(3);
  ASSERT_TRUE(store->Commit({{&a.record, &b, &events, "", "", 0}}, feed).ok());
  EXPECT_EQ(*store->CountDue(), 1u);
  EXPECT_EQ((*store->NextDue())->kind, grid::v1::DEADLINE_KIND_RESOLVE);
  EXPECT_TRUE(store->CasesOfUnit("100001001001", 10)->empty());
  EXPECT_EQ(store->CasesOfUnit("100001001002", 10)->size(), 1u);
  auto loads = *store->OpenCasesPerAssignee();
  EXPECT_EQ(loads.count("M1"), 0u);
  EXPECT_EQ(loads["M3"], 1u);
  EXPECT_EQ(store->GetEvents(1795000000000001ULL)->size(), 3u);

  // An orphan entry (no record asks for it) is deleted with a commit.
  const DueKey orphan{1'795'000'050'000'000ULL, 1795000000000001ULL, grid::v1::DEADLINE_KIND_ACCEPT, 0, false};
  ASSERT_TRUE(store->Commit({}, {}, {}).ok());
  EXPECT_EQ(*store->CountDue(), 1u);
  ASSERT_TRUE(store->Commit({}, {}, {orphan}).ok());
  EXPECT_EQ(*store->CountDue(), 1u);  // deleting what is not there is harmless
  EXPECT_EQ((*store->NextDue())->kind, grid::v1::DEADLINE_KIND_RESOLVE);
  ASSERT_TRUE(store->Commit({}, {}, {*store->DueUpTo(~0ULL, 1)->begin()}).ok());
  EXPECT_EQ(*store->CountDue(), 0u);

  // Closed: no timers, no open load.
  grid::v1::Case c = b;
  c.set_status(grid::v1::CASE_STATUS_CLOSED);
  ASSERT_TRUE(store->Commit({{&b, &c, nullptr, "", "", 0}}, {}).ok());
  EXPECT_EQ(*store->CountDue(), 0u);
  EXPECT_TRUE(store->OpenCasesPerAssignee()->empty());

  // The feed reads back in cursor order, from any cursor.
  EXPECT_EQ(*store->FirstFeedCursor(), 1u);
  EXPECT_EQ(*store->LastFeedCursor(), 3u);
  auto tail = store->ReadFeed(1, 10);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].cursor(), 2u);
  EXPECT_EQ((*tail)[1].cursor(), 3u);
}

TEST(Store, OpensAStoreFromBeforeTheFeedAndAddsIt) {
  testing::TempDir tmp;
  {
    // The first format: six column families and the marker.
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {kMetaCf, kDirectoryCf, kCasesCf, kEventsCf, kIdempotencyCf, kIndexCf}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, tmp.path(), cfs, &handles, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[0], std::string(kFormatKey), std::string(kFormatValue)).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto store = OpenOk(tmp.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->LastFeedCursor(), 0u);
}

}  // namespace
}  // namespace grid::storage
