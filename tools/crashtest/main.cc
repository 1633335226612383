// crashtest: gridd under a mixed load, SIGKILLed at random moments and
// started again on the same data directory, then held to every answer it gave.
//
//   crashtest [--gridd build/tools/gridd] [--kills 50] [--duration S] [--seed 1] [--callers 32]
//             [--data DIR] [--log FILE] [--verify-cmd CMD]
//   crashtest --check-log FILE --data DIR [--gridd PATH]     check a kept run again
//   crashtest --cluster [--kills 20] [--callers N] [--duration S] [--lease-ttl-s 2] [--compare-single]
//             [--etcd /usr/bin/etcd] [--restart-pause-s 1] [--max-failover-s 30]
//
// --cluster runs the same load, log and checker against a shard of three
// replicas over etcd and SIGKILLs its leader (cluster_run.h); clock offset 0
// there, so no deadline rounds: the replicas share the wall clock.
//
// The run: gridd on 127.0.0.1 (port file, a calendar-time deadline policy of
// 1 h to accept and 3 h to resolve); --callers callers submitting cases with
// idempotency keys and working them with expected versions (load.h); Watch
// subscribers of the county and two towns (subscribers.h). Every 1-4 s
// (seeded) gridd is SIGKILLed and started again; a third of the restarts, and
// the last one, move its clock 1.25 h further on (--clock-offset-hours), so
// that the dues passed meanwhile fire as escalations. Unanswered calls are
// sent again. Every acknowledgement goes to the log (ack_log.h), and at the
// end the store is read back over gRPC and checked against it (checker.h).
//
// Exit codes: 0 when nothing acknowledged was lost or duplicated, 1 otherwise
// (or when gridd failed, or the --verify-cmd failed), 2 on bad flags.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/ack_log.h"
#include "tools/crashtest/checker.h"
#include "tools/crashtest/cluster_run.h"
#include "tools/crashtest/gridd_supervisor.h"
#include "tools/crashtest/harness.h"
#include "tools/crashtest/load.h"
#include "tools/crashtest/rpc.h"
#include "tools/crashtest/subscribers.h"
#include "tools/demo/demo_directory.h"

