// Power loss under the store: commits acknowledged through Store::Commit,
// flushes and compactions, then the power cut at a random point
// (storage/fault_file_system.h drops every byte not fsynced and every file
// name not made durable), then the real directory reopened: every
// acknowledged commit is there, the one in flight is there whole or not at
// all, and records, events, idempotency entries, unit index and feed agree.
// The negative control runs the same with StoreOptions::sync = false and
// loses acknowledged commits.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "engine/case_id.h"
#include "engine/intake.h"
#include "storage/fault_file_system.h"
#include "storage/store.h"
#include "tests/support/store_verified.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"

namespace grid::storage {
namespace {

constexpr uint64_t kFirstId = 1795000000000001ULL;
const char* const kUnits[] = {"100001001001", "100001001002"};

// One batch: its changes, as records after and the events they append.
struct Change {
  std::optional<grid::v1::Case> before;
  grid::v1::Case after;
  std::vector<grid::v1::CaseEvent> events;
  std::string key;
  uint64_t fingerprint = 0;  // of the submission, as intake stores it
};

struct Model {
  std::map<uint64_t, grid::v1::Case> cases;                     // acknowledged state
  std::map<uint64_t, std::vector<grid::v1::CaseEvent>> events;  // acknowledged events
  std::map<std::string, uint64_t> keys;                         // idempotency key -> case
  uint64_t cursor = 0;                                          // feed entries acknowledged
  uint64_t next_id = kFirstId;
};

// A new case built by the engine, or a transition of a stored one (moved to
// the other grid and accepted: its unit index entry moves).
std::vector<Change> MakeBatch(std::mt19937* rng, const Model& m) {
  std::vector<Change> batch;
  const int n = 1 + static_cast<int>((*rng)() % 3);
  uint64_t id = m.next_id;
  for (int i = 0; i < n; ++i) {
    Change c;
    if (!m.cases.empty() && (*rng)() % 3 == 0) {
      auto it = m.cases.begin();
      std::advance(it, (*rng)() % m.cases.size());
      bool taken = false;
      for (const auto& other : batch) taken |= other.after.id() == it->second.id();
      if (taken) continue;
      c.before = it->second;
      c.after = it->second;
      c.after.set_unit_code(c.after.unit_code() == kUnits[0] ? kUnits[1] : kUnits[0]);
      c.after.set_status(grid::v1::CASE_STATUS_ACCEPTED);
      c.after.set_version(c.after.version() + 1);
      grid::v1::CaseEvent e;
      e.set_case_id(c.after.id());
      e.set_seq(static_cast<int>(m.events.at(it->first).size()) + 1);
      e.set_type(grid::v1::EVENT_TYPE_ACCEPTED);
      c.events.push_back(e);
    } else {
      c.key = "key-" + std::to_string(id);
      const auto r = testing::Submission().Description("power loss").NoLocation().NoCitizen().Key(c.key).Build();
      c.fingerprint = RequestFingerprint(r);
      grid::v1::RoutingDecision d;
      d.set_unit_code(kUnits[(*rng)() % 2]);
      NewCase fresh = BuildNewCase(r, Actor{"cc1", "call_center"}, d, id++, 1'795'000'000'000'000);
      fresh.record.set_unit_code(d.unit_code());
      c.after = std::move(fresh.record);
      c.events = std::move(fresh.events);
    }
    batch.push_back(std::move(c));
  }
  return batch;
}

Status CommitBatch(Store* store, const std::vector<Change>& batch, uint64_t cursor) {
  std::vector<CaseChange> changes;
  std::vector<grid::v1::FeedEntry> feed;
  for (const Change& c : batch) {
    changes.push_back(CaseChange{c.before ? &*c.before : nullptr, &c.after, &c.events, "cc1", c.key, c.fingerprint});
    for (const auto& e : c.events) {
      grid::v1::FeedEntry f;
      f.set_cursor(++cursor);
      *f.mutable_event() = e;
      feed.push_back(std::move(f));
    }
  }
  return store->Commit(changes, feed);
}

void Apply(const std::vector<Change>& batch, Model* m) {
  for (const Change& c : batch) {
    const uint64_t id = *ParseCaseId(c.after.id());
    m->cases[id] = c.after;
    auto& ev = m->events[id];
    ev.insert(ev.end(), c.events.begin(), c.events.end());
    if (!c.key.empty()) m->keys[c.key] = id;
    m->cursor += c.events.size();
    m->next_id = std::max(m->next_id, id + 1);
  }
}

// The whole store against the model: records, events, idempotency entries,
// the unit index and the feed, nothing more and nothing less.
void ExpectStoreIs(Store& store, const Model& m) {
  for (const auto& [id, record] : m.cases) {
    auto got = store.GetCase(id);
    ASSERT_TRUE(got.ok() && got->has_value()) << "acknowledged case " << id << " is gone";
    EXPECT_EQ((*got)->SerializeAsString(), record.SerializeAsString()) << "case " << id;
    auto events = store.GetEvents(id);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), m.events.at(id).size()) << "events of case " << id;
    for (size_t i = 0; i < events->size(); ++i) {
      EXPECT_EQ((*events)[i].SerializeAsString(), m.events.at(id)[i].SerializeAsString());
    }
  }
  EXPECT_EQ(*store.MaxCaseId(), m.cases.empty() ? 0 : m.cases.rbegin()->first) << "a case nobody acknowledged";
  for (const auto& [key, id] : m.keys) {
    auto idem = store.FindIdempotency("cc1", key);
    ASSERT_TRUE(idem.ok() && idem->has_value()) << key;
    EXPECT_EQ((*idem)->case_id, id);
  }
  EXPECT_FALSE(store.FindIdempotency("cc1", "key-" + std::to_string(m.next_id))->has_value());
  for (const char* unit : kUnits) {
    std::set<uint64_t> want;
    for (const auto& [id, record] : m.cases) {
      if (record.unit_code() == unit) want.insert(id);
    }
    auto got = store.CasesOfUnit(unit, 100000);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(std::set<uint64_t>(got->begin(), got->end()), want) << "unit index of " << unit;
  }
  auto feed = store.ReadFeed(0, 1000000);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), m.cursor) << "feed entries";
  for (size_t i = 0; i < feed->size(); ++i) EXPECT_EQ((*feed)[i].cursor(), i + 1);
}

