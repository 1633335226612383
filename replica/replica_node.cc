#include "replica/replica_node.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "engine/reasons.h"
#include "services/leader_proxy.h"

namespace grid::replica {

using cluster::Compare;
using cluster::EtcdClient;
using cluster::EtcdWatch;
using cluster::PrefixEnd;
using cluster::TxnOp;
using cluster::WatchBatch;
using cluster::WatchEvent;

namespace {

// The port of a host:port address; 0 when it has none.
int PortOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  int port = 0;
  auto [end, ec] = std::from_chars(address.data() + colon + 1, address.data() + address.size(), port);
  return ec == std::errc() && end == address.data() + address.size() ? port : 0;
}

}  // namespace

StatusOr<std::unique_ptr<ReplicaNode>> ReplicaNode::Start(const ReplicaOptions& options,
                                                          const services::ServerConfig& server, const Clock* clock,
                                                          const std::optional<grid::v1::DirectoryContent>& initial) {
  if (options.replica.empty()) return Error(reason::INVALID_REPLICA_CONFIG, "a replica needs a name (--replica)");
  if (options.etcd.empty()) return Error(reason::INVALID_REPLICA_CONFIG, "a replica needs etcd endpoints (--etcd)");
  if (PortOf(server.listen) == 0) {
    return Error(
        reason::INVALID_REPLICA_CONFIG,
        "a replica's listen address must name its port (the proxy and the server take turns on it): " + server.listen);
  }
  if (!options.replicas.empty() &&
      std::find(options.replicas.begin(), options.replicas.end(), options.replica) == options.replicas.end()) {
    return Error(reason::INVALID_REPLICA_CONFIG, "replica " + options.replica + " is not in the shard's replica list");
  }
  if (options.lease_ttl_seconds < 1) return Error(reason::INVALID_REPLICA_CONFIG, "the lease TTL must be at least 1 s");
  EtcdClient::Options client_options;
  auto client = EtcdClient::Connect(options.etcd, client_options);
  if (!client.ok()) return client.status();
  std::unique_ptr<ReplicaNode> node(new ReplicaNode(options, server, clock, initial, std::move(*client)));
  node->thread_ = std::thread([n = node.get()] { n->Run(); });
  return node;
}

ReplicaNode::ReplicaNode(const ReplicaOptions& options, const services::ServerConfig& server, const Clock* clock,
                         const std::optional<grid::v1::DirectoryContent>& initial, std::unique_ptr<EtcdClient> client)
    : options_(options),
      server_config_(server),
      clock_(clock),
      initial_(initial),
      client_(std::move(client)),
      keys_(options.root, options.shard),
      address_(options.advertise.empty() ? server.listen : options.advertise) {}

ReplicaNode::~ReplicaNode() { Shutdown(); }

void ReplicaNode::Shutdown() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

ReplicaNode::Role ReplicaNode::role() const {
  MutexLock lock(&mu_);
  return role_;
}

Status ReplicaNode::failure() const {
  MutexLock lock(&mu_);
  return failure_;
}

int64_t ReplicaNode::epoch() const {
  MutexLock lock(&mu_);
  return epoch_;
}

uint64_t ReplicaNode::position() const {
  MutexLock lock(&mu_);
  return position_;
}

uint64_t ReplicaNode::terms() const {
  MutexLock lock(&mu_);
  return terms_;
}

bool ReplicaNode::WaitRole(Role role, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (role_ != role) {
    if (cv_.WaitUntil(&mu_, deadline) == std::cv_status::timeout && role_ != role) return false;
  }
  return true;
}

size_t ReplicaNode::FireDueDeadlines() {
  MutexLock lock(&mu_);
  return server_ ? server_->FireDueDeadlines() : 0;
}

uint64_t ReplicaNode::deadlines_fired() const {
  MutexLock lock(&mu_);
  return server_ ? server_->deadlines_fired() : 0;
}

bool ReplicaNode::Tick() {
  MutexLock lock(&mu_);
  if (!stopping_) cv_.WaitFor(&mu_, options_.tick);
  return stopping_;
}

void ReplicaNode::Note(const std::string& message, bool error) const {
  if (!server_config_.log) return;
  const std::string line = "replica " + options_.replica + " of shard " + options_.shard + ": " + message;
  if (error) {
    server_config_.log->Error(line, {{"replica", options_.replica}, {"shard", options_.shard}});
  } else {
    server_config_.log->Info(line, {{"replica", options_.replica}, {"shard", options_.shard}});
  }
}

