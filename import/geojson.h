// GeoJSON import: a FeatureCollection of Polygon / MultiPolygon features
// becomes directory units (one per feature) with their boundaries, for a new
// directory version (gridctl import geojson).
//
// Input follows RFC 7946: positions are [longitude, latitude] (extra members
// such as altitude are ignored), every ring is closed (first position equals
// the last), the first ring of a polygon is its outer ring and further rings
// are holes; winding order is not enforced. Each feature is validated as a
// whole with geo::FromProto plus the checks GeoJSON needs on top of it
// (closed rings, numbers only, swapped coordinates, empty geometry).
//
// Every error is INVALID_ARGUMENT and names the source, the feature (its index
// in the collection and its key) and the reason, e.g.
//   reason INVALID_GEOMETRY, message
//   "councils.geojson: feature 17 (nc_id=52): SELF_INTERSECTING_RING: polygon 0 ring 0: edges 3 and 7 intersect".
// Reasons: INVALID_GEOJSON (not JSON, not a FeatureCollection, a feature that
// is not a Feature, an unsupported geometry type), MISSING_PROPERTY (the key,
// name or parent property is absent, null or empty), INVALID_PROPERTY (an
// object, array or boolean where text is needed), INVALID_CODE, DUPLICATE_CODE
// (two features with the same key), EMPTY_GEOMETRY, SWAPPED_COORDINATES,
// INVALID_GEOMETRY (malformed positions, non-numbers, unclosed rings and every
// geo::FromProto reason, named in the message), and through ImportGeoJson
// every Directory::Build reason (UNKNOWN_PARENT, GRID_OUTSIDE_COMMUNITY ...).
//
// Parsing never changes a directory: the caller merges the parsed units into
// the serving content and builds a new version only when everything passed,
// so a failed import leaves the serving version as it was.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/directory.h"
#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid {

struct GeoJsonMapping {
  std::string code_prop;    // required: the feature property holding the unit's code
  std::string name_prop;    // empty: the name is the code
  std::string parent_prop;  // empty: every unit gets parent_code
  grid::v1::UnitLevel level = grid::v1::UNIT_LEVEL_GRID;
  std::string parent_code;    // the fixed parent when parent_prop is empty
  std::string code_prefix;    // prepended to every code taken from code_prop
  std::string parent_prefix;  // prepended to every parent taken from parent_prop
  // When true, code and parent property values are turned into codes with
  // CodeSlug ("REGION 8 - NORTH EAST LA" -> "region-8-north-east-la");
  // otherwise they must already be valid codes (INVALID_CODE).
  bool slug_values = false;
};

// Lower-case ASCII letters and digits kept, every other run of characters
// becomes one '-', no leading or trailing '-', at most 64 characters.
std::string CodeSlug(std::string_view text);

// How a feature's geometry is taken beyond the strict RFC 7946 reading.
struct GeoJsonOptions {
  // The system the positions are in. GCJ-02 and BD-09 positions (the DataV
  // outlines most Chinese web maps use are GCJ-02) are converted to WGS-84
  // vertex by vertex (engine/coordinates.h) after the range checks and
  // before the geometry is validated.
  grid::v1::CoordinateSystem coordinate_system = grid::v1::COORDINATE_SYSTEM_WGS84;
  // Called for a feature whose positions are well formed but whose boundary
  // geo::FromProto refuses (a ring that crosses itself ...), with the
  // feature's label ("f.geojson: feature 3 (nc_id=91)") and the refusal.
  // Returns the boundary to keep instead, or the error that refuses the
  // feature (its message is prefixed by the label). Empty: the feature is
  // refused with the engine's reason (the strict behaviour).
  std::function<StatusOr<grid::v1::Boundary>(const grid::v1::Boundary& boundary, const std::string& feature,
                                             const Status& refusal)>
      repair;
};

// Parses a FeatureCollection into units (level, code, name, parent and
// boundary set; nothing else), in feature order. Without options: WGS-84,
// and nothing repaired.
StatusOr<grid::v1::DirectoryContent> ParseGeoJsonUnits(std::string_view json_text, const GeoJsonMapping& mapping,
                                                       std::string_view source_name);
StatusOr<grid::v1::DirectoryContent> ParseGeoJsonUnits(std::string_view json_text, const GeoJsonMapping& mapping,
                                                       std::string_view source_name, const GeoJsonOptions& options);

// The whole import against a serving directory: ParseGeoJsonUnits, then the
// units merged into `base`'s content (an existing code gets the new unit: a
// new boundary set) and validated as the next version by Directory::Build,
// which also refuses an unknown parent (UNKNOWN_PARENT) and a grid outside
// its community (GRID_OUTSIDE_COMMUNITY). Errors are prefixed by the source.
// `base` is never changed; the caller swaps the result in.
StatusOr<std::shared_ptr<const Directory>> ImportGeoJson(const Directory& base, std::string_view json_text,
                                                         const GeoJsonMapping& mapping, std::string_view source_name);

}  // namespace grid
