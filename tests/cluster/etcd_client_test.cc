// EtcdClient against one real etcd member (tests/support/etcd_cluster.h):
// keys, ranges, transactions as a leader lease uses them, leases, watches,
// compaction, and the errors of bad requests. Without etcd installed every
// test here fails, saying so.
#include "cluster/etcd_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/reasons.h"
#include "port/mutex.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/etcd_watch_log.h"

namespace grid::cluster {
namespace {

using testing::EtcdCluster;
using testing::WatchLog;

constexpr auto kWait = std::chrono::seconds(10);

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start());
    auto client = cluster_.Connect();
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  // Puts and expects it applied; the revision.
  int64_t MustPut(const std::string& key, const std::string& value, int64_t lease = 0) {
    StatusOr<int64_t> rev = client_->Put(key, value, lease);
    EXPECT_TRUE(rev.ok()) << rev.status().ToString();
    return rev.ok() ? *rev : 0;
  }
  std::optional<KeyValue> MustGet(const std::string& key) {
    StatusOr<std::optional<KeyValue>> kv = client_->Get(key);
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    return kv.ok() ? *kv : std::nullopt;
  }

  EtcdCluster cluster_;
  std::unique_ptr<EtcdClient> client_;
};

TEST(EtcdPrefixEnd, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(PrefixEnd("a"), "b");
  EXPECT_EQ(PrefixEnd("cases/"), "cases0");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdOutcome, OnlyProvenRefusalsAreKnownNotApplied) {
  EXPECT_FALSE(OutcomeUnknown(Status::Ok()));
  EXPECT_FALSE(OutcomeUnknown(Error(reason::ETCD_NO_LEADER, "x")));
  EXPECT_FALSE(OutcomeUnknown(Error(reason::ETCD_INVALID_REQUEST, "x")));
  EXPECT_FALSE(OutcomeUnknown(Error(reason::ETCD_UNREACHABLE, "x")));
  EXPECT_TRUE(OutcomeUnknown(Error(reason::ETCD_UNAVAILABLE, "x")));
  EXPECT_TRUE(OutcomeUnknown(Error(reason::ETCD_TIMEOUT, "x")));
  EXPECT_TRUE(OutcomeUnknown(ErrorWithCode(StatusCode::kCancelled, reason::ETCD_ERROR, "x")));
  EXPECT_TRUE(OutcomeUnknown(Error(reason::QUEUE_FULL, "not the etcd client's")));
}

TEST_F(EtcdClientTest, PutGetRangeAndDelete) {
  const int64_t r1 = MustPut("k", "one");
  std::optional<KeyValue> kv = MustGet("k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "one");
  EXPECT_EQ(kv->create_revision, r1);
  EXPECT_EQ(kv->mod_revision, r1);
  EXPECT_EQ(kv->version, 1);
  EXPECT_EQ(kv->lease, 0);

  const int64_t r2 = MustPut("k", "two");
  EXPECT_GT(r2, r1);
  kv = MustGet("k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "two");
  EXPECT_EQ(kv->create_revision, r1);
  EXPECT_EQ(kv->mod_revision, r2);
  EXPECT_EQ(kv->version, 2);
  EXPECT_FALSE(MustGet("missing").has_value());

  // A value with NUL and high bytes goes through as bytes.
  const std::string bytes("\0\x01\xff", 3);
  MustPut("p/2", bytes);
  MustPut("p/1", "a");
  MustPut("p/3", "c");
  MustPut("q", "outside");
  StatusOr<RangeResult> all = client_->Range("p/", PrefixEnd("p/"));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->kvs.size(), 3u);
  EXPECT_EQ(all->kvs[0].key, "p/1");
  EXPECT_EQ(all->kvs[1].key, "p/2");
  EXPECT_EQ(all->kvs[1].value, bytes);
  EXPECT_EQ(all->kvs[2].key, "p/3");
  EXPECT_EQ(all->count, 3);
  EXPECT_FALSE(all->more);

  StatusOr<RangeResult> two = client_->Range("p/", PrefixEnd("p/"), /*limit=*/2);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->kvs.size(), 2u);
  EXPECT_TRUE(two->more);
  EXPECT_EQ(two->count, 3);

  // A read at an older revision sees the value of then.
  StatusOr<RangeResult> then = client_->Range("k", "", 0, r1);
  ASSERT_TRUE(then.ok()) << then.status().ToString();
  ASSERT_EQ(then->kvs.size(), 1u);
  EXPECT_EQ(then->kvs[0].value, "one");

  StatusOr<int64_t> deleted = client_->DeleteRange("p/", PrefixEnd("p/"));
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 3);
  EXPECT_FALSE(MustGet("p/1").has_value());
  EXPECT_TRUE(MustGet("q").has_value());
  deleted = client_->DeleteRange("p/1");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 0);
}

