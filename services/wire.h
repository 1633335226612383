// Request parsing that explains itself. gRPC answers a request it cannot
// parse with a bare status and no reason; for client-facing methods we take
// the raw bytes and parse them here, so that, for example, a description with
// invalid UTF-8 gets INVALID_ARGUMENT / INVALID_UTF8 naming the field.
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include <string>
#include <string_view>

#include "engine/status.h"

namespace grid::services {

// Parses `buffer` into `message`. Errors (INVALID_ARGUMENT): INVALID_UTF8
// (the message names the field path, e.g. "citizen.name"), MALFORMED_REQUEST.
Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message);

// Serialises `message` into `buffer`.
void SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* buffer);

// Appends field `field` with wire type LEN holding `bytes` (a serialised
// message spliced into a response being built by hand).
void AppendLengthDelimited(std::string* out, uint32_t field, std::string_view bytes);

// Reads the unit a serialised grid::v1::Case is filed under, as
// storage::IndexedUnit does (unit_code, else routing.unit_code), skipping
// everything else unparsed. False when the top-level fields are not
// well-formed.
bool PeekCaseUnit(std::string_view bytes, std::string* unit);

}  // namespace grid::services
