// Internal to the Directory's files (directory.cc, directory_saved.cc,
// directory_restore.cc): the validation helpers they share and the grids'
// shapes while a directory is being built (Directory::Geometry).
//
// Thread-safety: a Geometry belongs to the one build that uses it; the
// functions are pure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/directory.h"
#include "engine/geo.h"
#include "engine/reasons.h"
#include "engine/saved_file.h"

namespace grid {
namespace directory_internal {

// How far a grid's vertex may stray outside its community's boundary
// (rounding in clipped or re-projected data) before the import is refused.
inline constexpr double kGridOutsideToleranceMeters = 1.0;

inline Status Bad(const Reason& reason, std::string what) { return Error(reason, std::move(what)); }

inline std::vector<UnitInput> InputsOf(const google::protobuf::RepeatedPtrField<grid::v1::Unit>& units) {
  std::vector<UnitInput> in;
  in.reserve(static_cast<size_t>(units.size()));
  for (const grid::v1::Unit& u : units) in.push_back(UnitTable::InputOf(u));
  return in;
}

// Frees the units of `c` (Clear would keep them allocated for reuse).
inline void DropUnits(grid::v1::DirectoryContent& c) {
  google::protobuf::RepeatedPtrField<grid::v1::Unit>().Swap(c.mutable_units());
}

inline uint64_t ChecksumOf(std::string_view s) {
  Checksum sum;
  sum.Update(s.data(), s.size());
  return sum.Finish();
}

}  // namespace directory_internal

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
          if (off <= directory_internal::kGridOutsideToleranceMeters) continue;
          return directory_internal::Bad(reason::GRID_OUTSIDE_COMMUNITY,
                                         "grid " + std::string(grid.code()) + ": vertex (" + std::to_string(p.lat) +
                                             ", " + std::to_string(p.lng) + ") lies " +
                                             std::to_string(static_cast<int>(off)) + " m outside community " +
                                             std::string(community.code()));
        }
      }
    }
    return Status::Ok();
  }

  // Takes the shape of every unit of `units` that carries its boundary inline.
  Status TakeInline(Directory& d, const google::protobuf::RepeatedPtrField<grid::v1::Unit>& units) {
    for (const grid::v1::Unit& u : units) {
      if (u.boundary().polygons_size() == 0) continue;
      auto shape = geo::FromProto(u.boundary());
      if (!shape.ok())
        return directory_internal::Bad(reason::INVALID_GEOMETRY, "unit " + u.code() + ": " + shape.status().ToString());
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

}  // namespace grid
