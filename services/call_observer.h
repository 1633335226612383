// The call observer: a gRPC server interceptor that sees every call end,
// counts it (Metrics: by method, code and reason; its duration) and writes
// its access log line (Log), and CallNotes, through which handlers tell it
// what only they know: the caller and the case.
//
// A note lives from the call's start (the interceptor's creation) to its
// status: Begin makes it, handlers fill it (NoteCaller from Admit/Identify in
// service_deps.h, NoteCase where a request or its answer names a case), and
// the interceptor takes it at PRE_SEND_STATUS (or at its end, for a call that
// ends without a status). A note for a call that has none is dropped, so a
// late note never outlives its call. Notes stay in this process: nothing of
// them goes to the client.
//
// The access log line (docs/observability.md): rpc, code, reason, caller,
// role, case_id, latency_ms, peer. It never holds the request's content:
// no citizen data (names, phones, addresses, descriptions, locations).
//
// Thread-safety: CallNotes is sharded, one mutex per shard, held for a map
// update only; the interceptor runs on whichever thread finishes the call.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <memory>
#include <string>
#include <unordered_map>

#include "port/mutex.h"
#include "services/logging.h"
#include "services/metrics.h"

namespace grid::services {

struct CallNote {
  std::string caller;  // the principal's id (a token's name or caller id; never a secret)
  std::string role;
  std::string case_id;
};

class CallNotes {
 public:
  using Key = const grpc::ServerContextBase*;

  void Begin(Key call);
  // No-ops for a call that has no note (not begun, or already ended).
  void NoteCaller(Key call, std::string_view caller, std::string_view role);
  void NoteCase(Key call, std::string_view case_id);
  // The note, removed; empty when there was none.
  CallNote End(Key call);

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxCaseId = 32;
  struct Shard {
    Mutex mu;
    std::unordered_map<Key, CallNote> notes ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(Key call) { return shards_[(reinterpret_cast<uintptr_t>(call) >> 4) % kShards]; }
  std::array<Shard, kShards> shards_;
};

// Makes one observer per call. REQUIRES: notes outlive the server; metrics
// and log may be null (nothing counted, nothing logged).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeCallObserverFactory(
    CallNotes* notes, Metrics* metrics, std::shared_ptr<Log> log);

}  // namespace grid::services
