// A fixed pool of threads with a bounded queue: blocking work (RocksDB reads,
// directory imports) runs here, never on gRPC callback threads. A full queue
// refuses the task (TrySubmit returns false) so the caller can answer
// RESOURCE_EXHAUSTED instead of growing memory.
//
// Thread-safety: all methods are thread-safe. The destructor drains nothing:
// it runs the tasks already queued, then joins.
#pragma once

#include <absl/base/thread_annotations.h>

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "port/mutex.h"

namespace grid::services {

class BoundedExecutor {
 public:
  BoundedExecutor(size_t threads, size_t capacity);
  ~BoundedExecutor();

  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // False when the queue is full or the executor is stopping.
  [[nodiscard]] bool TrySubmit(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs every queued task, then joins the threads. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const size_t capacity_;
  Mutex mu_;
  CondVar cv_;  // signalled when queue_ or stopping_ changes
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace grid::services
