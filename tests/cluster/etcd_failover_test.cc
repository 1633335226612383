// EtcdClient against a real 3-member etcd cluster whose members are killed
// and restarted: writes go on with one member down, fail within the call
// timeout (never hang) without a quorum, and resume when it is back.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "cluster/etcd_client.h"
#include "engine/reasons.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/etcd_watch_log.h"

namespace grid::cluster {
namespace {

using testing::EtcdCluster;
using testing::WatchLog;

constexpr auto kCallTimeout = std::chrono::milliseconds(2000);

class EtcdFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start());
    EtcdClientOptions options;
    options.call_timeout = kCallTimeout;
    auto client = cluster_.Connect(options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  // Retries the put until it is applied or `within` passes (an election, a
  // reconnection); the last status.
  Status PutEventually(const std::string& key, const std::string& value,
                       std::chrono::milliseconds within = std::chrono::milliseconds(15'000)) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      const Status s = client_->Put(key, value).status();
      if (s.ok() || std::chrono::steady_clock::now() > deadline) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  EtcdCluster cluster_{{.members = 3}};
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdFailoverTest, WritesGoOnWithOneMemberDown) {
  ASSERT_TRUE(client_->Put("k", "0").ok());
  // Member 0 is the first endpoint: the one pick_first is connected to.
  cluster_.Kill(0);
  const Status first = PutEventually("k", "1");
  ASSERT_TRUE(first.ok()) << first.ToString();
  for (int i = 2; i < 22; ++i) {
    StatusOr<int64_t> put = client_->Put("k", std::to_string(i));
    ASSERT_TRUE(put.ok()) << "write " << i << ": " << put.status().ToString();
  }
  StatusOr<std::optional<KeyValue>> kv = client_->Get("k");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  ASSERT_TRUE(kv->has_value());
  EXPECT_EQ((*kv)->value, "21");

  // The member comes back on its data and catches up.
  ASSERT_TRUE(cluster_.Restart(0));
  auto alone = EtcdClient::Connect({cluster_.endpoint(0)});
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  kv = (*alone)->Get("k");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  ASSERT_TRUE(kv->has_value());
  EXPECT_EQ((*kv)->value, "21");
}

TEST_F(EtcdFailoverTest, WithoutQuorumWritesFailWithinTheCallTimeoutThenResume) {
  ASSERT_TRUE(client_->Put("k", "before").ok());
  WatchLog log;
  auto watch = client_->Watch("k", "", 0, log.OnEvents(), log.OnEnd());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();

  cluster_.Kill(1);
  cluster_.Kill(2);
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    StatusOr<int64_t> put = client_->Put("k", "lost-" + std::to_string(i));
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(put.ok()) << "a write without a quorum was acknowledged";
    EXPECT_TRUE(put.status().code() == StatusCode::kUnavailable || put.status().code() == StatusCode::kDeadlineExceeded)
        << put.status().ToString();
    EXPECT_LT(took, kCallTimeout + std::chrono::seconds(1)) << put.status().ToString();
  }
  // Once the member knows it has no leader, it refuses at once: provably
  // not applied.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Status refused;
  do {
    refused = client_->Put("k", "refused").status();
  } while (refused.reason() != reason::ETCD_NO_LEADER.name && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(refused.reason(), reason::ETCD_NO_LEADER.name) << refused.ToString();
  EXPECT_FALSE(OutcomeUnknown(refused));

  // The watch on the leaderless member ends (after three election
  // timeouts), it does not go silent.
  const Status end = log.WaitEnd();
  EXPECT_EQ(end.reason(), reason::ETCD_NO_LEADER.name) << end.ToString();

  // Back to a quorum: writes resume.
  ASSERT_TRUE(cluster_.Restart(1));
  const Status resumed = PutEventually("k", "after");
  ASSERT_TRUE(resumed.ok()) << resumed.ToString();
  StatusOr<std::optional<KeyValue>> kv = client_->Get("k");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_EQ((*kv)->value, "after");
}

TEST_F(EtcdFailoverTest, StoppedMemberRejoinsWithItsData) {
  ASSERT_TRUE(client_->Put("k", "1").ok());
  cluster_.Stop(2);
  ASSERT_TRUE(client_->Put("k", "2").ok());
  ASSERT_TRUE(cluster_.Restart(2));
  cluster_.Kill(0);
  cluster_.Kill(1);
  ASSERT_TRUE(cluster_.Restart(0));
  auto alone = EtcdClient::Connect({cluster_.endpoint(2)});
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  StatusOr<std::optional<KeyValue>> kv = (*alone)->Get("k");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  ASSERT_TRUE(kv->has_value());
  EXPECT_EQ((*kv)->value, "2");
}

}  // namespace
}  // namespace grid::cluster
