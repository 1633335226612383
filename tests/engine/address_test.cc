#include "engine/address.h"

#include <gtest/gtest.h>

namespace grid::address {
namespace {

TEST(Address, ChineseAddressWithBuildingUnitAndRoom) {
  auto a = Parse("海南省澄迈县金江镇文化北路12号3栋2单元501室");
  EXPECT_EQ(a.street_part, "海南省澄迈县金江镇文化北路");
  EXPECT_EQ(a.number, 12);
  EXPECT_EQ(a.building, 3);
  EXPECT_EQ(a.unit, 2);
  EXPECT_EQ(a.room, 501);
}

TEST(Address, FullWidthDigitsAndSpaces) {
  auto a = Parse("文化北路　１２号");
  EXPECT_EQ(a.street_part, "文化北路");
  EXPECT_EQ(a.number, 12);
}

TEST(Address, ChineseNumeralsBeforeMarkersOnly) {
  auto a = Parse("金马东路一巷十二号");
  EXPECT_EQ(a.street_part, "金马东路一巷");  // 一巷 is the alley's name, not a number
  EXPECT_EQ(a.number, 12);
  EXPECT_EQ(Parse("人民路一百零三号").number, 103);
  EXPECT_EQ(Parse("人民路二十号").number, 20);
  EXPECT_EQ(Parse("人民路二〇八号").number, 208);
  EXPECT_EQ(Parse("幸福里5号楼").building, 5);
}

TEST(Address, HouseNumberRangesKeepTheFirstNumber) {
  EXPECT_EQ(Parse("文化北路12-18号").number, 12);
  EXPECT_EQ(Parse("文化北路12至18号").number, 12);
  EXPECT_EQ(Parse("文化北路12-18号").street_part, "文化北路");
}

TEST(Address, NoNumberKeepsTheWholeStreet) {
  auto a = Parse("金江镇幸福巷");
  EXPECT_FALSE(a.number);
  EXPECT_EQ(a.street_part, "金江镇幸福巷");
}

TEST(Address, LosAngelesShapes) {
  // The shape of the 1,753 graffiti requests of 2017 that have an address and no coordinates.
  auto a = Parse("8525 N DE SOTO AVE, 91304");
  EXPECT_EQ(a.number, 8525);
  EXPECT_EQ(a.street_part, "northdesotoavenue");
  auto b = Parse("20829 W SHERMAN WAY, 91306");
  EXPECT_EQ(b.number, 20829);
  EXPECT_EQ(b.street_part, "westshermanway");
  auto c = Parse("1234-1236 S Western Ave.");
  EXPECT_EQ(c.number, 1234);
  EXPECT_EQ(c.street_part, "southwesternavenue");
  auto d = Parse("SUNSET BLVD");
  EXPECT_FALSE(d.number);
  EXPECT_EQ(d.street_part, "sunsetboulevard");
}

TEST(Address, AbbreviationsAndSpelledOutFormsMeet) {
  EXPECT_EQ(NormaliseStreet("N Main St."), NormaliseStreet("NORTH MAIN STREET"));
  EXPECT_EQ(NormaliseStreet("W Sunset Blvd"), NormaliseStreet("west sunset boulevard"));
  EXPECT_EQ(NormaliseStreet("Ｗｉｌｂｕｒ　Ａｖｅ"), "wilburavenue");
  // Words that merely start like an abbreviation are kept.
  EXPECT_EQ(NormaliseStreet("Stanford Ave"), "stanfordavenue");
  EXPECT_EQ(NormaliseStreet("文化北路（东段）"), "文化北路东段");
}

}  // namespace
}  // namespace grid::address
