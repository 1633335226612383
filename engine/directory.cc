// Directory snapshot: validation and indexes. See directory.h.
#include "engine/directory.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "engine/address.h"
#include "engine/saved_file.h"
#include "engine/text.h"

namespace grid {
namespace {

using grid::v1::Unit;
using grid::v1::UnitLevel;

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

Status Directory::IndexUnits(Directory& d, const std::vector<UnitInput>& in) {
  std::vector<uint32_t> index_of;
  uint32_t first_duplicate = UnitTable::kNone;
  auto table = UnitTable::Build(in, &index_of, &first_duplicate);
  if (!table.ok()) return table.status();
  d.units_ = std::move(table).value();
  for (uint32_t i = 0; i < in.size(); ++i) {
    const UnitInput& u = in[i];
    const std::string code(u.code);
    if (!IsValidCode(u.code)) return Bad("INVALID_CODE", "unit code '" + code + "' is not 1-64 characters of [0-9A-Za-z._-]");
    if (u.level <= grid::v1::UNIT_LEVEL_UNSPECIFIED || u.level > grid::v1::UNIT_LEVEL_GRID ||
        !grid::v1::UnitLevel_IsValid(u.level)) {
      return Bad("INVALID_LEVEL", "unit " + code + ": level is missing or unknown");
    }
    if (!IsValidName(u.name)) return Bad("INVALID_NAME", "unit " + code + ": name is empty, too long or not UTF-8");
    if (i == first_duplicate) return Bad("DUPLICATE_CODE", "unit " + code + " appears twice");
  }

  for (uint32_t i = 0; i < in.size(); ++i) {
    const UnitInput& u = in[i];
    const std::string code(u.code);
    if (!u.parent_code.empty()) {
      const UnitRef parent = d.units_.at(index_of[i]).parent();
      if (parent == nullptr) {
        return Bad("UNKNOWN_PARENT", "unit " + code + ": parent " + std::string(u.parent_code) + " does not exist");
      }
      if (parent.level() >= u.level) {
        return Bad("PARENT_LEVEL", "unit " + code + " (" + UnitLevel_Name(u.level) + ") cannot sit below " +
                                       std::string(parent.code()) + " (" + UnitLevel_Name(parent.level()) + ")");
      }
      if (u.level == grid::v1::UNIT_LEVEL_GRID && parent.level() != grid::v1::UNIT_LEVEL_COMMUNITY) {
        return Bad("PARENT_LEVEL", "grid " + code + " must sit below a community, not " + std::string(parent.code()));
      }
    } else if (u.level == grid::v1::UNIT_LEVEL_GRID) {
      return Bad("UNKNOWN_PARENT", "grid " + code + " has no parent community");
    }
    if (u.level == grid::v1::UNIT_LEVEL_GRID && u.extra != nullptr) {
      for (const auto& entry : u.extra->address_coverage()) {
        if (!text::IsValidUtf8(entry.street()) || entry.street().empty()) {
          return Bad("INVALID_ADDRESS_COVERAGE", "grid " + code + ": a coverage entry has an empty or invalid street");
        }
        if (entry.from_number() < 0 || entry.to_number() < entry.from_number()) {
          return Bad("INVALID_ADDRESS_COVERAGE", "grid " + code + ": street " + entry.street() +
                                                     " has the number range " + std::to_string(entry.from_number()) +
                                                     "-" + std::to_string(entry.to_number()));
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
    uint32_t unit;  // index in the unit table
    geo::MultiPolygon shape;
    bool changed;
  };
  std::vector<GridShape> grids;
  std::unordered_set<uint32_t> changed_areas;

  // Rejects a grid that strays outside its community's boundary, for every
  // pair where the grid or the community changed (all of them on a Build).
  Status CheckWithinCommunities(const Directory& d) const {
    for (const GridShape& g : grids) {
      const UnitRef grid = d.units_.at(g.unit);
      const UnitRef community = grid.parent();
      auto area = d.area_shapes_.find(community.index());
      if (area == d.area_shapes_.end() || !(g.changed || changed_areas.contains(community.index()))) continue;
      for (const auto& polygon : g.shape.polygons) {
        for (const geo::Point& p : polygon.rings[0].points) {
          if (geo::ContainingPolygon(area->second, p) >= 0) continue;
          const double off = geo::DistanceToShapeMeters(area->second, p);
          if (off <= kGridOutsideToleranceMeters) continue;
          return Bad("GRID_OUTSIDE_COMMUNITY", "grid " + std::string(grid.code()) + ": vertex (" + std::to_string(p.lat) +
                                                   ", " + std::to_string(p.lng) + ") lies " +
                                                   std::to_string(static_cast<int>(off)) + " m outside community " +
                                                   std::string(community.code()));
        }
      }
    }
    return Status::Ok();
  }

  // Takes the shape of every unit of `units` that carries its boundary inline.
  Status TakeInline(Directory& d, const google::protobuf::RepeatedPtrField<Unit>& units) {
    for (const Unit& u : units) {
      if (u.boundary().polygons_size() == 0) continue;
      auto shape = geo::FromProto(u.boundary());
      if (!shape.ok()) return Bad("INVALID_GEOMETRY", "unit " + u.code() + ": " + shape.status().ToString());
      const uint32_t index = d.FindUnit(u.code()).index();
      if (u.level() == grid::v1::UNIT_LEVEL_GRID) {
        grids.push_back(GridShape{index, std::move(shape).value(), true});
      } else {
        d.area_shapes_[index] = std::move(shape).value();
        changed_areas.insert(index);
      }
    }
    return Status::Ok();
  }

  void SortGrids() {
    std::sort(grids.begin(), grids.end(), [](const GridShape& a, const GridShape& b) { return a.unit < b.unit; });
  }

  // Indexes the grids in code order.
  void Finish(Directory& d) {
    SortGrids();
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

namespace {

std::vector<UnitInput> InputsOf(const google::protobuf::RepeatedPtrField<Unit>& units) {
  std::vector<UnitInput> in;
  in.reserve(static_cast<size_t>(units.size()));
  for (const Unit& u : units) in.push_back(UnitTable::InputOf(u));
  return in;
}

// Frees the units of `c` (Clear would keep them allocated for reuse).
void DropUnits(grid::v1::DirectoryContent& c) { google::protobuf::RepeatedPtrField<Unit>().Swap(c.mutable_units()); }

}  // namespace

StatusOr<std::shared_ptr<const Directory>> Directory::Build(grid::v1::DirectoryContent content,
                                                            uint64_t version) {
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

namespace {

// The grid index's label: this magic, "version V", "grids N", "codes C" (a
// checksum of the grids' codes in order) lines, then the grids' unit indices
// (N little-endian uint32). The indices let a restart that rebuilds the unit
// table (the same units give the same indices) take the grids from the
// label; the checksum proves they are the same grids.
constexpr std::string_view kIndexLabelMagic = "gridcase-directory-index 2\n";

// The unit table file: a header, then the table's sections (saved_file.h).
constexpr char kTableMagic[8] = {'G', 'R', 'I', 'D', 'U', 'N', 'T', '1'};
constexpr uint32_t kTableFileVersion = 1;
struct TableHeader {
  char magic[8];
  uint32_t file_version;
  uint32_t reserved;
  uint64_t version;          // the directory's
  uint64_t index_label_sum;  // Checksum of the grid index's label saved with it
  uint64_t units, slots, arena, extras, extras_bytes;
  uint64_t checksum;  // of everything after the header
};

uint64_t ChecksumOf(std::string_view s) {
  Checksum sum;
  sum.Update(s.data(), s.size());
  return sum.Finish();
}

}  // namespace

std::string Directory::IndexLabel() const {
  Checksum codes;
  for (uint32_t i : indexed_grids_) {
    const std::string_view code = units_.at(i).code();
    codes.Update(code.data(), code.size());
    codes.Update("\n", 1);
  }
  std::string label(kIndexLabelMagic);
  label += "version " + std::to_string(version_) + "\ngrids " + std::to_string(indexed_grids_.size()) + "\ncodes " +
           std::to_string(codes.Finish()) + "\n";
  const size_t at = label.size();
  label.resize(at + 4 * indexed_grids_.size());
  for (size_t k = 0; k < indexed_grids_.size(); ++k) {
    const uint32_t v = indexed_grids_[k];
    for (int b = 0; b < 4; ++b) label[at + 4 * k + b] = static_cast<char>(v >> (8 * b));
  }
  return label;
}

Status Directory::TakeIndexLabel(std::string_view rest, bool paired) {
  if (!rest.starts_with(kIndexLabelMagic)) return InvalidArgument("STALE_INDEX", "not a directory index");
  rest.remove_prefix(kIndexLabelMagic.size());
  auto line = [&rest]() {
    const size_t nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    return l;
  };
  if (line() != "version " + std::to_string(version_)) {
    return InvalidArgument("STALE_INDEX", "saved for another directory version");
  }
  const std::string_view count = line(), codes = line();
  const size_t n = rest.size() / 4;
  if (rest.size() % 4 != 0 || count != "grids " + std::to_string(n) || grid_index_.size() != n) {
    return InvalidArgument("STALE_INDEX", "its grid count does not match");
  }
  std::vector<uint32_t> grids(n);
  Checksum sum;
  for (size_t k = 0; k < n; ++k) {
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= static_cast<uint32_t>(static_cast<unsigned char>(rest[4 * k + b])) << (8 * b);
    if (v >= units_.size() || (k > 0 && v <= grids[k - 1])) {
      return InvalidArgument("STALE_INDEX", "its grids are not this directory's");
    }
    grids[k] = v;
    if (paired) continue;  // checked when they were saved together
    if (units_.at(v).level() != grid::v1::UNIT_LEVEL_GRID) {
      return InvalidArgument("STALE_INDEX", "its grids are not this directory's");
    }
    const std::string_view code = units_.at(v).code();
    sum.Update(code.data(), code.size());
    sum.Update("\n", 1);
  }
  if (!paired && codes != "codes " + std::to_string(sum.Finish())) {
    return InvalidArgument("STALE_INDEX", "its grids are not this directory's");
  }
  indexed_grids_ = std::move(grids);
  return Status::Ok();
}

Status Directory::SaveIndex(const std::string& path) const { return grid_index_.Save(path, IndexLabel()); }

Status Directory::SaveTable(const std::string& path) const {
  const UnitTable::Counts c = units_.counts();
  TableHeader h{};
  std::memcpy(h.magic, kTableMagic, sizeof kTableMagic);
  h.file_version = kTableFileVersion;
  h.version = version_;
  h.index_label_sum = ChecksumOf(IndexLabel());
  h.units = c.units, h.slots = c.slots, h.arena = c.arena, h.extras = c.extras, h.extras_bytes = c.extras_bytes;
  SectionWriter w(path);
  GRID_RETURN_IF_ERROR(w.Open());
  GRID_RETURN_IF_ERROR(w.Section(&h, sizeof h));
  for (const UnitTable::Image& s : units_.Sections()) GRID_RETURN_IF_ERROR(w.Section(s.data, s.bytes));
  h.checksum = w.checksum();
  GRID_RETURN_IF_ERROR(w.Rewrite(&h, sizeof h));
  return w.Commit();
}

Status Directory::LoadTable(const std::string& path, uint64_t* index_label_sum) {
  auto file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  const MappedFile& f = **file;
  auto corrupt = [&](const std::string& why) { return InvalidArgument("CORRUPT_TABLE", path + ": " + why); };
  TableHeader h;
  if (f.size() < sizeof h) return corrupt("truncated");
  std::memcpy(&h, f.data(), sizeof h);
  if (std::memcmp(h.magic, kTableMagic, sizeof kTableMagic) != 0) return corrupt("not a unit table file");
  if (h.file_version != kTableFileVersion) return corrupt("file version " + std::to_string(h.file_version));
  if (h.version != version_) return InvalidArgument("STALE_TABLE", "saved for another directory version");
  const UnitTable::Counts c{h.units, h.slots, h.arena, h.extras, h.extras_bytes};
  if (c.units > (uint64_t{1} << 32) || c.slots > (uint64_t{1} << 34) || c.arena > (uint64_t{1} << 32) ||
      c.extras_bytes > (uint64_t{1} << 40)) {
    return corrupt("inconsistent sizes");
  }
  const std::vector<size_t> bytes = UnitTable::SectionBytes(c);
  size_t want = AlignUp(sizeof h);
  for (size_t b : bytes) want += AlignUp(b);
  if (want != f.size()) return corrupt("inconsistent sizes");
  auto sum = f.ChecksumFrom(AlignUp(sizeof h));
  if (!sum.ok()) return sum.status();
  if (*sum != h.checksum) return corrupt("checksum mismatch");
  std::vector<const char*> sections;
  size_t at = AlignUp(sizeof h);
  for (size_t b : bytes) {
    sections.push_back(f.data() + at);
    at += AlignUp(b);
  }
  auto table = UnitTable::FromSections(c, sections, std::move(file).value());
  if (!table.ok()) return corrupt(table.status().message());
  units_ = std::move(table).value();
  *index_label_sum = h.index_label_sum;
  return Status::Ok();
}

StatusOr<std::shared_ptr<const Directory>> Directory::Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                              const BoundarySource& boundaries,
                                                              const std::string& index_path, RestoreReport* report) {
  return Restore(std::move(content), version, nullptr, boundaries, SavedPaths{index_path, ""}, report);
}

StatusOr<std::shared_ptr<const Directory>> Directory::Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                              const UnitSource& units,
                                                              const BoundarySource& boundaries,
                                                              const SavedPaths& saved, RestoreReport* report) {
  RestoreReport local;
  if (report == nullptr) report = &local;
  std::shared_ptr<Directory> d(new Directory());
  d->version_ = version;
  auto read_areas = [&]() -> Status {
    return boundaries(false, [&](std::string_view code, const grid::v1::Boundary& b) -> Status {
      const UnitRef u = d->FindUnit(code);
      if (u == nullptr || u.level() == grid::v1::UNIT_LEVEL_GRID) {
        return Status(StatusCode::kDataLoss, "STORED_DIRECTORY_INVALID", "a boundary of no unit: " + std::string(code));
      }
      auto shape = geo::FromProto(b);
      if (!shape.ok()) return Bad("INVALID_GEOMETRY", "unit " + std::string(code) + ": " + shape.status().ToString());
      d->area_shapes_[u.index()] = std::move(shape).value();
      return Status::Ok();
    });
  };
  // Loads the saved grid index and takes its grids, when it was saved for
  // exactly this directory's version and units.
  auto load_index = [&](const uint64_t* label_sum) -> Status {
    if (saved.index.empty()) return NotFound("NO_INDEX", "no index path");
    std::string label;
    auto index = geo::ShapeIndex::Load(saved.index, &label);
    if (!index.ok()) return index.status();
    if (label_sum != nullptr && ChecksumOf(label) != *label_sum) {
      return InvalidArgument("STALE_INDEX", "not saved with the unit table");
    }
    d->grid_index_ = std::move(index).value();
    Status st = d->TakeIndexLabel(label, /*paired=*/label_sum != nullptr);
    if (!st.ok()) d->grid_index_ = geo::ShapeIndex();
    return st;
  };

  // 1. Both files saved for this version, together: no unit is read.
  report->table_origin = IndexOrigin::kRebuilt;
  std::string why_table;
  uint64_t label_sum = 0;
  Status table_st, index_st;
  if (saved.table.empty()) {
    why_table = "no table path";
  } else if (!units) {
    why_table = "the units came with the content";
  } else if (table_st = d->LoadTable(saved.table, &label_sum); !table_st.ok()) {
    why_table = table_st.ToString();
  } else if (index_st = load_index(&label_sum); !index_st.ok()) {
    // The units are read again with the index rebuilt (a store from before
    // the split may carry grid boundaries inline in its units).
    why_table = "the grid index was not usable: " + index_st.ToString();
    d->units_ = UnitTable();
  } else {
    d->content_ = std::move(content);
    DropUnits(d->content_);
    GRID_RETURN_IF_ERROR(IndexEntries(*d));
    GRID_RETURN_IF_ERROR(read_areas());
    report->origin = report->table_origin = IndexOrigin::kLoaded;
    report->why_rebuilt.clear();
    report->why_table_rebuilt.clear();
    return std::shared_ptr<const Directory>(std::move(d));
  }
  report->why_table_rebuilt = why_table;

  // 2. The units from the store, staged compactly (millions of messages at
  // once would cost ~360 bytes a unit): codes, names and parent codes in one
  // buffer; only units kept whole or carrying a boundary inline as messages.
  d->content_ = std::move(content);
  std::vector<UnitInput> in;
  if (units) {
    struct Plain {
      uint32_t code_len, name_len, parent_len;
      grid::v1::UnitLevel level;
      bool derived_org;
    };
    std::string text;
    std::vector<Plain> plain;
    GRID_RETURN_IF_ERROR(units([&](const Unit& u) -> Status {
      const UnitInput i = UnitTable::InputOf(u);
      if (i.extra != nullptr || u.has_boundary()) {
        *d->content_.add_units() = u;
        return Status::Ok();
      }
      plain.push_back(Plain{static_cast<uint32_t>(u.code().size()), static_cast<uint32_t>(u.name().size()),
                            static_cast<uint32_t>(u.parent_code().size()), u.level(), i.derived_org});
      text.append(u.code()).append(u.name()).append(u.parent_code());
      return Status::Ok();
    }));
    in.reserve(plain.size() + static_cast<size_t>(d->content_.units_size()));
    size_t at = 0;
    for (const Plain& p : plain) {
      const std::string_view all(text);
      in.push_back(UnitInput{all.substr(at, p.code_len), all.substr(at + p.code_len, p.name_len),
                             all.substr(at + p.code_len + p.name_len, p.parent_len), p.level, nullptr, p.derived_org});
      at += p.code_len + p.name_len + p.parent_len;
    }
    for (const Unit& u : d->content_.units()) in.push_back(UnitTable::InputOf(u));
    GRID_RETURN_IF_ERROR(IndexUnits(*d, in));
  } else {
    GRID_RETURN_IF_ERROR(IndexUnits(*d, InputsOf(d->content_.units())));
  }
  in = std::vector<UnitInput>();
  GRID_RETURN_IF_ERROR(IndexEntries(*d));
  Geometry geometry;
  GRID_RETURN_IF_ERROR(geometry.TakeInline(*d, d->content_.units()));  // a store from before the split
  DropUnits(d->content_);
  GRID_RETURN_IF_ERROR(read_areas());

  // The saved index, when it was saved for exactly this version and grids.
  if (Status st = load_index(nullptr); st.ok()) {
    report->origin = IndexOrigin::kLoaded;
    report->why_rebuilt.clear();
    return std::shared_ptr<const Directory>(std::move(d));
  } else {
    report->why_rebuilt = st.ToString();
  }

  // Rebuild: the grids' boundaries from the source, merged in code order
  // with any carried inline.
  report->origin = IndexOrigin::kRebuilt;
  geometry.SortGrids();
  size_t next_inline = 0;
  geo::ShapeIndex::Builder builder;
  auto add_inline_before = [&](uint32_t index) {
    while (next_inline < geometry.grids.size() && geometry.grids[next_inline].unit < index) {
      d->indexed_grids_.push_back(geometry.grids[next_inline].unit);
      builder.Add(geometry.grids[next_inline].shape);
      geometry.grids[next_inline++].shape = geo::MultiPolygon();
    }
  };
  int64_t last = -1;
  GRID_RETURN_IF_ERROR(boundaries(true, [&](std::string_view code, const grid::v1::Boundary& b) -> Status {
    const UnitRef u = d->FindUnit(code);
    if (u == nullptr || u.level() != grid::v1::UNIT_LEVEL_GRID || static_cast<int64_t>(u.index()) <= last) {
      return Status(StatusCode::kDataLoss, "STORED_DIRECTORY_INVALID", "a grid boundary of no grid: " + std::string(code));
    }
    last = u.index();
    auto shape = geo::FromProto(b);
    if (!shape.ok()) return Bad("INVALID_GEOMETRY", "unit " + std::string(code) + ": " + shape.status().ToString());
    add_inline_before(u.index());
    d->indexed_grids_.push_back(u.index());
    builder.Add(*shape);
    return Status::Ok();
  }));
  add_inline_before(UnitTable::kNone);  // the rest
  geometry.grids.clear();
  d->grid_index_ = builder.Finish();
  return std::shared_ptr<const Directory>(std::move(d));
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
