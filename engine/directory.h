// The organisational directory as an immutable in-memory snapshot.
//
// A Directory is built once from a DirectoryContent (validated as a whole)
// and never changes; a change produces a new Directory with a higher version,
// which DirectoryHandle swaps in atomically. Readers hold a shared_ptr to the
// snapshot they started with, so a swap never disturbs a request in flight.
//
// The files it is saved to at restart are reached through the FileAccess the
// caller gives (file_access.h).
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

#include "engine/file_access.h"
#include "engine/geo.h"
#include "engine/status.h"
#include "engine/unit_table.h"
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

// Where Restore got the grid index (and the unit table) from.
enum class IndexOrigin { kBuilt, kLoaded, kRebuilt };
struct RestoreReport {
  IndexOrigin origin = IndexOrigin::kBuilt;
  std::string why_rebuilt;  // kRebuilt: why the saved index was not used
  IndexOrigin table_origin = IndexOrigin::kBuilt;
  std::string why_table_rebuilt;  // kRebuilt: why the saved unit table was not used
  // Filled in by the caller that timed it (the engine reads no clock).
  double load_seconds = 0;     // reading the stored directory
  double restore_seconds = 0;  // Directory::Restore (indexes, grid index)
};

// The files a directory is saved to beside the store (empty: none), and the
// FileAccess that reaches them (null: none is read).
struct SavedPaths {
  std::string index;            // the grid index (ShapeIndex) with the indexed grids
  std::string table;            // the unit table
  FileAccess* files = nullptr;  // REQUIRES: outlives the call it is given to
};

// The stored units, read only when the saved unit table cannot be used:
// calls the visitor for every stored unit (without boundary, unless an older
// store carries it inline), and stops at its first error. The unit is the
// visitor's only during the call (a store reuses one message).
using UnitVisitor = std::function<Status(const grid::v1::Unit& unit)>;
using UnitSource = std::function<Status(const UnitVisitor& visit)>;

