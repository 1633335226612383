// The organisational directory as an immutable in-memory snapshot.
//
// A Directory is built once from a DirectoryContent (validated as a whole)
// and never changes; a change produces a new Directory with a higher version,
// which DirectoryHandle swaps in atomically. Readers hold a shared_ptr to the
// snapshot they started with, so a swap never disturbs a request in flight.
//
// Thread-safety: Directory is immutable and safe to share. DirectoryHandle's
// methods are safe to call concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/geo.h"
#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid {

// How a category is handled at a unit: the category's default, or the most
// specific CategoryRule on the unit's chain of ancestors.
struct CategoryHandling {
  grid::v1::Handling handling = grid::v1::HANDLING_UNSPECIFIED;
  const google::protobuf::RepeatedPtrField<std::string>* department_codes = nullptr;
  const google::protobuf::RepeatedPtrField<std::string>* required_skills = nullptr;
  const grid::v1::CategoryRule* rule = nullptr;  // null: the category's default
};

// Boundaries kept outside the in-memory directory (the store's): calls the
// visitor for every stored boundary of grids (`grids`) or of the other units,
// in ascending code order, and stops at its first error.
using BoundaryVisitor = std::function<Status(std::string_view code, const grid::v1::Boundary&)>;
using BoundarySource = std::function<Status(bool grids, const BoundaryVisitor& visit)>;

// Where Restore got the grid index from.
enum class IndexOrigin { kBuilt, kLoaded, kRebuilt };
struct RestoreReport {
  IndexOrigin origin = IndexOrigin::kBuilt;
  std::string why_rebuilt;  // kRebuilt: why the saved index was not used
  // Filled in by the caller that timed it (the engine reads no clock).
  double load_seconds = 0;     // reading the stored directory
  double restore_seconds = 0;  // Directory::Restore (indexes, grid index)
};