void ReplicaNode::SetRole(Role role, int64_t epoch) {
  if (role == Role::kLeader) Note("leader, epoch " + std::to_string(epoch), false);
  MutexLock lock(&mu_);
  role_ = role;
  epoch_ = epoch;
  if (role == Role::kLeader) {
    ++terms_;
    leader_address_ = address_;
  }
  cv_.SignalAll();
}

void ReplicaNode::Run() {
  for (;;) {
    auto elected = Follow();
    if (!elected.ok()) {
      Note("stopped: " + elected.status().ToString(), true);
      MutexLock lock(&mu_);
      role_ = Role::kFailed;
      failure_ = elected.status();
      cv_.SignalAll();
      return;
    }
    if (!*elected) return;  // stopping
    if (Status led = Lead(std::move(**elected)); !led.ok()) {
      Note("stopped: " + led.ToString(), true);
      MutexLock lock(&mu_);
      role_ = Role::kFailed;
      failure_ = led;
      cv_.SignalAll();
      return;
    }
    MutexLock lock(&mu_);
    if (stopping_) return;
  }
}

StatusOr<std::optional<ReplicaNode::Elected>> ReplicaNode::Follow() {
  SetRole(Role::kFollower, 0);
  storage::StoreOptions store_options{.path = server_config_.data_dir, .sync = false};
  store_options.block_cache_bytes = server_config_.block_cache_bytes;
  store_options.max_log_bytes = server_config_.max_log_bytes;
  store_options.file_system = server_config_.file_system;
  auto store = storage::Store::Open(store_options);
  if (!store.ok()) return store.status();
  LogApplier applier(store->get(), /*sync=*/false);
  if (Status s = applier.Init(); !s.ok()) return s;

  services::LeaderProxyOptions proxy_options;
  proxy_options.listen = server_config_.listen;
  proxy_options.max_message_bytes = server_config_.max_receive_bytes;
  proxy_options.leader = [this]() -> std::optional<std::string> {
    MutexLock lock(&mu_);
    return leader_address_;
  };
  auto proxy = services::LeaderProxy::Start(proxy_options);
  if (!proxy.ok()) return proxy.status();

  // The watch's callbacks apply entries; a gap, a compaction or a broken
  // stream sets `resync`, and the loop below catches up again.
  Mutex apply_mu;
  bool resync = true;
  std::unique_ptr<EtcdWatch> watch;
  auto last_report = std::chrono::steady_clock::now();
  for (;;) {
    if (Tick()) return std::optional<Elected>();
    bool need_catch_up = false;
    {
      MutexLock lock(&apply_mu);
      need_catch_up = resync;
    }
    if (need_catch_up) {
      watch.reset();  // no callback runs after this
      MutexLock lock(&apply_mu);
      auto revision = CatchUp(client_.get(), keys_, &applier);
      if (!revision.ok()) {
        if (revision.status().reason() == reason::LOG_TRUNCATED.name ||
            revision.status().reason() == reason::LOG_MISMATCH.name) {
          return revision.status();
        }
        continue;  // etcd unreachable: try again next tick
      }
      auto on_events = [&](const WatchBatch& batch) {
        MutexLock lock(&apply_mu);
        if (resync) return;
        for (const auto& event : batch.events) {
          if (event.type != WatchEvent::Type::kPut) continue;  // trimming
          auto position = keys_.PositionOf(event.kv.key);
          if (!position || *position <= applier.position()) continue;
          if (!applier.Take(*position, event.kv.value).ok()) {
            resync = true;
            return;
          }
        }
      };
      auto on_end = [&](const Status&) {
        MutexLock lock(&apply_mu);
        resync = true;
      };
      auto started = client_->Watch(keys_.log_prefix, PrefixEnd(keys_.log_prefix), *revision + 1, on_events, on_end);
      if (!started.ok()) continue;
      watch = std::move(*started);
      resync = false;
    }
    {
      MutexLock lock(&apply_mu);
      MutexLock node(&mu_);
      position_ = applier.applied();
    }
    if (std::chrono::steady_clock::now() - last_report >= options_.report_interval) {
      last_report = std::chrono::steady_clock::now();
      uint64_t held = 0;
      {
        MutexLock lock(&apply_mu);
        held = applier.applied();
      }
      if ((*store)->SyncWal().ok()) Report(held, /*trim=*/false);
    }
    auto leader = CurrentLeader(client_.get(), keys_);
    if (!leader.ok()) continue;
    if (*leader) {
      MutexLock lock(&mu_);
      leader_address_ = (*leader)->address;
      continue;
    }
    {
      MutexLock lock(&mu_);
      leader_address_.reset();
    }
    auto leadership = std::make_unique<Leadership>(client_.get(), keys_, LeaderRecord{options_.replica, address_},
                                                   options_.lease_ttl_seconds);
    auto epoch = leadership->TryAcquire();
    if (!epoch.ok() || !*epoch) continue;
    // Renew from now on: catching up and starting the server may take
    // longer than the lease.
    {
      MutexLock lock(&mu_);
      lease_lost_ = false;
    }
    leadership->KeepAlive([this](const Status&) {
      MutexLock lock(&mu_);
      lease_lost_ = true;
      cv_.SignalAll();
    });
    // Elected: from here on no other replica can append, so the log's end
    // as read now is its end. Apply it all before serving.
    watch.reset();
    MutexLock lock(&apply_mu);
    auto revision = CatchUp(client_.get(), keys_, &applier);
    if (!revision.ok()) {
      leadership->Resign();
      if (revision.status().reason() == reason::LOG_TRUNCATED.name ||
          revision.status().reason() == reason::LOG_MISMATCH.name) {
        return revision.status();
      }
      resync = true;
      continue;
    }
    Elected elected{std::move(leadership), **epoch, applier.position() + 1};
    (*proxy)->Shutdown();
    return std::optional<Elected>(std::move(elected));
  }
}

