// A shard's log in a real etcd (cluster/shard_log.h, cluster/leadership.h):
// the leader's appends are fenced by its epoch, a replica catches up from
// the log and assembles batches cut into parts, drops a batch a deposed
// leader left unfinished, and refuses a log trimmed past what it holds.
#include "replica/shard_log.h"

#include <gtest/gtest.h>

#include "engine/case_id.h"
#include "engine/intake.h"
#include "engine/reasons.h"
#include "replica/leadership.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::replica {

using cluster::Compare;
using cluster::EtcdClient;
using cluster::EtcdWatch;
using cluster::PrefixEnd;
using cluster::TxnOp;
using cluster::WatchBatch;
using cluster::WatchEvent;
namespace {

class ShardLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.Start());
    auto client = EtcdClient::Connect(etcd_.endpoints(), EtcdClient::Options{});
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
  }

  std::unique_ptr<storage::Store> OpenStore(const std::string& path, std::shared_ptr<storage::BatchLog> log = nullptr) {
    storage::StoreOptions options{path, false};
    options.log = std::move(log);
    auto store = storage::Store::Open(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Becomes the shard's leader as `name`; the epoch.
  int64_t Elect(Leadership* leadership) {
    auto epoch = leadership->TryAcquire();
    EXPECT_TRUE(epoch.ok()) << epoch.status().ToString();
    EXPECT_TRUE(epoch.ok() && epoch->has_value());
    return epoch.ok() && *epoch ? **epoch : 0;
  }

  Status CommitCase(storage::Store* store, uint64_t id, const std::string& key) {
    const grid::v1::SubmitCaseRequest r = testing::Submission().Description("c").NoLocation().NoCitizen().Build();
    grid::v1::RoutingDecision d;
    d.set_unit_code("100001001");
    const NewCase c = BuildNewCase(r, Actor{"cc1", "call_center"}, d, id, 1'795'000'000'000'000);
    return store->Commit({{nullptr, &c.record, &c.events, "cc1", key, 1}}, {});
  }

  testing::EtcdCluster etcd_;
  std::unique_ptr<EtcdClient> client_;
  const ShardKeys keys_{"/test", "s1"};
  testing::TempDir tmp_;
};

TEST_F(ShardLogTest, KeysSortInPositionOrderAndRoundTrip) {
  EXPECT_LT(keys_.Log(9), keys_.Log(10));
  EXPECT_LT(keys_.Log(99999), keys_.Log(100000));
  EXPECT_EQ(keys_.PositionOf(keys_.Log(1234567890123ULL)), 1234567890123ULL);
  EXPECT_FALSE(keys_.PositionOf(keys_.leader));
  EXPECT_FALSE(keys_.PositionOf(keys_.log_prefix + "12x"));
  auto entry = DecodeLogEntry(EncodeLogEntry(7, 1, 3, "abc"));
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->epoch, 7u);
  EXPECT_EQ(entry->part, 1u);
  EXPECT_EQ(entry->parts, 3u);
  EXPECT_EQ(entry->data, "abc");
  EXPECT_EQ(DecodeLogEntry("short").status().reason(), reason::LOG_MISMATCH.name);
  EXPECT_EQ(DecodeLogEntry(EncodeLogEntry(7, 3, 3, "x")).status().reason(), reason::LOG_MISMATCH.name);
  EXPECT_EQ(DecodeLogEntry(EncodeLogEntry(7, 0, 0, "x")).status().reason(), reason::LOG_MISMATCH.name);
  auto record = DecodeLeaderRecord(EncodeLeaderRecord({"r1", "127.0.0.1:5", 0}), 42);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->replica, "r1");
  EXPECT_EQ(record->address, "127.0.0.1:5");
  EXPECT_EQ(record->epoch, 42);
  EXPECT_FALSE(DecodeLeaderRecord("no-newline", 1));
}

TEST_F(ShardLogTest, OneLeaderAtATime) {
  Leadership a(client_.get(), keys_, {"a", "127.0.0.1:1", 0}, 5);
  Leadership b(client_.get(), keys_, {"b", "127.0.0.1:2", 0}, 5);
  const int64_t epoch = Elect(&a);
  ASSERT_GT(epoch, 0);
  auto other = b.TryAcquire();
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  auto current = CurrentLeader(client_.get(), keys_);
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->replica, "a");
  EXPECT_EQ((*current)->epoch, epoch);
  a.Resign();  // the key goes with the lease, at once
  auto next = b.TryAcquire();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_GT(**next, epoch);
}

TEST_F(ShardLogTest, ADeposedLeaderCannotAppend) {
  auto old_leadership = std::make_unique<Leadership>(client_.get(), keys_, LeaderRecord{"a", "x:1", 0}, 5);
  const int64_t old_epoch = Elect(old_leadership.get());
  auto old_log = std::make_shared<EtcdBatchLog>(client_.get(), keys_, old_epoch, 1, 1 << 20);
  auto old_store = OpenStore(tmp_.Sub("old"), old_log);
  ASSERT_TRUE(CommitCase(old_store.get(), 1, "k1").ok());
  // Its lease ends (here: revoked; in life: expired while it was paused) and
  // another replica is elected. The old one has not noticed and appends.
  old_leadership->Resign();
  Leadership fresh(client_.get(), keys_, {"b", "x:2", 0}, 5);
  ASSERT_GT(Elect(&fresh), old_epoch);
  Status refused = CommitCase(old_store.get(), 2, "k2");
  EXPECT_EQ(refused.reason(), reason::NOT_LEADER.name) << refused.ToString();
  auto entry = client_->Get(keys_.Log(2));
  ASSERT_TRUE(entry.ok());
  EXPECT_FALSE(entry->has_value()) << "a deposed leader's entry reached the log";
  EXPECT_FALSE((*old_store->GetCase(2)).has_value());
}

