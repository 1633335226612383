// Three replicas of a shard in this process over a real etcd
// (cluster/replica_node.h): one leads, the others follow the log and
// forward calls; when the leader goes, another takes over with everything
// acknowledged, idempotency keys still hold, and deadlines fire once.
#include "replica/replica_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <set>

#include "engine/calendar.h"
#include "engine/clock.h"
#include "engine/reasons.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/grpc_client.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"
#include "tests/support/watch_stream.h"
#include "tools/process/child_process.h"

namespace grid::replica {

using cluster::Compare;
using cluster::EtcdClient;
using cluster::EtcdWatch;
using cluster::PrefixEnd;
using cluster::TxnOp;
using cluster::WatchBatch;
using cluster::WatchEvent;
namespace {

using Role = ReplicaNode::Role;
constexpr Micros kStart = 1'795'000'000'000'000;  // a Wednesday, 17:33 UTC
constexpr auto kElection = std::chrono::seconds(20);

class ReplicaNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.Start());
    const std::vector<int> ports = process::FreeLoopbackPorts(3);
    for (int i = 0; i < 3; ++i) {
      ports_[i] = ports[i];
      ASSERT_NE(ports_[i], 0);
    }
    for (int i = 0; i < 3; ++i) StartReplica(i);
  }
  void TearDown() override {
    for (auto& n : nodes_) n.reset();
  }

  void StartReplica(int i) {
    ReplicaOptions options;
    options.etcd = etcd_.endpoints();
    options.root = "/t";
    options.shard = "s";
    options.replica = "r" + std::to_string(i);
    options.replicas = {"r0", "r1", "r2"};
    options.lease_ttl_seconds = 2;
    options.tick = std::chrono::milliseconds(20);
    options.report_interval = std::chrono::milliseconds(200);
    services::ServerConfig config;
    config.listen = Address(i);
    config.data_dir = tmp_.Sub("r" + std::to_string(i));
    auto node = ReplicaNode::Start(options, config, &clock_, testing::TinyDirectory());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    nodes_[i] = std::move(*node);
  }

  std::string Address(int i) const { return "127.0.0.1:" + std::to_string(ports_[i]); }

  // The one leader, waiting for it; -1 when none within the election time.
  int Leader() {
    const auto deadline = std::chrono::steady_clock::now() + kElection;
    while (std::chrono::steady_clock::now() < deadline) {
      int leader = -1, leaders = 0;
      for (int i = 0; i < 3; ++i) {
        if (nodes_[i] && nodes_[i]->role() == Role::kLeader) {
          leader = i;
          ++leaders;
        }
      }
      EXPECT_LE(leaders, 1) << "two leaders at once";
      if (leaders == 1) return leader;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  // Submits through replica i, retrying while the shard elects (UNAVAILABLE).
  testing::CallResult SubmitVia(int i, const std::string& key, grid::v1::SubmitCaseResponse* resp) {
    testing::Clients clients(Address(i));
    testing::CallResult r;
    const auto deadline = std::chrono::steady_clock::now() + kElection;
    do {
      *resp = {};
      r = testing::Submit(*clients.intake, testing::Submission().Key(key).Description("replicated").Build(), resp);
      if (r.status.error_code() != grpc::StatusCode::UNAVAILABLE) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }

  // Waits until every running replica holds `position` of the log.
  bool AllHold(uint64_t position) {
    const auto deadline = std::chrono::steady_clock::now() + kElection;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (auto& n : nodes_) all &= !n || n->position() >= position;
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  testing::EtcdCluster etcd_;
  testing::TempDir tmp_;
  FakeClock clock_{kStart};
  std::array<int, 3> ports_{};
  std::array<std::unique_ptr<ReplicaNode>, 3> nodes_;
};

TEST_F(ReplicaNodeTest, OneLeaderServesAndTheFollowersForwardAndFollow) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3, other = (leader + 2) % 3;
  grid::v1::SubmitCaseResponse first, again;
  auto r = SubmitVia(follower, "k1", &first);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  // The same key through the other follower: the same case.
  r = SubmitVia(other, "k1", &again);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(again.case_().id(), first.case_().id());
  ASSERT_TRUE(AllHold(nodes_[leader]->position()));
  for (int i = 0; i < 3; ++i) {
    testing::Clients clients(Address(i));
    grid::v1::GetCaseResponse got;
    auto g = testing::GetCase(*clients.query, first.case_().id(), &got);
    ASSERT_TRUE(g.status.ok()) << i << ": " << g.status.error_message();
    EXPECT_EQ(got.case_().id(), first.case_().id());
  }
  EXPECT_EQ(nodes_[follower]->epoch(), 0);
  EXPECT_GT(nodes_[leader]->epoch(), 0);
}

TEST_F(ReplicaNodeTest, ANewLeaderHasEveryAcknowledgedCaseAndKeepsIdempotency) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  std::map<std::string, std::string> acked;
  for (int k = 0; k < 20; ++k) {
    grid::v1::SubmitCaseResponse resp;
    auto r = SubmitVia(k % 3, "key-" + std::to_string(k), &resp);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    acked["key-" + std::to_string(k)] = resp.case_().id();
  }
  const int64_t old_epoch = nodes_[leader]->epoch();
  nodes_[leader].reset();  // the leader goes (resigning: the next one needs no lease expiry)
  const int next = Leader();
  ASSERT_GE(next, 0);
  EXPECT_NE(next, leader);
  EXPECT_GT(nodes_[next]->epoch(), old_epoch);
  const int via = 3 - leader - next;  // the remaining follower forwards
  for (const auto& [key, id] : acked) {
    grid::v1::SubmitCaseResponse resp;
    auto r = SubmitVia(via, key, &resp);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(resp.case_().id(), id) << key << " became a second case after the failover";
  }
  grid::v1::SubmitCaseResponse fresh;
  ASSERT_TRUE(SubmitVia(via, "after", &fresh).status.ok());
  EXPECT_EQ(acked.count(fresh.case_().id()), 0u);
  // The old leader comes back as a follower and catches up.
  StartReplica(leader);
  ASSERT_TRUE(AllHold(nodes_[next]->position()));
  EXPECT_EQ(nodes_[leader]->role(), Role::kFollower);
  testing::Clients clients(Address(leader));
  grid::v1::GetCaseResponse got;
  ASSERT_TRUE(testing::GetCase(*clients.query, fresh.case_().id(), &got).status.ok());
}

TEST_F(ReplicaNodeTest, ADeadlineFiresOnceAcrossAFailover) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  grid::v1::SubmitCaseResponse resp;
  ASSERT_TRUE(SubmitVia(leader, "due", &resp).status.ok());
  clock_.Advance(30LL * 24 * kMicrosPerHour);  // past every deadline of the case
  nodes_[leader]->FireDueDeadlines();          // whatever the scheduler has not fired yet
  EXPECT_GT(nodes_[leader]->deadlines_fired(), 0u);
  for (int i = 0; i < 3; ++i) {
    if (i != leader) {
      EXPECT_EQ(nodes_[i]->deadlines_fired(), 0u) << "a follower fired";
    }
  }
  nodes_[leader].reset();
  const int next = Leader();
  ASSERT_GE(next, 0);
  EXPECT_EQ(nodes_[next]->FireDueDeadlines(), 0u);
  EXPECT_EQ(nodes_[next]->deadlines_fired(), 0u) << "a deadline fired again after the failover";
}

