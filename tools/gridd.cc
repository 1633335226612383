// gridd: the case routing server.
//
//   gridd --listen 127.0.0.1:50051 --data /var/lib/gridd [--tokens FILE]
//         [--no-demo] [--config gridd.toml] [--port-file FILE]
//
// On a data directory that holds no directory yet, the demo directory
// (澄迈县) is loaded unless --no-demo is given. SIGINT and SIGTERM shut down
// gracefully: calls in flight finish, queued writes complete, the store closes.
// Exit codes: 0 after a clean shutdown, 1 on a start-up error (message on
// stderr), 2 on bad flags.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "services/server.h"
#include "tools/demo_data.h"

int main(int argc, char** argv) {
  grid::services::ServerConfig config;
  bool no_demo = false;
  bool no_sync = false;
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
  app.add_flag("--unsafe-no-sync", no_sync, "do not fsync writes (benchmarks only: acknowledged cases may be lost)");
  CLI11_PARSE(app, argc, argv);
  config.sync = !no_sync;

  std::optional<grid::v1::DirectoryContent> demo;
  if (!no_demo) {
    auto built = grid::tools::DemoDirectory();
    if (!built.ok()) {
      std::cerr << "gridd: cannot build the demo directory: " << built.status().ToString() << "\n";
      return 1;
    }
    demo = std::move(built).value();
  }

  grid::services::SystemClock clock;
  auto server = grid::services::GridServer::Start(config, &clock, demo);
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