// The leader lease: put-if-absent on the leadership key (create_revision
// == 0), then every write fenced on the key's create_revision, so that a
// deposed leader's writes fail once another created the key.
TEST_F(EtcdClientTest, TxnPutIfAbsentAndFenceOnCreateRevision) {
  StatusOr<int64_t> lease = client_->LeaseGrant(30);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  StatusOr<TxnResult> won =
      client_->Txn({Compare::Absent("leader")}, {TxnOp::Put("leader", "node-a", *lease)}, {TxnOp::Range("leader")});
  ASSERT_TRUE(won.ok()) << won.status().ToString();
  EXPECT_TRUE(won->succeeded);
  EXPECT_TRUE(won->ranges.empty()) << "the success branch has no range";
  const int64_t created = won->revision;

  // A second candidate loses and reads who holds it.
  StatusOr<TxnResult> lost =
      client_->Txn({Compare::Absent("leader")}, {TxnOp::Put("leader", "node-b")}, {TxnOp::Range("leader")});
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_FALSE(lost->succeeded);
  ASSERT_EQ(lost->ranges.size(), 1u);
  ASSERT_EQ(lost->ranges[0].kvs.size(), 1u);
  EXPECT_EQ(lost->ranges[0].kvs[0].value, "node-a");
  EXPECT_EQ(lost->ranges[0].kvs[0].create_revision, created);
  EXPECT_EQ(lost->ranges[0].kvs[0].lease, *lease);

  // Fenced writes by the holder, each compare target holding.
  const std::vector<Compare> fence = {
      Compare::CreatedAt("leader", created),
      Compare::Value("leader", Compare::Result::kEqual, "node-a"),
      Compare::Number("leader", Compare::Target::kLease, Compare::Result::kEqual, *lease),
      Compare::Number("leader", Compare::Target::kVersion, Compare::Result::kEqual, 1),
      Compare::Number("leader", Compare::Target::kModRevision, Compare::Result::kLess, created + 1),
  };
  StatusOr<TxnResult> write =
      client_->Txn(fence, {TxnOp::Put("shard/1", "v1"), TxnOp::Range("shard/", PrefixEnd("shard/"))});
  ASSERT_TRUE(write.ok()) << write.status().ToString();
  EXPECT_TRUE(write->succeeded);
  ASSERT_EQ(write->ranges.size(), 1u);
  ASSERT_EQ(write->ranges[0].kvs.size(), 1u) << "the range sees the put before it in the txn";
  EXPECT_EQ(write->ranges[0].kvs[0].value, "v1");

  // Each compare alone, made false, takes the failure branch.
  const std::vector<Compare> each_false = {
      Compare::CreatedAt("leader", created + 1000),
      Compare::Value("leader", Compare::Result::kNotEqual, "node-a"),
      Compare::Number("leader", Compare::Target::kLease, Compare::Result::kNotEqual, *lease),
      Compare::Number("leader", Compare::Target::kVersion, Compare::Result::kGreater, 1),
      Compare::Number("leader", Compare::Target::kModRevision, Compare::Result::kGreater, created),
  };
  for (const Compare& c : each_false) {
    StatusOr<TxnResult> r = client_->Txn({c}, {TxnOp::Put("shard/1", "wrong")}, {TxnOp::Range("shard/1")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->succeeded) << "compare target " << static_cast<int>(c.target);
    ASSERT_EQ(r->ranges.size(), 1u);
    ASSERT_EQ(r->ranges[0].kvs.size(), 1u);
    EXPECT_EQ(r->ranges[0].kvs[0].value, "v1");
  }

  // The lease ends (revoked here, as when it expires); another node takes
  // the key; the old holder's fenced write fails and changes nothing.
  ASSERT_TRUE(client_->LeaseRevoke(*lease).ok());
  StatusOr<TxnResult> other = client_->Txn({Compare::Absent("leader")}, {TxnOp::Put("leader", "node-b")}, {});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->succeeded);
  StatusOr<TxnResult> stale =
      client_->Txn({Compare::CreatedAt("leader", created)}, {TxnOp::Put("shard/1", "stale")}, {TxnOp::Range("leader")});
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(stale->succeeded);
  ASSERT_EQ(stale->ranges.size(), 1u);
  ASSERT_EQ(stale->ranges[0].kvs.size(), 1u);
  EXPECT_EQ(stale->ranges[0].kvs[0].value, "node-b");
  EXPECT_EQ(MustGet("shard/1").value_or(KeyValue{}).value, "v1");
}

