// Directory snapshot: validation and indexes. See directory.h; the saved
// files are directory_saved.cc, the restart is directory_restore.cc.
//
// Thread-safety: a Directory is immutable once built (directory.h).
#include "engine/directory.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "engine/address.h"
#include "engine/directory_internal.h"
#include "engine/reasons.h"
#include "engine/text.h"

namespace grid {

using namespace directory_internal;

namespace {

using grid::v1::Unit;
using grid::v1::UnitLevel;

const std::vector<const grid::v1::Member*> kNoMembers;

// Not empty, not white space alone (of any Unicode kind), at most 256 bytes of
// UTF-8. (Control and bidirectional characters: CheckCharacters.)
bool IsValidName(std::string_view name) {
  return !name.empty() && name.size() <= 256 && text::IsValidUtf8(name) && !text::IsBlank(name);
}

}  // namespace

std::shared_ptr<const Directory> Directory::Empty() {
  static const std::shared_ptr<const Directory> empty(new Directory());
  return empty;
}

Status Directory::IndexUnits(Directory& d, const std::vector<UnitInput>& in) {
  std::vector<uint32_t> index_of;
  uint32_t first_duplicate = UnitTable::kNone;
  auto table = UnitTable::Build(in, &index_of, &first_duplicate);
  if (!table.ok()) return table.status();
  d.units_ = std::move(table).value();
  for (uint32_t i = 0; i < in.size(); ++i) {
    const UnitInput& u = in[i];
    const std::string code(u.code);
    if (!IsValidCode(u.code))
      return Bad(reason::INVALID_CODE, "unit code '" + code + "' is not 1-64 characters of [0-9A-Za-z._-]");
    if (u.level <= grid::v1::UNIT_LEVEL_UNSPECIFIED || u.level > grid::v1::UNIT_LEVEL_GRID ||
        !grid::v1::UnitLevel_IsValid(u.level)) {
      return Bad(reason::INVALID_LEVEL, "unit " + code + ": level is missing or unknown");
    }
    if (!IsValidName(u.name))
      return Bad(reason::INVALID_NAME, "unit " + code + ": name is empty, too long or not UTF-8");
    if (i == first_duplicate) return Bad(reason::DUPLICATE_CODE, "unit " + code + " appears twice");
  }

  for (uint32_t i = 0; i < in.size(); ++i) {
    const UnitInput& u = in[i];
    const std::string code(u.code);
    if (!u.parent_code.empty()) {
      const UnitRef parent = d.units_.at(index_of[i]).parent();
      if (parent == nullptr) {
        return Bad(reason::UNKNOWN_PARENT,
                   "unit " + code + ": parent " + std::string(u.parent_code) + " does not exist");
      }
      if (parent.level() >= u.level) {
        return Bad(reason::PARENT_LEVEL, "unit " + code + " (" + UnitLevel_Name(u.level) + ") cannot sit below " +
                                             std::string(parent.code()) + " (" + UnitLevel_Name(parent.level()) + ")");
      }
      if (u.level == grid::v1::UNIT_LEVEL_GRID && parent.level() != grid::v1::UNIT_LEVEL_COMMUNITY) {
        return Bad(reason::PARENT_LEVEL,
                   "grid " + code + " must sit below a community, not " + std::string(parent.code()));
      }
    } else if (u.level == grid::v1::UNIT_LEVEL_GRID) {
      return Bad(reason::UNKNOWN_PARENT, "grid " + code + " has no parent community");
    }
    if (u.level == grid::v1::UNIT_LEVEL_GRID && u.extra != nullptr) {
      for (const auto& entry : u.extra->address_coverage()) {
        if (!text::IsValidUtf8(entry.street()) || entry.street().empty()) {
          return Bad(reason::INVALID_ADDRESS_COVERAGE,
                     "grid " + code + ": a coverage entry has an empty or invalid street");
        }
        if (entry.from_number() < 0 || entry.to_number() < entry.from_number()) {
          return Bad(reason::INVALID_ADDRESS_COVERAGE,
                     "grid " + code + ": street " + entry.street() + " has the number range " +
                         std::to_string(entry.from_number()) + "-" + std::to_string(entry.to_number()));
        }
      }
    }
  }
  return Status::Ok();
}

Status Directory::IndexEntries(Directory& dir) {
  Directory* const d = &dir;
  const auto& c = d->content_;
  // Streets of the grids' address coverage (validated by IndexUnits).
  for (const UnitRef u : d->units_.WithExtras()) {
    if (u.level() != grid::v1::UNIT_LEVEL_GRID) continue;
    for (const auto& entry : u.address_coverage()) {
      auto& grids = d->street_grids_[address::NormaliseStreet(entry.street())];
      if (grids.empty() || grids.back() != u.index()) grids.push_back(u.index());
    }
  }
  for (auto& [street, grids] : d->street_grids_) {
    std::sort(grids.begin(), grids.end());  // index order is code order
    d->streets_.push_back(street);
  }
  std::sort(d->streets_.begin(), d->streets_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });

