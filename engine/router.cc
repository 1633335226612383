// The routing pipeline: see router.h.
#include "engine/router.h"

#include <algorithm>
#include <cstdio>

#include "engine/address.h"
#include "engine/coordinates.h"
#include "engine/reasons.h"

namespace grid {
namespace {

using grid::v1::RoutingDecision;
using grid::v1::RoutingMethod;

void AddStep(RoutingDecision* d, RoutingMethod method, bool matched, std::string detail) {
  auto* s = d->add_steps();
  s->set_method(method);
  s->set_matched(matched);
  s->set_detail(std::move(detail));
}

std::string FormatPoint(geo::Point p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "(%.6f, %.6f)", p.lat, p.lng);
  return buf;
}

std::string Describe(UnitRef u) { return u.name() + " (" + u.code() + ")"; }

void SetUnit(const Directory& dir, UnitRef u, RoutingMethod method, RoutingDecision* d) {
  d->set_unit_code(u.code());
  d->set_unit_level(u.level());
  d->set_unit_name(u.name());
  d->set_method(method);
  d->set_path(dir.PathName(u.code()));
}

bool NumberMatches(const grid::v1::AddressRange& r, std::optional<int> number) {
  if (r.from_number() == 0 && r.to_number() == 0) return true;  // the whole street
  if (!number) return false;
  if (*number < r.from_number() || *number > r.to_number()) return false;
  if (r.parity() == grid::v1::NUMBER_PARITY_ODD) return *number % 2 == 1;
  if (r.parity() == grid::v1::NUMBER_PARITY_EVEN) return *number % 2 == 0;
  return true;
}

}  // namespace

