// ListCases page tokens: see page_token.h.
#include "services/page_token.h"

#include <cstring>

#include "engine/reasons.h"
#include "storage/keys.h"

namespace grid::services {
namespace {

constexpr char kTokenVersion = 'L';
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char ch : in) {
    acc = (acc << 8) | ch;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  return out;
}

bool FromBase64Url(const std::string& in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    const char* p = ch == '\0' ? nullptr : std::strchr(kB64, ch);
    if (p == nullptr) return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace

std::string EncodePageToken(uint64_t cursor, uint64_t fingerprint) {
  std::string raw(1, kTokenVersion);
  storage::PutFixed64BE(&raw, cursor);
  storage::PutFixed64BE(&raw, fingerprint);
  return Base64Url(raw);
}

Status DecodePageToken(const std::string& token, uint64_t fingerprint, uint64_t* cursor) {
  const Status bad = Error(reason::INVALID_PAGE_TOKEN, "page_token is not a token this query issued");
  std::string raw;
  if (token.size() > 64 || !FromBase64Url(token, &raw) || raw.size() != 17 || raw[0] != kTokenVersion) return bad;
  if (storage::DecodeFixed64BE(raw.data() + 9) != fingerprint) {
    return Error(reason::INVALID_PAGE_TOKEN, "page_token was issued for other filters");
  }
  *cursor = storage::DecodeFixed64BE(raw.data() + 1);
  return Status::Ok();
}

}  // namespace grid::services
