// Directory snapshot: validation and indexes. See directory.h.
#include "engine/directory.h"

#include <algorithm>
#include <unordered_set>

#include "engine/address.h"
#include "engine/text.h"

namespace grid {
namespace {

using grid::v1::Unit;
using grid::v1::UnitLevel;

const std::vector<const Unit*> kNoUnits;

// How far a grid's vertex may stray outside its community's boundary
// (rounding in clipped or re-projected data) before the import is refused.
constexpr double kGridOutsideToleranceMeters = 1.0;
const std::vector<const grid::v1::Member*> kNoMembers;

// Codes and ids: 1..64 characters of [0-9A-Za-z._-].
bool IsValidCode(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidName(std::string_view name) {
  return !name.empty() && name.size() <= 256 && text::IsValidUtf8(name);
}

Status Bad(std::string reason, std::string what) {
  return InvalidArgument(std::move(reason), std::move(what));
}

}  // namespace

std::shared_ptr<const Directory> Directory::Empty() {
  static const std::shared_ptr<const Directory> empty(new Directory());
  return empty;
}

Status Directory::IndexEntries(Directory& dir) {
  Directory* const d = &dir;
  const auto& c = d->content_;
  d->units_.reserve(c.units_size());
  for (const Unit& u : c.units()) {
    if (!IsValidCode(u.code())) return Bad("INVALID_CODE", "unit code '" + u.code() + "' is not 1-64 characters of [0-9A-Za-z._-]");
    if (u.level() <= grid::v1::UNIT_LEVEL_UNSPECIFIED || u.level() > grid::v1::UNIT_LEVEL_GRID ||
        !grid::v1::UnitLevel_IsValid(u.level())) {
      return Bad("INVALID_LEVEL", "unit " + u.code() + ": level is missing or unknown");
    }
    if (!IsValidName(u.name())) return Bad("INVALID_NAME", "unit " + u.code() + ": name is empty, too long or not UTF-8");
    if (!d->units_.emplace(u.code(), &u).second) return Bad("DUPLICATE_CODE", "unit " + u.code() + " appears twice");
  }

  for (const Unit& u : c.units()) {
    if (!u.parent_code().empty()) {
      const Unit* parent = d->FindUnit(u.parent_code());
      if (parent == nullptr) {
        return Bad("UNKNOWN_PARENT", "unit " + u.code() + ": parent " + u.parent_code() + " does not exist");
      }
      if (parent->level() >= u.level()) {
        return Bad("PARENT_LEVEL", "unit " + u.code() + " (" + UnitLevel_Name(u.level()) + ") cannot sit below " +
                                       parent->code() + " (" + UnitLevel_Name(parent->level()) + ")");
      }
      if (u.level() == grid::v1::UNIT_LEVEL_GRID && parent->level() != grid::v1::UNIT_LEVEL_COMMUNITY) {
        return Bad("PARENT_LEVEL", "grid " + u.code() + " must sit below a community, not " + parent->code());
      }
    } else if (u.level() == grid::v1::UNIT_LEVEL_GRID) {
      return Bad("UNKNOWN_PARENT", "grid " + u.code() + " has no parent community");
    }
    d->children_[u.parent_code()].push_back(&u);
    if (u.level() == grid::v1::UNIT_LEVEL_GRID) {
      for (const auto& entry : u.address_coverage()) {
        if (!text::IsValidUtf8(entry.street()) || entry.street().empty()) {
          return Bad("INVALID_ADDRESS_COVERAGE", "grid " + u.code() + ": a coverage entry has an empty or invalid street");
        }
        if (entry.from_number() < 0 || entry.to_number() < entry.from_number()) {
          return Bad("INVALID_ADDRESS_COVERAGE", "grid " + u.code() + ": street " + entry.street() +
                                                     " has the number range " + std::to_string(entry.from_number()) +
                                                     "-" + std::to_string(entry.to_number()));
        }
        auto& grids = d->street_grids_[address::NormaliseStreet(entry.street())];
        if (grids.empty() || grids.back() != &u) grids.push_back(&u);
      }
    }
  }
  for (auto& [parent, kids] : d->children_) {
    std::sort(kids.begin(), kids.end(), [](const Unit* a, const Unit* b) { return a->code() < b->code(); });
  }
  for (auto& [street, grids] : d->street_grids_) {
    std::sort(grids.begin(), grids.end(), [](const Unit* a, const Unit* b) { return a->code() < b->code(); });
    d->streets_.push_back(street);
  }
  std::sort(d->streets_.begin(), d->streets_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });

