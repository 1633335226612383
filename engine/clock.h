// Clock: the only way the engine learns the time. The engine never reads the
// wall clock itself; callers pass a Clock (or a time value) in. Tests use
// FakeClock, the server uses SystemClock (services/).
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace grid {

// Microseconds since the Unix epoch, UTC.
using Micros = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros NowMicros() const = 0;
};

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Micros start) : now_(start) {}
  Micros NowMicros() const override { return now_.load(std::memory_order_relaxed); }
  void Advance(Micros delta) { now_.fetch_add(delta, std::memory_order_relaxed); }
  void Set(Micros t) { now_.store(t, std::memory_order_relaxed); }

 private:
  std::atomic<Micros> now_;
};

}  // namespace grid
