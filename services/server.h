// GridServer: opens the store, loads the directory, starts the intake writer
// and the executor, and serves the grid.v1 services with gRPC health checking
// and server reflection.
//
// Thread-safety: Start, Shutdown and Wait may be called from different
// threads; Shutdown is idempotent.
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "engine/calendar.h"
#include "engine/clock.h"
#include "engine/deadline.h"
#include "engine/file_access.h"
#include "engine/lifecycle.h"
#include "engine/router.h"
#include "port/mutex.h"
#include "services/call_observer.h"
#include "services/case_intake_service.h"
#include "services/case_query_service.h"
#include "services/case_work_service.h"
#include "services/dashboard_gateway.h"
#include "services/deadline_scheduler.h"
#include "services/directory_service.h"
#include "services/feed_hub.h"
#include "services/feed_service.h"
#include "services/http_server.h"
#include "services/logging.h"
#include "services/metrics.h"
#include "services/open311_gateway.h"
#include "services/operations_service.h"
#include "storage/posix_files.h"

namespace grid::services {

// The saved grid index and unit table, in the data directory (see
// DirectoryManager).
inline constexpr const char* kGridIndexFile = "grid-index.bin";
inline constexpr const char* kUnitTableFile = "unit-table.bin";

struct ServerConfig {
  std::string listen = "127.0.0.1:50051";  // host:port; port 0 picks a free one
  std::string data_dir;
  std::string tokens_file;               // empty: open mode (no authentication; loopback only)
  bool allow_shared_token_file = false;  // else a token file readable by group/others is refused
  AuthLimits auth_limits;                // rates, failed-authentication lock-out, Watch streams
  // TLS (docs/security.md "Transport"): with tls_cert and tls_key the server
  // speaks TLS only; with tls_client_ca too, clients must present a
  // certificate signed by that CA (mutual TLS). The files are checked and
  // copied into tls_dir (default <data_dir>/tls), which gRPC watches every
  // tls_refresh_seconds; ReloadTls copies them again.
  std::string tls_cert, tls_key, tls_client_ca;
  std::string tls_dir;
  unsigned tls_refresh_seconds = 1;
  size_t executor_threads = 4;
  size_t executor_queue = 4096;
  size_t intake_queue = 8192;
  size_t intake_max_batch = 512;
  size_t intake_max_timer_share = 64;       // fired deadlines per batch while callers wait
  int max_receive_bytes = 8 * 1024 * 1024;  // gRPC's per-message limit
  bool sync = true;                         // fsync the WAL on every write
  uint64_t max_log_bytes = 32ull << 20;     // unflushed log replayed after a crash (storage::StoreOptions)
  uint64_t min_free_bytes = 64ull << 20;  // writes refused (DISK_LOW) below this much free disk (storage::StoreOptions)
  uint64_t block_cache_bytes = 256ull << 20;  // RocksDB block cache shared by every column family
  RouterOptions router;
  DeadlinePolicy deadline_policy = DeadlinePolicy::Defaults();
  WorkingCalendar calendar;  // default: weekdays 08:30-12:00, 14:30-18:00, no holidays
  LifecycleOptions lifecycle;
  DeadlineScheduler::Options scheduler;
  FeedOptions feed;  // EscalationFeed: buffers, heartbeats, retention
  // While the store is read-only after a failed write (docs/operations.md),
  // how often to try to take writes again.
  std::chrono::milliseconds store_resume_interval{1000};
  // Under the store and the side files: null for the machine's own. Tests
  // give a FaultFileSystem and its FaultFiles (storage/fault_file_system.h).
  std::shared_ptr<rocksdb::FileSystem> file_system;
  FileAccess* side_files = nullptr;
  // Open311 GeoReport v2, /healthz, /readyz and /metrics over HTTP on a port
  // of their own (docs/open311.md); http.listen empty: off. ready and
  // render_error are the server's own when left unset, and so are
  // metrics_text (Metrics) and observe (HTTP answers counted).
  HttpServerOptions http;
  // The dashboard's built web app, served on the HTTP port beside its API
  // (docs/dashboard.md); empty: the API only.
  std::string web_root;
  // The access log of every call (call_observer.h); null: none.
  std::shared_ptr<Log> log;
  // A shard leader's replicated log (storage/replication.h): every write
  // goes to it before the store; null on a single node.
  std::shared_ptr<storage::BatchLog> batch_log;
};

class GridServer {
 public:
  // `initial` becomes the directory when the store holds none yet (nullopt: start empty).
  // REQUIRES: clock outlives the server.
  static StatusOr<std::unique_ptr<GridServer>> Start(const ServerConfig& config, const Clock* clock,
                                                     const std::optional<grid::v1::DirectoryContent>& initial);
  ~GridServer();

