// The one place where domain errors become gRPC statuses.
//
// grid::Status codes mirror gRPC's one to one. The machine-readable reason
// (engine/reasons.h) goes into the trailing metadata key "grid-reason" and
// heads the message ("REASON: description"), so both generic tools and
// scripts can read it.
//
// Thread-safety: pure functions; Fail and Respond touch only the call they
// are given, and must run before that call finishes.
#pragma once

#include <grpcpp/grpcpp.h>

#include "engine/status.h"

namespace grid::services {

inline constexpr const char* kReasonMetadataKey = "grid-reason";
// With refusals that clear by themselves (RATE_LIMITED, ...): milliseconds
// to wait before retrying (Status::retry_after_ms).
inline constexpr const char* kRetryAfterMetadataKey = "retry-after-ms";

// The message is "REASON: description" with every echoed value capped at 100
// characters and the whole at 1 KiB, marked where cut (text::CapEchoes).
grpc::Status ToGrpc(const Status& status);

// Converts `status` and, when it is an error, adds its reason to the call's
// trailing metadata.
grpc::Status Fail(grpc::CallbackServerContext* context, const Status& status);

// Finishes a unary call at once with `status` (OK or an error, see Fail) and
// returns the call's reactor, for a handler to return.
grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context, const Status& status);

// RESOURCE_EXHAUSTED QUEUE_FULL: a bounded queue (the case writer's, the read
// executor's) refused the work. The same answer from every service.
const Status& QueueFull();

}  // namespace grid::services