// Memory. Boundaries are not kept in the units: a grid's geometry lives only
// in grid_index() (compact fixed-point records, decoded exactly by
// GridShape), other units' boundaries as shapes (AreaShape). So content()
// and FindUnit() give units without their boundary; the store keeps it.
class Directory {
 public:
  // Validates `content` as a whole and indexes it. Errors (INVALID_ARGUMENT)
  // name the entry and the rule: DUPLICATE_CODE, INVALID_CODE, INVALID_LEVEL,
  // UNKNOWN_PARENT, PARENT_LEVEL, INVALID_GEOMETRY (with geo's reason in the
  // message), UNKNOWN_UNIT (member or department), DUPLICATE_MEMBER,
  // UNKNOWN_DEPARTMENT (category or rule), INVALID_CATEGORY, INVALID_NAME,
  // INVALID_RULE (rule of an unknown unit or category, or a duplicate),
  // GRID_OUTSIDE_COMMUNITY (a grid vertex more than 1 m outside its
  // community's boundary, where the community has one).
  // `content` carries every boundary (an initial load, a REPLACE import).
  static StatusOr<std::shared_ptr<const Directory>> Build(grid::v1::DirectoryContent content,
                                                          uint64_t version);
  // The next version from `base`: MergeContent(base.content(), delta,
  // replace), validated as Build does. Units of `delta` bring their own
  // boundary (or none); every other unit keeps its geometry from `base`.
  // GRID_OUTSIDE_COMMUNITY is checked for every grid that is new or changed
  // or whose community is.
  static StatusOr<std::shared_ptr<const Directory>> Apply(const Directory& base,
                                                          const grid::v1::DirectoryContent& delta, bool replace,
                                                          uint64_t version);
  // A stored directory at restart: `content` as the store gives it (units
  // without boundaries; a store from before the split may still carry them
  // inline). Other units' boundaries are read from `boundaries`. The grid
  // index is loaded from `index_path` when the file there was saved (by
  // SaveIndex) for this version and these grids; when it is missing, stale,
  // corrupt or unreadable, it is rebuilt from `boundaries` and `report` says
  // why. Geometry was validated when the directory was saved: rings are
  // validated again on a rebuild, GRID_OUTSIDE_COMMUNITY is not.
  static StatusOr<std::shared_ptr<const Directory>> Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                            const BoundarySource& boundaries,
                                                            const std::string& index_path, RestoreReport* report);
  // Writes grid_index() to `path` (atomically) labelled with this version
  // and its grids, for Restore.
  Status SaveIndex(const std::string& path) const;
  // An empty directory at version 0.
  static std::shared_ptr<const Directory> Empty();

  uint64_t version() const { return version_; }
  // Everything, except that units carry no boundary (see HasBoundary).
  const grid::v1::DirectoryContent& content() const { return content_; }
  // Whether the unit has a boundary (held in grid_index() or AreaShape).
  bool HasBoundary(std::string_view code) const;
  // The grid's shape, decoded exactly from the index; nullopt without one.
  std::optional<geo::MultiPolygon> GridShape(std::string_view code) const;
  // A non-grid unit's shape; null without one.
  const geo::MultiPolygon* AreaShape(std::string_view code) const;

  const grid::v1::Unit* FindUnit(std::string_view code) const;
  const grid::v1::Member* FindMember(std::string_view id) const;
  const grid::v1::Department* FindDepartment(std::string_view code) const;
  const grid::v1::Category* FindCategory(std::string_view code) const;
  // The handling of `category` at `unit_code` (which may be empty or unknown:
  // then the category's default applies).
  CategoryHandling HandlingFor(const grid::v1::Category& category, std::string_view unit_code) const;

  // Children of a unit ordered by code; roots for the empty code.
  const std::vector<const grid::v1::Unit*>& Children(std::string_view code) const;
  // Members attached to a unit, ordered by id.
  const std::vector<const grid::v1::Member*>& MembersOf(std::string_view code) const;
  // The unit's ancestors, root first, not including the unit itself.
  std::vector<const grid::v1::Unit*> Ancestors(std::string_view code) const;
  // "澄迈县 / 金江镇 / 金马东社区 / 金马东社区第1网格".
  std::string PathName(std::string_view code) const;
  // True when `code` is `ancestor` or lies below it.
  bool IsWithin(std::string_view code, std::string_view ancestor) const;

  // Every grid with a boundary, indexed for point lookups; ids of the index
  // map to grid units through GridAt, in ascending code order.
  const geo::ShapeIndex& grid_index() const { return grid_index_; }
  const grid::v1::Unit* GridAt(uint32_t index_id) const { return indexed_grids_[index_id]; }

  // Grids covering a street, by its address::NormaliseStreet form, in code order.
  const std::vector<const grid::v1::Unit*>& GridsOnStreet(std::string_view normalised) const;
  // Every normalised street known, for substring matching, longest first.
  const std::vector<std::string>& streets() const { return streets_; }

  size_t unit_count() const { return units_.size(); }
  size_t member_count() const { return members_.size(); }

 private:
  Directory() = default;
  struct Geometry;
  // Validates and indexes everything but the geometry.
  static Status IndexEntries(Directory& d);
  // Index of the grid with this code in indexed_grids_, or -1.
  int64_t GridId(std::string_view code) const;
  std::string IndexLabel() const;
  void StripBoundaries();

  uint64_t version_ = 0;
  grid::v1::DirectoryContent content_;
  std::unordered_map<std::string_view, const grid::v1::Unit*> units_;
  std::unordered_map<std::string_view, const grid::v1::Member*> members_;
  std::unordered_map<std::string_view, const grid::v1::Department*> departments_;
  std::unordered_map<std::string_view, const grid::v1::Category*> categories_;
  std::unordered_map<std::string, const grid::v1::CategoryRule*> rules_;  // unit code + '\0' + category
  std::unordered_map<std::string_view, std::vector<const grid::v1::Unit*>> children_;
  std::unordered_map<std::string_view, std::vector<const grid::v1::Member*>> unit_members_;
  std::unordered_map<std::string, std::vector<const grid::v1::Unit*>> street_grids_;
  std::vector<std::string> streets_;
  std::vector<const grid::v1::Unit*> indexed_grids_;  // ascending code
  geo::ShapeIndex grid_index_;
  std::unordered_map<std::string_view, geo::MultiPolygon> area_shapes_;
};

// Applies `delta` to `base` and returns the content of the next version.
// MERGE adds or replaces units (by code), members (by id), departments and
// categories (by code); REPLACE returns `delta` itself. The result still has
// to pass Directory::Build.
grid::v1::DirectoryContent MergeContent(const grid::v1::DirectoryContent& base,
                                        const grid::v1::DirectoryContent& delta, bool replace);

// The current directory, swapped atomically.
class DirectoryHandle {
 public:
  DirectoryHandle() : current_(Directory::Empty()) {}
  explicit DirectoryHandle(std::shared_ptr<const Directory> d) : current_(std::move(d)) {}

  std::shared_ptr<const Directory> Get() const { return current_.load(std::memory_order_acquire); }
  void Set(std::shared_ptr<const Directory> d) { current_.store(std::move(d), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const Directory>> current_;
};

}  // namespace grid
