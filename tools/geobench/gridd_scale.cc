// gridd_scale: gridd itself carrying the national directory of issue #3.
//
// 1. Populate (once, when --data is empty): the 665,276 division units of
//    --divisions, one category, and the generated national grids
//    (national_grids.h: 5,585,584 grids under their communities, named
//    "<community>第k网格", with their polygons) written straight into a gridd
//    store in chunks (an import through gRPC would hold the whole directory
//    with its polygons in one process: not what is measured here).
// 2. Starts: runs the real gridd binary on that data directory --starts
//    times (the first one finds no grid index file and rebuilds it, unless
//    one is there already) and for each one measures, from fork to the first
//    RouteCase answered by location, the time to serving, gridd's RSS then
//    (VmRSS, and VmHWM: the peak) and after --lookups RouteCase calls over
//    random points (steady), then stops it with SIGTERM.
//
//   gridd_scale --divisions ../shared/data/divisions --data /tmp/national --gridd build/tools/gridd
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "storage/store.h"
#include "tools/geobench/national_grids.h"
#include "tools/loaders.h"

namespace {

namespace fs = std::filesystem;
using namespace grid::geobench;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "gridd_scale: " << what << "\n";
  std::exit(1);
}

long StatusKb(pid_t pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return -1;
}

struct Populated {
  size_t units = 0, grids = 0;
};

Populated Populate(const std::string& divisions, const std::string& data, size_t max_communities) {
  auto store_or = grid::storage::Store::Open(grid::storage::StoreOptions{data, /*sync=*/false});
  if (!store_or.ok()) Die(store_or.status().ToString());
  auto& store = **store_or;
  auto units = grid::tools::LoadDivisionsDir(divisions);
  if (!units.ok()) Die(units.status().ToString());
  std::unordered_map<uint64_t, std::string> community_names;
  for (const auto& u : units->units()) {
    if (u.level() == grid::v1::UNIT_LEVEL_COMMUNITY) community_names[std::stoull(u.code())] = u.name();
  }
  auto* cat = units->add_categories();
  cat->set_code("sanitation");
  cat->set_name("环境卫生");
  cat->set_handling(grid::v1::HANDLING_GRID);
  Populated out;
  out.units = static_cast<size_t>(units->units_size());
  if (auto st = store.SaveDirectory(*units, 1, /*replace=*/true); !st.ok()) Die(st.ToString());
  units->Clear();

  grid::v1::DirectoryContent chunk;
  uint64_t community = 0;
  int k = 0;
  auto flush = [&] {
    if (auto st = store.SaveDirectory(chunk, 1, /*replace=*/false); !st.ok()) Die(st.ToString());
    chunk.Clear();
  };
  Generator gen([&](const std::vector<Point>& ring) {
    auto* u = chunk.add_units();
    char code[32];
    std::snprintf(code, sizeof code, "%012llu%03d", static_cast<unsigned long long>(community), ++k);
    u->set_code(code);
    u->set_level(grid::v1::UNIT_LEVEL_GRID);
    u->set_name(community_names[community] + "第" + std::to_string(k) + "网格");
    u->set_parent_code(std::to_string(community));
    auto* r = u->mutable_boundary()->add_polygons()->add_rings();
    for (const Point& p : ring) {
      r->add_lng(p.lng);
      r->add_lat(p.lat);
    }
    ++out.grids;
    if (chunk.units_size() >= 100000) flush();
  });
  std::vector<Village> villages = ReadVillages(divisions);
  if (max_communities && villages.size() > max_communities) villages.resize(max_communities);
  Layout layout(villages, [&](size_t i, const Rect& r) {
    community = villages[i].code;
    k = 0;
    gen.Community(villages[i].code, r, std::cos(Deg((r.y0 + r.y1) / 2) * std::numbers::pi / 180));
  });
  layout.Run(kChina);
  flush();
  return out;
}

struct StartFigures {
  double serving_s = 0;
  long rss_kb = 0, hwm_kb = 0, steady_rss_kb = 0, steady_hwm_kb = 0;
  long anon_kb = 0, file_kb = 0, steady_anon_kb = 0, steady_file_kb = 0;  // RssAnon, RssFile (mapped files)
  size_t lookups = 0, by_location = 0;
  double lookups_s = 0;
  std::string index_note;
};

