// The one place where domain errors become gRPC statuses.
//
// grid::Status codes mirror gRPC's one to one. The machine-readable reason
// goes into the trailing metadata key "grid-reason" and heads the message
// ("REASON: description"), so both generic tools and scripts can read it.
//
// Thread-safety: pure functions; SetReason must be called before Finish.
#pragma once

#include <grpcpp/grpcpp.h>

#include "engine/status.h"

namespace grid::services {

inline constexpr const char* kReasonMetadataKey = "grid-reason";

grpc::Status ToGrpc(const Status& status);

// Converts `status` and, when it is an error, adds its reason to the call's
// trailing metadata.
grpc::Status Fail(grpc::CallbackServerContext* context, const Status& status);

}  // namespace grid::services
