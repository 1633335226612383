// The store verifier (storage/verify.h) on a real RocksDB in a temp dir: a
// store written through Store::Commit with cases the engine built and moved
// through their lifecycle verifies clean (also after feed retention); each
// kind of damage, written with a raw RocksDB handle, is reported by name; a
// directory that holds no store is refused and left byte for byte as it was.
#include "storage/verify.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "engine/case_id.h"
#include "engine/intake.h"
#include "engine/lifecycle.h"
#include "engine/router.h"
#include "engine/timestamp.h"
#include "storage/case_index.h"
#include "storage/case_stats.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::storage {
namespace {

using grid::v1::Case;
using grid::v1::CaseCommand;

constexpr Micros M = kMicrosPerMinute;
constexpr Micros kT0 = 1'789'960'000'000'000;  // 2026-09-21 11:06 in UTC+8: every case of the test on one day
constexpr const char* kG1 = "100001001001";
constexpr const char* kG2 = "100001001002";

const WorkActor kAdmin{"admin-1", "admin", ""};
const WorkActor kHotline{"callcenter-01", "call_center", ""};
const WorkActor kG1Worker{"M1", "grid_worker", kG1};

// Fills a store the way the case writer does (services/case_writer.cc): each
// change is a record the engine built, committed with its events, index
// entries, figures and feed entries in one batch.
class Filled : public ::testing::Test {
 protected:
  Filled() : router_(RouterOptions{}), lifecycle_(Policy(), WorkingCalendar(), &router_) {}

  static DeadlinePolicy Policy() {
    auto p = ParseDeadlinePolicy("test", "rule general * calendar 1h 4h\n");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }

  void SetUp() override {
    auto d = Directory::Build(testing::TinyDirectory(), 1);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dir_ = *d;
    auto s = Store::Open(StoreOptions{path(), true});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->SaveDirectory(testing::TinyDirectory(), 1, true).ok());

    // A case worked to closure, reopened after a dissatisfied callback.
    Case closed = Submit(testing::Submission().At(20.005, 110.005).Key("k-closed").Build());
    Do(&closed, Cmd(closed, [](auto* c) { c->mutable_accept(); }), kG1Worker);
    Do(&closed, Cmd(closed, [](auto* c) { c->mutable_resolve()->set_note("已清理"); }), kG1Worker);
    Do(&closed, Cmd(closed, [](auto* c) { c->mutable_record_callback()->set_satisfied(false); }), kHotline);
    Do(&closed, Cmd(closed, [](auto* c) { c->mutable_reopen()->set_note("重办"); }), kHotline);
    long_case_ = closed;
    // Rejected by grid 1, re-routed to grid 2: its return counts at grid 1.
    Case rejected = Submit(testing::Submission().At(20.005, 110.005).Key("k-rejected").Build());
    Do(&rejected,
       Cmd(rejected,
           [](auto* c) {
             c->mutable_reject()->set_reason(grid::v1::REJECT_REASON_OTHER_UNIT);
             c->mutable_reject()->set_suggested_unit_code(kG2);
             c->mutable_reject()->set_note("不是我们网格的");
           }),
       kG1Worker);
    // Escalated twice by hand, accepted, then a department summoned (sub-task dues).
    Case escalated = Submit(testing::Submission().At(20.005, 110.015).NoCitizen().Build());
    for (int i = 0; i < 2; ++i) {
      Do(&escalated, Cmd(escalated, [](auto* c) { c->mutable_escalate()->set_note("需要协调"); }), kAdmin);
    }
    Do(&escalated, Cmd(escalated, [](auto* c) { c->mutable_accept(); }), WorkActor{"M3", "grid_worker", kG2});
    Do(&escalated, Cmd(escalated, [](auto* c) { c->mutable_summon()->add_department_codes("dept.water"); }), kAdmin);
    // Transferred to the other grid.
    Case moved = Submit(testing::Submission().At(20.005, 110.005).Build());
    Do(&moved, Cmd(moved, [](auto* c) { c->mutable_transfer()->set_unit_code(kG2); }), kAdmin);
    // Its accept warning fired by the deadline scheduler, when due.
    Case warned = Submit(testing::Submission().At(20.005, 110.005).Key("k-warned").Build());
    for (const PendingTimer& t : PendingTimers(warned)) {
      if (!t.warning) continue;
      now_ = std::max(now_, t.due - 5 * M);
      Do(&warned,
         Cmd(warned,
             [&](auto* c) {
               auto* f = c->mutable_fire();
               f->set_kind(t.kind);
               f->set_due_micros(t.due);
               f->set_subtask_index(t.subtask);
               f->set_warning(true);
             }),
         WorkActor{"deadline", "system", ""});
      break;
    }
  }

