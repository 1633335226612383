// Collects what an EtcdWatch delivers, for the test's thread to wait on:
// its events in order and how it ended. Each wait is bounded by kWatchWait.
//
// Thread-safety: the callbacks run on the watch's thread, the waits on the
// test's; one mutex guards both. A WatchLog must outlive its watch.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <vector>

#include "cluster/etcd_client.h"
#include "port/mutex.h"

namespace grid::testing {

inline constexpr auto kWatchWait = std::chrono::seconds(10);

class WatchLog {
 public:
  std::function<void(const cluster::WatchBatch&)> OnEvents() {
    return [this](const cluster::WatchBatch& batch) {
      MutexLock lock(&mu_);
      for (const cluster::WatchEvent& e : batch.events) {
        EXPECT_LE(e.kv.mod_revision, batch.revision);
        events_.push_back(e);
      }
      cv_.SignalAll();
    };
  }
  std::function<void(const Status&)> OnEnd() {
    return [this](const Status& status) {
      MutexLock lock(&mu_);
      EXPECT_FALSE(ended_) << "on_end ran twice";
      ended_ = true;
      end_ = status;
      cv_.SignalAll();
    };
  }
  // Waits until `n` events came (or the watch ended, or kWatchWait passed).
  std::vector<cluster::WatchEvent> WaitEvents(size_t n) {
    MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() + kWatchWait;
    while (events_.size() < n && !ended_ && cv_.WaitUntil(&mu_, deadline) == std::cv_status::no_timeout) {
    }
    return events_;
  }
  bool Ended() {
    MutexLock lock(&mu_);
    return ended_;
  }
  // Waits until the watch ended; its status (OK when it did not within kWatchWait).
  Status WaitEnd() {
    MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() + kWatchWait;
    while (!ended_ && cv_.WaitUntil(&mu_, deadline) == std::cv_status::no_timeout) {
    }
    return end_;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::vector<cluster::WatchEvent> events_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  Status end_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grid::testing
