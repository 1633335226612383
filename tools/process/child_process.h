// Child processes for the tools and tests that run gridd as a process (the
// integration tests, the crash test, the restart benchmark): start one with
// its output in a log file, wait until it serves, read how it ended.
//
// Readiness is an event, not a poll: PortFileWatch blocks in poll(2) on an
// inotify watch of the port file's directory (gridd renames the file into
// place once serving) and on a pidfd of the child (it exited). Without
// inotify or pidfd (exhausted limits, an old kernel) it looks every 50 ms.
//
// Thread-safety: a PortFileWatch belongs to one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace grid::process {

// Starts args[0] with `args`, its stdout and stderr going to `log`
// (truncated, or appended to with `append`). The child's pid; -1 when fork
// failed (a child that cannot exec exits 127). With `die_with_parent`, the
// kernel SIGKILLs the child when the thread that started it ends (a test
// that crashes or times out leaves no server behind).
pid_t SpawnLogged(std::vector<std::string> args, const std::string& log, bool append = false,
                  bool die_with_parent = false);

// A waitpid status as one number: the exit code, or 128 + the signal.
int ExitStatus(int wait_status);

// `n` distinct loopback ports that were free a moment ago: each bound to
// port 0, all held until every one is chosen, then released (another
// process may take one before the child binds it). 0 for a port that could
// not be found.
std::vector<int> FreeLoopbackPorts(int n);

// The last `bytes` of a file (a child's log), "..." before them when cut.
std::string FileTail(const std::string& path, size_t bytes = 3000);

struct PortFileWait {
  int port = 0;          // > 0 once the child serves
  bool exited = false;   // the child exited first (and was reaped)
  int exit_status = -1;  // ExitStatus, when exited
};

class PortFileWatch {
 public:
  // Removes a stale `port_file` and starts watching its directory. Create it
  // before the child starts, so that the rename cannot be missed.
  explicit PortFileWatch(std::string port_file);
  ~PortFileWatch();
  PortFileWatch(const PortFileWatch&) = delete;
  PortFileWatch& operator=(const PortFileWatch&) = delete;

  // Blocks until the port file holds a port, `pid` exits, or `timeout`
  // passes (then port is 0 and exited false).
  PortFileWait Wait(pid_t pid, std::chrono::milliseconds timeout);

 private:
  std::string port_file_;
  int notify_ = -1;
};

}  // namespace grid::process