StartFigures StartOnce(const std::string& gridd, const std::string& data, size_t lookups, int n) {
  const std::string port_file = data + ".port", log = data + ".gridd-" + std::to_string(n) + ".log";
  fs::remove(port_file);
  std::fflush(stdout);
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    std::FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    dup2(fileno(stdout), 2);
    execl(gridd.c_str(), gridd.c_str(), "--listen", "127.0.0.1:0", "--data", data.c_str(), "--no-demo", "--port-file",
          port_file.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  StartFigures f;
  std::string port;
  while (port.empty()) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) Die("gridd exited during start; see " + log);
    std::ifstream in(port_file);
    if (in) std::getline(in, port);
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a benchmark's poll, not a test
  }
  auto stub =
      grid::v1::Directory::NewStub(grpc::CreateChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials()));
  std::mt19937_64 rng(20240601 + static_cast<uint64_t>(n));
  std::uniform_real_distribution<double> ux(Deg(kChina.x0), Deg(kChina.x1)), uy(Deg(kChina.y0), Deg(kChina.y1));
  auto route = [&](double lng, double lat) {
    grpc::ClientContext ctx;
    grid::v1::RouteCaseRequest req;
    req.set_category("sanitation");
    req.mutable_location()->set_lng(lng);
    req.mutable_location()->set_lat(lat);
    grid::v1::RouteCaseResponse resp;
    const grpc::Status st = stub->RouteCase(&ctx, req, &resp);
    if (!st.ok()) Die("RouteCase: " + st.error_message());
    return resp.routing().method() == grid::v1::ROUTING_METHOD_LOCATION;
  };
  while (!route(ux(rng), uy(rng))) {
  }
  f.serving_s = Seconds(t0, Clock::now());
  f.rss_kb = StatusKb(pid, "VmRSS:");
  f.hwm_kb = StatusKb(pid, "VmHWM:");
  f.anon_kb = StatusKb(pid, "RssAnon:");
  f.file_kb = StatusKb(pid, "RssFile:");
  const auto t1 = Clock::now();
  for (size_t i = 0; i < lookups; ++i) f.by_location += route(ux(rng), uy(rng));
  f.lookups = lookups;
  f.lookups_s = Seconds(t1, Clock::now());
  f.steady_rss_kb = StatusKb(pid, "VmRSS:");
  f.steady_hwm_kb = StatusKb(pid, "VmHWM:");
  f.steady_anon_kb = StatusKb(pid, "RssAnon:");
  f.steady_file_kb = StatusKb(pid, "RssFile:");
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("grid index") != std::string::npos) f.index_note = line;
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridd with the national directory and the generated grids"};
  std::string divisions, data, gridd;
  size_t lookups = 20000, max_communities = 0;
  int starts = 4;
  app.add_option("--divisions", divisions, "divisions data dir (the five .csv.gz files)")->required();
  app.add_option("--data", data, "gridd data directory (populated when empty or missing)")->required();
  app.add_option("--gridd", gridd, "the gridd binary")->required();
  app.add_option("--starts", starts, "gridd starts to measure");
  app.add_option("--lookups", lookups, "RouteCase calls after each start (steady RSS)");
  app.add_option("--max-communities", max_communities, "grids for the first N communities only (0: all)");
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  if (!fs::exists(data, ec) || fs::is_empty(data, ec)) {
    const auto t0 = Clock::now();
    const Populated p = Populate(divisions, data, max_communities);
    std::printf("populated %s: %zu division units + %zu grids in %.1f s\n", data.c_str(), p.units, p.grids,
                Seconds(t0, Clock::now()));
  }
  std::printf("%-5s %-10s %10s %10s %10s %10s %10s %12s %15s %15s  %s\n", "start", "serving_s", "rss_MiB", "peak_MiB",
              "steady_MiB", "steadypk", "located", "route/s", "anon/file_MiB", "steady_a/f_MiB", "grid index");
  for (int n = 1; n <= starts; ++n) {
    const StartFigures f = StartOnce(gridd, data, lookups, n);
    std::printf("%-5d %10.2f %10.0f %10.0f %10.0f %10.0f %9.1f%% %12.0f %7.0f/%-7.0f %7.0f/%-7.0f  %s\n", n,
                f.serving_s, f.rss_kb / 1024.0, f.hwm_kb / 1024.0, f.steady_rss_kb / 1024.0, f.steady_hwm_kb / 1024.0,
                100.0 * static_cast<double>(f.by_location) / static_cast<double>(std::max<size_t>(1, f.lookups)),
                static_cast<double>(f.lookups) / f.lookups_s, f.anon_kb / 1024.0, f.file_kb / 1024.0,
                f.steady_anon_kb / 1024.0, f.steady_file_kb / 1024.0, f.index_note.c_str());
    std::fflush(stdout);
  }
  return 0;
}
