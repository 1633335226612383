#include "replica/leadership.h"

#include "engine/reasons.h"

namespace grid::replica {

using cluster::Compare;
using cluster::EtcdClient;
using cluster::EtcdWatch;
using cluster::PrefixEnd;
using cluster::TxnOp;
using cluster::WatchBatch;
using cluster::WatchEvent;

std::string EncodeLeaderRecord(const LeaderRecord& record) { return record.replica + "\n" + record.address; }

std::optional<LeaderRecord> DecodeLeaderRecord(std::string_view value, int64_t epoch) {
  const size_t nl = value.find('\n');
  if (nl == std::string_view::npos || nl == 0 || nl + 1 == value.size()) return std::nullopt;
  return LeaderRecord{std::string(value.substr(0, nl)), std::string(value.substr(nl + 1)), epoch};
}

StatusOr<std::optional<LeaderRecord>> CurrentLeader(EtcdClient* client, const ShardKeys& keys) {
  auto kv = client->Get(keys.leader);
  if (!kv.ok()) return kv.status();
  if (!*kv) return std::optional<LeaderRecord>();
  return DecodeLeaderRecord((*kv)->value, (*kv)->create_revision);
}

Leadership::Leadership(EtcdClient* client, ShardKeys keys, LeaderRecord self, int ttl_seconds)
    : client_(client), keys_(std::move(keys)), self_(std::move(self)), ttl_seconds_(ttl_seconds) {}

Leadership::~Leadership() { Resign(); }

StatusOr<std::optional<int64_t>> Leadership::TryAcquire() {
  int64_t lease = 0;
  {
    MutexLock lock(&mu_);
    lease = lease_;
  }
  if (lease == 0) {
    auto granted = client_->LeaseGrant(ttl_seconds_);
    if (!granted.ok()) return granted.status();
    lease = *granted;
    MutexLock lock(&mu_);
    lease_ = lease;
  }
  auto txn =
      client_->Txn({Compare::Absent(keys_.leader)}, {TxnOp::Put(keys_.leader, EncodeLeaderRecord(self_), lease)});
  if (!txn.ok()) return txn.status();
  if (!txn->succeeded) return std::optional<int64_t>();
  // The key was created by this transaction: its create_revision is the
  // transaction's revision.
  self_.epoch = txn->revision;
  return std::optional<int64_t>(txn->revision);
}

void Leadership::KeepAlive(std::function<void(const Status&)> on_lost) {
  keeper_ = std::thread([this, on_lost = std::move(on_lost)] { RunKeepAlive(on_lost); });
}

void Leadership::RunKeepAlive(std::function<void(const Status&)> on_lost) {
  const auto period = std::chrono::milliseconds(ttl_seconds_ * 1000 / 3);
  auto last_renewed = std::chrono::steady_clock::now();
  for (;;) {
    int64_t lease = 0;
    {
      MutexLock lock(&mu_);
      cv_.WaitFor(&mu_, period);
      if (stopping_) return;
      lease = lease_;
    }
    auto ttl = client_->LeaseKeepAliveOnce(lease);
    const auto now = std::chrono::steady_clock::now();
    if (ttl.ok() && *ttl > 0) {
      last_renewed = now;
      continue;
    }
    // A lease etcd says is gone is gone; one that could not be renewed is
    // treated as gone once its TTL has passed since the last renewal (etcd
    // may already have let it expire).
    const bool gone = ttl.ok() || ttl.status().code() == StatusCode::kNotFound;
    if (!gone && now - last_renewed < std::chrono::seconds(ttl_seconds_)) continue;
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
    }
    on_lost(gone ? Error(reason::NOT_LEADER, "the leader lease expired")
                 : Error(reason::NOT_LEADER,
                         "the leader lease could not be renewed for its TTL: " + ttl.status().message()));
    return;
  }
}

void Leadership::Resign() {
  int64_t lease = 0;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
    lease = lease_;
    lease_ = 0;
  }
  if (keeper_.joinable()) keeper_.join();
  if (lease != 0) (void)client_->LeaseRevoke(lease);
}

}  // namespace grid::replica
