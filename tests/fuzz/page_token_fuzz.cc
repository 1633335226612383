// ListCases page tokens (services/page_token.h): any string is either
// refused or decodes to a cursor that encodes back to a token decoding to the
// same cursor; any cursor round-trips.
#include <cstring>

#include "services/page_token.h"
#include "tests/fuzz/common.h"

using namespace grid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t fingerprint = 0;
  std::memcpy(&fingerprint, data, 8);
  const std::string token(fuzz::Bytes(data + 8, size - 8));
  uint64_t cursor = 0;
  const Status s = services::DecodePageToken(token, fingerprint, &cursor);
  fuzz::CheckRefusal(s);
  if (s.ok()) {
    uint64_t again = 0;
    if (!services::DecodePageToken(services::EncodePageToken(cursor, fingerprint), fingerprint, &again).ok()) {
      std::abort();
    }
    if (again != cursor) std::abort();
  }
  uint64_t any = fingerprint ^ size;
  uint64_t back = 0;
  if (!services::DecodePageToken(services::EncodePageToken(any, fingerprint), fingerprint, &back).ok() || back != any) {
    std::abort();
  }
  return 0;
}
