// query_bench: CaseQuery.ListCases and CaseQuery.GetStats over a large store.
//
//   query_bench --data DIR [--cases 10000000] [--days 365] [--batch 20000]
//               [--queries 1000] [--runs 3] [--seed 1] [--generate-only] [--compact] [--wall-clock] [--kind K]
//
// 1. Generate (only when DIR holds no store yet): the 澄迈 demo directory,
//    then --cases cases spread evenly over the --days days before
//    2026-11-27, each in a random grid, with a final state that depends on
//    its age (old ones mostly closed; recent ones routed, accepted, in
//    progress, resolved ...), on-time flags, times to accept and to resolve,
//    callbacks, and a 退单 event for 5%. They are written directly through
//    Store::Commit (the same code path as the case writer, so every list
//    entry and every figure is maintained exactly as in production) in
//    batches of --batch cases WITHOUT fsync, to save time: the write path is
//    not what this measures. No other events are stored.
// 2. Serve: a GridServer on DIR (port 0, a clock frozen before the first
//    case unless --wall-clock, see below), and one client on
//    loopback calling, --queries times each, one call at a time:
//      list-all     ListCases, a random town, page_size 100, first page
//      list-routed  the same with statuses = [ROUTED]
//      list-deep    ListCases of a random town created from a random day, page 100
//      list-overdue ListCases of a random town, overdue = true, page 100
//      stats-town   GetStats of a random town (and its communities) over a random 30-day window
//    Latency is per call (client side, includes gRPC on loopback). Each of
//    --runs runs prints p50/p99 per kind; the last lines give their medians.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "engine/case_id.h"
#include "engine/directory.h"
#include "services/server.h"
#include "storage/case_stats.h"
#include "storage/store.h"
#include "tools/demo_data.h"

