// Address normalisation: see address.h.
#include "engine/address.h"

#include <array>
#include <utility>

#include "engine/text.h"

namespace grid::address {
namespace {

using std::u32string;
using std::u32string_view;

constexpr std::pair<std::string_view, std::string_view> kLatinWords[] = {
    {"st", "street"},    {"str", "street"},   {"ave", "avenue"},   {"av", "avenue"}, {"blvd", "boulevard"},
    {"rd", "road"},      {"dr", "drive"},     {"ln", "lane"},      {"pl", "place"},  {"ct", "court"},
    {"hwy", "highway"},  {"pkwy", "parkway"}, {"ter", "terrace"},  {"sq", "square"}, {"cir", "circle"},
    {"n", "north"},      {"s", "south"},      {"e", "east"},       {"w", "west"},    {"ne", "northeast"},
    {"nw", "northwest"}, {"se", "southeast"}, {"sw", "southwest"},
};

bool IsAsciiLetter(char32_t c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char32_t c) { return c >= '0' && c <= '9'; }

int NumeralValue(char32_t c) {
  switch (c) {
    case U'零':
    case U'〇': return 0;
    case U'一': return 1;
    case U'二':
    case U'两': return 2;
    case U'三': return 3;
    case U'四': return 4;
    case U'五': return 5;
    case U'六': return 6;
    case U'七': return 7;
    case U'八': return 8;
    case U'九': return 9;
    case U'十': return 10;
    case U'百': return 100;
    case U'千': return 1000;
    default: return -1;
  }
}

// 十二 → 12, 一百零三 → 103, 二十 → 20, 三 → 3, 二〇八 → 208 (digit by digit).
int ParseNumerals(u32string_view run) {
  bool positional = false;
  for (char32_t c : run) positional |= NumeralValue(c) >= 10;
  if (!positional) {
    int v = 0;
    for (char32_t c : run) v = v * 10 + NumeralValue(c);
    return v;
  }
  int total = 0, digit = 0;
  for (char32_t c : run) {
    int v = NumeralValue(c);
    if (v >= 10) {
      total += (digit == 0 ? 1 : digit) * v;
      digit = 0;
    } else {
      digit = v;
    }
  }
  return total + digit;
}

// Chinese numerals directly before 号, 栋, 幢, 单元, 室 or 楼 become digits.
u32string ConvertNumerals(u32string s) {
  u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (NumeralValue(s[i]) < 0) {
      out.push_back(s[i++]);
      continue;
    }
    size_t j = i;
    while (j < s.size() && NumeralValue(s[j]) >= 0) ++j;
    bool before_marker = j < s.size() && (s[j] == U'号' || s[j] == U'栋' || s[j] == U'幢' || s[j] == U'室' ||
                                          s[j] == U'楼' || (s[j] == U'单' && j + 1 < s.size() && s[j + 1] == U'元'));
    if (before_marker) {
      for (char c : std::to_string(ParseNumerals(u32string_view(s).substr(i, j - i)))) out.push_back(c);
    } else {
      out.append(s, i, j - i);
    }
    i = j;
  }
  return out;
}

// Spells out Latin street abbreviations, word by word.
u32string ExpandLatin(const u32string& s) {
  u32string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    if (!IsAsciiLetter(s[i])) {
      out.push_back(s[i++]);
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsAsciiLetter(s[j])) ++j;
    std::string word(s.begin() + static_cast<long>(i), s.begin() + static_cast<long>(j));
    std::string_view replacement = word;
    for (const auto& [abbr, full] : kLatinWords) {
      if (word == abbr) replacement = full;
    }
    for (char c : replacement) out.push_back(static_cast<char32_t>(c));
    i = j;
  }
  return out;
}

// Folded, numerals converted, Latin expanded; spaces and punctuation kept.
u32string Prepare(std::string_view text) {
  return ExpandLatin(ConvertNumerals(text::ToCodePoints(text::FoldWidthAndCase(text))));
}

std::string Finish(u32string_view s) { return text::NormaliseForMatch(text::FromCodePoints(s)); }

// Reads digits at s[i]; returns the value (capped) and moves i past them.
std::optional<int> ReadNumber(u32string_view s, size_t* i) {
  if (*i >= s.size() || !IsDigit(s[*i])) return std::nullopt;
  long v = 0;
  while (*i < s.size() && IsDigit(s[*i])) {
    if (v < 100000000) v = v * 10 + static_cast<long>(s[*i] - '0');
    ++*i;
  }
  return static_cast<int>(v);
}

// The number written before `marker` (a sequence of code points) in s, if any.
std::optional<int> NumberBefore(u32string_view s, u32string_view marker) {
  for (size_t pos = s.find(marker); pos != u32string_view::npos; pos = s.find(marker, pos + 1)) {
    size_t start = pos;
    while (start > 0 && IsDigit(s[start - 1])) --start;
    if (start < pos) {
      size_t i = start;
      return ReadNumber(s, &i);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string NormaliseStreet(std::string_view text) { return Finish(Prepare(text)); }

ParsedAddress Parse(std::string_view text) {
  ParsedAddress out;
  const u32string s = Prepare(text);
  out.normalised = Finish(s);
  out.building = NumberBefore(s, U"栋");
  if (!out.building) out.building = NumberBefore(s, U"幢");
  if (!out.building) out.building = NumberBefore(s, U"号楼");
  out.unit = NumberBefore(s, U"单元");
  out.room = NumberBefore(s, U"室");

  // Chinese: <street> <number>[-<number>]号 ... (the first such number; 号楼 is a building).
  for (size_t pos = s.find(U'号'); pos != u32string::npos; pos = s.find(U'号', pos + 1)) {
    if (pos + 1 < s.size() && s[pos + 1] == U'楼') continue;
    size_t end = pos;
    while (end > 0 && (s[end - 1] == ' ')) --end;
    size_t start = end;
    while (start > 0 && IsDigit(s[start - 1])) --start;
    if (start == end) continue;
    // A range "12-18号" or "12至18号" keeps its first number.
    size_t first = start;
    if (start > 1 && (s[start - 1] == '-' || s[start - 1] == U'至' || s[start - 1] == '~') && IsDigit(s[start - 2])) {
      first = start - 1;
      while (first > 0 && IsDigit(s[first - 1])) --first;
    }
    size_t i = first;
    out.number = ReadNumber(s, &i);
    out.street_part = Finish(u32string_view(s).substr(0, first));
    return out;
  }

  // Latin: [<number>[-<number>][letter]] <street words>[, city, zip].
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  u32string_view rest(s);
  if (auto n = ReadNumber(s, &i); n && i < s.size() && (s[i] == ' ' || s[i] == '-' || IsAsciiLetter(s[i]))) {
    out.number = n;
    while (i < s.size() && s[i] != ' ') ++i;  // "1234-1236" or "1234a"
    rest = u32string_view(s).substr(i);
  }
  size_t comma = rest.find(U',');
  out.street_part = Finish(rest.substr(0, comma));
  return out;
}

}  // namespace grid::address
