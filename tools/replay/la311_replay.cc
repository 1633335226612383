// la311_replay: routes the 29,999 real Los Angeles 311 requests of
// ../shared/data/la311 through the engine's Router against the city's own
// boundaries, and measures how often the routed neighbourhood council equals
// the request's own NC label.
//
//   la311_replay --data /path/to/la311 [--councils 2019|2020] [--grids-per-council N] [--pad P] [--parity]
//
// --councils picks the council file the directory is built from: the 2019
// file (default) or the 2020-12-03 file, which the strict importer refuses
// (one self-intersecting ring) and which is imported with GEOS repair
// (import/boundaries.h); the repairs and the siblings' overlaps and gaps are
// printed. The other file only explains misses ("boundary changed").
// Independent check: for every row with coordinates, a plain even-odd ray
// cast (written here, sharing no code with the engine) over the ORIGINAL
// rings of the chosen file, unrepaired, finds the first feature containing
// the point; its share of rows whose containing feature carries the label is
// printed beside the engine's strict figure (routed by the containing grid).
//
// The directory it builds (one version, validated by Directory::Build):
//   city "la" (COUNTY) -> 12 service regions (TOWN, code = CodeSlug(service_re))
//   -> 99 neighbourhood councils (COMMUNITY, code = nc_id; imported from
//   la_neighborhood_councils_2019_ncid_patched.geojson with ParseGeoJsonUnits,
//   boundary kept) -> grids (GRID, "<nc_id>-NN").
// Grids: each council's bounding box is cut by a k x k lattice (k =
// ceil(sqrt(N))) and the council's MultiPolygon is clipped to every cell with
// Boost.Geometry; every non-empty piece is one grid, so the grids tile the
// council (with N = 1 the council is a single grid with its own boundary). A
// council whose pieces fail geo::FromProto keeps a single grid (counted).
// The grids are checked against their councils by Directory::Build.
// Address coverage (honest: never taken from the rows it is tested on): the
// rows WITH coordinates of the 2018 and 2020 files are located in the grids;
// their "NUMBER STREET" addresses give, per street (and per house-number
// parity with --parity), the grid of each observed number (majority), runs of
// equal grid become house-number ranges, gaps between runs are split at the
// midpoint and the ends are extended by --pad numbers. The 2017 file's address-only rows (and
// the 2017 rows with coordinates, with the coordinates hidden, as a check) are
// then routed by address; the Router is given the address text as written
// (engine/address reads the number-first US form).
//
// Per file it prints rows, rows with coordinates, the share of coordinate rows
// whose routed council (the routed grid's parent) equals the NC label, and
// the misses by cause:
//   no NC label      the row has no (or a 0) NC label;
//   unknown label    the label is not a council of the chosen file;
//   no polygon       the point lies in no grid (routed to the nearest grid
//                    within 300 m, by address, or to the city for manual
//                    dispatch) and that council is not the label;
//   shared edge      the point is within 1 m of the labelled council's
//                    boundary in the chosen file;
//   boundary changed the point lies in the labelled council's polygon of
//                    the other file;
//   other.
//
// Exit codes: 0 on success, 1 when a file cannot be read or the directory
// does not build, 2 on bad flags.
//
// Thread-safety: single-threaded tool.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// Boost 1.74's Boost.Geometry includes a header it itself deprecated.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/geometry.hpp>
#include <nlohmann/json.hpp>

#include "engine/address.h"
#include "engine/directory.h"
#include "engine/geo.h"
#include "engine/router.h"
#include "engine/text.h"
#include "import/boundaries.h"
#include "import/geojson.h"
#include "tools/loaders.h"

namespace grid {
namespace {

namespace bg = boost::geometry;
using BPoint = bg::model::d2::point_xy<double>;
using BPolygon = bg::model::polygon<BPoint, /*ClockWise=*/false, /*Closed=*/true>;
using BMulti = bg::model::multi_polygon<BPolygon>;
using BBox = bg::model::box<BPoint>;

constexpr const char* kCouncils2019 = "la_neighborhood_councils_2019_ncid_patched.geojson";
constexpr const char* kCouncils2020 = "la_neighborhood_councils_2020-12-03.geojson";
const std::vector<std::string> kFiles = {"la311_2017-12-27_to_12-31.csv", "la311_2018-12-27_to_12-31.csv",
                                         "la311_2020-01-01_to_01-03.csv"};
constexpr double kSharedEdgeMeters = 1.0;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "la311_replay: %s\n", what.c_str());
  std::exit(1);
}

std::string ReadOrDie(const std::string& path) {
  auto text = tools::ReadFileMaybeGz(path);
  if (!text.ok()) Die(text.status().ToString());
  return std::move(text).value();
}

// ---------------------------------------------------------------------------
// CSV (RFC 4180: quoted fields with commas, doubled quotes, newlines).

