// Metrics (see metrics.h): the families, their children for the grid.v1
// methods, and the scrape.
#include "services/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "engine/policy.h"
#include "engine/reasons.h"
#include "services/open311.h"

namespace grid::services {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Call durations: 0.5 ms to 10 s.
const Histogram::BucketBoundaries& LatencyBuckets() {
  static const Histogram::BucketBoundaries b{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

// Synced writes: 50 µs to 2.5 s.
const Histogram::BucketBoundaries& WriteBuckets() {
  static const Histogram::BucketBoundaries b{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,    0.025,  0.05,    0.1,    0.25,  1,      2.5};
  return b;
}

// Writer batches: 1 to 512 items (the default max_batch), powers of two.
const Histogram::BucketBoundaries& BatchBuckets() {
  static const Histogram::BucketBoundaries b{1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  return b;
}

const char* LevelName(grid::v1::UnitLevel level) {
  switch (level) {
    case grid::v1::UNIT_LEVEL_PROVINCE: return "province";
    case grid::v1::UNIT_LEVEL_CITY: return "city";
    case grid::v1::UNIT_LEVEL_COUNTY: return "county";
    case grid::v1::UNIT_LEVEL_TOWN: return "town";
    case grid::v1::UNIT_LEVEL_COMMUNITY: return "community";
    case grid::v1::UNIT_LEVEL_GRID: return "grid";
    default: return "unspecified";
  }
}

// The endpoint label of an HTTP path: the built-in endpoints, the Open311
// ones, or "unknown" (a bounded set, whatever clients send).
std::string EndpointOf(const std::string& path) {
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return path.substr(1);
  // Routed as a GET (which every endpoint takes): a method the endpoint
  // refuses is still counted as that endpoint's.
  constexpr std::string_view kGet = "GET";
  auto route = open311::ParseRoute(kGet, path);
  if (!route.ok()) return "unknown";
  switch (route->endpoint) {
    case open311::Endpoint::kDiscovery: return "open311_discovery";
    case open311::Endpoint::kServices: return "open311_services";
    case open311::Endpoint::kServiceDefinition: return "open311_service_definition";
    case open311::Endpoint::kRequests: return "open311_requests";
    case open311::Endpoint::kRequest: return "open311_request";
  }
  return "unknown";
}

std::string MethodLabel(const std::string& method) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == m) return method;
  }
  return method.empty() ? "none" : "other";
}

}  // namespace

