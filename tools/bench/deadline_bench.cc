// deadline_bench: one million open cases with pending deadlines, and a burst
// of deadlines falling due at the same moment while intake goes on (issue #4).
//
//   deadline_bench populate --dir D [--cases 1000000] [--burst 100000]
//       Writes the demo directory and --cases open, routed cases (each with
//       its accept and resolve timers in the due-time index) straight into a
//       new store through Store::Commit, in unsynced batches of 5,000 (only
//       to save time: the serving phase is fully synced). --burst of them get
//       the same accept due, one day after population; the others are due
//       weeks later. Their feed entries are not written (nothing reads them
//       here).
//
//   deadline_bench serve --dir D [--concurrency 64] [--baseline-s 10]
//       Starts a GridServer on the store (fsync on) with a clock that is the
//       wall clock plus an offset, and measures: time from restart to serving
//       (Start returns and a first GetCase answers), RSS, SubmitCase latency
//       with --concurrency closed-loop callers for --baseline-s seconds, then
//       moves the clock past the burst instant and measures SubmitCase latency
//       again while the burst fires, and how long the burst takes.
//
// Prints one JSON object per phase.
#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/case_id.h"
#include "engine/intake.h"
#include "engine/lifecycle.h"
#include "engine/timestamp.h"
#include "port/mutex.h"
#include "services/server.h"
#include "storage/store.h"
#include "tools/demo_data.h"

namespace {

using namespace grid;
using SteadyClock = std::chrono::steady_clock;

constexpr Micros kDay = 24 * kMicrosPerHour;

Micros WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double RssMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The wall clock moved by an offset that the benchmark sets.
class OffsetClock final : public Clock {
 public:
  Micros NowMicros() const override { return WallMicros() + offset_.load(); }
  void set_offset(Micros o) { offset_.store(o); }

 private:
  std::atomic<Micros> offset_{0};
};

int Populate(const std::string& dir, size_t cases, size_t burst) {
  auto demo = tools::DemoDirectory();
  if (!demo.ok()) return std::fprintf(stderr, "%s\n", demo.status().ToString().c_str()), 1;
  auto directory = Directory::Build(*demo, 1);
  if (!directory.ok()) return std::fprintf(stderr, "%s\n", directory.status().ToString().c_str()), 1;
  auto store = storage::Store::Open(storage::StoreOptions{dir, false});
  if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
  if (Status s = (*store)->SaveDirectory(*demo, 1, true); !s.ok()) {
    return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  }
  std::vector<UnitRef> grids;
  const UnitTable& units = (*directory)->units();
  for (uint32_t i = 0; i < units.size(); ++i) {
    if (units.at(i).level() == grid::v1::UNIT_LEVEL_GRID) grids.push_back(units.at(i));
  }
  auto policy = ParseDeadlinePolicy("bench", "rule general * calendar 30d 60d\n");
  Router router;
  Lifecycle lifecycle(*policy, WorkingCalendar(), &router);
  const Micros now = WallMicros();
  const Micros burst_at = now + kDay;
  CaseIdGenerator ids(0);
  const auto start = SteadyClock::now();
  std::vector<NewCase> batch;
  std::vector<storage::CaseChange> changes;
  for (size_t i = 0; i < cases; ++i) {
    const UnitRef g = grids[Mix(i) % grids.size()];
    grid::v1::SubmitCaseRequest r;
    r.set_category("sanitation.garbage");
    r.set_description("小区门口垃圾桶满溢，已两天未清运");
    r.set_channel(grid::v1::CHANNEL_PHONE);
    grid::v1::RoutingDecision d;
    d.set_unit_code(g->code());
    d.set_unit_level(grid::v1::UNIT_LEVEL_GRID);
    d.set_method(grid::v1::ROUTING_METHOD_LOCATION);
    const auto& members = (*directory)->MembersOf(g->code());
    if (!members.empty()) d.set_assignee_member_id(members[Mix(i + 7) % members.size()]->id());
    const Micros created = now - kMicrosPerHour + static_cast<Micros>(i);
    NewCase c = BuildNewCase(r, Actor{"bench", "call_center"}, d, ids.Next(created / 1000 * 1000), created);
    lifecycle.StartClocks(**directory, &c.record, created);
    if (i < burst) {
      auto* dl = c.record.mutable_deadlines();
      *dl->mutable_accept_due() = ToTimestamp(burst_at);
      dl->clear_accept_warn_at();
    }
    batch.push_back(std::move(c));
    if (batch.size() == 5000 || i + 1 == cases) {
      changes.clear();
      for (const auto& n : batch) changes.push_back(storage::CaseChange{nullptr, &n.record, &n.events, "", "", 0});
      if (Status s = (*store)->Commit(changes, {}); !s.ok()) {
        return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
      }
      batch.clear();
    }
  }
  // As a server that had run for a while would have: tables, not a log to replay.
  if (Status s = (*store)->Flush(); !s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf(
      "{\"phase\": \"populate\", \"cases\": %zu, \"burst\": %zu, \"burst_at_micros\": %lld, \"seconds\": %.1f}\n",
      cases, burst, static_cast<long long>(burst_at), secs);
  std::ofstream(dir + "/bench_burst_at") << burst_at << "\n";
  return 0;
}

struct Window {
  grid::Mutex mu;
  std::vector<int64_t> baseline_ns ABSL_GUARDED_BY(mu), burst_ns ABSL_GUARDED_BY(mu);
  uint64_t errors ABSL_GUARDED_BY(mu) = 0;
};

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]) / 1e6;
}

