// The query indexes and the figures on a real RocksDB in a temp dir: entries
// are a pure function of the record, rewritten from the before/after
// difference; figures are merged per (unit, day) and read back after a reopen.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <cmath>

#include "storage/case_index.h"
#include "storage/case_query.h"
#include "storage/case_stats.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::storage {
namespace {

namespace v1 = grid::v1;

constexpr Micros kT0 = 1'795'000'000'000'000;  // 2026-11-18 19:06:40 UTC+8

v1::Case MakeCase(uint64_t id, const std::vector<std::string>& path, v1::CaseStatus status, Micros created) {
  v1::Case c;
  c.set_id(std::to_string(id));
  c.set_status(status);
  c.set_category("sanitation");
  c.set_unit_code(path.back());
  for (const auto& p : path) c.add_unit_path(p);
  c.mutable_created_at()->set_seconds(created / 1'000'000);
  *c.mutable_updated_at() = c.created_at();
  return c;
}

TEST(ListSummary, RoundTripsAndRejectsGarbage) {
  ListSummary s;
  s.status = v1::CASE_STATUS_WAITING;
  s.accepted = true;
  s.resolve_overdue = true;
  s.accept_due = 12345;
  s.resolve_due = 1'795'000'000'000'000;
  s.updated = 42;
  s.category = "water.burst";
  s.assignee = "M000143";
  auto back = DecodeListSummary(EncodeListSummary(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(DecodeListSummary("short").has_value());
  EXPECT_FALSE(DecodeListSummary(EncodeListSummary(s) + "x").has_value());
}

TEST(CaseQueryOps, AreTheDifferenceOfTwoPureFunctions) {
  const std::vector<std::string> path = {"100", "100001", "100001001"};
  v1::Case before = MakeCase(1795000000000000, path, v1::CASE_STATUS_ROUTED, kT0);
  // A new case: two list entries per unit of its chain, one stats operand per unit.
  auto ops = CaseQueryOps(nullptr, before, nullptr);
  EXPECT_EQ(std::count_if(ops.begin(), ops.end(), [](const IndexOp& o) { return o.kind == IndexOp::Kind::kPut; }), 6);
  EXPECT_EQ(std::count_if(ops.begin(), ops.end(), [](const IndexOp& o) { return o.kind == IndexOp::Kind::kMerge; }), 3);
  // Nothing changed: nothing to write.
  EXPECT_TRUE(CaseQueryOps(&before, before, nullptr).empty());
  // A status change: the status entries move, the by-unit entries get the new summary.
  v1::Case after = before;
  after.set_status(v1::CASE_STATUS_ACCEPTED);
  ops = CaseQueryOps(&before, after, nullptr);
  int deletes = 0, puts = 0, merges = 0;
  for (const auto& o : ops) {
    deletes += o.kind == IndexOp::Kind::kDelete;
    puts += o.kind == IndexOp::Kind::kPut;
    merges += o.kind == IndexOp::Kind::kMerge;
  }
  EXPECT_EQ(deletes, 3);
  EXPECT_EQ(puts, 6);
  EXPECT_EQ(merges, 3);
  // A record without unit_path (written before it existed) is filed under its unit alone.
  v1::Case old = before;
  old.clear_unit_path();
  EXPECT_EQ(IndexedPath(old), std::vector<std::string>{"100001001"});
}

TEST(Days, ChinaStandardTimeCalendarDays) {
  uint32_t d = 0;
  ASSERT_TRUE(ParseDay("2026-11-18", &d));
  EXPECT_EQ(FormatDay(d), "2026-11-18");
  EXPECT_EQ(DayOf(kT0), d);                               // 19:06 in Beijing
  EXPECT_EQ(DayOf(kT0 + 5LL * 3600 * 1'000'000), d + 1);  // 00:06 the next day there, still the 18th in UTC
  EXPECT_TRUE(ParseDay("2028-02-29", &d));
  EXPECT_FALSE(ParseDay("2026-02-29", &d));
  EXPECT_FALSE(ParseDay("2026-13-01", &d));
  EXPECT_FALSE(ParseDay("2026-1-01", &d));
}

TEST(Histogram, PercentilesAreWithinTheStatedPrecision) {
  std::vector<int64_t> buckets(stat::kBuckets, 0);
  std::vector<double> values;
  for (int i = 1; i <= 1000; ++i) {
    const double s = 0.5 * i * i;  // 0.5 s .. 5.8 days
    values.push_back(s);
    ++buckets[DurationBucket(static_cast<Micros>(s * 1e6))];
  }
  for (double q : {0.5, 0.9, 0.99}) {
    const double exact = values[static_cast<size_t>(std::ceil(q * 1000)) - 1];
    EXPECT_NEAR(Percentile(buckets.data(), q), exact, exact * 0.045) << q;
  }
  EXPECT_EQ(DurationBucket(999'999), 0u);
  EXPECT_EQ(DurationBucket(1'000'000), 1u);
  std::vector<int64_t> none(stat::kBuckets, 0);
  EXPECT_EQ(Percentile(none.data(), 0.5), 0.0);
}

TEST(StoreQueries, ListsPagesAndSumsFiguresAcrossAReopen) {
  testing::TempDir tmp;
  const std::vector<std::string> g1 = {"100", "100001", "100001001"}, g2 = {"100", "100002", "100002001"};
  std::vector<v1::Case> cases;
  for (int i = 0; i < 30; ++i) {
    cases.push_back(MakeCase(1795000000000000 + static_cast<uint64_t>(i) * 1000, i % 3 == 0 ? g2 : g1,
                             i % 2 == 0 ? v1::CASE_STATUS_ROUTED : v1::CASE_STATUS_CLOSED,
                             kT0 + static_cast<Micros>(i) * 3600 * 1'000'000));
  }
  {
    auto store = Store::Open(StoreOptions{tmp.Sub("db"), false});
    ASSERT_TRUE(store.ok());
    std::vector<CaseChange> changes;
    for (const auto& c : cases) changes.push_back(CaseChange{nullptr, &c, nullptr, "", "", 0});
    ASSERT_TRUE((*store)->Commit(changes, {}).ok());
    // Close the first ten routed ones: their status entries move.
    std::vector<v1::Case> closed;
    for (int i = 0; i < 10; i += 2) {
      closed.push_back(cases[static_cast<size_t>(i)]);
      closed.back().set_status(v1::CASE_STATUS_CLOSED);
    }
    changes.clear();
    for (size_t k = 0; k < closed.size(); ++k) {
      changes.push_back(CaseChange{&cases[k * 2], &closed[k], nullptr, "", "", 0});
    }
    ASSERT_TRUE((*store)->Commit(changes, {}).ok());
    for (size_t k = 0; k < closed.size(); ++k) cases[k * 2] = closed[k];
  }
  auto store = Store::Open(StoreOptions{tmp.Sub("db"), false});
  ASSERT_TRUE(store.ok());

  // All of town 100001 in pages of 4, then only the routed ones.
  CaseListQuery q;
  q.scope = "100001";
  q.page_size = 4;
  std::vector<std::string> ids;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = (*store)->ListCases(q);
    ASSERT_TRUE(page.ok());
    for (const auto& c : page->cases) ids.push_back(c.id());
    if (page->done) break;
    q.after_id = page->cursor;
  }
  std::vector<std::string> want;
  for (const auto& c : cases) {
    if (c.unit_code() == "100001001") want.push_back(c.id());
  }
  EXPECT_EQ(ids, want);

  q = CaseListQuery{};
  q.scope = "100";
  q.statuses = {v1::CASE_STATUS_ROUTED};
  q.page_size = 100;
  auto page = (*store)->ListCases(q);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->done);
  EXPECT_EQ(page->cases.size(), 10u);  // 15 routed, 5 of them closed since
  EXPECT_EQ(page->examined, 10u);      // the status range holds exactly those

  // The examined budget bounds a page: fewer results, a cursor to go on from.
  q = CaseListQuery{};
  q.scope = "100";
  q.category = "none";
  q.max_examined = 7;
  page = (*store)->ListCases(q);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->cases.empty());
  EXPECT_FALSE(page->done);
  EXPECT_EQ(page->cursor, 1795000000006000u);

  // Figures: the county holds every case; its towns split them.
  uint32_t from = DayOf(kT0), to = DayOf(kT0 + 30LL * 3600 * 1'000'000);
  auto figures = (*store)->ReadStats({"100", "100001", "100002", "100001001"}, from, to);
  ASSERT_TRUE(figures.ok());
  EXPECT_EQ((*figures)[0][stat::kCases], 30);
  EXPECT_EQ((*figures)[1][stat::kCases], 20);
  EXPECT_EQ((*figures)[2][stat::kCases], 10);
  EXPECT_EQ((*figures)[3][stat::kCases], 20);
  EXPECT_EQ((*figures)[0][stat::kStatusBase + v1::CASE_STATUS_ROUTED], 10);
  EXPECT_EQ((*figures)[0][stat::kStatusBase + v1::CASE_STATUS_CLOSED], 20);
  // One day only: cases created on the first day (19:06 to midnight: 5 hours).
  figures = (*store)->ReadStats({"100"}, from, from);
  ASSERT_TRUE(figures.ok());
  EXPECT_EQ((*figures)[0][stat::kCases], 5);

  // A full compaction folds the merge operands: the same figures and lists.
  auto before = (*store)->ReadStats({"100", "100001", "100002", "100001001"}, from, to);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE((*store)->CompactAll().ok());
  auto after = (*store)->ReadStats({"100", "100001", "100002", "100001001"}, from, to);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  q = CaseListQuery{};
  q.scope = "100";
  q.statuses = {v1::CASE_STATUS_ROUTED};
  page = (*store)->ListCases(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->cases.size(), 10u);
}

// A store whose cases predate unit_path (filed under their grid alone) is
// re-indexed once under the whole chain; a broken run (entries, no marker)
// is redone without counting anything twice.
TEST(StoreQueries, BackfillIndexesOldRecordsOnceAndIdempotently) {
  testing::TempDir tmp;
  auto dir = Directory::Build(testing::TinyDirectory(), 1);
  ASSERT_TRUE(dir.ok());
  auto store = Store::Open(StoreOptions{tmp.Sub("db"), false});
  ASSERT_TRUE(store.ok());
  std::vector<v1::Case> cases;
  for (int i = 0; i < 5; ++i) {
    cases.push_back(
        MakeCase(1795000000000000 + static_cast<uint64_t>(i) * 1000, {"100001001001"}, v1::CASE_STATUS_ROUTED, kT0));
    cases.back().clear_unit_path();
  }
  std::vector<CaseChange> changes;
  for (const auto& c : cases) changes.push_back(CaseChange{nullptr, &c, nullptr, "", "", 0});
  ASSERT_TRUE((*store)->Commit(changes, {}).ok());
  // Reopen once, so that the log (with its merge operands) is recovered by the
  // store itself before the raw edit below, which has no merge operator.
  store = Status(StatusCode::kCancelled, "CLOSED", "closed");
  store = Store::Open(StoreOptions{tmp.Sub("db"), false});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Flush().ok());
  // Make it a store from before the query indexes: no marker.
  store = Status(StatusCode::kCancelled, "CLOSED", "closed");
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), tmp.Sub("db"), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), tmp.Sub("db"), cfs, &handles, &db).ok());
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[0], std::string(kQueryIndexesKey)).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  store = Store::Open(StoreOptions{tmp.Sub("db"), false});
  ASSERT_TRUE(store.ok());
  for (const auto& c : cases) EXPECT_TRUE((*(*store)->GetCase(std::stoull(c.id()))).has_value()) << c.id();
  CaseListQuery county;
  county.scope = "100";
  auto page = (*store)->ListCases(county);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->cases.empty());  // filed under the grid alone

  auto n = (*store)->BackfillQueryIndexes(**dir);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 5u);
  page = (*store)->ListCases(county);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->cases.size(), 5u);
  EXPECT_EQ(page->cases[0].unit_path_size(), 4);  // 100 / 100001 / 100001001 / the grid
  auto figures = (*store)->ReadStats({"100", "100001001001"}, DayOf(kT0), DayOf(kT0));
  ASSERT_TRUE(figures.ok());
  EXPECT_EQ((*figures)[0][stat::kCases], 5);
  EXPECT_EQ((*figures)[1][stat::kCases], 5);  // not 10: the grid's old entries were cleared first

  n = (*store)->BackfillQueryIndexes(**dir);  // marked: nothing to do
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  figures = (*store)->ReadStats({"100"}, DayOf(kT0), DayOf(kT0));
  ASSERT_TRUE(figures.ok());
  EXPECT_EQ((*figures)[0][stat::kCases], 5);
}

}  // namespace
}  // namespace grid::storage
