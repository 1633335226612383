// The soak's open-loop traffic: submissions at a fixed rate, whatever gridd
// answers (a rate limiter, not a closed loop of callers), each with its own
// idempotency key; then each acknowledged case's case-work steps (accept,
// start work, note, escalate, resolve, call back, close: the crash test's
// plans, tools/crashtest/plan.h), each sent at its own scheduled moment a few
// seconds after the previous one was acknowledged. Some cases are never
// accepted or never resolved, so that their deadlines fire; with `settle_s`,
// each case its plan leaves open is cancelled that long after it was
// submitted (as a supervisor clears what is long overdue), so that the
// number of open cases levels off as it does at a real hotline, instead of
// growing for as long as the run lasts.
//
// Every call goes out through gRPC's callback API from one dispatcher thread;
// the completions run on gRPC's threads. A call's latency runs from the
// moment it was due (not from when it went out), so a dispatcher or a client
// that falls behind shows in the figures instead of hiding (no coordinated
// omission). Calls beyond `max_in_flight` are not sent and counted as dropped.
//
// Thread-safety: every method may be called from any thread; Start and
// StopSending once each, from one controlling thread.
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "port/mutex.h"
#include "tools/crashtest/plan.h"

namespace grid::soak {

struct TrafficOptions {
  double rate = 100;  // submissions per second
  uint64_t seed = 1;
  std::string key_prefix;  // unique per run
  double step_min_s = 1;   // delay before each case-work step, drawn per step
  double step_max_s = 10;
  size_t max_in_flight = 20000;
  std::chrono::seconds call_timeout{30};
  double settle_s = 0;  // cancel what the plan leaves open this long after submission (0: never)
};

// What happened in one interval (or the whole run), by completion time.
struct TrafficFigures {
  uint64_t submitted = 0;  // submissions sent
  uint64_t acknowledged = 0;
  uint64_t work_sent = 0;
  uint64_t work_ok = 0;
  uint64_t dropped = 0;                    // due but not sent: max_in_flight reached
  std::map<std::string, uint64_t> errors;  // "<code> <reason>" -> count
  std::map<std::string, uint64_t> work_ok_by_op;
  std::vector<int64_t> submit_ns;  // acknowledged submissions: due -> answer
  std::vector<int64_t> work_ns;    // acknowledged case-work calls: due -> answer

  uint64_t error_count() const;
};

class Traffic {
 public:
  // Calls go out round-robin over `channels`.
  Traffic(std::vector<std::shared_ptr<grpc::Channel>> channels, TrafficOptions options);
  ~Traffic();
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;

  void Start();
  // No call is sent after this; scheduled steps are dropped (not counted).
  void StopSending() ABSL_LOCKS_EXCLUDED(mu_);
  // True once every call sent has been answered; false at `deadline`.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline) ABSL_LOCKS_EXCLUDED(mu_);

  // The figures since the last call (latencies included), and clears them.
  TrafficFigures TakeInterval() ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t in_flight() const { return in_flight_; }

 private:
  struct CaseState;
  struct Step {
    std::chrono::steady_clock::time_point due;
    uint64_t order;  // ties: first scheduled, first sent
    std::shared_ptr<CaseState> state;
    bool operator>(const Step& o) const { return due != o.due ? due > o.due : order > o.order; }
  };

  void Dispatch() ABSL_LOCKS_EXCLUDED(mu_);
  void SendSubmit(uint64_t n, std::chrono::steady_clock::time_point due) ABSL_LOCKS_EXCLUDED(mu_);
  void SendStep(Step step) ABSL_LOCKS_EXCLUDED(mu_);
  void ScheduleNext(std::shared_ptr<CaseState> state, std::chrono::steady_clock::time_point from)
      ABSL_LOCKS_EXCLUDED(mu_);
  // After the plan's last step (or at submission, for an empty plan): the
  // cancel at submission + settle_s, when the plan left the case open.
  void ScheduleSettle(std::shared_ptr<CaseState> state, std::chrono::steady_clock::time_point now)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Schedule(std::shared_ptr<CaseState> state, std::chrono::steady_clock::time_point due) ABSL_LOCKS_EXCLUDED(mu_);
  void Finished() ABSL_LOCKS_EXCLUDED(mu_);  // one call answered
  size_t NextChannel();                      // an index into the stubs

  std::vector<std::unique_ptr<grid::v1::CaseIntake::Stub>> intake_;  // one per channel
  std::vector<std::unique_ptr<grid::v1::CaseWork::Stub>> work_;
  const TrafficOptions options_;
  std::atomic<uint64_t> next_channel_{0};
  std::atomic<uint64_t> in_flight_{0};
  std::thread dispatcher_;

  grid::Mutex mu_;
  grid::CondVar changed_;  // stop_ set, a step scheduled, or in_flight_ reached 0
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t step_order_ ABSL_GUARDED_BY(mu_) = 0;
  std::priority_queue<Step, std::vector<Step>, std::greater<>> steps_ ABSL_GUARDED_BY(mu_);
  TrafficFigures current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grid::soak