  void TearDown() override { store_.reset(); }

  std::string path() const { return tmp_.Sub("data"); }

  template <typename Set>
  static CaseCommand Cmd(const Case& c, Set set) {
    CaseCommand cmd;
    set(&cmd);
    // Every command message has case_id as field 1: set it by reflection.
    const auto* field = cmd.GetReflection()->GetOneofFieldDescriptor(cmd, cmd.GetDescriptor()->oneof_decl(0));
    auto* msg = cmd.GetReflection()->MutableMessage(&cmd, field);
    msg->GetReflection()->SetString(msg, msg->GetDescriptor()->FindFieldByName("case_id"), c.id());
    return cmd;
  }

  // Each submission and command happens 5 minutes after the one before.
  Case Submit(const grid::v1::SubmitCaseRequest& r) {
    const Micros now = now_ += 5 * M;
    RouteInput in;
    in.category = r.category();
    if (r.has_location()) in.location = geo::Point{r.location().lng(), r.location().lat()};
    auto routing = router_.Route(*dir_, in);
    EXPECT_TRUE(routing.ok()) << routing.status().ToString();
    NewCase n = BuildNewCase(r, Actor{"cc1", "call_center"}, *routing, ++next_id_, now);
    lifecycle_.StartClocks(*dir_, &n.record, now);
    SetUnitPath(*dir_, &n.record);
    Commit(nullptr, n.record, n.events, r.idempotency_key(), RequestFingerprint(r));
    return n.record;
  }

  void Do(Case* c, const CaseCommand& cmd, const WorkActor& actor) {
    const Micros now = now_ += 5 * M;
    auto t = lifecycle_.Apply(*dir_, *c, nullptr, cmd, actor, now);
    ASSERT_TRUE(t.ok()) << CommandName(cmd) << ": " << t.status().ToString();
    SetUnitPath(*dir_, &t->next);
    Commit(c, t->next, t->events, "", 0);
    *c = t->next;
  }

  void Commit(const Case* before, const Case& after, const std::vector<grid::v1::CaseEvent>& events,
              const std::string& key, uint64_t fingerprint) {
    std::vector<std::string> path = IndexedPath(after);
    if (before != nullptr) {
      for (auto& code : IndexedPath(*before)) {
        if (std::find(path.begin(), path.end(), code) == path.end()) path.push_back(code);
      }
    }
    std::vector<grid::v1::FeedEntry> feed;
    for (const auto& e : events) {
      auto& entry = feed.emplace_back();
      entry.set_cursor(++cursor_);
      *entry.mutable_event() = e;
      for (const auto& code : path) entry.add_unit_path(code);
    }
    ASSERT_TRUE(store_->Commit({CaseChange{before, &after, &events, "cc1", key, fingerprint}}, feed).ok());
  }

  VerifyReport Verify() {
    store_.reset();  // a stopped server's directory
    auto r = VerifyStore(path());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  // A raw handle on every column family, to damage the store.
  struct Raw {
    std::unique_ptr<rocksdb::DB> db;
    std::map<std::string, rocksdb::ColumnFamilyHandle*> cf;
    ~Raw() {
      for (auto& [name, h] : cf) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    void Put(const char* family, const std::string& key, const std::string& value) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cf.at(family), key, value).ok());
    }
    void Delete(const char* family, const std::string& key) {
      std::string v;
      ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), cf.at(family), key, &v).ok()) << "no such key to delete";
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), cf.at(family), key).ok());
    }
  };
  std::unique_ptr<Raw> OpenRaw() {
    store_.reset();
    auto raw = std::make_unique<Raw>();
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const char* name : {kMetaCf, kDirectoryCf, kCasesCf, kEventsCf, kIdempotencyCf, kIndexCf, kFeedCf}) {
      descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
      if (std::string(name) == kIndexCf) descs.back().options.merge_operator = StatsMergeOperator();
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    auto s = rocksdb::DB::Open(rocksdb::DBOptions(), path(), descs, &handles, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    raw->db.reset(db);
    for (size_t i = 0; i < descs.size() && s.ok(); ++i) raw->cf[descs[i].name] = handles[i];
    return raw;
  }

  // Asserts that the damaged store reports exactly `count` disagreements, one
  // of which contains `text`.
  void ExpectReported(const std::string& text, size_t count) {
    const VerifyReport r = Verify();
    EXPECT_FALSE(r.clean());
    EXPECT_EQ(r.disagreements, count) << r.Text(50);
    bool found = false;
    for (const auto& p : r.problems) found |= p.find(text) != std::string::npos;
    EXPECT_TRUE(found) << "no disagreement contains '" << text << "':\n" << r.Text(50);
  }

  uint64_t id(const Case& c) const { return *ParseCaseId(c.id()); }

  testing::TempDir tmp_;
  Router router_;
  Lifecycle lifecycle_;
  std::shared_ptr<const Directory> dir_;
  std::unique_ptr<Store> store_;
  uint64_t next_id_ = 1'790'000'000'000'000;
  uint64_t cursor_ = 0;
  Micros now_ = kT0;
  Case long_case_;  // the reopened one, 6 events
};

