// The store's side of replication (storage/replication.h) with an in-memory
// log: a replicated store appends every batch, with its position, before
// writing it; a follower that applies the log holds the same records; a
// refused append writes nothing and stops writes; a follower refuses entries
// out of order or not carrying the position they claim.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/case_id.h"
#include "engine/intake.h"
#include "engine/reasons.h"
#include "storage/replication.h"
#include "storage/store.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::storage {
namespace {

// Entries by position; a batch of several parts is kept as its parts.
class MemoryLog final : public BatchLog {
 public:
  explicit MemoryLog(size_t max_part) : max_part_(max_part) {}
  size_t max_part_bytes() const override { return max_part_; }
  uint64_t next_position() const override { return next_; }
  Status Append(uint64_t first, uint32_t parts, std::string_view batch) override {
    if (refuse) return Error(reason::NOT_LEADER, "refused by the test");
    EXPECT_EQ(first, next_);
    for (uint32_t i = 0; i < parts; ++i) {
      entries[first + i] = {std::string(batch.substr(size_t{i} * max_part_, max_part_)), i, parts};
    }
    next_ = first + parts;
    return Status::Ok();
  }
  struct Entry {
    std::string bytes;
    uint32_t part, parts;
  };
  std::map<uint64_t, Entry> entries;
  bool refuse = false;
  uint64_t next_ = 1;

