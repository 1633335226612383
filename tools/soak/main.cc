// soak: one gridd under a fixed rate of traffic for a long time, watched for
// memory growth, errors and latency, minute by minute (issue #15, point 7).
//
//   soak [--gridd build/tools/gridd] [--rate 2000] [--duration-s 1800] [--subscribers 100]
//        [--accept-min 2] [--resolve-min 10] [--settle-s 900] [--warmup-s 1200] [--tail-s 300]
//        [--out DIR]
//
// gridd runs as one child process for the whole run (127.0.0.1 port 0, a
// fresh data directory, fsynced as in production) with a deadline policy of
// --accept-min minutes to accept and --resolve-min to resolve, so deadlines
// fall due and escalate cases during the run. The traffic (traffic.h) submits
// cases at --rate per second, open loop, and works them with CaseWork; a
// case its plan leaves open is cancelled --settle-s seconds after it was
// submitted, so that open cases (and the server's memory for them) level off
// once the run is --settle-s plus a few minutes old, and the warm-up should
// last past that;
// --subscribers Watch streams (watchers.h) read the feed of the county and its
// towns the whole time. Every --sample-s seconds gridd's RSS (VmRSS) and CPU
// time are read from /proc; every --interval-s seconds one row goes to
// DIR/soak.csv: calls sent and acknowledged, errors, latency percentiles of
// submissions and of case work, RSS, CPU seconds, feed entries delivered and
// deadline escalations. DIR/soak.json holds the summary and the verdict:
//
//   - no error: every call answered OK, none dropped, no stream ended early;
//   - every subscriber received exactly the entries of its scope (a replay of
//     the scope from the store at the end, compared entry by entry);
//   - RSS: the highest sample of the last --tail-s seconds is at most
//     --max-rss-growth above the sample at the end of the warm-up (the first
//     --warmup-s seconds). Judged only when the run lasts at least
//     --warmup-s + --tail-s.
//
// Loopback only; the run stops by itself. Exit codes: 0 when the verdict
// holds, 1 when it does not (or gridd failed), 2 on bad flags.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/gridd_supervisor.h"
#include "tools/crashtest/rpc.h"
#include "tools/demo/demo_directory.h"
#include "tools/soak/traffic.h"
#include "tools/soak/watchers.h"

namespace {

namespace v1 = grid::v1;
namespace fs = std::filesystem;
using grid::soak::Traffic;
using grid::soak::TrafficFigures;
using grid::soak::WatcherResult;
using grid::soak::Watchers;
using grid::soak::WatcherSpec;
using json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string gridd = "build/tools/gridd";
  double rate = 2000;
  double duration_s = 1800;
  size_t subscribers = 100;
  size_t all_changes_every = 10;
  int accept_min = 2;
  int resolve_min = 10;
  double step_min_s = 1;
  double step_max_s = 10;
  double interval_s = 60;
  double sample_s = 2;
  double settle_s = 900;
  double warmup_s = 1200;
  double tail_s = 300;
  double max_rss_growth = 0.05;
  size_t channels = 4;
  size_t max_in_flight = 20000;
  uint64_t seed = 1;
  std::string out;
  std::string work_dir;
  bool keep = false;
  std::vector<std::string> gridd_args;
};

// gridd's resident memory and CPU time, from /proc.
struct ProcSample {
  double t = 0;  // seconds since the traffic started
  double rss_mib = 0;
  double cpu_s = 0;  // user + system
  bool ok = false;
};

ProcSample ReadProc(pid_t pid, double t) {
  ProcSample s;
  s.t = t;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rss_mib = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
      s.ok = true;
    }
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = all.rfind(')');  // the command name may hold spaces
  if (close != std::string::npos) {
    std::istringstream rest(all.substr(close + 2));
    std::string field;
    std::vector<std::string> fields;
    while (rest >> field) fields.push_back(field);
    // After the name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    if (fields.size() > 12) {
      const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
      s.cpu_s = (std::strtod(fields[11].c_str(), nullptr) + std::strtod(fields[12].c_str(), nullptr)) / tick;
    }
  }
  return s;
}

