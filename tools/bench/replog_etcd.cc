// replog_etcd.cc: replog_bench's log on etcd v3 (cluster/etcd_client.h).
//
// Keys, under a prefix with this run's nonce:
//   <prefix>leader               held under a lease; its create_revision is
//                                the leader's epoch
//   <prefix>log/<seq, 20 digits> record seq
// Record n is appended with one Txn: if create_revision(leader) == epoch
// and create_revision(log/n) == 0, put log/n. A deposed leader (its key
// expired or was replaced: another create_revision) or a second writer at
// the same place is refused, and etcd acknowledges only once the entry is
// committed: written and fsynced by a majority of members.
//
// With --outstanding N, N threads append, each taking the next number; their
// Txns may commit out of number order (each is still conditional on its own
// place and the epoch). The follower Watches the log prefix from the epoch
// on, on a second client whose first endpoint is the second member.
//
// Thread-safety: see replog_log.h; the watch's callbacks run on its own
// thread and touch only the Timeline and watch_error_.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cluster/etcd_client.h"
#include "port/mutex.h"
#include "tools/bench/replog_log.h"

namespace grid::replog {
namespace {

using cluster::Compare;
using cluster::EtcdClient;
using cluster::TxnOp;

constexpr int64_t kLeaseTtlSeconds = 30;

class EtcdLog final : public ReplicatedLog {
 public:
  explicit EtcdLog(std::vector<std::string> endpoints) : endpoints_(std::move(endpoints)) {
    const std::string prefix = "replog/" + RunNonce() + "/";
    leader_key_ = prefix + "leader";
    log_prefix_ = prefix + "log/";
  }
  ~EtcdLog() override { Close(); }

  Status Open(std::chrono::seconds ready_timeout) override {
    auto client = Connect(endpoints_, ready_timeout);
    if (!client.ok()) return client.status();
    leader_ = std::move(client.value());
    auto lease = leader_->LeaseGrant(kLeaseTtlSeconds);
    if (!lease.ok()) return lease.status();
    lease_ = *lease;
    // Take leadership: create the leader key under the lease, unless it exists.
    auto taken = leader_->Txn({Compare::Absent(leader_key_)}, {TxnOp::Put(leader_key_, "replog_bench", lease_)});
    if (!taken.ok()) return taken.status();
    if (!taken->succeeded) return FailedPrecondition("ETCD", leader_key_ + " is held by another leader");
    epoch_ = taken->revision;  // the key's create_revision
    keepalive_ = std::thread([this] { KeepAlive(); });
    return Status::Ok();
  }

  Status StartFollower(Timeline* timeline) override {
    std::vector<std::string> rotated = endpoints_;
    if (rotated.size() > 1) std::rotate(rotated.begin(), rotated.begin() + 1, rotated.end());
    auto client = Connect(rotated, std::chrono::seconds(10));
    if (!client.ok()) return client.status();
    follower_ = std::move(client.value());
    auto watch = follower_->Watch(
        log_prefix_, cluster::PrefixEnd(log_prefix_), epoch_ + 1,
        [timeline](const cluster::WatchBatch& batch) {
          const int64_t now = NowNs();
          for (const auto& event : batch.events) {
            if (event.type == cluster::WatchEvent::Type::kPut) {
              timeline->Seen(RecordSeq(event.kv.value.data(), event.kv.value.size()), now);
            }
          }
        },
        [](const Status& end) {
          std::cerr << "replog_bench: etcd follower's watch ended: " << end.ToString() << "\n";
        });
    if (!watch.ok()) return watch.status();
    watch_ = std::move(watch.value());
    return Status::Ok();
  }

