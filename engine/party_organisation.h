// The names a unit's level and name imply: a community's short, spoken name
// and the party organisation of a division unit. Domain rules shared by the
// unit table (which stores only organisations that differ from these) and the
// importers and generators that create units.
//
// Thread-safety: stateless free functions; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

#include "grid/v1/directory.pb.h"

namespace grid {

// The short, spoken form of a community's name: "金马东社区居委会" ->
// "金马东社区", "大塘村委会" -> "大塘村", "红岗居居民委员会" -> "红岗居",
// "红岭居委会" -> "红岭居"; names without such a suffix are returned as is.
std::string CommunityShortName(std::string_view name);

// The party organisation of a unit with this level and name: kind 省委 / 市委 /
// 州委 / 地委 / 盟委 (provinces and cities), 县委 / 区委 / 市委 / 旗委 (counties),
// 镇党委 / 乡党委 / 街道党工委 / 党委 (towns), 社区党支部 / 村党支部 / 党支部
// (communities); name "中共<name>委员会" (towns named 街道: "中共<name>工作委员会";
// communities: "中共<short name>支部委员会"). Statistical groupings that are
// not real places and have no committee of their own ("市辖区", "县",
// "省直辖县级行政区划", "自治区直辖县级行政区划") get an empty organisation.
// Grids are not handled here (the directory builder names their 网格党小组).
grid::v1::PartyOrganisation PartyOrganisationFor(grid::v1::UnitLevel level, std::string_view name);

// Sets unit->party_organisation() to PartyOrganisationFor(level, name) of the
// unit, in place (no temporary message: importers call it per row), and
// leaves it unset when that is empty.
void SetImpliedPartyOrganisation(grid::v1::Unit* unit);

}  // namespace grid
