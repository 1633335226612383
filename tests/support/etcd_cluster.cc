// EtcdCluster: see etcd_cluster.h.
#include "tests/support/etcd_cluster.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tools/process/child_process.h"

namespace grid::testing {

namespace {

std::string EtcdBinary() {
  const char* env = std::getenv("GRID_ETCD");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/etcd";
}

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace

EtcdCluster::EtcdCluster(EtcdClusterOptions options) : options_(options), binary_(EtcdBinary()) {
  static std::atomic<int> clusters{0};
  token_ = "gridtest-" + std::to_string(getpid()) + "-" + std::to_string(clusters++);
  members_.resize(options_.members);
  for (int i = 0; i < size(); ++i) {
    members_[i].name = "m" + std::to_string(i);
    members_[i].data_dir = dir_.Sub(members_[i].name);
  }
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

::testing::AssertionResult EtcdCluster::Start() {
  if (options_.members != 1 && options_.members != 3) {
    return ::testing::AssertionFailure() << "an EtcdCluster has 1 or 3 members, not " << options_.members;
  }
  if (access(binary_.c_str(), X_OK) != 0) {
    return ::testing::AssertionFailure() << "etcd is not installed: no executable " << binary_
                                         << ". Install the Debian package etcd-server (tools/test does, through "
                                            "tools/deps.sh), or point GRID_ETCD at an etcd 3.4 binary.";
  }
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    for (int i = 0; i < size(); ++i) Kill(i);
    Prepare();
    for (int i = 0; i < size(); ++i) Spawn(i, /*append_log=*/false);
    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    ::testing::AssertionResult ready = ::testing::AssertionSuccess();
    bool clash = false;
    for (int i = 0; i < size() && ready; ++i) {
      ready = WaitServing(i, deadline);
      clash = !ready && LogTail(i, 1 << 16).find("address already in use") != std::string::npos;
    }
    if (ready || !clash || attempt == kAttempts) return ready;
  }
}

void EtcdCluster::Prepare() {
  // A port that could not be found is 0: etcd fails on it, and Start retries.
  const std::vector<int> ports = process::FreeLoopbackPorts(2 * size());
  for (int i = 0; i < size(); ++i) {
    Member& m = members_[i];
    m.client_port = ports[2 * i];
    m.peer_port = ports[2 * i + 1];
    std::error_code ec;
    std::filesystem::remove_all(m.data_dir, ec);
  }
}

std::vector<std::string> EtcdCluster::ArgsOf(int i) const {
  const Member& m = members_[i];
  std::string initial_cluster;
  for (const Member& peer : members_) {
    initial_cluster += (initial_cluster.empty() ? "" : ",") + peer.name + "=" + Url(peer.peer_port);
  }
  std::vector<std::string> args = {binary_,
                                   "--name=" + m.name,
                                   "--data-dir=" + m.data_dir,
                                   "--listen-client-urls=" + Url(m.client_port),
                                   "--advertise-client-urls=" + Url(m.client_port),
                                   "--listen-peer-urls=" + Url(m.peer_port),
                                   "--initial-advertise-peer-urls=" + Url(m.peer_port),
                                   "--initial-cluster=" + initial_cluster,
                                   "--initial-cluster-state=new",
                                   "--initial-cluster-token=" + token_,
                                   "--heartbeat-interval=" + std::to_string(options_.heartbeat_ms),
                                   "--election-timeout=" + std::to_string(options_.election_ms),
                                   "--logger=zap",
                                   "--log-outputs=stderr"};
  if (options_.quota_backend_bytes > 0) {
    args.push_back("--quota-backend-bytes=" + std::to_string(options_.quota_backend_bytes));
  }
  if (options_.max_request_bytes > 0) {
    args.push_back("--max-request-bytes=" + std::to_string(options_.max_request_bytes));
  }
  return args;
}

void EtcdCluster::Spawn(int i, bool append_log) {
  members_[i].pid = process::SpawnLogged(ArgsOf(i), log_path(i), append_log, /*die_with_parent=*/true);
}

::testing::AssertionResult EtcdCluster::WaitServing(int i, std::chrono::steady_clock::time_point deadline) {
  cluster::EtcdClientOptions probe;
  probe.connect_timeout = std::chrono::milliseconds(200);
  probe.call_timeout = std::chrono::milliseconds(1000);
  std::unique_ptr<cluster::EtcdClient> client;
  std::string last = "no connection yet";
  for (;;) {
    if (!Running(i)) {
      return ::testing::AssertionFailure()
             << "etcd member " << i << " (" << endpoint(i) << ") exited; the end of its log " << log_path(i) << ":\n"
             << LogTail(i);
    }
    if (client == nullptr) {
      auto connected = cluster::EtcdClient::Connect({endpoint(i)}, probe);
      if (connected.ok()) {
        client = std::move(connected).value();
      } else {
        last = connected.status().ToString();
      }
    }
    if (client != nullptr) {
      auto read = client->Range("gridtest/ready", "");
      if (read.ok()) return ::testing::AssertionSuccess();
      last = read.status().ToString();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return ::testing::AssertionFailure() << "etcd member " << i << " (" << endpoint(i) << ") did not serve within "
                                           << options_.start_timeout.count() << " ms; last: " << last
                                           << "; the end of its log " << log_path(i) << ":\n"
                                           << LogTail(i);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(endpoint(i));
  return all;
}

std::string EtcdCluster::endpoint(int i) const { return "127.0.0.1:" + std::to_string(members_[i].client_port); }

StatusOr<std::unique_ptr<cluster::EtcdClient>> EtcdCluster::Connect(cluster::EtcdClientOptions options) const {
  return cluster::EtcdClient::Connect(endpoints(), options);
}

bool EtcdCluster::Running(int i) {
  Member& m = members_[i];
  if (m.pid <= 0) return false;
  int status = 0;
  if (waitpid(m.pid, &status, WNOHANG) == 0) return true;
  m.pid = -1;
  return false;
}

void EtcdCluster::Signal(int i, int sig) {
  if (members_[i].pid > 0) kill(members_[i].pid, sig);
}

void EtcdCluster::Kill(int i) {
  if (!Running(i)) return;
  Signal(i, SIGKILL);
  waitpid(members_[i].pid, nullptr, 0);
  members_[i].pid = -1;
}

void EtcdCluster::Stop(int i) {
  if (!Running(i)) return;
  Signal(i, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Running(i)) {
    if (std::chrono::steady_clock::now() > deadline) {
      Kill(i);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

::testing::AssertionResult EtcdCluster::Restart(int i) {
  if (Running(i)) return ::testing::AssertionFailure() << "etcd member " << i << " is still running";
  Spawn(i, /*append_log=*/true);
  return WaitServing(i, std::chrono::steady_clock::now() + options_.start_timeout);
}

std::string EtcdCluster::log_path(int i) const { return dir_.Sub(members_[i].name + ".log"); }

std::string EtcdCluster::LogTail(int i, size_t bytes) const { return process::FileTail(log_path(i), bytes); }

}  // namespace grid::testing
