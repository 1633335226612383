#include "tools/crashtest/gridd_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace grid::crashtest {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr std::chrono::seconds kStartTimeout{60};

std::string OffsetArg(double hours) {
  std::ostringstream s;
  s.precision(10);
  s << hours;
  return s.str();
}

}  // namespace

GriddSupervisor::GriddSupervisor(GriddOptions options) : options_(std::move(options)) {}

GriddSupervisor::~GriddSupervisor() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool GriddSupervisor::Launch(double offset_hours, std::string* error) {
  const std::string port_file = options_.work_dir + "/gridd.port";
  std::filesystem::remove(port_file);
  // Watched before the child starts, so the rename cannot be missed.
  const int notify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (notify >= 0) inotify_add_watch(notify, options_.work_dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
  std::vector<std::string> args = {options_.gridd,         "--listen",    "127.0.0.1:0", "--data",
                                   options_.data_dir,      "--port-file", port_file,     "--clock-offset-hours",
                                   OffsetArg(offset_hours)};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  const int log = open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const pid_t pid = fork();
  if (pid == 0) {
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (log >= 0) close(log);
  if (pid < 0) {
    *error = "fork failed";
    if (notify >= 0) close(notify);
    return false;
  }
  pid_ = pid;
  const int exited = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  const auto give_up = SteadyClock::now() + kStartTimeout;
  int port = 0;
  bool ok = false;
  while (true) {
    std::ifstream in(port_file);
    if (in >> port && port > 0) {
      ok = true;
      break;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid_ = -1;
      *error = "gridd exited with status " +
               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + " (see " +
               log_path() + ")";
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - SteadyClock::now());
    if (left.count() <= 0) {
      *error = "gridd did not serve within 60 s (see " + log_path() + ")";
      break;
    }
    // A change in the directory, or the child's exit; without inotify or a
    // pidfd it looks again every 50 ms.
    pollfd fds[2] = {{notify, POLLIN, 0}, {exited, POLLIN, 0}};
    const bool both = notify >= 0 && exited >= 0;
    poll(fds, 2, static_cast<int>(both ? left.count() : std::min<long>(50, left.count())));
    char events[4096];
    while (notify >= 0 && read(notify, events, sizeof events) > 0) {
    }
  }
  if (notify >= 0) close(notify);
  if (exited >= 0) close(exited);
  grid::MutexLock lock(&mu_);
  if (!ok) {
    ended_ = true;
    changed_.SignalAll();
    return false;
  }
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  server_start_micros_ = std::chrono::duration_cast<std::chrono::microseconds>(wall).count() +
                         static_cast<int64_t>(std::llround(offset_hours * 3600e6));
  grpc::ChannelArguments channel_args;
  // A fresh channel per gridd: no reconnect backoff carried over from the last one.
  channel_args.SetInt("grpc.channel_id", static_cast<int>(current_.generation + 1));
  current_.generation += 1;
  current_.channel =
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), channel_args);
  serving_ = true;
  changed_.SignalAll();
  return true;
}

bool GriddSupervisor::Start(double offset_hours, std::string* error) { return Launch(offset_hours, error); }

bool GriddSupervisor::KillAndRestart(double offset_hours, std::string* error) {
  const auto t0 = SteadyClock::now();
  {
    // Not serving from before the kill: a call that fails because of it
    // finds serving_ false and waits for the next gridd.
    grid::MutexLock lock(&mu_);
    serving_ = false;
  }
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (!Launch(offset_hours, error)) return false;
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  grid::MutexLock lock(&mu_);
  restart_seconds_.push_back(seconds);
  return true;
}

int GriddSupervisor::Stop() {
  {
    grid::MutexLock lock(&mu_);
    serving_ = false;
    ended_ = true;
    changed_.SignalAll();
  }
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::optional<GriddSupervisor::Serving> GriddSupervisor::WaitServing() {
  grid::MutexLock lock(&mu_);
  while (!serving_ && !ended_) changed_.Wait(&mu_);
  if (ended_) return std::nullopt;
  return current_;
}

int64_t GriddSupervisor::server_start_micros() const {
  grid::MutexLock lock(&mu_);
  return server_start_micros_;
}

std::vector<double> GriddSupervisor::restart_seconds() const {
  grid::MutexLock lock(&mu_);
  return restart_seconds_;
}

}  // namespace grid::crashtest
