// Metrics: gridd's figures in a prometheus-cpp Registry, rendered as the
// Prometheus text exposition for /metrics (HttpServerOptions::metrics_text).
// docs/observability.md lists every metric and what it means.
//
// Two kinds of figures:
//   - counted as things happen (calls, writer batches, synced writes,
//     escalations, HTTP answers): prometheus-cpp counters and histograms are
//     atomics, so counting takes no lock. The per-RPC children of the grid.v1
//     methods are made once, at construction, and found through a map that
//     never changes after; a refusal's reason and an HTTP endpoint take the
//     family's lock to find their child (rare, or low rates).
//   - read at scrape time from their owners (the writer's queue, the
//     due-time index, the feed hub, RocksDB's properties, the directory):
//     the server fills a Snapshot and Text() sets the gauges from it.
//
// Thread-safety: every method may be called from any thread; Text() is
// serialised by its own mutex (it turns cumulative figures into counter
// increments).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "grid/v1/case.pb.h"
#include "port/mutex.h"
#include "services/feed_hub.h"
#include "storage/store.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace grid::services {

class Metrics {
 public:
  // What is read from the server's parts at scrape time.
  struct Snapshot {
    size_t writer_queued = 0;
    size_t deadlines_pending = 0;
    uint64_t deadlines_fired = 0;  // since start
    FeedStats feed;
    storage::StoreFigures store;
    bool read_only = false;
    uint64_t directory_version = 0;
    size_t directory_units = 0;
  };

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished RPC: its path ("/grid.v1.CaseIntake/SubmitCase"), final
  // code, reason (grid-reason; empty when none) and duration.
  void CountCall(std::string_view method, grpc::StatusCode code, std::string_view reason, double seconds);
  // The case writer took a batch of `items`.
  void ObserveBatch(size_t items);
  // A synced RocksDB write took `seconds`.
  void ObserveSyncedWrite(double seconds);
  // Committed feed entries: ESCALATED events counted by the level escalated to.
  void CountFeed(const std::vector<grid::v1::FeedEntry>& entries);
  // One HTTP answer.
  void CountHttp(const std::string& method, const std::string& path, int status);

  // The text exposition, with the gauges set from `snapshot`.
  std::string Text(const Snapshot& snapshot) ABSL_LOCKS_EXCLUDED(scrape_mu_);

  // The rpc label of a method path: the grid.v1 method's name, or "other".
  static std::string_view RpcLabel(std::string_view method);

 private:
  struct Rpc {
    prometheus::Counter* ok = nullptr;
    prometheus::Histogram* latency = nullptr;
  };
  const Rpc& RpcOf(std::string_view method) const;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* refusals_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Family<prometheus::Counter>* escalations_;
  prometheus::Family<prometheus::Counter>* http_;
  std::unordered_map<std::string, Rpc> rpcs_;  // by method path; fixed after construction
  Rpc other_;
  prometheus::Histogram* batch_;
  prometheus::Histogram* synced_write_;
  prometheus::Counter* fired_;
  prometheus::Counter* feed_published_;
  prometheus::Counter* feed_overflows_;
  prometheus::Counter* feed_trimmed_;
  struct Gauges;
  std::unique_ptr<Gauges> gauges_;
  Mutex scrape_mu_;
};

}  // namespace grid::services
