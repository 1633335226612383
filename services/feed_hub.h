// The feed hub: fans committed feed entries (storage's feed column family,
// written by the case writer in the same synced batch as the case change)
// out to live subscribers, and keeps the feed's housekeeping (heartbeats,
// retention) in the injected Clock's time: with a FakeClock they run when the
// test moves the clock, never on their own.
//
// Publish runs on the case writer's completion thread after each commit. It
// finds the subscribers of each entry through an index by scope unit code
// (an entry's unit_path names every unit whose subtree it belongs to), so its
// cost is proportional to the deliveries, not to the number of subscribers,
// and it never blocks: a subscriber buffers a bounded number of entries and,
// when that is full, drops them all and marks itself overflowed, to catch up
// from storage later (FeedSink).
//
// Ordering guarantees a subscriber builds on (see feed_service.cc):
//   - published(): every entry with cursor <= it is committed; an entry
//     offered to a sink has cursor <= published() at the time of the offer.
//   - delivered(): every entry with cursor <= it has been offered to every
//     sink registered at the time.
//   - Register returns published() read under the hub's lock: every entry
//     after it will be offered to the new sink.
//
// Thread-safety: all methods are thread-safe. Offers are made under the
// hub's lock; sinks must not call back into the hub from Offer.
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/clock.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"
#include "port/mutex.h"
#include "services/executor.h"
#include "storage/store.h"

namespace grid::services {

struct FeedOptions {
  size_t subscriber_buffer = 4096;       // live entries held per subscriber before it falls back to storage
  size_t max_entries_per_message = 512;  // per WatchResponse
  size_t max_bytes_per_message = 1 << 20;
  size_t replay_scan_per_task = 16384;  // entries one replay task reads before yielding
  size_t replay_threads = 2;
  // Threads that start subscribers' writes, off the publishing thread. A
  // write costs its thread a sendmsg and a wake-up of gRPC's completion
  // thread (~30 µs on a 2-vCPU VM at low rates): one thread saturates near
  // 30,000 messages/s (BENCHMARKS.md "Streams"), so there are two, and a
  // commit that kicks many subscribers is split between them.
  size_t dispatch_threads = 2;
  size_t dispatch_chunk = 64;   // subscribers kicked per dispatch task at least
  size_t replay_queue = 65536;  // replay tasks queued (one per subscriber at most)
  size_t max_subscribers = 50000;
  std::chrono::milliseconds heartbeat_interval{5000};       // 0: no heartbeats
  Micros retention = 30LL * 24 * 3600 * 1'000'000;          // 0: keep the feed forever
  std::chrono::milliseconds trim_interval{10 * 60 * 1000};  // 0: only TrimNow trims
  size_t trim_batch = 1'000'000;                            // entries deleted per trim at most
};

// Counters for tests, tools and benchmarks.
struct FeedStats {
  uint64_t subscribers = 0;
  uint64_t published = 0;     // entries published
  uint64_t offered = 0;       // entries handed to subscribers' buffers
  uint64_t overflows = 0;     // times a subscriber's buffer overflowed
  uint64_t buffered = 0;      // entries held in subscribers' buffers now
  uint64_t max_buffered = 0;  // the most any one subscriber ever held
  uint64_t trimmed = 0;       // entries deleted by retention
};

// A published entry as subscribers get it: serialised once by the hub, then
// spliced into every matching subscriber's WatchResponse as it is.
struct LiveEntry {
  uint64_t cursor = 0;
  std::string bytes;  // a serialised grid::v1::FeedEntry
};

// A subscriber as the hub sees it.
class FeedSink {
 public:
  virtual ~FeedSink() = default;
  // Under the hub's lock; must not block or call the hub. True when the sink
  // wants Kick() called (once: it coalesces offers until the kick runs).
  virtual bool Offer(const std::shared_ptr<const LiveEntry>& entry) = 0;
  // On the hub's dispatch thread, never the publisher's: the sink may start
  // sending (gRPC writes can run inline and must not delay the writer).
  virtual void Kick() = 0;
  // Periodic: the sink may send a heartbeat with its position. With
  // `only_if_idle`, a sink that sent anything since the last call skips it
  // (its cursor is recent already).
  virtual void Heartbeat(bool only_if_idle) = 0;
  // The hub is stopping: end the subscription (resumably).
  virtual void Shutdown() = 0;
};

class FeedHub {
 public:
  // Reads the last stored cursor. REQUIRES: store and clock outlive the hub.
  static StatusOr<std::unique_ptr<FeedHub>> Start(storage::Store* store, const Clock* clock, FeedOptions options);
  ~FeedHub();

  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  // Entries just committed, in cursor order. Never blocks on a subscriber.
  void Publish(const std::vector<grid::v1::FeedEntry>& entries) ABSL_LOCKS_EXCLUDED(mu_);

