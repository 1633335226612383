// The case writer: one thread that makes every change to cases durable, many
// at a time. New cases (SubmitCase), lifecycle commands (CaseWork) and fired
// deadlines all pass through it.
//
// Work queues up (bounded; a full queue answers RESOURCE_EXHAUSTED). The
// writer takes everything queued (up to max_batch) and, in order:
//   - a submission: resolves idempotency (against storage and the batch),
//     assigns a case id, builds the case and starts its clocks;
//   - a command: reads the case (or its newer state within the batch),
//     applies the state machine (engine/lifecycle.h), which checks the
//     expected version, the role and the state;
// then writes every changed case, its events, its index entries (with the
// due-time index) and one feed entry per event in one synced WriteBatch, and
// only then completes each item. Group commit makes one fsync serve many
// callers; a single writer makes idempotency, versions, the id sequence and
// the feed's cursor order race-free without locks on cases.
//
// Callbacks run in commit order on a completion thread, so that the writer
// goes on with the next batch while they answer; when nothing is queued and
// the completion thread is idle, the writer runs them itself, which spares a
// lone caller one thread hand-off (the writer would only wait).
//
// Thread-safety: Submit and Execute are thread-safe; callbacks must not block
// and must not call Stop.
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <variant>
#include <vector>

#include "engine/case_id.h"
#include "engine/clock.h"
#include "engine/directory.h"
#include "engine/intake.h"
#include "engine/lifecycle.h"
#include "engine/status.h"
#include "grid/v1/service.pb.h"
#include "port/mutex.h"
#include "services/assignee_load.h"
#include "storage/store.h"

namespace grid::services {

class CaseWriter {
 public:
  using Done = std::function<void(StatusOr<grid::v1::Case>)>;

  struct Submission {
    grid::v1::SubmitCaseRequest request;
    Actor actor;
    grid::v1::RoutingDecision routing;
    Done done;
  };

  struct CommandResult {
    grid::v1::Case after;
    std::vector<grid::v1::CaseEvent> events;
  };
  using CommandDone = std::function<void(StatusOr<CommandResult>)>;

  struct Command {
    grid::v1::CaseCommand command;
    WorkActor actor;
    CommandDone done;
  };

  // Called after each commit, before its callbacks, with the feed entries
  // it appended (in cursor order).
  using FeedListener = std::function<void(const std::vector<grid::v1::FeedEntry>&)>;
  // Called after each commit with the earliest timer it added, if any.
  using DueListener = std::function<void(Micros)>;
  // Called on the writer's thread with the number of items of each batch it
  // takes, before processing it (for /metrics; must not block).
  using BatchListener = std::function<void(size_t items)>;

  struct Options {
    size_t queue_capacity = 8192;
    size_t max_batch = 512;
    // Fired deadlines wait in their own queue and take at most this many
    // places of a batch while callers are waiting, so that a burst of
    // deadlines never queues ahead of intake (and fill the batch otherwise).
    size_t max_timer_share = 64;
  };

  // REQUIRES: every pointer outlives the writer (load may be null). Reads
  // the highest stored case id and feed cursor.
  static StatusOr<std::unique_ptr<CaseWriter>> Start(storage::Store* store, const Clock* clock,
                                                     const DirectoryHandle* directory, const Lifecycle* lifecycle,
                                                     AssigneeLoad* load, Options options);
  ~CaseWriter();

  // Set before any work is queued.
  void set_feed_listener(FeedListener l) { feed_listener_ = std::move(l); }
  void set_due_listener(DueListener l) { due_listener_ = std::move(l); }
  void set_batch_listener(BatchListener l) { batch_listener_ = std::move(l); }

  // False when the queue is full or the writer is stopping; the callback is
  // then not called.
  [[nodiscard]] bool Submit(Submission&& s) ABSL_LOCKS_EXCLUDED(mu_);
  [[nodiscard]] bool Execute(Command&& c) ABSL_LOCKS_EXCLUDED(mu_);
  // Queued items right now (for back-pressure decisions).
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);
  // Completes everything queued, then stops the threads. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_, done_mu_);

 private:
  using Item = std::variant<Submission, Command>;

  CaseWriter(storage::Store* store, const Clock* clock, const DirectoryHandle* directory, const Lifecycle* lifecycle,
             AssigneeLoad* load, Options options, uint64_t last_id, uint64_t last_cursor);
  [[nodiscard]] bool Enqueue(Item&& item) ABSL_LOCKS_EXCLUDED(mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  void Process(std::deque<Item>& batch) ABSL_LOCKS_EXCLUDED(mu_, done_mu_);
  void RunCompletions() ABSL_LOCKS_EXCLUDED(done_mu_);

  storage::Store* const store_;
  const Clock* const clock_;
  const DirectoryHandle* const directory_;
  const Lifecycle* const lifecycle_;
  AssigneeLoad* const load_;
  const Options options_;
  CaseIdGenerator ids_;  // writer thread only
  uint64_t cursor_ = 0;  // writer thread only: the last feed cursor committed
  FeedListener feed_listener_;
  DueListener due_listener_;
  BatchListener batch_listener_;

  mutable Mutex mu_;
  CondVar cv_;                                         // signalled when work is queued or stopping_ is set
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);        // callers' work
  std::deque<Item> timer_queue_ ABSL_GUARDED_BY(mu_);  // fired deadlines
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;

  // Completed batches waiting for the completion thread. Bounded in effect:
  // the writer adds at most one batch per commit, and completing a batch is
  // much faster than an fsync.
  Mutex done_mu_;
  CondVar done_cv_;  // signalled when a batch is queued or writer_finished_ is set
  std::deque<std::vector<std::function<void()>>> done_queue_ ABSL_GUARDED_BY(done_mu_);
  bool writer_finished_ ABSL_GUARDED_BY(done_mu_) = false;
  bool completing_ ABSL_GUARDED_BY(done_mu_) = false;  // the completion thread runs a batch
  std::thread completion_thread_;
};

}  // namespace grid::services
