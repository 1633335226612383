// Real etcd members for tests: 1 or 3 etcd processes on 127.0.0.1 with
// ports of their own, data in a temp dir, durable as in production (no
// --unsafe-no-fsync), with short heartbeat and election timeouts.
//
//   EtcdCluster cluster({.members = 3});
//   ASSERT_TRUE(cluster.Start());
//   auto client = cluster.Connect();  // every member's endpoint
//   cluster.Kill(0);                  // SIGKILL; Restart(0) brings it back on the same ports and data
//
// Without the etcd binary (/usr/bin/etcd, or $GRID_ETCD) Start fails the
// test and says to install etcd-server (tools/deps.sh does): these tests
// never skip.
//
// Readiness is polled: a member is ready once a linearizable Range through
// it succeeds (it has a leader and has applied its log), looked for every
// 50 ms up to start_timeout. Ports are found by binding port 0 and released
// before etcd binds them; if another process takes one meanwhile, Start
// begins again with new ports.
//
// Members die with the thread that started them (PR_SET_PDEATHSIG): start,
// restart and destroy a cluster from the test's own thread.
//
// Thread-safety: none; one thread uses a cluster.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "tests/support/temp_dir.h"

namespace grid::testing {

struct EtcdClusterOptions {
  int members = 1;  // 1 or 3
  int heartbeat_ms = 50;
  int election_ms = 500;
  int64_t quota_backend_bytes = 0;  // 0: etcd's default (2 GiB)
  int64_t max_request_bytes = 0;    // 0: etcd's default (1.5 MiB)
  std::chrono::milliseconds start_timeout{30'000};
};

class EtcdCluster {
 public:
  explicit EtcdCluster(EtcdClusterOptions options = {});
  ~EtcdCluster();  // SIGKILLs every member still running
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member and waits until each serves; on failure says why,
  // with the tail of the member's log.
  ::testing::AssertionResult Start();

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:port" of each member's client URL, in member order.
  std::vector<std::string> endpoints() const;
  std::string endpoint(int i) const;
  // A client over every member (or the given endpoints), with `options`.
  StatusOr<std::unique_ptr<cluster::EtcdClient>> Connect(cluster::EtcdClientOptions options = {}) const;

  // SIGKILL, and reaps it.
  void Kill(int i);
  // SIGTERM, and waits until it exits (SIGKILL after 10 s).
  void Stop(int i);
  // Starts a stopped or killed member again on its ports and data, and
  // waits until it serves (which, in a cluster, needs a quorum up).
  ::testing::AssertionResult Restart(int i);
  bool Running(int i);

  std::string log_path(int i) const;
  // The last `bytes` of the member's log.
  std::string LogTail(int i, size_t bytes = 3000) const;

 private:
  struct Member {
    std::string name;
    std::string data_dir;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };

  // Picks free ports for every member and clears their data.
  void Prepare();
  std::vector<std::string> ArgsOf(int i) const;
  void Spawn(int i, bool append_log);
  // Waits until member i serves a linearizable Range, it exits, or the
  // deadline passes.
  ::testing::AssertionResult WaitServing(int i, std::chrono::steady_clock::time_point deadline);
  void Signal(int i, int sig);

  EtcdClusterOptions options_;
  std::string binary_;
  std::string token_;
  TempDir dir_;
  std::vector<Member> members_;
};

}  // namespace grid::testing
