// A fixed pool of threads with a bounded queue: blocking work (RocksDB reads,
// directory imports) runs here, never on gRPC callback threads. A full queue
// refuses the task (TrySubmit returns false) so the caller can answer
// RESOURCE_EXHAUSTED instead of growing memory.
//
// Thread-safety: all methods are thread-safe. The destructor drains nothing:
// it runs the tasks already queued, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace grid::services {

class BoundedExecutor {
 public:
  BoundedExecutor(size_t threads, size_t capacity);
  ~BoundedExecutor();

  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // False when the queue is full or the executor is stopping.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);
  // Runs every queued task, then joins the threads. Idempotent.
  void Stop();

 private:
  void Run();

  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace grid::services