TEST_F(EtcdClientTest, TxnRangesOnePerRangeOpAndDeletes) {
  MustPut("a", "1");
  MustPut("b", "2");
  StatusOr<TxnResult> r =
      client_->Txn({}, {TxnOp::Range("a"), TxnOp::Delete("b"), TxnOp::Range("b"), TxnOp::Range("a", PrefixEnd("b"))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->succeeded) << "no compare: the success branch";
  ASSERT_EQ(r->ranges.size(), 3u);
  EXPECT_EQ(r->ranges[0].kvs.size(), 1u);
  EXPECT_EQ(r->ranges[1].kvs.size(), 0u) << "deleted earlier in the txn";
  EXPECT_EQ(r->ranges[2].kvs.size(), 1u);
  EXPECT_FALSE(MustGet("b").has_value());

  // etcd refuses a txn that writes one key twice: nothing applied.
  StatusOr<TxnResult> twice = client_->Txn({}, {TxnOp::Put("c", "1"), TxnOp::Put("c", "2")});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().reason(), reason::ETCD_INVALID_REQUEST.name) << twice.status().ToString();
  EXPECT_FALSE(OutcomeUnknown(twice.status()));
  EXPECT_FALSE(MustGet("c").has_value());
}

TEST_F(EtcdClientTest, LeaseKeepAliveRevokeAndUnknownLeases) {
  StatusOr<int64_t> lease = client_->LeaseGrant(20);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  StatusOr<int64_t> ttl = client_->LeaseKeepAliveOnce(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_GT(*ttl, 0);
  EXPECT_LE(*ttl, 20);

  MustPut("owned", "x", *lease);
  EXPECT_EQ(MustGet("owned").value_or(KeyValue{}).lease, *lease);
  ASSERT_TRUE(client_->LeaseRevoke(*lease).ok());
  EXPECT_FALSE(MustGet("owned").has_value()) << "revoking a lease deletes its keys";

  StatusOr<int64_t> gone = client_->LeaseKeepAliveOnce(*lease);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().reason(), reason::ETCD_LEASE_NOT_FOUND.name) << gone.status().ToString();
  const Status again = client_->LeaseRevoke(*lease);
  EXPECT_EQ(again.reason(), reason::ETCD_LEASE_NOT_FOUND.name) << again.ToString();

  // A put under a lease that does not exist is refused, nothing stored.
  StatusOr<int64_t> orphan = client_->Put("orphan", "x", *lease);
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.status().reason(), reason::ETCD_LEASE_NOT_FOUND.name) << orphan.status().ToString();
  EXPECT_FALSE(OutcomeUnknown(orphan.status()));
  EXPECT_FALSE(MustGet("orphan").has_value());
}