  // Adds a sink for the subtree of `scope` (empty: everything). Returns
  // published() read under the lock, or nullopt when the hub is stopping or
  // full (max_subscribers).
  std::optional<uint64_t> Register(std::shared_ptr<FeedSink> sink, const std::string& scope, bool all_changes)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(const FeedSink* sink, const std::string& scope) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t published() const { return published_.load(std::memory_order_acquire); }
  uint64_t delivered() const { return delivered_.load(std::memory_order_acquire); }
  // Block until delivered() >= cursor, or until there are at least `n`
  // subscribers (at most `n`: AtMost); false when `timeout` passed first.
  // For tests and tools that wait for the hub (a call's answer can come just
  // before its feed entries reach the hub) without polling.
  bool WaitDelivered(uint64_t cursor, std::chrono::milliseconds timeout) const;
  bool WaitSubscribers(size_t n, std::chrono::milliseconds timeout) const {
    return WaitSubscribersIn(n, SIZE_MAX, timeout);
  }
  bool WaitSubscribersAtMost(size_t n, std::chrono::milliseconds timeout) const {
    return WaitSubscribersIn(0, n, timeout);
  }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // Sends a heartbeat to every subscriber now. The hub does this by itself
  // every heartbeat_interval of the clock's time, to the subscribers that sent nothing during
  // it: 10,000 busy subscribers do not get 10,000 extra messages at once.
  void HeartbeatNow(bool only_if_idle = false) ABSL_LOCKS_EXCLUDED(mu_);
  // Applies retention now (the hub does this by itself every trim_interval):
  // the number of entries deleted.
  StatusOr<size_t> TrimNow();

  // Ends every subscription with UNAVAILABLE (resumable) and stops the
  // housekeeping thread and the replay executor. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_, house_mu_);

  FeedStats stats() const ABSL_LOCKS_EXCLUDED(mu_);
  const FeedOptions& options() const { return options_; }
  storage::Store* store() const { return store_; }
  BoundedExecutor* replay_executor() { return &replay_; }

  // Buffer accounting, called by sinks.
  void CountOverflow() { overflows_.fetch_add(1, std::memory_order_relaxed); }
  void CountBuffered(int64_t delta, size_t now_held);

 private:
  FeedHub(storage::Store* store, const Clock* clock, FeedOptions options, uint64_t last_cursor);
  void Housekeeping() ABSL_LOCKS_EXCLUDED(mu_, house_mu_);
  // Until min <= subscribers <= max.
  bool WaitSubscribersIn(size_t min, size_t max, std::chrono::milliseconds timeout) const ABSL_LOCKS_EXCLUDED(mu_);

  struct Sub {
    std::shared_ptr<FeedSink> sink;
    bool all_changes = false;
  };

  storage::Store* const store_;
  const Clock* const clock_;
  const FeedOptions options_;
  BoundedExecutor replay_;
  BoundedExecutor dispatch_;

  mutable Mutex mu_;
  std::unordered_map<std::string, std::vector<Sub>> by_scope_ ABSL_GUARDED_BY(mu_);  // "" = everything
  size_t subscribers_ ABSL_GUARDED_BY(mu_) = 0;
  mutable CondVar changed_;  // with mu_: delivered_ or subscribers_ changed
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<bool> stopping_{false};

  std::atomic<uint64_t> published_count_{0};
  std::atomic<uint64_t> offered_{0};
  std::atomic<uint64_t> overflows_{0};
  std::atomic<int64_t> buffered_{0};
  std::atomic<uint64_t> max_buffered_{0};
  std::atomic<uint64_t> trimmed_{0};

  Mutex house_mu_;
  CondVar house_cv_;  // signalled when house_stop_ or house_moved_ is set
  bool house_stop_ ABSL_GUARDED_BY(house_mu_) = false;
  bool house_moved_ ABSL_GUARDED_BY(house_mu_) = false;  // a clock that moves when told has moved
  uint64_t clock_watch_ = 0;                             // the Clock::Watch id
  std::thread house_;
  std::once_flag stop_once_;
};

}  // namespace grid::services
