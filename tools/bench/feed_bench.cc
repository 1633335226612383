// feed_bench: EscalationFeed fan-out and replay through real gRPC streams.
//
//   feed_bench --mode fanout --subscribers 1000 --rate 100000 --duration-s 20 [--warmup-s 3]
//   feed_bench --mode replay --events 2000000 [--scope-share 1] [--compact]
//
// Both run an in-process GridServer (RocksDB in a temp directory, writes not
// fsynced) on 127.0.0.1:0 with a synthetic directory: one county and one town
// per subscriber. Events are synthetic FeedEntries that skip the case writer
// so that two shared cores can generate them: the publisher commits each
// batch to the feed column family (Store::Commit, as the writer does) and
// then hands it to the hub (FeedHub::Publish, as the writer's completion
// thread does), so subscribers that fall behind replay from real storage.
//
// fanout: --subscribers Watch streams (callback API, no thread per stream,
// spread over 8 channels) in a child process, so that the server's CPU and the
// subscribers' are measured apart; subscriber i watches town i. The publisher emits
// --rate escalations per second in 1 ms batches, round-robin over the towns,
// so every event goes to exactly one subscriber. Delivery latency is from
// just before the commit (event.at, wall clock) to the client's read, over
// the events published after the warm-up. CPU per event is split three
// ways: the publisher's building and committing (what the case writer does
// anyway), the rest of the server process (Publish, dispatch, gRPC writes:
// the fan-out proper), and the subscribers' process.
//
// replay: --events stored entries, then one Watch from cursor 0 over the
// whole county (--scope-share 1) or one town of --scope-share towns, timing
// until the stream reaches the last cursor.
//
// Loopback only; it stops by itself.
#include <absl/synchronization/notification.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "services/server.h"

