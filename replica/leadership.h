// Leadership of a shard through an etcd lease (docs/replication.md).
//
// A replica becomes leader by creating the shard's leader key under a lease
// of its own, only if the key is absent (one transaction); the key's
// create_revision is its epoch, which every log append compares against
// (cluster/shard_log.h), so a leader whose lease lapsed can never append
// again even if it has not noticed. The lease is kept alive from a thread;
// when it cannot be (expired, revoked, etcd unreachable for the TTL), the
// holder is told once and must step down.
//
// Thread-safety: Campaign and Resign from one thread; the keep-alive thread
// is the object's own. CurrentLeader is thread-safe.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "cluster/etcd_client.h"
#include "engine/status.h"
#include "port/mutex.h"
#include "replica/shard_log.h"

namespace grid::replica {

// What the leader key holds: who leads and where to reach it.
struct LeaderRecord {
  std::string replica;
  std::string address;  // host:port of its gRPC API
  int64_t epoch = 0;    // the key's create_revision
};
std::string EncodeLeaderRecord(const LeaderRecord& record);
std::optional<LeaderRecord> DecodeLeaderRecord(std::string_view value, int64_t epoch);

// The shard's leader now, nullopt when there is none.
StatusOr<std::optional<LeaderRecord>> CurrentLeader(cluster::EtcdClient* client, const ShardKeys& keys);

class Leadership {
 public:
  // REQUIRES: client outlives this.
  Leadership(cluster::EtcdClient* client, ShardKeys keys, LeaderRecord self, int ttl_seconds);
  ~Leadership();  // resigns

  // Tries once to become leader: OK(epoch) when this replica now holds the
  // key, OK(nullopt) when another does, an error when etcd did not answer.
  StatusOr<std::optional<int64_t>> TryAcquire() ABSL_LOCKS_EXCLUDED(mu_);
  // Starts keeping the lease alive; `on_lost` is called once, from the
  // keep-alive thread, when the lease is gone or could not be renewed for
  // its TTL. REQUIRES: TryAcquire gave an epoch.
  void KeepAlive(std::function<void(const Status&)> on_lost) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the keep-alive and revokes the lease (the key goes with it), so
  // that another replica is elected without waiting for the TTL. Idempotent.
  void Resign() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void RunKeepAlive(std::function<void(const Status&)> on_lost) ABSL_LOCKS_EXCLUDED(mu_);

  cluster::EtcdClient* const client_;
  const ShardKeys keys_;
  LeaderRecord self_;
  const int ttl_seconds_;
  Mutex mu_;
  CondVar cv_;
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread keeper_;
};

}  // namespace grid::replica
