// Explaining request parsing: see wire.h.
#include "services/wire.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <limits>
#include <utility>
#include <vector>

#include "engine/reasons.h"
#include "engine/text.h"

namespace grid::services {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// The path of the first string field holding invalid UTF-8, or "".
std::string FindInvalidUtf8(const UnknownFieldSet& fields, const Descriptor* d, const std::string& prefix) {
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const FieldDescriptor* fd = d->FindFieldByNumber(f.number());
    if (fd == nullptr) continue;
    const std::string path = prefix + fd->name();
    if (fd->type() == FieldDescriptor::TYPE_STRING && !text::IsValidUtf8(f.length_delimited())) return path;
    if (fd->type() == FieldDescriptor::TYPE_MESSAGE) {
      UnknownFieldSet inner;
      if (inner.ParseFromString(f.length_delimited())) {
        std::string found = FindInvalidUtf8(inner, fd->message_type(), path + ".");
        if (!found.empty()) return found;
      }
    }
  }
  return "";
}

}  // namespace

size_t MaxRequestBytes(std::string_view type_name) {
  // Each limit is far above what a valid request of the type holds (a case's
  // description is 4,000 characters, ten attachment URLs); gRPC's own limit
  // (ServerConfig::max_receive_bytes) bounds the methods that do not parse
  // here (directory imports, the typed ones).
  static constexpr std::pair<std::string_view, size_t> kLimits[] = {
      {"grid.v1.SubmitCaseRequest", 256 << 10},
      {"grid.v1.ListCasesRequest", 16 << 10},
      {"grid.v1.WatchRequest", 4 << 10},
  };
  for (const auto& [name, limit] : kLimits) {
    if (name == type_name) return limit;
  }
  return 64 << 10;  // CaseWork's actions
}

Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message) {
  if (const size_t limit = MaxRequestBytes(message->GetDescriptor()->full_name()); buffer.Length() > limit) {
    return Error(reason::MESSAGE_TOO_LARGE, "a " + message->GetTypeName() + " is at most " + std::to_string(limit) +
                                                " bytes, not " + std::to_string(buffer.Length()));
  }
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return Error(reason::MALFORMED_REQUEST, "the request could not be read");
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (message->ParseFromString(bytes)) return Status::Ok();
  UnknownFieldSet fields;
  if (fields.ParseFromString(bytes)) {
    std::string path = FindInvalidUtf8(fields, message->GetDescriptor(), "");
    if (!path.empty()) return Error(reason::INVALID_UTF8, path + " is not valid UTF-8");
  }
  return Error(reason::MALFORMED_REQUEST, "the request is not a valid " + message->GetTypeName());
}

void SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* buffer) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  *buffer = grpc::ByteBuffer(&slice, 1);
}

}  // namespace grid::services

namespace grid::services {
namespace {

constexpr uint32_t kCaseRouting = 14;     // Case.routing
constexpr uint32_t kCaseUnitCode = 18;    // Case.unit_code
constexpr uint32_t kRoutingUnitCode = 1;  // RoutingDecision.unit_code
constexpr uint32_t kLen = 2;              // wire type LEN

}  // namespace

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void AppendLengthDelimited(std::string* out, uint32_t field, std::string_view bytes) {
  AppendVarint(out, (static_cast<uint64_t>(field) << 3) | kLen);
  AppendVarint(out, bytes.size());
  out->append(bytes);
}

bool PeekCaseUnit(std::string_view bytes, std::string* unit) {
  std::string_view unit_code, routing_unit;
  bool ok = true;
  const bool well_formed = ForEachField(bytes, [&](uint32_t field, uint32_t type, uint64_t, std::string_view value) {
    if (type != kLen) return;
    if (field == kCaseUnitCode) unit_code = value;
    if (field == kCaseRouting) {
      ok = ForEachField(value,
                        [&](uint32_t inner, uint32_t inner_type, uint64_t, std::string_view v) {
                          if (inner == kRoutingUnitCode && inner_type == kLen) routing_unit = v;
                        }) &&
           ok;
    }
  });
  if (!well_formed || !ok) return false;
  unit->assign(unit_code.empty() ? routing_unit : unit_code);
  return true;
}

}  // namespace grid::services
