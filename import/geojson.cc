// GeoJSON import: see geojson.h.
//
// Thread-safety: pure functions.
#include "import/geojson.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/coordinates.h"
#include "engine/directory.h"
#include "engine/geo.h"
#include "engine/reasons.h"

namespace grid {
namespace {

using Json = nlohmann::json;

std::string FormatNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

std::string JsonTypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// A short rendering of a JSON value for messages.
std::string Excerpt(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// Text of a property value; nullopt with `why` set when it has none.
std::optional<std::string> ValueText(const Json& v, std::string* why, bool* missing) {
  *missing = false;
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.empty()) {
      *missing = true;
      *why = "is empty";
      return std::nullopt;
    }
    return s;
  }
  if (v.is_number_integer())
    return v.is_number_unsigned() ? std::to_string(v.get<uint64_t>()) : std::to_string(v.get<int64_t>());
  if (v.is_number_float()) return FormatNumber(v.get<double>());
  if (v.is_null()) {
    *missing = true;
    *why = "is null";
    return std::nullopt;
  }
  *why = "is " + JsonTypeName(v) + ", not text or a number";
  return std::nullopt;
}

std::string PointText(double lng, double lat) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "[%.7g, %.7g]", lng, lat);
  return buf;
}

std::string Where(int polygon, int ring) {
  return "polygon " + std::to_string(polygon) + " ring " + std::to_string(ring);
}

// Converts one GeoJSON geometry into a Boundary. On failure returns the
// reason and fills *message (without the feature prefix).
struct GeometryError {
  const Reason* reason;
  std::string message;
};

std::optional<GeometryError> ParseRing(const Json& ring, int pi, int ri, grid::v1::Ring* out) {
  if (!ring.is_array()) {
    return GeometryError{&reason::INVALID_GEOMETRY, "MALFORMED_RING: " + Where(pi, ri) + " is " + JsonTypeName(ring) +
                                                        ", not an array of positions"};
  }
  if (ring.empty()) return GeometryError{&reason::EMPTY_GEOMETRY, Where(pi, ri) + " has no position"};
  std::vector<std::pair<double, double>> pts;
  pts.reserve(ring.size());
  for (size_t k = 0; k < ring.size(); ++k) {
    const Json& pos = ring[k];
    const std::string at = Where(pi, ri) + " position " + std::to_string(k);
    if (!pos.is_array() || pos.size() < 2) {
      return GeometryError{&reason::INVALID_GEOMETRY,
                           "MALFORMED_POSITION: " + at + " is " + Excerpt(pos) + ", not [longitude, latitude]"};
    }
    for (int axis = 0; axis < 2; ++axis) {
      if (!pos[axis].is_number()) {
        return GeometryError{&reason::INVALID_GEOMETRY, "NON_NUMERIC_COORDINATE: " + at + " has " + Excerpt(pos[axis]) +
                                                            " (" + JsonTypeName(pos[axis]) +
                                                            ") where a number belongs"};
      }
    }
    const double lng = pos[0].get<double>();
    const double lat = pos[1].get<double>();
    if (!std::isfinite(lng) || !std::isfinite(lat)) {
      return GeometryError{&reason::INVALID_GEOMETRY, "NON_FINITE_COORDINATE: " + at + " is not finite"};
    }
    if ((lat < -90 || lat > 90) && lng >= -90 && lng <= 90 && lat >= -180 && lat <= 180) {
      return GeometryError{&reason::SWAPPED_COORDINATES,
                           at + " " + PointText(lng, lat) + " has latitude " + FormatNumber(lat) +
                               "; read as [latitude, longitude] it would be valid: GeoJSON (RFC 7946) positions "
                               "are [longitude, latitude]"};
    }
    if (lat < -90 || lat > 90 || lng < -180 || lng > 180) {
      return GeometryError{&reason::INVALID_GEOMETRY, "COORDINATE_OUT_OF_RANGE: " + at + " " + PointText(lng, lat) +
                                                          " is outside longitude [-180, 180], latitude [-90, 90]"};
    }
    pts.emplace_back(lng, lat);
  }
  if (pts.front() != pts.back()) {
    return GeometryError{&reason::INVALID_GEOMETRY,
                         "UNCLOSED_RING: " + Where(pi, ri) + " starts at " +
                             PointText(pts.front().first, pts.front().second) + " but ends at " +
                             PointText(pts.back().first, pts.back().second) + " (RFC 7946 rings are closed)"};
  }
  if (pts.size() < 4) {
    return GeometryError{&reason::INVALID_GEOMETRY, "RING_TOO_SHORT: " + Where(pi, ri) + " has " +
                                                        std::to_string(pts.size()) +
                                                        " positions, a closed ring needs 4"};
  }
  pts.pop_back();  // the closing position (the stored form does not repeat it)
  out->mutable_lng()->Reserve(static_cast<int>(pts.size()));
  out->mutable_lat()->Reserve(static_cast<int>(pts.size()));
  for (const auto& [lng, lat] : pts) {
    out->add_lng(lng);
    out->add_lat(lat);
  }
  return std::nullopt;
}