// Memory. Units live in a compact UnitTable (unit_table.h): FindUnit and the
// other unit accessors give UnitRef views, which read like the
// `const grid::v1::Unit*` they replace. Boundaries are not kept in the units:
// a grid's geometry lives only in grid_index() (compact fixed-point records,
// decoded exactly by GridShape), other units' boundaries as shapes
// (AreaShape); the store keeps them.
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
  static StatusOr<std::shared_ptr<const Directory>> Build(grid::v1::DirectoryContent content, uint64_t version);
  // The next version from `base`: `base`'s units and MergeContent(
  // base.content(), delta, replace), validated as Build does. Units of
  // `delta` replace base's units of the same code and bring their own
  // boundary (or none); every other unit keeps its geometry from `base`.
  // GRID_OUTSIDE_COMMUNITY is checked for every grid that is new or changed
  // or whose community is.
  static StatusOr<std::shared_ptr<const Directory>> Apply(const Directory& base,
                                                          const grid::v1::DirectoryContent& delta, bool replace,
                                                          uint64_t version);
  // A stored directory at restart. `content` is what the store gives
  // without units; the units come from the unit table saved at `saved.table`
  // (by SaveTable) when it was saved for this version together with the
  // grid index at `saved.index` (by SaveIndex). Otherwise `units` is asked
  // for the stored units (units without boundaries; a store from before the
  // split may still carry them inline), the table is rebuilt, and the grid
  // index is loaded when its file was saved for this version and these
  // grids, or rebuilt from `boundaries`; `report` says what was rebuilt and
  // why (missing, stale, corrupt or unreadable). Other units' boundaries are
  // read from `boundaries`. Geometry was validated when the directory was
  // saved: rings are validated again on a rebuild, GRID_OUTSIDE_COMMUNITY is
  // not; entries that refer to units are validated again (they are cheap).
  static StatusOr<std::shared_ptr<const Directory>> Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                            const UnitSource& units, const BoundarySource& boundaries,
                                                            const SavedPaths& saved, RestoreReport* report);
  // As above with the units in `content` and no unit table.
  static StatusOr<std::shared_ptr<const Directory>> Restore(grid::v1::DirectoryContent content, uint64_t version,
                                                            const BoundarySource& boundaries, FileAccess& files,
                                                            const std::string& index_path, RestoreReport* report);
  // Writes grid_index() to `path` through `files` (atomically: synced,
  // then renamed) labelled with this version and its grids, for Restore.
  [[nodiscard]] Status SaveIndex(FileAccess& files, const std::string& path) const;
  // Writes the unit table to `path` through `files` (atomically), labelled
  // with this version and the label of the grid index SaveIndex writes, for
  // Restore.
  [[nodiscard]] Status SaveTable(FileAccess& files, const std::string& path) const;
  // An empty directory at version 0.
  static std::shared_ptr<const Directory> Empty();

  uint64_t version() const { return version_; }
  // Members, departments, categories and rules; no units (see units(),
  // ContentWithUnits).
  const grid::v1::DirectoryContent& content() const { return content_; }
  // Every unit, in code order.
  const UnitTable& units() const { return units_; }
  // content() with every unit (without boundary): for exports and tests;
  // costs a message per unit.
  grid::v1::DirectoryContent ContentWithUnits() const;
  // Whether the unit has a boundary (held in grid_index() or AreaShape).
  bool HasBoundary(std::string_view code) const;
  // The grid's shape, decoded exactly from the index; nullopt without one.
  std::optional<geo::MultiPolygon> GridShape(std::string_view code) const;
  // A non-grid unit's shape; null without one.
  const geo::MultiPolygon* AreaShape(std::string_view code) const;

  UnitRef FindUnit(std::string_view code) const { return units_.Find(code); }
  const grid::v1::Member* FindMember(std::string_view id) const;
  const grid::v1::Department* FindDepartment(std::string_view code) const;
  const grid::v1::Category* FindCategory(std::string_view code) const;
  // The handling of `category` at `unit_code` (which may be empty or unknown:
  // then the category's default applies).
  CategoryHandling HandlingFor(const grid::v1::Category& category, std::string_view unit_code) const;

  // Children of a unit ordered by code; roots for the empty code.
  UnitRange Children(std::string_view code) const;
  // Members attached to a unit, ordered by id.
  const std::vector<const grid::v1::Member*>& MembersOf(std::string_view code) const;
  // The unit's ancestors, root first, not including the unit itself.
  std::vector<UnitRef> Ancestors(std::string_view code) const;
  // "澄迈县 / 金江镇 / 金马东社区 / 金马东社区第1网格".
  std::string PathName(std::string_view code) const;
  // True when `code` is `ancestor` or lies below it.
  bool IsWithin(std::string_view code, std::string_view ancestor) const;

  // Every grid with a boundary, indexed for point lookups; ids of the index
  // map to grid units through GridAt, in ascending code order.
  const geo::ShapeIndex& grid_index() const { return grid_index_; }
  UnitRef GridAt(uint32_t index_id) const { return units_.at(indexed_grids_[index_id]); }

  // Grids covering a street, by its address::NormaliseStreet form, in code order.
  UnitRange GridsOnStreet(std::string_view normalised) const;
  // Every normalised street known, for substring matching, longest first.
  const std::vector<std::string>& streets() const { return streets_; }

  size_t unit_count() const { return units_.size(); }
  size_t member_count() const { return members_.size(); }

 private:
  Directory() = default;
  struct Geometry;
  // Validates `units` and builds the unit table from them.
  static Status IndexUnits(Directory& d, const std::vector<UnitInput>& units);
  // Validates and indexes content_ (members, departments, categories,
  // rules) and the streets of the units' address coverage.
  static Status IndexEntries(Directory& d);
  // Index of the grid with this code in indexed_grids_, or -1.
  int64_t GridId(std::string_view code) const;
  std::string IndexLabel() const;
  // Checks a saved index's label against this directory and takes its
  // grids. `paired`: the label is the one the unit table was saved with
  // (its checksum matched), so the grids' codes need not be read again.
  Status TakeIndexLabel(std::string_view label, bool paired);
  // Maps the saved unit table if it was saved for this version; gives the
  // checksum of the index label it was saved with.
  Status LoadTable(FileAccess& files, const std::string& path, uint64_t* index_label_sum);

  uint64_t version_ = 0;
  grid::v1::DirectoryContent content_;  // without units
  UnitTable units_;
  std::unordered_map<std::string_view, const grid::v1::Member*> members_;
  std::unordered_map<std::string_view, const grid::v1::Department*> departments_;
  std::unordered_map<std::string_view, const grid::v1::Category*> categories_;
  std::unordered_map<std::string, const grid::v1::CategoryRule*> rules_;  // unit code + '\0' + category
  std::unordered_map<std::string_view, std::vector<const grid::v1::Member*>> unit_members_;
  std::unordered_map<std::string, std::vector<uint32_t>> street_grids_;  // unit indices
  std::vector<std::string> streets_;
  std::vector<uint32_t> indexed_grids_;  // unit indices, ascending (code order)
  geo::ShapeIndex grid_index_;
  std::unordered_map<uint32_t, geo::MultiPolygon> area_shapes_;  // by unit index
};

// The rule every unit, member, department and category code follows:
// 1..64 characters of [0-9A-Za-z._-]. Importers check it before Build does.
bool IsValidCode(std::string_view code);

// Applies `delta` to `base` and returns the content of the next version.
// MERGE adds or replaces units (by code), members (by id), departments and
// categories (by code); REPLACE returns `delta` itself. The result still has
// to pass Directory::Build.
grid::v1::DirectoryContent MergeContent(const grid::v1::DirectoryContent& base, const grid::v1::DirectoryContent& delta,
                                        bool replace);

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