double PercentileMs(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t rank =
      std::clamp<size_t>(static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))), 1, v.size());
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
  return static_cast<double>(v[rank - 1]) / 1e6;
}

struct Latency {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  static Latency Of(std::vector<int64_t>& v) {
    Latency l;
    l.p50 = PercentileMs(v, 0.50);
    l.p90 = PercentileMs(v, 0.90);
    l.p99 = PercentileMs(v, 0.99);
    l.max = v.empty() ? 0 : static_cast<double>(*std::max_element(v.begin(), v.end())) / 1e6;
    return l;
  }
};

struct Row {
  int index = 0;
  double t_end = 0;  // seconds since the traffic started
  double length = 0;
  uint64_t submitted = 0, acknowledged = 0, work_sent = 0, work_ok = 0, errors = 0, dropped = 0;
  Latency submit, work;
  double rss_end_mib = 0, rss_max_mib = 0, cpu_s = 0;
  uint64_t feed_delivered = 0, deadline_escalations = 0, in_flight = 0;
};

const char* kCsvHeader =
    "interval,t_end_s,length_s,submitted,acknowledged,work_sent,work_ok,errors,dropped,"
    "submit_p50_ms,submit_p90_ms,submit_p99_ms,submit_max_ms,work_p50_ms,work_p90_ms,work_p99_ms,work_max_ms,"
    "rss_end_mib,rss_max_mib,gridd_cpu_s,feed_delivered,deadline_escalations,in_flight";

std::string CsvLine(const Row& r) {
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "%d,%.1f,%.1f,%llu,%llu,%llu,%llu,%llu,%llu,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.1f,%.1f,%.2f,%llu,"
      "%llu,%llu",
      r.index, r.t_end, r.length, static_cast<unsigned long long>(r.submitted),
      static_cast<unsigned long long>(r.acknowledged), static_cast<unsigned long long>(r.work_sent),
      static_cast<unsigned long long>(r.work_ok), static_cast<unsigned long long>(r.errors),
      static_cast<unsigned long long>(r.dropped), r.submit.p50, r.submit.p90, r.submit.p99, r.submit.max, r.work.p50,
      r.work.p90, r.work.p99, r.work.max, r.rss_end_mib, r.rss_max_mib, r.cpu_s,
      static_cast<unsigned long long>(r.feed_delivered), static_cast<unsigned long long>(r.deadline_escalations),
      static_cast<unsigned long long>(r.in_flight));
  return buf;
}

std::string PolicyFile(const std::string& dir, int accept_min, int resolve_min) {
  const std::string path = dir + "/policy.txt";
  std::ofstream(path) << "warn 0.8\nrule general * calendar " << accept_min << "m " << resolve_min << "m\n";
  return path;
}

// The county first, then its towns, round-robin; every n-th watches all changes.
std::vector<WatcherSpec> Specs(const std::shared_ptr<grpc::Channel>& channel, size_t count, size_t all_every) {
  std::vector<std::string> scopes = {std::string(grid::kDemoCountyCode)};
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + grid::crashtest::kCallTimeout);
  v1::GetUnitRequest req;
  req.set_code(std::string(grid::kDemoCountyCode));
  v1::GetUnitResponse resp;
  if (v1::Directory::NewStub(channel)->GetUnit(&ctx, req, &resp).ok()) {
    for (const auto& c : resp.children()) scopes.push_back(c.code());
  }
  std::vector<WatcherSpec> specs;
  for (size_t i = 0; i < count; ++i) {
    specs.push_back({scopes[i % scopes.size()], all_every != 0 && i % all_every == all_every - 1});
  }
  return specs;
}

std::string MakeWorkDir(const std::string& parent) {
  std::string tmpl = ((parent.empty() ? fs::temp_directory_path() : fs::path(parent)) / "soak-XXXXXX").string();
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
}

json LatencyJson(const Latency& l) {
  return {{"p50_ms", l.p50}, {"p90_ms", l.p90}, {"p99_ms", l.p99}, {"max_ms", l.max}};
}