  AppendCounts AppendUntil(const RunSpec& spec, Timeline* timeline) override {
    std::atomic<uint64_t> next{1}, appended{0}, failed{0};
    std::atomic<bool> stop{false};
    Mutex error_mu;
    std::string first_error;
    auto appender = [&](uint64_t seed) {
      RecordMaker maker(spec.record_bytes, seed);
      while (!stop.load() && SteadyClock::now() < spec.stop_at) {
        const uint64_t seq = next.fetch_add(1);
        const std::string_view record = maker.Make(seq);
        const std::string key = Key(seq);
        timeline->Started(seq, NowNs());
        auto result = leader_->Txn({Compare::CreatedAt(leader_key_, epoch_), Compare::Absent(key)},
                                   {TxnOp::Put(key, std::string(record))});
        const int64_t now = NowNs();
        Status failure;
        if (!result.ok()) {
          failure = result.status();
        } else if (!result->succeeded) {
          failure = FailedPrecondition(
              "ETCD", "append " + std::to_string(seq) + " refused: the epoch or the record's place changed");
        }
        if (failure.ok()) {
          timeline->Acked(seq, now);
          ++appended;
          continue;
        }
        ++failed;
        stop = true;
        MutexLock lock(&error_mu);
        if (first_error.empty()) first_error = failure.ToString();
      }
    };
    std::vector<std::thread> threads;
    for (size_t i = 0; i < std::max<size_t>(spec.outstanding, 1); ++i) threads.emplace_back(appender, spec.seed + i);
    for (auto& t : threads) t.join();
    AppendCounts counts;
    counts.appended = appended;
    counts.failed = failed;
    MutexLock lock(&error_mu);
    counts.first_error = first_error;
    return counts;
  }

  Status StaleAppendIsRefused(uint64_t last) override {
    const std::string key = Key(last + 1);
    auto result =
        leader_->Txn({Compare::CreatedAt(leader_key_, epoch_ - 1), Compare::Absent(key)}, {TxnOp::Put(key, "stale")});
    if (!result.ok()) return result.status();
    if (result->succeeded) return Internal("ETCD", "a stale append was stored at " + key);
    return Status::Ok();
  }

  void Close() override {
    watch_.reset();
    if (keepalive_.joinable()) {
      {
        MutexLock lock(&mu_);
        closing_ = true;
        closing_cv_.SignalAll();
      }
      keepalive_.join();
    }
    if (leader_ != nullptr && lease_ != 0) {
      // Revoking the lease deletes the leader key; then the log itself.
      if (Status s = leader_->LeaseRevoke(lease_); !s.ok()) {
        std::cerr << "replog_bench: etcd lease revoke: " << s.ToString() << "\n";
      }
      lease_ = 0;
      if (auto deleted = leader_->DeleteRange(log_prefix_, cluster::PrefixEnd(log_prefix_)); !deleted.ok()) {
        std::cerr << "replog_bench: etcd deleting the log: " << deleted.status().ToString() << "\n";
      }
    }
    follower_.reset();
    leader_.reset();
  }

 private:
  static StatusOr<std::unique_ptr<EtcdClient>> Connect(const std::vector<std::string>& endpoints,
                                                       std::chrono::seconds ready_timeout) {
    EtcdClient::Options options;
    options.call_timeout = std::chrono::seconds(10);
    options.connect_timeout = ready_timeout;
    return EtcdClient::Connect(endpoints, options);
  }

  std::string Key(uint64_t seq) const {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%020" PRIu64, seq);
    return log_prefix_ + digits;
  }

  // Renews the lease every third of its TTL until Close.
  void KeepAlive() {
    MutexLock lock(&mu_);
    while (!closing_) {
      if (closing_cv_.WaitFor(&mu_, std::chrono::seconds(kLeaseTtlSeconds / 3)) == std::cv_status::no_timeout) {
        continue;
      }
      if (closing_) break;
      if (auto ttl = leader_->LeaseKeepAliveOnce(lease_); !ttl.ok()) {
        std::cerr << "replog_bench: etcd lease keep-alive: " << ttl.status().ToString() << "\n";
      }
    }
  }

  const std::vector<std::string> endpoints_;
  std::string leader_key_, log_prefix_;
  std::unique_ptr<EtcdClient> leader_, follower_;
  std::unique_ptr<cluster::EtcdWatch> watch_;
  int64_t lease_ = 0;
  int64_t epoch_ = 0;
  std::thread keepalive_;

  Mutex mu_;
  CondVar closing_cv_;  // signalled by Close
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

std::unique_ptr<ReplicatedLog> MakeEtcdLog(std::vector<std::string> endpoints) {
  return std::make_unique<EtcdLog>(std::move(endpoints));
}

}  // namespace grid::replog