  for (const auto& m : c.members()) {
    if (!IsValidCode(m.id())) return Bad("INVALID_CODE", "member id '" + m.id() + "' is not 1-64 characters of [0-9A-Za-z._-]");
    if (!IsValidName(m.name())) return Bad("INVALID_NAME", "member " + m.id() + ": name is empty, too long or not UTF-8");
    if (d->FindUnit(m.unit_code()) == nullptr) {
      return Bad("UNKNOWN_UNIT", "member " + m.id() + ": unit " + m.unit_code() + " does not exist");
    }
    if (!d->members_.emplace(m.id(), &m).second) return Bad("DUPLICATE_MEMBER", "member " + m.id() + " appears twice");
    d->unit_members_[m.unit_code()].push_back(&m);
  }
  for (auto& [unit, ms] : d->unit_members_) {
    std::sort(ms.begin(), ms.end(), [](const auto* a, const auto* b) { return a->id() < b->id(); });
  }
  for (const auto& dep : c.departments()) {
    if (!IsValidCode(dep.code())) return Bad("INVALID_CODE", "department code '" + dep.code() + "' is invalid");
    if (!IsValidName(dep.name())) return Bad("INVALID_NAME", "department " + dep.code() + ": name is empty or invalid");
    if (d->FindUnit(dep.unit_code()) == nullptr) {
      return Bad("UNKNOWN_UNIT", "department " + dep.code() + ": unit " + dep.unit_code() + " does not exist");
    }
    if (!d->departments_.emplace(dep.code(), &dep).second) return Bad("DUPLICATE_CODE", "department " + dep.code() + " appears twice");
  }
  for (const auto& cat : c.categories()) {
    if (!IsValidCode(cat.code())) return Bad("INVALID_CODE", "category code '" + cat.code() + "' is invalid");
    if (!IsValidName(cat.name())) return Bad("INVALID_NAME", "category " + cat.code() + ": name is empty or invalid");
    if (cat.handling() == grid::v1::HANDLING_UNSPECIFIED || !grid::v1::Handling_IsValid(cat.handling())) {
      return Bad("INVALID_CATEGORY", "category " + cat.code() + ": handling is missing or unknown");
    }
    if (cat.handling() != grid::v1::HANDLING_GRID && cat.department_codes().empty()) {
      return Bad("INVALID_CATEGORY", "category " + cat.code() + " needs at least one department");
    }
    for (const auto& dep : cat.department_codes()) {
      if (d->FindDepartment(dep) == nullptr) {
        return Bad("UNKNOWN_DEPARTMENT", "category " + cat.code() + ": department " + dep + " does not exist");
      }
    }
    if (!d->categories_.emplace(cat.code(), &cat).second) return Bad("DUPLICATE_CODE", "category " + cat.code() + " appears twice");
  }

  for (const auto& rule : c.category_rules()) {
    const std::string what = "rule of " + rule.unit_code() + " for " + rule.category();
    if (d->FindUnit(rule.unit_code()) == nullptr) return Bad("INVALID_RULE", what + ": unit does not exist");
    if (d->FindCategory(rule.category()) == nullptr) return Bad("INVALID_RULE", what + ": category does not exist");
    if (rule.handling() == grid::v1::HANDLING_UNSPECIFIED || !grid::v1::Handling_IsValid(rule.handling())) {
      return Bad("INVALID_RULE", what + ": handling is missing or unknown");
    }
    if (rule.handling() != grid::v1::HANDLING_GRID && rule.department_codes().empty()) {
      return Bad("INVALID_RULE", what + ": needs at least one department");
    }
    for (const auto& dep : rule.department_codes()) {
      if (d->FindDepartment(dep) == nullptr) return Bad("UNKNOWN_DEPARTMENT", what + ": department " + dep + " does not exist");
    }
    if (!d->rules_.emplace(rule.unit_code() + '\0' + rule.category(), &rule).second) {
      return Bad("INVALID_RULE", what + " appears twice");
    }
  }
  return Status::Ok();
}

// The grids' shapes while a directory is being built: each with whether it
// is new or changed (its geometry or its unit came with this version).
struct Directory::Geometry {
  struct GridShape {
    const Unit* unit;
    geo::MultiPolygon shape;
    bool changed;
  };
  std::vector<GridShape> grids;
  std::unordered_set<std::string_view> changed_areas;

