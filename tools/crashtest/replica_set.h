// The crash test's shard: gridd replicas r1..rN (`gridd --etcd ... --replica
// rK --replicas r1,...,rN`), each a GriddSupervisor on a fixed loopback port
// with its own data directory, and what etcd says of them: the leader (the
// shard's leader key, docs/replication.md) and each replica's reported log
// position (applied/<replica>).
//
// As a CallTarget it hands out any replica that runs: a follower forwards
// every call to the leader, so callers spread over all of them, and a call
// that got no answer goes to the next one.
//
// Thread-safety: WaitServing, BumpGeneration, Leader and Positions may be
// called from any thread; Start, Kill, Restart and Stop by the controlling
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "tools/crashtest/call_target.h"
#include "tools/crashtest/gridd_supervisor.h"

namespace grid::crashtest {

struct ReplicaSetOptions {
  std::string gridd;                    // the binary
  std::string work_dir;                 // rK/ (data), rK.log, rK.port go here
  std::vector<std::string> etcd;        // host:port of the etcd members
  std::vector<std::string> extra_args;  // every replica gets these
  int replicas = 3;
  int lease_ttl_s = 2;
  std::string root = "/gridcase";
  std::string shard = "main";
};

struct LeaderRecord {
  size_t index = 0;  // of the replica
  std::string replica;
  int64_t epoch = 0;  // the leader key's create_revision
};

class ReplicaSet final : public CallTarget {
 public:
  explicit ReplicaSet(ReplicaSetOptions options);
  ~ReplicaSet() override;

  // Connects to etcd and starts every replica (each writes its port file
  // once it runs, as a follower or the leader). False with `error` when one
  // does not run within 60 s.
  bool Start(std::string* error);

  size_t size() const { return replicas_.size(); }
  const std::string& name(size_t i) const { return names_[i]; }
  GriddSupervisor& replica(size_t i) { return *replicas_[i]; }

  std::optional<Serving> WaitServing(size_t spread) override;
  // Something changed (a leader elected): calls that failed go again at once.
  void BumpGeneration() { generation_.fetch_add(1); }

  // The shard's leader as etcd has it now; nullopt when there is none (or
  // it names no replica of ours), with `error` set when etcd did not answer.
  std::optional<LeaderRecord> Leader(std::string* error);
  // Each replica's reported position (applied/<replica>); false with `error`
  // when etcd did not answer.
  bool Positions(std::map<std::string, uint64_t>* out, std::string* error);

  // SIGKILLs replica i; Restart starts it again on its data and port.
  void Kill(size_t i);
  bool Restart(size_t i, std::string* error);
  // SIGTERM to the replicas other than `last` first, then to `last` (the
  // leader: so that no follower is elected while the others stop). The
  // replicas' exit statuses, by index.
  std::vector<int> Stop(std::optional<size_t> last);

 private:
  const ReplicaSetOptions options_;
  const std::string leader_key_;
  const std::string applied_prefix_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<GriddSupervisor>> replicas_;
  std::unique_ptr<cluster::EtcdClient> etcd_;
  std::atomic<uint64_t> generation_{1};
  std::atomic<bool> stopped_{false};
};

}  // namespace grid::crashtest