namespace {

namespace v1 = grid::v1;
using grid::Micros;

constexpr Micros kSecond = 1'000'000;
constexpr Micros kHour = 3600 * kSecond;
constexpr Micros kEnd = 1'795'708'800'000'000;  // 2026-11-27 00:00 UTC+8

google::protobuf::Timestamp Ts(Micros t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(t / kSecond);
  ts.set_nanos(static_cast<int32_t>(t % kSecond) * 1000);
  return ts;
}

struct Grid {
  const v1::Unit* unit;
  std::vector<std::string> path;
  std::string assignee;
};

int Generate(const std::string& data, uint64_t n, int days, size_t batch_size, uint32_t seed) {
  auto content = grid::tools::DemoDirectory();
  if (!content.ok()) {
    std::fprintf(stderr, "demo directory: %s\n", content.status().ToString().c_str());
    return 1;
  }
  auto dir = grid::Directory::Build(*content, 1);
  if (!dir.ok()) {
    std::fprintf(stderr, "directory: %s\n", dir.status().ToString().c_str());
    return 1;
  }
  auto store = grid::storage::Store::Open(grid::storage::StoreOptions{data, /*sync=*/false});
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.status().ToString().c_str());
    return 1;
  }
  if (auto s = (*store)->SaveDirectory(*content, 1, true); !s.ok()) {
    std::fprintf(stderr, "save directory: %s\n", s.ToString().c_str());
    return 1;
  }
  // An empty store gets the query index marker now, so that the server does
  // not re-index what Commit indexes below.
  if (auto b = (*store)->BackfillQueryIndexes(**dir); !b.ok()) {
    std::fprintf(stderr, "backfill: %s\n", b.status().ToString().c_str());
    return 1;
  }
  std::vector<Grid> grids;
  for (const auto& u : content->units()) {
    if (u.level() != v1::UNIT_LEVEL_GRID) continue;
    Grid g{&u, {}, ""};
    for (const auto a : (*dir)->Ancestors(u.code())) g.path.push_back(a->code());
    g.path.push_back(u.code());
    const auto& members = (*dir)->MembersOf(u.code());
    if (!members.empty()) g.assignee = members.front()->id();
    grids.push_back(std::move(g));
  }
  std::vector<std::string> categories;
  for (const auto& c : content->categories()) categories.push_back(c.code());
  std::printf("generating %llu cases over %d days in %zu grids, batches of %zu, unsynced\n",
              static_cast<unsigned long long>(n), days, grids.size(), batch_size);

  std::mt19937_64 rng(seed);
  grid::CaseIdGenerator ids(0);
  const Micros start = kEnd - static_cast<Micros>(days) * 24 * kHour;
  const double step = static_cast<double>(kEnd - start) / static_cast<double>(n);
  std::vector<v1::Case> cases;
  std::vector<std::vector<v1::CaseEvent>> events;
  std::vector<grid::storage::CaseChange> changes;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n;) {
    cases.clear();
    events.clear();
    changes.clear();
    const size_t count = static_cast<size_t>(std::min<uint64_t>(batch_size, n - i));
    cases.reserve(count);
    events.reserve(count);
    for (size_t k = 0; k < count; ++k, ++i) {
      const Micros created = start + static_cast<Micros>(static_cast<double>(i) * step);
      const Grid& g = grids[rng() % grids.size()];
      v1::Case& c = cases.emplace_back();
      auto& ev = events.emplace_back();
      const uint64_t id = ids.Next(created);
      c.set_id(grid::CaseIdToString(id));
      c.set_channel(v1::CHANNEL_PHONE);
      c.set_category(categories[rng() % categories.size()]);
      c.set_description("小区门口垃圾堆积三天无人清理，气味很大，请尽快处理");
      c.mutable_citizen()->set_name("陈小梅");
      c.mutable_citizen()->set_phone("13800001234");
      c.set_priority(v1::PRIORITY_NORMAL);
      *c.mutable_created_at() = Ts(created);
      c.mutable_routing()->set_unit_code(g.unit->code());
      c.mutable_routing()->set_unit_name(g.unit->name());
      c.mutable_routing()->set_unit_level(v1::UNIT_LEVEL_GRID);
      c.mutable_routing()->set_method(v1::ROUTING_METHOD_LOCATION);
      c.mutable_routing()->set_explanation("point lies in " + g.unit->name() + " (" + g.unit->code() + "), polygon 0");
      c.set_unit_code(g.unit->code());
      c.set_assignee_member_id(g.assignee);
      for (const auto& p : g.path) c.add_unit_path(p);
      auto* d = c.mutable_deadlines();
      d->set_deadline_class("general");
      *d->mutable_accept_start() = Ts(created);
      *d->mutable_accept_due() = Ts(created + 2 * kHour);
      *d->mutable_resolve_start() = Ts(created);
      *d->mutable_resolve_due() = Ts(created + 5 * 24 * kHour);
      const Micros age = kEnd - created;
      const uint64_t r = rng() % 100;
      // Final state by age.
      v1::CaseStatus status;
      if (age > 30 * 24 * kHour) {
        status = r < 85   ? v1::CASE_STATUS_CLOSED
                 : r < 90 ? v1::CASE_STATUS_CANCELLED
                 : r < 95 ? v1::CASE_STATUS_CALLED_BACK
                          : v1::CASE_STATUS_RESOLVED;
      } else {
        status = r < 15   ? v1::CASE_STATUS_ROUTED
                 : r < 30 ? v1::CASE_STATUS_ACCEPTED
                 : r < 50 ? v1::CASE_STATUS_IN_PROGRESS
                 : r < 55 ? v1::CASE_STATUS_WAITING
                 : r < 70 ? v1::CASE_STATUS_RESOLVED
                 : r < 80 ? v1::CASE_STATUS_CALLED_BACK
                          : v1::CASE_STATUS_CLOSED;
      }
      c.set_status(status);
      Micros updated = created;
      if (status != v1::CASE_STATUS_ROUTED && status != v1::CASE_STATUS_CANCELLED) {
        const Micros to_accept = static_cast<Micros>(rng() % static_cast<uint64_t>(3 * kHour));
        *c.mutable_accepted_at() = Ts(created + to_accept);
        c.set_accepted_on_time(to_accept <= 2 * kHour);
        updated = created + to_accept;
      } else if (age > 2 * kHour && status == v1::CASE_STATUS_ROUTED && r % 3 == 0) {
        d->set_accept_overdue(true);
      }
      if (status == v1::CASE_STATUS_RESOLVED || status == v1::CASE_STATUS_CALLED_BACK ||
          status == v1::CASE_STATUS_CLOSED) {
        const Micros to_resolve = 3 * kHour + static_cast<Micros>(rng() % static_cast<uint64_t>(7 * 24 * kHour));
        *c.mutable_resolved_at() = Ts(created + to_resolve);
        c.set_resolved_on_time(to_resolve <= 5 * 24 * kHour);
        updated = created + to_resolve;
        if (status != v1::CASE_STATUS_RESOLVED) {
          c.mutable_callback()->set_satisfied(rng() % 10 != 0);
          *c.mutable_callback()->mutable_at() = Ts(updated + kHour);
          updated += kHour;
        }
        if (status == v1::CASE_STATUS_CLOSED) {
          *c.mutable_closed_at() = Ts(updated + kHour);
          updated += kHour;
        }
      }
      *c.mutable_updated_at() = Ts(std::min(updated, kEnd));
      if (r % 20 == 0) {  // 5% were handed back once (退单)
        auto* rej = c.add_rejections();
        rej->set_unit_code(g.unit->code());
        rej->set_reason(v1::REJECT_REASON_NOT_OUR_DUTY);
        auto& e = ev.emplace_back();
        e.set_case_id(c.id());
        e.set_seq(3);
        e.set_type(v1::EVENT_TYPE_REJECTED);
        *e.mutable_at() = Ts(created + kHour);
      }
      c.set_version(3);
    }
    for (size_t k = 0; k < count; ++k) {
      changes.push_back(
          grid::storage::CaseChange{nullptr, &cases[k], events[k].empty() ? nullptr : &events[k], "", "", 0});
    }
    if (auto s = (*store)->Commit(changes, {}); !s.ok()) {
      std::fprintf(stderr, "commit: %s\n", s.ToString().c_str());
      return 1;
    }
    if ((i / batch_size) % 50 == 0 || i == n) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("  %llu cases, %.0f s, %.0f cases/s\n", static_cast<unsigned long long>(i), secs,
                  static_cast<double>(i) / secs);
      std::fflush(stdout);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("generated %llu cases in %.0f s (%.0f cases/s)\n", static_cast<unsigned long long>(n), secs,
              static_cast<double>(n) / secs);
  return 0;
}

