// Splicing WatchResponses: see feed_wire.h.
#include "services/feed_wire.h"

#include <google/protobuf/io/coded_stream.h>

#include <cstring>

namespace grid::services {
namespace {

using google::protobuf::io::CodedInputStream;

// WatchResponse's wire form (service.proto): entries = 1, cursor = 2,
// caught_up = 3.
constexpr char kEntriesTag = (1 << 3) | 2;
constexpr char kCursorTag = (2 << 3) | 0;
constexpr char kCaughtUpTag = (3 << 3) | 0;
// FeedEntry's fields the replay filters on (case.proto).
constexpr uint32_t kUnitPathTag = (3 << 3) | 2;
constexpr uint32_t kEscalationTag = (4 << 3) | 0;

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace

void AppendFeedEntry(std::string* out, std::string_view entry) {
  out->push_back(kEntriesTag);
  AppendVarint(out, entry.size());
  out->append(entry);
}

void AppendFeedTail(std::string* out, uint64_t cursor, bool caught_up) {
  out->push_back(kCursorTag);
  AppendVarint(out, cursor);
  if (caught_up) {
    out->push_back(kCaughtUpTag);
    out->push_back(1);
  }
}

bool PeekFeedEntry(std::string_view bytes, const std::string& scope, bool* escalation, bool* in_scope) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  *escalation = false;
  *in_scope = scope.empty();
  while (uint32_t tag = in.ReadTag()) {
    if (tag == kUnitPathTag) {
      uint32_t len = 0;
      const void* data = nullptr;
      int avail = 0;
      if (!in.ReadVarint32(&len)) return false;
      if (len > 0 && (!in.GetDirectBufferPointer(&data, &avail) || static_cast<uint32_t>(avail) < len)) return false;
      if (!*in_scope && len == scope.size() && std::memcmp(data, scope.data(), len) == 0) *in_scope = true;
      if (!in.Skip(static_cast<int>(len))) return false;
      continue;
    }
    if (tag == kEscalationTag) {
      uint64_t v = 0;
      if (!in.ReadVarint64(&v)) return false;
      *escalation = v != 0;
      continue;
    }
    uint64_t v = 0;
    uint32_t len = 0;
    switch (tag & 7) {
      case 0:
        if (!in.ReadVarint64(&v)) return false;
        break;
      case 1:
        if (!in.Skip(8)) return false;
        break;
      case 2:
        if (!in.ReadVarint32(&len) || !in.Skip(static_cast<int>(len))) return false;
        break;
      case 5:
        if (!in.Skip(4)) return false;
        break;
      default:
        return false;  // groups are not used; anything else is malformed
    }
  }
  return in.ConsumedEntireMessage() && in.CurrentPosition() == static_cast<int>(bytes.size());
}

}  // namespace grid::services