// Reads a Watch of every change until it has caught up and holds an entry
// of each case in `cases`.
std::vector<grid::v1::FeedEntry> WatchUntil(testing::WatchStream* stream, const std::set<std::string>& cases) {
  std::vector<grid::v1::FeedEntry> got;
  std::set<std::string> seen;
  bool caught_up = false;
  grid::v1::WatchResponse r;
  while (!(caught_up && std::includes(seen.begin(), seen.end(), cases.begin(), cases.end())) && stream->Read(&r)) {
    caught_up |= r.caught_up();
    for (const auto& e : r.entries()) {
      seen.insert(e.event().case_id());
      got.push_back(e);
    }
  }
  return got;
}

TEST_F(ReplicaNodeTest, AWatchResumesOnTheNewLeaderWithNoGapAndNoDuplicate) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  std::set<std::string> before, after;
  for (int k = 0; k < 3; ++k) {
    grid::v1::SubmitCaseResponse resp;
    ASSERT_TRUE(SubmitVia(follower, "w" + std::to_string(k), &resp).status.ok());
    before.insert(resp.case_().id());
  }
  grid::v1::WatchRequest request;
  request.set_all_changes(true);
  auto first = std::make_unique<testing::WatchStream>(testing::Clients(Address(follower)).channel, "", request);
  const auto seen = WatchUntil(first.get(), before);
  ASSERT_FALSE(seen.empty());
  const uint64_t resume = seen.back().cursor();
  nodes_[leader].reset();  // the stream's leader goes
  EXPECT_FALSE(first->Drain().ok());
  const int next = Leader();
  ASSERT_GE(next, 0);
  for (int k = 0; k < 3; ++k) {
    grid::v1::SubmitCaseResponse resp;
    ASSERT_TRUE(SubmitVia(follower, "x" + std::to_string(k), &resp).status.ok());
    after.insert(resp.case_().id());
  }
  request.set_from_cursor(resume);
  testing::WatchStream second(testing::Clients(Address(follower)).channel, "", request);
  const auto rest = WatchUntil(&second, after);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front().cursor(), resume + 1) << "a gap after the resume cursor";
  for (size_t i = 1; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].cursor(), rest[i - 1].cursor() + 1) << "a gap or a duplicate at " << i;
  }
  for (const auto& e : rest) EXPECT_GT(e.cursor(), resume) << "an entry sent before came again";
  second.Cancel();
}

TEST(ReplicaNodeOptions, BadOptionsAreRefusedAndCreateNothing) {
  testing::TempDir tmp;
  FakeClock clock{kStart};
  ReplicaOptions good;
  good.etcd = {"127.0.0.1:1"};
  good.replica = "r1";
  good.replicas = {"r1", "r2", "r3"};
  services::ServerConfig config;
  config.listen = "127.0.0.1:7001";
  config.data_dir = tmp.Sub("data");
  auto refused = [&](ReplicaOptions options, services::ServerConfig server, const std::string& says) {
    auto node = ReplicaNode::Start(options, server, &clock, std::nullopt);
    ASSERT_FALSE(node.ok()) << says;
    EXPECT_EQ(node.status().reason(), reason::INVALID_REPLICA_CONFIG.name) << node.status().ToString();
    EXPECT_NE(node.status().message().find(says), std::string::npos) << node.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(server.data_dir)) << "a refused replica created its data directory";
  };
  ReplicaOptions o = good;
  o.replica = "";
  refused(o, config, "needs a name");
  o = good;
  o.etcd.clear();
  refused(o, config, "etcd endpoints");
  o = good;
  o.replica = "r9";
  refused(o, config, "not in the shard's replica list");
  o = good;
  o.lease_ttl_seconds = 0;
  refused(o, config, "lease TTL");
  services::ServerConfig any_port = config;
  any_port.listen = "127.0.0.1:0";
  refused(good, any_port, "must name its port");
}

}  // namespace
}  // namespace grid::replica
