// gridd and gridctl as processes, for the integration tests: start gridd on
// port 0 with a port file, wait until it serves, kill it (SIGKILL or SIGTERM)
// and reap it; run a gridctl command line and capture what it printed.
//
// Readiness is an event, not a poll (tools/process/child_process.h), bounded
// by kStartTimeout.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/paths.h"
#include "tools/process/child_process.h"

namespace grid::testing {

inline std::string BinDir() { return testing::BinaryDir() + "/tools"; }

// Runs a command, returns its exit code and what it printed (stdout+stderr).
inline int RunCommand(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class GriddProcess {
 public:
  static constexpr std::chrono::seconds kStartTimeout{30};

  // Starts gridd with `args`; waits until it serves (its port file appears)
  // or it exits.
  GriddProcess(const std::string& data_dir, const std::string& log, const std::vector<std::string>& extra = {}) {
    const std::string port_file = data_dir + ".port";
    process::PortFileWatch watch(port_file);
    std::vector<std::string> args = {BinDir() + "/gridd", "--listen", "127.0.0.1:0", "--data", data_dir,
                                     "--port-file",       port_file};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = process::SpawnLogged(std::move(args), log);
    const process::PortFileWait waited = watch.Wait(pid_, kStartTimeout);
    port_ = waited.port;
    exited_ = waited.exited;
    exit_code_ = waited.exit_status;
  }
  ~GriddProcess() { Kill(SIGKILL); }

  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  bool exited() const { return exited_; }
  int exit_code() const { return exit_code_; }

  // Sends `sig` and leaves the process be (SIGHUP: reload).
  void Signal(int sig) const {
    if (!exited_ && pid_ > 0) kill(pid_, sig);
  }
  // Whether the process is still running (reaps it when it has ended).
  bool Alive() {
    if (exited_ || pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) return true;
    exited_ = true;
    exit_code_ = process::ExitStatus(status);
    return false;
  }

  // Sends `sig` and reaps the process; returns its exit status.
  int Kill(int sig) {
    if (exited_ || pid_ <= 0) return exit_code_;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    exit_code_ = process::ExitStatus(status);
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
};

}  // namespace grid::testing
