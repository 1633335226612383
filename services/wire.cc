// Explaining request parsing: see wire.h.
#include "services/wire.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>

#include <vector>

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
  if (!buffer.Dump(&slices).ok()) return InvalidArgument("MALFORMED_REQUEST", "the request could not be read");
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (message->ParseFromString(bytes)) return Status::Ok();
  UnknownFieldSet fields;
  if (fields.ParseFromString(bytes)) {
    std::string path = FindInvalidUtf8(fields, message->GetDescriptor(), "");
    if (!path.empty()) return InvalidArgument("INVALID_UTF8", path + " is not valid UTF-8");
  }
  return InvalidArgument("MALFORMED_REQUEST", "the request is not a valid " + message->GetTypeName());
}

void SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* buffer) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  *buffer = grpc::ByteBuffer(&slice, 1);
}

}  // namespace grid::services

namespace grid::services {
namespace {

using google::protobuf::io::CodedInputStream;

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Calls fn(field, bytes) for each length-delimited top-level field and skips
// the others. False when the bytes are not well-formed at the top level.
template <typename Fn>
bool ForEachLengthDelimited(std::string_view bytes, Fn fn) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  while (uint32_t tag = in.ReadTag()) {
    uint64_t v = 0;
    uint32_t len = 0;
    switch (tag & 7) {
      case 0:
        if (!in.ReadVarint64(&v)) return false;
        break;
      case 1:
        if (!in.Skip(8)) return false;
        break;
      case 2: {
        if (!in.ReadVarint32(&len)) return false;
        const int at = in.CurrentPosition();
        if (len > bytes.size() - static_cast<size_t>(at) || !in.Skip(static_cast<int>(len))) return false;
        fn(tag >> 3, bytes.substr(static_cast<size_t>(at), len));
        break;
      }
      case 5:
        if (!in.Skip(4)) return false;
        break;
      default:
        return false;
    }
  }
  return in.ConsumedEntireMessage() && in.CurrentPosition() == static_cast<int>(bytes.size());
}

constexpr uint32_t kCaseRouting = 14;    // Case.routing
constexpr uint32_t kCaseUnitCode = 18;   // Case.unit_code
constexpr uint32_t kRoutingUnitCode = 1;  // RoutingDecision.unit_code

}  // namespace

void AppendLengthDelimited(std::string* out, uint32_t field, std::string_view bytes) {
  AppendVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  AppendVarint(out, bytes.size());
  out->append(bytes);
}

bool PeekCaseUnit(std::string_view bytes, std::string* unit) {
  std::string_view unit_code, routing_unit;
  bool ok = true;
  if (!ForEachLengthDelimited(bytes, [&](uint32_t field, std::string_view value) {
        if (field == kCaseUnitCode) unit_code = value;
        if (field == kCaseRouting) {
          ok = ForEachLengthDelimited(value, [&](uint32_t inner, std::string_view v) {
                 if (inner == kRoutingUnitCode) routing_unit = v;
               }) && ok;
        }
      })) {
    return false;
  }
  if (!ok) return false;
  unit->assign(unit_code.empty() ? routing_unit : unit_code);
  return true;
}

}  // namespace grid::services
