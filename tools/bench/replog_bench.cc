// replog_bench: what it costs to append the case writer's batches to a
// replicated log in an existing engine, etcd or NATS JetStream, before
// acknowledging them (BENCHMARKS.md, "Replication: etcd or JetStream").
//
//   replog_bench --engine etcd|nats --endpoints 127.0.0.1:2379,127.0.0.1:2381,...
//                [--record-bytes 4096] [--outstanding 1] [--duration-s 10]
//                [--warmup-s 1] [--replicas 3] [--server-pid PID ...] [--json]
//
// The leader (this process) appends records of --record-bytes, each
// conditional on its place in the log and, for etcd, on the leader's epoch
// (replog_etcd.cc, replog_nats.cc say how), with --outstanding appends in
// flight; 1 is the case writer's pattern (one batch at a time, in order). A
// follower on a second connection reads the log in order. Over the measured
// window (after --warmup-s, for --duration-s) it reports:
//   - appends/s and MB/s of acknowledged appends;
//   - append latency p50, p99 and max, from starting the append to its
//     acknowledgement;
//   - follower lag p50 and p99: from the leader's acknowledgement to the
//     follower receiving the record (negative when the follower saw it first);
//   - with --server-pid (repeatable), the CPU the server processes spent per
//     acknowledged append over the window (utime + stime of /proc/PID/stat).
// After the window, the follower gets up to --catchup-s to see every
// acknowledged record; the records it never saw are reported as missing.
// Then one append as a deposed leader would make it (a stale condition)
// must be refused: the fence the design relies on, checked on each engine.
//
// Loopback only: an endpoint that is not localhost or 127.x.x.x is refused.
//
// Exit codes: 0 when appends were acknowledged, none failed, the follower
// saw them all and the stale append was refused; 1 otherwise (the figures are still printed); 2 on bad flags.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "tools/bench/bench_figures.h"
#include "tools/bench/replog_log.h"

