// One replica of a shard (docs/replication.md): a gridd that is either its
// shard's leader, serving the API over a store whose every write goes first
// to the shard's log in etcd, or a follower, applying that log to its own
// store and forwarding every call on its address to the leader.
//
//   follower: open the store; catch up from the log, then watch it; proxy
//             calls to the leader; report the position held (after a WAL
//             sync) for trimming; when the shard has no leader, campaign.
//   elected:  stop watching, apply the log to its end, close the store, and
//             start a GridServer whose store appends under this epoch.
//   leader:   serve; report and trim the log; step down (shut the server,
//             resign, back to follower) when the lease is lost or a write
//             failed (the store turned read-only: an append was refused or
//             its outcome is unknown).
//
// Reads are served by the leader only (a follower forwards them): every
// answer is as fresh as the last acknowledged write, with no staleness bound
// to state, at the cost of one forwarding hop on a follower.
//
// Thread-safety: all public methods are thread-safe. The replica runs on a
// thread of its own from Start to Shutdown.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/etcd_client.h"
#include "engine/clock.h"
#include "engine/status.h"
#include "port/mutex.h"
#include "replica/leadership.h"
#include "replica/shard_log.h"
#include "services/server.h"

namespace grid::replica {

struct ReplicaOptions {
  std::vector<std::string> etcd;  // host:port of the etcd members
  std::string root = "/gridcase";
  std::string shard = "main";
  std::string replica;                // this replica's name, unique in its shard
  std::vector<std::string> replicas;  // every replica of the shard: the log is trimmed to what all hold
  std::string advertise;              // host:port others reach this replica at (default: the listen address)
  int lease_ttl_seconds = 3;
  size_t max_part_bytes = 1u << 20;  // below etcd's 1.5 MiB request limit
  std::chrono::milliseconds tick{100};
  std::chrono::milliseconds report_interval{1000};
};

class ReplicaNode {
 public:
  enum class Role { kFollower, kLeader, kFailed };

  // `server` is the leader's configuration; its listen address must name a
  // port (not 0): the follower's proxy and the leader's server take turns
  // on it. REQUIRES: clock outlives the node.
  static StatusOr<std::unique_ptr<ReplicaNode>> Start(const ReplicaOptions& options,
                                                      const services::ServerConfig& server, const Clock* clock,
                                                      const std::optional<grid::v1::DirectoryContent>& initial);
  ~ReplicaNode();

  Role role() const ABSL_LOCKS_EXCLUDED(mu_);
  // Why the replica failed (Role::kFailed), else OK.
  Status failure() const ABSL_LOCKS_EXCLUDED(mu_);
  // The epoch it leads under (0 while a follower).
  int64_t epoch() const ABSL_LOCKS_EXCLUDED(mu_);
  // The log position its store holds (as last seen by the replica's thread).
  uint64_t position() const ABSL_LOCKS_EXCLUDED(mu_);
  // How many times it became leader.
  uint64_t terms() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until the role is `role`, up to `timeout`; false on timeout.
  bool WaitRole(Role role, std::chrono::milliseconds timeout) const ABSL_LOCKS_EXCLUDED(mu_);

  // As GridServer::FireDueDeadlines on the leader; 0 on a follower.
  size_t FireDueDeadlines() ABSL_LOCKS_EXCLUDED(mu_);
  // Deadlines fired in this term of leadership (0 on a follower).
  uint64_t deadlines_fired() const ABSL_LOCKS_EXCLUDED(mu_);

  // Steps down when leading, stops the replica. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Elected {
    std::unique_ptr<Leadership> leadership;
    int64_t epoch = 0;
    uint64_t next = 0;
  };

  ReplicaNode(const ReplicaOptions& options, const services::ServerConfig& server, const Clock* clock,
              const std::optional<grid::v1::DirectoryContent>& initial, std::unique_ptr<cluster::EtcdClient> client);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Follows the log until elected (or stopping: nullopt).
  StatusOr<std::optional<Elected>> Follow() ABSL_LOCKS_EXCLUDED(mu_);
  // Leads until the lease is lost, a write fails or the node stops.
  Status Lead(Elected elected) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes applied/<replica>; on the leader, trims the log to the lowest
  // position every replica reported.
  void Report(uint64_t position, bool trim);
  // Waits one tick; true when stopping.
  bool Tick() ABSL_LOCKS_EXCLUDED(mu_);
  void SetRole(Role role, int64_t epoch) ABSL_LOCKS_EXCLUDED(mu_);
  // Logs a role change or a failure through the server's log, if any.
  void Note(const std::string& message, bool error) const;

  const ReplicaOptions options_;
  const services::ServerConfig server_config_;
  const Clock* const clock_;
  const std::optional<grid::v1::DirectoryContent> initial_;
  const std::unique_ptr<cluster::EtcdClient> client_;
  const ShardKeys keys_;
  std::string address_;  // advertised

  mutable Mutex mu_;
  mutable CondVar cv_;  // signalled when role_ or stopping_ changes
  Role role_ ABSL_GUARDED_BY(mu_) = Role::kFollower;
  Status failure_ ABSL_GUARDED_BY(mu_);
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t terms_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool lease_lost_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<std::string> leader_address_ ABSL_GUARDED_BY(mu_);  // for the proxy
  services::GridServer* server_ ABSL_GUARDED_BY(mu_) = nullptr;     // while leading
  std::thread thread_;
};

}  // namespace grid::replica