  // Rejects a grid that strays outside its community's boundary, for every
  // pair where the grid or the community changed (all of them on a Build).
  Status CheckWithinCommunities(const Directory& d) const {
    for (const GridShape& g : grids) {
      const Unit* community = d.FindUnit(g.unit->parent_code());
      const geo::MultiPolygon* area = d.AreaShape(community->code());
      if (area == nullptr || !(g.changed || changed_areas.contains(community->code()))) continue;
      for (const auto& polygon : g.shape.polygons) {
        for (const geo::Point& p : polygon.rings[0].points) {
          if (geo::ContainingPolygon(*area, p) >= 0) continue;
          const double off = geo::DistanceToShapeMeters(*area, p);
          if (off <= kGridOutsideToleranceMeters) continue;
          return Bad("GRID_OUTSIDE_COMMUNITY", "grid " + g.unit->code() + ": vertex (" + std::to_string(p.lat) + ", " +
                                                   std::to_string(p.lng) + ") lies " +
                                                   std::to_string(static_cast<int>(off)) + " m outside community " +
                                                   community->code());
        }
      }
    }
    return Status::Ok();
  }

  // Takes the shape of every unit that carries its boundary inline.
  Status TakeInline(Directory& d) {
    for (const Unit& u : d.content_.units()) {
      if (u.boundary().polygons_size() == 0) continue;
      auto shape = geo::FromProto(u.boundary());
      if (!shape.ok()) return Bad("INVALID_GEOMETRY", "unit " + u.code() + ": " + shape.status().ToString());
      if (u.level() == grid::v1::UNIT_LEVEL_GRID) {
        grids.push_back(GridShape{&u, std::move(shape).value(), true});
      } else {
        d.area_shapes_[u.code()] = std::move(shape).value();
        changed_areas.insert(u.code());
      }
    }
    return Status::Ok();
  }

