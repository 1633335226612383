// Boundary files as cities publish them: GeoJSON (read by geojson.h), and
// through GDAL/OGR TopoJSON, Shapefiles and GeoPackages, reprojected from the
// file's own CRS to WGS-84; invalid polygons repaired with GEOS (repair.h)
// unless repair is off; overlaps and gaps between siblings reported.
//
// A GDAL file becomes a GeoJSON FeatureCollection (the first layer; each
// feature's fields as properties, its geometry transformed to WGS-84
// longitude/latitude) and then goes through exactly the GeoJSON reader's
// checks, so every format gives the same errors, each naming the feature.
// Errors before that, all INVALID_ARGUMENT:
//   UNSUPPORTED_FORMAT     an extension or --format that is none of these;
//   INVALID_BOUNDARY_FILE  GDAL cannot open it, it has no layer, or a
//                          shapefile's .dbf or .shx is missing;
//   UNKNOWN_CRS            a shapefile without .prj, a layer with no CRS or
//                          one PROJ cannot transform to WGS-84;
//   MISSING_PROPERTY       the code, name or parent field is not a field of
//                          the layer (the message lists the fields);
//   NON_FINITE_COORDINATE  (as INVALID_GEOMETRY) a vertex that is NaN or
//                          infinite after reprojection;
//   UNKNOWN_COORDINATE_SYSTEM  options.coordinate_system outside the enum.
// Nothing is imported from a file that is refused: these functions only
// parse; the caller sends the units when everything passed.
//
// Thread-safety: the functions may run concurrently (GDAL is registered
// once, under std::call_once; each call opens its own dataset).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "grid/v1/directory.pb.h"
#include "import/geojson.h"
#include "import/repair.h"

namespace grid {

enum class BoundaryFormat { kGeoJson, kTopoJson, kShapefile, kGeoPackage };

// The format named by `format_name` ("geojson", "topojson", "shapefile" or
// "shp", "gpkg" or "geopackage"), or when it is empty by the extension of
// `path` (.geojson, .json, .geojson.gz, .json.gz, .topojson, .shp, .gpkg).
// UNSUPPORTED_FORMAT otherwise.
StatusOr<BoundaryFormat> BoundaryFormatOf(std::string_view path, std::string_view format_name);

struct BoundaryOptions {
  GeoJsonMapping mapping;
  bool repair = true;  // false: an invalid polygon refuses the file (--no-repair)
  // The system of the positions once in longitude/latitude: GCJ-02 for the
  // DataV outlines. A projected file is reprojected to WGS-84 first.
  grid::v1::CoordinateSystem coordinate_system = grid::v1::COORDINATE_SYSTEM_WGS84;
  double min_sibling_issue_m2 = 1.0;  // smaller overlaps and gaps are not reported
};

struct BoundaryReport {
  std::string crs;  // "EPSG:2263 (NAD83 / New York Long Island (ftUS)) -> WGS-84", "WGS-84 (GeoJSON)"
  size_t features = 0;
  std::vector<BoundaryRepair> repairs;
  std::vector<SiblingIssue> siblings;
  // One line each: the source, the repairs, the siblings' overlaps and gaps.
  std::vector<std::string> Lines() const;
};

struct LoadedBoundaries {
  grid::v1::DirectoryContent units;
  BoundaryReport report;
};

// GeoJSON text (the caller reads and un-gzips the file).
StatusOr<LoadedBoundaries> ParseGeoJsonBoundaries(std::string_view json_text, const BoundaryOptions& options,
                                                  std::string_view source_name);

// A TopoJSON, Shapefile or GeoPackage file at `path`, read with GDAL/OGR.
StatusOr<LoadedBoundaries> ReadOgrBoundaries(const std::string& path, BoundaryFormat format,
                                             const BoundaryOptions& options, std::string_view source_name);

}  // namespace grid
