// Names implied by a unit's level and name (party_organisation.h).
//
// Thread-safety: stateless free functions; safe to call concurrently.
#include "engine/party_organisation.h"

#include <array>
#include <initializer_list>
#include <string>

namespace grid {
namespace {

using grid::v1::PartyOrganisation;
using grid::v1::UnitLevel;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view StripSuffix(std::string_view s, std::string_view suffix) {
  return s.substr(0, s.size() - suffix.size());
}

bool IsStatisticalGrouping(std::string_view name) {
  return name == "市辖区" || name == "县" || name == "省直辖县级行政区划" || name == "自治区直辖县级行政区划";
}

std::string Concat(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out += p;
  return out;
}

// A community's short name as stem + added, without allocating.
struct ShortName {
  std::string_view stem;
  std::string_view added;
};

ShortName CommunityShort(std::string_view name) {
  for (std::string_view suffix : {"居民委员会", "居委会"}) {
    if (!EndsWith(name, suffix) || name.size() == suffix.size()) continue;
    const std::string_view stem = StripSuffix(name, suffix);
    if (EndsWith(stem, "社区") || EndsWith(stem, "居")) return {stem, ""};
    return {stem, "居"};
  }
  for (std::string_view suffix : {"村民委员会", "村委会"}) {
    if (!EndsWith(name, suffix) || name.size() == suffix.size()) continue;
    return {StripSuffix(name, suffix), "村"};
  }
  return {name, ""};
}

// A party organisation as views (no allocation): name = concatenated parts.
struct OrgSpec {
  std::array<std::string_view, 4> name;
  std::string_view kind;  // empty: no organisation
};

OrgSpec Committee(std::string_view name, std::string_view kind) { return {{"中共", name, "", "委员会"}, kind}; }

OrgSpec OrgFor(UnitLevel level, std::string_view name) {
  if (name.empty() || IsStatisticalGrouping(name)) return OrgSpec();
  switch (level) {
    case grid::v1::UNIT_LEVEL_PROVINCE:
      if (EndsWith(name, "自治区")) return Committee(name, "区委");
      if (EndsWith(name, "市")) return Committee(name, "市委");
      return Committee(name, "省委");
    case grid::v1::UNIT_LEVEL_CITY:
      if (EndsWith(name, "市")) return Committee(name, "市委");
      if (EndsWith(name, "州")) return Committee(name, "州委");
      if (EndsWith(name, "地区")) return Committee(name, "地委");
      if (EndsWith(name, "盟")) return Committee(name, "盟委");
      return Committee(name, "党委");
    case grid::v1::UNIT_LEVEL_COUNTY:
      if (EndsWith(name, "县")) return Committee(name, "县委");
      if (EndsWith(name, "区")) return Committee(name, "区委");
      if (EndsWith(name, "市")) return Committee(name, "市委");
      if (EndsWith(name, "旗")) return Committee(name, "旗委");
      return Committee(name, "党委");
    case grid::v1::UNIT_LEVEL_TOWN: {
      if (EndsWith(name, "镇")) return Committee(name, "镇党委");
      if (EndsWith(name, "乡")) return Committee(name, "乡党委");
      std::string_view street = name;
      if (EndsWith(street, "办事处")) street = StripSuffix(street, "办事处");
      if (EndsWith(street, "街道")) return {{"中共", street, "", "工作委员会"}, "街道党工委"};
      return Committee(name, "党委");
    }
    case grid::v1::UNIT_LEVEL_COMMUNITY: {
      const ShortName s = CommunityShort(name);
      const std::array<std::string_view, 4> org_name{"中共", s.stem, s.added, "支部委员会"};
      const std::string_view last = s.added.empty() ? s.stem : s.added;
      if (s.stem.find("社区") != std::string_view::npos || EndsWith(last, "居")) {
        return {org_name, "社区党支部"};
      }
      if (EndsWith(last, "村")) return {org_name, "村党支部"};
      return {org_name, "党支部"};
    }
    default: return OrgSpec();
  }
}

// REQUIRES: !spec.kind.empty().
void Fill(const OrgSpec& spec, PartyOrganisation* out) {
  size_t size = 0;
  for (std::string_view p : spec.name) size += p.size();
  std::string* name = out->mutable_name();
  name->reserve(size);
  for (std::string_view p : spec.name) name->append(p);
  out->set_kind(spec.kind.data(), spec.kind.size());
}

}  // namespace

std::string CommunityShortName(std::string_view name) {
  const ShortName s = CommunityShort(name);
  return Concat({s.stem, s.added});
}

PartyOrganisation PartyOrganisationFor(UnitLevel level, std::string_view name) {
  PartyOrganisation org;
  const OrgSpec spec = OrgFor(level, name);
  if (!spec.kind.empty()) Fill(spec, &org);
  return org;
}

void SetImpliedPartyOrganisation(grid::v1::Unit* unit) {
  const OrgSpec spec = OrgFor(unit->level(), unit->name());
  if (!spec.kind.empty()) Fill(spec, unit->mutable_party_organisation());
}

}  // namespace grid
