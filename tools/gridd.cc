// gridd: the case routing server.
//
//   gridd --listen 127.0.0.1:50051 --data /var/lib/gridd [--tokens FILE]
//         [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--log-file FILE]
//         [--rate-limit ROLE=PER_SECOND[:BURST]]... [--max-auth-failures N]
//         [--auth-failure-window-s S] [--max-watch-per-token N]
//         [--no-demo] [--config gridd.toml] [--port-file FILE]
//         [--deadline-policy FILE] [--calendar FILE] [--ping-pong-limit N]
//         [--clock-offset-hours H] [--max-log-mb N] [--min-free-mb N]
//         [--block-cache-mb N] [--http-listen HOST:PORT [--http-threads N]
//         [--http-max-connections N] [--http-max-header-bytes N]
//         [--http-max-body-bytes N] [--http-idle-timeout-ms MS] [--web-root DIR]]
//         [--restore-from BACKUP_DIR [--backup-id N]] [--log-format text|json]
//   gridd --etcd HOST:PORT[,...] --replica NAME [--replicas A,B,C] [--shard S]
//         [--cluster-root PREFIX] [--advertise HOST:PORT] [--lease-ttl-s N] ...
//   gridd --verify --data DIR
//
// --restore-from restores a backup (gridctl backup create) into the data
// directory, which must be missing or empty, and then serves it; the side
// files (grid index, unit table) are rebuilt from the restored store.
//
// Deadlines: --deadline-policy (ParseDeadlinePolicy; default
// DeadlinePolicy::Defaults()) and --calendar (ParseWorkingCalendar; default the
// embedded data/calendar/cn-2026.txt). --clock-offset-hours is for drills and
// tests only: the server's clock runs that many hours ahead (or behind) of the
// wall clock, so a restart "3 hours later" fires the deadlines that fell due
// while it was down without anyone waiting for them.
//
// On a data directory that holds no directory yet, the directory comes from
// --divisions DIR or --directory FILE.json, else the demo (澄迈县) unless
// --no-demo is given. Every option can also come from --config FILE (TOML/INI). SIGINT and SIGTERM shut down
// gracefully: calls in flight finish, queued writes complete, the store closes.
// Exit codes: 0 after a clean shutdown, 1 on a start-up error (message on
// stderr), 2 on bad flags.
//
// Logs (docs/observability.md): from the start of the server on, every message
// and the access log line of every call go to stdout (--log-file: that file)
// through one logger, as text or, with --log-format json, one JSON object per
// line; gRPC's own messages too.
//
// Security (docs/security.md): without --tokens gridd runs open (every caller
// an admin) and then refuses any listen address but loopback. SIGHUP reopens
// --log-file, reads the token file again and reloads the TLS files; a bad
// file is reported and the old one stays.
//
// --etcd makes this gridd one replica of a shard (docs/replication.md):
// leader or follower as the shard's lease in etcd decides; a follower
// forwards every call on --listen (which must name its port) to the leader.
//
// --verify checks the store in --data read-only (storage/verify.h) and exits
// without serving or creating anything: 0 when it is clean (one summary line),
// 1 when it has disagreements (each printed, at most kVerifyLines of them, then
// the summary), 3 when there is no store to check (missing or empty
// directory, not a store of ours, unreadable).
#include <absl/synchronization/mutex.h>

#include <grpc/support/log.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "replica/replica_node.h"
#include "services/server.h"
#include "storage/backup.h"
#include "storage/verify.h"
#include "tools/calendar_data.h"
#include "tools/demo_data.h"
#include "tools/loaders.h"

namespace {

// The wall clock shifted by a fixed amount (--clock-offset-hours).
class OffsetClock final : public grid::Clock {
 public:
  OffsetClock(const grid::Clock* base, grid::Micros offset) : base_(base), offset_(offset) {}
  grid::Micros NowMicros() const override { return base_->NowMicros() + offset_; }

