// restart_time: how long gridd takes to serve again after a SIGKILL under
// full intake load, and how much write-ahead log it finds to replay.
//
//   restart_time --load-s 30 [--max-log-mb 64] [--restarts 3] [--concurrency 64]
//                [--build build] [--work-dir /tmp] [--json]
//
// Starts gridd (BUILD/tools/gridd) on 127.0.0.1 port 0 with --port-file, a
// fresh data directory under --work-dir and --max-log-mb (0: no log bound,
// the settings before it existed); drives it with submit_load
// (BUILD/tools/bench/submit_load, the same client as the intake benchmark)
// at --concurrency callers for --load-s seconds (1 s warm-up, then a measured
// window) and SIGKILLs gridd 0.25 s before the window ends, while calls are
// in flight. Then it sums the sizes of the write-ahead log files (*.log) in
// the data directory, copies the directory --restarts times, and restarts
// gridd on each copy in turn: the restart time is from starting the process
// to its first successful call (Directory.ListChildren of the roots, after
// the port file appears). The page cache is left warm, as after a process
// crash; each copy is read once.
//
// Prints the figures (intake cases/s from submit_load's window, WAL bytes and
// files, each restart's seconds and their median). Exit codes: 0 done, 1 a
// process failed, 2 bad flags.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tools/process/child_process.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  double load_s = 30;
  uint64_t max_log_mb = 64;
  int restarts = 3;
  int concurrency = 64;
  std::string build = "build";
  std::string work_dir = "/tmp";
  bool json = false;
};

std::vector<std::string> GriddArgs(const Options& o, const std::string& data, const std::string& port_file) {
  return {
      o.build + "/tools/gridd",    "--listen", "127.0.0.1:0", "--data", data, "--port-file", port_file, "--max-log-mb",
      std::to_string(o.max_log_mb)};
}

// Waits until gridd behind `port_file` answers a read; the port, or 0 when
// the process exited or 120 s passed.
int WaitServing(pid_t pid, const std::string& port_file) {
  const auto give_up = SteadyClock::now() + std::chrono::seconds(120);
  int port = 0;
  while (SteadyClock::now() < give_up) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return 0;
    if (port == 0) {
      std::ifstream in(port_file);
      if (!(in >> port)) port = 0;
    }
    if (port != 0) {
      auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
      auto stub = grid::v1::Directory::NewStub(channel);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      grid::v1::ListChildrenRequest req;
      grid::v1::ListChildrenResponse resp;
      if (stub->ListChildren(&ctx, req, &resp).ok()) return port;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}

void Kill(pid_t pid, int signo) {
  kill(pid, signo);
  int status;
  waitpid(pid, &status, 0);
}

struct LogFiles {
  uint64_t bytes = 0;
  int files = 0;
};

LogFiles WalIn(const fs::path& dir) {
  LogFiles out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log" && e.is_regular_file()) {
      out.bytes += e.file_size();
      ++out.files;
    }
  }
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The number after "key": in submit_load's JSON, or -1.
double JsonNumber(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"restart_time: gridd's restart after a SIGKILL under full intake load"};
  app.add_option("--load-s", o.load_s, "seconds of intake before the SIGKILL")
      ->capture_default_str()
      ->check(CLI::Range(2.0, 36000.0));
  app.add_option("--max-log-mb", o.max_log_mb, "gridd --max-log-mb (0: no log bound)")->capture_default_str();
  app.add_option("--restarts", o.restarts, "restarts measured, each on its own copy of the killed data directory")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app.add_option("--concurrency", o.concurrency, "submit_load callers")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--build", o.build, "build directory holding tools/gridd and tools/bench/submit_load")
      ->capture_default_str();
  app.add_option("--work-dir", o.work_dir, "where the temporary data directories go")->capture_default_str();
  app.add_flag("--json", o.json, "print one JSON object");
  CLI11_PARSE(app, argc, argv);

  const fs::path work = fs::path(o.work_dir) / ("restart-time-" + std::to_string(getpid()));
  fs::create_directories(work);
  const std::string data = (work / "data").string();
  auto fail = [&](const std::string& what) {
    std::cerr << "restart_time: " << what << " (logs in " << work << ")\n";
    return 1;
  };

  pid_t gridd = grid::process::SpawnLogged(GriddArgs(o, data, (work / "port").string()), (work / "gridd.log").string());
  int port = WaitServing(gridd, (work / "port").string());
  if (port == 0) return fail("gridd did not start");

  const double warmup = 1.0;
  pid_t load =
      grid::process::SpawnLogged({o.build + "/tools/bench/submit_load", "--server", "127.0.0.1:" + std::to_string(port),
                                  "--concurrency", std::to_string(o.concurrency), "--warmup-s", std::to_string(warmup),
                                  "--duration-s", std::to_string(o.load_s - warmup), "--json"},
                                 (work / "load.json").string());
  std::this_thread::sleep_for(std::chrono::duration<double>(o.load_s - 0.25));
  Kill(gridd, SIGKILL);
  int status;
  waitpid(load, &status, 0);
  const std::string load_json = ReadAll((work / "load.json").string());
  const double cases_per_s = JsonNumber(load_json, "cases_per_s");
  if (cases_per_s <= 0) return fail("submit_load reported no throughput: " + load_json);

  const LogFiles wal = WalIn(data);
  std::vector<double> seconds;
  for (int i = 0; i < o.restarts; ++i) {
    const fs::path copy = work / ("copy" + std::to_string(i));
    fs::copy(data, copy, fs::copy_options::recursive);
    const std::string port_file = (work / ("port" + std::to_string(i))).string();
    const auto start = SteadyClock::now();
    pid_t again = grid::process::SpawnLogged(GriddArgs(o, copy.string(), port_file),
                                             (work / ("restart" + std::to_string(i) + ".log")).string());
    if (WaitServing(again, port_file) == 0) return fail("gridd did not restart");
    seconds.push_back(std::chrono::duration<double>(SteadyClock::now() - start).count());
    Kill(again, SIGTERM);
    fs::remove_all(copy);
  }
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 == 1 ? sorted[sorted.size() / 2]
                                               : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  std::string list;
  for (double s : seconds) list += (list.empty() ? "" : ", ") + std::to_string(s);
  if (o.json) {
    std::printf(
        "{\"load_s\": %.1f, \"max_log_mb\": %llu, \"concurrency\": %d, \"cases_per_s\": %.1f, \"errors\": %.0f, "
        "\"wal_bytes\": %llu, \"wal_files\": %d, \"restart_s\": [%s], \"restart_median_s\": %.3f}\n",
        o.load_s, static_cast<unsigned long long>(o.max_log_mb), o.concurrency, cases_per_s,
        JsonNumber(load_json, "errors"), static_cast<unsigned long long>(wal.bytes), wal.files, list.c_str(), median);
  } else {
    std::printf("restart_time: %.0f s of load at %d callers, --max-log-mb %llu\n", o.load_s, o.concurrency,
                static_cast<unsigned long long>(o.max_log_mb));
    std::printf("  intake   %.1f cases/s\n", cases_per_s);
    std::printf("  WAL      %llu bytes in %d files at the SIGKILL\n", static_cast<unsigned long long>(wal.bytes),
                wal.files);
    std::printf("  restart  %s s (median %.3f s)\n", list.c_str(), median);
  }
  fs::remove_all(work);
  return 0;
}