// Expiry runs on etcd's own clock, which a test cannot move: this waits for
// a 1 s lease (etcd's minimum with the fixture's 500 ms election timeout) to
// lapse in real time, a few seconds at most; the only such test here.
TEST_F(EtcdClientTest, LeaseExpiresInRealTime) {
  StatusOr<int64_t> lease = client_->LeaseGrant(1);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  MustPut("ephemeral", "x", *lease);
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (MustGet("ephemeral").has_value() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(MustGet("ephemeral").has_value()) << "the lease did not expire within 10 s";
  StatusOr<int64_t> ttl = client_->LeaseKeepAliveOnce(*lease);
  ASSERT_FALSE(ttl.ok());
  EXPECT_EQ(ttl.status().reason(), reason::ETCD_LEASE_NOT_FOUND.name) << ttl.status().ToString();
}

TEST_F(EtcdClientTest, WatchReplaysHistoryThenLiveEventsInOrder) {
  const int64_t first = MustPut("w/1", "a");
  MustPut("w/2", "b");
  MustPut("other", "not watched");
  MustPut("w/1", "c");

  WatchLog log;
  auto watch = client_->Watch("w/", PrefixEnd("w/"), first, log.OnEvents(), log.OnEnd());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  std::vector<WatchEvent> seen = log.WaitEvents(3);
  ASSERT_EQ(seen.size(), 3u);

  MustPut("w/3", "d");
  ASSERT_TRUE(client_->DeleteRange("w/2").ok());
  seen = log.WaitEvents(5);
  ASSERT_EQ(seen.size(), 5u);
  const std::vector<std::pair<WatchEvent::Type, std::string>> want = {
      {WatchEvent::Type::kPut, "w/1"}, {WatchEvent::Type::kPut, "w/2"},    {WatchEvent::Type::kPut, "w/1"},
      {WatchEvent::Type::kPut, "w/3"}, {WatchEvent::Type::kDelete, "w/2"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(seen[i].type, want[i].first) << i;
    EXPECT_EQ(seen[i].kv.key, want[i].second) << i;
    if (i > 0) {
      EXPECT_GT(seen[i].kv.mod_revision, seen[i - 1].kv.mod_revision) << i;
    }
  }
  EXPECT_EQ(seen[0].kv.mod_revision, first);
  EXPECT_EQ(seen[2].kv.value, "c");
  EXPECT_EQ(seen[2].kv.version, 2);

  // Destroying the watch cancels it without an end callback.
  watch->reset();
  EXPECT_FALSE(log.Ended());
}

TEST_F(EtcdClientTest, WatchFromACompactedRevisionReportsTheCompaction) {
  const int64_t old = MustPut("c/1", "a");
  MustPut("c/1", "b");
  const int64_t kept = MustPut("c/1", "c");
  ASSERT_TRUE(client_->Compact(kept, /*physical=*/true).ok());

  WatchLog log;
  auto watch = client_->Watch("c/", PrefixEnd("c/"), old, log.OnEvents(), log.OnEnd());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  const Status end = log.WaitEnd();
  EXPECT_EQ(end.code(), StatusCode::kOutOfRange) << end.ToString();
  EXPECT_EQ(end.reason(), reason::ETCD_COMPACTED.name) << end.ToString();
  EXPECT_NE(end.message().find(std::to_string(kept)), std::string::npos) << end.ToString();
  EXPECT_EQ((*watch)->compact_revision(), kept);
  EXPECT_TRUE(log.WaitEvents(1).empty()) << "no event before the compaction error";

  // Reads of compacted revisions fail the same way; the compact revision
  // itself is still readable.
  StatusOr<RangeResult> read = client_->Range("c/1", "", 0, old);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().reason(), reason::ETCD_COMPACTED.name) << read.status().ToString();
  EXPECT_TRUE(client_->Range("c/1", "", 0, kept).ok());
  const Status twice = client_->Compact(kept);
  EXPECT_EQ(twice.reason(), reason::ETCD_COMPACTED.name) << twice.ToString();
  const Status future = client_->Compact(kept + 1000);
  EXPECT_EQ(future.reason(), reason::ETCD_FUTURE_REVISION.name) << future.ToString();

  // From the compact revision on, the watch works.
  WatchLog from_kept;
  auto again = client_->Watch("c/", PrefixEnd("c/"), kept, from_kept.OnEvents(), from_kept.OnEnd());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(from_kept.WaitEvents(1).size(), 1u);
}

TEST_F(EtcdClientTest, WatchEndsWhenTheStreamBreaks) {
  WatchLog log;
  auto watch = client_->Watch("x", "", 0, log.OnEvents(), log.OnEnd());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  cluster_.Kill(0);
  const Status end = log.WaitEnd();
  EXPECT_EQ(end.code(), StatusCode::kUnavailable) << end.ToString();
  EXPECT_NE(end.message().find("Watch of 'x'"), std::string::npos) << end.ToString();
}

TEST_F(EtcdClientTest, WatchMayBeDestroyedFromItsOwnCallback) {
  Mutex mu;
  CondVar cv;
  std::unique_ptr<EtcdWatch> watch;
  bool destroyed = false;
  auto created = client_->Watch(
      "self", "", 0,
      [&](const WatchBatch&) {
        MutexLock lock(&mu);
        watch.reset();
        destroyed = true;
        cv.SignalAll();
      },
      [](const Status&) {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  {
    MutexLock lock(&mu);
    watch = std::move(created).value();
  }
  MustPut("self", "1");
  MutexLock lock(&mu);
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!destroyed && cv.WaitUntil(&mu, deadline) == std::cv_status::no_timeout) {
  }
  EXPECT_TRUE(destroyed);
}

TEST_F(EtcdClientTest, BadRequestsAreRefusedAndStoreNothing) {
  for (const Status& s : {client_->Put("", "x").status(), client_->Get("").status(), client_->Range("", "z").status(),
                          client_->DeleteRange("").status(), client_->Txn({}, {TxnOp::Put("", "x")}).status(),
                          client_->Txn({Compare::Absent("")}, {}).status(), client_->LeaseGrant(0).status(),
                          client_->Compact(0), client_->Watch("", "", 0, nullptr, nullptr).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.reason(), reason::ETCD_INVALID_REQUEST.name) << s.ToString();
    EXPECT_FALSE(OutcomeUnknown(s));
  }

  // Over the client's limit (etcd's default, 1.5 MiB): refused before sending.
  StatusOr<int64_t> big = client_->Put("big", std::string(2 << 20, 'x'));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().reason(), reason::ETCD_INVALID_REQUEST.name) << big.status().ToString();
  EXPECT_NE(big.status().message().find("max_request_bytes"), std::string::npos) << big.status().ToString();

  // A client that allows more meets etcd's own limit: "request is too large".
  EtcdClientOptions loose;
  loose.max_request_bytes = 8 << 20;
  auto loose_client = cluster_.Connect(loose);
  ASSERT_TRUE(loose_client.ok()) << loose_client.status().ToString();
  StatusOr<int64_t> refused = (*loose_client)->Put("big", std::string(1600 << 10, 'x'));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), reason::ETCD_INVALID_REQUEST.name) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("etcdserver: request is too large"), std::string::npos)
      << refused.status().ToString();
  EXPECT_FALSE(OutcomeUnknown(refused.status()));
  // Past etcd's gRPC limit (--max-request-bytes + 512 KiB) gRPC itself
  // refuses, RESOURCE_EXHAUSTED; not one of etcd's refusals, so the client
  // cannot prove it unapplied.
  StatusOr<int64_t> huge = (*loose_client)->Put("big", std::string(3 << 20, 'x'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted) << huge.status().ToString();
  EXPECT_EQ(huge.status().reason(), reason::ETCD_ERROR.name) << huge.status().ToString();
  EXPECT_FALSE(MustGet("big").has_value());

  // Below the limit a large value goes through whole.
  const std::string large(1 << 20, 'y');
  MustPut("large", large);
  EXPECT_EQ(MustGet("large").value_or(KeyValue{}).value, large);
}

