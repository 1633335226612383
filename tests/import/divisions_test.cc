// Tests for import/divisions: parsing the national division CSVs, on real
// Hainan / 澄迈县 fixtures (tests/data/divisions) and on malformed inputs.
//
// Thread-safety: single-threaded tests.
#include "import/divisions.h"
#include "tests/support/paths.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace grid {
namespace {

using grid::v1::Unit;

using testing::TestDataDir;

std::string ReadFixture(const std::string& name) {
  const std::string path = TestDataDir() + "/divisions/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<Unit> ParseFixture(const std::string& name, DivisionFile kind) {
  auto units = ParseDivisionCsv(name, ReadFixture(name), kind);
  EXPECT_TRUE(units.ok()) << units.status().ToString();
  return units.ok() ? *units : std::vector<Unit>();
}

std::map<std::string, Unit> ByCode(const std::vector<Unit>& units) {
  std::map<std::string, Unit> out;
  for (const Unit& u : units) out[u.code()] = u;
  return out;
}

TEST(Divisions, ParsesProvinceFixture) {
  const std::vector<Unit> units = ParseFixture("provinces.csv", DivisionFile::kProvinces);
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units[0].code(), "46");
  EXPECT_EQ(units[0].name(), "海南省");
  EXPECT_EQ(units[0].level(), grid::v1::UNIT_LEVEL_PROVINCE);
  EXPECT_EQ(units[0].parent_code(), "");
  EXPECT_EQ(units[0].party_organisation().name(), "中共海南省委员会");
  EXPECT_EQ(units[0].party_organisation().kind(), "省委");
}

TEST(Divisions, ParsesCityFixture) {
  const auto cities = ByCode(ParseFixture("cities.csv", DivisionFile::kCities));
  ASSERT_EQ(cities.size(), 5u);
  for (const auto& [code, unit] : cities) {
    EXPECT_EQ(unit.level(), grid::v1::UNIT_LEVEL_CITY) << code;
    EXPECT_EQ(unit.parent_code(), "46") << code;
  }
  EXPECT_EQ(cities.at("4601").name(), "海口市");
  EXPECT_EQ(cities.at("4601").party_organisation().name(), "中共海口市委员会");
  EXPECT_EQ(cities.at("4601").party_organisation().kind(), "市委");
  // A statistical grouping, not a place: no committee of its own.
  EXPECT_EQ(cities.at("4690").name(), "省直辖县级行政区划");
  EXPECT_FALSE(cities.at("4690").has_party_organisation());
}

TEST(Divisions, ParsesAreaFixtureWithProvinceDirectCounties) {
  const auto areas = ByCode(ParseFixture("areas.csv", DivisionFile::kAreas));
  const auto cities = ByCode(ParseFixture("cities.csv", DivisionFile::kCities));
  ASSERT_EQ(areas.size(), 27u);
  for (const auto& [code, unit] : areas) {
    EXPECT_EQ(unit.level(), grid::v1::UNIT_LEVEL_COUNTY) << code;
    EXPECT_EQ(unit.parent_code(), code.substr(0, 4)) << code;
    EXPECT_TRUE(cities.count(unit.parent_code())) << code;
  }
  const Unit& chengmai = areas.at("469023");
  EXPECT_EQ(chengmai.name(), "澄迈县");
  EXPECT_EQ(chengmai.parent_code(), "4690");
  EXPECT_EQ(chengmai.party_organisation().name(), "中共澄迈县委员会");
  EXPECT_EQ(chengmai.party_organisation().kind(), "县委");
  EXPECT_EQ(areas.at("460105").party_organisation().kind(), "区委");  // 秀英区
  EXPECT_EQ(areas.at("469001").party_organisation().kind(), "市委");  // 五指山市
}

