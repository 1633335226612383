// fsync_latency: this machine's durable-write latency, the floor under every
// synced commit (RocksDB's WAL with sync=true is an append + fdatasync).
//
//   fsync_latency [--dir DIR] [--count 1000] [--size 4096] [--spin N] [--json]
//
// In a fresh temporary file in DIR (default /tmp; point it at the data
// directory's filesystem, which is what matters) it appends --size bytes and
// calls fdatasync, --count times, then does the same with fsync, and prints
// p50, p99, mean and max of each, with the filesystem type and device the
// directory is on (from /proc/self/mounts). The file is removed at the end.
//
// --spin N keeps N low-priority threads spinning meanwhile. On a virtual
// machine an idle vCPU can be slow to see the I/O completion: on ours a sync
// took 4 or 8 ms (a host tick, it seems) with the vCPUs idle and about
// 0.1 ms with them busy. A server under load rarely idles, so measure both.
//
// Exit codes: 0 on success, 1 on an I/O error, 2 on bad flags.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

struct Mount {
  std::string device, point, type;
};

// The /proc/self/mounts entry with the longest mount point that holds `dir`.
Mount MountOf(const std::filesystem::path& dir) {
  std::error_code ec;
  const std::string path = std::filesystem::canonical(dir, ec).string();
  Mount best{"?", "", "?"};
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Mount m;
    if (!(fields >> m.device >> m.point >> m.type)) continue;
    const bool holds = path == m.point || m.point == "/" ||
                       (path.rfind(m.point, 0) == 0 && path.size() > m.point.size() && path[m.point.size()] == '/');
    if (holds && m.point.size() >= best.point.size()) best = m;
  }
  return best;
}

struct Figures {
  double p50_ms = 0, p99_ms = 0, mean_ms = 0, max_ms = 0;
};

Figures Summarise(std::vector<double> ms) {
  Figures f;
  if (ms.empty()) return f;
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double p) {
    size_t r = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::clamp<size_t>(r, 1, ms.size()) - 1];
  };
  f.p50_ms = rank(0.50);
  f.p99_ms = rank(0.99);
  f.max_ms = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  f.mean_ms = sum / static_cast<double>(ms.size());
  return f;
}

// Appends `size` bytes and syncs, `count` times; the latency of each
// write + sync pair in milliseconds. Empty on an I/O error (reported).
std::vector<double> Measure(int fd, size_t count, size_t size, bool data_only) {
  std::vector<char> block(size, 'x');
  std::vector<double> ms;
  ms.reserve(count);
  off_t offset = lseek(fd, 0, SEEK_END);
  for (size_t i = 0; i < count; ++i) {
    block[i % size] = static_cast<char>('a' + i % 26);
    const auto t0 = std::chrono::steady_clock::now();
    if (pwrite(fd, block.data(), size, offset) != static_cast<ssize_t>(size)) {
      std::cerr << "fsync_latency: write: " << std::strerror(errno) << "\n";
      return {};
    }
    if ((data_only ? fdatasync(fd) : fsync(fd)) != 0) {
      std::cerr << "fsync_latency: " << (data_only ? "fdatasync" : "fsync") << ": " << std::strerror(errno) << "\n";
      return {};
    }
    const auto t1 = std::chrono::steady_clock::now();
    offset += static_cast<off_t>(size);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return ms;
}

// Threads that spin at the lowest priority until destroyed.
class Spinners {
 public:
  explicit Spinners(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);  // this thread only
        while (!stop_.load(std::memory_order_relaxed)) {
        }
      });
    }
  }
  ~Spinners() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp";
  size_t count = 1000;
  size_t size = 4096;
  size_t spin = 0;
  bool json = false;
  CLI::App app{"fsync_latency: write + fdatasync / fsync latency of a directory's filesystem"};
  app.add_option("--dir", dir, "directory to write in (its filesystem is measured)")->capture_default_str();
  app.add_option("--count", count, "syncs per mode")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--size", size, "bytes appended before each sync")
      ->capture_default_str()
      ->check(CLI::Range(1, 64 << 20));
  app.add_option("--spin", spin, "low-priority threads kept spinning while measuring (keeps vCPUs awake)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  app.add_flag("--json", json, "print one JSON object instead of text");
  CLI11_PARSE(app, argc, argv);

  std::string path = (std::filesystem::path(dir) / "fsync_latency.XXXXXX").string();
  const int fd = mkstemp(path.data());
  if (fd < 0) {
    std::cerr << "fsync_latency: cannot create a file in " << dir << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  const Mount mount = MountOf(dir);
  std::vector<double> datasync, fullsync;
  {
    Spinners spinners(spin);
    datasync = Measure(fd, count, size, /*data_only=*/true);
    if (!datasync.empty()) fullsync = Measure(fd, count, size, /*data_only=*/false);
  }
  close(fd);
  unlink(path.c_str());
  if (datasync.empty() || fullsync.empty()) return 1;

  const Figures d = Summarise(datasync), f = Summarise(fullsync);
  if (json) {
    std::printf(
        "{\"dir\": \"%s\", \"fs_type\": \"%s\", \"device\": \"%s\", \"mount_point\": \"%s\", \"count\": %zu, "
        "\"size\": %zu, \"spin\": %zu, \"fdatasync\": {\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"mean_ms\": %.3f, "
        "\"max_ms\": %.3f}, "
        "\"fsync\": {\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"mean_ms\": %.3f, \"max_ms\": %.3f}}\n",
        dir.c_str(), mount.type.c_str(), mount.device.c_str(), mount.point.c_str(), count, size, spin, d.p50_ms,
        d.p99_ms, d.mean_ms, d.max_ms, f.p50_ms, f.p99_ms, f.mean_ms, f.max_ms);
  } else {
    std::printf("fsync_latency: %s (%s on %s, mounted at %s), %zu x %zu-byte appends per mode, %zu spinning\n",
                dir.c_str(), mount.type.c_str(), mount.device.c_str(), mount.point.c_str(), count, size, spin);
    std::printf("  write+fdatasync  p50 %.3f  p99 %.3f  mean %.3f  max %.3f ms  (%.0f syncs/s at the mean)\n", d.p50_ms,
                d.p99_ms, d.mean_ms, d.max_ms, d.mean_ms > 0 ? 1000.0 / d.mean_ms : 0.0);
    std::printf("  write+fsync      p50 %.3f  p99 %.3f  mean %.3f  max %.3f ms  (%.0f syncs/s at the mean)\n", f.p50_ms,
                f.p99_ms, f.mean_ms, f.max_ms, f.mean_ms > 0 ? 1000.0 / f.mean_ms : 0.0);
  }
  return 0;
}
