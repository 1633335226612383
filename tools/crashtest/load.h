// The crash test's callers: each one, on its own thread, keeps a few cases of
// its own going: it submits a case with an idempotency key, then works it
// (accept, start work, note, escalate, resolve, call back, close) with the
// version it last saw, and leaves some cases unaccepted or unresolved so that
// their deadlines fire. Every acknowledgement goes to the AckLog at once.
//
// A call that gets no answer (gridd was killed under it) is sent again, the
// same request with the same idempotency key or expected version, once gridd
// serves again (in cluster mode: on another replica; callers spread over the
// replicas, CallTarget::WaitServing). A retried transition that answers VERSION_MISMATCH is looked
// up in the case's history (by its note, unique per call): found, it was
// stored before the kill without being acknowledged; not found, a deadline
// moved the version, and the call is sent with the new one.
//
// Thread-safety: Start and Stop are called by one thread; counts() after Stop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tools/crashtest/ack_log.h"
#include "tools/crashtest/call_target.h"

namespace grid::crashtest {

struct LoadOptions {
  size_t callers = 32;
  uint64_t seed = 1;
  std::string key_prefix;               // unique per run
  std::chrono::milliseconds think{50};  // pause between one caller's calls
  size_t cases_per_caller = 4;          // cases each caller works at once
  // Called on the caller's thread for every acknowledged SubmitCase: when the
  // call was first sent, when its last attempt was sent (they differ when it
  // was sent again), and when the answer came. Must be thread-safe.
  std::function<void(std::chrono::steady_clock::time_point first_sent, std::chrono::steady_clock::time_point last_sent,
                     std::chrono::steady_clock::time_point acked)>
      on_submit;
};

struct LoadCounts {
  std::map<std::string, uint64_t> acknowledged;  // by kind: submit, accept, ...
  uint64_t retries = 0;                          // calls sent again after no answer
  uint64_t found_after_retry = 0;                // unacknowledged calls whose effect was stored
  uint64_t version_moved = 0;                    // VERSION_MISMATCH without our effect: a deadline came first
  std::map<std::string, uint64_t> refused;       // reason -> count (definite answers other than success)
};

class Load {
 public:
  Load(CallTarget* gridd, AckLog* log, LoadOptions options);
  ~Load();
  void Start();
  void Stop();  // lets each caller finish the call it is on, then joins
  LoadCounts counts() const;

 private:
  struct Caller;
  void Run(size_t index);

  CallTarget* const gridd_;
  AckLog* const log_;
  const LoadOptions options_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::vector<LoadCounts> counts_;  // one per caller, written by its thread only
};

}  // namespace grid::crashtest