  int port() const { return port_; }
  // The HTTP port (ServerConfig::http), 0 when off.
  int http_port() const { return http_ ? http_->port() : 0; }
  uint64_t directory_version() const { return directory_.Get()->version(); }
  storage::Store* store() const { return store_.get(); }

  // Fires every deadline due at the clock's now and returns once they are
  // committed (the number fired). The scheduler does this by itself on the
  // wall clock; tests with a FakeClock call it after advancing time.
  size_t FireDueDeadlines() { return scheduler_->RunDueNow(); }
  // Deadlines fired since start (by the timer or FireDueDeadlines).
  uint64_t deadlines_fired() const { return scheduler_->fired(); }

  // How the grid index was obtained at start (loaded from its file, or
  // rebuilt and why), and the last failure to save it.
  RestoreReport index_report() const { return directory_manager_->restore_report(); }
  std::string index_save_error() const { return directory_manager_->last_index_save_error(); }

  // The Prometheus text exposition of the server's figures (/metrics).
  std::string MetricsText();

  // The feed hub behind EscalationFeed.Watch (heartbeats, retention, stats).
  FeedHub* feed() const { return feed_.get(); }

  // Whether the write services (CaseIntake, CaseWork) serve: false while the
  // store is read-only after a failed write. WaitWritable waits (up to
  // `timeout`) until the state is `writable`; false on timeout.
  bool writable() const ABSL_LOCKS_EXCLUDED(health_mu_);
  bool WaitWritable(bool writable, std::chrono::milliseconds timeout) const ABSL_LOCKS_EXCLUDED(health_mu_);

  // Reads the token file again (Authenticator::ReloadFile); on error the old
  // tokens stay.
  Status ReloadTokens() { return auth_.ReloadFile(); }
  // Checks the TLS files again and, when they are good, puts them where gRPC
  // picks them up within tls_refresh_seconds; connections in flight keep
  // theirs. TLS_FILE_INVALID (and the old ones stay) when they are not. OK
  // and nothing done without TLS.
  Status ReloadTls() const;
  bool tls() const { return !config_.tls_cert.empty(); }

  // Stops accepting calls, finishes those in flight, completes queued
  // writes, closes the store.
  void Shutdown();
  void Wait();

 private:
  GridServer() = default;
  // The store's write state changed: health status of the write services,
  // and the resumer woken.
  void OnWriteState(const Status& state) ABSL_LOCKS_EXCLUDED(health_mu_);
  // While the store is read-only, tries Store::Resume every interval.
  void RunResumer(std::chrono::milliseconds interval) ABSL_LOCKS_EXCLUDED(health_mu_);
  // Starts the Open311 gateway and the HTTP server. REQUIRES: server_ serves.
  Status StartHttp(const Clock* clock);

  ServerConfig config_;  // as started (tls_dir filled in)
  // Before everything that counts into them: they outlive the store, the
  // writer and the gRPC server.
  Metrics metrics_;
  CallNotes notes_;
  std::unique_ptr<storage::Store> store_;
  storage::PosixFiles files_;  // the saved grid index and unit table
  DirectoryHandle directory_;
  std::unique_ptr<DirectoryManager> directory_manager_;
  Authenticator auth_;
  AssigneeLoad load_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Lifecycle> lifecycle_;
  std::unique_ptr<FeedHub> feed_;  // outlives the writer that publishes to it
  std::unique_ptr<CaseWriter> intake_;
  std::unique_ptr<DeadlineScheduler> scheduler_;
  std::unique_ptr<BoundedExecutor> executor_;
  ServiceDeps deps_;
  std::unique_ptr<CaseIntakeService> intake_service_;
  std::unique_ptr<CaseQueryService> query_service_;
  std::unique_ptr<DirectoryService> directory_service_;
  std::unique_ptr<CaseWorkService> work_service_;
  std::unique_ptr<FeedService> feed_service_;
  std::unique_ptr<OperationsService> operations_service_;
  std::unique_ptr<grpc::Server> server_;
  // After server_: its channel goes first; http_ is destroyed before the
  // gateway its handler calls.
  std::unique_ptr<Open311Gateway> gateway_;
  std::unique_ptr<DashboardGateway> dashboard_;
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
  std::once_flag shutdown_once_;

  mutable Mutex health_mu_;
  mutable CondVar health_cv_;  // signalled when read_only_ or stopping_ changes
  grpc::HealthCheckServiceInterface* health_ ABSL_GUARDED_BY(health_mu_) = nullptr;
  bool read_only_ ABSL_GUARDED_BY(health_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(health_mu_) = false;
  std::thread resumer_;
};

// The wall clock, for the server binary.
class SystemClock final : public Clock {
 public:
  Micros NowMicros() const override;
};

}  // namespace grid::services
