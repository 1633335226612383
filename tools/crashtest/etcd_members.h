// The crash test's own etcd: 3 members on 127.0.0.1, on ports found free,
// data under the run's work directory, durable (no --unsafe-no-fsync), with
// etcd's default heartbeat and election timeouts (100 ms / 1 s: shorter ones
// elect spuriously when the two cores are busy). tests/support/etcd_cluster.h
// is the gtest fixture for the same; this one reports with strings and
// outlives no crashtest (its members die with the thread that started them).
//
// Readiness is polled: a member is ready once a linearizable Range through
// it succeeds, looked for every 50 ms. Ports are found free and released
// before etcd binds them; when another process took one meanwhile, Start
// begins again with new ports.
//
// Thread-safety: none; the controlling thread uses it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace grid::crashtest {

class EtcdMembers {
 public:
  // `etcd`: the binary; members' data and logs go to <work_dir>/etcdN/ and
  // <work_dir>/etcdN.log.
  EtcdMembers(std::string etcd, std::string work_dir, int members = 3);
  ~EtcdMembers();  // SIGKILLs every member still running
  EtcdMembers(const EtcdMembers&) = delete;
  EtcdMembers& operator=(const EtcdMembers&) = delete;

  // Starts every member and waits until each serves (up to `timeout`); false,
  // with `error` naming the member and the end of its log, when one does not.
  bool Start(std::chrono::seconds timeout, std::string* error);

  // "127.0.0.1:port" of each member's client URL.
  std::vector<std::string> endpoints() const;
  // endpoints() joined by commas, as gridd's --etcd takes them.
  std::string endpoint_list() const;

  // SIGTERM to every member, and waits for them (SIGKILL after 10 s).
  void Stop();

 private:
  struct Member {
    std::string name;
    std::string data_dir;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };
  // Starts the members on new ports and waits for each; `clash` when one
  // failed because its port was taken.
  bool TryStart(std::chrono::steady_clock::time_point give_up, std::string* error, bool* clash);
  void KillAll();
  std::vector<std::string> ArgsOf(size_t i) const;
  std::string log_path(size_t i) const;

  const std::string etcd_;
  const std::string work_dir_;
  std::vector<Member> members_;
};

}  // namespace grid::crashtest
