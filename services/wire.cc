// Explaining request parsing: see wire.h.
#include "services/wire.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

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

Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message) {
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