std::optional<GeometryError> ParsePolygon(const Json& rings, int pi, grid::v1::Polygon* out) {
  if (!rings.is_array()) {
    return GeometryError{&reason::INVALID_GEOMETRY, "MALFORMED_POLYGON: polygon " + std::to_string(pi) + " is " +
                                                        JsonTypeName(rings) + ", not an array of rings"};
  }
  if (rings.empty()) return GeometryError{&reason::EMPTY_GEOMETRY, "polygon " + std::to_string(pi) + " has no ring"};
  for (size_t ri = 0; ri < rings.size(); ++ri) {
    if (auto e = ParseRing(rings[ri], pi, static_cast<int>(ri), out->add_rings())) return e;
  }
  return std::nullopt;
}

std::optional<GeometryError> ParseGeometry(const Json* geometry, grid::v1::Boundary* out) {
  if (geometry == nullptr || geometry->is_null())
    return GeometryError{&reason::EMPTY_GEOMETRY, "the feature has no geometry"};
  if (!geometry->is_object()) {
    return GeometryError{&reason::INVALID_GEOJSON, "geometry is " + JsonTypeName(*geometry) + ", not an object"};
  }
  auto type_it = geometry->find("type");
  if (type_it == geometry->end() || !type_it->is_string()) {
    return GeometryError{&reason::INVALID_GEOJSON, "geometry has no \"type\""};
  }
  const std::string type = type_it->get<std::string>();
  if (type != "Polygon" && type != "MultiPolygon") {
    return GeometryError{&reason::INVALID_GEOJSON,
                         "geometry type " + type + " is not supported: a unit's boundary is a Polygon or MultiPolygon"};
  }
  auto coords_it = geometry->find("coordinates");
  if (coords_it == geometry->end() || coords_it->is_null()) {
    return GeometryError{&reason::EMPTY_GEOMETRY, type + " has no coordinates"};
  }
  const Json& coords = *coords_it;
  if (!coords.is_array()) {
    return GeometryError{&reason::INVALID_GEOMETRY, "MALFORMED_COORDINATES: " + type + " coordinates are " +
                                                        JsonTypeName(coords) + ", not an array"};
  }
  if (coords.empty()) return GeometryError{&reason::EMPTY_GEOMETRY, type + " has empty coordinates"};
  if (type == "Polygon") return ParsePolygon(coords, 0, out->add_polygons());
  for (size_t pi = 0; pi < coords.size(); ++pi) {
    if (auto e = ParsePolygon(coords[pi], static_cast<int>(pi), out->add_polygons())) return e;
  }
  return std::nullopt;
}

// Every vertex from `system` to WGS-84.
void ToWgs84(grid::v1::CoordinateSystem system, grid::v1::Boundary* b) {
  for (auto& p : *b->mutable_polygons()) {
    for (auto& r : *p.mutable_rings()) {
      for (int k = 0; k < r.lng_size() && k < r.lat_size(); ++k) {
        const geo::Point w = coords::ToWgs84(geo::Point{r.lng(k), r.lat(k)}, system);
        r.set_lng(k, w.lng);
        r.set_lat(k, w.lat);
      }
    }
  }
}

