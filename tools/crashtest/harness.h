// What both modes of crashtest share (main.cc: one gridd; cluster_run.h: a
// shard of replicas): the run's options, its deadline policy and gridd flags,
// the subscribers' scopes, settling and checking at the end, and printing the
// figures.
//
// Thread-safety: functions of their arguments, called by the controlling
// thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tools/crashtest/ack_log.h"
#include "tools/crashtest/call_target.h"
#include "tools/crashtest/checker.h"
#include "tools/crashtest/load.h"
#include "tools/crashtest/subscribers.h"

namespace grid::crashtest {

inline constexpr int64_t kAcceptSeconds = 3600;
inline constexpr int64_t kResolveSeconds = 3 * 3600;

struct Options {
  std::string gridd = "build/tools/gridd";
  int kills = 50;
  double duration_s = 0;
  uint64_t seed = 1;
  size_t callers = 32;
  int think_ms = 50;
  double kill_min_s = 1;
  double kill_max_s = 4;
  std::string data;
  std::string log;
  std::string verify_cmd;
  std::string check_log;

  // Cluster mode (cluster_run.h).
  bool cluster = false;
  std::string etcd = "/usr/bin/etcd";
  int lease_ttl_s = 2;
  double restart_pause_s = 1;  // a killed leader is started again this long after the kill
  double max_failover_s = 30;  // a failover that takes longer fails the run
  bool compare_single = false;
};

// A calendar-time policy of `accept_s` to accept and `resolve_s` to resolve,
// written to <work_dir>/policy.txt; its path.
std::string PolicyFile(const std::string& work_dir, int64_t accept_s, int64_t resolve_s);
// The flags every gridd of the run gets (the policy, a feed heartbeat).
std::vector<std::string> GriddArgs(const std::string& policy);
std::string OffsetText(double hours);
// A new directory crashtest-XXXXXX in the system's temporary directory; ""
// when it cannot be created.
std::string MakeWorkDir();
// Unique per run: keys of one run never meet another run's.
std::string KeyPrefix(uint64_t seed);

// The county and its first two towns: the subscribers' scopes.
std::vector<std::string> Scopes(const std::shared_ptr<grpc::Channel>& channel);

// The p-quantile (0..1) by rank; 0 for none.
double Percentile(std::vector<double> v, double p);

// Settles the deadlines (those due by `server_start`, micros on gridd's
// clock), replays the feed and checks the store, through the target, against
// the log (`given_log`, or read from `log_path`). `before_check` runs between
// the replay (with the feed's head) and reading the log. *ok becomes false on
// a loss, a duplicate or a failed read.
Figures SettleAndCheck(CallTarget& target, int64_t server_start, const std::string& log_path,
                       const LogContents* given_log, const std::function<bool(uint64_t head)>& before_check, bool* ok);

// SettleAndCheck at the end of a run (when *ok): the subscribers must reach
// the feed's head within 60 s before the log is read; then they stop.
Figures CheckRun(CallTarget& target, int64_t server_start, const std::string& log_path, Subscribers& subscribers,
                 bool* ok);

void PrintFigures(const Figures& f);
// The acknowledged calls by kind, the retries and refusals.
void PrintLoadCounts(const LoadCounts& counts);

// Runs `command` with {} replaced by `data` (or `data` appended), printing
// both; its exit code (-1 when it did not exit). 0 without a command.
int RunVerify(const std::string& command, const std::string& data);

}  // namespace grid::crashtest
