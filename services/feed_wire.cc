// Splicing WatchResponses: see feed_wire.h.
#include "services/feed_wire.h"

#include "services/wire.h"

namespace grid::services {
namespace {

// WatchResponse's wire form (service.proto): entries = 1, cursor = 2,
// caught_up = 3.
constexpr uint32_t kEntriesField = 1;
constexpr char kCursorTag = (2 << 3) | 0;
constexpr char kCaughtUpTag = (3 << 3) | 0;
// FeedEntry's fields the replay filters on (case.proto).
constexpr uint32_t kUnitPathField = 3;
constexpr uint32_t kEscalationField = 4;

}  // namespace

void AppendFeedEntry(std::string* out, std::string_view entry) { AppendLengthDelimited(out, kEntriesField, entry); }

void AppendFeedTail(std::string* out, uint64_t cursor, bool caught_up) {
  out->push_back(kCursorTag);
  AppendVarint(out, cursor);
  if (caught_up) {
    out->push_back(kCaughtUpTag);
    out->push_back(1);
  }
}

bool PeekFeedEntry(std::string_view bytes, const std::string& scope, bool* escalation, bool* in_scope) {
  *escalation = false;
  *in_scope = scope.empty();
  return ForEachField(bytes, [&](uint32_t field, uint32_t type, uint64_t value, std::string_view b) {
    if (field == kUnitPathField && type == 2 && b == scope) *in_scope = true;
    if (field == kEscalationField && type == 0) *escalation = value != 0;
  });
}

}  // namespace grid::services
