// Reading stored records without parsing them (services/wire.h,
// services/feed_wire.h): PeekFeedEntry, PeekCaseUnit and ForEachField over
// any bytes; and a FeedEntry that protobuf parses, spliced into a
// WatchResponse with a cursor, must parse back as that one entry and cursor.
#include <cstring>

#include "grid/v1/service.pb.h"
#include "services/feed_wire.h"
#include "services/wire.h"
#include "tests/fuzz/common.h"

using namespace grid;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  uint64_t cursor = 0;
  std::memcpy(&cursor, data, 8);
  const size_t scope_len = data[8] % 16;
  if (size < 9 + scope_len) return 0;
  const std::string scope(fuzz::Bytes(data + 9, scope_len));
  const std::string_view bytes = fuzz::Bytes(data + 9 + scope_len, size - 9 - scope_len);

  bool escalation = false, in_scope = false;
  const bool peeked = services::PeekFeedEntry(bytes, scope, &escalation, &in_scope);
  std::string unit;
  (void)services::PeekCaseUnit(bytes, &unit);
  size_t fields = 0;
  (void)services::ForEachField(bytes, [&](uint32_t, uint32_t, uint64_t, std::string_view) { ++fields; });

  grid::v1::FeedEntry entry;
  if (peeked && entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    std::string response;
    services::AppendFeedEntry(&response, bytes);
    services::AppendFeedTail(&response, cursor, (cursor & 1) != 0);
    grid::v1::WatchResponse parsed;
    if (!parsed.ParseFromString(response) || parsed.entries_size() != 1 || parsed.cursor() != cursor ||
        parsed.caught_up() != ((cursor & 1) != 0)) {
      std::abort();
    }
    if (escalation != entry.escalation()) std::abort();
  }
  return 0;
}
