// SpawnLogged and PortFileWatch: see child_process.h.
#include "tools/process/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace grid::process {

pid_t SpawnLogged(std::vector<std::string> args, const std::string& log, bool append, bool die_with_parent) {
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    if (die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the parent ended before prctl
    }
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (fd >= 0) close(fd);
  return pid;
}

int ExitStatus(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

std::vector<int> FreeLoopbackPorts(int n) {
  std::vector<int> fds;
  std::vector<int> ports;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    const bool bound = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                       getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ports.push_back(bound ? ntohs(addr.sin_port) : 0);
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  return ports;
}

std::string FileTail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

PortFileWatch::PortFileWatch(std::string port_file) : port_file_(std::move(port_file)) {
  std::filesystem::remove(port_file_);
  notify_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  std::filesystem::path dir = std::filesystem::path(port_file_).parent_path();
  if (dir.empty()) dir = std::filesystem::current_path();
  if (notify_ >= 0) inotify_add_watch(notify_, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
}

PortFileWatch::~PortFileWatch() {
  if (notify_ >= 0) close(notify_);
}

PortFileWait PortFileWatch::Wait(pid_t pid, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  PortFileWait result;
  const int exited = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  const auto give_up = Clock::now() + timeout;
  for (;;) {
    std::ifstream in(port_file_);
    if (in >> result.port && result.port > 0) break;
    result.port = 0;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      result.exited = true;
      result.exit_status = ExitStatus(status);
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
    if (left.count() <= 0) break;
    // A change in the directory, or the child's exit.
    pollfd fds[2] = {{notify_, POLLIN, 0}, {exited, POLLIN, 0}};
    const bool both = notify_ >= 0 && exited >= 0;
    poll(fds, 2, static_cast<int>(both ? left.count() : std::min<long>(50, left.count())));
    char events[4096];
    while (notify_ >= 0 && read(notify_, events, sizeof events) > 0) {
    }
  }
  if (exited >= 0) close(exited);
  return result;
}

}  // namespace grid::process
