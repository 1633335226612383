// Boundary files in several formats: see boundaries.h.
//
// Thread-safety: see boundaries.h.
#include "import/boundaries.h"

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "engine/coordinates.h"
#include "engine/reasons.h"

namespace grid {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

bool EndsWith(std::string_view s, std::string_view tail) {
  if (s.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i) {
    char c = s[s.size() - tail.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != tail[i]) return false;
  }
  return true;
}

std::string GdalMessage() {
  const char* m = CPLGetLastErrorMsg();
  return m != nullptr && *m != '\0' ? std::string(": ") + m : std::string();
}

void RegisterGdal() {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);  // errors are read with CPLGetLastErrorMsg, not printed
  });
}

struct DatasetCloser {
  void operator()(void* ds) const { GDALClose(ds); }
};
struct SrsDeleter {
  void operator()(OGRSpatialReferenceH s) const { OSRDestroySpatialReference(s); }
};
struct TransformDeleter {
  void operator()(OGRCoordinateTransformationH t) const { OCTDestroyCoordinateTransformation(t); }
};
struct FeatureDeleter {
  void operator()(OGRFeatureH f) const { OGR_F_Destroy(f); }
};
struct GeometryDeleter {
  void operator()(OGRGeometryH g) const { OGR_G_DestroyGeometry(g); }
};

// "EPSG:2263 (NAD83 / New York Long Island (ftUS))", or the CRS's name.
std::string CrsName(OGRSpatialReferenceH srs) {
  std::string out;
  const char* auth = OSRGetAuthorityName(srs, nullptr);
  const char* code = OSRGetAuthorityCode(srs, nullptr);
  if (auth != nullptr && code != nullptr) out = std::string(auth) + ":" + code;
  const char* name = OSRGetName(srs);
  if (name != nullptr) out += out.empty() ? std::string(name) : " (" + std::string(name) + ")";
  return out.empty() ? "an unnamed CRS" : out;
}

// A ring's positions as [[lng, lat], ...]; false with *bad set at the first
// vertex that is not finite.
bool RingJson(OGRGeometryH ring, Json* out, int* bad) {
  *out = Json::array();
  const int n = OGR_G_GetPointCount(ring);
  for (int k = 0; k < n; ++k) {
    const double x = OGR_G_GetX(ring, k), y = OGR_G_GetY(ring, k);
    if (!std::isfinite(x) || !std::isfinite(y)) {
      *bad = k;
      return false;
    }
    out->push_back(Json::array({x, y}));
  }
  return true;
}

// The GeoJSON geometry of an OGR geometry; an error naming the position of
// a vertex that is not finite.
StatusOr<Json> GeometryJson(OGRGeometryH g) {
  if (g == nullptr || OGR_G_IsEmpty(g)) return Json();
  const OGRwkbGeometryType type = wkbFlatten(OGR_G_GetGeometryType(g));
  auto polygon = [](OGRGeometryH p, int pi, Json* out) -> Status {
    *out = Json::array();
    for (int ri = 0; ri < OGR_G_GetGeometryCount(p); ++ri) {
      Json ring;
      int bad = 0;
      if (!RingJson(OGR_G_GetGeometryRef(p, ri), &ring, &bad)) {
        return Error(reason::INVALID_GEOMETRY, "NON_FINITE_COORDINATE: polygon " + std::to_string(pi) + " ring " +
                                                   std::to_string(ri) + " position " + std::to_string(bad) +
                                                   " is not finite");
      }
      out->push_back(std::move(ring));
    }
    return Status::Ok();
  };
  if (type == wkbPolygon) {
    Json coords;
    GRID_RETURN_IF_ERROR(polygon(g, 0, &coords));
    return Json{{"type", "Polygon"}, {"coordinates", std::move(coords)}};
  }
  if (type == wkbMultiPolygon) {
    Json coords = Json::array();
    for (int pi = 0; pi < OGR_G_GetGeometryCount(g); ++pi) {
      Json one;
      GRID_RETURN_IF_ERROR(polygon(OGR_G_GetGeometryRef(g, pi), pi, &one));
      coords.push_back(std::move(one));
    }
    return Json{{"type", "MultiPolygon"}, {"coordinates", std::move(coords)}};
  }
  // The GeoJSON reader refuses it with its type's name.
  return Json{{"type", OGR_G_GetGeometryName(g)}, {"coordinates", Json::array()}};
}

Json FieldJson(OGRFeatureH f, int i, OGRFieldType type) {
  if (!OGR_F_IsFieldSetAndNotNull(f, i)) return Json();
  if (type == OFTInteger || type == OFTInteger64) return OGR_F_GetFieldAsInteger64(f, i);
  if (type == OFTReal) return OGR_F_GetFieldAsDouble(f, i);
  return std::string(OGR_F_GetFieldAsString(f, i));
}

}  // namespace

