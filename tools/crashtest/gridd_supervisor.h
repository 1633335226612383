// gridd under the crash test: started as a child process on 127.0.0.1 (port 0,
// or a fixed port for a shard's replica) with a port file, SIGKILLed and
// started again on the same data directory, with the clock offset of each
// round. Callers and subscribers ask it for the channel of the gridd that
// serves now and wait, on a condition variable, for the next one after a
// kill. In cluster mode a ReplicaSet holds one per replica.
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
#include "tools/crashtest/call_target.h"

namespace grid::crashtest {

struct GriddOptions {
  std::string gridd;                    // the binary
  std::string data_dir;                 // --data
  std::string work_dir;                 // port file and gridd.log go here
  std::vector<std::string> extra_args;  // every start gets these
  std::string listen = "127.0.0.1:0";   // --listen: a replica needs a fixed port
  std::string name = "gridd";           // <work_dir>/<name>.port and <name>.log
  // The clients' channels retry a refused connection after at most this long
  // (0: gRPC's default, which grows to 120 s). A replica's port goes from its
  // proxy to its server when it is elected: its callers should notice soon.
  std::chrono::milliseconds max_reconnect_backoff{0};
};

class GriddSupervisor final : public CallTarget {
 public:
  explicit GriddSupervisor(GriddOptions options);
  ~GriddSupervisor() override;  // SIGKILLs a running gridd
  GriddSupervisor(const GriddSupervisor&) = delete;
  GriddSupervisor& operator=(const GriddSupervisor&) = delete;

  // Starts gridd with `offset_hours` and waits until it serves. False, with
  // `error`, when it exits or does not serve within 60 s.
  bool Start(double offset_hours, std::string* error) ABSL_LOCKS_EXCLUDED(mu_);

  // SIGKILLs gridd at once, reaps it, and starts it again on the same data
  // directory; the time from the kill to serving again is recorded.
  bool KillAndRestart(double offset_hours, std::string* error) ABSL_LOCKS_EXCLUDED(mu_);

  // SIGKILLs gridd at once and reaps it; Start brings it back. False when
  // none ran.
  bool Kill() ABSL_LOCKS_EXCLUDED(mu_);

  // SIGTERM, and waits for the exit; returns gridd's exit status (128 + signal
  // when killed by one), -1 when none ran.
  int Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // The gridd serving now (its generation grows by one per start); blocks
  // while none does. nullopt once the supervisor gave up (a start failed) or
  // Stop was called.
  std::optional<Serving> WaitServing() ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<Serving> WaitServing(size_t /*spread*/) override { return WaitServing(); }
  // The same without waiting: nullopt while none serves.
  std::optional<Serving> ServingNow() const ABSL_LOCKS_EXCLUDED(mu_);

  // Microseconds since the epoch on gridd's clock (wall clock + offset) when
  // the current gridd started serving.
  int64_t server_start_micros() const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<double> restart_seconds() const ABSL_LOCKS_EXCLUDED(mu_);
  std::string log_path() const { return options_.work_dir + "/" + options_.name + ".log"; }
  const std::string& data_dir() const { return options_.data_dir; }
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
