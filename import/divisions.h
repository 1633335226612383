// Parsing of the national administrative division CSV files (provinces,
// cities, areas, streets, villages; data/divisions/README.md) into directory
// units, one file at a time. Cross-file checks (does the parent exist?) are the
// directory loader's job, not this module's.
//
// The names of units and their party organisations are domain rules and live
// in engine/party_organisation.h.
//
// Thread-safety: stateless free functions; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/party_organisation.h"
#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid {

// Which of the five files a text is. The expected header line and the unit
// level follow from it:
//   kProvinces  code,name                                            PROVINCE  (2 digits)
//   kCities     code,name,provinceCode                               CITY      (4 digits)
//   kAreas      code,name,cityCode,provinceCode                      COUNTY    (6 digits)
//   kStreets    code,name,areaCode,provinceCode,cityCode             TOWN      (9 digits)
//   kVillages   code,name,streetCode,provinceCode,cityCode,areaCode  COMMUNITY (12 digits)
enum class DivisionFile { kProvinces, kCities, kAreas, kStreets, kVillages };

// Parses one file's whole text into units, in file order.
//
// Each unit gets code, level, name (as written in the file), parent_code (from
// the right column: city -> province, area -> city, street -> area,
// village -> street; empty for provinces) and a party_organisation whose kind
// and name follow the unit's name (see PartyOrganisationFor).
//
// Format: UTF-8 (an optional BOM is skipped), "\n" or "\r\n" line ends, the
// exact header line above first, one row per line. A field is either bare
// (no '"') or quoted ("金江镇", with "" for a literal quote); a quoted field
// may not span lines. A final newline is optional; blank lines are not rows
// and are rejected like any row with the wrong number of fields.
//
// Codes: every code column must be all digits of its level's length, and
// codes nest by prefix (village 469023100014 lies under street 469023100,
// area 469023, city 4690, province 46), as GB/T 2260 codes always do. Whether
// the parent exists in its own file is NOT checked here (some real parents,
// such as the city 4690 of province-direct counties, are statistical
// groupings only). A code may appear only once per file.
//
// Errors: InvalidArgument with reason "MALFORMED_CSV" (bad header, bad
// quoting, wrong field count, empty name) or "INVALID_CODE" (non-digit, wrong
// length, not nested under its parent columns, duplicate), message
// "<file_name> line <N>: <what>" with 1-based line numbers. The first error
// found is returned; nothing partial is returned.
//
// Cost: linear, dominated by the protobuf string allocations (about 8 per
// row); the 620,573 villages take about 0.5 s of one core.
grid::StatusOr<std::vector<grid::v1::Unit>> ParseDivisionCsv(std::string_view file_name, std::string_view text,
                                                             DivisionFile kind);

}  // namespace grid