  // Indexes the grids in code order.
  void Finish(Directory& d) {
    std::sort(grids.begin(), grids.end(),
              [](const GridShape& a, const GridShape& b) { return a.unit->code() < b.unit->code(); });
    geo::ShapeIndex::Builder builder;
    d.indexed_grids_.reserve(grids.size());
    for (GridShape& g : grids) {
      d.indexed_grids_.push_back(g.unit);
      builder.Add(g.shape);
      g.shape = geo::MultiPolygon();
    }
    grids.clear();
    d.grid_index_ = builder.Finish();
  }
};

void Directory::StripBoundaries() {
  for (Unit& u : *content_.mutable_units()) {
    if (u.has_boundary()) u.clear_boundary();
  }
}

StatusOr<std::shared_ptr<const Directory>> Directory::Build(grid::v1::DirectoryContent content,
                                                            uint64_t version) {
  std::shared_ptr<Directory> d(new Directory());
  d->version_ = version;
  d->content_ = std::move(content);
  GRID_RETURN_IF_ERROR(IndexEntries(*d));
  Geometry geometry;
  GRID_RETURN_IF_ERROR(geometry.TakeInline(*d));
  GRID_RETURN_IF_ERROR(geometry.CheckWithinCommunities(*d));
  geometry.Finish(*d);
  d->StripBoundaries();
  return std::shared_ptr<const Directory>(std::move(d));
}

StatusOr<std::shared_ptr<const Directory>> Directory::Apply(const Directory& base,
                                                            const grid::v1::DirectoryContent& delta, bool replace,
                                                            uint64_t version) {
  if (replace) return Build(delta, version);
  std::shared_ptr<Directory> d(new Directory());
  d->version_ = version;
  d->content_ = MergeContent(base.content_, delta, /*replace=*/false);
  GRID_RETURN_IF_ERROR(IndexEntries(*d));
  std::unordered_set<std::string_view> from_delta;
  for (const Unit& u : delta.units()) from_delta.insert(u.code());
  Geometry geometry;
  GRID_RETURN_IF_ERROR(geometry.TakeInline(*d));  // the delta's boundaries
  for (const Unit& u : d->content_.units()) {
    if (from_delta.contains(u.code())) continue;  // the delta's unit decides
    if (u.level() == grid::v1::UNIT_LEVEL_GRID) {
      if (auto shape = base.GridShape(u.code())) {
        geometry.grids.push_back(Geometry::GridShape{&u, std::move(*shape), false});
      }
    } else if (const geo::MultiPolygon* area = base.AreaShape(u.code())) {
      d->area_shapes_[u.code()] = *area;
    }
  }
  // A unit of the delta that moved to another community counts as changed:
  // it is in the delta, so its grid shape is marked changed (inline) or it
  // has no boundary at all.
  GRID_RETURN_IF_ERROR(geometry.CheckWithinCommunities(*d));
  geometry.Finish(*d);
  d->StripBoundaries();
  return std::shared_ptr<const Directory>(std::move(d));
}

namespace {

constexpr std::string_view kIndexLabelMagic = "gridcase-directory-index 1\n";

}  // namespace

std::string Directory::IndexLabel() const {
  std::string label(kIndexLabelMagic);
  label += "version " + std::to_string(version_) + "\ngrids " + std::to_string(indexed_grids_.size()) + "\n";
  for (const Unit* g : indexed_grids_) {
    label += g->code();
    label += '\n';
  }
  return label;
}

Status Directory::SaveIndex(const std::string& path) const { return grid_index_.Save(path, IndexLabel()); }

StatusOr<std::shared_ptr<const Directory>> Directory::Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                              const BoundarySource& boundaries,
                                                              const std::string& index_path, RestoreReport* report) {
  RestoreReport local;
  if (report == nullptr) report = &local;
  std::shared_ptr<Directory> d(new Directory());
  d->version_ = version;
  d->content_ = std::move(content);
  GRID_RETURN_IF_ERROR(IndexEntries(*d));
  Geometry geometry;
  GRID_RETURN_IF_ERROR(geometry.TakeInline(*d));  // a store from before the split
  GRID_RETURN_IF_ERROR(boundaries(false, [&](std::string_view code, const grid::v1::Boundary& b) -> Status {
    const Unit* u = d->FindUnit(code);
    if (u == nullptr || u->level() == grid::v1::UNIT_LEVEL_GRID) {
      return Status(StatusCode::kDataLoss, "STORED_DIRECTORY_INVALID", "a boundary of no unit: " + std::string(code));
    }
    auto shape = geo::FromProto(b);
    if (!shape.ok()) return Bad("INVALID_GEOMETRY", "unit " + std::string(code) + ": " + shape.status().ToString());
    d->area_shapes_[u->code()] = std::move(shape).value();
    return Status::Ok();
  }));

  // The saved index, when it was saved for exactly this version and grids.
  std::string why;
  if (index_path.empty()) {
    why = "no index path";
  } else if (auto loaded = [&]() -> Status {
               std::string label;
               auto index = geo::ShapeIndex::Load(index_path, &label);
               if (!index.ok()) return index.status();
               std::string_view rest(label);
               if (!rest.starts_with(kIndexLabelMagic)) return InvalidArgument("STALE_INDEX", "not a directory index");
               rest.remove_prefix(kIndexLabelMagic.size());
               auto line = [&rest]() {
                 const size_t nl = rest.find('\n');
                 std::string_view l = rest.substr(0, nl);
                 rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
                 return l;
               };
               if (line() != "version " + std::to_string(version)) {
                 return InvalidArgument("STALE_INDEX", "saved for another directory version");
               }
               const std::string_view count = line();
               std::vector<const Unit*> grids;
               grids.reserve(index->size());
               while (!rest.empty()) {
                 const Unit* u = d->FindUnit(line());
                 if (u == nullptr || u->level() != grid::v1::UNIT_LEVEL_GRID ||
                     (!grids.empty() && !(grids.back()->code() < u->code()))) {
                   return InvalidArgument("STALE_INDEX", "its grids are not this directory's");
                 }
                 grids.push_back(u);
               }
               if (count != "grids " + std::to_string(grids.size()) || grids.size() != index->size()) {
                 return InvalidArgument("STALE_INDEX", "its grid count does not match");
               }
               d->indexed_grids_ = std::move(grids);
               d->grid_index_ = std::move(index).value();
               return Status::Ok();
             }();
             loaded.ok()) {
    report->origin = IndexOrigin::kLoaded;
    report->why_rebuilt.clear();
    geometry.grids.clear();
    d->StripBoundaries();
    return std::shared_ptr<const Directory>(std::move(d));
  } else {
    why = loaded.ToString();
  }

  // Rebuild: the grids' boundaries from the source, merged in code order
  // with any carried inline.
  report->origin = IndexOrigin::kRebuilt;
  report->why_rebuilt = why;
  std::sort(geometry.grids.begin(), geometry.grids.end(),
            [](const Geometry::GridShape& a, const Geometry::GridShape& b) { return a.unit->code() < b.unit->code(); });
  size_t next_inline = 0;
  geo::ShapeIndex::Builder builder;
  auto add_inline_before = [&](std::string_view code) {
    while (next_inline < geometry.grids.size() && geometry.grids[next_inline].unit->code() < code) {
      d->indexed_grids_.push_back(geometry.grids[next_inline].unit);
      builder.Add(geometry.grids[next_inline].shape);
      geometry.grids[next_inline++].shape = geo::MultiPolygon();
    }
  };
  std::string last;
  GRID_RETURN_IF_ERROR(boundaries(true, [&](std::string_view code, const grid::v1::Boundary& b) -> Status {
    const Unit* u = d->FindUnit(code);
    if (u == nullptr || u->level() != grid::v1::UNIT_LEVEL_GRID || (!last.empty() && !(last < code))) {
      return Status(StatusCode::kDataLoss, "STORED_DIRECTORY_INVALID", "a grid boundary of no grid: " + std::string(code));
    }
    last.assign(code);
    auto shape = geo::FromProto(b);
    if (!shape.ok()) return Bad("INVALID_GEOMETRY", "unit " + std::string(code) + ": " + shape.status().ToString());
    add_inline_before(code);
    d->indexed_grids_.push_back(u);
    builder.Add(*shape);
    return Status::Ok();
  }));
  add_inline_before(std::string_view("\x7f"));  // codes are ASCII below 0x7f: the rest
  geometry.grids.clear();
  d->grid_index_ = builder.Finish();
  d->StripBoundaries();
  return std::shared_ptr<const Directory>(std::move(d));
}