StatusOr<BoundaryFormat> BoundaryFormatOf(std::string_view path, std::string_view format_name) {
  if (!format_name.empty()) {
    if (format_name == "geojson") return BoundaryFormat::kGeoJson;
    if (format_name == "topojson") return BoundaryFormat::kTopoJson;
    if (format_name == "shapefile" || format_name == "shp") return BoundaryFormat::kShapefile;
    if (format_name == "gpkg" || format_name == "geopackage") return BoundaryFormat::kGeoPackage;
    return Error(reason::UNSUPPORTED_FORMAT,
                 "format '" + std::string(format_name) + "' is not one of geojson, topojson, shapefile, gpkg");
  }
  if (EndsWith(path, ".topojson") || EndsWith(path, ".topo.json")) return BoundaryFormat::kTopoJson;
  for (const char* ext : {".geojson", ".json", ".geojson.gz", ".json.gz"}) {
    if (EndsWith(path, ext)) return BoundaryFormat::kGeoJson;
  }
  if (EndsWith(path, ".shp")) return BoundaryFormat::kShapefile;
  if (EndsWith(path, ".gpkg")) return BoundaryFormat::kGeoPackage;
  return Error(
      reason::UNSUPPORTED_FORMAT,
      std::string(path) + ": the extension is none of .geojson, .json, .topojson, .shp, .gpkg (or give --format)");
}

std::vector<std::string> BoundaryReport::Lines() const {
  std::vector<std::string> out;
  out.push_back(std::to_string(features) + " feature(s), coordinates " + crs + "; " + std::to_string(repairs.size()) +
                " repaired, " + std::to_string(siblings.size()) + " sibling overlap(s) or gap(s)");
  for (const auto& r : repairs) out.push_back(r.ToString());
  for (const auto& s : siblings) out.push_back(s.ToString());
  return out;
}

StatusOr<LoadedBoundaries> ParseGeoJsonBoundaries(std::string_view json_text, const BoundaryOptions& options,
                                                  std::string_view source_name) {
  if (!grid::v1::CoordinateSystem_IsValid(options.coordinate_system)) {
    return Error(reason::UNKNOWN_COORDINATE_SYSTEM, std::string(source_name) + ": coordinate system " +
                                                        std::to_string(options.coordinate_system) + " is not known");
  }
  LoadedBoundaries out;
  GeoJsonOptions geo;
  geo.coordinate_system = options.coordinate_system;
  if (options.repair) {
    geo.repair = [&out](const grid::v1::Boundary& b, const std::string& feature,
                        const Status& refusal) -> StatusOr<grid::v1::Boundary> {
      BoundaryRepair r;
      auto fixed = RepairBoundary(b, &r);
      if (!fixed.ok()) {
        return Error(reason::UNREPAIRABLE_GEOMETRY,
                     refusal.ToString() + "; repair failed: " + fixed.status().message());
      }
      r.feature = feature;
      r.why = refusal.ToString();
      out.report.repairs.push_back(std::move(r));
      return fixed;
    };
  }
  auto units = ParseGeoJsonUnits(json_text, options.mapping, source_name, geo);
  if (!units.ok()) return units.status();
  out.units = std::move(units).value();
  out.report.features = static_cast<size_t>(out.units.units_size());
  if (out.report.crs.empty()) {
    out.report.crs = options.coordinate_system == grid::v1::COORDINATE_SYSTEM_WGS84
                         ? "WGS-84 (GeoJSON)"
                         : std::string(coords::SystemName(options.coordinate_system)) + " -> WGS-84";
  }
  out.report.siblings = CheckSiblings(out.units, options.min_sibling_issue_m2);
  return out;
}

