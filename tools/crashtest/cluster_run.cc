// crashtest --cluster: see cluster_run.h.
#include "tools/crashtest/cluster_run.h"

#include <absl/base/thread_annotations.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/cluster_figures.h"
#include "tools/crashtest/etcd_members.h"
#include "tools/crashtest/replica_set.h"
#include "tools/crashtest/rpc.h"
#include "tools/crashtest/subscribers.h"
#include "tools/demo/demo_directory.h"

namespace grid::crashtest {

namespace {

namespace v1 = grid::v1;
using SteadyClock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kSampleEvery{200};
constexpr std::chrono::seconds kEtcdStartTimeout{60};
constexpr std::chrono::seconds kLeaderTimeout{30};
constexpr std::chrono::seconds kConvergeTimeout{60};
// Reports to etcd come once a second: the same position seen this far apart
// is each replica's last.
constexpr std::chrono::milliseconds kConvergeStable{1500};

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

double Max(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// Samples the leader and the replicas' reported positions every 200 ms on a
// thread of its own; tells the replica set when the leader changed, so that
// callers waiting on failed calls try again at once.
class Sampler {
 public:
  explicit Sampler(ReplicaSet* replicas) : replicas_(replicas), thread_([this] { Run(); }) {}
  ~Sampler() { Stop(); }

  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      grid::MutexLock lock(&mu_);
      stop_ = true;
      wake_.SignalAll();
    }
    if (thread_.joinable()) thread_.join();
  }
  std::vector<PositionSample> samples() const ABSL_LOCKS_EXCLUDED(mu_) {
    grid::MutexLock lock(&mu_);
    return samples_;
  }

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_) {
    int64_t epoch = 0;
    while (true) {
      PositionSample s;
      s.at = SteadyClock::now();
      std::string error;
      const auto leader = replicas_->Leader(&error);
      std::map<std::string, uint64_t> reported;
      const bool read = error.empty() && replicas_->Positions(&reported, &error);
      if (leader && leader->epoch != epoch) {
        epoch = leader->epoch;
        replicas_->BumpGeneration();
      }
      grid::MutexLock lock(&mu_);
      if (read) {
        s.leader = leader ? static_cast<int>(leader->index) : -1;
        for (size_t i = 0; i < replicas_->size(); ++i) {
          const auto it = reported.find(replicas_->name(i));
          s.positions.push_back(it == reported.end() ? -1 : static_cast<int64_t>(it->second));
        }
        samples_.push_back(std::move(s));
      }
      const auto next = s.at + kSampleEvery;
      while (!stop_ && wake_.WaitUntil(&mu_, next) == std::cv_status::no_timeout) {
      }
      if (stop_) return;
    }
  }

  ReplicaSet* const replicas_;
  mutable grid::Mutex mu_;
  grid::CondVar wake_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<PositionSample> samples_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once the rest is built
};