int Serve(const std::string& dir, size_t concurrency, double baseline_s, size_t burst, size_t timer_share) {
  Micros burst_at = 0;
  std::ifstream(dir + "/bench_burst_at") >> burst_at;
  if (burst_at == 0) return std::fprintf(stderr, "run populate first (no %s/bench_burst_at)\n", dir.c_str()), 1;
  OffsetClock clock;
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = dir;
  config.scheduler.max_wait = 100'000;  // notice the clock jump within 0.1 s
  config.intake_max_timer_share = timer_share;
  auto policy = ParseDeadlinePolicy("bench", "rule general * calendar 30d 60d\n");
  config.deadline_policy = *policy;
  const double rss_before = RssMiB();
  const auto t0 = SteadyClock::now();
  auto server = services::GridServer::Start(config, &clock, std::nullopt);
  if (!server.ok()) return std::fprintf(stderr, "%s\n", server.status().ToString().c_str()), 1;
  const double started_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials());
  auto query = grid::v1::CaseQuery::NewStub(channel);
  {
    grpc::ClientContext ctx;
    grid::v1::GetCaseRequest req;
    req.set_case_id(CaseIdToString(*(*server)->store()->MaxCaseId()));
    grid::v1::GetCaseResponse resp;
    if (!query->GetCase(&ctx, req, &resp).ok()) return std::fprintf(stderr, "first GetCase failed\n"), 1;
  }
  const double start_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  auto due = (*server)->store()->CountDue();
  std::printf(
      "{\"phase\": \"restart\", \"seconds_in_start\": %.2f, \"seconds_to_serving\": %.2f, \"rss_mib\": %.0f, "
      "\"rss_before_mib\": %.0f, "
      "\"pending_timers\": %zu}\n",
      started_s, start_s, RssMiB(), rss_before, due.ok() ? *due : 0);
  std::fflush(stdout);

  Window w;
  std::atomic<int> phase{0};  // 0 baseline, 1 burst, 2 stop
  std::vector<std::thread> callers;
  for (size_t t = 0; t < concurrency; ++t) {
    callers.emplace_back([&, t] {
      auto stub = grid::v1::CaseIntake::NewStub(channel);
      std::vector<int64_t> base, during;
      uint64_t errors = 0;
      for (uint64_t i = 0; phase.load() < 2; ++i) {
        grid::v1::SubmitCaseRequest r;
        r.set_category("sanitation.garbage");
        r.set_description("路边堆放建筑垃圾，影响通行");
        const uint64_t h = Mix(t * 1'000'003 + i);
        r.mutable_location()->set_lat(19.45 + 0.6 * static_cast<double>(h % 10000) / 10000.0);
        r.mutable_location()->set_lng(109.75 + 0.5 * static_cast<double>((h >> 20) % 10000) / 10000.0);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        grid::v1::SubmitCaseResponse resp;
        const int at = phase.load();
        const auto s = SteadyClock::now();
        const bool ok = stub->SubmitCase(&ctx, r, &resp).ok();
        const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - s).count();
        if (!ok) {
          ++errors;
        } else if (at == 0 && phase.load() == 0) {
          base.push_back(ns);
        } else if (at == 1 && phase.load() == 1) {
          during.push_back(ns);
        }
      }
      grid::MutexLock lock(&w.mu);
      w.baseline_ns.insert(w.baseline_ns.end(), base.begin(), base.end());
      w.burst_ns.insert(w.burst_ns.end(), during.begin(), during.end());
      w.errors += errors;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(baseline_s));
  // Jump past the burst instant: every burst deadline is due now.
  const uint64_t fired_before = (*server)->deadlines_fired();
  phase.store(1);
  const auto burst_start = SteadyClock::now();
  clock.set_offset(burst_at - WallMicros() + 1'000'000);
  while ((*server)->deadlines_fired() - fired_before < burst &&
         SteadyClock::now() - burst_start < std::chrono::minutes(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double burst_s = std::chrono::duration<double>(SteadyClock::now() - burst_start).count();
  phase.store(2);
  for (auto& c : callers) c.join();
  grid::MutexLock lock(&w.mu);  // uncontended now: the callers have stopped
  const uint64_t fired = (*server)->deadlines_fired() - fired_before;
  const double base_rate = static_cast<double>(w.baseline_ns.size()) / baseline_s;
  const double burst_rate = static_cast<double>(w.burst_ns.size()) / burst_s;
  std::printf(
      "{\"phase\": \"burst\", \"timer_share\": %zu, \"concurrency\": %zu, \"deadlines_fired\": %llu, "
      "\"burst_seconds\": %.2f, "
      "\"fired_per_s\": %.0f, \"baseline_submits_per_s\": %.0f, \"baseline_p50_ms\": %.2f, \"baseline_p99_ms\": %.2f, "
      "\"burst_submits_per_s\": %.0f, \"burst_p50_ms\": %.2f, \"burst_p99_ms\": %.2f, \"errors\": %llu, "
      "\"rss_mib\": %.0f}\n",
      timer_share, concurrency, static_cast<unsigned long long>(fired), burst_s, static_cast<double>(fired) / burst_s,
      base_rate, Percentile(w.baseline_ns, 0.5), Percentile(w.baseline_ns, 0.99), burst_rate,
      Percentile(w.burst_ns, 0.5), Percentile(w.burst_ns, 0.99), static_cast<unsigned long long>(w.errors), RssMiB());
  (*server)->Shutdown();
  return fired >= burst ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"deadline_bench: open cases with pending deadlines, and a burst of deadlines during intake"};
  app.require_subcommand(1);
  std::string dir;
  size_t cases = 1'000'000, burst = 100'000, concurrency = 64;
  double baseline_s = 10;
  auto* populate = app.add_subcommand("populate", "write the open cases into a new store");
  populate->add_option("--dir", dir, "data directory (new or empty)")->required();
  populate->add_option("--cases", cases, "open cases")->check(CLI::Range(1, 100'000'000));
  populate->add_option("--burst", burst, "cases whose accept deadline falls due at the same instant");
  auto* serve = app.add_subcommand("serve", "restart on the store, load it, fire the burst");
  serve->add_option("--dir", dir, "data directory written by populate")->required();
  serve->add_option("--concurrency", concurrency, "closed-loop SubmitCase callers")->check(CLI::Range(1, 1024));
  serve->add_option("--baseline-s", baseline_s, "seconds of intake before the burst");
  serve->add_option("--burst", burst, "deadlines to wait for");
  size_t timer_share = 64;
  serve->add_option("--timer-share", timer_share, "fired deadlines per writer batch while callers wait")
      ->check(CLI::Range(1, 512));
  CLI11_PARSE(app, argc, argv);
  if (burst > cases) burst = cases;
  if (*populate) return Populate(dir, cases, burst);
  return Serve(dir, concurrency, baseline_s, burst, timer_share);
}