namespace {

namespace v1 = grid::v1;
using namespace grid::crashtest;
using SteadyClock = std::chrono::steady_clock;

constexpr double kDeadlineRoundHours = 1.25;  // longer than the accept time

int CheckOnly(const Options& o) {
  LogContents log;
  std::string error;
  if (!ReadLog(o.check_log, &log, &error)) {
    std::fprintf(stderr, "crashtest: %s\n", error.c_str());
    return 2;
  }
  const std::string work = MakeWorkDir();
  const std::string policy = PolicyFile(work, log.accept_s, log.resolve_s);
  GriddSupervisor gridd({o.gridd, o.data, work, GriddArgs(policy)});
  const double offset = log.offsets.empty() ? 0 : log.offsets.back();
  if (!gridd.Start(offset, &error)) {
    std::fprintf(stderr, "crashtest: %s\n", error.c_str());
    return 1;
  }
  std::printf("crashtest: checking %s against %s (gridd clock offset %s h)\n", o.data.c_str(), o.check_log.c_str(),
              OffsetText(offset).c_str());
  bool ok = true;
  const Figures f = SettleAndCheck(
      gridd, gridd.server_start_micros(), o.check_log, &log, [](uint64_t) { return true; }, &ok);
  PrintFigures(f);
  const int stopped = gridd.Stop();
  if (stopped != 0) {
    std::printf("  gridd          exited %d on SIGTERM\n", stopped);
    ok = false;
  }
  if (RunVerify(o.verify_cmd, o.data) != 0) ok = false;
  std::printf("crashtest: %s\n", ok ? "OK" : "FAILED");
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  return ok ? 0 : 1;
}

int Run(const Options& o) {
  const std::string work = MakeWorkDir();
  if (work.empty()) {
    std::fprintf(stderr, "crashtest: cannot create a temporary directory\n");
    return 1;
  }
  const std::string data = o.data.empty() ? work + "/data" : o.data;
  const std::string log_path = o.log.empty() ? work + "/acks.log" : o.log;
  AckLog log(log_path);
  if (!log.ok()) {
    std::fprintf(stderr, "crashtest: cannot write %s\n", log_path.c_str());
    return 2;
  }
  log.Write({"P", std::to_string(kAcceptSeconds), std::to_string(kResolveSeconds)});
  const std::string policy = PolicyFile(work, kAcceptSeconds, kResolveSeconds);
  GriddSupervisor gridd({o.gridd, data, work, GriddArgs(policy)});
  std::string error;
  double offset = 0;
  if (!gridd.Start(offset, &error)) {
    std::fprintf(stderr, "crashtest: %s\n", error.c_str());
    return 1;
  }
  log.Write({"O", OffsetText(offset)});
  std::printf("crashtest: seed %llu, %zu callers, %d kills, gridd %s, data %s, log %s\n",
              static_cast<unsigned long long>(o.seed), o.callers, o.kills, o.gridd.c_str(), data.c_str(),
              log_path.c_str());
  std::fflush(stdout);

  Subscribers subscribers(&gridd, &log, Scopes(gridd.WaitServing()->channel));
  Load load(&gridd, &log, {o.callers, o.seed, KeyPrefix(o.seed), std::chrono::milliseconds(o.think_ms), 4});
  subscribers.Start();
  load.Start();

  std::mt19937_64 rng(Mix(o.seed));
  const auto started = SteadyClock::now();
  int kills = 0;
  int rounds = 0;
  bool ok = true;
  while (kills < o.kills || std::chrono::duration<double>(SteadyClock::now() - started).count() < o.duration_s) {
    const double wait_s = o.kill_min_s + Unit(rng()) * (o.kill_max_s - o.kill_min_s);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
    const bool last =
        kills + 1 >= o.kills && std::chrono::duration<double>(SteadyClock::now() - started).count() >= o.duration_s;
    if (last || rng() % 3 == 0) {
      offset += kDeadlineRoundHours;
      ++rounds;
    }
    if (!gridd.KillAndRestart(offset, &error)) {
      std::fprintf(stderr, "crashtest: restart after kill %d: %s\n", kills + 1, error.c_str());
      ok = false;
      break;
    }
    ++kills;
    log.Write({"O", OffsetText(offset)});
    std::printf("  kill %d: serving again after %.2f s, clock offset %s h\n", kills, gridd.restart_seconds().back(),
                OffsetText(offset).c_str());
    std::fflush(stdout);
  }
  load.Stop();
  const LoadCounts counts = load.counts();

  const Figures f = CheckRun(gridd, gridd.server_start_micros(), log_path, subscribers, &ok);

  const auto restarts = gridd.restart_seconds();
  std::printf("crashtest: %.1f s, seed %llu, %zu callers\n",
              std::chrono::duration<double>(SteadyClock::now() - started).count(),
              static_cast<unsigned long long>(o.seed), o.callers);
  std::printf("  kills          %d (SIGKILL at random moments, %.0f-%.0f s apart)\n", kills, o.kill_min_s,
              o.kill_max_s);
  std::printf("  restart        p50 %.2f s  max %.2f s  (SIGKILL to serving again)\n", Percentile(restarts, 0.5),
              restarts.empty() ? 0.0 : *std::max_element(restarts.begin(), restarts.end()));
  std::printf("  clock offset   %s h after %d deadline rounds\n", OffsetText(offset).c_str(), rounds);
  PrintLoadCounts(counts);
  std::printf("  subscribers    %llu entries received, %llu resumptions\n",
              static_cast<unsigned long long>(subscribers.received()),
              static_cast<unsigned long long>(subscribers.resumed()));
  PrintFigures(f);
  const int stopped = gridd.Stop();
  if (stopped != 0) {
    std::printf("  gridd          exited %d on SIGTERM\n", stopped);
    ok = false;
  }
  if (RunVerify(o.verify_cmd, data) != 0) ok = false;
  std::printf("crashtest: %s\n", ok ? "OK" : "FAILED");
  if (ok && o.data.empty() && o.log.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  } else {
    std::printf("  kept           %s (gridd.log, the policy%s)\n", work.c_str(), o.data.empty() ? ", the data" : "");
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"crashtest: gridd under load, SIGKILLed and restarted, checked against every acknowledgement"};
  app.add_option("--gridd", o.gridd, "the gridd binary")->capture_default_str();
  app.add_option("--kills", o.kills, "SIGKILLs in the run")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--duration", o.duration_s, "seconds the run lasts at least (it also lasts until --kills)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--seed", o.seed, "seed for the kill moments, the cases and their fates")->capture_default_str();
  app.add_option("--callers", o.callers, "concurrent callers")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--think-ms", o.think_ms, "each caller's pause between calls")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  auto* kill_min = app.add_option("--kill-min-s", o.kill_min_s,
                                  "shortest time between two kills (default 1; with --cluster 2, from the last "
                                  "failover)")
                       ->check(CLI::Range(0.05, 3600.0));
  auto* kill_max =
      app.add_option("--kill-max-s", o.kill_max_s, "longest time between two kills (default 4; with --cluster 5)")
          ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--data", o.data, "gridd's data directory, kept (default: a temporary one)");
  app.add_option("--log", o.log, "the acknowledgement log, kept (default: in the temporary directory)");
  app.add_option("--verify-cmd", o.verify_cmd,
                 "run on the data directory after the final stop ({} is replaced by it, else it is appended); "
                 "a non-zero exit fails the run");
  app.add_option("--check-log", o.check_log, "check --data against this log from an earlier run, and exit");
  app.add_flag("--cluster", o.cluster,
               "a shard of 3 gridd replicas over 3 etcd members of its own; the leader is SIGKILLed (cluster_run.h)");
  app.add_option("--etcd", o.etcd, "with --cluster: the etcd binary")->capture_default_str();
  app.add_option("--lease-ttl-s", o.lease_ttl_s, "with --cluster: the replicas' --lease-ttl-s")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  app.add_option("--restart-pause-s", o.restart_pause_s, "with --cluster: a killed leader starts again this much later")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60.0));
  app.add_option("--max-failover-s", o.max_failover_s,
                 "with --cluster: a kill not followed by an acknowledged SubmitCase this soon fails the run")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));
  app.add_flag("--compare-single", o.compare_single,
               "with --cluster: first the same load for as long against one gridd without etcd, for the intake ratio");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }
  if (o.cluster) {
    if (kill_min->count() == 0) o.kill_min_s = 2;
    if (kill_max->count() == 0) o.kill_max_s = 5;
  }
  if (o.kill_max_s < o.kill_min_s) {
    std::fprintf(stderr, "crashtest: --kill-max-s is less than --kill-min-s\n");
    return 2;
  }
  if (!std::filesystem::exists(o.gridd)) {
    std::fprintf(stderr, "crashtest: --gridd %s: no such file\n", o.gridd.c_str());
    return 2;
  }
  if (!o.check_log.empty()) {
    if (o.data.empty()) {
      std::fprintf(stderr, "crashtest: --check-log needs --data\n");
      return 2;
    }
    return CheckOnly(o);
  }
  if (o.cluster) {
    if (!o.data.empty() || !o.check_log.empty() || !o.verify_cmd.empty()) {
      std::fprintf(stderr,
                   "crashtest: --cluster keeps its replicas' data in its work directory and verifies each one itself "
                   "(no --data, --check-log or --verify-cmd)\n");
      return 2;
    }
    return RunCluster(o);
  }
  return Run(o);
}
