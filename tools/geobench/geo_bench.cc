// geo_bench: ShapeIndex at national scale.
//
// Lays out every community of China (villages.csv.gz of the divisions data)
// deterministically over China's extent, splits each into 8-10 grids of
// 12-64 vertices (urban grids a few hundred metres, rural ones a few km), adds
// an urban tiling over the Los Angeles 311 requests' area, and measures:
// index build (or Load) time, RSS, and single-thread Locate rates for uniform
// random points, community-weighted random points and the real LA points.
// --dump-wkt / --dump-points write the same polygons and points for
// run_postgis.sh.
//
//   geo_bench --divisions ../shared/data/divisions --la ../shared/data/la311
//             [--stage grid|rtree] [--save FILE | --load FILE] [--points N]
#include <zlib.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/geo.h"
#include "engine/geo_internal.h"
#include "storage/posix_files.h"
#include "tools/geobench/national_grids.h"

namespace {

using grid::geo::MultiPolygon;
using grid::geo::Point;
using grid::geo::Polygon;
using grid::geo::Ring;
using grid::geo::ShapeIndex;
using Clock = std::chrono::steady_clock;
using namespace grid::geobench;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

long StatusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return -1;
}
double RssMiB() { return StatusKb("VmRSS:") / 1024.0; }
double PeakMiB() { return StatusKb("VmHWM:") / 1024.0; }

std::vector<Point> ReadLaPoints(const std::string& dir) {
  std::vector<Point> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".csv") continue;
    std::ifstream in(e.path());
    std::string line;
    std::getline(in, line);
    // Header: find Latitude / Longitude (any case, maybe quoted).
    auto split = [](const std::string& s) {
      std::vector<std::string> f;
      std::string cur;
      bool q = false;
      for (char c : s) {
        if (c == '"') {
          q = !q;
        } else if (c == ',' && !q) {
          f.push_back(cur);
          cur.clear();
        } else if (c != '\r') {
          cur += c;
        }
      }
      f.push_back(cur);
      return f;
    };
    std::vector<std::string> h = split(line);
    int ilat = -1, ilng = -1;
    for (size_t i = 0; i < h.size(); ++i) {
      std::string k = h[i];
      for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (k == "latitude") ilat = static_cast<int>(i);
      if (k == "longitude") ilng = static_cast<int>(i);
    }
    if (ilat < 0 || ilng < 0) continue;
    while (std::getline(in, line)) {
      std::vector<std::string> f = split(line);
      if (static_cast<int>(f.size()) <= std::max(ilat, ilng)) continue;
      const double lat = std::atof(f[ilat].c_str()), lng = std::atof(f[ilng].c_str());
      if (lat > 30 && lat < 40 && lng < -110 && lng > -125) out.push_back(Point{lng, lat});
    }
  }
  return out;
}

struct Run {
  std::string name;
  std::vector<Point> points;
};