struct Percentiles {
  double p50 = 0, p99 = 0;
};

Percentiles Of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  return {at(0.5), at(0.99)};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"query_bench: ListCases and GetStats over a large store"};
  std::string data;
  uint64_t n = 10'000'000;
  int days = 365, queries = 1000, runs = 3;
  size_t batch = 20000;
  uint32_t seed = 1;
  bool generate_only = false, compact = false, wall_clock = false;
  std::string only;
  app.add_option("--data", data, "store directory (generated when empty)")->required();
  app.add_option("--cases", n, "cases to generate")->capture_default_str();
  app.add_option("--days", days, "days the cases span")->capture_default_str();
  app.add_option("--batch", batch, "cases per unsynced commit")->capture_default_str();
  app.add_option("--queries", queries, "calls per kind per run")->capture_default_str();
  app.add_option("--runs", runs, "runs")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_flag("--generate-only", generate_only, "stop after generating");
  app.add_option("--kind", only, "run this kind only")
      ->check(CLI::IsMember({"list-all", "list-routed", "list-deep", "list-overdue", "stats-town"}));
  app.add_flag("--wall-clock", wall_clock, "serve on the wall clock (overdue deadlines fire during the queries)");
  app.add_flag("--compact", compact, "compact the whole store (as the server would over time) before serving");
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(data) / "CURRENT", ec)) {
    if (int rc = Generate(data, n, days, batch, seed); rc != 0) return rc;
  } else {
    std::printf("using the existing store in %s\n", data.c_str());
  }
  if (compact) {
    const auto t0 = std::chrono::steady_clock::now();
    auto store = grid::storage::Store::Open(grid::storage::StoreOptions{data, /*sync=*/false});
    if (!store.ok() || !(*store)->CompactAll().ok()) {
      std::fprintf(stderr, "compaction failed\n");
      return 1;
    }
    std::printf("compacted in %.0f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (generate_only) return 0;

  // The generated open cases carry deadlines that are past by the wall clock;
  // a server on the wall clock fires them all (hundreds of thousands of
  // escalations per million cases: the lifecycle section's workload) while
  // the queries run. By default the clock is frozen a day before the first
  // generated case, so that the scheduler stays idle: queries read no clock.
  const Micros frozen = kEnd - static_cast<Micros>(days + 1) * 24 * kHour;
  grid::FakeClock fake(frozen);
  grid::services::SystemClock wall;
  const grid::Clock& clock = wall_clock ? static_cast<const grid::Clock&>(wall) : fake;
  grid::services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = data;
  config.sync = false;
  const auto t_start = std::chrono::steady_clock::now();
  auto server = grid::services::GridServer::Start(config, &clock, std::nullopt);
  if (!server.ok()) {
    std::fprintf(stderr, "server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("server up in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials());
  auto stub = v1::CaseQuery::NewStub(channel);

  auto content = grid::tools::DemoDirectory();
  std::vector<std::string> towns;
  for (const auto& u : content->units()) {
    if (u.level() == v1::UNIT_LEVEL_TOWN) towns.push_back(u.code());
  }
  const uint32_t last_day = grid::storage::DayOf(kEnd - 1);
  const uint32_t first_day = grid::storage::DayOf(kEnd - static_cast<Micros>(days) * 24 * kHour);

  std::mt19937_64 rng(seed + 1);
  std::vector<std::string> kinds;
  for (const char* k : {"list-all", "list-routed", "list-deep", "list-overdue", "stats-town"}) {
    if (only.empty() || only == k) kinds.push_back(k);
  }
  std::map<std::string, std::vector<double>> p50s, p99s;
  std::map<std::string, double> returned;
  for (int run = 0; run < runs; ++run) {
    for (const auto& kind : kinds) {
      std::vector<double> ms;
      uint64_t results = 0;
      for (int q = 0; q < queries; ++q) {
        const std::string& town = towns[rng() % towns.size()];
        grpc::ClientContext ctx;
        grpc::Status st;
        const auto t0 = std::chrono::steady_clock::now();
        if (kind == "stats-town") {
          v1::GetStatsRequest req;
          req.set_scope_unit_code(town);
          const uint32_t from = first_day + static_cast<uint32_t>(rng() % (last_day - first_day - 29));
          req.set_from_date(grid::storage::FormatDay(from));
          req.set_to_date(grid::storage::FormatDay(from + 29));
          v1::GetStatsResponse resp;
          st = stub->GetStats(&ctx, req, &resp);
          results += resp.total().cases();
        } else {
          v1::ListCasesRequest req;
          req.set_scope_unit_code(town);
          req.set_page_size(100);
          if (kind == "list-routed") req.add_statuses(v1::CASE_STATUS_ROUTED);
          if (kind == "list-overdue") req.set_overdue(true);
          if (kind == "list-deep") {
            const Micros from = kEnd - static_cast<Micros>(rng() % static_cast<uint64_t>(days)) * 24 * kHour;
            *req.mutable_created_from() = Ts(from);
          }
          v1::ListCasesResponse resp;
          st = stub->ListCases(&ctx, req, &resp);
          results += static_cast<uint64_t>(resp.cases_size());
        }
        const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!st.ok()) {
          std::fprintf(stderr, "%s: %s\n", kind.c_str(), st.error_message().c_str());
          return 1;
        }
        ms.push_back(elapsed);
      }
      const Percentiles p = Of(ms);
      p50s[kind].push_back(p.p50);
      p99s[kind].push_back(p.p99);
      returned[kind] = static_cast<double>(results) / queries;
      std::printf("run %d  %-13s p50 %7.3f ms  p99 %7.3f ms  (%.0f cases per answer)\n", run + 1, kind.c_str(), p.p50,
                  p.p99, returned[kind]);
      std::fflush(stdout);
    }
  }
  std::printf("medians of %d runs:\n", runs);
  for (const auto& kind : kinds) {
    std::printf("  %-13s p50 %7.3f ms  p99 %7.3f ms\n", kind.c_str(), Median(p50s[kind]), Median(p99s[kind]));
  }
  std::printf("deadlines fired while serving: %llu (%s clock)\n",
              static_cast<unsigned long long>((*server)->deadlines_fired()), wall_clock ? "wall" : "frozen");
  (*server)->Shutdown();
  return 0;
}