TEST_F(Filled, AStoreWrittenThroughCommitVerifiesClean) {
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.clean()) << r.Text(50);
  EXPECT_EQ(r.cases, 5u);
  EXPECT_EQ(r.events, r.feed_entries);
  EXPECT_EQ(r.feed_entries, cursor_);
  EXPECT_EQ(r.first_feed_cursor, 1u);
  EXPECT_EQ(r.idempotency_entries, 3u);
  EXPECT_GT(r.figure_keys, 0u);
  EXPECT_GT(r.index_entries, 5u * 3);
  EXPECT_TRUE(r.query_indexes);
  EXPECT_NE(r.Summary().find("5 cases, " + std::to_string(r.events) + " events"), std::string::npos) << r.Summary();
  EXPECT_NE(r.Summary().find(": clean"), std::string::npos) << r.Summary();
}

TEST_F(Filled, AFeedTrimmedByRetentionStillVerifiesClean) {
  // The first case's submission (kT0 + 5 min) and acceptance (+ 10 min) go.
  auto trimmed = store_->TrimFeed(kT0 + 12 * M, 1000);
  ASSERT_TRUE(trimmed.ok());
  ASSERT_EQ(*trimmed, 3u);
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.clean()) << r.Text(50);
  EXPECT_EQ(r.first_feed_cursor, *trimmed + 1);
  EXPECT_EQ(r.feed_entries + *trimmed, r.events);
}

// Regression: the case-work process test's case, rejected for a wrong
// location with the right one, was reported for a wrong fingerprint: its
// record holds the corrected location, not the submitted one.
TEST_F(Filled, ACaseWhoseLocationARejectionCorrectedKeepsItsIdempotencyEntry) {
  Case c = Submit(testing::Submission().At(20.005, 110.005).Key("k-corrected").Build());
  Do(&c,
     Cmd(c,
         [](auto* cmd) {
           auto* r = cmd->mutable_reject();
           r->set_reason(grid::v1::REJECT_REASON_WRONG_LOCATION);
           r->mutable_corrected_location()->set_lat(20.005);
           r->mutable_corrected_location()->set_lng(110.015);
           r->set_note("位置不对");
         }),
     kG1Worker);
  ASSERT_EQ(c.unit_code(), kG2);
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.clean()) << r.Text(50);
  EXPECT_EQ(r.idempotency_entries, 4u);
}

TEST_F(Filled, VerifyingChangesNothingInTheDirectory) {
  store_.reset();
  const auto before = testing::FilesUnder(path());
  ASSERT_FALSE(before.empty());
  auto r = VerifyStore(path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->clean()) << r->Text(50);
  EXPECT_EQ(testing::FilesUnder(path()), before);
}

TEST_F(Filled, AMissingIndexEntryIsReported) {
  OpenRaw()->Delete(kIndexCf, ByStatusKey(long_case_.status(), id(long_case_)));
  ExpectReported("index: missing entry by-status 2 case " + long_case_.id(), 1);
}

TEST_F(Filled, AStrayIndexEntryIsReported) {
  OpenRaw()->Put(kIndexCf, ByUnitKey(kG2, 42), "");
  ExpectReported("index: stray entry by-unit " + std::string(kG2) + " case " + CaseIdToString(42), 1);
}

TEST_F(Filled, AMissingDueTimeEntryIsReported) {
  const auto timers = PendingTimers(long_case_);
  ASSERT_FALSE(timers.empty());
  const PendingTimer& t = timers.front();
  OpenRaw()->Delete(kIndexCf, EncodeDueKey(DueKey{static_cast<uint64_t>(t.due), id(long_case_),
                                                  static_cast<int>(t.kind), t.subtask, t.warning}));
  ExpectReported("index: missing entry due-time " + std::to_string(t.due) + " case " + long_case_.id(), 1);
}

TEST_F(Filled, AListEntryWithAnotherSummaryIsReported) {
  ListSummary s = SummaryOf(long_case_);
  s.category = "other";
  OpenRaw()->Put(kIndexCf, ListByUnitKey(kG1, id(long_case_)), EncodeListSummary(s));
  ExpectReported(
      "index: entry list-by-unit " + std::string(kG1) + " case " + long_case_.id() + " holds a summary that differs",
      1);
}

