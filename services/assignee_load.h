// Open cases per member, for the router's least-load assignment.
//
// Seeded at start from the store's open-cases-per-member index and raised or lowered
// by the case writer after each durable commit. Reads may be a commit behind,
// which only makes assignment a little less even, never wrong.
//
// Thread-safety: all methods are thread-safe (one mutex).
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "port/mutex.h"

namespace grid::services {

class AssigneeLoad {
 public:
  void Reset(std::unordered_map<std::string, uint32_t> counts) {
    MutexLock lock(&mu_);
    counts_ = std::move(counts);
  }
  uint32_t Get(std::string_view member_id) const {
    MutexLock lock(&mu_);
    auto it = counts_.find(std::string(member_id));
    return it == counts_.end() ? 0 : it->second;
  }
  void Add(const std::string& member_id) {
    MutexLock lock(&mu_);
    ++counts_[member_id];
  }
  void Remove(const std::string& member_id) {
    MutexLock lock(&mu_);
    auto it = counts_.find(member_id);
    if (it != counts_.end() && it->second > 0 && --it->second == 0) counts_.erase(it);
  }

 private:
  mutable Mutex mu_;
  std::unordered_map<std::string, uint32_t> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grid::services
