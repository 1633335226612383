// Request parsing that explains itself. gRPC answers a request it cannot
// parse with a bare status and no reason; for client-facing methods we take
// the raw bytes and parse them here, so that, for example, a description with
// invalid UTF-8 gets INVALID_ARGUMENT / INVALID_UTF8 naming the field.
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include <string>
#include <string_view>

#include "engine/status.h"

namespace grid::services {

// The largest request of this message type (full name) a method accepts:
// smaller than gRPC's global limit for the client-facing requests.
size_t MaxRequestBytes(std::string_view type_name);

// Parses `buffer` into `message`. Errors (INVALID_ARGUMENT): INVALID_UTF8
// (the message names the field path, e.g. "citizen.name"), found before
// protobuf parses (so it logs nothing), MALFORMED_REQUEST, MESSAGE_TOO_LARGE
// beyond MaxRequestBytes (checked before parsing).
Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message);
// The same over bytes in hand (the fuzz harnesses call it).
Status ParseRequestBytes(std::string_view bytes, google::protobuf::Message* message);

// Serialises `message` into `buffer`.
void SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* buffer);

// Appends a base-128 varint.
void AppendVarint(std::string* out, uint64_t v);

// Appends field `field` with wire type LEN holding `bytes` (a serialised
// message spliced into a response being built by hand).
void AppendLengthDelimited(std::string* out, uint32_t field, std::string_view bytes);

// Calls fn(field, wire_type, value, bytes) for each top-level field of a
// serialised message without parsing it: `value` is a VARINT field's value,
// `bytes` a LEN field's contents; fixed-width fields come with neither. False
// when the bytes are not well-formed at the top level (groups included).
template <typename Fn>
bool ForEachField(std::string_view message, Fn fn) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(message.data()),
                                            static_cast<int>(message.size()));
  while (uint32_t tag = in.ReadTag()) {
    const uint32_t field = tag >> 3, type = tag & 7;
    uint64_t value = 0;
    uint32_t len = 0;
    switch (type) {
      case 0:
        if (!in.ReadVarint64(&value)) return false;
        fn(field, type, value, std::string_view());
        break;
      case 1:
        if (!in.Skip(8)) return false;
        break;
      case 2: {
        if (!in.ReadVarint32(&len)) return false;
        const auto at = static_cast<size_t>(in.CurrentPosition());
        if (len > message.size() - at || !in.Skip(static_cast<int>(len))) return false;
        fn(field, type, value, message.substr(at, len));
        break;
      }
      case 5:
        if (!in.Skip(4)) return false;
        break;
      default: return false;
    }
  }
  return in.ConsumedEntireMessage() && in.CurrentPosition() == static_cast<int>(message.size());
}

// Reads the unit a serialised grid::v1::Case is filed under, as
// storage::IndexedUnit does (unit_code, else routing.unit_code), skipping
// everything else unparsed. False when the top-level fields are not
// well-formed.
bool PeekCaseUnit(std::string_view bytes, std::string* unit);

}  // namespace grid::services