namespace {

using grid::bench::JsonEscape;
using grid::bench::PercentileMs;

using grid::replog::SteadyClock;

struct Options {
  std::string engine;
  std::string endpoints;
  size_t record_bytes = 4096;
  size_t outstanding = 1;
  double duration_s = 10;
  double warmup_s = 1;
  double catchup_s = 10;
  double ready_timeout_s = 30;
  int replicas = 3;
  std::vector<int> server_pids;
  uint64_t seed = 1;
  bool json = false;
};

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool IsLoopback(const std::string& endpoint) {
  const std::string host = endpoint.substr(0, endpoint.rfind(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

// utime + stime of a process, in clock ticks; nullopt when it is gone.
std::optional<long long> CpuTicks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Fields after the command name, which is in parentheses and may hold spaces:
  // state is field 3, utime 14, stime 15.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int n = 3; fields >> field; ++n) {
    if (n == 14) utime = std::stoll(field);
    if (n == 15) {
      stime = std::stoll(field);
      return utime + stime;
    }
  }
  return std::nullopt;
}

std::optional<long long> TotalCpuTicks(const std::vector<int>& pids) {
  long long total = 0;
  for (int pid : pids) {
    const auto ticks = CpuTicks(pid);
    if (!ticks) return std::nullopt;
    total += *ticks;
  }
  return total;
}

int64_t ToNs(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

SteadyClock::duration Seconds(double s) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"replog_bench: conditional appends to a replicated log (etcd or NATS JetStream), with a follower"};
  app.add_option("--engine", o.engine, "etcd or nats")->required()->check(CLI::IsMember({"etcd", "nats"}));
  app.add_option("--endpoints", o.endpoints, "client endpoints host:port, comma-separated (loopback only)")->required();
  app.add_option("--record-bytes", o.record_bytes, "bytes per appended record")
      ->capture_default_str()
      ->check(CLI::Range(8, 1 << 20));
  app.add_option("--outstanding", o.outstanding, "appends in flight at once (the case writer: 1)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--duration-s", o.duration_s, "measured seconds, after the warm-up")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup-s", o.warmup_s, "seconds of appends before measuring")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("--catchup-s", o.catchup_s, "seconds the follower gets, after the run, to see every record")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("--ready-timeout-s", o.ready_timeout_s, "seconds to wait for a cluster that is still electing")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));
  app.add_option("--replicas", o.replicas, "NATS: the stream's replicas (etcd: every member holds every key)")
      ->capture_default_str()
      ->check(CLI::Range(1, 5));
  app.add_option("--server-pid", o.server_pids, "a server process whose CPU is counted (repeatable)");
  app.add_option("--seed", o.seed, "seed of the records' random bytes")->capture_default_str();
  app.add_flag("--json", o.json, "print one JSON object instead of text");
  CLI11_PARSE(app, argc, argv);

  const std::vector<std::string> endpoints = Split(o.endpoints);
  if (endpoints.empty()) {
    std::cerr << "replog_bench: --endpoints is empty\n";
    return 2;
  }
  for (const auto& e : endpoints) {
    if (!IsLoopback(e)) {
      std::cerr << "replog_bench: " << e << " is not a loopback endpoint; refusing\n";
      return 2;
    }
  }
  for (int pid : o.server_pids) {
    if (!CpuTicks(pid)) {
      std::cerr << "replog_bench: --server-pid " << pid << ": no such process\n";
      return 2;
    }
  }

  auto log =
      o.engine == "etcd" ? grid::replog::MakeEtcdLog(endpoints) : grid::replog::MakeNatsLog(endpoints, o.replicas);
  const auto ready = std::chrono::seconds(static_cast<int64_t>(std::ceil(o.ready_timeout_s)));
  if (grid::Status s = log->Open(ready); !s.ok()) {
    std::cerr << "replog_bench: " << o.engine << ": " << s.ToString() << "\n";
    return 1;
  }
  grid::replog::Timeline timeline;
  if (grid::Status s = log->StartFollower(&timeline); !s.ok()) {
    std::cerr << "replog_bench: " << o.engine << ": follower: " << s.ToString() << "\n";
    log->Close();
    return 1;
  }

  const auto start = SteadyClock::now();
  const auto measure_from = start + Seconds(o.warmup_s);
  const auto stop_at = measure_from + Seconds(o.duration_s);
  grid::replog::RunSpec spec;
  spec.record_bytes = o.record_bytes;
  spec.outstanding = o.outstanding;
  spec.stop_at = stop_at;
  spec.seed = o.seed;

  // The servers' CPU over the window, sampled beside the appends.
  std::optional<long long> cpu_before, cpu_after;
  std::thread sampler([&] {
    std::this_thread::sleep_until(measure_from);
    cpu_before = TotalCpuTicks(o.server_pids);
    std::this_thread::sleep_until(stop_at);
    cpu_after = TotalCpuTicks(o.server_pids);
  });
  const grid::replog::AppendCounts counts = log->AppendUntil(spec, &timeline);
  sampler.join();
  const bool caught_up = timeline.WaitFollowerCaughtUp(SteadyClock::now() + Seconds(o.catchup_s));
  // Only meaningful after an unbroken run: the last acknowledged record is then the log's last.
  grid::Status fenced = grid::Status(grid::StatusCode::kFailedPrecondition, "SKIPPED", "appends failed");
  if (counts.failed == 0) fenced = log->StaleAppendIsRefused(counts.appended);
  log->Close();

  // The window's figures: appends acknowledged in [measure_from, stop_at].
  const int64_t from_ns = ToNs(measure_from), to_ns = ToNs(stop_at);
  std::vector<int64_t> latency_ns, lag_ns;
  uint64_t acked_total = 0, missing = 0;
  for (const auto& e : timeline.Entries()) {
    if (e.acked_ns == 0) continue;
    ++acked_total;
    if (e.seen_ns == 0) ++missing;
    if (e.acked_ns < from_ns || e.acked_ns > to_ns) continue;
    latency_ns.push_back(e.acked_ns - e.started_ns);
    if (e.seen_ns != 0) lag_ns.push_back(e.seen_ns - e.acked_ns);
  }
  std::sort(latency_ns.begin(), latency_ns.end());
  std::sort(lag_ns.begin(), lag_ns.end());
  const auto follower = timeline.Follower();
  const size_t n = latency_ns.size();
  const double rate = static_cast<double>(n) / o.duration_s;
  const double mb_per_s = rate * static_cast<double>(o.record_bytes) / 1e6;
  const double p50 = PercentileMs(latency_ns, 0.50), p99 = PercentileMs(latency_ns, 0.99),
               max = n == 0 ? 0 : static_cast<double>(latency_ns.back()) / 1e6;
  const double lag_p50 = PercentileMs(lag_ns, 0.50), lag_p99 = PercentileMs(lag_ns, 0.99);
  double cpu_us = -1;  // per append; -1: not measured
  if (!o.server_pids.empty() && cpu_before && cpu_after && n > 0) {
    cpu_us = static_cast<double>(*cpu_after - *cpu_before) / static_cast<double>(sysconf(_SC_CLK_TCK)) * 1e6 /
             static_cast<double>(n);
  }
  const bool ok = n > 0 && counts.failed == 0 && caught_up && missing == 0 && fenced.ok();

  if (o.json) {
    std::printf(
        "{\"engine\": \"%s\", \"endpoints\": %zu, \"record_bytes\": %zu, \"outstanding\": %zu, \"duration_s\": %.3f, "
        "\"warmup_s\": %.3f, \"appends\": %zu, \"appends_per_s\": %.1f, \"mb_per_s\": %.3f, \"p50_ms\": %.3f, "
        "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"appended_total\": %llu, \"failed\": %llu, \"first_error\": \"%s\", "
        "\"follower_seen\": %llu, \"follower_missing\": %llu, \"follower_duplicates\": %llu, "
        "\"follower_out_of_order\": %llu, \"lag_p50_ms\": %.3f, \"lag_p99_ms\": %.3f, "
        "\"server_cpu_us_per_append\": %.1f, \"server_pids\": %zu, \"stale_append_refused\": %s, "
        "\"stale_append\": \"%s\", \"ok\": %s}\n",
        o.engine.c_str(), endpoints.size(), o.record_bytes, o.outstanding, o.duration_s, o.warmup_s, n, rate, mb_per_s,
        p50, p99, max, static_cast<unsigned long long>(acked_total), static_cast<unsigned long long>(counts.failed),
        JsonEscape(counts.first_error).c_str(), static_cast<unsigned long long>(follower.seen),
        static_cast<unsigned long long>(missing), static_cast<unsigned long long>(follower.duplicates),
        static_cast<unsigned long long>(follower.out_of_order), lag_p50, lag_p99, cpu_us, o.server_pids.size(),
        fenced.ok() ? "true" : "false", JsonEscape(fenced.ToString()).c_str(), ok ? "true" : "false");
  } else {
    std::printf("replog_bench: %s, %zu endpoint(s), %zu-byte records, %zu outstanding, %.1f s after %.1f s warm-up\n",
                o.engine.c_str(), endpoints.size(), o.record_bytes, o.outstanding, o.duration_s, o.warmup_s);
    std::printf("  appends/s  %.1f  (%.3f MB/s; %zu in the window, %llu in all)\n", rate, mb_per_s, n,
                static_cast<unsigned long long>(acked_total));
    std::printf("  latency    p50 %.3f  p99 %.3f  max %.3f ms\n", p50, p99, max);
    std::printf("  follower   saw %llu, missing %llu, duplicates %llu, out of order %llu; lag p50 %.3f  p99 %.3f ms\n",
                static_cast<unsigned long long>(follower.seen), static_cast<unsigned long long>(missing),
                static_cast<unsigned long long>(follower.duplicates),
                static_cast<unsigned long long>(follower.out_of_order), lag_p50, lag_p99);
    if (cpu_us >= 0) std::printf("  server CPU %.1f us per append (%zu processes)\n", cpu_us, o.server_pids.size());
    std::printf("  stale      %s\n",
                fenced.ok() ? "a deposed leader's append was refused" : ("NOT REFUSED: " + fenced.ToString()).c_str());
    std::printf("  failed     %llu%s%s\n", static_cast<unsigned long long>(counts.failed),
                counts.first_error.empty() ? "" : ": ", counts.first_error.c_str());
  }
  return ok ? 0 : 1;
}