int Run(const Options& o, const std::string& command) {
  const std::string work = MakeWorkDir(o.work_dir);
  if (work.empty()) {
    std::fprintf(stderr, "soak: cannot create a directory under %s\n", o.work_dir.c_str());
    return 1;
  }
  const std::string out = o.out.empty() ? work : o.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  std::ofstream csv(out + "/soak.csv");
  if (!csv) {
    std::fprintf(stderr, "soak: cannot write %s/soak.csv\n", out.c_str());
    return 2;
  }
  csv << kCsvHeader << "\n";

  std::vector<std::string> gridd_args = {"--deadline-policy", PolicyFile(work, o.accept_min, o.resolve_min),
                                         "--feed-retention-days", "0", "--feed-heartbeat-ms", "1000",
                                         // Every subscriber is the same open-mode caller: no per-caller cap.
                                         "--max-watch-per-token", "0"};
  gridd_args.insert(gridd_args.end(), o.gridd_args.begin(), o.gridd_args.end());
  grid::crashtest::GriddSupervisor gridd({o.gridd, work + "/data", work, gridd_args});
  std::string error;
  if (!gridd.Start(0, &error)) {
    std::fprintf(stderr, "soak: %s\n", error.c_str());
    return 1;
  }
  const pid_t pid = gridd.pid();
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::printf("soak: gridd pid %d, %.0f cases/s for %.0f s, %zu subscribers, deadlines %d m / %d m, work dir %s\n", pid,
              o.rate, o.duration_s, o.subscribers, o.accept_min, o.resolve_min, work.c_str());
  std::fflush(stdout);

  std::ifstream port_in(work + "/gridd.port");
  int port = 0;
  port_in >> port;
  for (size_t i = 0; i < o.channels + 1; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grid.soak_channel", static_cast<int>(i));  // its own connection
    channels.push_back(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
  }
  const auto watch_channel = channels.back();
  channels.pop_back();

  Watchers watchers(watch_channel, Specs(watch_channel, o.subscribers, o.all_changes_every));
  watchers.Start();
  const std::string nonce = std::to_string(
      grid::crashtest::Mix(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                           static_cast<uint64_t>(getpid())) %
      1000000);
  Traffic traffic(channels, {o.rate, o.seed, "soak" + std::to_string(o.seed) + "x" + nonce, o.step_min_s, o.step_max_s,
                             o.max_in_flight, std::chrono::seconds(30), o.settle_s});

  const auto start = SteadyClock::now();
  auto since = [&](SteadyClock::time_point t) { return std::chrono::duration<double>(t - start).count(); };
  auto at = [&](double s) {
    return start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  traffic.Start();

  std::vector<ProcSample> samples = {ReadProc(pid, 0)};
  std::vector<Row> rows;
  TrafficFigures total;
  std::vector<int64_t> all_submit, all_work;
  double last_row_t = 0, last_cpu = samples.back().cpu_s, interval_max_rss = samples.back().rss_mib;
  auto emit = [&](double t_end) {
    TrafficFigures f = traffic.TakeInterval();
    Row r;
    r.index = static_cast<int>(rows.size()) + 1;
    r.t_end = t_end;
    r.length = t_end - last_row_t;
    r.submitted = f.submitted;
    r.acknowledged = f.acknowledged;
    r.work_sent = f.work_sent;
    r.work_ok = f.work_ok;
    r.errors = f.error_count();
    r.dropped = f.dropped;
    r.submit = Latency::Of(f.submit_ns);
    r.work = Latency::Of(f.work_ns);
    const ProcSample s = ReadProc(pid, t_end);
    samples.push_back(s);
    r.rss_end_mib = s.rss_mib;
    r.rss_max_mib = std::max(interval_max_rss, s.rss_mib);
    r.cpu_s = s.cpu_s - last_cpu;
    r.feed_delivered = watchers.TakeDelivered();
    r.deadline_escalations = watchers.TakeDeadlineEscalations();
    r.in_flight = traffic.in_flight();
    csv << CsvLine(r) << "\n" << std::flush;
    std::printf(
        "  %3d  %6.0f s  sent %llu+%llu  ok %llu+%llu  errors %llu  submit p50 %.1f p99 %.1f ms  work p50 %.1f p99 "
        "%.1f ms  rss %.1f MiB  cpu %.1f s  feed %llu  deadline esc %llu\n",
        r.index, r.t_end, static_cast<unsigned long long>(r.submitted), static_cast<unsigned long long>(r.work_sent),
        static_cast<unsigned long long>(r.acknowledged), static_cast<unsigned long long>(r.work_ok),
        static_cast<unsigned long long>(r.errors), r.submit.p50, r.submit.p99, r.work.p50, r.work.p99, r.rss_end_mib,
        r.cpu_s, static_cast<unsigned long long>(r.feed_delivered),
        static_cast<unsigned long long>(r.deadline_escalations));
    std::fflush(stdout);
    total.submitted += f.submitted;
    total.acknowledged += f.acknowledged;
    total.work_sent += f.work_sent;
    total.work_ok += f.work_ok;
    total.dropped += f.dropped;
    for (const auto& [k, n] : f.errors) total.errors[k] += n;
    for (const auto& [k, n] : f.work_ok_by_op) total.work_ok_by_op[k] += n;
    all_submit.insert(all_submit.end(), f.submit_ns.begin(), f.submit_ns.end());
    all_work.insert(all_work.end(), f.work_ns.begin(), f.work_ns.end());
    rows.push_back(r);
    last_row_t = t_end;
    last_cpu = s.cpu_s;
    interval_max_rss = 0;
  };

  bool gridd_alive = true;
  double next_sample = o.sample_s, next_row = o.interval_s;
  while (true) {
    const double next = std::min({next_sample, next_row, o.duration_s});
    std::this_thread::sleep_until(at(next));
    if (kill(pid, 0) != 0) {
      gridd_alive = false;
      break;
    }
    if (next == o.duration_s) break;
    if (next == next_sample) {
      samples.push_back(ReadProc(pid, since(SteadyClock::now())));
      interval_max_rss = std::max(interval_max_rss, samples.back().rss_mib);
      next_sample += o.sample_s;
    }
    if (next == next_row) {
      emit(since(SteadyClock::now()));
      next_row += o.interval_s;
    }
  }
  traffic.StopSending();
  const bool idle = traffic.WaitIdle(SteadyClock::now() + std::chrono::seconds(60));
  emit(since(SteadyClock::now()));  // the rest, and the calls answered after the end
  const double run_s = since(SteadyClock::now());

  std::printf("soak: checking the subscribers against a replay of their scopes\n");
  std::fflush(stdout);
  std::vector<WatcherResult> watched;
  if (gridd_alive) watched = watchers.Finish(std::chrono::seconds(300));
  size_t matched = 0;
  uint64_t delivered_total = 0;
  for (const auto& r : rows) delivered_total += r.feed_delivered;
  for (const auto& w : watched) {
    if (w.matched) ++matched;
    if (!w.matched) {
      std::printf("  PROBLEM: subscriber of %s (%s): %s\n", w.spec.scope.c_str(),
                  w.spec.all_changes ? "all changes" : "escalations", w.problem.c_str());
    }
  }
  const int stopped = gridd.Stop();

  // The verdict.
  const uint64_t errors = total.error_count();
  const ProcSample* warm = nullptr;
  double tail_max = 0;
  for (const auto& s : samples) {
    if (s.ok && warm == nullptr && s.t >= o.warmup_s) warm = &s;
    if (s.ok && s.t >= o.duration_s - o.tail_s && s.t <= o.duration_s + 1e-9) tail_max = std::max(tail_max, s.rss_mib);
  }
  const bool rss_judged = o.duration_s >= o.warmup_s + o.tail_s && warm != nullptr && warm->rss_mib > 0;
  const double growth = rss_judged ? tail_max / warm->rss_mib - 1 : 0;
  const bool rss_ok = !rss_judged || growth <= o.max_rss_growth;
  const bool subscribers_ok = gridd_alive && matched == watched.size() && watched.size() == o.subscribers;
  const bool ok = gridd_alive && idle && errors == 0 && subscribers_ok && rss_ok && stopped == 0;

  double peak_rss = 0;
  for (const auto& s : samples) peak_rss = std::max(peak_rss, s.rss_mib);
  auto range = [&](auto field) {
    double lo = 1e300, hi = 0;
    for (const auto& r : rows) {
      if (r.length < o.interval_s * 0.5) continue;  // the short last one
      lo = std::min(lo, field(r));
      hi = std::max(hi, field(r));
    }
    return json::array({lo == 1e300 ? 0 : lo, hi});
  };
  json summary;
  summary["command"] = command;
  summary["rate_per_s"] = o.rate;
  summary["duration_s"] = o.duration_s;
  summary["run_s"] = run_s;
  summary["subscribers"] = o.subscribers;
  summary["deadline_policy"] = {{"accept_min", o.accept_min}, {"resolve_min", o.resolve_min}};
  summary["settle_s"] = o.settle_s;
  summary["submitted"] = total.submitted;
  summary["acknowledged"] = total.acknowledged;
  summary["acknowledged_per_s"] = static_cast<double>(total.acknowledged) / o.duration_s;
  summary["work_sent"] = total.work_sent;
  summary["work_ok"] = total.work_ok;
  summary["work_ok_by_op"] = total.work_ok_by_op;
  summary["errors"] = errors;
  summary["errors_by_kind"] = total.errors;
  summary["dropped"] = total.dropped;
  summary["submit_latency"] = LatencyJson(Latency::Of(all_submit));
  summary["work_latency"] = LatencyJson(Latency::Of(all_work));
  summary["per_interval_submit_p50_ms_range"] = range([](const Row& r) { return r.submit.p50; });
  summary["per_interval_submit_p99_ms_range"] = range([](const Row& r) { return r.submit.p99; });
  summary["per_interval_work_p50_ms_range"] = range([](const Row& r) { return r.work.p50; });
  summary["per_interval_work_p99_ms_range"] = range([](const Row& r) { return r.work.p99; });
  uint64_t deadline_escalations = 0;
  double cpu = 0;
  for (const auto& r : rows) {
    deadline_escalations += r.deadline_escalations;
    cpu += r.cpu_s;
  }
  summary["deadline_escalations"] = deadline_escalations;
  summary["feed_delivered"] = delivered_total;
  summary["gridd_cpu_s"] = cpu;
  summary["rss"] = {{"start_mib", samples.front().rss_mib},
                    {"warmup_s", o.warmup_s},
                    {"at_warmup_end_mib", warm != nullptr ? warm->rss_mib : 0},
                    {"tail_s", o.tail_s},
                    {"tail_max_mib", tail_max},
                    {"peak_mib", peak_rss},
                    {"growth", growth},
                    {"judged", rss_judged}};
  json subs = json::array();
  for (const auto& w : watched) {
    subs.push_back({{"scope", w.spec.scope},
                    {"all_changes", w.spec.all_changes},
                    {"received", w.received},
                    {"expected", w.expected},
                    {"checked_to_cursor", w.checked_to},
                    {"matched", w.matched}});
  }
  summary["subscriber_results"] = subs;
  summary["verdict"] = {
      {"no_errors", errors == 0 && idle},
      {"subscribers_saw_their_events", subscribers_ok},
      {"rss_growth_within", rss_judged ? json(rss_ok) : json("not judged: run shorter than warm-up + tail")},
      {"gridd_exit", stopped},
      {"ok", ok}};
  std::ofstream(out + "/soak.json") << summary.dump(2) << "\n";

  std::printf("soak: %.1f s at %.0f cases/s\n", run_s, o.rate);
  std::printf("  submitted      %llu, acknowledged %llu (%.1f/s)\n", static_cast<unsigned long long>(total.submitted),
              static_cast<unsigned long long>(total.acknowledged),
              static_cast<double>(total.acknowledged) / o.duration_s);
  std::printf("  case work      %llu sent, %llu acknowledged\n", static_cast<unsigned long long>(total.work_sent),
              static_cast<unsigned long long>(total.work_ok));
  std::printf("  errors         %llu\n", static_cast<unsigned long long>(errors));
  for (const auto& [k, n] : total.errors)
    std::printf("  error          %s: %llu\n", k.c_str(), static_cast<unsigned long long>(n));
  if (total.dropped != 0) std::printf("  dropped        %llu\n", static_cast<unsigned long long>(total.dropped));
  std::printf("  deadlines      %llu escalations fired by deadlines\n",
              static_cast<unsigned long long>(deadline_escalations));
  std::printf("  subscribers    %zu of %zu saw exactly the entries of their scope; %llu entries delivered\n", matched,
              o.subscribers, static_cast<unsigned long long>(delivered_total));
  if (rss_judged) {
    std::printf(
        "  rss            %.1f MiB at %.0f s (warm-up end), max %.1f MiB in the last %.0f s: %+.2f%% (limit %.0f%%)\n",
        warm->rss_mib, warm->t, tail_max, o.tail_s, growth * 100, o.max_rss_growth * 100);
  } else {
    std::printf("  rss            not judged (run shorter than warm-up + tail); peak %.1f MiB\n", peak_rss);
  }
  std::printf("  gridd          exited %d on SIGTERM\n", stopped);
  std::printf("  output         %s/soak.csv, %s/soak.json\n", out.c_str(), out.c_str());
  std::printf("soak: %s\n", ok ? "OK" : "FAILED");
  if (ok && !o.keep) {
    fs::remove_all(work + "/data", ec);
  } else {
    std::printf("  kept           %s (gridd.log, data)\n", work.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"soak: one gridd under a fixed rate for a long time: memory, errors, latency per minute"};
  app.add_option("--gridd", o.gridd, "the gridd binary")->capture_default_str();
  app.add_option("--rate", o.rate, "submissions per second (open loop)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1e6));
  app.add_option("--duration-s", o.duration_s, "seconds of traffic")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 7 * 86400.0));
  app.add_option("--subscribers", o.subscribers, "Watch streams (the county, then its towns in turn)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--all-changes-every", o.all_changes_every, "every n-th subscriber watches all changes (0: none)")
      ->capture_default_str();
  app.add_option("--accept-min", o.accept_min, "deadline policy: minutes to accept")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--resolve-min", o.resolve_min, "deadline policy: minutes to resolve")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--step-min-s", o.step_min_s, "least delay before a case-work step")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--step-max-s", o.step_max_s, "most delay before a case-work step")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--settle-s", o.settle_s,
                 "cancel each case its plan leaves open this long after submission, so that open cases level off "
                 "(0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--interval-s", o.interval_s, "seconds per row of figures")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--sample-s", o.sample_s, "seconds between RSS samples")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--warmup-s", o.warmup_s, "warm-up: RSS growth is measured from its end")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--tail-s", o.tail_s, "the window at the end whose highest RSS is compared")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  app.add_option("--max-rss-growth", o.max_rss_growth, "allowed RSS growth (0.05 = 5%)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--channels", o.channels, "gRPC connections for the calls")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--max-in-flight", o.max_in_flight, "calls in flight before more are dropped (and counted)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--seed", o.seed, "seed for the cases and their plans")->capture_default_str();
  app.add_option("--out", o.out, "directory for soak.csv and soak.json (default: the work dir)");
  app.add_option("--work-dir", o.work_dir,
                 "where the run's directory (data, gridd.log) is made (default: $TMPDIR or /tmp)");
  app.add_flag("--keep", o.keep, "keep the data directory after a run that passed");
  app.add_option("--gridd-arg", o.gridd_args, "one more argument for gridd (repeatable)")->allow_extra_args(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.step_max_s < o.step_min_s) {
    std::fprintf(stderr, "soak: --step-max-s is less than --step-min-s\n");
    return 2;
  }
  if (!fs::exists(o.gridd)) {
    std::fprintf(stderr, "soak: --gridd %s: no such file\n", o.gridd.c_str());
    return 2;
  }
  std::string command = "soak";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  return Run(o, command);
}
