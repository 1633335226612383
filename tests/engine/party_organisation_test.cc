// Tests for engine/party_organisation: the names a unit's level and name
// imply (moved with the functions from the division importer's tests).
//
// Thread-safety: single-threaded tests.
#include "engine/party_organisation.h"

#include <gtest/gtest.h>

namespace grid {
namespace {

TEST(PartyOrganisation, CommunityShortNames) {
  EXPECT_EQ(CommunityShortName("金马东社区居委会"), "金马东社区");
  EXPECT_EQ(CommunityShortName("仁兴社区居民委员会"), "仁兴社区");
  EXPECT_EQ(CommunityShortName("大塘村委会"), "大塘村");
  EXPECT_EQ(CommunityShortName("某某村民委员会"), "某某村");
  EXPECT_EQ(CommunityShortName("红岗居居民委员会"), "红岗居");
  EXPECT_EQ(CommunityShortName("红岭居委会"), "红岭居");
  EXPECT_EQ(CommunityShortName("国营金安场部社区"), "国营金安场部社区");
  EXPECT_EQ(CommunityShortName("村委会"), "村委会");
}

TEST(PartyOrganisation, PartyOrganisationNames) {
  using grid::v1::UNIT_LEVEL_CITY;
  using grid::v1::UNIT_LEVEL_COUNTY;
  using grid::v1::UNIT_LEVEL_PROVINCE;
  using grid::v1::UNIT_LEVEL_TOWN;
  EXPECT_EQ(PartyOrganisationFor(UNIT_LEVEL_PROVINCE, "广西壮族自治区").kind(), "区委");
  EXPECT_EQ(PartyOrganisationFor(UNIT_LEVEL_PROVINCE, "北京市").name(), "中共北京市委员会");
  EXPECT_EQ(PartyOrganisationFor(UNIT_LEVEL_CITY, "延边朝鲜族自治州").kind(), "州委");
  EXPECT_EQ(PartyOrganisationFor(UNIT_LEVEL_CITY, "和田地区").kind(), "地委");
  EXPECT_EQ(PartyOrganisationFor(UNIT_LEVEL_CITY, "市辖区").name(), "");
  EXPECT_EQ(PartyOrganisationFor(UNIT_LEVEL_COUNTY, "鄂托克旗").kind(), "旗委");
  const auto street = PartyOrganisationFor(UNIT_LEVEL_TOWN, "东华门街道");
  EXPECT_EQ(street.name(), "中共东华门街道工作委员会");
  EXPECT_EQ(street.kind(), "街道党工委");
  EXPECT_EQ(PartyOrganisationFor(UNIT_LEVEL_TOWN, "某某乡").kind(), "乡党委");
  EXPECT_EQ(PartyOrganisationFor(grid::v1::UNIT_LEVEL_GRID, "某网格").name(), "");
}

TEST(PartyOrganisation, SetsTheImpliedOrganisationInPlaceOrLeavesItUnset) {
  grid::v1::Unit town;
  town.set_level(grid::v1::UNIT_LEVEL_TOWN);
  town.set_name("金江镇");
  SetImpliedPartyOrganisation(&town);
  EXPECT_EQ(town.party_organisation().name(), "中共金江镇委员会");
  EXPECT_EQ(town.party_organisation().kind(), "镇党委");
  grid::v1::Unit grouping;
  grouping.set_level(grid::v1::UNIT_LEVEL_COUNTY);
  grouping.set_name("市辖区");
  SetImpliedPartyOrganisation(&grouping);
  EXPECT_FALSE(grouping.has_party_organisation());
}

}  // namespace
}  // namespace grid