TEST(Divisions, ParsesChengmaiTowns) {
  const std::vector<Unit> towns = ParseFixture("streets.csv", DivisionFile::kStreets);
  ASSERT_EQ(towns.size(), 12u);
  for (const Unit& t : towns) {
    EXPECT_EQ(t.level(), grid::v1::UNIT_LEVEL_TOWN) << t.code();
    EXPECT_EQ(t.parent_code(), "469023") << t.code();
  }
  const auto by_code = ByCode(towns);
  EXPECT_EQ(by_code.at("469023100").name(), "金江镇");
  EXPECT_EQ(by_code.at("469023100").party_organisation().name(), "中共金江镇委员会");
  EXPECT_EQ(by_code.at("469023100").party_organisation().kind(), "镇党委");
  EXPECT_EQ(by_code.at("469023101").name(), "老城镇");
  EXPECT_EQ(by_code.at("469023405").name(), "国营金安农场");
  EXPECT_EQ(by_code.at("469023405").party_organisation().kind(), "党委");
}

TEST(Divisions, ParsesChengmaiCommunities) {
  const std::vector<Unit> communities = ParseFixture("villages.csv", DivisionFile::kVillages);
  const auto towns = ByCode(ParseFixture("streets.csv", DivisionFile::kStreets));
  ASSERT_EQ(communities.size(), 202u);
  std::map<std::string, int> per_town;
  std::map<std::string, int> kinds;
  for (const Unit& c : communities) {
    EXPECT_EQ(c.level(), grid::v1::UNIT_LEVEL_COMMUNITY) << c.code();
    EXPECT_EQ(c.parent_code(), c.code().substr(0, 9)) << c.code();
    EXPECT_TRUE(towns.count(c.parent_code())) << c.code();
    ++per_town[c.parent_code()];
    ++kinds[c.party_organisation().kind()];
  }
  EXPECT_EQ(per_town.size(), 12u);
  EXPECT_EQ(per_town["469023100"], 62);  // 金江镇
  EXPECT_EQ(per_town["469023101"], 23);  // 老城镇
  EXPECT_EQ(per_town["469023405"], 6);   // 国营金安农场
  // 37 社区 plus the 居 (residents' committees) of 文儒, 中兴, 福山, 大丰.
  EXPECT_EQ(kinds["社区党支部"] + kinds["村党支部"] + kinds["党支部"], 202);
  EXPECT_GE(kinds["社区党支部"], 37);

  const auto by_code = ByCode(communities);
  const Unit& jinmadong = by_code.at("469023100014");
  EXPECT_EQ(jinmadong.name(), "金马东社区居委会");
  EXPECT_EQ(jinmadong.parent_code(), "469023100");
  EXPECT_EQ(jinmadong.party_organisation().name(), "中共金马东社区支部委员会");
  EXPECT_EQ(jinmadong.party_organisation().kind(), "社区党支部");
  const Unit& datang = by_code.at("469023100200");
  EXPECT_EQ(datang.name(), "大塘村委会");
  EXPECT_EQ(datang.party_organisation().name(), "中共大塘村支部委员会");
  EXPECT_EQ(datang.party_organisation().kind(), "村党支部");
}

TEST(Divisions, AcceptsCrlfBomMissingFinalNewlineAndEscapedQuotes) {
  const std::string text =
      "\xEF\xBB\xBF"
      "code,name,provinceCode\r\n"
      "4601,\"海口\"\"市\"\"\",46\r\n"
      "\"4602\",三亚市,\"46\"";
  auto units = ParseDivisionCsv("cities.csv", text, DivisionFile::kCities);
  ASSERT_TRUE(units.ok()) << units.status().ToString();
  ASSERT_EQ(units->size(), 2u);
  EXPECT_EQ((*units)[0].name(), "海口\"市\"");
  EXPECT_EQ((*units)[1].code(), "4602");
  EXPECT_EQ((*units)[1].name(), "三亚市");
  EXPECT_EQ((*units)[1].parent_code(), "46");
}