TEST_F(ShardLogTest, AReplicaCatchesUpWithBatchesCutIntoParts) {
  Leadership leadership(client_.get(), keys_, {"a", "x:1", 0}, 5);
  const int64_t epoch = Elect(&leadership);
  auto log = std::make_shared<EtcdBatchLog>(client_.get(), keys_, epoch, 1, 256);  // parts of 256 bytes
  auto leader = OpenStore(tmp_.Sub("leader"), log);
  ASSERT_TRUE(leader->SaveDirectory(testing::TinyDirectory(), 1, true).ok());
  ASSERT_TRUE(CommitCase(leader.get(), 1, "k1").ok());
  ASSERT_TRUE(CommitCase(leader.get(), 2, "k2").ok());
  const uint64_t end = *leader->LogPosition();
  ASSERT_GT(end, 3u) << "the directory took several parts";

  auto follower = OpenStore(tmp_.Sub("follower"));
  LogApplier applier(follower.get(), false);
  ASSERT_TRUE(applier.Init().ok());
  auto revision = CatchUp(client_.get(), keys_, &applier);
  ASSERT_TRUE(revision.ok()) << revision.status().ToString();
  EXPECT_EQ(applier.applied(), end);
  EXPECT_EQ(*follower->LogPosition(), end);
  EXPECT_TRUE((*follower->GetCase(2)).has_value());
  auto dir = follower->LoadDirectory();
  ASSERT_TRUE(dir.ok() && dir->has_value());
  EXPECT_EQ((*dir)->content.units_size(), testing::TinyDirectory().units_size());
  // Nothing new: a second catch-up takes nothing.
  ASSERT_TRUE(CatchUp(client_.get(), keys_, &applier).ok());
  EXPECT_EQ(applier.applied(), end);
}

TEST_F(ShardLogTest, ABatchADeposedLeaderLeftUnfinishedIsDropped) {
  Leadership leadership(client_.get(), keys_, {"a", "x:1", 0}, 5);
  const int64_t epoch = Elect(&leadership);
  auto log = std::make_shared<EtcdBatchLog>(client_.get(), keys_, epoch, 1, 1 << 20);
  auto leader = OpenStore(tmp_.Sub("leader"), log);
  ASSERT_TRUE(CommitCase(leader.get(), 1, "k1").ok());
  // Two of three parts of a batch, then its leader died.
  ASSERT_TRUE(client_->Put(keys_.Log(2), EncodeLogEntry(epoch, 0, 3, "part one")).ok());
  ASSERT_TRUE(client_->Put(keys_.Log(3), EncodeLogEntry(epoch, 1, 3, "part two")).ok());

  auto follower = OpenStore(tmp_.Sub("follower"));
  LogApplier applier(follower.get(), false);
  ASSERT_TRUE(applier.Init().ok());
  ASSERT_TRUE(CatchUp(client_.get(), keys_, &applier).ok());
  EXPECT_EQ(applier.applied(), 1u);
  EXPECT_EQ(applier.position(), 3u);
  // The next leader continues after the unfinished parts; its batch starts
  // with part 0, which drops them.
  leadership.Resign();
  Leadership next(client_.get(), keys_, {"b", "x:2", 0}, 5);
  const int64_t next_epoch = Elect(&next);
  auto next_log = std::make_shared<EtcdBatchLog>(client_.get(), keys_, next_epoch, applier.position() + 1, 1 << 20);
  follower.reset();
  auto promoted = OpenStore(tmp_.Sub("follower"), next_log);
  ASSERT_TRUE(CommitCase(promoted.get(), 2, "k2").ok());
  EXPECT_EQ(*promoted->LogPosition(), 4u);

  auto third = OpenStore(tmp_.Sub("third"));
  LogApplier third_applier(third.get(), false);
  ASSERT_TRUE(third_applier.Init().ok());
  ASSERT_TRUE(CatchUp(client_.get(), keys_, &third_applier).ok());
  EXPECT_EQ(third_applier.applied(), 4u);
  EXPECT_TRUE((*third->GetCase(1)).has_value());
  EXPECT_TRUE((*third->GetCase(2)).has_value());
}

TEST_F(ShardLogTest, AReplicaBehindATrimmedLogIsToldToRestoreFromABackup) {
  Leadership leadership(client_.get(), keys_, {"a", "x:1", 0}, 5);
  const int64_t epoch = Elect(&leadership);
  auto log = std::make_shared<EtcdBatchLog>(client_.get(), keys_, epoch, 1, 1 << 20);
  auto leader = OpenStore(tmp_.Sub("leader"), log);
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(CommitCase(leader.get(), id, "k" + std::to_string(id)).ok());
  ASSERT_TRUE(client_->DeleteRange(keys_.Log(1), keys_.Log(3)).ok());  // trimmed to position 3
  auto fresh = OpenStore(tmp_.Sub("fresh"));
  LogApplier applier(fresh.get(), false);
  ASSERT_TRUE(applier.Init().ok());
  auto caught = CatchUp(client_.get(), keys_, &applier);
  EXPECT_EQ(caught.status().reason(), reason::LOG_TRUNCATED.name) << caught.status().ToString();
  EXPECT_EQ(*fresh->LogPosition(), 0u);
  EXPECT_FALSE((*fresh->GetCase(3)).has_value());
}

}  // namespace
}  // namespace grid::replica