 private:
  size_t max_part_;
};

std::unique_ptr<Store> OpenOk(const std::string& path, std::shared_ptr<BatchLog> log = nullptr) {
  StoreOptions options{path, true};
  options.log = std::move(log);
  auto s = Store::Open(options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

NewCase MakeCase(uint64_t id) {
  const grid::v1::SubmitCaseRequest r =
      testing::Submission().Description("replicated").NoLocation().NoCitizen().Build();
  grid::v1::RoutingDecision d;
  d.set_unit_code("100001001");
  return BuildNewCase(r, Actor{"cc1", "call_center"}, d, id, 1'795'000'000'000'000);
}

Status CommitNew(Store* store, const NewCase& c, const std::string& key) {
  return store->Commit({{nullptr, &c.record, &c.events, "cc1", key, 7}}, {});
}

// Applies every whole batch of `log` from position `from` on, as a follower does.
void ApplyAll(const MemoryLog& log, Store* follower, uint64_t from = 1) {
  std::string open;
  for (auto it = log.entries.lower_bound(from); it != log.entries.end(); ++it) {
    if (it->second.part == 0) open.clear();
    open += it->second.bytes;
    if (it->second.part + 1 == it->second.parts) {
      ASSERT_TRUE(follower->ApplyLogged(it->first, open, /*sync=*/true).ok()) << it->first;
    }
  }
}

TEST(Replication, EveryWriteGoesToTheLogWithItsPosition) {
  testing::TempDir leader_dir, follower_dir;
  auto log = std::make_shared<MemoryLog>(1 << 20);
  auto leader = OpenOk(leader_dir.path(), log);
  ASSERT_TRUE(leader);
  ASSERT_TRUE(leader->SaveDirectory(testing::TinyDirectory(), 1, true).ok());
  const NewCase a = MakeCase(1), b = MakeCase(2);
  ASSERT_TRUE(CommitNew(leader.get(), a, "k1").ok());
  ASSERT_TRUE(CommitNew(leader.get(), b, "k2").ok());
  ASSERT_EQ(log->entries.size(), 3u);
  EXPECT_EQ(*leader->LogPosition(), 3u);

  auto follower = OpenOk(follower_dir.path());
  ASSERT_TRUE(follower);
  EXPECT_EQ(*follower->LogPosition(), 0u);
  ApplyAll(*log, follower.get());
  EXPECT_EQ(*follower->LogPosition(), 3u);
  auto got = follower->GetCase(2);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->SerializeAsString(), b.record.SerializeAsString());
  auto idem = follower->FindIdempotency("cc1", "k1");
  ASSERT_TRUE(idem.ok());
  ASSERT_TRUE(idem->has_value());
  EXPECT_EQ((*idem)->case_id, 1u);
  auto dir = follower->LoadDirectory();
  ASSERT_TRUE(dir.ok() && dir->has_value());
  EXPECT_EQ((*dir)->version, 1u);
  // The indexes came with the records.
  auto follower_unit = follower->CasesOfUnit("100001001", 10);
  ASSERT_TRUE(follower_unit.ok());
  EXPECT_EQ(*follower_unit, (std::vector<uint64_t>{1, 2}));
}

TEST(Replication, ALargeBatchIsCutIntoPartsAndAppliedWhole) {
  testing::TempDir leader_dir, follower_dir;
  auto log = std::make_shared<MemoryLog>(300);  // far below one directory's bytes
  auto leader = OpenOk(leader_dir.path(), log);
  ASSERT_TRUE(leader->SaveDirectory(testing::TinyDirectory(), 1, true).ok());
  ASSERT_GT(log->entries.size(), 2u);
  const uint64_t last = log->entries.rbegin()->first;
  EXPECT_EQ(*leader->LogPosition(), last);
  EXPECT_EQ(log->entries.begin()->second.parts, last);
  auto follower = OpenOk(follower_dir.path());
  ApplyAll(*log, follower.get());
  EXPECT_EQ(*follower->LogPosition(), last);
  auto dir = follower->LoadDirectory();
  ASSERT_TRUE(dir.ok() && dir->has_value());
  EXPECT_EQ((*dir)->content.units_size(), testing::TinyDirectory().units_size());
}

TEST(Replication, ARefusedAppendWritesNothingAndStopsWrites) {
  testing::TempDir dir;
  auto log = std::make_shared<MemoryLog>(1 << 20);
  auto leader = OpenOk(dir.path(), log);
  const NewCase a = MakeCase(1), b = MakeCase(2);
  ASSERT_TRUE(CommitNew(leader.get(), a, "k1").ok());
  log->refuse = true;
  Status refused = CommitNew(leader.get(), b, "k2");
  EXPECT_EQ(refused.reason(), reason::NOT_LEADER.name) << refused.ToString();
  EXPECT_FALSE((*leader->GetCase(2)).has_value());
  EXPECT_FALSE((*leader->FindIdempotency("cc1", "k2")).has_value());
  EXPECT_EQ(*leader->LogPosition(), 1u);
  log->refuse = false;
  // The store cannot tell what the log holds now: no more writes until its
  // holder catches up from the log.
  Status after = CommitNew(leader.get(), b, "k2");
  EXPECT_EQ(after.reason(), reason::STORE_READ_ONLY.name) << after.ToString();
  EXPECT_EQ(log->entries.size(), 1u);
}

TEST(Replication, AFollowerRefusesEntriesThatDoNotFollow) {
  testing::TempDir leader_dir, follower_dir;
  auto log = std::make_shared<MemoryLog>(1 << 20);
  auto leader = OpenOk(leader_dir.path(), log);
  const NewCase a = MakeCase(1), b = MakeCase(2);
  ASSERT_TRUE(CommitNew(leader.get(), a, "k1").ok());
  ASSERT_TRUE(CommitNew(leader.get(), b, "k2").ok());
  auto follower = OpenOk(follower_dir.path());
  const std::string& first = log->entries.at(1).bytes;
  const std::string& second = log->entries.at(2).bytes;
  // The entry says position 1, not 2.
  Status wrong = follower->ApplyLogged(2, first, true);
  EXPECT_EQ(wrong.reason(), reason::LOG_MISMATCH.name) << wrong.ToString();
  // Not a batch at all.
  EXPECT_EQ(follower->ApplyLogged(1, "garbage", true).reason(), reason::LOG_MISMATCH.name);
  EXPECT_EQ(follower->ApplyLogged(1, std::string(40, '\xff'), true).reason(), reason::LOG_MISMATCH.name);
  EXPECT_EQ(*follower->LogPosition(), 0u);
  EXPECT_FALSE((*follower->GetCase(1)).has_value());
  ASSERT_TRUE(follower->ApplyLogged(1, first, true).ok());
  // Applying the same entry again is refused: it is not past the position held.
  EXPECT_EQ(follower->ApplyLogged(1, first, true).reason(), reason::LOG_MISMATCH.name);
  ASSERT_TRUE(follower->ApplyLogged(2, second, true).ok());
  EXPECT_EQ(*follower->LogPosition(), 2u);
}

TEST(Replication, AStoreReopenedWithALogContinuesPastItsPosition) {
  testing::TempDir dir;
  auto log = std::make_shared<MemoryLog>(1 << 20);
  {
    auto leader = OpenOk(dir.path(), log);
    const NewCase a = MakeCase(1);
    ASSERT_TRUE(CommitNew(leader.get(), a, "k1").ok());
  }
  // A log that claims to continue at or before what the store holds is refused.
  auto stale = std::make_shared<MemoryLog>(1 << 20);
  auto reopened = OpenOk(dir.path(), stale);
  const NewCase b = MakeCase(2);
  EXPECT_EQ(CommitNew(reopened.get(), b, "k2").reason(), reason::LOG_MISMATCH.name);
  EXPECT_FALSE((*reopened->GetCase(2)).has_value());
}

}  // namespace
}  // namespace grid::storage
