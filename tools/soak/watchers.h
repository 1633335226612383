// The soak's Watch subscribers: one thread each, holding one
// EscalationFeed.Watch stream from the oldest entry for the whole run (the
// town offices of the demo county and the county itself; some watch every
// change of their scope, the rest escalations only). Each keeps the cursor of
// every entry it received, in order.
//
// At the end, Finish replays each distinct (scope, all changes) from the
// store on a stream of its own until it is caught up with the live feed, waits
// until every subscriber confirmed that cursor, and compares: a subscriber
// passes when it received exactly the replayed entries up to it, in order,
// and its stream never ended early.
//
// Thread-safety: Start and Finish are called by one thread; Take* from any.
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "port/mutex.h"

namespace grid::soak {

struct WatcherSpec {
  std::string scope;  // a unit code
  bool all_changes = false;
};

struct WatcherResult {
  WatcherSpec spec;
  uint64_t received = 0;     // entries, the whole run
  uint64_t expected = 0;     // entries of its scope up to the checked cursor
  uint64_t checked_to = 0;   // the cursor compared up to
  uint64_t stream_ends = 0;  // streams that ended before Finish (each resumed)
  bool matched = false;      // received exactly the replayed entries, in order
  std::string problem;       // what differed, when not matched
};

class Watchers {
 public:
  Watchers(std::shared_ptr<grpc::Channel> channel, std::vector<WatcherSpec> specs);
  ~Watchers();
  Watchers(const Watchers&) = delete;
  Watchers& operator=(const Watchers&) = delete;

  void Start();

  // Entries delivered to all subscribers, and automatic (deadline)
  // escalations received by the first subscriber, since the last call.
  uint64_t TakeDelivered() { return delivered_.exchange(0); }
  uint64_t TakeDeadlineEscalations() { return deadline_escalations_.exchange(0); }

  // Compares every subscriber with a replay of its scope (see above), then
  // ends the streams. Each replay, and then the subscribers' catching up
  // with it, gets `patience`; a subscriber whose replay or whose catching
  // up takes longer fails.
  std::vector<WatcherResult> Finish(std::chrono::seconds patience) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct State {
    std::vector<uint64_t> cursors;  // entries received, in order (the subscriber's thread only)
    uint64_t stream_ends = 0;       // likewise
  };

  void Run(size_t index) ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<grpc::Channel> channel_;
  const std::vector<WatcherSpec> specs_;
  std::vector<State> states_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> deadline_escalations_{0};

  grid::Mutex mu_;
  grid::CondVar advanced_;  // a confirmed cursor grew
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> confirmed_ ABSL_GUARDED_BY(mu_);            // the server's resume point per subscriber
  std::vector<grpc::ClientContext*> streams_ ABSL_GUARDED_BY(mu_);  // the open stream of each, to cancel
};

}  // namespace grid::soak