namespace {

namespace v1 = grid::v1;
using SteadyClock = std::chrono::steady_clock;

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string TownCode(size_t i) {
  std::string digits = std::to_string(i + 1);
  return "900" + std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
}

v1::DirectoryContent Synthetic(size_t towns) {
  v1::DirectoryContent c;
  auto* county = c.add_units();
  county->set_code("900");
  county->set_level(v1::UNIT_LEVEL_COUNTY);
  county->set_name("基准县");
  for (size_t i = 0; i < towns; ++i) {
    auto* u = c.add_units();
    u->set_code(TownCode(i));
    u->set_level(v1::UNIT_LEVEL_TOWN);
    u->set_name("基准镇" + std::to_string(i + 1));
    u->set_parent_code("900");
  }
  return c;
}

// Fills *e as the case writer's entry for an automatic escalation of a case in
// town. Reusing the same message keeps its strings' storage, so the publisher
// spends its CPU on committing and publishing rather than on allocation.
void FillEntry(v1::FeedEntry* e, uint64_t cursor, size_t town) {
  e->set_cursor(cursor);
  e->set_escalation(true);
  if (e->unit_path_size() != 2) {
    e->clear_unit_path();
    e->add_unit_path("900");
    e->add_unit_path();
  }
  *e->mutable_unit_path(1) = TownCode(town);
  auto* ev = e->mutable_event();
  ev->set_case_id(std::to_string(1795819623114000 + cursor));
  ev->set_seq(3);
  ev->set_type(v1::EVENT_TYPE_ESCALATED);
  ev->set_actor("system");
  ev->set_actor_role("system");
  ev->set_from_unit(e->unit_path(1));
  ev->set_to_unit("900");
  ev->set_automatic(true);
  ev->set_note("受理超时，自动上报");
  const int64_t now = WallMicros();
  ev->mutable_at()->set_seconds(now / 1'000'000);
  ev->mutable_at()->set_nanos(static_cast<int32_t>(now % 1'000'000) * 1000);
}

// Latency histogram: 10 µs buckets up to 2 s.
class Histogram {
 public:
  Histogram() : buckets_(200'001) {}
  void Add(int64_t micros) {
    size_t b = static_cast<size_t>(std::clamp<int64_t>(micros / 10, 0, 200'000));
    buckets_[b].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t count() const { return count_.load(); }
  double Percentile(double p) const {
    const uint64_t total = count_.load();
    if (total == 0) return 0;
    const uint64_t want = static_cast<uint64_t>(p * static_cast<double>(total));
    uint64_t seen = 0;
    for (size_t b = 0; b < buckets_.size(); ++b) {
      seen += buckets_[b].load(std::memory_order_relaxed);
      if (seen > want) return (static_cast<double>(b) * 10 + 5) / 1000.0;  // ms
    }
    return static_cast<double>(buckets_.size()) * 10 / 1000.0;
  }

 private:
  std::vector<std::atomic<uint64_t>> buckets_;
  std::atomic<uint64_t> count_{0};
};

// CPU seconds this process has used (all threads: server, publisher and clients).
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Shared {
  Histogram latency;
  std::atomic<int64_t> measure_from{INT64_MAX};  // event.at from which latency counts
  std::atomic<uint64_t> received{0};
  std::atomic<int> ended{0};
};

// A Watch stream read as raw bytes (gRPC's generic stub) and parsed into an
// arena that is reset after each message, as a client that keeps up with
// hundreds of thousands of entries a second would: parsing into a plain
// message allocates and frees every string of every entry. The stream is
// opened as bidi, which on the wire is the same as server streaming (one
// request, then the client half-closes).
class RawWatch final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  using Handler = std::function<bool(const v1::WatchResponse&)>;  // false: stop reading
  RawWatch(grpc::GenericStub* stub, const v1::WatchRequest& req, Handler on_message, std::function<void()> on_done)
      : on_message_(std::move(on_message)), on_done_(std::move(on_done)) {
    std::string bytes = req.SerializeAsString();
    grpc::Slice slice(bytes);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub->PrepareBidiStreamingCall(&ctx_, "/grid.v1.EscalationFeed/Watch", grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&in_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows
    bool more = false;
    {
      auto* msg = google::protobuf::Arena::CreateMessage<v1::WatchResponse>(&arena_);
      grpc::ProtoBufferReader reader(&in_);
      more = msg->ParseFromZeroCopyStream(&reader) && on_message_(*msg);
    }
    in_.Clear();
    arena_.Reset();
    if (more) {
      StartRead(&in_);
    } else {
      ctx_.TryCancel();
    }
  }
  void OnDone(const grpc::Status&) override { on_done_(); }
  void Cancel() { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_, in_;
  google::protobuf::Arena arena_;
  Handler on_message_;
  std::function<void()> on_done_;
};

size_t g_dispatch_threads = grid::services::FeedOptions{}.dispatch_threads;  // --dispatch-threads

std::unique_ptr<grid::services::GridServer> StartServer(const std::string& dir, size_t towns, const grid::Clock* clock,
                                                        size_t buffer) {
  grid::services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = dir;
  config.sync = false;
  config.feed.subscriber_buffer = buffer;
  config.feed.max_subscribers = 100000;
  config.feed.dispatch_threads = g_dispatch_threads;
  auto s = grid::services::GridServer::Start(config, clock, Synthetic(towns));
  if (!s.ok()) {
    std::fprintf(stderr, "feed_bench: %s\n", s.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(s).value();
}

std::vector<std::shared_ptr<grpc::Channel>> Channels(int port, int n) {
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("grid.bench.channel", i);  // distinct args: distinct connections
    args.SetMaxReceiveMessageSize(64 << 20);
    out.push_back(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
  }
  return out;
}

// The subscribers' side of fanout, in a child process forked before any gRPC
// use, so that the server's CPU and the clients' are counted apart. Talks to
// the parent through two pipes, one line per message:
//   parent → child: "port N", then "measure WALL_MICROS", then "end PUBLISHED"
//   child → parent: "ready", then "result RECEIVED P50 P99 P999 CPU_SECONDS"
class Pipe {
 public:
  Pipe(int in, int out) : in_(fdopen(in, "r")), out_(fdopen(out, "w")) {}
  ~Pipe() {
    std::fclose(in_);
    std::fclose(out_);
  }
  void Send(const std::string& line) {
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }
  // The next line, or "" at end of file.
  std::string Receive() {
    char buf[256];
    if (std::fgets(buf, sizeof buf, in_) == nullptr) return "";
    std::string line(buf);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

 private:
  FILE* in_;
  FILE* out_;
};

int RunClients(Pipe* pipe, size_t subscribers) {
  int port = 0;
  if (std::sscanf(pipe->Receive().c_str(), "port %d", &port) != 1) return 1;
  auto channels = Channels(port, 8);
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (auto& c : channels) stubs.push_back(std::make_unique<grpc::GenericStub>(c));
  Shared shared;
  std::vector<std::unique_ptr<RawWatch>> subs;
  for (size_t i = 0; i < subscribers; ++i) {
    v1::WatchRequest req;
    req.set_scope_unit_code(TownCode(i));
    req.set_from_latest(true);
    auto on_message = [&shared](const v1::WatchResponse& msg) {
      const int64_t now = WallMicros();
      const int64_t from = shared.measure_from.load(std::memory_order_relaxed);
      for (const auto& e : msg.entries()) {
        const int64_t at = e.event().at().seconds() * 1'000'000 + e.event().at().nanos() / 1000;
        if (at >= from) shared.latency.Add(now - at);
      }
      shared.received.fetch_add(static_cast<uint64_t>(msg.entries_size()), std::memory_order_relaxed);
      return true;
    };
    subs.push_back(std::make_unique<RawWatch>(stubs[i % stubs.size()].get(), req, on_message,
                                              [&shared] { shared.ended.fetch_add(1); }));
  }
  pipe->Send("ready");
  long long measure_from = 0;
  if (std::sscanf(pipe->Receive().c_str(), "measure %lld", &measure_from) != 1) return 1;
  shared.measure_from = measure_from;
  const double cpu_start = CpuSeconds();
  unsigned long long published = 0;
  if (std::sscanf(pipe->Receive().c_str(), "end %llu", &published) != 1) return 1;
  const double cpu = CpuSeconds() - cpu_start;  // the measured window only
  const auto drain_until = SteadyClock::now() + std::chrono::seconds(10);
  while (shared.received.load() < published && SteadyClock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  char line[256];
  std::snprintf(line, sizeof line, "result %llu %.3f %.3f %.3f %.4f",
                static_cast<unsigned long long>(shared.received.load()), shared.latency.Percentile(0.5),
                shared.latency.Percentile(0.99), shared.latency.Percentile(0.999), cpu);
  pipe->Send(line);
  for (auto& s : subs) s->Cancel();
  const auto cancel_until = SteadyClock::now() + std::chrono::seconds(10);
  while (shared.ended.load() < static_cast<int>(subs.size()) && SteadyClock::now() < cancel_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

// CPU seconds the calling thread has used.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Forks the client process (before any gRPC use in this one); the child runs
// body with its end of the pipes and exits. Returns the child's pid and the
// parent's end.
std::optional<std::pair<pid_t, std::unique_ptr<Pipe>>> ForkClient(const std::function<int(Pipe*)>& body) {
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
    std::perror("pipe");
    return std::nullopt;
  }
  const pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return std::nullopt;
  }
  if (child == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    int rc = 0;
    {
      Pipe pipe(to_child[0], to_parent[1]);
      rc = body(&pipe);
    }
    std::_Exit(rc);
  }
  close(to_child[0]);
  close(to_parent[1]);
  return std::make_pair(child, std::make_unique<Pipe>(to_parent[0], to_child[1]));
}

int Fanout(size_t subscribers, double rate, double warmup_s, double duration_s, size_t buffer) {
  auto forked = ForkClient([subscribers](Pipe* pipe) { return RunClients(pipe, subscribers); });
  if (!forked) return 1;
  const pid_t child = forked->first;
  Pipe& pipe = *forked->second;

  const std::string dir = std::filesystem::temp_directory_path() / ("feed_bench_" + std::to_string(getpid()));
  grid::services::SystemClock clock;
  auto server = StartServer(dir, subscribers, &clock, buffer);
  auto* hub = server->feed();
  const auto t_connect = SteadyClock::now();
  pipe.Send("port " + std::to_string(server->port()));
  if (pipe.Receive() != "ready") {
    std::fprintf(stderr, "feed_bench: the client process failed\n");
    return 1;
  }
  while (hub->stats().subscribers < subscribers) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::printf("connected %zu subscribers (another process) in %.2f s\n", subscribers,
              std::chrono::duration<double>(SteadyClock::now() - t_connect).count());

  uint64_t cursor = *server->store()->LastFeedCursor();
  size_t town = 0;
  uint64_t published = 0;
  const auto start = SteadyClock::now();
  const auto measure_at = start + std::chrono::microseconds(static_cast<int64_t>(warmup_s * 1e6));
  const auto end = measure_at + std::chrono::microseconds(static_cast<int64_t>(duration_s * 1e6));
  uint64_t published_at_measure = 0;
  bool measuring = false;
  double cpu_at_measure = 0, writer_cpu = 0, publish_cpu = 0;
  std::vector<v1::FeedEntry> batch;
  auto next = start;
  while (true) {
    const auto now = SteadyClock::now();
    if (now >= end) break;
    if (!measuring && now >= measure_at) {
      measuring = true;
      cpu_at_measure = CpuSeconds();
      pipe.Send("measure " + std::to_string(WallMicros()));
      published_at_measure = published;
    }
    // Publish what the rate says is due by now (1 ms ticks).
    const double elapsed = std::chrono::duration<double>(now - start).count();
    const uint64_t due = static_cast<uint64_t>(elapsed * rate);
    const double t0 = ThreadCpuSeconds();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(due > published ? due - published : 0, 5000));
    batch.resize(n);  // keeps the first entries' storage from the last batch
    for (auto& e : batch) {
      FillEntry(&e, ++cursor, town);
      town = (town + 1) % subscribers;
    }
    if (!batch.empty()) {
      if (!server->store()->Commit({}, batch).ok()) {
        std::fprintf(stderr, "feed_bench: commit failed\n");
        return 1;
      }
      const double t1 = ThreadCpuSeconds();
      hub->Publish(batch);
      const double t2 = ThreadCpuSeconds();
      if (measuring) {
        writer_cpu += t1 - t0;
        publish_cpu += t2 - t1;
      }
      published += batch.size();
    }
    next += std::chrono::milliseconds(1);
    if (next > SteadyClock::now()) std::this_thread::sleep_until(next);
  }
  const double window = std::chrono::duration<double>(SteadyClock::now() - measure_at).count();
  const uint64_t measured_published = published - published_at_measure;
  const double server_cpu = CpuSeconds() - cpu_at_measure;
  pipe.Send("end " + std::to_string(published));
  unsigned long long received = 0;
  double p50 = 0, p99 = 0, p999 = 0, client_cpu = 0;
  const std::string result = pipe.Receive();
  if (std::sscanf(result.c_str(), "result %llu %lf %lf %lf %lf", &received, &p50, &p99, &p999, &client_cpu) != 5) {
    std::fprintf(stderr, "feed_bench: no result from the client process (%s)\n", result.c_str());
    return 1;
  }
  const auto stats = hub->stats();
  const double n = measured_published > 0 ? static_cast<double>(measured_published) : 1.0;
  // Per event: the "writer" (building and committing entries, which the case
  // writer does anyway), the fan-out (Publish, dispatch, gRPC writes: the
  // server process minus the writer) and the subscribers' process.
  std::printf(
      "fanout subscribers=%zu target_rate=%.0f/s published=%.0f/s (window %.1f s) delivered=%llu/%llu "
      "latency_ms p50=%.2f p99=%.2f p999=%.2f max_buffered=%llu overflows=%llu "
      "server_cpu=%.2f cores clients_cpu=%.2f cores; us per event: writer %.1f fanout %.1f (publish %.1f) "
      "clients %.1f\n",
      subscribers, rate, static_cast<double>(measured_published) / window, window, received,
      static_cast<unsigned long long>(published), p50, p99, p999, static_cast<unsigned long long>(stats.max_buffered),
      static_cast<unsigned long long>(stats.overflows), server_cpu / window, client_cpu / window, writer_cpu * 1e6 / n,
      (server_cpu - writer_cpu) * 1e6 / n, publish_cpu * 1e6 / n, client_cpu * 1e6 / n);
  int status = 0;
  waitpid(child, &status, 0);
  server->Shutdown();
  server.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

// The replay's client, in the child process: one Watch from cursor 0 over
// scope until the stream reaches cursor `events`.
//   parent → child: "port N"; child → parent: "result RECEIVED SECONDS CPU_SECONDS"
int ReplayClient(Pipe* pipe, uint64_t events, const std::string& scope) {
  int port = 0;
  if (std::sscanf(pipe->Receive().c_str(), "port %d", &port) != 1) return 1;
  grpc::GenericStub stub(Channels(port, 1)[0]);
  v1::WatchRequest req;
  req.set_scope_unit_code(scope);
  req.set_from_cursor(0);
  absl::Notification done;
  uint64_t received = 0, last = 0;
  const auto start = SteadyClock::now();
  const double cpu_start = CpuSeconds();
  {
    RawWatch watch(
        &stub, req,
        [&](const v1::WatchResponse& msg) {
          received += static_cast<uint64_t>(msg.entries_size());
          last = msg.cursor();
          return last < events;
        },
        [&] { done.Notify(); });
    done.WaitForNotification();
  }
  const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  char line[256];
  std::snprintf(line, sizeof line, "result %llu %llu %.6f %.6f", static_cast<unsigned long long>(received),
                static_cast<unsigned long long>(last), secs, cpu);
  pipe->Send(line);
  return 0;
}

int Replay(uint64_t events, size_t towns, bool compact) {
  const std::string scope = towns == 1 ? "900" : TownCode(0);
  auto forked = ForkClient([events, scope](Pipe* pipe) { return ReplayClient(pipe, events, scope); });
  if (!forked) return 1;
  Pipe& pipe = *forked->second;
  const std::string dir = std::filesystem::temp_directory_path() / ("feed_bench_" + std::to_string(getpid()));
  grid::services::SystemClock clock;
  auto server = StartServer(dir, towns, &clock, 4096);
  uint64_t cursor = *server->store()->LastFeedCursor();
  std::vector<v1::FeedEntry> batch;
  size_t town = 0;
  const auto t_fill = SteadyClock::now();
  while (cursor < events) {
    batch.resize(static_cast<size_t>(std::min<uint64_t>(events - cursor, 10000)));
    for (auto& e : batch) {
      FillEntry(&e, ++cursor, town);
      town = (town + 1) % towns;
    }
    if (!server->store()->Commit({}, batch).ok()) return 1;
    server->feed()->Publish(batch);
  }
  std::printf("stored %llu entries in %.2f s\n", static_cast<unsigned long long>(events),
              std::chrono::duration<double>(SteadyClock::now() - t_fill).count());
  if (compact) {
    // An old cursor's entries were written long ago: compacted, not in the
    // memtable and L0 files a fresh fill leaves (whose compaction would run
    // during the timed replay).
    const auto t_compact = SteadyClock::now();
    if (!server->store()->CompactAll().ok()) return 1;
    std::printf("compacted in %.2f s\n", std::chrono::duration<double>(SteadyClock::now() - t_compact).count());
  }
  const double cpu_start = CpuSeconds();
  pipe.Send("port " + std::to_string(server->port()));
  const std::string result = pipe.Receive();
  const double server_cpu = CpuSeconds() - cpu_start;
  unsigned long long received = 0, last = 0;
  double secs = 0, client_cpu = 0;
  if (std::sscanf(result.c_str(), "result %llu %llu %lf %lf", &received, &last, &secs, &client_cpu) != 4 ||
      last < events) {
    std::fprintf(stderr, "feed_bench: the replay did not finish (%s)\n", result.c_str());
    return 1;
  }
  const double n = static_cast<double>(events);
  std::printf(
      "replay scope=%s stored=%llu received=%llu in %.2f s: %.0f stored entries/s scanned, %.0f sent/s; "
      "server_cpu=%.2f cores client_cpu=%.2f cores; us per stored entry: server %.2f client %.2f\n",
      scope.c_str(), static_cast<unsigned long long>(events), received, secs, n / secs,
      static_cast<double>(received) / secs, server_cpu / secs, client_cpu / secs, server_cpu * 1e6 / n,
      client_cpu * 1e6 / n);
  int status = 0;
  waitpid(forked->first, &status, 0);
  server->Shutdown();
  server.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"feed_bench: EscalationFeed fan-out and replay"};
  std::string mode = "fanout";
  size_t subscribers = 1000, buffer = 4096, scope_share = 1;
  double rate = 100000, warmup_s = 3, duration_s = 20;
  uint64_t events = 2'000'000;
  bool compact = false;
  app.add_option("--mode", mode, "fanout or replay")->check(CLI::IsMember({"fanout", "replay"}));
  app.add_option("--subscribers", subscribers, "streams (fanout)")->check(CLI::Range(1, 100000));
  app.add_option("--rate", rate, "events per second in total (fanout)")->check(CLI::Range(1.0, 1e7));
  app.add_option("--warmup-s", warmup_s, "seconds before measuring")->check(CLI::Range(0.0, 600.0));
  app.add_option("--duration-s", duration_s, "seconds measured")->check(CLI::Range(0.1, 600.0));
  app.add_option("--buffer", buffer, "entries buffered per subscriber")->check(CLI::Range(1, 1 << 20));
  app.add_option("--events", events, "stored entries (replay)")->check(CLI::Range(1, 100000000));
  app.add_option("--scope-share", scope_share, "replay one town of this many (1: the whole county)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--dispatch-threads", g_dispatch_threads, "the hub's threads that start subscribers' writes")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_flag("--compact", compact, "replay: compact the stored feed before timing (entries written long ago)");
  CLI11_PARSE(app, argc, argv);
  return mode == "fanout" ? Fanout(subscribers, rate, warmup_s, duration_s, buffer)
                          : Replay(events, scope_share, compact);
}
