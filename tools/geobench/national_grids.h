// The generated national tiling of issue #3 (BENCHMARKS.md, "Spatial index
// at national scale"): every community of villages.csv.gz laid out by a
// treemap over China's extent and cut into 8-10 grids of 12-64 vertices.
// Deterministic; shared by geo_bench (the index alone) and gridd_scale
// (gridd with the same grids as its directory).
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/geo.h"

namespace grid::geobench {

using grid::geo::Point;

inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
inline uint64_t Hash(uint64_t a, uint64_t b, uint64_t c = 0) { return Mix(Mix(Mix(a) ^ b) ^ c); }
inline double Frac(uint64_t h) { return static_cast<double>(h >> 11) * 0x1p-53; }  // [0, 1)

inline constexpr double kUnits = 1e7;  // the index's lattice: 1e-7 degree
inline double Deg(int64_t q) { return static_cast<double>(q) / kUnits; }

struct Rect {
  int64_t x0, y0, x1, y1;  // units
};

struct Village {
  uint64_t code;
  bool urban;
};

inline std::vector<Village> ReadVillages(const std::string& dir) {
  const std::string path = dir + "/villages.csv.gz";
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<Village> out;
  char buf[4096];
  bool header = true;
  while (gzgets(f, buf, sizeof buf)) {
    if (header) {
      header = false;
      continue;
    }
    const uint64_t code = std::strtoull(buf, nullptr, 10);
    if (code == 0) continue;
    // 社区居委会 (urban) vs 村委会 (rural): the name's suffix.
    out.push_back(Village{code, std::strstr(buf, "居委会") != nullptr});
  }
  gzclose(f);
  std::sort(out.begin(), out.end(), [](const Village& a, const Village& b) { return a.code < b.code; });
  return out;
}

// Emits the grids of one community: gx x gy cells with jittered interior
// lattice vertices; every side gets 2-15 intermediate points (so 12-64
// vertices a grid), wiggled when the side is interior to the community
// (identical for both neighbours), straight on the community's boundary (so
// neighbouring communities meet exactly, T-junctions included).
class Generator {
 public:
  using Sink = std::function<void(const std::vector<Point>& ring)>;
  explicit Generator(Sink sink) : sink_(std::move(sink)) {}

  void Community(uint64_t code, const Rect& r, double cos_lat) {
    const double wkm = static_cast<double>(r.x1 - r.x0) * cos_lat, hkm = static_cast<double>(r.y1 - r.y0);
    static constexpr int kLayouts[4][2] = {{4, 2}, {3, 3}, {5, 2}, {3, 3}};  // 8-10 grids, mean 9
    const auto& l = kLayouts[Hash(code, 1) % 4];
    const int gx = wkm >= hkm ? l[0] : l[1], gy = wkm >= hkm ? l[1] : l[0];
    const int64_t w = r.x1 - r.x0, h = r.y1 - r.y0;
    const double cell_min = std::min(static_cast<double>(w) / gx, static_cast<double>(h) / gy);
    auto vertex = [&](int i, int j) {
      int64_t x = r.x0 + w * i / gx, y = r.y0 + h * j / gy;
      if (i > 0 && i < gx && j > 0 && j < gy) {
        x += static_cast<int64_t>((Frac(Hash(code, i * 64 + j, 2)) - 0.5) * 0.3 * static_cast<double>(w) / gx);
        y += static_cast<int64_t>((Frac(Hash(code, i * 64 + j, 3)) - 0.5) * 0.3 * static_cast<double>(h) / gy);
      }
      return std::pair<int64_t, int64_t>{x, y};
    };
    // Side from lattice vertex (i, j) to (i + di, j + dj), canonical direction.
    auto side = [&](int i, int j, int di, int dj, std::vector<std::pair<int64_t, int64_t>>& out) {
      out.clear();
      const auto a = vertex(i, j), b = vertex(i + di, j + dj);
      const bool boundary = di ? (j == 0 || j == gy) : (i == 0 || i == gx);
      const uint64_t key = Hash(code, (i * 64 + j) * 2 + di, 4);
      const int k = 2 + static_cast<int>(key % 14);
      const double dx = static_cast<double>(b.first - a.first), dy = static_cast<double>(b.second - a.second);
      const double len = std::hypot(dx, dy);
      for (int m = 1; m <= k; ++m) {
        const double t = static_cast<double>(m) / (k + 1);
        // Perpendicular offset: at most 8% of the cell's smaller side.
        const double off =
            boundary ? 0 : 0.08 * cell_min * std::sin(std::numbers::pi * t) * (2 * Frac(Hash(key, m)) - 1) / len;
        out.emplace_back(a.first + static_cast<int64_t>(std::llround(t * dx - off * dy)),
                         a.second + static_cast<int64_t>(std::llround(t * dy + off * dx)));
      }
    };
    std::vector<std::pair<int64_t, int64_t>> pts, tmp;
    std::vector<Point> ring;
    for (int j = 0; j < gy; ++j) {
      for (int i = 0; i < gx; ++i) {
        pts.clear();
        auto add = [&](std::pair<int64_t, int64_t> v) { pts.push_back(v); };
        add(vertex(i, j));
        side(i, j, 1, 0, tmp);  // south, west -> east
        for (auto& v : tmp) add(v);
        add(vertex(i + 1, j));
        side(i + 1, j, 0, 1, tmp);  // east, south -> north
        for (auto& v : tmp) add(v);
        add(vertex(i + 1, j + 1));
        side(i, j + 1, 1, 0, tmp);  // north, reversed
        for (auto it = tmp.rbegin(); it != tmp.rend(); ++it) add(*it);
        add(vertex(i, j + 1));
        side(i, j, 0, 1, tmp);  // west, reversed
        for (auto it = tmp.rbegin(); it != tmp.rend(); ++it) add(*it);
        ring.clear();
        for (auto& v : pts) ring.push_back(Point{Deg(v.first), Deg(v.second)});
        sink_(ring);
      }
    }
  }

