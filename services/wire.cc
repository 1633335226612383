// Explaining request parsing: see wire.h.
#include "services/wire.h"

#include <google/protobuf/descriptor.h>

#include <limits>
#include <utility>
#include <vector>

#include "engine/reasons.h"
#include "engine/text.h"

namespace grid::services {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The path of the first string field holding invalid UTF-8, or "", reading
// the bytes in place (no allocation): checked before protobuf parses, which
// would log an ERROR line for every such request a client sends.
std::string FindInvalidUtf8(std::string_view bytes, const Descriptor* d, const std::string& prefix, int depth) {
  if (depth > 32) return "";  // deeper than any of our messages: protobuf's parse answers
  std::string found;
  ForEachField(bytes, [&](uint32_t number, uint32_t type, uint64_t, std::string_view value) {
    if (!found.empty() || type != 2) return;
    const FieldDescriptor* fd = d->FindFieldByNumber(static_cast<int>(number));
    if (fd == nullptr) return;
    if (fd->type() == FieldDescriptor::TYPE_STRING && !text::IsValidUtf8(value)) {
      found = prefix + fd->name();
    } else if (fd->type() == FieldDescriptor::TYPE_MESSAGE) {
      found = FindInvalidUtf8(value, fd->message_type(), prefix + fd->name() + ".", depth + 1);
    }
  });
  return found;
}

}  // namespace

Status ParseRequestBytes(std::string_view bytes, google::protobuf::Message* message) {
  std::string path = FindInvalidUtf8(bytes, message->GetDescriptor(), "", 0);
  if (!path.empty()) return Error(reason::INVALID_UTF8, path + " is not valid UTF-8");
  if (message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return Status::Ok();
  message->Clear();
  return Error(reason::MALFORMED_REQUEST, "the request is not a valid " + message->GetTypeName());
}

size_t MaxRequestBytes(std::string_view type_name) {
  // Each limit is far above what a valid request of the type holds (a case's
  // description is 4,000 characters, ten attachment URLs); gRPC's own limit
  // (ServerConfig::max_receive_bytes) alone bounds directory chunks and
  // units, which carry boundaries.
  static constexpr std::pair<std::string_view, size_t> kLimits[] = {
      {"grid.v1.SubmitCaseRequest", 256 << 10},
      {"grid.v1.ListCasesRequest", 16 << 10},
      {"grid.v1.WatchRequest", 4 << 10},
      {"grid.v1.ImportChunk", std::numeric_limits<size_t>::max()},
      {"grid.v1.UpsertUnitRequest", std::numeric_limits<size_t>::max()},
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
  return ParseRequestBytes(bytes, message);
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