std::vector<std::vector<std::string>> ParseCsv(std::string_view s) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field.push_back(c);
    }
  }
  if (any || !field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool ParseDouble(std::string_view s, double* out) {
  std::string t = Trim(s);
  if (t.empty()) return false;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size() && std::isfinite(*out);
}

// "12/31/2017 11:59:58 PM" or "2020-01-01 00:05:00"; minutes since 2000 (no
// calendar precision needed: only whether it parses and for ordering).
bool ParseDate(std::string_view s, long* minutes) {
  int y, mo, d, h, mi, sec;
  char ampm[3] = {0, 0, 0};
  std::string t(s);
  if (std::sscanf(t.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec) == 6) {
  } else if (std::sscanf(t.c_str(), "%d/%d/%d %d:%d:%d %2s", &mo, &d, &y, &h, &mi, &sec, ampm) == 7) {
    if (h < 1 || h > 12) return false;
    if (std::string_view(ampm) == "PM" && h != 12) h += 12;
    if (std::string_view(ampm) == "AM" && h == 12) h = 0;
  } else {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  *minutes = ((((y - 2000) * 12L + (mo - 1)) * 31 + (d - 1)) * 24 + h) * 60 + mi;
  return true;
}

struct Request {
  std::string type;
  std::string address;
  std::string nc;  // empty when missing or "0"
  bool has_point = false;
  geo::Point point;
};

struct FileRows {
  std::vector<Request> rows;
  size_t dates_parsed = 0;
  size_t closed_before_created = 0;
};

FileRows LoadRequests(const std::string& path) {
  const std::string text = ReadOrDie(path);
  auto table = ParseCsv(text);
  if (table.empty()) Die(path + ": empty file");
  std::unordered_map<std::string, size_t> col;
  for (size_t i = 0; i < table[0].size(); ++i) col[Lower(Trim(table[0][i]))] = i;
  for (const char* need : {"requesttype", "address", "nc", "latitude", "longitude", "createddate"}) {
    if (!col.contains(need)) Die(path + ": no column " + need);
  }
  auto get = [&](const std::vector<std::string>& r, const char* name) -> std::string_view {
    auto it = col.find(name);
    if (it == col.end() || it->second >= r.size()) return {};
    return r[it->second];
  };
  FileRows out;
  for (size_t i = 1; i < table.size(); ++i) {
    const auto& r = table[i];
    if (r.size() == 1 && r[0].empty()) continue;  // blank line
    Request q;
    q.type = Trim(get(r, "requesttype"));
    q.address = Trim(get(r, "address"));
    q.nc = Trim(get(r, "nc"));
    if (q.nc == "0") q.nc.clear();
    double lat, lng;
    if (ParseDouble(get(r, "latitude"), &lat) && ParseDouble(get(r, "longitude"), &lng) && lat != 0 && lng != 0) {
      q.has_point = true;
      q.point = geo::Point{lng, lat};
    }
    long created, closed;
    if (ParseDate(get(r, "createddate"), &created)) {
      ++out.dates_parsed;
      if (ParseDate(get(r, "closeddate"), &closed) && closed < created) ++out.closed_before_created;
    }
    out.rows.push_back(std::move(q));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Addresses: "16815 W VANOWEN ST, 91406" -> number 16815, street "W VANOWEN ST".

struct ParsedAddress {
  int number = 0;
  std::string street;
};

std::optional<ParsedAddress> SplitAddress(std::string_view address) {
  std::string head = Trim(address.substr(0, address.find(',')));
  size_t i = 0;
  while (i < head.size() && std::isdigit(static_cast<unsigned char>(head[i]))) ++i;
  if (i == 0 || i > 6) return std::nullopt;
  ParsedAddress a;
  a.number = std::stoi(head.substr(0, i));
  // "5649-5647 TAMPA AVE": the first number of a range; "123 1/2 MAIN ST": skip the fraction.
  while (i < head.size() && head[i] != ' ') ++i;
  std::string rest = Trim(std::string_view(head).substr(i));
  if (rest.rfind("1/2 ", 0) == 0) rest = Trim(std::string_view(rest).substr(4));
  if (rest.empty() || a.number <= 0) return std::nullopt;
  for (std::string_view bad : {" AT ", " AND ", "&", "/"}) {
    if (rest.find(bad) != std::string::npos) return std::nullopt;  // an intersection
  }
  a.street = rest;
  return a;
}

// The address as the Router is given it: the text as written ("8525 N DE
// SOTO AVE, 91304"); engine/address parses the number-first US form.
std::string RouterAddress(std::string_view address) { return std::string(address); }

// ---------------------------------------------------------------------------
// Grids: a council clipped by a lattice.

BMulti ToBoost(const geo::MultiPolygon& shape) {
  BMulti out;
  for (const auto& p : shape.polygons) {
    BPolygon bp;
    for (size_t r = 0; r < p.rings.size(); ++r) {
      auto& ring = r == 0 ? bp.outer() : (bp.inners().emplace_back(), bp.inners().back());
      for (const auto& q : p.rings[r].points) ring.push_back(BPoint(q.lng, q.lat));
      ring.push_back(BPoint(p.rings[r].points[0].lng, p.rings[r].points[0].lat));
    }
    out.push_back(std::move(bp));
  }
  bg::correct(out);
  return out;
}

grid::v1::Boundary FromBoost(const BMulti& m) {
  grid::v1::Boundary b;
  for (const auto& bp : m) {
    if (std::fabs(bg::area(bp)) < 1e-12) continue;  // slivers below ~0.01 m^2
    auto* p = b.add_polygons();
    auto add_ring = [&](const auto& ring) {
      auto* r = p->add_rings();
      for (size_t k = 0; k + 1 < ring.size(); ++k) {  // drop the closing point
        r->add_lng(bg::get<0>(ring[k]));
        r->add_lat(bg::get<1>(ring[k]));
      }
    };
    add_ring(bp.outer());
    for (const auto& inner : bp.inners()) add_ring(inner);
  }
  return b;
}

struct GridStats {
  size_t grids = 0;
  size_t councils_single = 0;  // fell back to one grid
  size_t boost_invalid_inputs = 0;
};

// Appends the grids of one council to `out`.
void SubdivideCouncil(const grid::v1::Unit& council, int grids_per_council, grid::v1::DirectoryContent* out,
                      GridStats* stats) {
  auto add_grid = [&](int n, const grid::v1::Boundary& b) {
    auto* g = out->add_units();
    char code[16];
    std::snprintf(code, sizeof code, "-%02d", n);
    g->set_code(council.code() + code);
    g->set_level(grid::v1::UNIT_LEVEL_GRID);
    g->set_name(council.name() + " grid " + std::to_string(n));
    g->set_parent_code(council.code());
    *g->mutable_boundary() = b;
    ++stats->grids;
  };
  const int k = static_cast<int>(std::ceil(std::sqrt(std::max(1, grids_per_council))));
  if (k <= 1) {
    add_grid(1, council.boundary());
    return;
  }
  auto shape = geo::FromProto(council.boundary());
  if (!shape.ok()) Die("council " + council.code() + ": " + shape.status().ToString());
  BMulti multi = ToBoost(*shape);
  if (!bg::is_valid(multi)) ++stats->boost_invalid_inputs;
  const geo::Box box = shape->bbox;
  const double w = (box.max_lng - box.min_lng) / k, h = (box.max_lat - box.min_lat) / k;
  std::vector<grid::v1::Boundary> pieces;
  bool ok = true;
  try {
    for (int j = 0; j < k && ok; ++j) {
      for (int i = 0; i < k && ok; ++i) {
        // Lattice lines computed the same way for both neighbours of a line.
        const double x0 = i == 0 ? box.min_lng : box.min_lng + i * w;
        const double x1 = i == k - 1 ? box.max_lng : box.min_lng + (i + 1) * w;
        const double y0 = j == 0 ? box.min_lat : box.min_lat + j * h;
        const double y1 = j == k - 1 ? box.max_lat : box.min_lat + (j + 1) * h;
        BMulti cell;
        bg::intersection(multi, BBox(BPoint(x0, y0), BPoint(x1, y1)), cell);
        grid::v1::Boundary b = FromBoost(cell);
        if (b.polygons_size() == 0) continue;
        if (!geo::FromProto(b).ok()) ok = false;
        pieces.push_back(std::move(b));
      }
    }
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok || pieces.empty()) {
    ++stats->councils_single;
    add_grid(1, council.boundary());
    return;
  }
  for (size_t n = 0; n < pieces.size(); ++n) add_grid(static_cast<int>(n + 1), pieces[n]);
}

// ---------------------------------------------------------------------------
// Address coverage learned from located rows.

struct CoverageStats {
  size_t training_rows = 0, training_used = 0, streets = 0, entries = 0;
};

void AddCoverage(const Directory& located_in, const std::vector<const FileRows*>& training, int pad, bool parity,
                 grid::v1::DirectoryContent* content, CoverageStats* stats) {
  // (normalised street, parity 0 any / 1 odd / 2 even) -> number -> grid -> count
  struct Key {
    std::string norm;
    int parity;
    bool operator<(const Key& o) const { return norm != o.norm ? norm < o.norm : parity < o.parity; }
  };
  std::map<Key, std::map<int, std::map<std::string, int>>> seen;
  std::map<std::string, std::string> display;  // normalised -> as written
  for (const FileRows* f : training) {
    for (const Request& q : f->rows) {
      if (!q.has_point) continue;
      ++stats->training_rows;
      auto a = SplitAddress(q.address);
      if (!a) continue;
      auto hits = located_in.grid_index().Locate(q.point);
      if (hits.empty()) continue;
      std::string best = located_in.GridAt(hits[0].id)->code();
      for (const auto& h : hits) best = std::min<std::string>(best, located_in.GridAt(h.id)->code());
      const std::string norm = address::NormaliseStreet(a->street);
      if (norm.empty()) continue;
      display.emplace(norm, a->street);
      const int par = parity ? (a->number % 2 == 1 ? 1 : 2) : 0;
      ++seen[Key{norm, par}][a->number][best];
      ++stats->training_used;
    }
  }
  std::unordered_map<std::string, grid::v1::Unit*> grids;
  for (auto& u : *content->mutable_units()) {
    if (u.level() == grid::v1::UNIT_LEVEL_GRID) grids[u.code()] = &u;
  }
  std::set<std::string> streets;
  for (const auto& [key, numbers] : seen) {
    streets.insert(key.norm);
    // Majority grid per observed number, then runs of equal grid.
    struct Run {
      int lo, hi;
      std::string grid;
    };
    std::vector<Run> runs;
    for (const auto& [number, counts] : numbers) {
      std::string g;
      int best = -1;
      for (const auto& [code, n] : counts) {
        if (n > best) best = n, g = code;
      }
      if (!runs.empty() && runs.back().grid == g) {
        runs.back().hi = number;
      } else {
        runs.push_back(Run{number, number, g});
      }
    }
    const int step = key.parity == 0 ? 1 : 2;
    for (size_t r = 0; r < runs.size(); ++r) {
      int from = r == 0 ? std::max(key.parity == 2 ? 2 : 1, runs[r].lo - pad) : (runs[r - 1].hi + runs[r].lo) / 2 + 1;
      int to = r + 1 == runs.size() ? runs[r].hi + pad : (runs[r].hi + runs[r + 1].lo) / 2;
      if (step == 2) {  // keep the bounds on the run's parity
        if ((from % 2 == 1) != (key.parity == 1)) ++from;
        if ((to % 2 == 1) != (key.parity == 1)) --to;
      }
      if (to < from) continue;
      auto* e = grids.at(runs[r].grid)->add_address_coverage();
      e->set_street(display[key.norm]);
      e->set_from_number(from);
      e->set_to_number(to);
      e->set_parity(key.parity == 1   ? grid::v1::NUMBER_PARITY_ODD
                    : key.parity == 2 ? grid::v1::NUMBER_PARITY_EVEN
                                      : grid::v1::NUMBER_PARITY_ANY);
      ++stats->entries;
    }
  }
  stats->streets = streets.size();
}

// ---------------------------------------------------------------------------
// Replay.

std::string Pct(size_t n, size_t d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", d == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(d));
  return buf;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

void PrintTop(const char* title, const std::map<std::string, size_t>& counts) {
  if (counts.empty()) return;
  std::vector<std::pair<size_t, std::string>> top;
  for (const auto& [k, n] : counts) top.emplace_back(n, k);
  std::sort(top.rbegin(), top.rend());
  std::printf("    %s", title);
  for (size_t i = 0; i < top.size() && i < 6; ++i) std::printf(" %s x%zu", top[i].second.c_str(), top[i].first);
  std::printf("\n");
}

struct Shapes {
  std::unordered_map<std::string, geo::MultiPolygon> by_code;
};

Shapes ShapesOf(const grid::v1::DirectoryContent& units) {
  Shapes s;
  for (const auto& u : units.units()) {
    auto shape = geo::FromProto(u.boundary());
    if (shape.ok()) s.by_code.emplace(u.code(), std::move(shape).value());
  }
  return s;
}

// The 2020-12-03 file is only used to explain misses ("boundary changed"),
// and the importer rejects some of its features (self-intersecting rings): each
// feature is tried with ParseGeoJsonUnits alone and the failures are
// recorded; every feature's rings are then taken as they are (the even-odd
// containment test needs no simple rings).
Shapes LenientShapes(const std::string& text, const GeoJsonMapping& mapping, const char* source,
                     std::vector<std::string>* rejected) {
  Shapes s;
  const auto doc = nlohmann::json::parse(text);
  const auto& features = doc.at("features");
  for (size_t i = 0; i < features.size(); ++i) {
    const auto& f = features[i];
    nlohmann::json one = {{"type", "FeatureCollection"}, {"features", nlohmann::json::array({f})}};
    auto parsed = ParseGeoJsonUnits(one.dump(), mapping, source);
    if (!parsed.ok()) {
      std::string m = parsed.status().ToString();
      if (auto pos = m.find("feature 0"); pos != std::string::npos) m.replace(pos, 9, "feature " + std::to_string(i));
      rejected->push_back(m);
    }
    const auto& props = f.at("properties");
    const std::string code = props.at(mapping.code_prop).is_string() ? props.at(mapping.code_prop).get<std::string>()
                                                                     : props.at(mapping.code_prop).dump();
    geo::MultiPolygon shape;
    const auto& g = f.at("geometry");
    auto polygons = g.at("type") == "Polygon" ? nlohmann::json::array({g.at("coordinates")}) : g.at("coordinates");
    for (const auto& pj : polygons) {
      geo::Polygon polygon;
      for (const auto& rj : pj) {
        geo::Ring ring;
        for (const auto& pos : rj) ring.points.push_back(geo::Point{pos.at(0).get<double>(), pos.at(1).get<double>()});
        if (ring.points.size() > 1) ring.points.pop_back();
        polygon.rings.push_back(std::move(ring));
      }
      if (polygon.rings.empty()) continue;
      geo::Box box{1e9, 1e9, -1e9, -1e9};
      for (const auto& q : polygon.rings[0].points) {
        box = geo::Box{std::min(box.min_lng, q.lng), std::min(box.min_lat, q.lat), std::max(box.max_lng, q.lng),
                       std::max(box.max_lat, q.lat)};
      }
      polygon.bbox = box;
      shape.bbox = shape.polygons.empty()
                       ? box
                       : geo::Box{std::min(shape.bbox.min_lng, box.min_lng), std::min(shape.bbox.min_lat, box.min_lat),
                                  std::max(shape.bbox.max_lng, box.max_lng), std::max(shape.bbox.max_lat, box.max_lat)};
      shape.polygons.push_back(std::move(polygon));
    }
    s.by_code.emplace(code, std::move(shape));
  }
  return s;
}

// The independent check: each feature's rings exactly as the file has them
// (closing point included), and a plain even-odd ray cast (W. R. Franklin's
// PNPOLY) over all of a feature's rings, holes and self-crossings included.
struct RawFeature {
  std::string code;
  double min_lng = 1e9, min_lat = 1e9, max_lng = -1e9, max_lat = -1e9;
  std::vector<std::vector<std::pair<double, double>>> rings;
};

std::vector<RawFeature> RawFeatures(const std::string& text, const std::string& code_prop) {
  std::vector<RawFeature> out;
  const auto doc = nlohmann::json::parse(text);
  for (const auto& f : doc.at("features")) {
    RawFeature r;
    const auto& id = f.at("properties").at(code_prop);
    r.code = id.is_string() ? id.get<std::string>() : id.dump();
    const auto& g = f.at("geometry");
    auto polygons = g.at("type") == "Polygon" ? nlohmann::json::array({g.at("coordinates")}) : g.at("coordinates");
    for (const auto& pj : polygons) {
      for (const auto& rj : pj) {
        std::vector<std::pair<double, double>> ring;
        for (const auto& pos : rj) {
          const double x = pos.at(0).get<double>(), y = pos.at(1).get<double>();
          ring.emplace_back(x, y);
          r.min_lng = std::min(r.min_lng, x), r.max_lng = std::max(r.max_lng, x);
          r.min_lat = std::min(r.min_lat, y), r.max_lat = std::max(r.max_lat, y);
        }
        r.rings.push_back(std::move(ring));
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool RayCastContains(const RawFeature& f, double x, double y) {
  if (x < f.min_lng || x > f.max_lng || y < f.min_lat || y > f.max_lat) return false;
  bool inside = false;
  for (const auto& ring : f.rings) {
    for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
      const auto [xi, yi] = ring[i];
      const auto [xj, yj] = ring[j];
      if (((yi > y) != (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) inside = !inside;
    }
  }
  return inside;
}

int Run(const std::string& data, int councils_year, int grids_per_council, int pad, bool parity) {
  const auto t0 = std::chrono::steady_clock::now();
  GeoJsonMapping mapping;
  mapping.code_prop = "nc_id";
  mapping.name_prop = "name";
  mapping.parent_prop = "service_re";
  mapping.slug_values = true;
  mapping.level = grid::v1::UNIT_LEVEL_COMMUNITY;
  const char* chosen_file = councils_year == 2020 ? kCouncils2020 : kCouncils2019;
  const char* other_file = councils_year == 2020 ? kCouncils2019 : kCouncils2020;
  const std::string councils_text = ReadOrDie(data + "/" + chosen_file);
  // The strict importer first, to show what it refuses; then the import with repair.
  const auto strict = ParseGeoJsonUnits(councils_text, mapping, chosen_file);
  BoundaryOptions boundary_options;
  boundary_options.mapping = mapping;
  auto loaded = ParseGeoJsonBoundaries(councils_text, boundary_options, chosen_file);
  if (!loaded.ok()) Die(loaded.status().ToString());
  const grid::v1::DirectoryContent* councils = &loaded->units;
  const Shapes shapes_chosen = ShapesOf(*councils);
  const std::vector<RawFeature> raw_chosen = RawFeatures(councils_text, mapping.code_prop);
  std::vector<std::string> rejected_other;
  const Shapes shapes_other = LenientShapes(ReadOrDie(data + "/" + other_file), mapping, other_file, &rejected_other);

  // City and service regions (names from the same file).
  grid::v1::DirectoryContent content;
  auto* city = content.add_units();
  city->set_code("la");
  city->set_level(grid::v1::UNIT_LEVEL_COUNTY);
  city->set_name("City of Los Angeles");
  std::map<std::string, std::string> regions;
  const nlohmann::json councils_doc = nlohmann::json::parse(councils_text);
  std::set<std::string> new_councils;  // nc_id_patched in the 2019 file: no id yet in 2019, split off an older council
  for (const auto& f : councils_doc.at("features")) {
    const auto& props = f.at("properties");
    const std::string name = props.at("service_re").get<std::string>();
    regions.emplace(CodeSlug(name), name);
  }
  const nlohmann::json doc2019 =
      councils_year == 2019 ? councils_doc : nlohmann::json::parse(ReadOrDie(data + "/" + kCouncils2019));
  for (const auto& f : doc2019.at("features")) {
    const auto& props = f.at("properties");
    if (props.contains("nc_id_patched") && props["nc_id_patched"] == true)
      new_councils.insert(props["nc_id"].get<std::string>());
  }
  for (const auto& [code, name] : regions) {
    auto* r = content.add_units();
    r->set_code(code);
    r->set_level(grid::v1::UNIT_LEVEL_TOWN);
    r->set_name(name);
    r->set_parent_code("la");
  }
  auto* category = content.add_categories();
  category->set_code("la311");
  category->set_name("LA 311 service request");
  category->set_handling(grid::v1::HANDLING_GRID);
  // The councils keep their boundaries in `content` (a Directory's own
  // content() carries none).
  content = MergeContent(content, *councils, false);
  auto upper = Directory::Build(content, 1);
  if (!upper.ok()) Die("city/regions/councils: " + upper.status().ToString());

  grid::v1::DirectoryContent grids;
  GridStats gstats;
  for (const auto& u : councils->units()) SubdivideCouncil(u, grids_per_council, &grids, &gstats);
  content = MergeContent(content, grids, false);
  auto located = Directory::Build(content, 1);
  if (!located.ok()) Die("grids: " + located.status().ToString());

  std::vector<FileRows> files;
  for (const auto& f : kFiles) files.push_back(LoadRequests(data + "/" + f));
  CoverageStats cstats;
  AddCoverage(**located, {&files[1], &files[2]}, pad, parity, &content, &cstats);
  auto dir_or = Directory::Build(content, 2);
  if (!dir_or.ok()) Die("address coverage: " + dir_or.status().ToString());
  const Directory& dir = **dir_or;
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::printf("LA 311 replay: data %s\n", data.c_str());
  std::printf(
      "directory v%llu: %zu units (1 city, %zu service regions, %d councils, %zu grids; %zu councils kept "
      "as one grid, %zu councils not valid for Boost.Geometry), built in %.2f s\n",
      static_cast<unsigned long long>(dir.version()), dir.unit_count(), regions.size(), councils->units_size(),
      gstats.grids, gstats.councils_single, gstats.boost_invalid_inputs, build_s);
  std::printf("councils from %s: strict import %s\n", chosen_file,
              strict.ok() ? "accepts it" : ("refuses it: " + strict.status().ToString()).c_str());
  std::printf("import with repair (GEOS make-valid):\n");
  // The repairs in full; of the siblings' overlaps and gaps, the largest.
  const auto lines = loaded->report.Lines();
  for (size_t i = 0; i < 1 + loaded->report.repairs.size() && i < lines.size(); ++i) {
    std::printf("  %s\n", lines[i].c_str());
  }
  std::vector<SiblingIssue> largest = loaded->report.siblings;
  std::sort(largest.begin(), largest.end(), [](const auto& a, const auto& b) { return a.area_m2 > b.area_m2; });
  double overlap_m2 = 0, gap_m2 = 0;
  for (const auto& i : largest) (i.kind == SiblingIssue::Kind::kOverlap ? overlap_m2 : gap_m2) += i.area_m2;
  std::printf("  siblings: overlaps %.2f km² in all, gaps %.2f km² in all; the largest:\n", overlap_m2 / 1e6,
              gap_m2 / 1e6);
  for (size_t i = 0; i < largest.size() && i < 6; ++i) std::printf("    %s\n", largest[i].ToString().c_str());
  std::printf("%s (for the \"boundary changed\" cause only): %zu features, %zu rejected by the strict importer%s\n",
              other_file, shapes_other.by_code.size(), rejected_other.size(), rejected_other.empty() ? "" : ":");
  for (const auto& r : rejected_other) std::printf("  %s\n", r.c_str());
  std::printf(
      "address coverage: from %zu rows with coordinates of the 2018 and 2020 files (%zu usable \"NUMBER "
      "STREET\" addresses in a grid): %zu streets, %zu house-number ranges (%s, pad %d)\n",
      cstats.training_rows, cstats.training_used, cstats.streets, cstats.entries,
      parity ? "odd/even sides separate" : "both sides together", pad);

  Router router(RouterOptions{.nearest_grid_max_meters = 300, .triage_unit = "la"});
  auto council_of = [&](const grid::v1::RoutingDecision& d) -> std::string {
    if (d.unit_level() != grid::v1::UNIT_LEVEL_GRID) return "";
    const UnitRef g = dir.FindUnit(d.unit_code());
    return g ? std::string(g->parent_code()) : "";
  };

  size_t total_rows = 0, total_coord = 0, total_match = 0;
  const auto t_route = std::chrono::steady_clock::now();
  size_t routes = 0;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    const FileRows& f = files[fi];
    size_t coord = 0, labelled_coord = 0, match = 0, match_in_polygon = 0, match_nearest = 0, match_other = 0;
    size_t no_label = 0, unknown_label = 0, no_polygon = 0, shared_edge = 0, changed = 0, split = 0, other = 0;
    size_t in_no_polygon = 0, addr_only = 0, addr_only_labelled = 0, addr_routed = 0, addr_match = 0;
    size_t addr_fallback = 0, hidden_routed = 0, hidden_match = 0, hidden_tried = 0;
    // The independent check's first containing feature, and the label among
    // every containing feature; the engine's containing grid's council, and
    // the label among the councils of every grid containing the point.
    size_t independent_match = 0, independent_any = 0, strict_labelled = 0, strict_any = 0;
    std::map<std::string, size_t> other_examples, unknown_examples;
    for (const Request& q : f.rows) {
      const std::string addr = RouterAddress(q.address);
      if (q.has_point) {
        ++coord;
        if (!q.nc.empty()) {
          ++labelled_coord;
          bool first = true, any = false;
          for (const RawFeature& rf : raw_chosen) {
            if (RayCastContains(rf, q.point.lng, q.point.lat)) {
              if (first && rf.code == q.nc) ++independent_match;
              first = false;
              any = any || rf.code == q.nc;
            }
          }
          if (any) ++independent_any;
        }
        auto d = router.Route(dir, RouteInput{.category = "la311", .location = q.point, .address = addr});
        ++routes;
        if (!d.ok()) Die("route: " + d.status().ToString());
        const std::string routed = council_of(*d);
        const bool located_in_polygon = d->method() == grid::v1::ROUTING_METHOD_LOCATION;
        if (located_in_polygon && !q.nc.empty()) {
          bool any = routed == q.nc;
          for (const auto& g : d->candidates()) {
            const UnitRef u = dir.FindUnit(g);
            any = any || (u && std::string(u->parent_code()) == q.nc);
          }
          if (any) ++strict_any;
        }
        if (!located_in_polygon) ++in_no_polygon;
        if (!q.nc.empty() && routed == q.nc) {
          ++match;
          if (located_in_polygon) {
            ++match_in_polygon;
            ++strict_labelled;
          } else if (d->method() == grid::v1::ROUTING_METHOD_NEAREST_GRID) {
            ++match_nearest;
          } else {
            ++match_other;
          }
        } else if (q.nc.empty()) {
          ++no_label;
        } else if (!shapes_chosen.by_code.contains(q.nc)) {
          ++unknown_label;
          ++unknown_examples[q.nc + "->" + routed];
        } else if (!located_in_polygon) {
          ++no_polygon;
        } else if (geo::DistanceToShapeMeters(shapes_chosen.by_code.at(q.nc), q.point) <= kSharedEdgeMeters) {
          ++shared_edge;
        } else if (auto it = shapes_other.by_code.find(q.nc);
                   it != shapes_other.by_code.end() && geo::ContainingPolygon(it->second, q.point) >= 0) {
          ++changed;
        } else if (new_councils.contains(routed)) {
          ++split;
        } else {
          ++other;
          ++other_examples[q.nc + "->" + routed];
        }
        // The address check: the same row with its coordinates hidden.
        if (fi == 0 && !q.nc.empty()) {
          ++hidden_tried;
          auto h = router.Route(dir, RouteInput{.category = "la311", .address = addr});
          ++routes;
          if (h.ok() && h->method() == grid::v1::ROUTING_METHOD_ADDRESS) {
            ++hidden_routed;
            if (council_of(*h) == q.nc) ++hidden_match;
          }
        }
      } else {
        ++addr_only;
        if (!q.nc.empty()) ++addr_only_labelled;
        auto d = router.Route(dir, RouteInput{.category = "la311", .address = addr});
        ++routes;
        if (!d.ok()) Die("route: " + d.status().ToString());
        if (d->method() == grid::v1::ROUTING_METHOD_ADDRESS) {
          ++addr_routed;
          if (!q.nc.empty() && council_of(*d) == q.nc) ++addr_match;
        } else {
          ++addr_fallback;
        }
      }
    }
    total_rows += f.rows.size();
    total_coord += coord;
    total_match += match;
    std::printf(
        "\n%s: %zu rows (created date parsed in %zu; %zu closed before created), %zu with coordinates, "
        "%zu address only\n",
        kFiles[fi].c_str(), f.rows.size(), f.dates_parsed, f.closed_before_created, coord, addr_only);
    std::printf(
        "  coordinate rows whose routed council = NC label: %zu / %zu = %s (of those with a label: %s); "
        "in a polygon %zu, nearest grid %zu, by address %zu\n",
        match, coord, Pct(match, coord).c_str(), Pct(match, labelled_coord).c_str(), match_in_polygon, match_nearest,
        match_other);
    std::printf("  strict (the polygon containing the point carries the label): %s\n",
                Pct(match_in_polygon, coord).c_str());
    std::printf(
        "  against the independent check, rows with a label: engine strict %zu / %zu = %s; even-odd ray cast over "
        "the original rings, first containing feature %zu / %zu = %s\n",
        strict_labelled, labelled_coord, Pct(strict_labelled, labelled_coord).c_str(), independent_match,
        labelled_coord, Pct(independent_match, labelled_coord).c_str());
    std::printf(
        "    the label among every containing council (overlapping councils both count): engine %zu = %s; ray cast "
        "%zu = %s\n",
        strict_any, Pct(strict_any, labelled_coord).c_str(), independent_any,
        Pct(independent_any, labelled_coord).c_str());
    std::printf(
        "  misses %zu: no NC label %zu, label not a council of the file %zu, no polygon %zu (points in no polygon: "
        "%zu), shared edge (<= %.0f m) %zu, boundary changed (in the other file's polygon of the label) %zu, council "
        "split "
        "(routed to a council created since: %s) %zu, other %zu\n",
        coord - match, no_label, unknown_label, no_polygon, in_no_polygon, kSharedEdgeMeters, shared_edge, changed,
        Join(new_councils).c_str(), split, other);
    PrintTop("label not a council of the file, label->routed:", unknown_examples);
    PrintTop("other, label->routed:", other_examples);
    std::printf(
        "  address-only rows %zu (%zu with a label): routed by address %zu (%s), matching the label %zu (%s "
        "of those routed, %s of the labelled); to the city for manual dispatch %zu\n",
        addr_only, addr_only_labelled, addr_routed, Pct(addr_routed, addr_only).c_str(), addr_match,
        Pct(addr_match, addr_routed).c_str(), Pct(addr_match, addr_only_labelled).c_str(), addr_fallback);
    if (hidden_tried > 0) {
      std::printf(
          "  check: the %zu labelled coordinate rows routed by address alone (coordinates hidden): routed %zu "
          "(%s), matching the label %zu (%s of those routed)\n",
          hidden_tried, hidden_routed, Pct(hidden_routed, hidden_tried).c_str(), hidden_match,
          Pct(hidden_match, hidden_routed).c_str());
    }
  }
  const double route_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_route).count();
  std::printf(
      "\nall files: %zu rows, %zu with coordinates, routed council = NC label for %zu (%s); %zu routes in "
      "%.2f s (%.1f us/route, one thread)\n",
      total_rows, total_coord, total_match, Pct(total_match, total_coord).c_str(), routes, route_s,
      1e6 * route_s / static_cast<double>(std::max<size_t>(routes, 1)));
  return 0;
}

}  // namespace
}  // namespace grid

int main(int argc, char** argv) {
  CLI::App app{"la311_replay: route the LA 311 requests against the city's own boundaries"};
  std::string data;
  int grids_per_council = 16;
  int councils_year = 2019;
  int pad = 100;
  bool parity = false;
  app.add_option("--data", data, "the la311 data directory (CSV files and GeoJSON boundaries)")->required();
  app.add_option("--councils", councils_year,
                 "the council file the directory is built from: 2019 (ncid_patched) or 2020 (2020-12-03, repaired)")
      ->check(CLI::IsMember({2019, 2020}));
  app.add_option("--grids-per-council", grids_per_council,
                 "grids per council: the council's box is cut by a k x k lattice, k = ceil(sqrt(N)); 1 = the council "
                 "itself")
      ->check(CLI::Range(1, 400));
  app.add_option("--pad", pad, "house numbers an address range extends beyond the last number seen")
      ->check(CLI::Range(0, 100000));
  app.add_flag("--parity", parity, "learn address ranges for the odd and even sides of a street separately");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return grid::Run(data, councils_year, grids_per_council, pad, parity);
}