bool Directory::HasBoundary(std::string_view code) const {
  return GridId(code) >= 0 || area_shapes_.contains(code);
}

int64_t Directory::GridId(std::string_view code) const {
  auto it = std::lower_bound(indexed_grids_.begin(), indexed_grids_.end(), code,
                             [](const Unit* u, std::string_view c) { return u->code() < c; });
  if (it == indexed_grids_.end() || (*it)->code() != code) return -1;
  return it - indexed_grids_.begin();
}

std::optional<geo::MultiPolygon> Directory::GridShape(std::string_view code) const {
  const int64_t id = GridId(code);
  if (id < 0) return std::nullopt;
  return grid_index_.shape(static_cast<uint32_t>(id));
}

const geo::MultiPolygon* Directory::AreaShape(std::string_view code) const {
  auto it = area_shapes_.find(code);
  return it == area_shapes_.end() ? nullptr : &it->second;
}

const Unit* Directory::FindUnit(std::string_view code) const {
  auto it = units_.find(code);
  return it == units_.end() ? nullptr : it->second;
}

const grid::v1::Member* Directory::FindMember(std::string_view id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : it->second;
}

const grid::v1::Department* Directory::FindDepartment(std::string_view code) const {
  auto it = departments_.find(code);
  return it == departments_.end() ? nullptr : it->second;
}

const grid::v1::Category* Directory::FindCategory(std::string_view code) const {
  auto it = categories_.find(code);
  return it == categories_.end() ? nullptr : it->second;
}

