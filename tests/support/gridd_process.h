// gridd and gridctl as processes, for the integration tests: start gridd on
// port 0 with a port file, wait until it serves, kill it (SIGKILL or SIGTERM)
// and reap it; run a gridctl command line and capture what it printed.
//
// Readiness is an event, not a poll: the wait blocks in poll(2) on an
// inotify watch of the port file's directory (gridd renames the file into
// place once serving) and on a pidfd of the child (it exited), bounded by
// kStartTimeout.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/paths.h"

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
    port_file_ = data_dir + ".port";
    std::filesystem::remove(port_file_);
    // Watched before the child starts, so the rename cannot be missed.
    const int notify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    const std::string dir = std::filesystem::path(port_file_).parent_path().string();
    if (notify >= 0) inotify_add_watch(notify, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
    std::vector<std::string> args = {BinDir() + "/gridd", "--listen", "127.0.0.1:0", "--data", data_dir,
                                     "--port-file",       port_file_};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = freopen(log.c_str(), "w", stdout);
      (void)f;
      dup2(fileno(stdout), fileno(stderr));
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    const int exited = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    const auto give_up = std::chrono::steady_clock::now() + kStartTimeout;
    while (port_ == 0) {
      std::ifstream in(port_file_);
      if (!(in >> port_)) port_ = 0;
      if (port_ != 0) break;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      // A change in the directory, or the child's exit. Without inotify or
      // pidfd (exhausted limits, an old kernel) it looks again every 50 ms.
      pollfd fds[2] = {{notify, POLLIN, 0}, {exited, POLLIN, 0}};
      const bool both = notify >= 0 && exited >= 0;
      poll(fds, 2, static_cast<int>(both ? left.count() : std::min<long>(50, left.count())));
      char events[4096];
      while (notify >= 0 && read(notify, events, sizeof events) > 0) {
      }
    }
    if (notify >= 0) close(notify);
    if (exited >= 0) close(exited);
  }
  ~GriddProcess() { Kill(SIGKILL); }

  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  bool exited() const { return exited_; }
  int exit_code() const { return exit_code_; }

  // Sends `sig` and reaps the process; returns its exit status.
  int Kill(int sig) {
    if (exited_ || pid_ <= 0) return exit_code_;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string port_file_;
};

}  // namespace grid::testing