// Waits until etcd names a leader other than the one of `not_epoch` that
// serves (a Directory call through it answers). nullopt after `timeout`.
std::optional<LeaderRecord> WaitLeader(ReplicaSet& replicas, int64_t not_epoch, std::chrono::seconds timeout,
                                       std::string* last_error) {
  const auto give_up = SteadyClock::now() + timeout;
  while (SteadyClock::now() < give_up) {
    auto leader = replicas.Leader(last_error);
    if (leader && leader->epoch != not_epoch && replicas.replica(leader->index).ServingNow()) return leader;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

// Waits until a Directory call through every replica answers: the leader
// serves and each follower's proxy reaches it (a proxy that failed to reach
// an address retries it after a backoff of up to a second). False, with
// `error`, after `timeout`.
bool WaitAnswering(ReplicaSet& replicas, std::chrono::seconds timeout, std::string* error) {
  const auto give_up = SteadyClock::now() + timeout;
  for (size_t i = 0; i < replicas.size(); ++i) {
    while (true) {
      const auto serving = replicas.replica(i).ServingNow();
      if (serving) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        v1::GetUnitRequest req;
        req.set_code(std::string(grid::kDemoCountyCode));
        v1::GetUnitResponse resp;
        const grpc::Status st = v1::Directory::NewStub(serving->channel)->GetUnit(&ctx, req, &resp);
        if (st.ok()) break;
        *error = replicas.name(i) + ": " + st.error_message();
      } else {
        *error = replicas.name(i) + " does not run";
      }
      if (SteadyClock::now() >= give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return true;
}

// The same load as the cluster's for `seconds`, against one plain gridd
// (no etcd) in <work>/single; its intake over all but the first second.
IntakeFigures RunSingle(const Options& o, const std::string& work, const std::string& policy, double seconds,
                        std::string* error) {
  GriddOptions go;
  go.gridd = o.gridd;
  go.data_dir = work + "/single";
  go.work_dir = work;
  go.extra_args = GriddArgs(policy);
  go.name = "single";
  GriddSupervisor gridd(std::move(go));
  if (!gridd.Start(0, error)) return {};
  AckLog log(work + "/single-acks.log");
  IntakeRecorder intake;
  LoadOptions lo{o.callers, o.seed, KeyPrefix(o.seed), std::chrono::milliseconds(o.think_ms), 4};
  lo.on_submit = [&](SteadyTime first, SteadyTime last, SteadyTime acked) { intake.Add(first, last, acked); };
  Subscribers subscribers(&gridd, &log, Scopes(gridd.WaitServing()->channel));
  Load load(&gridd, &log, lo);
  subscribers.Start();
  const auto started = SteadyClock::now();
  load.Start();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto ended = SteadyClock::now();
  load.Stop();
  subscribers.Finish(0, SteadyClock::now());
  gridd.Stop();
  return Intake(intake.acks(), {{started + std::chrono::seconds(1), ended}});
}

void PrintIntake(const char* what, const IntakeFigures& f) {
  std::printf("  %-14s %.1f acks/s (%llu SubmitCase in %.1f s), latency p50 %.1f ms, p99 %.1f ms\n", what, f.per_second,
              static_cast<unsigned long long>(f.acks), f.seconds, f.p50_ms, f.p99_ms);
}

// Waits until every replica reports one position, the same at two looks
// kConvergeStable apart; that position, or nullopt after kConvergeTimeout.
std::optional<uint64_t> WaitConverged(ReplicaSet& replicas, std::map<std::string, uint64_t>* last) {
  const auto give_up = SteadyClock::now() + kConvergeTimeout;
  std::optional<uint64_t> seen;
  auto seen_at = SteadyClock::now();
  while (SteadyClock::now() < give_up) {
    std::string error;
    if (replicas.Positions(last, &error) && last->size() == replicas.size()) {
      const uint64_t p = last->begin()->second;
      const bool same = std::all_of(last->begin(), last->end(), [&](const auto& kv) { return kv.second == p; });
      if (!same || seen != p) {
        seen = same ? std::optional<uint64_t>(p) : std::nullopt;
        seen_at = SteadyClock::now();
      } else if (SteadyClock::now() - seen_at >= kConvergeStable) {
        return p;
      }
    }
    std::this_thread::sleep_for(kSampleEvery);
  }
  return std::nullopt;
}

// `gridd --verify --data DIR`: its exit code and the last line it printed
// (the summary: cases, events, index and feed entries, keys).
int VerifyReplica(const std::string& gridd, const std::string& data, std::string* summary) {
  const std::string cmd = "'" + gridd + "' --verify --data '" + data + "' 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!s.empty()) *summary = s;
  }
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int RunCluster(const Options& o) {
  const std::string work = MakeWorkDir();
  if (work.empty()) {
    std::fprintf(stderr, "crashtest: cannot create a temporary directory\n");
    return 1;
  }
  const std::string log_path = o.log.empty() ? work + "/acks.log" : o.log;
  const std::string policy = PolicyFile(work, kAcceptSeconds, kResolveSeconds);
  std::string error;
  bool ok = true;

  std::optional<IntakeFigures> single;
  const double single_s = o.duration_s > 0 ? o.duration_s : o.kills * (o.kill_min_s + o.kill_max_s) / 2;
  if (o.compare_single) {
    std::printf("crashtest: the same load against one gridd (no etcd) for %.0f s first\n", single_s);
    std::fflush(stdout);
    single = RunSingle(o, work, policy, single_s, &error);
    if (!error.empty()) {
      std::fprintf(stderr, "crashtest: single gridd: %s\n", error.c_str());
      return 1;
    }
    PrintIntake("intake single", *single);
    std::fflush(stdout);
  }

  EtcdMembers etcd(o.etcd, work);
  if (!etcd.Start(kEtcdStartTimeout, &error)) {
    std::fprintf(stderr, "crashtest: etcd: %s\n", error.c_str());
    return 1;
  }
  ReplicaSet replicas({o.gridd, work, etcd.endpoints(), GriddArgs(policy), 3, o.lease_ttl_s});
  if (!replicas.Start(&error)) {
    std::fprintf(stderr, "crashtest: %s\n", error.c_str());
    return 1;
  }
  auto first = WaitLeader(replicas, 0, kLeaderTimeout, &error);
  if (!first) {
    std::fprintf(stderr, "crashtest: no replica led within %lld s (%s); logs in %s\n",
                 static_cast<long long>(kLeaderTimeout.count()), error.c_str(), work.c_str());
    return 1;
  }
  AckLog log(log_path);
  if (!log.ok()) {
    std::fprintf(stderr, "crashtest: cannot write %s\n", log_path.c_str());
    return 2;
  }
  log.Write({"P", std::to_string(kAcceptSeconds), std::to_string(kResolveSeconds)});
  log.Write({"O", OffsetText(0)});
  std::printf(
      "crashtest --cluster: seed %llu, %zu callers, %d kills, 3 etcd members (%s), replicas r1-r3, lease %d s, "
      "%s leads; work %s\n",
      static_cast<unsigned long long>(o.seed), o.callers, o.kills, etcd.endpoint_list().c_str(), o.lease_ttl_s,
      first->replica.c_str(), work.c_str());
  std::fflush(stdout);

  IntakeRecorder intake;
  LoadOptions lo{o.callers, o.seed, KeyPrefix(o.seed), std::chrono::milliseconds(o.think_ms), 4};
  lo.on_submit = [&](SteadyTime first_sent, SteadyTime last_sent, SteadyTime acked) {
    intake.Add(first_sent, last_sent, acked);
  };
  // The leader key is there before its server is: the scopes once it answers.
  std::vector<std::string> scopes;
  for (const auto give_up = SteadyClock::now() + kLeaderTimeout; SteadyClock::now() < give_up;) {
    scopes = Scopes(replicas.WaitServing(0)->channel);
    if (scopes.size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Subscribers subscribers(&replicas, &log, scopes);
  Load load(&replicas, &log, lo);
  Sampler sampler(&replicas);
  subscribers.Start();
  const auto started = SteadyClock::now();
  load.Start();

  std::mt19937_64 rng(Mix(o.seed));
  std::vector<Window> serving;  // from a failover's first ack to the next kill
  std::vector<Outage> outages;
  std::vector<double> failover_s, elected_s;
  auto window_from = started;
  int64_t killed_epoch = 0;
  int kills = 0;
  while (kills < o.kills || Seconds(SteadyClock::now() - started) < o.duration_s) {
    std::this_thread::sleep_for(
        std::chrono::duration<double>(o.kill_min_s + Unit(rng()) * (o.kill_max_s - o.kill_min_s)));
    const auto leader = WaitLeader(replicas, killed_epoch, kLeaderTimeout, &error);
    if (!leader) {
      std::printf("  PROBLEM: no replica led within %lld s before kill %d (%s)\n",
                  static_cast<long long>(kLeaderTimeout.count()), kills + 1, error.c_str());
      ok = false;
      break;
    }
    const size_t acks_before = intake.size();
    const auto killed_at = SteadyClock::now();
    replicas.Kill(leader->index);
    killed_epoch = leader->epoch;
    ++kills;
    serving.push_back({window_from, killed_at});
    std::this_thread::sleep_for(std::chrono::duration<double>(o.restart_pause_s));
    if (!replicas.Restart(leader->index, &error)) {
      std::printf("  PROBLEM: restart after kill %d: %s\n", kills, error.c_str());
      ok = false;
      break;
    }
    outages.push_back({leader->index, killed_at, SteadyClock::now()});
    const auto limit =
        killed_at + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(o.max_failover_s));
    const auto next =
        WaitLeader(replicas, killed_epoch, std::chrono::seconds(static_cast<int>(o.max_failover_s)), &error);
    const double elected = Seconds(SteadyClock::now() - killed_at);
    const auto acked = intake.WaitSentAfter(acks_before, killed_at, limit);
    if (!next || !acked) {
      std::printf("  PROBLEM: kill %d (%s, epoch %lld): %s within %.0f s\n", kills, leader->replica.c_str(),
                  static_cast<long long>(leader->epoch), !next ? "no new leader" : "no SubmitCase acknowledged",
                  o.max_failover_s);
      failover_s.push_back(Seconds(SteadyClock::now() - killed_at));
      ok = false;
      break;
    }
    failover_s.push_back(Seconds(*acked - killed_at));
    elected_s.push_back(elected);
    window_from = *acked;
    std::printf("  kill %d: %s (epoch %lld) SIGKILLed; %s leads after %.2f s; acknowledging again after %.2f s\n",
                kills, leader->replica.c_str(), static_cast<long long>(leader->epoch), next->replica.c_str(), elected,
                failover_s.back());
    std::fflush(stdout);
  }
  // A last stretch of serving after the last failover, as between kills.
  if (ok) {
    std::this_thread::sleep_for(
        std::chrono::duration<double>(o.kill_min_s + Unit(rng()) * (o.kill_max_s - o.kill_min_s)));
  }
  const auto load_end = SteadyClock::now();
  serving.push_back({window_from, load_end});
  load.Stop();
  sampler.Stop();
  const LoadCounts counts = load.counts();
  // Settled before the check: every replica answers.
  if (ok && !WaitAnswering(replicas, kLeaderTimeout, &error)) {
    std::printf("  PROBLEM: not every replica answered within %lld s after the load (%s)\n",
                static_cast<long long>(kLeaderTimeout.count()), error.c_str());
    ok = false;
  }

  const auto server_now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const Figures f = CheckRun(replicas, server_now, log_path, subscribers, &ok);

  // The replicas must hold the same log position, then each store must
  // verify clean with the same summary.
  std::map<std::string, uint64_t> positions;
  const auto converged = WaitConverged(replicas, &positions);
  std::string positions_text;
  for (const auto& [name, p] : positions) positions_text += " " + name + " " + std::to_string(p);
  if (!converged) ok = false;
  std::string last_error;
  const auto final_leader = replicas.Leader(&last_error);
  const std::vector<int> stopped =
      replicas.Stop(final_leader ? std::optional<size_t>(final_leader->index) : std::nullopt);
  std::vector<std::string> summaries(replicas.size());
  std::vector<int> verified(replicas.size());
  for (size_t i = 0; i < replicas.size(); ++i) {
    verified[i] = VerifyReplica(o.gridd, replicas.replica(i).data_dir(), &summaries[i]);
    if (verified[i] != 0 || summaries[i] != summaries[0]) ok = false;
  }
  etcd.Stop();

  const IntakeFigures cluster = Intake(intake.acks(), serving);
  const LagFigures lag = Lag(sampler.samples(), outages, serving);
  std::printf("crashtest --cluster: %.1f s, seed %llu, %zu callers, lease %d s\n", Seconds(load_end - started),
              static_cast<unsigned long long>(o.seed), o.callers, o.lease_ttl_s);
  std::printf(
      "  kills          %d (the leader SIGKILLed %.0f-%.0f s after the last failover, started again %.1f s "
      "later)\n",
      kills, o.kill_min_s, o.kill_max_s, o.restart_pause_s);
  std::printf(
      "  failover       p50 %.2f s  max %.2f s  (SIGKILL to the first SubmitCase acknowledged that was sent "
      "after it)\n",
      Percentile(failover_s, 0.5), Max(failover_s));
  std::printf("  elected        p50 %.2f s  max %.2f s  (SIGKILL to a new leader key in etcd)\n",
              Percentile(elected_s, 0.5), Max(elected_s));
  if (Max(failover_s) > o.max_failover_s) {
    std::printf("  PROBLEM: a failover took %.2f s, over %.0f s\n", Max(failover_s), o.max_failover_s);
    ok = false;
  }
  PrintIntake("intake cluster", cluster);
  if (single) {
    PrintIntake("intake single", *single);
    std::printf("  intake ratio   cluster / single: throughput %.2fx, p50 %.2fx, p99 %.2fx\n",
                single->per_second > 0 ? cluster.per_second / single->per_second : 0,
                single->p50_ms > 0 ? cluster.p50_ms / single->p50_ms : 0,
                single->p99_ms > 0 ? cluster.p99_ms / single->p99_ms : 0);
  }
  std::printf(
      "  follower lag   positions p50 %lld max %lld; time p50 %.2f s max %.2f s (%llu follower samples; "
      "positions as each replica reports them, once a second)\n",
      static_cast<long long>(lag.positions_p50), static_cast<long long>(lag.positions_max), lag.seconds_p50,
      lag.seconds_max, static_cast<unsigned long long>(lag.samples));
  std::vector<double> caught;
  for (double s : lag.catch_up_seconds) {
    if (s >= 0) caught.push_back(s);
  }
  std::printf(
      "  catch-up       %zu of %zu restarted replicas reached the leader's position, p50 %.2f s max %.2f s "
      "after their restart\n",
      caught.size(), lag.catch_up_seconds.size(), Percentile(caught, 0.5), Max(caught));
  PrintLoadCounts(counts);
  std::printf("  subscribers    %llu entries received, %llu resumptions\n",
              static_cast<unsigned long long>(subscribers.received()),
              static_cast<unsigned long long>(subscribers.resumed()));
  PrintFigures(f);
  std::printf("  positions     %s%s\n", positions_text.c_str(),
              converged ? " (the same on every replica)" : " (PROBLEM: not the same within 60 s)");
  for (size_t i = 0; i < replicas.size(); ++i) {
    std::printf("  verify %-7s exit %d: %s\n", replicas.name(i).c_str(), verified[i], summaries[i].c_str());
    if (stopped[i] != 0 && stopped[i] != -1) {
      std::printf("  PROBLEM: %s exited %d on SIGTERM\n", replicas.name(i).c_str(), stopped[i]);
      ok = false;
    }
  }
  const bool same =
      std::all_of(summaries.begin(), summaries.end(), [&](const std::string& s) { return s == summaries[0]; });
  std::printf("  replicas       %s\n", same ? "the same store on every replica" : "PROBLEM: the stores differ");
  std::printf("crashtest: %s\n", ok ? "OK" : "FAILED");
  if (ok && o.log.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  } else {
    std::printf("  kept           %s (etcd and replica logs and data)\n", work.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace grid::crashtest