StatusOr<RoutingDecision> Router::Route(const Directory& dir, const RouteInput& in) const {
  const grid::v1::Category* category = dir.FindCategory(in.category);
  if (category == nullptr) {
    return Error(reason::UNKNOWN_CATEGORY, "category '" + std::string(in.category) + "' is not in the directory");
  }
  RoutingDecision d;
  d.set_directory_version(dir.version());
  bool found = false;

  // 1. Explicit unit.
  if (!in.unit_code.empty()) {
    UnitRef u = dir.FindUnit(in.unit_code);
    if (u == nullptr) {
      return Error(reason::UNKNOWN_UNIT, "unit '" + std::string(in.unit_code) + "' is not in the directory");
    }
    SetUnit(dir, *u, grid::v1::ROUTING_METHOD_EXPLICIT_UNIT, &d);
    AddStep(&d, grid::v1::ROUTING_METHOD_EXPLICIT_UNIT, true, "the operator named " + Describe(*u));
    d.set_explanation("named by the operator: " + Describe(*u));
    found = true;
  }

  // 2. Location.
  if (!found && in.location) {
    const geo::Point p = coords::ToWgs84(*in.location, in.location_system);
    // "(lat, lng)" for WGS-84; for another system the point as given and the
    // converted one, so that steps read "point GCJ-02 (..) = WGS-84 (..) lies in".
    auto FormatPoint = [&](geo::Point q) {
      if (in.location_system == grid::v1::COORDINATE_SYSTEM_WGS84) return grid::FormatPoint(q);
      return std::string(coords::SystemName(in.location_system)) + " " + grid::FormatPoint(*in.location) +
             " = WGS-84 " + grid::FormatPoint(q);
    };
    auto hits = dir.grid_index().Locate(p);
    if (!hits.empty()) {
      // Hits come in index order, which is directory order; the lowest code wins.
      std::sort(hits.begin(), hits.end(),
                [&](const auto& a, const auto& b) { return dir.GridAt(a.id)->code() < dir.GridAt(b.id)->code(); });
      UnitRef g = dir.GridAt(hits[0].id);
      SetUnit(dir, *g, grid::v1::ROUTING_METHOD_LOCATION, &d);
      d.set_matched_polygon(g->code() + "#" + std::to_string(hits[0].polygon));
      std::string detail =
          "point " + FormatPoint(p) + " lies in " + Describe(*g) + ", polygon " + std::to_string(hits[0].polygon);
      if (hits.size() > 1) {
        d.set_ambiguous(true);
        for (const auto& h : hits) d.add_candidates(dir.GridAt(h.id)->code());
        detail +=
            "; it also lies in " + std::to_string(hits.size() - 1) + " overlapping grid(s), the lowest code was chosen";
      }
      AddStep(&d, grid::v1::ROUTING_METHOD_LOCATION, true, detail);
      d.set_explanation(detail);
      found = true;
    } else if (auto near = dir.grid_index().Nearest(p, options_.nearest_grid_max_meters)) {
      UnitRef g = dir.GridAt(near->id);
      SetUnit(dir, *g, grid::v1::ROUTING_METHOD_NEAREST_GRID, &d);
      char meters[32];
      std::snprintf(meters, sizeof meters, "%.0f", near->meters);
      std::string detail = "point " + FormatPoint(p) + " lies in no grid; the nearest is " + Describe(*g) + ", " +
                           meters + " m away (limit " +
                           std::to_string(static_cast<int>(options_.nearest_grid_max_meters)) + " m)";
      AddStep(&d, grid::v1::ROUTING_METHOD_LOCATION, false, "point " + FormatPoint(p) + " lies in no grid");
      AddStep(&d, grid::v1::ROUTING_METHOD_NEAREST_GRID, true, detail);
      d.set_explanation(detail);
      found = true;
    } else {
      AddStep(&d, grid::v1::ROUTING_METHOD_LOCATION, false,
              "point " + FormatPoint(p) + " lies in no grid and none is within " +
                  std::to_string(static_cast<int>(options_.nearest_grid_max_meters)) + " m");
    }
  }

  // 3. Address.
  if (!found && !in.address.empty()) {
    const address::ParsedAddress parsed = address::Parse(in.address);
    for (const std::string& street : dir.streets()) {
      if (parsed.street_part.find(street) == std::string::npos) continue;
      std::vector<std::pair<UnitRef, const grid::v1::AddressRange*>> matches;
      for (UnitRef g : dir.GridsOnStreet(street)) {
        for (const auto& r : g->address_coverage()) {
          if (address::NormaliseStreet(r.street()) == street && NumberMatches(r, parsed.number)) {
            matches.emplace_back(g, &r);
            break;
          }
        }
      }
      if (matches.empty()) continue;  // the street is known but not this number; try a shorter street
      const auto [g, entry] = matches[0];
      SetUnit(dir, *g, grid::v1::ROUTING_METHOD_ADDRESS, &d);
      std::string entry_text = entry->street();
      if (entry->from_number() || entry->to_number()) {
        entry_text += " " + std::to_string(entry->from_number()) + "-" + std::to_string(entry->to_number()) + "号";
      }
      d.set_matched_address_entry(entry_text);
      std::string detail = "address matched " + entry_text + " of " + Describe(*g);
      if (parsed.number) detail += " (house number " + std::to_string(*parsed.number) + ")";
      if (matches.size() > 1) {
        d.set_ambiguous(true);
        for (const auto& m : matches) d.add_candidates(m.first->code());
        detail += "; " + std::to_string(matches.size()) + " grids cover it, the lowest code was chosen";
      }
      AddStep(&d, grid::v1::ROUTING_METHOD_ADDRESS, true, detail);
      d.set_explanation(detail);
      found = true;
      break;
    }
    if (!found) AddStep(&d, grid::v1::ROUTING_METHOD_ADDRESS, false, "no grid covers the address");
  }

  // 4. Category rules: the category's default, or the most specific rule of
  // the unit found so far (else of the caller's scope).
  const CategoryHandling handling =
      dir.HandlingFor(*category, found ? std::string_view(d.unit_code()) : in.fallback_unit);
  std::string rule_source = "category " + category->name();
  if (handling.rule != nullptr) {
    UnitRef owner = dir.FindUnit(handling.rule->unit_code());
    rule_source += " (rule of " + Describe(*owner) + ")";
  }
  switch (handling.handling) {
    case grid::v1::HANDLING_DEPARTMENT: {
      const auto* dep = dir.FindDepartment(handling.department_codes->Get(0));
      d.set_department_code(dep->code());
      std::string detail = rule_source + " goes to " + dep->name() + " (" + dep->code() + ")";
      AddStep(&d, grid::v1::ROUTING_METHOD_CATEGORY_RULE, true, detail);
      if (!found) {
        UnitRef u = dir.FindUnit(dep->unit_code());
        SetUnit(dir, *u, grid::v1::ROUTING_METHOD_CATEGORY_RULE, &d);
        d.set_explanation(detail);
        found = true;
      } else {
        d.set_explanation(d.explanation() + "; " + detail);
      }
      break;
    }
    case grid::v1::HANDLING_GRID_WITH_SUMMONS: {
      std::string names;
      for (const auto& code : *handling.department_codes) {
        d.add_summoned_department_codes(code);
        names += (names.empty() ? "" : ", ") + dir.FindDepartment(code)->name();
      }
      AddStep(&d, grid::v1::ROUTING_METHOD_CATEGORY_RULE, true,
              rule_source + " summons " + names + " alongside the grid");
      break;
    }
    default:
      if (handling.rule != nullptr) {
        AddStep(&d, grid::v1::ROUTING_METHOD_CATEGORY_RULE, true, rule_source + ": the grid handles it");
      }
      break;
  }

  // 5. Fallback.
  if (!found) {
    std::string_view unit = in.fallback_unit;
    std::string source = "the caller's scope";
    if (unit.empty() && !options_.triage_unit.empty()) {
      unit = options_.triage_unit;
      source = "the configured triage unit";
    }
    if (unit.empty() && dir.Children("").size() == 1) {
      unit = dir.Children("")[0]->code();
      source = "the directory's root";
    }
    UnitRef u = unit.empty() ? UnitRef() : dir.FindUnit(unit);
    if (u == nullptr) {
      return Error(reason::UNROUTABLE, "no unit could be determined: give a location, an address or a unit_code");
    }
    SetUnit(dir, *u, grid::v1::ROUTING_METHOD_FALLBACK, &d);
    d.set_needs_manual_dispatch(true);
    std::string detail = "兜底: " + Describe(*u) + ", " + source + ", takes it for manual dispatch";
    AddStep(&d, grid::v1::ROUTING_METHOD_FALLBACK, true, detail);
    d.set_explanation(detail);
  } else if (d.unit_level() != grid::v1::UNIT_LEVEL_GRID && d.department_code().empty()) {
    d.set_needs_manual_dispatch(true);  // a community or town named explicitly dispatches to its grids
  }

  if (d.unit_level() == grid::v1::UNIT_LEVEL_GRID && d.department_code().empty()) {
    ChooseAssignee(dir, *handling.required_skills, &d);
  }
  return d;
}

