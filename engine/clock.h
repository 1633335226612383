// Clock: the only way the engine and the services learn the time. The engine
// never reads the wall clock itself; callers pass a Clock (or a time value)
// in. Tests use FakeClock, the server uses SystemClock (services/).
//
// Timers kept in a Clock's time (the feed's heartbeats and retention, the
// deadline scheduler) ask MovesByItself(): a clock that moves by itself is
// waited for in real time, capped so that a jump is noticed; a clock that
// moves only when told (FakeClock) is not waited for at all: the timer
// Watch()es it and looks again after each move, so a test that advances the
// clock fires what fell due without sleeping.
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>

#include "port/mutex.h"

namespace grid {

// Microseconds since the Unix epoch, UTC.
using Micros = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros NowMicros() const = 0;

  // True for a clock that moves with real time (the default): a timer sleeps
  // for its distance to the due time. False for a clock that moves only when
  // told, which calls its watchers after each move instead.
  virtual bool MovesByItself() const { return true; }
  // Calls `on_move` after every move of a clock that does not move by
  // itself, on the thread that moved it; `on_move` must not block or call
  // the clock. Returns the id Unwatch takes (0, and nothing is called, for a
  // clock that moves by itself).
  virtual uint64_t Watch(std::function<void()> on_move) const {
    (void)on_move;
    return 0;
  }
  // After it returns, the watcher is not running and will not be called.
  virtual void Unwatch(uint64_t id) const { (void)id; }
};

// A clock that only moves when told to; each move wakes its watchers.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Micros start) : now_(start) {}
  Micros NowMicros() const override { return now_.load(std::memory_order_relaxed); }
  void Advance(Micros delta) {
    now_.fetch_add(delta, std::memory_order_relaxed);
    Moved();
  }
  void Set(Micros t) {
    now_.store(t, std::memory_order_relaxed);
    Moved();
  }

  bool MovesByItself() const override { return false; }
  uint64_t Watch(std::function<void()> on_move) const override {
    MutexLock lock(&mu_);
    watchers_.emplace(++last_id_, std::move(on_move));
    return last_id_;
  }
  void Unwatch(uint64_t id) const override {
    MutexLock lock(&mu_);
    watchers_.erase(id);
  }

 private:
  void Moved() {
    MutexLock lock(&mu_);  // held while calling: Unwatch waits for a running call
    for (const auto& [id, on_move] : watchers_) on_move();
  }

  std::atomic<Micros> now_;
  mutable Mutex mu_;
  mutable std::map<uint64_t, std::function<void()>> watchers_ ABSL_GUARDED_BY(mu_);
  mutable uint64_t last_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace grid
