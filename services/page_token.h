// ListCases page tokens: base64url (no padding) of
//   'L' | cursor (8 bytes, BE) | filter fingerprint (8 bytes, BE)
// A token names the last case id a page examined and the filters it was
// issued for, so that a token is never used with other filters.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "engine/status.h"

namespace grid::services {

std::string EncodePageToken(uint64_t cursor, uint64_t fingerprint);

// The cursor of `token`. INVALID_PAGE_TOKEN when it is not a token of this
// form (at most 64 characters) or was issued for another fingerprint.
Status DecodePageToken(const std::string& token, uint64_t fingerprint, uint64_t* cursor);

}  // namespace grid::services