TEST_F(Filled, AnAlteredFigureIsReported) {
  const uint32_t day = DayOf(kT0);
  auto raw = OpenRaw();
  ASSERT_TRUE(raw->db
                  ->Merge(rocksdb::WriteOptions(), raw->cf.at(kIndexCf), StatsKey("100001", day),
                          EncodeCounters(SparseCounters{{stat::kReturns, 1}}))
                  .ok());
  raw.reset();
  ExpectReported("figures: unit 100001 day " + FormatDay(day) + " disagree with the records: field " +
                     std::to_string(stat::kReturns) + ": stored 2, from the records 1",
                 1);
}

TEST_F(Filled, AnEventRemovedFromTheMiddleOfACaseIsReported) {
  OpenRaw()->Delete(kEventsCf, EventKey(id(long_case_), 3));
  // The event and, since its feed entry now names nothing, that entry.
  ExpectReported("events: case " + long_case_.id() + " has no event 3 (next stored: 4)", 2);
}

TEST_F(Filled, AFeedEntryRemovedFromTheMiddleIsReported) {
  OpenRaw()->Delete(kFeedCf, FeedKey(5));
  // The gap, and the event that lost its entry.
  ExpectReported("feed: cursors 5..5 are missing", 2);
  ExpectReported("has no feed entry, though it is newer than the first retained entry 1", 2);
}

TEST_F(Filled, AnIdempotencyEntryNamingAMissingCaseIsReported) {
  OpenRaw()->Put(kIdempotencyCf, IdempotencyKey("cc1", "k-ghost"), EncodeIdempotencyValue(42, 7));
  ExpectReported("idempotency: entry cc1 / k-ghost names case " + CaseIdToString(42) + ", which is not stored", 1);
}

TEST_F(Filled, AnIdempotencyEntryWithAnotherFingerprintIsReported) {
  OpenRaw()->Put(kIdempotencyCf, IdempotencyKey("cc1", "k-closed"), EncodeIdempotencyValue(id(long_case_), 7));
  ExpectReported("idempotency: entry cc1 / k-closed has fingerprint 7 but case " + long_case_.id(), 1);
}

TEST_F(Filled, ACaseWithoutItsIdempotencyEntryIsReported) {
  OpenRaw()->Delete(kIdempotencyCf, IdempotencyKey("cc1", "k-closed"));
  ExpectReported("idempotency: case " + long_case_.id() + " was submitted with key k-closed by cc1 but has no entry",
                 1);
}

TEST_F(Filled, ReportsAreCappedButEveryDisagreementIsCounted) {
  {
    auto raw = OpenRaw();
    for (uint64_t i = 1; i <= 30; ++i) raw->Put(kIndexCf, ByUnitKey(kG2, i), "");
  }
  auto r = VerifyStore(path(), VerifyOptions{10});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->disagreements, 30u);
  EXPECT_EQ(r->problems.size(), 10u);
  const std::string text = r->Text(5);
  EXPECT_NE(text.find("... and 25 more disagreement(s)\n"), std::string::npos) << text;
  EXPECT_NE(text.find(": 30 disagreement(s)\n"), std::string::npos) << text;
}

TEST(VerifyStore, AMissingDirectoryIsNoStoreAndIsNotCreated) {
  testing::TempDir tmp;
  auto r = VerifyStore(tmp.Sub("nothing"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "NO_STORE");
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("nothing")));
}

TEST(VerifyStore, AnEmptyDirectoryIsNoStoreAndStaysEmpty) {
  testing::TempDir tmp;
  auto r = VerifyStore(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "NO_STORE");
  EXPECT_NE(r.status().message().find("is empty"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(testing::FilesUnder(tmp.path()).empty());
}

TEST(VerifyStore, AFileOrAForeignDirectoryIsRefusedAndLeftAlone) {
  testing::TempDir tmp;
  std::ofstream(tmp.Sub("notes.txt")) << "not a store\n";
  const auto before = testing::FilesUnder(tmp.path());
  for (const std::string& p : {tmp.path(), tmp.Sub("notes.txt")}) {
    auto r = VerifyStore(p);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.status().reason(), "FOREIGN_DATA_DIR") << r.status().ToString();
  }
  EXPECT_EQ(testing::FilesUnder(tmp.path()), before);
}

TEST(VerifyStore, AnotherRocksDbDatabaseIsRefusedAndLeftAlone) {
  testing::TempDir tmp;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, tmp.path(), &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "theirs", "1").ok());
    delete db;
  }
  const auto before = testing::FilesUnder(tmp.path());
  auto r = VerifyStore(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "FOREIGN_DATA_DIR");
  EXPECT_NE(r.status().message().find("column families differ"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(testing::FilesUnder(tmp.path()), before);
}

}  // namespace
}  // namespace grid::storage