  for (const auto& m : c.members()) {
    if (!IsValidCode(m.id()))
      return Bad(reason::INVALID_CODE, "member id '" + m.id() + "' is not 1-64 characters of [0-9A-Za-z._-]");
    if (!IsValidName(m.name()))
      return Bad(reason::INVALID_NAME, "member " + m.id() + ": name is empty, too long or not UTF-8");
    if (d->FindUnit(m.unit_code()) == nullptr) {
      return Bad(reason::UNKNOWN_UNIT, "member " + m.id() + ": unit " + m.unit_code() + " does not exist");
    }
    if (!d->members_.emplace(m.id(), &m).second)
      return Bad(reason::DUPLICATE_MEMBER, "member " + m.id() + " appears twice");
    d->unit_members_[m.unit_code()].push_back(&m);
  }
  for (auto& [unit, ms] : d->unit_members_) {
    std::sort(ms.begin(), ms.end(), [](const auto* a, const auto* b) { return a->id() < b->id(); });
  }
  for (const auto& dep : c.departments()) {
    if (!IsValidCode(dep.code())) return Bad(reason::INVALID_CODE, "department code '" + dep.code() + "' is invalid");
    if (!IsValidName(dep.name()))
      return Bad(reason::INVALID_NAME, "department " + dep.code() + ": name is empty or invalid");
    if (d->FindUnit(dep.unit_code()) == nullptr) {
      return Bad(reason::UNKNOWN_UNIT, "department " + dep.code() + ": unit " + dep.unit_code() + " does not exist");
    }
    if (!d->departments_.emplace(dep.code(), &dep).second)
      return Bad(reason::DUPLICATE_CODE, "department " + dep.code() + " appears twice");
  }
  for (const auto& cat : c.categories()) {
    if (!IsValidCode(cat.code())) return Bad(reason::INVALID_CODE, "category code '" + cat.code() + "' is invalid");
    if (!IsValidName(cat.name()))
      return Bad(reason::INVALID_NAME, "category " + cat.code() + ": name is empty or invalid");
    if (cat.handling() == grid::v1::HANDLING_UNSPECIFIED || !grid::v1::Handling_IsValid(cat.handling())) {
      return Bad(reason::INVALID_CATEGORY, "category " + cat.code() + ": handling is missing or unknown");
    }
    if (cat.handling() != grid::v1::HANDLING_GRID && cat.department_codes().empty()) {
      return Bad(reason::INVALID_CATEGORY, "category " + cat.code() + " needs at least one department");
    }
    for (const auto& dep : cat.department_codes()) {
      if (d->FindDepartment(dep) == nullptr) {
        return Bad(reason::UNKNOWN_DEPARTMENT, "category " + cat.code() + ": department " + dep + " does not exist");
      }
    }
    if (!d->categories_.emplace(cat.code(), &cat).second)
      return Bad(reason::DUPLICATE_CODE, "category " + cat.code() + " appears twice");
  }