StatusOr<LoadedBoundaries> ReadOgrBoundaries(const std::string& path, BoundaryFormat format,
                                             const BoundaryOptions& options, std::string_view source_name) {
  const std::string src(source_name);
  RegisterGdal();
  if (format == BoundaryFormat::kShapefile) {
    // GDAL opens a .shp without its .dbf (no fields) or .prj (no CRS): refuse
    // both here, with the file that is missing.
    const fs::path shp(path);
    // The part beside the .shp, in lower or upper case (".dbf" or ".DBF").
    auto sibling = [&](std::string ext) {
      for (int upper = 0; upper < 2; ++upper) {
        if (upper == 1)
          std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::toupper(c); });
        fs::path p = shp;
        p.replace_extension(ext);
        if (fs::exists(p)) return true;
      }
      return false;
    };
    if (!fs::exists(shp)) return Error(reason::INVALID_BOUNDARY_FILE, src + ": no such file");
    for (const char* ext : {".dbf", ".shx"}) {
      if (!sibling(ext)) {
        return Error(reason::INVALID_BOUNDARY_FILE,
                     src + ": the shapefile has no " + ext + " beside it (" +
                         (std::string(ext) == ".dbf" ? "its attribute table" : "its index") + ")");
      }
    }
    if (!sibling(".prj")) {
      return Error(reason::UNKNOWN_CRS,
                   src + ": the shapefile has no .prj beside it, so its coordinate system is unknown");
    }
  }
  const char* shp_drivers[] = {"ESRI Shapefile", nullptr};
  const char* gpkg_drivers[] = {"GPKG", nullptr};
  const char* topo_drivers[] = {"TopoJSON", nullptr};
  const char* const* drivers = format == BoundaryFormat::kShapefile    ? shp_drivers
                               : format == BoundaryFormat::kGeoPackage ? gpkg_drivers
                                                                       : topo_drivers;
  CPLErrorReset();
  std::unique_ptr<void, DatasetCloser> ds(
      GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, nullptr, nullptr));
  if (!ds) return Error(reason::INVALID_BOUNDARY_FILE, src + ": GDAL cannot open it as " + drivers[0] + GdalMessage());
  if (GDALDatasetGetLayerCount(ds.get()) < 1) return Error(reason::INVALID_BOUNDARY_FILE, src + ": no layer");
  OGRLayerH layer = GDALDatasetGetLayer(ds.get(), 0);
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);

  // The fields named by the mapping must be fields of the layer.
  std::string fields;
  for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) {
    fields += (fields.empty() ? "" : ", ") + std::string(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
  }
  for (const std::string* name :
       {&options.mapping.code_prop, &options.mapping.name_prop, &options.mapping.parent_prop}) {
    if (!name->empty() && OGR_FD_GetFieldIndex(defn, name->c_str()) < 0) {
      return Error(reason::MISSING_PROPERTY, src + ": layer " + OGR_L_GetName(layer) + " has no field \"" + *name +
                                                 "\" (its fields: " + (fields.empty() ? "none" : fields) + ")");
    }
  }

  // Source CRS -> WGS-84 longitude/latitude.
  std::string crs = "WGS-84 (TopoJSON)";
  std::unique_ptr<std::remove_pointer_t<OGRCoordinateTransformationH>, TransformDeleter> to_wgs84;
  OGRSpatialReferenceH layer_srs = OGR_L_GetSpatialRef(layer);
  if (layer_srs == nullptr && format != BoundaryFormat::kTopoJson) {
    return Error(reason::UNKNOWN_CRS, src + ": layer " + OGR_L_GetName(layer) + " has no coordinate system");
  }
  if (layer_srs != nullptr) {
    std::unique_ptr<std::remove_pointer_t<OGRSpatialReferenceH>, SrsDeleter> from(OSRClone(layer_srs));
    std::unique_ptr<std::remove_pointer_t<OGRSpatialReferenceH>, SrsDeleter> to(OSRNewSpatialReference(nullptr));
    OSRImportFromEPSG(to.get(), 4326);
    OSRSetAxisMappingStrategy(from.get(), OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(to.get(), OAMS_TRADITIONAL_GIS_ORDER);
    CPLErrorReset();
    to_wgs84.reset(OCTNewCoordinateTransformation(from.get(), to.get()));
    if (!to_wgs84) {
      return Error(reason::UNKNOWN_CRS,
                   src + ": no transformation from " + CrsName(from.get()) + " to WGS-84" + GdalMessage());
    }
    crs = CrsName(from.get()) + " -> WGS-84";
  }

  Json features = Json::array();
  OGR_L_ResetReading(layer);
  size_t index = 0;
  for (std::unique_ptr<std::remove_pointer_t<OGRFeatureH>, FeatureDeleter> f(OGR_L_GetNextFeature(layer)); f;
       f.reset(OGR_L_GetNextFeature(layer)), ++index) {
    Json props = Json::object();
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) {
      OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
      props[OGR_Fld_GetNameRef(fd)] = FieldJson(f.get(), i, OGR_Fld_GetType(fd));
    }
    Json geometry;
    if (OGRGeometryH g = OGR_F_GetGeometryRef(f.get()); g != nullptr) {
      std::unique_ptr<std::remove_pointer_t<OGRGeometryH>, GeometryDeleter> copy(OGR_G_Clone(g));
      if (to_wgs84) {
        CPLErrorReset();
        if (OGR_G_Transform(copy.get(), to_wgs84.get()) != OGRERR_NONE) {
          return Error(reason::UNKNOWN_CRS,
                       src + ": feature " + std::to_string(index) + ": cannot transform from " + crs + GdalMessage());
        }
      }
      auto gj = GeometryJson(copy.get());
      if (!gj.ok()) {
        return Error(reason::INVALID_GEOMETRY,
                     src + ": feature " + std::to_string(index) + ": " + gj.status().message());
      }
      geometry = std::move(gj).value();
    }
    features.push_back(Json{{"type", "Feature"}, {"properties", std::move(props)}, {"geometry", std::move(geometry)}});
  }
  const Json doc{{"type", "FeatureCollection"}, {"features", std::move(features)}};
  auto out = ParseGeoJsonBoundaries(doc.dump(), options, source_name);
  if (out.ok()) {
    out->report.crs = options.coordinate_system == grid::v1::COORDINATE_SYSTEM_WGS84
                          ? crs
                          : crs + " (declared " + std::string(coords::SystemName(options.coordinate_system)) + ")";
  }
  return out;
}

}  // namespace grid
