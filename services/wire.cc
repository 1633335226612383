// Explaining request parsing: see wire.h.
#include "services/wire.h"

#include <google/protobuf/descriptor.h>
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