  for (const auto& rule : c.category_rules()) {
    const std::string what = "rule of " + rule.unit_code() + " for " + rule.category();
    if (d->FindUnit(rule.unit_code()) == nullptr) return Bad(reason::INVALID_RULE, what + ": unit does not exist");
    if (d->FindCategory(rule.category()) == nullptr)
      return Bad(reason::INVALID_RULE, what + ": category does not exist");
    if (rule.handling() == grid::v1::HANDLING_UNSPECIFIED || !grid::v1::Handling_IsValid(rule.handling())) {
      return Bad(reason::INVALID_RULE, what + ": handling is missing or unknown");
    }
    if (rule.handling() != grid::v1::HANDLING_GRID && rule.department_codes().empty()) {
      return Bad(reason::INVALID_RULE, what + ": needs at least one department");
    }
    for (const auto& dep : rule.department_codes()) {
      if (d->FindDepartment(dep) == nullptr)
        return Bad(reason::UNKNOWN_DEPARTMENT, what + ": department " + dep + " does not exist");
    }
    if (!d->rules_.emplace(rule.unit_code() + '\0' + rule.category(), &rule).second) {
      return Bad(reason::INVALID_RULE, what + " appears twice");
    }
  }
  return Status::Ok();
}

StatusOr<std::shared_ptr<const Directory>> Directory::Build(grid::v1::DirectoryContent content, uint64_t version) {
  std::shared_ptr<Directory> d(new Directory());
  d->version_ = version;
  d->content_ = std::move(content);
  GRID_RETURN_IF_ERROR(IndexUnits(*d, InputsOf(d->content_.units())));
  GRID_RETURN_IF_ERROR(IndexEntries(*d));
  Geometry geometry;
  GRID_RETURN_IF_ERROR(geometry.TakeInline(*d, d->content_.units()));
  DropUnits(d->content_);
  GRID_RETURN_IF_ERROR(geometry.CheckWithinCommunities(*d));
  geometry.Finish(*d);
  return std::shared_ptr<const Directory>(std::move(d));
}

StatusOr<std::shared_ptr<const Directory>> Directory::Apply(const Directory& base,
                                                            const grid::v1::DirectoryContent& delta, bool replace,
                                                            uint64_t version) {
  if (replace) return Build(delta, version);
  std::shared_ptr<Directory> d(new Directory());
  d->version_ = version;
  d->content_ = MergeContent(base.content_, delta, /*replace=*/false);  // base has no units: delta's
  // Base's units not replaced by the delta keep their (code) order; the
  // delta's follow.
  std::unordered_set<std::string_view> from_delta;
  for (const Unit& u : delta.units()) from_delta.insert(u.code());
  std::vector<UnitInput> in;
  in.reserve(base.units_.size() + static_cast<size_t>(delta.units_size()));
  for (uint32_t i = 0; i < base.units_.size(); ++i) {
    const UnitRef u = base.units_.at(i);
    if (!from_delta.contains(u.code())) in.push_back(UnitTable::InputOf(u));
  }
  const size_t kept = in.size();
  for (const Unit& u : d->content_.units()) in.push_back(UnitTable::InputOf(u));
  GRID_RETURN_IF_ERROR(IndexUnits(*d, in));
  GRID_RETURN_IF_ERROR(IndexEntries(*d));
  Geometry geometry;
  GRID_RETURN_IF_ERROR(geometry.TakeInline(*d, d->content_.units()));  // the delta's boundaries
  for (size_t i = 0; i < kept; ++i) {  // the base's geometry of every unit the delta does not bring
    const UnitRef u = d->FindUnit(in[i].code);
    if (u.level() == grid::v1::UNIT_LEVEL_GRID) {
      if (auto shape = base.GridShape(u.code())) {
        geometry.grids.push_back(Geometry::GridShape{u.index(), std::move(*shape), false});
      }
    } else if (const geo::MultiPolygon* area = base.AreaShape(u.code())) {
      d->area_shapes_[u.index()] = *area;
    }
  }
  DropUnits(d->content_);
  // A unit of the delta that moved to another community counts as changed:
  // it is in the delta, so its grid shape is marked changed (inline) or it
  // has no boundary at all.
  GRID_RETURN_IF_ERROR(geometry.CheckWithinCommunities(*d));
  geometry.Finish(*d);
  return std::shared_ptr<const Directory>(std::move(d));
}