CategoryHandling Directory::HandlingFor(const grid::v1::Category& category, std::string_view unit_code) const {
  CategoryHandling h{category.handling(), &category.department_codes(), &category.required_skills(), nullptr};
  if (rules_.empty()) return h;
  std::string key;
  for (const Unit* u = FindUnit(unit_code); u != nullptr; u = FindUnit(u->parent_code())) {
    key.assign(u->code()).push_back('\0');
    key.append(category.code());
    if (auto it = rules_.find(key); it != rules_.end()) {
      const auto* r = it->second;
      return CategoryHandling{r->handling(), &r->department_codes(), &r->required_skills(), r};
    }
    if (u->parent_code().empty()) break;
  }
  return h;
}

const std::vector<const Unit*>& Directory::Children(std::string_view code) const {
  auto it = children_.find(code);
  return it == children_.end() ? kNoUnits : it->second;
}

const std::vector<const grid::v1::Member*>& Directory::MembersOf(std::string_view code) const {
  auto it = unit_members_.find(code);
  return it == unit_members_.end() ? kNoMembers : it->second;
}

std::vector<const Unit*> Directory::Ancestors(std::string_view code) const {
  std::vector<const Unit*> out;
  const Unit* u = FindUnit(code);
  // Parents were validated to exist and to sit at a higher level, so this ends.
  while (u != nullptr && !u->parent_code().empty()) {
    u = FindUnit(u->parent_code());
    if (u != nullptr) out.push_back(u);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string Directory::PathName(std::string_view code) const {
  std::string path;
  for (const Unit* a : Ancestors(code)) {
    path += a->name();
    path += " / ";
  }
  const Unit* u = FindUnit(code);
  if (u != nullptr) path += u->name();
  return path;
}

bool Directory::IsWithin(std::string_view code, std::string_view ancestor) const {
  if (code == ancestor) return true;
  const Unit* u = FindUnit(code);
  while (u != nullptr && !u->parent_code().empty()) {
    if (u->parent_code() == ancestor) return true;
    u = FindUnit(u->parent_code());
  }
  return false;
}

const std::vector<const Unit*>& Directory::GridsOnStreet(std::string_view normalised) const {
  auto it = street_grids_.find(std::string(normalised));
  return it == street_grids_.end() ? kNoUnits : it->second;
}

grid::v1::DirectoryContent MergeContent(const grid::v1::DirectoryContent& base,
                                        const grid::v1::DirectoryContent& delta, bool replace) {
  if (replace) return delta;
  grid::v1::DirectoryContent out;
  // Entries of base not replaced by delta keep their order; delta's follow.
  auto merge = [](const auto& base_items, const auto& delta_items, auto* out_items, auto key) {
    std::unordered_set<std::string_view> replaced;
    replaced.reserve(delta_items.size());
    for (const auto& item : delta_items) replaced.insert(key(item));
    out_items->Reserve(base_items.size() + delta_items.size());
    for (const auto& item : base_items) {
      if (!replaced.contains(key(item))) *out_items->Add() = item;
    }
    for (const auto& item : delta_items) *out_items->Add() = item;
  };
  merge(base.units(), delta.units(), out.mutable_units(), [](const auto& u) -> std::string_view { return u.code(); });
  merge(base.members(), delta.members(), out.mutable_members(), [](const auto& m) -> std::string_view { return m.id(); });
  merge(base.departments(), delta.departments(), out.mutable_departments(),
        [](const auto& x) -> std::string_view { return x.code(); });
  merge(base.categories(), delta.categories(), out.mutable_categories(),
        [](const auto& x) -> std::string_view { return x.code(); });
  // Rules are keyed by unit and category together.
  auto rule_key = [](const grid::v1::CategoryRule& r) { return r.unit_code() + '\0' + r.category(); };
  std::unordered_set<std::string> replaced;
  for (const auto& r : delta.category_rules()) replaced.insert(rule_key(r));
  for (const auto& r : base.category_rules()) {
    if (!replaced.contains(rule_key(r))) *out.add_category_rules() = r;
  }
  for (const auto& r : delta.category_rules()) *out.add_category_rules() = r;
  return out;
}

}  // namespace grid