 private:
  const grid::Clock* const base_;
  const grid::Micros offset_;
};

constexpr size_t kVerifyLines = 50;  // disagreements --verify prints at most

constexpr double kMaxClockOffsetHours = 24.0 * 366 * 10;  // ten years: drills on past calendars too

// Reads and parses a policy or calendar file; on failure logs why and returns false.
template <typename T, typename Parse>
bool LoadDirectives(grid::services::Log& log, const std::string& flag, const std::string& file, Parse parse, T* out) {
  auto text = grid::tools::ReadFileMaybeGz(file);
  if (!text.ok()) {
    log.Error("gridd: " + flag + " " + file + ": " + text.status().ToString());
    return false;
  }
  auto parsed = parse(file, *text);
  if (!parsed.ok()) {
    log.Error("gridd: " + flag + ": " + parsed.status().ToString());
    return false;
  }
  *out = std::move(parsed).value();
  return true;
}

// Points stdout and stderr at `path` (appending); false when it cannot be
// opened, and then both stay as they are.
bool OpenLog(const std::string& path) {
  std::cout.flush();
  std::cerr.flush();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
  return true;
}

void LogOpenModeWarning(grid::services::Log& log, const std::string& listen) {
  log.Warn(
      "gridd: OPEN MODE: no --tokens, so there is NO AUTHENTICATION. Every caller is an admin, named by its "
      "x-grid-caller header. For development and demos only; gridd listens on loopback only (now " +
      listen + "). Production: --tokens FILE (docs/security.md).");
}

// gRPC's own messages, through the log (set by main before the server starts,
// cleared once the server is gone, before the log ends).
std::atomic<grid::services::Log*> grpc_log{nullptr};

void LogGrpc(gpr_log_func_args* args) {
  grid::services::Log* log = grpc_log.load();
  if (log == nullptr) return;
  const auto level = args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
                     : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                               : spdlog::level::debug;
  log->Write(level, std::string("grpc: ") + (args->message != nullptr ? args->message : ""),
             {{"source", std::string(args->file != nullptr ? args->file : "") + ":" + std::to_string(args->line)}});
}

}  // namespace

// gridd --etcd: one replica of a shard until SIGINT or SIGTERM.
int RunReplica(const grid::replica::ReplicaOptions& options, const grid::services::ServerConfig& config,
               const grid::Clock* clock, const std::optional<grid::v1::DirectoryContent>& initial,
               const std::string& port_file, const std::shared_ptr<grid::services::Log>& log,
               boost::asio::io_context& io, boost::asio::signal_set& signals) {
  auto node = grid::replica::ReplicaNode::Start(options, config, clock, initial);
  if (!node.ok()) {
    log->Error("gridd: cannot start the replica: " + node.status().ToString());
    return 1;
  }
  log->Info("gridd: replica " + options.replica + " of shard " + options.shard + " on " + config.listen + ", etcd " +
                std::to_string(options.etcd.size()) + " member(s)",
            {{"replica", options.replica}, {"shard", options.shard}});
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream out(tmp);
    out << config.listen.substr(config.listen.rfind(':') + 1) << "\n";
    out.close();
    std::rename(tmp.c_str(), port_file.c_str());
  }
  std::atomic<bool> stop{false};
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log->Info("gridd: signal " + std::to_string(signo) + ", stepping down and stopping");
    stop = true;
  });
  std::thread signal_thread([&io] { io.run(); });
  int code = 0;
  while (!stop) {
    if ((*node)->WaitRole(grid::replica::ReplicaNode::Role::kFailed, std::chrono::milliseconds(200))) {
      log->Error("gridd: the replica failed: " + (*node)->failure().ToString());
      code = 1;
      break;
    }
  }
  (*node)->Shutdown();
  io.stop();
  signal_thread.join();
  log->Info("gridd: stopped");
  return code;
}