 private:
  Sink sink_;
};

// China: every community placed by a treemap over the code hierarchy
// (province / prefecture / county / town / community), split along the longer
// side in proportion to weight (urban community 1, rural 100).
class Layout {
 public:
  Layout(const std::vector<Village>& v, std::function<void(size_t, const Rect&)> emit) : v_(v), emit_(std::move(emit)) {
    cum_.resize(v.size() + 1, 0);
    for (size_t i = 0; i < v.size(); ++i) cum_[i + 1] = cum_[i] + (v[i].urban ? 1.0 : 100.0);
  }
  void Run(const Rect& r) { Place(0, v_.size(), 0, r); }

 private:
  static constexpr uint64_t kDiv[5] = {10000000000ull, 100000000ull, 1000000ull, 1000ull, 1ull};

  void Place(size_t b, size_t e, int level, const Rect& r) {
    if (level == 5 || e - b == 1) {
      if (e - b == 1) return emit_(b, r);
    }
    // Children: runs with equal code prefix at this level.
    std::vector<size_t> cuts = {b};
    for (size_t i = b + 1; i < e; ++i) {
      if (v_[i].code / kDiv[level] != v_[i - 1].code / kDiv[level]) cuts.push_back(i);
    }
    cuts.push_back(e);
    Split(cuts, 0, cuts.size() - 1, level, r);
  }
  void Split(const std::vector<size_t>& cuts, size_t cb, size_t ce, int level, const Rect& r) {
    if (ce - cb == 1) return Place(cuts[cb], cuts[ce], level + 1, r);
    const double w0 = cum_[cuts[cb]], w1 = cum_[cuts[ce]];
    size_t m = cb + 1;
    while (m + 1 < ce && cum_[cuts[m]] - w0 < (w1 - w0) / 2) ++m;
    const double f = (cum_[cuts[m]] - w0) / (w1 - w0);
    const double cos_lat = std::cos(Deg((r.y0 + r.y1) / 2) * std::numbers::pi / 180);
    Rect a = r, c = r;
    if (static_cast<double>(r.x1 - r.x0) * cos_lat >= static_cast<double>(r.y1 - r.y0)) {
      a.x1 = c.x0 = r.x0 + static_cast<int64_t>(std::llround(f * static_cast<double>(r.x1 - r.x0)));
    } else {
      a.y1 = c.y0 = r.y0 + static_cast<int64_t>(std::llround(f * static_cast<double>(r.y1 - r.y0)));
    }
    Split(cuts, cb, m, level, a);
    Split(cuts, m, ce, level, c);
  }

  const std::vector<Village>& v_;
  std::function<void(size_t, const Rect&)> emit_;
  std::vector<double> cum_;
};

inline constexpr Rect kChina{735000000, 182000000, 1348000000, 535000000};

}  // namespace grid::geobench
