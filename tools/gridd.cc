// gridd: the case routing server.
//
//   gridd --listen 127.0.0.1:50051 --data /var/lib/gridd [--tokens FILE]
//         [--no-demo] [--config gridd.toml] [--port-file FILE]
//
// On a data directory that holds no directory yet, the directory comes from
// --divisions DIR or --directory FILE.json, else the demo (澄迈县) unless
// --no-demo is given. Every option can also come from --config FILE (TOML/INI). SIGINT and SIGTERM shut down
// gracefully: calls in flight finish, queued writes complete, the store closes.
// Exit codes: 0 after a clean shutdown, 1 on a start-up error (message on
// stderr), 2 on bad flags.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "services/server.h"
#include "tools/demo_data.h"
#include "tools/loaders.h"

int main(int argc, char** argv) {
  grid::services::ServerConfig config;
  bool no_demo = false;
  std::string divisions_dir, directory_json;
  bool no_sync = false;
  double feed_retention_days = 30;
  int heartbeat_ms = 5000;
  std::string port_file;

  CLI::App app{"gridd: grid-governance case routing server"};
  app.set_config("--config", "", "read these options from a TOML or INI file");
  app.add_option("--listen", config.listen, "address to listen on, host:port (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--data", config.data_dir, "data directory (created when missing)")->required();
  app.add_option("--tokens", config.tokens_file,
                 "token file: lines of '<token> <role> <scope|*> <caller-id>'; without it the server is open "
                 "(every caller is an admin: development only)");
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
  app.add_option("--feed-retention-days", feed_retention_days,
                 "keep feed entries (EscalationFeed.Watch) this many days; 0 keeps them forever")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 36500.0));
  app.add_option("--feed-buffer", config.feed.subscriber_buffer,
                 "live feed entries held per subscriber before a slow one falls back to replaying from storage")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--feed-heartbeat-ms", heartbeat_ms, "heartbeat interval of feed streams (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600 * 1000));
  app.add_flag("--unsafe-no-sync", no_sync, "do not fsync writes (benchmarks only: acknowledged cases may be lost)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }
  config.sync = !no_sync;
  config.feed.retention = static_cast<grid::Micros>(feed_retention_days * 24 * 3600 * 1e6);
  config.feed.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);

  // The first directory, used only when the data directory holds none yet.
  std::optional<grid::v1::DirectoryContent> initial;
  if (!divisions_dir.empty() || !directory_json.empty() || !no_demo) {
    auto loaded = !divisions_dir.empty()    ? grid::tools::LoadDivisionsDir(divisions_dir)
                  : !directory_json.empty() ? grid::tools::LoadDirectoryJson(directory_json)
                                            : grid::tools::DemoDirectory();
    if (!loaded.ok()) {
      std::cerr << "gridd: cannot load the initial directory: " << loaded.status().ToString() << "\n";
      return 1;
    }
    initial = std::move(loaded).value();
  }

  grid::services::SystemClock clock;
  auto server = grid::services::GridServer::Start(config, &clock, initial);
  if (!server.ok()) {
    std::cerr << "gridd: cannot start: " << server.status().ToString() << "\n";
    return 1;
  }
  auto& s = *server;
  const std::string host = config.listen.substr(0, config.listen.rfind(':'));
  std::cout << "gridd: serving on " << host << ":" << s->port() << ", data " << config.data_dir
            << ", directory version " << s->directory_version()
            << (config.tokens_file.empty() ? ", open mode (no tokens: every caller is an admin)" : "") << std::endl;
  if (!port_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees half a file.
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << s->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }

  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    std::cout << "gridd: signal " << signo << ", shutting down" << std::endl;
    s->Shutdown();
  });
  std::thread signal_thread([&io] { io.run(); });
  s->Wait();
  io.stop();
  signal_thread.join();
  s.reset();  // closes the store
  std::cout << "gridd: stopped" << std::endl;
  return 0;
}