// One point set: a warm-up pass with the hit counts, then `rounds` rounds,
// each timing every method once over the whole set (interleaved, so that a
// busy minute on the shared machine hits every method alike); the median
// rate of each method over the rounds is reported.
void Measure(const ShapeIndex& index, const Run& run, size_t min_lookups, int rounds) {
  if (run.points.empty()) return;
  size_t hits = 0, multi = 0, none = 0;
  for (const Point& p : run.points) {
    const size_t n = index.Locate(p).size();
    hits += n;
    multi += n > 1;
    none += n == 0;
  }
  const size_t passes =
      std::max<size_t>(1, (min_lookups / std::max(1, rounds) + run.points.size() - 1) / run.points.size());
  using How = grid::geo::internal::SingleLookup;
  const char* names[] = {"Locate, serial candidates (before)", "Locate, prefetched candidates", "LocateBatch"};
  std::vector<double> rates[3];
  std::vector<ShapeIndex::Hit> hits_out;
  std::vector<uint32_t> offsets;
  bool differs = false;
  for (int r = 0; r < rounds; ++r) {
    for (int m = 0; m < 3; ++m) {
      size_t sink = 0;
      const auto t0 = Clock::now();
      for (size_t k = 0; k < passes; ++k) {
        if (m == 2) {
          index.LocateBatch(run.points, hits_out, offsets);
          sink += hits_out.size();
        } else {
          const How how = m == 0 ? How::kSerial : How::kPrefetched;
          for (const Point& p : run.points) sink += grid::geo::internal::ShapeIndexAccess::Locate(index, p, how).size();
        }
      }
      const double s = Seconds(t0, Clock::now());
      rates[m].push_back(static_cast<double>(passes * run.points.size()) / s);
      differs |= sink != passes * hits;
    }
  }
  std::printf("  %-28s %9zu points: in one grid %.2f%%, in none %.2f%%, in several %.3f%%%s\n", run.name.c_str(),
              run.points.size(),
              100.0 * static_cast<double>(run.points.size() - none - multi) / static_cast<double>(run.points.size()),
              100.0 * static_cast<double>(none) / static_cast<double>(run.points.size()),
              100.0 * static_cast<double>(multi) / static_cast<double>(run.points.size()),
              differs ? " (HIT COUNTS DIFFER)" : "");
  for (int m = 0; m < 3; ++m) {
    std::vector<double> v = rates[m];
    std::sort(v.begin(), v.end());
    std::printf("    %-36s median %10.0f lookups/s (%.0f ns each) over %d rounds of %zu; min %.0f, max %.0f\n",
                names[m], v[v.size() / 2], 1e9 / v[v.size() / 2], rounds, passes * run.points.size(), v.front(),
                v.back());
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ShapeIndex at national scale"};
  std::string divisions, la, stage = "grid", save, load, dump_wkt, dump_points;
  size_t npoints = 2000000, max_communities = 0, min_lookups = 4000000;
  int rounds = 5;
  app.add_option("--divisions", divisions, "divisions data dir (villages.csv.gz)")->required();
  app.add_option("--la", la, "la311 data dir (*.csv with Latitude, Longitude)");
  app.add_option("--stage", stage, "first stage: grid or rtree")->check(CLI::IsMember({"grid", "rtree"}));
  app.add_option("--save", save, "save the built index to this file");
  app.add_option("--load", load, "load the index from this file instead of building it");
  std::string load_mode = "map";
  app.add_option("--load-mode", load_mode, "map: map the file (gridd's way); read: copy it into memory")
      ->check(CLI::IsMember({"map", "read"}));
  app.add_option("--points", npoints, "uniform random points over China");
  app.add_option("--min-lookups", min_lookups, "timed lookups per point set and method (at least)");
  app.add_option("--rounds", rounds, "interleaved rounds per point set (the median is reported)");
  app.add_option("--max-communities", max_communities, "use only the first N communities (0: all)");
  app.add_option("--dump-wkt", dump_wkt, "write 'id<TAB>WKT' per grid polygon to this file ('-': stdout)");
  app.add_option("--dump-points", dump_points, "write 'set<TAB>lng<TAB>lat' per point to this file");
  CLI11_PARSE(app, argc, argv);

  const auto t_start = Clock::now();
  std::vector<Village> villages = ReadVillages(divisions);
  if (max_communities && villages.size() > max_communities) villages.resize(max_communities);
  std::vector<Point> la_points = la.empty() ? std::vector<Point>{} : ReadLaPoints(la);
  std::fprintf(stderr, "read %zu communities (%zu urban), %zu LA points\n", villages.size(),
               static_cast<size_t>(std::count_if(villages.begin(), villages.end(), [](auto& v) { return v.urban; })),
               la_points.size());

  // Polygons go to the builder and/or the WKT dump.
  const bool build = load.empty() && (dump_wkt.empty() || !save.empty());
  const bool emit = load.empty();
  using grid::geo::internal::FirstStage;
  ShapeIndex::Builder builder =
      grid::geo::internal::ShapeIndexAccess::NewBuilder(stage == "rtree" ? FirstStage::kRTree : FirstStage::kCellGrid);
  std::FILE* wkt = nullptr;
  if (!dump_wkt.empty()) wkt = dump_wkt == "-" ? stdout : std::fopen(dump_wkt.c_str(), "w");
  size_t polygons = 0, vertices = 0, min_v = 1000, max_v = 0;
  double urban_m2 = 0, rural_m2 = 0;
  size_t urban_n = 0, rural_n = 0;
  bool cur_urban = false;
  double cur_cos = 1;
  MultiPolygon shape;
  shape.polygons.resize(1);
  shape.polygons[0].rings.resize(1);
  std::string line;
  Generator gen([&](const std::vector<Point>& ring) {
    ++polygons;
    vertices += ring.size();
    min_v = std::min(min_v, ring.size());
    max_v = std::max(max_v, ring.size());
    if (build) {
      Polygon& p = shape.polygons[0];
      p.rings[0].points = ring;
      p.bbox = {1e9, 1e9, -1e9, -1e9};
      for (const Point& q : ring) {
        p.bbox.min_lng = std::min(p.bbox.min_lng, q.lng);
        p.bbox.min_lat = std::min(p.bbox.min_lat, q.lat);
        p.bbox.max_lng = std::max(p.bbox.max_lng, q.lng);
        p.bbox.max_lat = std::max(p.bbox.max_lat, q.lat);
      }
      shape.bbox = p.bbox;
      builder.Add(shape);
    }
    if (wkt) {
      line.clear();
      char buf[64];
      std::snprintf(buf, sizeof buf, "%zu\tPOLYGON((", polygons - 1);
      line += buf;
      for (size_t i = 0; i <= ring.size(); ++i) {
        const Point& q = ring[i % ring.size()];
        std::snprintf(buf, sizeof buf, "%s%.7f %.7f", i ? "," : "", q.lng, q.lat);
        line += buf;
      }
      line += "))\n";
      std::fwrite(line.data(), 1, line.size(), wkt);
    }
  });
  // Community-weighted points: one per community (a random point in it).
  std::vector<Point> weighted;
  std::vector<Point> la_tiling_points;
  auto community = [&](uint64_t code, const Rect& r, bool urban) {
    const double cos_lat = std::cos(Deg((r.y0 + r.y1) / 2) * std::numbers::pi / 180);
    const double area_km2 =
        static_cast<double>(r.x1 - r.x0) * cos_lat * static_cast<double>(r.y1 - r.y0) * std::pow(111.195 / kUnits, 2);
    cur_urban = urban;
    cur_cos = cos_lat;
    const size_t before = polygons;
    if (emit) gen.Community(code, r, cos_lat);
    (urban ? urban_m2 : rural_m2) += area_km2;
    (urban ? urban_n : rural_n) += emit ? polygons - before : 0;
    const uint64_t h = Hash(code, 77);
    weighted.push_back(Point{Deg(r.x0) + Frac(h) * Deg(r.x1 - r.x0), Deg(r.y0) + Frac(Mix(h)) * Deg(r.y1 - r.y0)});
  };
  const auto t_gen = Clock::now();
  Layout layout(villages, [&](size_t i, const Rect& r) { community(villages[i].code, r, villages[i].urban); });
  layout.Run(kChina);
  const size_t china_polygons = polygons;
  // LA: the requests' extent tiled with ~1.1 km urban communities.
  if (!la_points.empty()) {
    double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
    for (const Point& p : la_points) {
      x0 = std::min(x0, p.lng), y0 = std::min(y0, p.lat), x1 = std::max(x1, p.lng), y1 = std::max(y1, p.lat);
    }
    const int64_t sx = 120000, sy = 100000;  // 0.012 x 0.010 degree
    const int64_t qx0 = static_cast<int64_t>(std::floor(x0 * 100)) * 100000,
                  qy0 = static_cast<int64_t>(std::floor(y0 * 100)) * 100000;
    const int64_t nx = static_cast<int64_t>((x1 * kUnits - static_cast<double>(qx0)) / sx) + 2;
    const int64_t ny = static_cast<int64_t>((y1 * kUnits - static_cast<double>(qy0)) / sy) + 2;
    for (int64_t j = 0; j < ny; ++j) {
      for (int64_t i = 0; i < nx; ++i) {
        community(900000000000ull + static_cast<uint64_t>(j * nx + i),
                  Rect{qx0 + i * sx, qy0 + j * sy, qx0 + (i + 1) * sx, qy0 + (j + 1) * sy}, true);
      }
    }
  }
  if (wkt && wkt != stdout) std::fclose(wkt);
  const auto t_built_polys = Clock::now();
  (void)cur_urban;
  (void)cur_cos;

  ShapeIndex index;
  double build_s = 0, load_s = 0;
  if (build) {
    std::fprintf(stderr,
                 "generated %zu polygons (%zu China, %zu LA) in %.1f s, RSS %.0f MiB; building the first stage\n",
                 polygons, china_polygons, polygons - china_polygons, Seconds(t_gen, t_built_polys), RssMiB());
    const auto t0 = Clock::now();
    index = builder.Finish();
    build_s = Seconds(t0, Clock::now());
  } else if (!load.empty()) {
    const auto t0 = Clock::now();
    using grid::geo::internal::LoadMode;
    grid::storage::PosixFiles files;
    auto loaded = grid::geo::internal::ShapeIndexAccess::Load(files, load, nullptr,
                                                              load_mode == "read" ? LoadMode::kRead : LoadMode::kMap);
    if (!loaded.ok()) {
      std::fprintf(stderr, "load: %s\n", loaded.status().ToString().c_str());
      return 1;
    }
    index = std::move(loaded).value();
    load_s = Seconds(t0, Clock::now());
  }

  // Points.
  std::vector<Run> runs;
  {
    std::mt19937_64 rng(20240601);
    std::uniform_real_distribution<double> ux(Deg(kChina.x0), Deg(kChina.x1)), uy(Deg(kChina.y0), Deg(kChina.y1));
    Run uniform{"uniform over China", {}};
    uniform.points.resize(npoints);
    for (Point& p : uniform.points) p = Point{ux(rng), uy(rng)};
    runs.push_back(std::move(uniform));
    std::shuffle(weighted.begin(), weighted.end(), rng);
    runs.push_back(Run{"one per community (shuffled)", weighted});
    if (!la_points.empty()) runs.push_back(Run{"LA 311 requests (real)", la_points});
  }
  if (!dump_points.empty()) {
    std::FILE* f = std::fopen(dump_points.c_str(), "w");
    const char* names[] = {"uniform", "community", "la"};
    for (size_t k = 0; k < runs.size(); ++k) {
      for (const Point& p : runs[k].points) std::fprintf(f, "%s\t%.17g\t%.17g\n", names[k], p.lng, p.lat);
    }
    std::fclose(f);
  }
  if (!build && load.empty()) {
    std::fprintf(stderr, "dumped %zu polygons, %zu vertices\n", polygons, vertices);
    return 0;
  }

  const ShapeIndex::Stats st = index.stats();
  std::printf(
      "geo_bench: stage %s, %zu shapes, %zu polygons, %zu vertices (%.1f a polygon, min %zu max %zu), "
      "%.1f%% integer records\n",
      stage.c_str(), st.shapes, st.polygons, st.vertices,
      static_cast<double>(st.vertices) / static_cast<double>(std::max<size_t>(1, st.polygons)), emit ? min_v : 0,
      emit ? max_v : 0,
      100.0 * static_cast<double>(st.integer_polygons) / static_cast<double>(std::max<size_t>(1, st.polygons)));
  if (emit) {
    std::printf("  layout: urban grids %zu (mean %.3f km2), rural grids %zu (mean %.2f km2)\n", urban_n,
                urban_m2 / static_cast<double>(std::max<size_t>(1, urban_n)), rural_n,
                rural_m2 / static_cast<double>(std::max<size_t>(1, rural_n)));
  }
  std::printf("  storage: geometry %.0f MiB, first stage %.0f MiB (%zu cells, %zu entries, %zu big)\n",
              static_cast<double>(st.geometry_bytes) / 1048576.0, static_cast<double>(st.index_bytes) / 1048576.0,
              st.cells, st.entries, st.big_polygons);
  if (build)
    std::printf("  build: first stage %.2f s (generation + records %.1f s)\n", build_s, Seconds(t_gen, t_built_polys));
  if (!load.empty()) std::printf("  load (%s): %.2f s from %s\n", load_mode.c_str(), load_s, load.c_str());
  if (!save.empty()) {
    const auto t0 = Clock::now();
    grid::storage::PosixFiles files;
    grid::Status s = index.Save(files, save);
    if (!s.ok()) {
      std::fprintf(stderr, "save: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("  save: %.2f s, %.0f MiB\n", Seconds(t0, Clock::now()),
                static_cast<double>(std::filesystem::file_size(save)) / 1048576.0);
  }
  std::printf("  RSS after %s: %.0f MiB (peak %.0f MiB)\n", build ? "build" : "load", RssMiB(), PeakMiB());
  for (const Run& run : runs) Measure(index, run, min_lookups, rounds);
  std::printf("  RSS at the end: %.0f MiB (peak %.0f MiB); total %.1f s\n", RssMiB(), PeakMiB(),
              Seconds(t_start, Clock::now()));
  return 0;
}