TEST_F(EtcdClientTest, ConnectSkipsADeadEndpointAndRefusesMalformedOnes) {
  // A port nobody listens on, first: pick_first goes on to the member.
  const std::string dead = "127.0.0.1:1";
  auto skipping = EtcdClient::Connect({dead, cluster_.endpoint(0)});
  ASSERT_TRUE(skipping.ok()) << skipping.status().ToString();
  EXPECT_TRUE((*skipping)->Put("via-second", "x").ok());

  EtcdClientOptions quick;
  quick.connect_timeout = std::chrono::milliseconds(300);
  auto none = EtcdClient::Connect({dead}, quick);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().reason(), reason::ETCD_CONNECT_FAILED.name) << none.status().ToString();
  EXPECT_NE(none.status().message().find(dead), std::string::npos) << none.status().ToString();

  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {}, {"etcd-a:2379", "etcd-b:2379"}, {"127.0.0.1:2379", "[::1]:2379"}, {"127.0.0.1:2379,127.0.0.1:2380"}}) {
    auto refused = EtcdClient::Connect(bad, quick);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().reason(), reason::ETCD_INVALID_REQUEST.name) << refused.status().ToString();
  }
}

TEST_F(EtcdClientTest, CallsFailFastOnceTheOnlyMemberIsGone) {
  MustPut("before", "x");
  cluster_.Kill(0);
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    StatusOr<int64_t> put = client_->Put("after", "x");
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(put.ok());
    EXPECT_EQ(put.status().code(), StatusCode::kUnavailable) << put.status().ToString();
    EXPECT_NE(put.status().message().find(cluster_.endpoint(0)), std::string::npos) << put.status().ToString();
    EXPECT_LT(took, std::chrono::seconds(5)) << put.status().ToString();
  }
  // With nothing to connect to, the request is never sent: known unapplied.
  StatusOr<int64_t> put = client_->Put("after", "x");
  EXPECT_EQ(put.status().reason(), reason::ETCD_UNREACHABLE.name) << put.status().ToString();
  EXPECT_FALSE(OutcomeUnknown(put.status()));

  ASSERT_TRUE(cluster_.Restart(0));
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!client_->Put("after", "y").ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(MustGet("after").value_or(KeyValue{}).value, "y");
  EXPECT_EQ(MustGet("before").value_or(KeyValue{}).value, "x") << "acknowledged before the SIGKILL";
}

}  // namespace
}  // namespace grid::cluster
