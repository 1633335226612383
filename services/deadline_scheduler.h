// Fires case deadlines: the due-time index in storage is the truth; one
// Boost.Asio timer, armed for the earliest entry, is the alarm clock.
//
// When the timer expires (or RunDueNow is called), every timer due at or
// before the clock's now is read from the index and handed to the case writer
// as a FireDeadline command, at most max_in_flight at a time, so that a burst
// of 100,000 deadlines interleaves with intake instead of queueing ahead of it.
// Firing is a transition like any other: it removes the timer's index entry
// in the same batch as the event it appends. So each deadline fires exactly
// once, also across restarts (clean or SIGKILL): one that fell due while the
// server was down is still in the index and fires at start.
//
// Time comes from the Clock: the Asio timer waits for the clock's distance to
// the next due (capped at max_wait, so a clock that jumps is noticed), and
// tests drive a FakeClock and call RunDueNow instead of sleeping.
//
// Thread-safety: Wake and RunDueNow are thread-safe; everything else runs on
// the scheduler's own thread.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

#include "engine/clock.h"
#include "services/case_writer.h"
#include "storage/store.h"

namespace grid::services {

class DeadlineScheduler {
 public:
  struct Options {
    size_t max_in_flight = 1024;   // fire commands queued at the writer at once
    Micros max_wait = 60'000'000;  // re-read the index at least this often
    Micros retry_after = 50'000;   // when the writer's queue was full
  };

  // REQUIRES: store, writer and clock outlive the scheduler.
  DeadlineScheduler(storage::Store* store, CaseWriter* writer, const Clock* clock, Options options);
  ~DeadlineScheduler();

  // Starts the thread and fires whatever is already due.
  void Start();
  // Stops the thread; timers not yet fired stay in the index. Idempotent.
  void Stop();

  // A timer at `due` was just written: re-arm if it is earlier than the one armed.
  void Wake(Micros due);

  // Fires everything due at the clock's now and returns once it is committed:
  // the number of deadlines fired. For tests and tools (with a FakeClock).
  size_t RunDueNow();

  uint64_t fired() const { return fired_.load(); }

 private:
  // On the scheduler's thread.
  size_t FireDue();
  void Arm();

  storage::Store* const store_;
  CaseWriter* const writer_;
  const Clock* const clock_;
  const Options options_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer timer_;
  Micros armed_for_ = 0;  // the due the timer is armed for (scheduler thread only)
  bool backoff_ = false;  // the last round could not fire everything: wait retry_after
  // Nothing in the index sorts before this key (scheduler thread only):
  // scans start here. Raised to the last entry fired (a whole key, since a
  // burst puts many timers at one instant); lowered by Wake when a timer is
  // written below it.
  storage::DueKey floor_;
  std::atomic<uint64_t> fired_{0};
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace grid::services
