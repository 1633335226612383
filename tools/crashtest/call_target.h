// Where the crash test's callers and subscribers send their calls: one gridd
// (GriddSupervisor) or any live replica of a shard (ReplicaSet). Load and
// Subscribers ask for a channel before every call and send a call that got
// no answer again, unchanged, on the next one they are given.
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace grid::crashtest {

struct Serving {
  // Changes when what serves changed (a gridd started, a replica was killed,
  // a new leader was elected): a call that failed on the last generation is
  // sent again at once, one that failed on this one after a pause.
  uint64_t generation = 0;
  std::shared_ptr<grpc::Channel> channel;
};

class CallTarget {
 public:
  virtual ~CallTarget() = default;

  // A gridd to send the next call to; blocks while none serves. `spread`
  // picks among several that serve (callers pass their index plus the tries
  // so far, so that they spread over them and a retry goes to another one).
  // nullopt once the target stopped or gave up.
  virtual std::optional<Serving> WaitServing(size_t spread) = 0;
};

}  // namespace grid::crashtest
