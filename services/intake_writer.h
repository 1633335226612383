// The intake writer: one thread that turns routed submissions into durable
// cases, many at a time.
//
// Submissions queue up (bounded; a full queue answers RESOURCE_EXHAUSTED).
// The writer takes everything queued (up to max_batch), resolves idempotency
// for each (against storage and against the batch itself), assigns case ids,
// writes all new cases in one synced WriteBatch, and only then completes each
// submission. Group commit makes one fsync serve many callers; a single
// writer makes the idempotency check and the id sequence race-free.
//
// Thread-safety: Submit is thread-safe; callbacks run on the writer thread
// and must not block.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/case_id.h"
#include "engine/clock.h"
#include "engine/intake.h"
#include "engine/status.h"
#include "grid/v1/service.pb.h"
#include "services/assignee_load.h"
#include "storage/store.h"

namespace grid::services {

class IntakeWriter {
 public:
  using Done = std::function<void(StatusOr<grid::v1::Case>)>;

  struct Submission {
    grid::v1::SubmitCaseRequest request;
    Actor actor;
    grid::v1::RoutingDecision routing;
    Done done;
  };

  // REQUIRES: store and load outlive the writer (load may be null). Reads
  // the highest stored case id.
  static StatusOr<std::unique_ptr<IntakeWriter>> Start(storage::Store* store, const Clock* clock,
                                                       AssigneeLoad* load, size_t queue_capacity, size_t max_batch);
  ~IntakeWriter();

  // False when the queue is full or the writer is stopping; `s.done` is then
  // not called.
  [[nodiscard]] bool Submit(Submission&& s);
  // Completes everything queued, then stops the thread. Idempotent.
  void Stop();

 private:
  IntakeWriter(storage::Store* store, const Clock* clock, AssigneeLoad* load, size_t capacity, size_t max_batch,
               uint64_t last_id);
  void Run();
  void Process(std::deque<Submission>& batch);
  void RunCompletions();

  storage::Store* const store_;
  const Clock* const clock_;
  AssigneeLoad* const load_;
  const size_t capacity_;
  const size_t max_batch_;
  CaseIdGenerator ids_;  // used by the writer thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Submission> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;         // GUARDED_BY(mu_)
  std::thread thread_;

  // Completed batches waiting for the completion thread. Bounded in effect:
  // the writer adds at most one batch per commit, and completing a batch is
  // much faster than an fsync.
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<std::vector<std::function<void()>>> done_queue_;  // GUARDED_BY(done_mu_)
  bool writer_finished_ = false;                                // GUARDED_BY(done_mu_)
  std::thread completion_thread_;
};

}  // namespace grid::services