void Router::ChooseAssignee(const Directory& dir,
                            const google::protobuf::RepeatedPtrField<std::string>& required_skills,
                            RoutingDecision* d) const {
  auto has_skills = [&](const grid::v1::Member& m) {
    for (const auto& skill : required_skills) {
      if (std::find(m.skills().begin(), m.skills().end(), skill) == m.skills().end()) return false;
    }
    return true;
  };
  // The grid's own members first, then the community's (in-service members
  // and talents report to the community).
  UnitRef grid_unit = dir.FindUnit(d->unit_code());
  const grid::v1::Member* best = nullptr;
  uint32_t best_load = 0;
  std::string where;
  for (std::string_view scope : {std::string_view(grid_unit->code()), std::string_view(grid_unit->parent_code())}) {
    for (const auto* m : dir.MembersOf(scope)) {
      if (!m->on_duty() || !has_skills(*m)) continue;
      uint32_t load = load_ ? load_(m->id()) : 0;
      if (best == nullptr || load < best_load) {  // members are in id order: ties keep the lower id
        best = m;
        best_load = load;
      }
    }
    if (best != nullptr) {
      where = scope == grid_unit->code() ? "the grid" : "the community";
      break;
    }
  }
  if (best == nullptr) {
    d->set_assignee_explanation(
        "no on-duty member of the grid or its community has the skills required; the grid "
        "party group assigns it by hand");
    return;
  }
  d->set_assignee_member_id(best->id());
  std::string skills;
  for (const auto& s : required_skills) skills += (skills.empty() ? "" : ", ") + s;
  d->set_assignee_explanation(best->name() + " (" + best->id() + ") of " + where + ": on duty" +
                              (skills.empty() ? "" : ", has " + skills) + ", " + std::to_string(best_load) +
                              " open case(s), the least load" + (load_ ? "" : " (loads not counted)"));
}

}  // namespace grid