TEST(Divisions, HeaderOnlyGivesNoUnits) {
  auto units = ParseDivisionCsv("p.csv", "code,name\n", DivisionFile::kProvinces);
  ASSERT_TRUE(units.ok()) << units.status().ToString();
  EXPECT_TRUE(units->empty());
}

struct BadInput {
  const char* label;
  DivisionFile kind;
  const char* text;
  const char* reason;
  int line;
};

void PrintTo(const BadInput& bad, std::ostream* os) { *os << bad.label; }

class DivisionsBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(DivisionsBadInput, GivesReasonAndLine) {
  const BadInput& bad = GetParam();
  auto units = ParseDivisionCsv("f.csv", bad.text, bad.kind);
  ASSERT_FALSE(units.ok()) << bad.label;
  EXPECT_EQ(units.status().code(), StatusCode::kInvalidArgument) << bad.label;
  EXPECT_EQ(units.status().reason(), bad.reason) << units.status().ToString();
  const std::string prefix = "f.csv line " + std::to_string(bad.line) + ": ";
  EXPECT_EQ(units.status().message().substr(0, prefix.size()), prefix) << units.status().ToString();
}

constexpr char kVillagesHeader[] = "code,name,streetCode,provinceCode,cityCode,areaCode\n";
#define VILLAGE_ROW "469023100014,\"金马东社区居委会\",469023100,46,4690,469023\n"

INSTANTIATE_TEST_SUITE_P(
    Divisions, DivisionsBadInput,
    ::testing::Values(
        BadInput{"empty text", DivisionFile::kProvinces, "", "MALFORMED_CSV", 1},
        BadInput{"bad header", DivisionFile::kCities, "code,name,province\n4601,海口市,46\n", "MALFORMED_CSV", 1},
        BadInput{"header of another file", DivisionFile::kStreets,
                 "code,name,streetCode,provinceCode,cityCode,areaCode\n", "MALFORMED_CSV", 1},
        BadInput{"unclosed quote", DivisionFile::kProvinces, "code,name\n11,\"北京市\"\n46,\"海南省\n", "MALFORMED_CSV",
                 3},
        BadInput{"text after closing quote", DivisionFile::kProvinces, "code,name\n46,\"海南\"省\n", "MALFORMED_CSV",
                 2},
        BadInput{"quote in bare field", DivisionFile::kProvinces, "code,name\n46,海\"南省\n", "MALFORMED_CSV", 2},
        BadInput{"too few columns", DivisionFile::kVillages,
                 "code,name,streetCode,provinceCode,cityCode,areaCode\n" VILLAGE_ROW
                 "469023100015,\"立新社区居委会\",469023100,46,4690\n",
                 "MALFORMED_CSV", 3},
        BadInput{"too many columns", DivisionFile::kProvinces, "code,name\n46,海南省,x\n", "MALFORMED_CSV", 2},
        BadInput{"blank line", DivisionFile::kProvinces, "code,name\n11,北京市\n\n46,海南省\n", "MALFORMED_CSV", 3},
        BadInput{"empty name", DivisionFile::kProvinces, "code,name\n46,\"\"\n", "MALFORMED_CSV", 2},
        BadInput{"non-digit code", DivisionFile::kProvinces, "code,name\n11,北京市\n4A,海南省\n", "INVALID_CODE", 3},
        BadInput{"empty code", DivisionFile::kProvinces, "code,name\n,海南省\n", "INVALID_CODE", 2},
        BadInput{"code too short", DivisionFile::kAreas,
                 "code,name,cityCode,provinceCode\n469023,澄迈县,4690,46\n46902,临高县,4690,46\n", "INVALID_CODE", 3},
        BadInput{"code too long", DivisionFile::kVillages,
                 "code,name,streetCode,provinceCode,cityCode,areaCode\n"
                 "4690231000140,\"金马东社区居委会\",469023100,46,4690,469023\n",
                 "INVALID_CODE", 2},
        BadInput{"parent code not digits", DivisionFile::kStreets,
                 "code,name,areaCode,provinceCode,cityCode\n469023100,金江镇,46902x,46,4690\n", "INVALID_CODE", 2},
        BadInput{"code not under its parent", DivisionFile::kStreets,
                 "code,name,areaCode,provinceCode,cityCode\n469023100,金江镇,469024,46,4690\n", "INVALID_CODE", 2},
        BadInput{"code not under its province", DivisionFile::kVillages,
                 "code,name,streetCode,provinceCode,cityCode,areaCode\n"
                 "469023100014,\"金马东社区居委会\",469023100,45,4690,469023\n",
                 "INVALID_CODE", 2},
        BadInput{"duplicate code out of order", DivisionFile::kProvinces,
                 "code,name\n11,北京市\n46,海南省\n12,天津市\n46,海南\n", "INVALID_CODE", 5},
        BadInput{"duplicate code", DivisionFile::kVillages,
                 "code,name,streetCode,provinceCode,cityCode,areaCode\n" VILLAGE_ROW VILLAGE_ROW, "INVALID_CODE", 3}),
    [](const ::testing::TestParamInfo<BadInput>& info) {
      std::string name;
      for (const char* p = info.param.label; *p != '\0'; ++p) {
        name += (*p == ' ' || *p == '-') ? '_' : *p;
      }
      return name;
    });

