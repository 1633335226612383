// Request parsing that explains itself. gRPC answers a request it cannot
// parse with a bare status and no reason; for client-facing methods we take
// the raw bytes and parse them here, so that, for example, a description with
// invalid UTF-8 gets INVALID_ARGUMENT / INVALID_UTF8 naming the field.
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include "engine/status.h"

namespace grid::services {

// Parses `buffer` into `message`. Errors (INVALID_ARGUMENT): INVALID_UTF8
// (the message names the field path, e.g. "citizen.name"), MALFORMED_REQUEST.
Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message);

// Serialises `message` into `buffer`.
void SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* buffer);

}  // namespace grid::services