// Centre of a boundary's bounding box, (lng, lat).
std::pair<double, double> BoxCentre(const grid::v1::Boundary& b) {
  double min_lng = 1e9, max_lng = -1e9, min_lat = 1e9, max_lat = -1e9;
  for (const auto& p : b.polygons()) {
    for (const auto& r : p.rings()) {
      for (int k = 0; k < r.lng_size(); ++k) {
        min_lng = std::min(min_lng, r.lng(k));
        max_lng = std::max(max_lng, r.lng(k));
        min_lat = std::min(min_lat, r.lat(k));
        max_lat = std::max(max_lat, r.lat(k));
      }
    }
  }
  return {(min_lng + max_lng) / 2, (min_lat + max_lat) / 2};
}

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

std::string CodeSlug(std::string_view text) {
  std::string out;
  bool dash = false;
  for (char ch : text) {
    char c = ch;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (dash && !out.empty()) out.push_back('-');
      dash = false;
      out.push_back(c);
    } else {
      dash = true;
    }
    if (out.size() >= 64) break;
  }
  if (out.size() > 64) out.resize(64);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

StatusOr<grid::v1::DirectoryContent> ParseGeoJsonUnits(std::string_view json_text, const GeoJsonMapping& mapping,
                                                       std::string_view source_name) {
  return ParseGeoJsonUnits(json_text, mapping, source_name, GeoJsonOptions{});
}

