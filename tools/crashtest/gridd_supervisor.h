// gridd under the crash test: started as a child process on 127.0.0.1 port 0
// with a port file, SIGKILLed and started again on the same data directory,
// with the clock offset of each round. Callers and subscribers ask it for the
// channel of the gridd that serves now and wait, on a condition variable, for
// the next one after a kill.
//
// Readiness is an event: the start blocks in poll(2) on an inotify watch of
// the port file's directory (gridd renames the file into place once serving)
// and on a pidfd of the child (it exited).
//
// Thread-safety: every method may be called from any thread; Start,
// KillAndRestart and Stop are called by one controlling thread.
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "port/mutex.h"

namespace grid::crashtest {

struct GriddOptions {
  std::string gridd;                    // the binary
  std::string data_dir;                 // --data
  std::string work_dir;                 // port file and gridd.log go here
  std::vector<std::string> extra_args;  // every start gets these
};

class GriddSupervisor {
 public:
  explicit GriddSupervisor(GriddOptions options);
  ~GriddSupervisor();  // SIGKILLs a running gridd
  GriddSupervisor(const GriddSupervisor&) = delete;
  GriddSupervisor& operator=(const GriddSupervisor&) = delete;

  // Starts gridd with `offset_hours` and waits until it serves. False, with
  // `error`, when it exits or does not serve within 60 s.
  bool Start(double offset_hours, std::string* error) ABSL_LOCKS_EXCLUDED(mu_);

  // SIGKILLs gridd at once, reaps it, and starts it again on the same data
  // directory; the time from the kill to serving again is recorded.
  bool KillAndRestart(double offset_hours, std::string* error) ABSL_LOCKS_EXCLUDED(mu_);

  // SIGTERM, and waits for the exit; returns gridd's exit status (128 + signal
  // when killed by one), -1 when none ran.
  int Stop() ABSL_LOCKS_EXCLUDED(mu_);

  struct Serving {
    uint64_t generation = 0;  // grows by one per start
    std::shared_ptr<grpc::Channel> channel;
  };

  // The gridd serving now; blocks while none does. nullopt once the
  // supervisor gave up (a start failed) or Stop was called.
  std::optional<Serving> WaitServing() ABSL_LOCKS_EXCLUDED(mu_);

  // Microseconds since the epoch on gridd's clock (wall clock + offset) when
  // the current gridd started serving.
  int64_t server_start_micros() const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<double> restart_seconds() const ABSL_LOCKS_EXCLUDED(mu_);
  std::string log_path() const { return options_.work_dir + "/gridd.log"; }
  // The running gridd's process id, -1 when none runs. The controlling
  // thread only (the soak samples its memory and CPU time through /proc).
  pid_t pid() const { return pid_; }

 private:
  bool Launch(double offset_hours, std::string* error);  // REQUIRES: no child running

  const GriddOptions options_;
  pid_t pid_ = -1;  // the child; only the controlling thread touches it

  mutable grid::Mutex mu_;
  grid::CondVar changed_;  // signalled when serving_ or ended_ changes
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  Serving current_ ABSL_GUARDED_BY(mu_);
  int64_t server_start_micros_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<double> restart_seconds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grid::crashtest
