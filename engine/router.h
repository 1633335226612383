// Routing: case -> responsible unit (a grid party group when one can be
// found), with an explanation of every step and the directory version.
//
// The pipeline, in order:
//   1. explicit unit named by the operator (validated by the caller);
//   2. location: point-in-polygon over all grids; a point in two overlapping
//      grids goes to the lowest code and is flagged ambiguous; a point in no
//      grid goes to the nearest grid within `nearest_grid_max_meters`;
//   3. address: the address text is normalised and matched against the grids'
//      address coverage (longest street name first, then house number range);
//   4. category rules: the category's default handling, or a county's (or
//      town's) own CategoryRule for it: a category handled by a department
//      names it; one handled by the grid with summons lists the departments;
//   5. fallback (兜底): the lowest unit that could be determined (the caller's
//      scope or the configured triage unit) takes it for manual dispatch.
// Within a grid an assignee is chosen: on duty, having the category's required
// skills, least open load (from an injected function), then lowest id.
//
// Thread-safety: Router is immutable after construction; Route is safe to
// call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/directory.h"
#include "engine/geo.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"

namespace grid {

struct RouteInput {
  std::string_view category;
  std::optional<geo::Point> location;
  // The system `location` was measured in; the router converts it to WGS-84
  // (coordinates.h) and names both points in the explanation.
  grid::v1::CoordinateSystem location_system = grid::v1::COORDINATE_SYSTEM_WGS84;
  std::string_view address;
  std::string_view unit_code;      // explicit unit, may be empty
  std::string_view fallback_unit;  // the lowest unit known from the caller (its scope), may be empty
};

struct RouterOptions {
  double nearest_grid_max_meters = 300;
  // Used when neither the input nor the caller gives a fallback unit; empty
  // means "the directory's only root, if it has exactly one".
  std::string triage_unit;
};

class Router {
 public:
  // Open cases per member, for least-load assignment; may be empty (all 0).
  using LoadFn = std::function<uint32_t(std::string_view member_id)>;

  explicit Router(RouterOptions options = {}, LoadFn load = nullptr)
      : options_(std::move(options)), load_(std::move(load)) {}

  // Routes against one directory snapshot. Errors: UNKNOWN_CATEGORY,
  // UNKNOWN_UNIT (INVALID_ARGUMENT), UNROUTABLE (FAILED_PRECONDITION) when no
  // unit at all can be determined.
  StatusOr<grid::v1::RoutingDecision> Route(const Directory& directory, const RouteInput& input) const;

 private:
  void ChooseAssignee(const Directory& directory,
                      const google::protobuf::RepeatedPtrField<std::string>& required_skills,
                      grid::v1::RoutingDecision* decision) const;

  RouterOptions options_;
  LoadFn load_;
};

}  // namespace grid