grid::v1::DirectoryContent Directory::ContentWithUnits() const {
  grid::v1::DirectoryContent out;
  out.mutable_units()->Reserve(static_cast<int>(units_.size()));
  for (uint32_t i = 0; i < units_.size(); ++i) *out.add_units() = units_.at(i).ToProto();
  out.MergeFrom(content_);
  return out;
}

bool Directory::HasBoundary(std::string_view code) const {
  const UnitRef u = FindUnit(code);
  return u != nullptr && (GridId(code) >= 0 || area_shapes_.contains(u.index()));
}

int64_t Directory::GridId(std::string_view code) const {
  const UnitRef u = FindUnit(code);
  if (u == nullptr) return -1;
  auto it = std::lower_bound(indexed_grids_.begin(), indexed_grids_.end(), u.index());
  if (it == indexed_grids_.end() || *it != u.index()) return -1;
  return it - indexed_grids_.begin();
}

std::optional<geo::MultiPolygon> Directory::GridShape(std::string_view code) const {
  const int64_t id = GridId(code);
  if (id < 0) return std::nullopt;
  return grid_index_.shape(static_cast<uint32_t>(id));
}

const geo::MultiPolygon* Directory::AreaShape(std::string_view code) const {
  const UnitRef u = FindUnit(code);
  if (u == nullptr) return nullptr;
  auto it = area_shapes_.find(u.index());
  return it == area_shapes_.end() ? nullptr : &it->second;
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
  for (UnitRef u = FindUnit(unit_code); u != nullptr; u = u.parent()) {
    key.assign(u.code()).push_back('\0');
    key.append(category.code());
    if (auto it = rules_.find(key); it != rules_.end()) {
      const auto* r = it->second;
      return CategoryHandling{r->handling(), &r->department_codes(), &r->required_skills(), r};
    }
  }
  return h;
}

UnitRange Directory::Children(std::string_view code) const {
  if (code.empty()) return units_.Children(UnitTable::kNone);
  const UnitRef u = FindUnit(code);
  return u == nullptr ? UnitRange() : units_.Children(u.index());
}

const std::vector<const grid::v1::Member*>& Directory::MembersOf(std::string_view code) const {
  auto it = unit_members_.find(code);
  return it == unit_members_.end() ? kNoMembers : it->second;
}

std::vector<UnitRef> Directory::Ancestors(std::string_view code) const {
  std::vector<UnitRef> out;
  const UnitRef u = FindUnit(code);
  // Parents were validated to exist and to sit at a higher level, so this ends.
  for (UnitRef a = u ? u.parent() : UnitRef(); a != nullptr; a = a.parent()) out.push_back(a);
  std::reverse(out.begin(), out.end());
  return out;
}

std::string Directory::PathName(std::string_view code) const {
  std::string path;
  for (const UnitRef a : Ancestors(code)) {
    path += a.name();
    path += " / ";
  }
  const UnitRef u = FindUnit(code);
  if (u != nullptr) path += u.name();
  return path;
}

bool Directory::IsWithin(std::string_view code, std::string_view ancestor) const {
  if (code == ancestor) return true;
  const UnitRef u = FindUnit(code);
  for (UnitRef a = u ? u.parent() : UnitRef(); a != nullptr; a = a.parent()) {
    if (a.code() == ancestor) return true;
  }
  return false;
}

UnitRange Directory::GridsOnStreet(std::string_view normalised) const {
  auto it = street_grids_.find(std::string(normalised));
  if (it == street_grids_.end()) return UnitRange();
  return UnitRange(&units_, it->second.data(), it->second.data() + it->second.size());
}

bool IsValidCode(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

grid::v1::DirectoryContent MergeContent(const grid::v1::DirectoryContent& base, const grid::v1::DirectoryContent& delta,
                                        bool replace) {
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
  merge(base.members(), delta.members(), out.mutable_members(),
        [](const auto& m) -> std::string_view { return m.id(); });
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
