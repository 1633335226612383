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

// True when `s` holds nothing visible: only white space of any Unicode kind
// (ASCII, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
// the ideographic space U+3000) and zero-width characters (U+180E,
// U+200B..U+200D, U+2060, U+FEFF). The empty string is blank. Bytes that are
// not UTF-8 are not blank.
bool IsBlank(std::string_view s);

// Where a text field may be used, which decides the characters it refuses.
enum class TextKind {
  kFreeText,  // a description or a note: TAB, LF and CR are allowed
  kLine,      // a name, an address, a code or an id: one line
};

// The first character `s` must not hold, as "U+001B", or "" when there is
// none. Refused everywhere: the C0 controls (NUL and ESC, which starts a
// terminal escape sequence, among them) but TAB, LF and CR in free text, DEL,
// the C1 controls (U+0080..U+009F), the bidirectional embeddings, overrides
// and isolates (U+202A..U+202E, U+2066..U+2069); in a line also TAB, LF, CR
// and the directional marks (U+061C, U+200E, U+200F). Bytes that are not
// UTF-8 are skipped (IsValidUtf8 answers for them).
std::string FindRefusedCharacter(std::string_view s, TextKind kind);

// An error message made safe to send back: every run of more than
// `max_run` characters without a space (an echoed code, id or category) keeps
// its first `max_run` characters and ends in "...[cut, N bytes]", and a
// message still longer than `max_bytes` is cut there the same way. Cuts fall
// on UTF-8 character boundaries; bytes that are not UTF-8 count as one
// character each. Characters FindRefusedCharacter refuses in a line (a
// terminal escape, a bidirectional override echoed back) become "\xNN" or
// "<U+202E>". A message within the limits and without them is unchanged.
std::string CapEchoes(std::string_view message, size_t max_run = 100, size_t max_bytes = 1024);

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