struct Metrics::Gauges {
  prometheus::Gauge* writer_queued;
  prometheus::Gauge* deadlines_pending;
  prometheus::Gauge* feed_subscribers;
  prometheus::Gauge* feed_buffered;
  prometheus::Gauge* memtable;
  prometheus::Gauge* pending_compaction;
  prometheus::Gauge* live_sst;
  prometheus::Gauge* running_compactions;
  prometheus::Gauge* running_flushes;
  prometheus::Gauge* delayed_write_rate;
  prometheus::Gauge* write_stopped;
  prometheus::Gauge* read_only;
  prometheus::Gauge* directory_version;
  prometheus::Gauge* directory_units;
};

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()), gauges_(std::make_unique<Gauges>()) {
  auto& r = *registry_;
  requests_ = &BuildCounter()
                   .Name("grid_rpc_requests_total")
                   .Help("gRPC calls finished, by method (rpc) and status code")
                   .Register(r);
  refusals_ = &BuildCounter()
                   .Name("grid_rpc_refusals_total")
                   .Help("gRPC calls refused with a grid-reason, by method and reason")
                   .Register(r);
  latency_ = &BuildHistogram()
                  .Name("grid_rpc_duration_seconds")
                  .Help("gRPC call duration from its start to its status, by method (Watch: the stream's life)")
                  .Register(r);
  escalations_ = &BuildCounter()
                      .Name("grid_escalations_total")
                      .Help("ESCALATED events committed, by the level escalated to and automatic (deadline) or not")
                      .Register(r);
  http_ = &BuildCounter()
               .Name("grid_http_requests_total")
               .Help("HTTP answers, by endpoint, method and status code")
               .Register(r);
  for (const policy::PolicyRow& row : policy::kPolicy) {
    const std::string path = "/grid.v1." + std::string(row.service) + "/" + std::string(row.method);
    const std::string name(row.method);
    Rpc rpc;
    rpc.ok = &requests_->Add({{"rpc", name}, {"code", "OK"}});
    rpc.latency = &latency_->Add({{"rpc", name}}, LatencyBuckets());
    rpcs_.emplace(path, rpc);
  }
  other_.ok = &requests_->Add({{"rpc", "other"}, {"code", "OK"}});
  other_.latency = &latency_->Add({{"rpc", "other"}}, LatencyBuckets());
  batch_ = &BuildHistogram()
                .Name("grid_case_writer_batch_items")
                .Help("Items (submissions, commands, fired deadlines) per case writer batch: one synced commit each")
                .Register(r)
                .Add({}, BatchBuckets());
  synced_write_ = &BuildHistogram()
                       .Name("grid_store_synced_write_seconds")
                       .Help("Duration of each synced RocksDB write (WAL append and fsync)")
                       .Register(r)
                       .Add({}, WriteBuckets());
  fired_ = &BuildCounter()
                .Name("grid_deadlines_fired_total")
                .Help("Deadlines fired since start (each one a committed FireDeadline)")
                .Register(r)
                .Add({});
  feed_published_ = &BuildCounter()
                         .Name("grid_feed_published_entries_total")
                         .Help("Feed entries published to the live subscribers since start")
                         .Register(r)
                         .Add({});
  feed_overflows_ = &BuildCounter()
                         .Name("grid_feed_overflows_total")
                         .Help(
                             "Times a slow subscriber's buffer overflowed: its live entries were dropped and it "
                             "caught up by replaying from storage")
                         .Register(r)
                         .Add({});
  feed_trimmed_ = &BuildCounter()
                       .Name("grid_feed_trimmed_entries_total")
                       .Help("Feed entries deleted by retention since start")
                       .Register(r)
                       .Add({});
  auto gauge = [&r](const char* name, const char* help) {
    return &BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  Gauges& g = *gauges_;
  g.writer_queued = gauge("grid_case_writer_queue_depth", "Items waiting in the case writer's queues");
  g.deadlines_pending = gauge("grid_deadlines_pending", "Timers in the due-time index, not yet fired");
  g.feed_subscribers = gauge("grid_feed_subscribers", "EscalationFeed.Watch subscribers now");
  g.feed_buffered = gauge("grid_feed_buffered_entries", "Live feed entries held in subscribers' buffers now");
  g.memtable = gauge("grid_rocksdb_memtable_bytes", "RocksDB memtables, every column family (cur-size-all-mem-tables)");
  g.pending_compaction = gauge("grid_rocksdb_pending_compaction_bytes",
                               "RocksDB's estimate of the bytes compaction has to rewrite (estimate-pending-"
                               "compaction-bytes)");
  g.live_sst = gauge("grid_rocksdb_live_sst_bytes", "RocksDB table files in use (live-sst-files-size)");
  g.running_compactions = gauge("grid_rocksdb_running_compactions", "RocksDB compactions running now");
  g.running_flushes = gauge("grid_rocksdb_running_flushes", "RocksDB memtable flushes running now");
  g.delayed_write_rate = gauge("grid_rocksdb_delayed_write_rate_bytes_per_second",
                               "RocksDB's write rate while it delays writes (actual-delayed-write-rate); 0: not "
                               "delayed");
  g.write_stopped = gauge("grid_rocksdb_write_stopped", "1 while RocksDB stops writes (is-write-stopped)");
  g.read_only = gauge("grid_store_read_only", "1 while the store refuses writes after a failure or on a low disk");
  g.directory_version = gauge("grid_directory_version", "The directory version serving now");
  g.directory_units = gauge("grid_directory_units", "Units in the directory serving now");
}

Metrics::~Metrics() = default;

std::string_view Metrics::RpcLabel(std::string_view method) {
  constexpr std::string_view kPrefix = "/grid.v1.";
  if (!method.starts_with(kPrefix)) return "other";
  const size_t slash = method.rfind('/');
  for (const policy::PolicyRow& row : policy::kPolicy) {
    if (method.substr(slash + 1) == row.method &&
        method.substr(kPrefix.size(), slash - kPrefix.size()) == row.service) {
      return row.method;
    }
  }
  return "other";
}

const Metrics::Rpc& Metrics::RpcOf(std::string_view method) const {
  auto it = rpcs_.find(std::string(method));
  return it == rpcs_.end() ? other_ : it->second;
}

void Metrics::CountCall(std::string_view method, grpc::StatusCode code, std::string_view reason, double seconds) {
  const Rpc& rpc = RpcOf(method);
  rpc.latency->Observe(seconds);
  if (code == grpc::StatusCode::OK) {
    rpc.ok->Increment();
    return;
  }
  const std::string name(RpcLabel(method));
  requests_->Add({{"rpc", name}, {"code", std::string(StatusCodeName(static_cast<StatusCode>(code)))}}).Increment();
  if (!reason.empty()) refusals_->Add({{"rpc", name}, {"reason", std::string(reason)}}).Increment();
}

void Metrics::ObserveBatch(size_t items) { batch_->Observe(static_cast<double>(items)); }

void Metrics::ObserveSyncedWrite(double seconds) { synced_write_->Observe(seconds); }

void Metrics::CountFeed(const std::vector<grid::v1::FeedEntry>& entries) {
  for (const auto& e : entries) {
    if (e.event().type() != grid::v1::EVENT_TYPE_ESCALATED) continue;
    escalations_
        ->Add({{"level", LevelName(e.event().to_level())}, {"automatic", e.event().automatic() ? "true" : "false"}})
        .Increment();
  }
}

void Metrics::CountHttp(const std::string& method, const std::string& path, int status) {
  http_->Add({{"endpoint", EndpointOf(path)}, {"method", MethodLabel(method)}, {"code", std::to_string(status)}})
      .Increment();
}

std::string Metrics::Text(const Snapshot& s) {
  MutexLock lock(&scrape_mu_);
  // Cumulative figures kept by their owners become counter increments.
  auto catch_up = [](prometheus::Counter* c, uint64_t total) {
    const double now = c->Value();
    if (static_cast<double>(total) > now) c->Increment(static_cast<double>(total) - now);
  };
  catch_up(fired_, s.deadlines_fired);
  catch_up(feed_published_, s.feed.published);
  catch_up(feed_overflows_, s.feed.overflows);
  catch_up(feed_trimmed_, s.feed.trimmed);
  Gauges& g = *gauges_;
  g.writer_queued->Set(static_cast<double>(s.writer_queued));
  g.deadlines_pending->Set(static_cast<double>(s.deadlines_pending));
  g.feed_subscribers->Set(static_cast<double>(s.feed.subscribers));
  g.feed_buffered->Set(static_cast<double>(s.feed.buffered));
  g.memtable->Set(static_cast<double>(s.store.memtable_bytes));
  g.pending_compaction->Set(static_cast<double>(s.store.pending_compaction_bytes));
  g.live_sst->Set(static_cast<double>(s.store.live_sst_bytes));
  g.running_compactions->Set(static_cast<double>(s.store.running_compactions));
  g.running_flushes->Set(static_cast<double>(s.store.running_flushes));
  g.delayed_write_rate->Set(static_cast<double>(s.store.actual_delayed_write_rate));
  g.write_stopped->Set(s.store.write_stopped ? 1 : 0);
  g.read_only->Set(s.read_only ? 1 : 0);
  g.directory_version->Set(static_cast<double>(s.directory_version));
  g.directory_units->Set(static_cast<double>(s.directory_units));
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace grid::services