TEST(Divisions, DuplicateOutOfOrderNamesTheFirstLine) {
  auto units = ParseDivisionCsv("p.csv", "code,name\n46,海南省\n11,北京市\n46,海南\n", DivisionFile::kProvinces);
  ASSERT_FALSE(units.ok());
  EXPECT_EQ(units.status().message(), "p.csv line 4: duplicate code 46 (first on line 2)");
}

TEST(Divisions, DuplicateNamesTheFirstLine) {
  auto units =
      ParseDivisionCsv("v.csv", std::string(kVillagesHeader) + VILLAGE_ROW VILLAGE_ROW, DivisionFile::kVillages);
  ASSERT_FALSE(units.ok());
  EXPECT_EQ(units.status().message(), "v.csv line 3: duplicate code 469023100014 (first on line 2)");
}

// The national villages file has 620,573 rows; the same number of synthetic
// rows (same shape and name lengths) must parse whole. Speed is a benchmark's
// job (tools/bench/run_import_bench.sh); the CPU time is printed, not asserted.
TEST(Divisions, ParsesNationalSizedVillageFile) {
  constexpr int kRows = 620573;
  std::string text = kVillagesHeader;
  text.reserve(static_cast<size_t>(kRows) * 64);
  char row[160];
  for (int i = 0; i < kRows; ++i) {
    const int area = 110101 + i / 4000;  // ~155 rows per street, 26 streets per area
    const int street = (i / 155) % 1000;
    const int village = i % 155 + 1;
    std::snprintf(row, sizeof row, "%06d%03d%03d,\"%s%d%s\",%06d%03d,%02d,%04d,%06d\n", area, street, village,
                  i % 3 == 0 ? "某某" : "某某某", i % 97, i % 5 == 0 ? "社区居委会" : "村委会", area, street,
                  area / 10000, area / 100, area);
    text += row;
  }
  const std::clock_t start = std::clock();
  auto units = ParseDivisionCsv("villages.csv", text, DivisionFile::kVillages);
  const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  ASSERT_TRUE(units.ok()) << units.status().ToString();
  EXPECT_EQ(units->size(), static_cast<size_t>(kRows));
  EXPECT_EQ(units->back().code(), "110256003108");
  EXPECT_EQ(units->back().parent_code(), "110256003");
  RecordProperty("parse_cpu_seconds", std::to_string(seconds));
  std::printf("parsed %d village rows in %.3f s CPU\n", kRows, seconds);
}

}  // namespace
}  // namespace grid
