// Text helpers: see text.h.
#include "engine/text.h"

#include <algorithm>
#include <cstdint>

namespace grid::text {
namespace {

// Decodes one code point at s[i]; returns its length, or 0 when malformed.
size_t Decode(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

void Append(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t Fold(uint32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
  if (cp == 0x3000) cp = ' ';
  if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
  return cp;
}

bool IsDropped(uint32_t cp) {
  if (cp < 0x80) return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z'));
  switch (cp) {
    case 0xFF0C:
    case 0x3002:
    case 0x3001:
    case 0x00B7:
    case 0xFF0D:
    case 0x2014:
    case 0xFF08:
    case 0xFF09:
    case 0x300A:
    case 0x300B:
    case 0x300C:
    case 0x300D:
    case 0x201C:
    case 0x201D: return true;
    default: return false;
  }
}

template <typename Keep>
std::string Transform(std::string_view s, Keep keep) {
  std::string out;
  out.reserve(s.size());
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = Decode(s, i, &cp);
    if (n == 0) {  // not expected (REQUIRES valid input); keep the byte
      out.push_back(s[i]);
      ++i;
      continue;
    }
    cp = Fold(cp);
    if (keep(cp)) Append(&out, cp);
    i += n;
  }
  return out;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = Decode(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string FoldWidthAndCase(std::string_view s) {
  return Transform(s, [](uint32_t) { return true; });
}

std::string NormaliseForMatch(std::string_view s) {
  return Transform(s, [](uint32_t cp) { return !IsDropped(cp); });
}

namespace {

bool IsSpaceOrInvisible(uint32_t cp) {
  switch (cp) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\v':
    case '\f':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x180E:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x2060:
    case 0x3000:
    case 0xFEFF: return true;
    default: return cp >= 0x2000 && cp <= 0x200D;  // the typographic spaces, zero-width space and joiners
  }
}

bool IsRefused(uint32_t cp, TextKind kind) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return kind == TextKind::kLine;
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;
  if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return true;
  return kind == TextKind::kLine && (cp == 0x061C || cp == 0x200E || cp == 0x200F);
}

std::string CodePointName(uint32_t cp) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "U+";
  const int digits = cp > 0xFFFF ? 6 : 4;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 0xF]);
  return out;
}

}  // namespace

bool IsBlank(std::string_view s) {
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t n = Decode(s, i, &cp);
    if (n == 0 || !IsSpaceOrInvisible(cp)) return false;
    i += n;
  }
  return true;
}

std::string FindRefusedCharacter(std::string_view s, TextKind kind) {
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t n = Decode(s, i, &cp);
    if (n == 0) {
      ++i;
      continue;
    }
    if (IsRefused(cp, kind)) return CodePointName(cp);
    i += n;
  }
  return "";
}

std::string CapEchoes(std::string_view raw, size_t max_run, size_t max_bytes) {
  // Control and bidirectional characters first, so that what is cut below
  // is what the caller will read.
  std::string neutral;
  std::string_view message = raw;
  if (!FindRefusedCharacter(raw, TextKind::kLine).empty()) {
    uint32_t cp = 0;
    for (size_t i = 0; i < raw.size();) {
      const size_t n = Decode(raw, i, &cp);
      if (n == 0) {
        neutral.push_back(raw[i++]);
        continue;
      }
      if (!IsRefused(cp, TextKind::kLine)) {
        neutral.append(raw.substr(i, n));
      } else if (cp < 0x100) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        neutral += "\\x";
        neutral.push_back(kHex[cp >> 4]);
        neutral.push_back(kHex[cp & 0xF]);
      } else {
        neutral += "<" + CodePointName(cp) + ">";
      }
      i += n;
    }
    message = neutral;
  }
  // Bytes of the first `chars` characters of s (a malformed byte is one).
  auto prefix = [](std::string_view s, size_t chars) {
    uint32_t cp = 0;
    size_t i = 0;
    for (size_t n = 0; n < chars && i < s.size(); ++n) {
      const size_t len = Decode(s, i, &cp);
      i += len == 0 ? 1 : len;
    }
    return i;
  };
  auto cut_mark = [](size_t bytes) { return "...[cut, " + std::to_string(bytes) + " bytes]"; };
  std::string out;
  out.reserve(std::min(message.size(), max_bytes + 64));
  for (size_t i = 0; i < message.size();) {
    const size_t space = message.find(' ', i);
    const size_t end = space == std::string_view::npos ? message.size() : space;
    const std::string_view run = message.substr(i, end - i);
    const size_t keep = prefix(run, max_run);
    out.append(run.substr(0, keep));
    if (keep < run.size()) out += cut_mark(run.size());
    if (end < message.size()) out.push_back(' ');
    i = end + 1;
    if (out.size() > max_bytes) break;
  }
  if (out.size() <= max_bytes) return out;
  const size_t keep = prefix(out, max_bytes);  // at most max_bytes characters...
  size_t bytes = std::min(keep, max_bytes);    // ...and bytes, on a boundary
  while (bytes > 0 && bytes < out.size() && (static_cast<unsigned char>(out[bytes]) & 0xC0) == 0x80) --bytes;
  out.resize(bytes);
  out += cut_mark(raw.size());
  return out;
}

std::u32string ToCodePoints(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = Decode(s, i, &cp);
    if (n == 0) {
      out.push_back(0xFFFD);
      ++i;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

std::string FromCodePoints(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size() * 3);
  for (char32_t cp : cps) Append(&out, cp);
  return out;
}

DirectiveReader::DirectiveReader(std::string_view text) : text_(text) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
}

bool DirectiveReader::Next(std::vector<std::string_view>* tokens) {
  tokens->clear();
  while (tokens->empty() && pos_ < text_.size()) {
    size_t eol = text_.find('\n', pos_);
    if (eol == std::string_view::npos) eol = text_.size();
    std::string_view line = text_.substr(pos_, eol - pos_);
    pos_ = eol + 1;
    ++line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (j > i) tokens->push_back(line.substr(i, j - i));
      i = j;
    }
  }
  return !tokens->empty();
}

}  // namespace grid::text
