// Text helpers shared by validation and address matching: UTF-8 checks and
// normalisation of full-width forms.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Reads a small directive file (calendars, policies) line by line: a leading
// UTF-8 BOM, CR before LF and '#' comments are dropped, each line is split on
// spaces and tabs, and blank lines are skipped.
class DirectiveReader {
 public:
  explicit DirectiveReader(std::string_view text);
  // The next non-blank line's tokens (views into the text); false at the end.
  bool Next(std::vector<std::string_view>* tokens);
  // The 1-based number of the line Next returned last.
  int line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 0;
};

}  // namespace grid::text