Status ReplicaNode::Lead(Elected elected) {
  services::ServerConfig config = server_config_;
  config.sync = false;  // the log is the durable copy; the store is synced before reporting its position
  config.batch_log =
      std::make_shared<EtcdBatchLog>(client_.get(), keys_, elected.epoch, elected.next, options_.max_part_bytes);
  auto server = services::GridServer::Start(config, clock_, initial_);
  if (!server.ok()) {
    Note("elected, but the server did not start: " + server.status().ToString(), true);
    elected.leadership->Resign();
    // A start that failed on a store or log error leaves this replica to
    // follow again; the next leader (maybe this one) tries anew.
    return Status::Ok();
  }
  {
    MutexLock lock(&mu_);
    server_ = server->get();
  }
  SetRole(Role::kLeader, elected.epoch);
  auto last_report = std::chrono::steady_clock::now();
  for (;;) {
    if (Tick()) break;
    {
      MutexLock lock(&mu_);
      if (lease_lost_) {
        Note("stepping down: the lease was lost", true);
        break;
      }
    }
    if (!(*server)->writable()) {  // an append was refused or its outcome is unknown
      Note("stepping down: the store takes no writes: " + (*server)->store()->WriteState().ToString(), true);
      break;
    }
    auto position = (*server)->store()->LogPosition();
    if (position.ok()) {
      MutexLock lock(&mu_);
      position_ = *position;
    }
    if (std::chrono::steady_clock::now() - last_report >= options_.report_interval) {
      last_report = std::chrono::steady_clock::now();
      if (position.ok() && (*server)->store()->SyncWal().ok()) Report(*position, /*trim=*/true);
    }
  }
  {
    MutexLock lock(&mu_);
    server_ = nullptr;
    leader_address_.reset();
  }
  (*server)->Shutdown();
  server->reset();
  elected.leadership->Resign();
  SetRole(Role::kFollower, 0);
  return Status::Ok();
}

void ReplicaNode::Report(uint64_t position, bool trim) {
  if (!client_->Put(keys_.Applied(options_.replica), std::to_string(position)).ok()) return;
  if (!trim || options_.replicas.empty()) return;
  auto reports = client_->Range(keys_.applied_prefix, PrefixEnd(keys_.applied_prefix));
  if (!reports.ok()) return;
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  size_t known = 0;
  for (const auto& kv : reports->kvs) {
    const std::string name = kv.key.substr(keys_.applied_prefix.size());
    if (std::find(options_.replicas.begin(), options_.replicas.end(), name) == options_.replicas.end()) continue;
    uint64_t held = 0;
    auto [end, ec] = std::from_chars(kv.value.data(), kv.value.data() + kv.value.size(), held);
    if (ec != std::errc() || end != kv.value.data() + kv.value.size()) return;
    lowest = std::min(lowest, held);
    ++known;
  }
  // Every replica must have said what it holds; the newest entry stays, so
  // that the log's end is always known.
  if (known < options_.replicas.size() || lowest <= 1) return;
  (void)client_->DeleteRange(keys_.Log(1), keys_.Log(lowest));
}

}  // namespace grid::replica
