// submit_load: a closed-loop load generator for CaseIntake.SubmitCase.
//
//   submit_load --server 127.0.0.1:PORT --concurrency 64 --duration-s 20
//               [--warmup-s 3] [--seed 1] [--token T] [--json]
//               [--points FILE [--category CODE]]
//               [--tls-ca CA.pem [--cert CLIENT.pem --key CLIENT.key]]
//
// Keeps exactly --concurrency calls in flight on one channel, with gRPC's
// callback API: there is no thread per caller; gRPC's own completion threads
// finish each call and start that caller's next one. Every call submits a new
// case: a unique idempotency key (this run's nonce + a sequence number), a
// pseudo-random point inside kDemoCountyExtent (a fixed function of --seed
// and the sequence number), category "sanitation.garbage", channel phone and
// a short Chinese description. With --points, each call instead takes one
// point of FILE (lines "lat,lng"; the n-th call the point at a fixed
// function of --seed and n, as pgbench's random() picks a row), with
// --category: the same workload as a peer database fed the same points.
//
// Latency is from starting the call to its completion; the server answers
// only once the case is committed (fsynced unless gridd runs with
// --unsafe-no-sync). Calls that complete during the warm-up are not counted;
// throughput and latency are over the calls that complete in the measured
// window [warm-up end, warm-up end + duration]. Errors are counted by status
// code over the whole run. After the window no new call starts and the calls
// in flight are awaited (each has a deadline), so the tool stops by itself.
//
// Loopback only: a server that is not localhost, 127.x.x.x or ::1 is refused.
//
// Exit codes: 0 when calls succeeded in the window (errors are reported, not
// fatal), 1 when the server cannot be reached or nothing succeeded, 2 on bad
// flags.
#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "grid/v1/service.grpc.pb.h"
#include "port/mutex.h"
#include "tools/bench/bench_figures.h"
#include "tools/demo/demo_directory.h"
#include "tools/tls_client.h"

namespace {

using grid::bench::JsonEscape;
using grid::bench::PercentileMs;

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string server;
  size_t concurrency = 1;
  double duration_s = 10;
  double warmup_s = 2;
  uint64_t seed = 1;
  double call_timeout_s = 30;
  std::string token;
  bool json = false;
  grid::tools::ClientTls tls;
  std::string points_file;
  std::string category = "sanitation.garbage";
};

struct Point {
  double lat, lng;
};

// Reads "lat,lng" lines (blank lines and lines starting with '#' skipped).
// False, with the line in `error`, at the first line that is not two numbers
// in range.
bool ReadPoints(const std::string& path, std::vector<Point>* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    Point p{};
    char comma = 0;
    std::istringstream fields(line);
    if (!(fields >> p.lat >> comma >> p.lng) || comma != ',' || p.lat < -90 || p.lat > 90 || p.lng < -180 ||
        p.lng > 180) {
      *error = path + ":" + std::to_string(n) + ": not \"lat,lng\": " + line.substr(0, 80);
      return false;
    }
    out->push_back(p);
  }
  if (out->empty()) *error = path + ": no points";
  return !out->empty();
}

// A well-mixed 64-bit hash (splitmix64's finaliser).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from a hash.
double Unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