StatusOr<grid::v1::DirectoryContent> ParseGeoJsonUnits(std::string_view json_text, const GeoJsonMapping& mapping,
                                                       std::string_view source_name, const GeoJsonOptions& options) {
  const std::string src(source_name);
  if (mapping.code_prop.empty()) {
    return Error(reason::MISSING_PROPERTY, src + ": no key property was given (the code property)");
  }
  Json doc = Json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(reason::INVALID_GEOJSON, src + ": not valid JSON");
  if (!doc.is_object()) return Error(reason::INVALID_GEOJSON, src + ": the top level is not a JSON object");
  auto type_it = doc.find("type");
  if (type_it == doc.end() || !type_it->is_string() || type_it->get<std::string>() != "FeatureCollection") {
    return Error(reason::INVALID_GEOJSON, src + ": the top level is not a FeatureCollection");
  }
  auto features_it = doc.find("features");
  if (features_it == doc.end() || !features_it->is_array()) {
    return Error(reason::INVALID_GEOJSON, src + ": the FeatureCollection has no \"features\" array");
  }
  const Json& features = *features_it;
  if (features.empty()) return Error(reason::INVALID_GEOJSON, src + ": the FeatureCollection has no feature");

  grid::v1::DirectoryContent out;
  std::unordered_map<std::string, size_t> seen;  // code -> feature index
  std::vector<std::string> labels;
  for (size_t fi = 0; fi < features.size(); ++fi) {
    const Json& f = features[fi];
    std::string label = src + ": feature " + std::to_string(fi);
    auto fail = [&](const Reason& reason, const std::string& message) { return Error(reason, label + ": " + message); };
    if (!f.is_object() || !f.contains("type") || f["type"] != "Feature") {
      return fail(reason::INVALID_GEOJSON, "is not a GeoJSON Feature");
    }
    const Json* props = nullptr;
    if (auto it = f.find("properties"); it != f.end() && it->is_object()) props = &*it;

    // A property's text, or the error naming it.
    auto property = [&](const std::string& name, std::string* value) -> Status {
      if (props == nullptr || !props->contains(name)) {
        return fail(reason::MISSING_PROPERTY, "has no property \"" + name + "\"");
      }
      std::string why;
      bool missing = false;
      auto text = ValueText((*props)[name], &why, &missing);
      if (!text)
        return fail(missing ? reason::MISSING_PROPERTY : reason::INVALID_PROPERTY, "property \"" + name + "\" " + why);
      *value = std::move(*text);
      return Status::Ok();
    };

    std::string key;
    GRID_RETURN_IF_ERROR(property(mapping.code_prop, &key));
    label += " (" + mapping.code_prop + "=" + key + ")";
    std::string code = mapping.code_prefix + (mapping.slug_values ? CodeSlug(key) : key);
    if (!IsValidCode(code)) {
      return fail(reason::INVALID_CODE, "code '" + code + "' is not 1-64 characters of [0-9A-Za-z._-]");
    }
    if (auto [it, inserted] = seen.emplace(code, fi); !inserted) {
      return fail(reason::DUPLICATE_CODE,
                  "code " + code + " was already used by feature " + std::to_string(it->second));
    }
    std::string name = key;
    if (!mapping.name_prop.empty()) GRID_RETURN_IF_ERROR(property(mapping.name_prop, &name));
    std::string parent = mapping.parent_code;
    if (!mapping.parent_prop.empty()) {
      std::string value;
      GRID_RETURN_IF_ERROR(property(mapping.parent_prop, &value));
      parent = mapping.parent_prefix + (mapping.slug_values ? CodeSlug(value) : value);
      if (!IsValidCode(parent)) {
        return fail(reason::INVALID_CODE, "parent code '" + parent + "' (property \"" + mapping.parent_prop +
                                              "\") is not 1-64 characters of [0-9A-Za-z._-]");
      }
    }

    grid::v1::Unit* u = out.add_units();
    u->set_code(code);
    u->set_level(mapping.level);
    u->set_name(name);
    u->set_parent_code(parent);
    const Json* geometry = nullptr;
    if (auto it = f.find("geometry"); it != f.end()) geometry = &*it;
    if (auto e = ParseGeometry(geometry, u->mutable_boundary())) return fail(*e->reason, e->message);
    if (options.coordinate_system != grid::v1::COORDINATE_SYSTEM_WGS84) {
      ToWgs84(options.coordinate_system, u->mutable_boundary());
    }
    auto shape = geo::FromProto(u->boundary());
    if (!shape.ok()) {
      const bool empty = shape.status().reason() == reason::EMPTY_GEOMETRY.name;
      if (empty || !options.repair) {
        return fail(empty ? reason::EMPTY_GEOMETRY : reason::INVALID_GEOMETRY, shape.status().ToString());
      }
      auto repaired = options.repair(u->boundary(), label, shape.status());
      if (!repaired.ok()) {
        const Reason* why = FindReason(repaired.status().reason());
        return fail(why != nullptr ? *why : reason::UNREPAIRABLE_GEOMETRY, repaired.status().message());
      }
      *u->mutable_boundary() = std::move(repaired).value();
    }
    labels.push_back(std::move(label));
  }

  // Swapped coordinates that stay within range (|lng| <= 90): a feature whose
  // centre lies far from the others' but whose swapped centre lies among them.
  if (out.units_size() >= 3) {
    std::vector<double> lngs, lats;
    std::vector<std::pair<double, double>> centres;
    for (const auto& u : out.units()) {
      centres.push_back(BoxCentre(u.boundary()));
      lngs.push_back(centres.back().first);
      lats.push_back(centres.back().second);
    }
    const double mlng = Median(lngs), mlat = Median(lats);
    for (size_t i = 0; i < centres.size(); ++i) {
      const auto [lng, lat] = centres[i];
      const double d = std::max(std::fabs(lng - mlng), std::fabs(lat - mlat));
      const double ds = std::max(std::fabs(lat - mlng), std::fabs(lng - mlat));
      if (d > 5.0 && ds < 1.0) {
        return Error(reason::SWAPPED_COORDINATES,
                     labels[i] + ": its centre " + PointText(lng, lat) + " lies " + FormatNumber(std::round(d)) +
                         " degrees from the other features' but read as [latitude, longitude] it lies among "
                         "them: GeoJSON (RFC 7946) positions are [longitude, latitude]");
      }
    }
  }
  return out;
}

StatusOr<std::shared_ptr<const Directory>> ImportGeoJson(const Directory& base, std::string_view json_text,
                                                         const GeoJsonMapping& mapping, std::string_view source_name) {
  auto units = ParseGeoJsonUnits(json_text, mapping, source_name);
  if (!units.ok()) return units.status();
  auto next = Directory::Apply(base, *units, /*replace=*/false, base.version() + 1);
  if (!next.ok())
    return InvalidArgument(next.status().reason(), std::string(source_name) + ": " + next.status().message());
  return next;
}

}  // namespace grid
