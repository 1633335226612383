// The crash test's Watch subscribers: one thread per scope, each holding an
// EscalationFeed.Watch stream (escalations only) and resuming it from the
// last cursor the server gave it whenever the stream ends (gridd killed; in
// cluster mode on another replica, where cursors mean the same).
// Every entry received and every cursor confirmed goes to the AckLog ("F" and
// "C" lines), so the checker can prove each one saw every escalation of its
// scope exactly once.
//
// Thread-safety: Start and Finish are called by one thread.
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "port/mutex.h"
#include "tools/crashtest/ack_log.h"
#include "tools/crashtest/call_target.h"

namespace grid::crashtest {

class Subscribers {
 public:
  Subscribers(CallTarget* gridd, AckLog* log, std::vector<std::string> scopes);
  ~Subscribers();
  void Start();

  // Waits until every subscriber's confirmed cursor reached `head` (or
  // `deadline` passed), then ends their streams. False on the deadline.
  bool Finish(uint64_t head, std::chrono::steady_clock::time_point deadline) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t received() const { return received_; }
  uint64_t resumed() const { return resumed_; }

 private:
  void Run(size_t index) ABSL_LOCKS_EXCLUDED(mu_);

  CallTarget* const gridd_;
  AckLog* const log_;
  const std::vector<std::string> scopes_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> resumed_{0};

  grid::Mutex mu_;
  grid::CondVar advanced_;  // signalled when a confirmed cursor grows
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> confirmed_ ABSL_GUARDED_BY(mu_);
  std::vector<grpc::ClientContext*> streams_ ABSL_GUARDED_BY(mu_);  // the open stream of each, to cancel
};

}  // namespace grid::crashtest