int main(int argc, char** argv) {
  // Debian 12's Abseil is built without NDEBUG, so every absl::Mutex (gRPC's
  // own, several per call) keeps a deadlock-detection graph up to date on
  // each lock and each mutex's end: a few percent of gridd's CPU per call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grid::services::ServerConfig config;
  bool no_demo = false;
  std::string divisions_dir, directory_json;
  bool no_sync = false;
  double feed_retention_days = 30;
  int heartbeat_ms = 5000;
  std::string port_file;
  std::string policy_file, calendar_file;
  double clock_offset_hours = 0;
  std::string restore_from;
  uint32_t backup_id = 0;
  uint64_t max_log_mb = config.max_log_bytes >> 20;
  uint64_t min_free_mb = config.min_free_bytes >> 20;
  uint64_t block_cache_mb = config.block_cache_bytes >> 20;
  std::string log_file;
  std::vector<std::string> rate_limits;
  std::string log_format = "text";
  double failure_window_s = static_cast<double>(config.auth_limits.failure_window) / 1e6;

  CLI::App app{"gridd: grid-governance case routing server"};
  app.set_config("--config", "", "read these options from a TOML or INI file");
  app.add_option("--listen", config.listen, "address to listen on, host:port (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--data", config.data_dir, "data directory (created when missing)")->required();
  app.add_option("--tokens", config.tokens_file,
                 "token file: lines of '<token> <role> <scope|*> <caller-id>'; without it the server is open "
                 "(every caller is an admin: development only)");
  app.add_flag("--allow-shared-token-file", config.allow_shared_token_file,
               "accept a token file that group or others may read (refused by default)");
  auto* cert_opt = app.add_option("--tls-cert", config.tls_cert, "serve TLS with this PEM certificate (chain)")
                       ->check(CLI::ExistingFile);
  auto* key_opt =
      app.add_option("--tls-key", config.tls_key, "the PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cert_opt->needs(key_opt);
  key_opt->needs(cert_opt);
  app.add_option("--tls-client-ca", config.tls_client_ca,
                 "mutual TLS: require client certificates signed by this PEM CA (docs/security.md)")
      ->check(CLI::ExistingFile)
      ->needs(cert_opt);
  app.add_option("--log-file", log_file, "write stdout and stderr to this file (appending); SIGHUP reopens it");
  app.add_option("--log-format", log_format,
                 "text, or json: one JSON object per line (docs/observability.md lists the fields)")
      ->capture_default_str()
      ->check([](const std::string& s) -> std::string {
        grid::services::LogFormat f;
        return grid::services::ParseLogFormat(s, &f) ? "" : "must be text or json, not '" + s + "'";
      });
  app.add_option("--rate-limit", rate_limits,
                 "ROLE=PER_SECOND[:BURST]: calls per second per token of that role (repeat per role; default "
                 "unlimited)");
  app.add_option("--max-auth-failures", config.auth_limits.max_auth_failures,
                 "failed authentications per client address within the window before it is refused (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_option("--auth-failure-window-s", failure_window_s, "the window of --max-auth-failures, in seconds")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  app.add_option("--max-watch-per-token", config.auth_limits.max_watch_streams,
                 "concurrent EscalationFeed.Watch streams per token (0: no cap)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_flag("--no-demo", no_demo, "do not load the demo directory into an empty data directory");
  auto* div_opt = app.add_option("--divisions", divisions_dir,
                                 "load the national division files in this folder when the data directory holds "
                                 "no directory yet (instead of the demo)");
  app.add_option("--directory", directory_json,
                 "load this DirectoryContent JSON file when the data directory holds no directory yet (instead of "
                 "the demo)")
      ->excludes(div_opt);
  app.add_option("--port-file", port_file, "write the port listened on to this file once serving");
  app.add_option("--executor-threads", config.executor_threads, "threads for reads and directory changes")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--intake-queue", config.intake_queue, "submissions queued before RESOURCE_EXHAUSTED")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--nearest-grid-meters", config.router.nearest_grid_max_meters,
                 "a point in no grid goes to the nearest grid within this distance")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100000.0));
  app.add_option("--triage-unit", config.router.triage_unit,
                 "unit that takes cases no other rule places (default: the directory's only root)");
  app.add_option("--deadline-policy", policy_file,
                 "deadline policy file (engine/deadline.h, ParseDeadlinePolicy); default: the built-in policy "
                 "(emergency 30m/2h, utilities 2h/24h, general 1wd/7wd, complex 1wd/15wd)")
      ->check(CLI::ExistingFile);
  app.add_option("--calendar", calendar_file,
                 "working calendar file (engine/calendar.h, ParseWorkingCalendar); default: the embedded "
                 "data/calendar/cn-2026.txt")
      ->check(CLI::ExistingFile);
  app.add_option("--ping-pong-limit", config.lifecycle.ping_pong_limit,
                 "a case returned this many times between the same two units goes to their common parent")
      ->capture_default_str()
      ->check(CLI::Range(2, 100));
  app.add_option("--clock-offset-hours", clock_offset_hours,
                 "DRILLS AND TESTS ONLY: run the server's clock this many hours ahead of the wall clock "
                 "(negative: behind; fractions allowed), e.g. to restart '3 hours later' and see the deadlines "
                 "that fell due meanwhile fire. Never in production: every timestamp shifts")
      ->check([](const std::string& s) -> std::string {
        char* end = nullptr;
        const double h = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0' || !std::isfinite(h) || std::fabs(h) > kMaxClockOffsetHours) {
          return "hours must be a number within +-" + std::to_string(static_cast<int>(kMaxClockOffsetHours)) +
                 ", not '" + s + "'";
        }
        return "";
      });
  app.add_option("--feed-retention-days", feed_retention_days,
                 "keep feed entries (EscalationFeed.Watch) this many days; 0 keeps them forever")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 36500.0));
  app.add_option("--feed-buffer", config.feed.subscriber_buffer,
                 "live feed entries held per subscriber before a slow one falls back to replaying from storage")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--feed-dispatch-threads", config.feed.dispatch_threads,
                 "threads that start feed subscribers' writes (one saturates near 30,000 messages/s)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--feed-heartbeat-ms", heartbeat_ms, "heartbeat interval of feed streams (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600 * 1000));
  bool verify = false;
  app.add_flag("--verify", verify,
               "check the store in --data (read-only: nothing is written) and exit: 0 clean, 1 disagreements, "
               "3 no store to check");
  app.add_option("--max-log-mb", max_log_mb,
                 "write-ahead log kept unflushed, in MiB: what a restart after a crash replays (0: no bound, "
                 "RocksDB's defaults; restarts then replay everything since the last start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--min-free-mb", min_free_mb,
                 "free disk space kept on the data directory's file system, in MiB: below it, writes are "
                 "refused (UNAVAILABLE DISK_LOW) until space is freed (0: no guard)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("--block-cache-mb", block_cache_mb,
                 "RocksDB block cache in MiB, shared by every column family: the steady memory gridd "
                 "grows into as the store is read")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  auto* restore_opt = app.add_option("--restore-from", restore_from,
                                     "restore the newest backup in this directory (gridctl backup create) into "
                                     "the data directory, which must be missing or empty, then serve it");
  app.add_option("--backup-id", backup_id, "with --restore-from: restore this backup instead of the newest")
      ->needs(restore_opt)
      ->check(CLI::Range(1u, std::numeric_limits<uint32_t>::max()));
  int64_t http_idle_ms = config.http.idle_timeout.count();
  app.add_option("--http-listen", config.http.listen,
                 "also serve Open311 GeoReport v2, /healthz, /readyz and /metrics over HTTP on host:port "
                 "(port 0: any free port; default: off)");
  app.add_option("--http-threads", config.http.threads, "threads of the HTTP server")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--http-max-connections", config.http.max_connections,
                 "HTTP connections open at once; beyond, 503 TOO_MANY_CONNECTIONS")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--http-max-header-bytes", config.http.max_header_bytes, "an HTTP request's header block, at most")
      ->capture_default_str()
      ->check(CLI::Range(1024, 1 << 20));
  app.add_option("--http-max-body-bytes", config.http.max_body_bytes, "an HTTP request's body, at most (else 413)")
      ->capture_default_str()
      ->check(CLI::Range(1024, 8 << 20));
  app.add_option("--http-idle-timeout-ms", http_idle_ms, "an HTTP connection that sends nothing this long is closed")
      ->capture_default_str()
      ->check(CLI::Range(100, 3600 * 1000));
  config.web_root = GRID_DEFAULT_WEB_ROOT;
  app.add_option("--web-root", config.web_root,
                 "the dashboard's built web app, served on the HTTP port (docs/dashboard.md); \"\": none")
      ->capture_default_str();
  // Replication (docs/replication.md): with --etcd this gridd is one
  // replica of a shard, leader or follower as etcd decides.
  grid::replica::ReplicaOptions replica;
  app.add_option("--etcd", replica.etcd,
                 "run as a replica of a shard, with its log and leadership in these etcd members (host:port, "
                 "comma-separated); without it gridd runs alone")
      ->delimiter(',');
  app.add_option("--replica", replica.replica, "with --etcd: this replica's name, unique in its shard");
  app.add_option("--replicas", replica.replicas,
                 "with --etcd: every replica of the shard (comma-separated); the log is trimmed to what all of "
                 "them hold (default: never trimmed)")
      ->delimiter(',');
  app.add_option("--shard", replica.shard, "with --etcd: the shard's name")->capture_default_str();
  app.add_option("--cluster-root", replica.root, "with --etcd: the etcd key prefix of the cluster")
      ->capture_default_str();
  app.add_option("--advertise", replica.advertise,
                 "with --etcd: the host:port other replicas reach this one at (default: --listen)");
  app.add_option("--lease-ttl-s", replica.lease_ttl_seconds,
                 "with --etcd: the leader's lease; a dead leader is replaced this long after it stops renewing")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  app.add_flag("--unsafe-no-sync", no_sync, "do not fsync writes (benchmarks only: acknowledged cases may be lost)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }
  if (verify) {
    auto report = grid::storage::VerifyStore(config.data_dir);
    if (!report.ok()) {
      std::cerr << "gridd: --verify: " << report.status().ToString() << "\n";
      return 3;
    }
    std::cout << report->Text(kVerifyLines) << std::flush;
    return report->clean() ? 0 : 1;
  }
  for (const auto& r : rate_limits) {
    std::string error;
    if (!grid::services::ParseRateLimit(r, &config.auth_limits, &error)) {
      std::cerr << "gridd: --rate-limit: " << error << "\n";
      return 2;
    }
  }
  config.auth_limits.failure_window = static_cast<grid::Micros>(failure_window_s * 1e6);
  config.http.idle_timeout = std::chrono::milliseconds(http_idle_ms);
  if (!log_file.empty() && !OpenLog(log_file)) {
    std::cerr << "gridd: --log-file: cannot open " << log_file << " for appending\n";
    return 2;
  }
  // From here on every message goes through the log (to stdout, which
  // --log-file has pointed at its file).
  grid::services::LogFormat format = grid::services::LogFormat::kText;
  (void)grid::services::ParseLogFormat(log_format, &format);  // checked by the flag
  std::shared_ptr<grid::services::Log> log =
      grid::services::Log::Start(format, std::make_shared<spdlog::sinks::stdout_sink_mt>());
  grpc_log.store(log.get());
  gpr_set_log_function(&LogGrpc);
  // Every return from here on lets go of the log: gRPC stops using it first.
  struct GrpcLogGuard {
    ~GrpcLogGuard() { grpc_log.store(nullptr); }
  } grpc_log_guard;
  config.log = log;
  // Signals are taken from here on (SIGHUP no longer kills gridd); they wait
  // in the set until the server is up.
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::signal_set hangups(io, SIGHUP);
  config.sync = !no_sync;
  config.max_log_bytes = max_log_mb << 20;
  config.min_free_bytes = min_free_mb << 20;
  config.block_cache_bytes = block_cache_mb << 20;
  config.feed.retention = static_cast<grid::Micros>(feed_retention_days * 24 * 3600 * 1e6);
  config.feed.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);

  // Deadlines: bad files are bad flags (exit 2), found before anything is created.
  if (!policy_file.empty() &&
      !LoadDirectives(*log, "--deadline-policy", policy_file, grid::ParseDeadlinePolicy, &config.deadline_policy)) {
    return 2;
  }
  if (calendar_file.empty()) {
    auto shipped = grid::ParseWorkingCalendar(grid::tools::ShippedCalendarName(), grid::tools::ShippedCalendarText());
    if (!shipped.ok()) {
      log->Error("gridd: the embedded calendar: " + shipped.status().ToString());
      return 1;
    }
    config.calendar = std::move(shipped).value();
  } else if (!LoadDirectives(*log, "--calendar", calendar_file, grid::ParseWorkingCalendar, &config.calendar)) {
    return 2;
  }

  // The first directory, used only when the data directory holds none yet.
  std::optional<grid::v1::DirectoryContent> initial;
  if (!divisions_dir.empty() || !directory_json.empty() || !no_demo) {
    auto loaded = !divisions_dir.empty()    ? grid::tools::LoadDivisionsDir(divisions_dir)
                  : !directory_json.empty() ? grid::tools::LoadDirectoryJson(directory_json)
                                            : grid::tools::DemoDirectory();
    if (!loaded.ok()) {
      log->Error("gridd: cannot load the initial directory: " + loaded.status().ToString());
      return 1;
    }
    initial = std::move(loaded).value();
  }

  if (!restore_from.empty()) {
    auto restored = grid::storage::RestoreBackup(
        restore_from, backup_id == 0 ? std::nullopt : std::optional<uint32_t>(backup_id), config.data_dir);
    if (!restored.ok()) {
      log->Error("gridd: cannot restore: " + restored.status().ToString());
      return 1;
    }
    log->Info("gridd: restored backup " + std::to_string(restored->id) + " of " + restore_from + " (" +
              std::to_string(restored->files) + " files, " + std::to_string(restored->size_bytes) + " bytes) into " +
              config.data_dir);
  }

  grid::services::SystemClock wall_clock;
  OffsetClock clock(&wall_clock, std::llround(clock_offset_hours * static_cast<double>(grid::kMicrosPerHour)));
  if (!replica.etcd.empty()) return RunReplica(replica, config, &clock, initial, port_file, log, io, signals);
  auto server = grid::services::GridServer::Start(config, &clock, initial);
  if (!server.ok()) {
    log->Error("gridd: cannot start: " + server.status().ToString());
    return 1;
  }
  auto& s = *server;
  if (const auto report = s->index_report(); report.origin != grid::IndexOrigin::kBuilt) {
    std::ostringstream m;
    m << "gridd: directory read in " << report.load_seconds << " s, indexed in " << report.restore_seconds
      << " s; grid index "
      << (report.origin == grid::IndexOrigin::kLoaded ? "loaded from its file"
                                                      : "rebuilt from the store (" + report.why_rebuilt + ")")
      << "; unit table "
      << (report.table_origin == grid::IndexOrigin::kLoaded
              ? "loaded from its file"
              : "rebuilt from the store (" + report.why_table_rebuilt + ")");
    log->Info(m.str());
  }
  if (const auto err = s->index_save_error(); !err.empty()) {
    log->Error("gridd: the grid index or unit table could not be saved (the next start rebuilds it): " + err);
  }
  const std::string host = config.listen.substr(0, config.listen.rfind(':'));
  log->Info("gridd: serving on " + host + ":" + std::to_string(s->port()) + ", data " + config.data_dir +
                ", directory version " + std::to_string(s->directory_version()) +
                (config.tokens_file.empty() ? ", open mode (no tokens: every caller is an admin)" : "") +
                (config.tls_cert.empty()        ? ", plaintext"
                 : config.tls_client_ca.empty() ? ", TLS"
                                                : ", mutual TLS"),
            {{"listen", host + ":" + std::to_string(s->port())}});
  if (s->http_port() != 0) {
    const std::string http =
        config.http.listen.substr(0, config.http.listen.rfind(':')) + ":" + std::to_string(s->http_port());
    log->Info("gridd: Open311, health and metrics over HTTP on " + http, {{"http_listen", http}});
    if (!config.web_root.empty()) {
      log->Info("gridd: the dashboard at http://" + http + "/dashboard/",
                {{"dashboard", "http://" + http + "/dashboard/"}});
    }
  }
  if (config.tokens_file.empty()) LogOpenModeWarning(*log, config.listen);
  log->Info("gridd: deadlines: policy " + (policy_file.empty() ? std::string("built-in") : policy_file) +
            ", calendar " +
            (calendar_file.empty() ? std::string(grid::tools::ShippedCalendarName()) + " (embedded)" : calendar_file) +
            ", ping-pong limit " + std::to_string(config.lifecycle.ping_pong_limit));
  if (clock_offset_hours != 0) {
    log->Warn("gridd: DRILL: the server's clock runs " + std::to_string(clock_offset_hours) +
              " h off the wall clock (--clock-offset-hours)");
  }
  if (!port_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees half a file.
    const std::string tmp = port_file + ".tmp";
    // The gRPC port first (what every reader takes), then "http PORT" when HTTP is on.
    std::ofstream out(tmp);
    out << s->port() << "\n";
    if (s->http_port() != 0) out << "http " << s->http_port() << "\n";
    out.close();
    std::rename(tmp.c_str(), port_file.c_str());
  }

  std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (!log_file.empty() && !OpenLog(log_file)) {
      log->Error("gridd: SIGHUP: cannot reopen " + log_file + "; still writing to the old file");
    }
    log->Info("gridd: SIGHUP: reopened the log, reloading tokens and TLS files");
    if (auto st = s->ReloadTokens(); !st.ok()) {
      log->Error("gridd: SIGHUP: the token file: " + st.ToString() + " (the old tokens stay)");
    } else if (!config.tokens_file.empty()) {
      log->Info("gridd: SIGHUP: token file " + config.tokens_file + " reloaded");
    }
    if (auto st = s->ReloadTls(); !st.ok()) {
      log->Error("gridd: SIGHUP: TLS: " + st.ToString() + " (the old certificate stays)");
    } else if (s->tls()) {
      log->Info("gridd: SIGHUP: TLS certificate reloaded");
    }
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log->Info("gridd: signal " + std::to_string(signo) + ", shutting down");
    s->Shutdown();
  });
  std::thread signal_thread([&io] { io.run(); });
  s->Wait();
  io.stop();
  signal_thread.join();
  s.reset();  // closes the store
  log->Info("gridd: stopped");
  return 0;
}
