// crashtest: gridd under a mixed load, SIGKILLed at random moments and
// started again on the same data directory, then held to every answer it gave.
//
//   crashtest [--gridd build/tools/gridd] [--kills 50] [--duration S] [--seed 1] [--callers 32]
//             [--data DIR] [--log FILE] [--verify-cmd CMD]
//   crashtest --check-log FILE --data DIR [--gridd PATH]     check a kept run again
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
#include "tools/crashtest/gridd_supervisor.h"
#include "tools/crashtest/load.h"
#include "tools/crashtest/rpc.h"
#include "tools/crashtest/subscribers.h"
#include "tools/demo/demo_directory.h"

namespace {

namespace v1 = grid::v1;
using namespace grid::crashtest;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kAcceptSeconds = 3600;
constexpr int64_t kResolveSeconds = 3 * 3600;
constexpr double kDeadlineRoundHours = 1.25;  // longer than the accept time
constexpr std::chrono::seconds kSettleTimeout{120};

struct Options {
  std::string gridd = "build/tools/gridd";
  int kills = 50;
  double duration_s = 0;
  uint64_t seed = 1;
  size_t callers = 32;
  int think_ms = 50;
  double kill_min_s = 1;
  double kill_max_s = 4;
  std::string data;
  std::string log;
  std::string verify_cmd;
  std::string check_log;
};

std::string PolicyFile(const std::string& work_dir, int64_t accept_s, int64_t resolve_s) {
  const std::string path = work_dir + "/policy.txt";
  std::ofstream(path) << "warn 0.8\nrule general * calendar " << accept_s / 60 << "m " << resolve_s / 60 << "m\n";
  return path;
}

std::vector<std::string> GriddArgs(const std::string& policy) {
  return {"--deadline-policy", policy, "--feed-retention-days", "0", "--feed-heartbeat-ms", "200"};
}

std::string OffsetText(double hours) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", hours);
  return buf;
}