struct RunResult {
  Model acked;
  std::optional<Model> with_pending;  // acked plus the batch in flight at the power cut
  size_t steps = 0;
};

// Opens a store over `fs`, commits, flushes and compacts at random until
// the power goes (after `cut` operations of the file system) or `steps`
// steps; closes it.
RunResult RunUntilPowerLoss(const std::string& path, const std::shared_ptr<FaultFileSystem>& fs, bool sync,
                            uint32_t seed, uint64_t cut, size_t steps) {
  RunResult out;
  StoreOptions options{path, sync};
  options.file_system = fs;
  auto opened = Store::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return out;
  std::unique_ptr<Store> store = std::move(opened).value();
  std::mt19937 rng(seed);
  fs->CutPowerAfter(cut);
  for (size_t i = 0; i < steps && !fs->power_lost(); ++i) {
    const uint32_t what = rng() % 12;
    if (what == 0) {
      (void)store->Flush();
      continue;
    }
    if (what == 1) {
      (void)store->CompactAll();
      continue;
    }
    std::vector<Change> batch = MakeBatch(&rng, out.acked);
    if (batch.empty()) continue;
    const Status s = CommitBatch(store.get(), batch, out.acked.cursor);
    ++out.steps;
    if (s.ok()) {
      Apply(batch, &out.acked);
    } else {
      EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
      out.with_pending = out.acked;
      Apply(batch, &*out.with_pending);
      break;
    }
  }
  fs->CutPowerAfter(0);  // whatever the store does while closing is lost
  store.reset();
  return out;
}

std::unique_ptr<Store> Reopen(const std::string& path) {
  auto s = Store::Open(StoreOptions{path, true});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(PowerLoss, EveryAcknowledgedCommitSurvivesAndNothingIsHalfWritten) {
  size_t commits = 0, pending_kept = 0, pending_lost = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::TempDir tmp;
    auto fs = std::make_shared<FaultFileSystem>();
    std::mt19937 pick(seed * 7919);
    const uint64_t cut = pick() % 400;
    RunResult run = RunUntilPowerLoss(tmp.path(), fs, /*sync=*/true, seed, cut, 60);
    {
      const auto r = fs->RestoreAfterPowerLoss();
      ASSERT_TRUE(r.ok()) << r.ToString();
    }
    auto store = Reopen(tmp.path());
    ASSERT_TRUE(store);
    commits += run.acked.cases.size();
    const uint64_t last = *store->LastFeedCursor();
    if (run.with_pending && last == run.with_pending->cursor && last != run.acked.cursor) {
      ++pending_kept;
      ExpectStoreIs(*store, *run.with_pending);  // the batch in flight, whole
    } else {
      pending_lost += run.with_pending.has_value();
      ExpectStoreIs(*store, run.acked);
    }
    // And what survived is consistent: every index, figure, event, feed and
    // idempotency entry agrees with the records.
    store.reset();
    EXPECT_TRUE(testing::StoreVerifiesClean(tmp.path()));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(commits, 100u) << "the runs committed too little to prove anything";
  RecordProperty("pending_kept", static_cast<int>(pending_kept));
  RecordProperty("pending_lost", static_cast<int>(pending_lost));
}

// The negative control: without fsync the same test loses acknowledged
// commits, so it would catch a missing one.
TEST(PowerLoss, WithoutFsyncAcknowledgedCommitsAreLost) {
  testing::TempDir tmp;
  auto fs = std::make_shared<FaultFileSystem>();
  RunResult run = RunUntilPowerLoss(tmp.path(), fs, /*sync=*/false, 3, /*cut=*/1000000, 20);
  ASSERT_FALSE(run.acked.cases.empty());
  {
    const auto r = fs->RestoreAfterPowerLoss();
    ASSERT_TRUE(r.ok()) << r.ToString();
  }
  auto store = Reopen(tmp.path());
  ASSERT_TRUE(store);
  size_t lost = 0;
  for (const auto& [id, record] : run.acked.cases) lost += !store->GetCase(id)->has_value();
  EXPECT_GT(lost, 0u) << "unsynced commits survived a power loss: the fault file system drops nothing";
  // And with fsync, the same steps lose none.
  testing::TempDir tmp2;
  auto fs2 = std::make_shared<FaultFileSystem>();
  RunResult synced = RunUntilPowerLoss(tmp2.path(), fs2, /*sync=*/true, 3, /*cut=*/1000000, 20);
  {
    const auto r = fs2->RestoreAfterPowerLoss();
    ASSERT_TRUE(r.ok()) << r.ToString();
  }
  auto store2 = Reopen(tmp2.path());
  ASSERT_TRUE(store2);
  ExpectStoreIs(*store2, synced.acked);
}

}  // namespace
}  // namespace grid::storage
