// Address normalisation for routing by address coverage.
//
// Chinese and Latin address text is reduced to a comparable form:
//   - full-width forms to half-width, Latin lower-cased, punctuation and
//     spaces dropped (text::NormaliseForMatch);
//   - Latin street words spelled out: st → street, ave/av → avenue,
//     blvd → boulevard, rd → road, dr → drive, ln → lane, pl → place,
//     ct → court, hwy → highway, pkwy → parkway, ter → terrace, sq → square,
//     and the compass words n/s/e/w → north/south/east/west;
//   - Chinese numerals in house numbers (十二号 → 12号).
// A parsed address splits the text into the part before the house number
// (where the street is), the house number (leading digits, a range "12-18号"
// keeps its first number), and what follows (栋/幢/号楼 building, 单元 unit,
// 室 room), so "金江镇文化北路12号3栋2单元501室" has street part "金江镇文化北路",
// number 12, building 3, unit 2, room 501, and "1234 N Main St" has number
// 1234 and street part "northmainstreet".
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace grid::address {

struct ParsedAddress {
  std::string normalised;   // the whole text, normalised
  std::string street_part;  // normalised text around the number, without it
  std::optional<int> number;
  std::optional<int> building;  // 栋 / 幢 / 号楼
  std::optional<int> unit;      // 单元
  std::optional<int> room;      // 室
};

// Normalises a street name or an address fragment (see above).
std::string NormaliseStreet(std::string_view text);

// REQUIRES: text is valid UTF-8 (unchecked bytes are kept as they are).
ParsedAddress Parse(std::string_view text);

}  // namespace grid::address