// The county and its first two towns: the subscribers' scopes.
std::vector<std::string> Scopes(const std::shared_ptr<grpc::Channel>& channel) {
  std::vector<std::string> scopes = {std::string(grid::kDemoCountyCode)};
  auto stub = v1::Directory::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  v1::GetUnitRequest req;
  req.set_code(std::string(grid::kDemoCountyCode));
  v1::GetUnitResponse resp;
  if (stub->GetUnit(&ctx, req, &resp).ok()) {
    for (int i = 0; i < resp.children_size() && i < 2; ++i) scopes.push_back(resp.children(i).code());
  }
  return scopes;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void PrintCount(const char* what, const Figures::Count& c) {
  std::printf("  %-14s %llu  (cases %llu, transitions %llu, deadlines %llu, feed %llu, watch %llu)\n", what,
              static_cast<unsigned long long>(c.total()), static_cast<unsigned long long>(c.cases),
              static_cast<unsigned long long>(c.transitions), static_cast<unsigned long long>(c.deadlines),
              static_cast<unsigned long long>(c.feed), static_cast<unsigned long long>(c.watch));
}

void PrintFigures(const Figures& f) {
  std::printf("  store          %llu cases; %llu acknowledged cases, %llu acknowledged transitions checked\n",
              static_cast<unsigned long long>(f.cases_in_store), static_cast<unsigned long long>(f.acknowledged_cases),
              static_cast<unsigned long long>(f.acknowledged_transitions));
  std::printf("  deadlines      %llu escalations fired by deadlines, over %llu cases (at most %llu on one)\n",
              static_cast<unsigned long long>(f.deadline_escalations),
              static_cast<unsigned long long>(f.cases_escalated),
              static_cast<unsigned long long>(f.max_escalations_per_case));
  std::printf("  feed           %llu entries\n", static_cast<unsigned long long>(f.feed_entries));
  for (const auto& [scope, n] : f.subscriber_escalations) {
    std::printf("  subscriber     %s: %llu escalations of its scope checked\n", scope.c_str(),
                static_cast<unsigned long long>(n));
  }
  PrintCount("lost", f.lost);
  PrintCount("duplicated", f.duplicated);
  for (const auto& p : f.problems) std::printf("  PROBLEM: %s\n", p.c_str());
}

// Settles the deadlines, replays the feed and checks; `before_check` runs
// between the replay (with the feed's head) and reading the log.
Figures SettleAndCheck(GriddSupervisor& gridd, const std::string& log_path, const LogContents* given_log,
                       const std::function<bool(uint64_t head)>& before_check, bool* ok) {
  Figures f;
  auto serving = gridd.WaitServing();
  if (!serving) {
    f.read_failed = true;
    f.Problem("gridd is not serving");
    *ok = false;
    return f;
  }
  const std::string root(grid::kDemoCountyCode);
  uint64_t still_due = 0;
  std::string error;
  std::vector<v1::FeedEntry> feed;
  uint64_t head = 0;
  if (!SettleDeadlines(serving->channel, root, gridd.server_start_micros(), kSettleTimeout, &still_due, &error) ||
      !ReadFeed(serving->channel, &feed, &head, &error)) {
    f.read_failed = true;
    f.Problem(error);
    *ok = false;
    return f;
  }
  if (!before_check(head)) *ok = false;
  LogContents log;
  if (given_log != nullptr) {
    log = *given_log;
  } else if (!ReadLog(log_path, &log, &error)) {
    f.read_failed = true;
    f.Problem(error);
    *ok = false;
    return f;
  }
  f = Check(serving->channel, root, log, feed, gridd.server_start_micros(), still_due);
  if (f.read_failed || f.lost.total() + f.duplicated.total() > 0) *ok = false;
  return f;
}

int RunVerify(const Options& o, const std::string& data) {
  if (o.verify_cmd.empty()) return 0;
  std::string cmd = o.verify_cmd;
  const size_t at = cmd.find("{}");
  if (at != std::string::npos) {
    cmd.replace(at, 2, data);
  } else {
    cmd += " " + data;
  }
  std::printf("  verify         %s\n", cmd.c_str());
  std::fflush(stdout);
  const int status = std::system(cmd.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::printf("  verify         exit %d\n", code);
  return code;
}

std::string MakeWorkDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "crashtest-XXXXXX").string();
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
}

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
      gridd, o.check_log, &log, [](uint64_t) { return true; }, &ok);
  PrintFigures(f);
  const int stopped = gridd.Stop();
  if (stopped != 0) {
    std::printf("  gridd          exited %d on SIGTERM\n", stopped);
    ok = false;
  }
  if (RunVerify(o, o.data) != 0) ok = false;
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
  const std::string nonce = std::to_string(
      Mix(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^ getpid()) % 1000000);
  Load load(&gridd, &log,
            {o.callers, o.seed, "ct" + std::to_string(o.seed) + "x" + nonce, std::chrono::milliseconds(o.think_ms), 4});
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

  Figures f;
  if (ok) {
    f = SettleAndCheck(
        gridd, log_path, nullptr,
        [&](uint64_t head) {
          if (subscribers.Finish(head, SteadyClock::now() + std::chrono::seconds(60))) return true;
          std::printf("  PROBLEM: a subscriber did not reach the feed's head (cursor %llu) within 60 s\n",
                      static_cast<unsigned long long>(head));
          return false;
        },
        &ok);
  }
  subscribers.Finish(0, SteadyClock::now());

  const auto restarts = gridd.restart_seconds();
  std::printf("crashtest: %.1f s, seed %llu, %zu callers\n",
              std::chrono::duration<double>(SteadyClock::now() - started).count(),
              static_cast<unsigned long long>(o.seed), o.callers);
  std::printf("  kills          %d (SIGKILL at random moments, %.0f-%.0f s apart)\n", kills, o.kill_min_s,
              o.kill_max_s);
  std::printf("  restart        p50 %.2f s  max %.2f s  (SIGKILL to serving again)\n", Percentile(restarts, 0.5),
              restarts.empty() ? 0.0 : *std::max_element(restarts.begin(), restarts.end()));
  std::printf("  clock offset   %s h after %d deadline rounds\n", OffsetText(offset).c_str(), rounds);
  uint64_t acked = 0;
  std::string kinds;
  for (const auto& [kind, n] : counts.acknowledged) {
    acked += n;
    kinds += " " + kind + " " + std::to_string(n);
  }
  std::printf("  acknowledged   %llu:%s\n", static_cast<unsigned long long>(acked), kinds.c_str());
  std::printf(
      "  retried        %llu calls sent again; %llu found stored though unanswered; %llu met a version "
      "moved by a deadline\n",
      static_cast<unsigned long long>(counts.retries), static_cast<unsigned long long>(counts.found_after_retry),
      static_cast<unsigned long long>(counts.version_moved));
  for (const auto& [reason, n] : counts.refused) {
    std::printf("  refused        %s: %llu\n", reason.c_str(), static_cast<unsigned long long>(n));
  }
  std::printf("  subscribers    %llu entries received, %llu resumptions\n",
              static_cast<unsigned long long>(subscribers.received()),
              static_cast<unsigned long long>(subscribers.resumed()));
  PrintFigures(f);
  const int stopped = gridd.Stop();
  if (stopped != 0) {
    std::printf("  gridd          exited %d on SIGTERM\n", stopped);
    ok = false;
  }
  if (RunVerify(o, data) != 0) ok = false;
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
  app.add_option("--kill-min-s", o.kill_min_s, "shortest time between two kills")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--kill-max-s", o.kill_max_s, "longest time between two kills")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--data", o.data, "gridd's data directory, kept (default: a temporary one)");
  app.add_option("--log", o.log, "the acknowledgement log, kept (default: in the temporary directory)");
  app.add_option("--verify-cmd", o.verify_cmd,
                 "run on the data directory after the final stop ({} is replaced by it, else it is appended); "
                 "a non-zero exit fails the run");
  app.add_option("--check-log", o.check_log, "check --data against this log from an earlier run, and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
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
  return Run(o);
}
