// ReplicaSet: see replica_set.h.
#include "tools/crashtest/replica_set.h"

#include <charconv>
#include <thread>

#include "tools/process/child_process.h"

namespace grid::crashtest {

namespace {

// A replica's channel retries a refused connection within this long: its
// port passes from the proxy to the server when it is elected.
constexpr std::chrono::milliseconds kReconnectBackoff{250};

}  // namespace

ReplicaSet::ReplicaSet(ReplicaSetOptions options)
    : options_(std::move(options)),
      leader_key_(options_.root + "/shards/" + options_.shard + "/leader"),
      applied_prefix_(options_.root + "/shards/" + options_.shard + "/applied/") {
  for (int i = 0; i < options_.replicas; ++i) names_.push_back("r" + std::to_string(i + 1));
}

ReplicaSet::~ReplicaSet() = default;  // each supervisor SIGKILLs its gridd

bool ReplicaSet::Start(std::string* error) {
  auto client = cluster::EtcdClient::Connect(options_.etcd);
  if (!client.ok()) {
    *error = "etcd: " + client.status().ToString();
    return false;
  }
  etcd_ = std::move(client).value();
  std::string all, endpoints;
  for (const std::string& n : names_) all += (all.empty() ? "" : ",") + n;
  for (const std::string& e : options_.etcd) endpoints += (endpoints.empty() ? "" : ",") + e;
  const std::vector<int> ports = process::FreeLoopbackPorts(options_.replicas);
  for (size_t i = 0; i < names_.size(); ++i) {
    if (ports[i] == 0) {
      *error = "no free loopback port for " + names_[i];
      return false;
    }
    GriddOptions o;
    o.gridd = options_.gridd;
    o.data_dir = options_.work_dir + "/" + names_[i];
    o.work_dir = options_.work_dir;
    o.extra_args = options_.extra_args;
    for (const std::string& a :
         {std::string("--etcd"), endpoints, std::string("--replica"), names_[i], std::string("--replicas"), all,
          std::string("--cluster-root"), options_.root, std::string("--shard"), options_.shard,
          std::string("--lease-ttl-s"), std::to_string(options_.lease_ttl_s)}) {
      o.extra_args.push_back(a);
    }
    o.listen = "127.0.0.1:" + std::to_string(ports[i]);
    o.name = names_[i];
    o.max_reconnect_backoff = kReconnectBackoff;
    replicas_.push_back(std::make_unique<GriddSupervisor>(std::move(o)));
  }
  for (size_t i = 0; i < replicas_.size(); ++i) {
    if (!replicas_[i]->Start(0, error)) {
      *error = names_[i] + ": " + *error;
      return false;
    }
  }
  return true;
}

std::optional<Serving> ReplicaSet::WaitServing(size_t spread) {
  while (!stopped_) {
    std::vector<Serving> live;
    uint64_t generation = generation_.load();
    for (const auto& r : replicas_) {
      if (auto s = r->ServingNow()) {
        generation += s->generation;
        live.push_back(std::move(*s));
      }
    }
    if (!live.empty()) {
      Serving chosen = live[spread % live.size()];
      chosen.generation = generation;
      return chosen;
    }
    // Two replicas run at all times; none only between a kill and a restart
    // of the last ones.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

std::optional<LeaderRecord> ReplicaSet::Leader(std::string* error) {
  auto kv = etcd_->Get(leader_key_);
  if (!kv.ok()) {
    *error = kv.status().ToString();
    return std::nullopt;
  }
  error->clear();
  if (!kv->has_value()) return std::nullopt;
  const std::string& value = (*kv)->value;
  const std::string replica = value.substr(0, value.find('\n'));
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == replica) return LeaderRecord{i, replica, (*kv)->create_revision};
  }
  return std::nullopt;
}

bool ReplicaSet::Positions(std::map<std::string, uint64_t>* out, std::string* error) {
  auto range = etcd_->Range(applied_prefix_, cluster::PrefixEnd(applied_prefix_));
  if (!range.ok()) {
    *error = range.status().ToString();
    return false;
  }
  out->clear();
  for (const auto& kv : range->kvs) {
    uint64_t position = 0;
    const auto [end, ec] = std::from_chars(kv.value.data(), kv.value.data() + kv.value.size(), position);
    if (ec != std::errc() || end != kv.value.data() + kv.value.size()) continue;
    (*out)[kv.key.substr(applied_prefix_.size())] = position;
  }
  return true;
}

void ReplicaSet::Kill(size_t i) { replicas_[i]->Kill(); }

bool ReplicaSet::Restart(size_t i, std::string* error) {
  if (replicas_[i]->Start(0, error)) return true;
  *error = names_[i] + ": " + *error;
  return false;
}

std::vector<int> ReplicaSet::Stop(std::optional<size_t> last) {
  stopped_ = true;
  std::vector<int> status(replicas_.size(), -1);
  for (size_t i = 0; i < replicas_.size(); ++i) {
    if (!last || i != *last) status[i] = replicas_[i]->Stop();
  }
  if (last) status[*last] = replicas_[*last]->Stop();
  return status;
}

}  // namespace grid::crashtest
