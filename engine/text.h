// Text helpers shared by validation and address matching: UTF-8 checks and
// normalisation of full-width forms.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace grid::text {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Number of code points. REQUIRES: IsValidUtf8(s).
size_t CodePointCount(std::string_view s);

// Full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space (U+3000)
// become their half-width forms; Latin letters are lower-cased; everything
// else is kept. REQUIRES: IsValidUtf8(s).
std::string FoldWidthAndCase(std::string_view s);

// Like FoldWidthAndCase, then drops white space and punctuation (ASCII and
// the common CJK marks: ，。、·－—（）《》「」“”).
std::string NormaliseForMatch(std::string_view s);

// Code points of `s`; a malformed byte becomes U+FFFD.
std::u32string ToCodePoints(std::string_view s);
// UTF-8 of `cps`.
std::string FromCodePoints(std::u32string_view cps);

}  // namespace grid::text
