// EtcdMembers: see etcd_members.h.
#include "tools/crashtest/etcd_members.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "cluster/etcd_client.h"
#include "tools/process/child_process.h"

namespace grid::crashtest {

namespace {

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

bool Exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

EtcdMembers::EtcdMembers(std::string etcd, std::string work_dir, int members)
    : etcd_(std::move(etcd)), work_dir_(std::move(work_dir)), members_(static_cast<size_t>(members)) {
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i].name = "etcd" + std::to_string(i + 1);
    members_[i].data_dir = work_dir_ + "/" + members_[i].name;
  }
}

EtcdMembers::~EtcdMembers() { KillAll(); }

void EtcdMembers::KillAll() {
  for (Member& m : members_) {
    if (m.pid <= 0) continue;
    kill(m.pid, SIGKILL);
    waitpid(m.pid, nullptr, 0);
    m.pid = -1;
  }
}

std::vector<std::string> EtcdMembers::ArgsOf(size_t i) const {
  const Member& m = members_[i];
  std::string initial_cluster;
  for (const Member& peer : members_) {
    initial_cluster += (initial_cluster.empty() ? "" : ",") + peer.name + "=" + Url(peer.peer_port);
  }
  return {etcd_, "--name=" + m.name, "--data-dir=" + m.data_dir, "--listen-client-urls=" + Url(m.client_port),
          "--advertise-client-urls=" + Url(m.client_port), "--listen-peer-urls=" + Url(m.peer_port),
          "--initial-advertise-peer-urls=" + Url(m.peer_port), "--initial-cluster=" + initial_cluster,
          "--initial-cluster-state=new", "--initial-cluster-token=crashtest-" + std::to_string(getpid()),
          // As tools/cluster runs it: etcd's history of the log's appends and
          // trims is compacted, not kept for the whole run.
          "--auto-compaction-mode=periodic", "--auto-compaction-retention=5m", "--logger=zap", "--log-outputs=stderr"};
}

bool EtcdMembers::Start(std::chrono::seconds timeout, std::string* error) {
  if (access(etcd_.c_str(), X_OK) != 0) {
    *error = "no etcd binary at " + etcd_ + " (the Debian package etcd-server; --etcd names another)";
    return false;
  }
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    bool clash = false;
    if (TryStart(give_up, error, &clash)) return true;
    KillAll();
    if (!clash || attempt == kAttempts) return false;
  }
}

bool EtcdMembers::TryStart(std::chrono::steady_clock::time_point give_up, std::string* error, bool* clash) {
  const std::vector<int> ports = process::FreeLoopbackPorts(2 * static_cast<int>(members_.size()));
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i].client_port = ports[2 * i];
    members_[i].peer_port = ports[2 * i + 1];
    std::error_code ec;
    std::filesystem::remove_all(members_[i].data_dir, ec);
  }
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i].pid = process::SpawnLogged(ArgsOf(i), log_path(i), /*append=*/false, /*die_with_parent=*/true);
  }
  cluster::EtcdClientOptions probe;
  probe.connect_timeout = std::chrono::milliseconds(200);
  probe.call_timeout = std::chrono::milliseconds(1000);
  for (size_t i = 0; i < members_.size(); ++i) {
    std::unique_ptr<cluster::EtcdClient> client;
    std::string last = "no connection yet";
    while (true) {
      if (Exited(members_[i].pid)) {
        members_[i].pid = -1;
        const std::string tail = process::FileTail(log_path(i), 1 << 16);
        *clash = tail.find("address already in use") != std::string::npos;
        *error = members_[i].name + " exited; the end of " + log_path(i) + ":\n" + process::FileTail(log_path(i));
        return false;
      }
      if (client == nullptr) {
        auto connected = cluster::EtcdClient::Connect({endpoints()[i]}, probe);
        if (connected.ok()) {
          client = std::move(connected).value();
        } else {
          last = connected.status().ToString();
        }
      }
      if (client != nullptr) {
        auto read = client->Range("crashtest/ready", "");
        if (read.ok()) break;
        last = read.status().ToString();
      }
      if (std::chrono::steady_clock::now() > give_up) {
        *error = members_[i].name + " did not serve in time (" + last + "); the end of " + log_path(i) + ":\n" +
                 process::FileTail(log_path(i));
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

std::vector<std::string> EtcdMembers::endpoints() const {
  std::vector<std::string> all;
  for (const Member& m : members_) all.push_back("127.0.0.1:" + std::to_string(m.client_port));
  return all;
}

std::string EtcdMembers::endpoint_list() const {
  std::string list;
  for (const std::string& e : endpoints()) list += (list.empty() ? "" : ",") + e;
  return list;
}

void EtcdMembers::Stop() {
  for (Member& m : members_) {
    if (m.pid > 0) kill(m.pid, SIGTERM);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (Member& m : members_) {
    while (m.pid > 0 && !Exited(m.pid)) {
      if (std::chrono::steady_clock::now() > give_up) {
        kill(m.pid, SIGKILL);
        waitpid(m.pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    m.pid = -1;
  }
}

std::string EtcdMembers::log_path(size_t i) const { return work_dir_ + "/" + members_[i].name + ".log"; }

}  // namespace grid::crashtest
