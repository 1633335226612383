#include "tools/crashtest/gridd_supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tools/process/child_process.h"

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
  const std::string port_file = options_.work_dir + "/" + options_.name + ".port";
  process::PortFileWatch watch(port_file);
  std::vector<std::string> args = {options_.gridd,         "--listen",    options_.listen, "--data",
                                   options_.data_dir,      "--port-file", port_file,       "--clock-offset-hours",
                                   OffsetArg(offset_hours)};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  const pid_t pid = process::SpawnLogged(std::move(args), log_path(), /*append=*/true);
  if (pid < 0) {
    *error = "fork failed";
    return false;
  }
  pid_ = pid;
  const process::PortFileWait waited = watch.Wait(pid, kStartTimeout);
  const int port = waited.port;
  const bool ok = port > 0;
  if (waited.exited) {
    pid_ = -1;
    *error = "gridd exited with status " + std::to_string(waited.exit_status) + " (see " + log_path() + ")";
  } else if (!ok) {
    *error = "gridd did not serve within 60 s (see " + log_path() + ")";
  }
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
  if (options_.max_reconnect_backoff.count() > 0) {
    const int ms = static_cast<int>(options_.max_reconnect_backoff.count());
    channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(ms, 100));
    channel_args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(ms, 100));
    channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ms);
  }
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
  Kill();
  if (!Launch(offset_hours, error)) return false;
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  grid::MutexLock lock(&mu_);
  restart_seconds_.push_back(seconds);
  return true;
}

bool GriddSupervisor::Kill() {
  {
    // Not serving from before the kill: a call that fails because of it
    // finds serving_ false and waits for the next gridd.
    grid::MutexLock lock(&mu_);
    serving_ = false;
  }
  if (pid_ <= 0) return false;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
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
  return process::ExitStatus(status);
}

std::optional<Serving> GriddSupervisor::WaitServing() {
  grid::MutexLock lock(&mu_);
  while (!serving_ && !ended_) changed_.Wait(&mu_);
  if (ended_) return std::nullopt;
  return current_;
}

std::optional<Serving> GriddSupervisor::ServingNow() const {
  grid::MutexLock lock(&mu_);
  if (!serving_ || ended_) return std::nullopt;
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
