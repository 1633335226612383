// Deliberately wrong, never built: the thread_safety_selftest test passes only
// when clang's -Wthread-safety, with the flags the real check uses, rejects
// this file. It keeps that check from going quietly blind (a flag lost, an
// include path where the annotations expand to nothing).
#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

namespace {

class Counter {
 public:
  void Add() { ++n_; }  // without mu_: must be rejected

 private:
  absl::Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

void ThreadSafetyMustFail() { Counter().Add(); }