bool IsLoopback(const std::string& server) {
  std::string host;
  if (!server.empty() && server.front() == '[') {
    host = server.substr(1, server.find(']') - 1);
  } else {
    host = server.substr(0, server.rfind(':'));
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

constexpr const char* kDescriptions[] = {
    "小区门口垃圾桶满溢，已两天未清运", "路边堆放建筑垃圾，影响通行", "菜市场后巷垃圾无人清理，气味很大",
    "公交站旁垃圾散落，请尽快处理",     "村道边有人乱倒生活垃圾",     "垃圾分类亭损坏，垃圾堆在地上",
};

// Figures for one run.
struct Results {
  std::vector<int64_t> latencies_ns;       // calls that succeeded in the window
  uint64_t not_by_location = 0;            // of those, cases not routed by location
  std::map<int, uint64_t> errors;          // status code -> count, whole run
  std::map<int, std::string> first_error;  // status code -> first message seen
  uint64_t started = 0;
};

// Drives `concurrency` callers, each with one call in flight at a time.
class Load {
 public:
  Load(grid::v1::CaseIntake::Stub* stub, const Options& options, std::vector<Point> points, std::string run_id,
       SteadyClock::time_point start)
      : stub_(stub),
        options_(options),
        points_(std::move(points)),
        run_id_(std::move(run_id)),
        measure_from_(start + ToDuration(options.warmup_s)),
        stop_at_(measure_from_ + ToDuration(options.duration_s)),
        callers_(options.concurrency),
        active_(options.concurrency) {}

  void Start() {
    for (size_t i = 0; i < callers_.size(); ++i) Issue(i);
  }

  // True once every caller has stopped; false when `deadline` passed first.
  bool WaitDone(SteadyClock::time_point deadline) ABSL_LOCKS_EXCLUDED(mu_) {
    grid::MutexLock lock(&mu_);
    while (active_ != 0) {
      if (cv_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) return active_ == 0;
    }
    return true;
  }

  SteadyClock::time_point stop_at() const { return stop_at_; }

  // REQUIRES: WaitDone returned true.
  Results Collect() ABSL_LOCKS_EXCLUDED(mu_) {
    Results r;
    for (auto& c : callers_) {
      r.latencies_ns.insert(r.latencies_ns.end(), c.latencies_ns.begin(), c.latencies_ns.end());
      r.not_by_location += c.not_by_location;
      for (const auto& [code, n] : c.errors) r.errors[code] += n;
    }
    {
      grid::MutexLock lock(&mu_);
      r.first_error = first_error_;
    }
    r.started = next_seq_.load();
    return r;
  }

 private:
  // One call's state; owned by the completion callback, which frees it.
  struct Call {
    grpc::ClientContext context;
    grid::v1::SubmitCaseRequest request;
    grid::v1::SubmitCaseResponse response;
    SteadyClock::time_point sent;
  };

  // Per caller; touched only by that caller's completion callbacks, which
  // run one after another (each call starts in the previous one's callback).
  struct Caller {
    std::vector<int64_t> latencies_ns;
    uint64_t not_by_location = 0;
    std::map<int, uint64_t> errors;
  };

  static SteadyClock::duration ToDuration(double seconds) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
  }

  void Fill(uint64_t seq, grid::v1::SubmitCaseRequest* r) const {
    const grid::DemoExtent& e = grid::kDemoCountyExtent;
    const uint64_t h = Mix(options_.seed ^ Mix(seq));
    // Keep 1e-6 degree off the extent's outer edges.
    double lat = e.south + 1e-6 + Unit(Mix(h ^ 1)) * (e.north - e.south - 2e-6);
    double lng = e.west + 1e-6 + Unit(Mix(h ^ 2)) * (e.east - e.west - 2e-6);
    if (!points_.empty()) {
      const Point& p = points_[Mix(h ^ 4) % points_.size()];
      lat = p.lat;
      lng = p.lng;
    }
    r->set_idempotency_key(run_id_ + "-" + std::to_string(seq));
    r->set_channel(grid::v1::CHANNEL_PHONE);
    r->set_category(options_.category);
    r->set_description(kDescriptions[h % std::size(kDescriptions)]);
    r->mutable_location()->set_lat(lat);
    r->mutable_location()->set_lng(lng);
    r->mutable_citizen()->set_name("王女士");
    r->mutable_citizen()->set_phone("138" + std::to_string(10000000 + Mix(h ^ 3) % 90000000));
    r->set_priority(grid::v1::PRIORITY_NORMAL);
  }

  void Issue(size_t caller) {
    auto* call = new Call;
    Fill(next_seq_.fetch_add(1), &call->request);
    call->context.set_deadline(std::chrono::system_clock::now() + ToDuration(options_.call_timeout_s));
    if (!options_.token.empty()) call->context.AddMetadata("authorization", "Bearer " + options_.token);
    call->sent = SteadyClock::now();
    stub_->async()->SubmitCase(&call->context, &call->request, &call->response,
                               [this, caller, call](grpc::Status status) { OnDone(caller, call, status); });
  }

  void OnDone(size_t caller, Call* call, const grpc::Status& status) {
    const auto now = SteadyClock::now();
    Caller& c = callers_[caller];
    if (!status.ok()) {
      ++c.errors[status.error_code()];
      grid::MutexLock lock(&mu_);
      first_error_.emplace(status.error_code(), status.error_message());
    } else if (now >= measure_from_ && now <= stop_at_) {
      c.latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->sent).count());
      if (call->response.case_().routing().method() != grid::v1::ROUTING_METHOD_LOCATION) ++c.not_by_location;
    }
    delete call;
    if (now < stop_at_) {
      Issue(caller);
      return;
    }
    grid::MutexLock lock(&mu_);
    if (--active_ == 0) cv_.SignalAll();
  }

  grid::v1::CaseIntake::Stub* const stub_;
  const Options options_;
  const std::vector<Point> points_;  // empty: points in the demo county
  const std::string run_id_;
  const SteadyClock::time_point measure_from_;
  const SteadyClock::time_point stop_at_;
  std::vector<Caller> callers_;
  std::atomic<uint64_t> next_seq_{0};

  grid::Mutex mu_;
  grid::CondVar cv_;  // signalled when active_ reaches 0
  size_t active_ ABSL_GUARDED_BY(mu_);
  std::map<int, std::string> first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"submit_load: closed-loop SubmitCase load against a local gridd"};
  app.add_option("--server", o.server, "gridd address, host:port (loopback only)")->required();
  app.add_option("--concurrency", o.concurrency, "calls kept in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--duration-s", o.duration_s, "measured seconds, after the warm-up")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup-s", o.warmup_s, "seconds of load before measuring")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--seed", o.seed, "seed for the submitted points")->capture_default_str();
  app.add_option("--call-timeout-s", o.call_timeout_s, "deadline of each call")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--token", o.token, "bearer token (gridd with --tokens); none for an open server");
  app.add_flag("--json", o.json, "print one JSON object instead of text");
  app.add_option("--tls-ca", o.tls.ca, "TLS: the PEM CA of gridd's certificate");
  app.add_option("--cert", o.tls.cert, "mutual TLS: this client's PEM certificate");
  app.add_option("--key", o.tls.key, "mutual TLS: the PEM private key of --cert");
  app.add_option("--points", o.points_file, "submit these points (lines \"lat,lng\") instead of the demo county's");
  app.add_option("--category", o.category, "category of every case")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!IsLoopback(o.server)) {
    std::cerr << "submit_load: " << o.server << " is not a loopback address; refusing\n";
    return 2;
  }
  std::vector<Point> points;
  if (!o.points_file.empty()) {
    std::string error;
    if (!ReadPoints(o.points_file, &points, &error)) {
      std::cerr << "submit_load: --points: " << error << "\n";
      return 2;
    }
  }

  std::string tls_error;
  auto credentials = grid::tools::ChannelCredentialsFor(o.tls, &tls_error);
  if (credentials == nullptr) {
    std::cerr << "submit_load: " << tls_error << "\n";
    return 2;
  }
  auto channel = grpc::CreateChannel(o.server, credentials);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::cerr << "submit_load: cannot connect to " << o.server << "\n";
    return 1;
  }
  auto stub = grid::v1::CaseIntake::NewStub(channel);

  // Unique per run, so repeated runs against one server create new cases
  // instead of hitting stored idempotency keys.
  const uint64_t nonce = Mix(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                             (static_cast<uint64_t>(getpid()) << 32));
  std::ostringstream run_id;
  run_id << "bench-" << o.seed << "-" << std::hex << (nonce & 0xffffffffffffULL);

  Load load(stub.get(), o, std::move(points), run_id.str(), SteadyClock::now());
  load.Start();
  const auto give_up = load.stop_at() + std::chrono::duration_cast<SteadyClock::duration>(
                                            std::chrono::duration<double>(o.call_timeout_s + 10));
  if (!load.WaitDone(give_up)) {
    // Calls are still referenced by gRPC; leave without destroying them.
    std::cerr << "submit_load: calls still in flight long after their deadline; giving up\n";
    std::fflush(nullptr);
    std::_Exit(1);
  }
  Results r = load.Collect();
  std::sort(r.latencies_ns.begin(), r.latencies_ns.end());

  const size_t ok = r.latencies_ns.size();
  uint64_t errors = 0;
  for (const auto& [code, n] : r.errors) errors += n;
  double sum_ns = 0;
  for (int64_t v : r.latencies_ns) sum_ns += static_cast<double>(v);
  const double rate = static_cast<double>(ok) / o.duration_s;
  const double mean_ms = ok == 0 ? 0 : sum_ns / static_cast<double>(ok) / 1e6;
  const double p50 = PercentileMs(r.latencies_ns, 0.50), p90 = PercentileMs(r.latencies_ns, 0.90),
               p99 = PercentileMs(r.latencies_ns, 0.99), p999 = PercentileMs(r.latencies_ns, 0.999),
               max = ok == 0 ? 0 : static_cast<double>(r.latencies_ns.back()) / 1e6;

  if (o.json) {
    std::printf(
        "{\"concurrency\": %zu, \"duration_s\": %.3f, \"warmup_s\": %.3f, \"seed\": %llu, \"ok\": %zu, "
        "\"cases_per_s\": %.1f, \"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"p999_ms\": %.3f, \"max_ms\": %.3f, \"not_routed_by_location\": %llu, \"calls_started\": %llu, "
        "\"errors\": %llu, \"errors_by_code\": {",
        o.concurrency, o.duration_s, o.warmup_s, static_cast<unsigned long long>(o.seed), ok, rate, mean_ms, p50, p90,
        p99, p999, max, static_cast<unsigned long long>(r.not_by_location), static_cast<unsigned long long>(r.started),
        static_cast<unsigned long long>(errors));
    bool first = true;
    for (const auto& [code, n] : r.errors) {
      std::printf("%s\"%d\": {\"count\": %llu, \"first_message\": \"%s\"}", first ? "" : ", ", code,
                  static_cast<unsigned long long>(n), JsonEscape(r.first_error[code]).c_str());
      first = false;
    }
    std::printf("}}\n");
  } else {
    std::printf("submit_load: %zu callers, %.1f s measured after %.1f s warm-up, server %s\n", o.concurrency,
                o.duration_s, o.warmup_s, o.server.c_str());
    std::printf("  cases/s  %.1f  (%zu succeeded in the window; %llu not routed by location)\n", rate, ok,
                static_cast<unsigned long long>(r.not_by_location));
    std::printf("  latency  mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n", mean_ms, p50, p90, p99,
                p999, max);
    std::printf("  errors   %llu\n", static_cast<unsigned long long>(errors));
    for (const auto& [code, n] : r.errors) {
      std::printf("    code %d: %llu (first: %s)\n", code, static_cast<unsigned long long>(n),
                  r.first_error[code].c_str());
    }
  }
  return ok > 0 ? 0 : 1;
}
