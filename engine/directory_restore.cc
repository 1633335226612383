// Directory::Restore: a stored directory at restart, from the saved unit
// table and grid index when they match its version, else rebuilt from the
// store's units and boundaries.
//
// Thread-safety: builds a new Directory on the calling thread; the sources
// are called from it only.
#include <string>
#include <utility>

#include "engine/directory.h"
#include "engine/directory_internal.h"
#include "engine/reasons.h"

namespace grid {

using namespace directory_internal;
using grid::v1::Unit;

StatusOr<std::shared_ptr<const Directory>> Directory::Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                              const BoundarySource& boundaries, FileAccess& files,
                                                              const std::string& index_path, RestoreReport* report) {
  return Restore(std::move(content), version, nullptr, boundaries, SavedPaths{index_path, "", &files}, report);
}

StatusOr<std::shared_ptr<const Directory>> Directory::Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                              const UnitSource& units, const BoundarySource& boundaries,
                                                              const SavedPaths& saved, RestoreReport* report) {
  RestoreReport local;
  if (report == nullptr) report = &local;
  std::shared_ptr<Directory> d(new Directory());
  d->version_ = version;
  auto read_areas = [&]() -> Status {
    return boundaries(false, [&](std::string_view code, const grid::v1::Boundary& b) -> Status {
      const UnitRef u = d->FindUnit(code);
      if (u == nullptr || u.level() == grid::v1::UNIT_LEVEL_GRID) {
        return Error(reason::STORED_DIRECTORY_INVALID, "a boundary of no unit: " + std::string(code));
      }
      auto shape = geo::FromProto(b);
      if (!shape.ok())
        return Bad(reason::INVALID_GEOMETRY, "unit " + std::string(code) + ": " + shape.status().ToString());
      d->area_shapes_[u.index()] = std::move(shape).value();
      return Status::Ok();
    });
  };
  // Loads the saved grid index and takes its grids, when it was saved for
  // exactly this directory's version and units.
  auto load_index = [&](const uint64_t* label_sum) -> Status {
    if (saved.index.empty() || saved.files == nullptr) return Error(reason::NO_INDEX, "no index path");
    std::string label;
    auto index = geo::ShapeIndex::Load(*saved.files, saved.index, &label);
    if (!index.ok()) return index.status();
    if (label_sum != nullptr && ChecksumOf(label) != *label_sum) {
      return Error(reason::STALE_INDEX, "not saved with the unit table");
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
  if (saved.table.empty() || saved.files == nullptr) {
    why_table = "no table path";
  } else if (!units) {
    why_table = "the units came with the content";
  } else if (table_st = d->LoadTable(*saved.files, saved.table, &label_sum); !table_st.ok()) {
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
      return Error(reason::STORED_DIRECTORY_INVALID, "a grid boundary of no grid: " + std::string(code));
    }
    last = u.index();
    auto shape = geo::FromProto(b);
    if (!shape.ok())
      return Bad(reason::INVALID_GEOMETRY, "unit " + std::string(code) + ": " + shape.status().ToString());
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

}  // namespace grid
