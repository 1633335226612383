// The figures of crashtest --cluster (cluster_run.h), kept apart from the
// processes so that they are plain functions of what was recorded:
//   - intake: SubmitCase acknowledgements per second and latency (first send
//     to answer) over chosen windows of time (between failovers);
//   - follower lag: from samples of the positions the replicas report to
//     etcd (applied/<replica>, each replica once a second after a WAL sync),
//     how far each follower was behind the leader, in positions and in time,
//     leaving out a replica from its kill until it caught up again (that
//     time is its catch-up, reported apart).
//
// Thread-safety: IntakeRecorder is thread-safe; the rest are functions.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "port/mutex.h"

namespace grid::crashtest {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Window {
  SteadyTime from, to;
};

class IntakeRecorder {
 public:
  struct Ack {
    SteadyTime first_sent, last_sent, acked;
  };
  void Add(SteadyTime first_sent, SteadyTime last_sent, SteadyTime acked) ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  // When the first acknowledgement recorded after the first `from` whose
  // answered attempt was sent at or after `sent_after` came; waits for one
  // until `deadline`, nullopt then.
  std::optional<SteadyTime> WaitSentAfter(size_t from, SteadyTime sent_after, SteadyTime deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<Ack> acks() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable grid::Mutex mu_;
  grid::CondVar added_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
};

struct IntakeFigures {
  double seconds = 0;  // the windows' total length
  uint64_t acks = 0;   // acknowledged within them
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0;  // of the calls sent and answered within one window
};
IntakeFigures Intake(const std::vector<IntakeRecorder::Ack>& acks, const std::vector<Window>& windows);

// One look at etcd: who led and what each replica had reported (-1: nothing).
struct PositionSample {
  SteadyTime at;
  int leader = -1;  // replica index, -1 when the shard had no leader
  std::vector<int64_t> positions;
};

// A replica SIGKILLed at `killed` and started again at `restarted`.
struct Outage {
  size_t replica = 0;
  SteadyTime killed, restarted;
};

struct LagFigures {
  uint64_t samples = 0;  // (sample, follower) pairs counted
  int64_t positions_p50 = 0, positions_max = 0;
  double seconds_p50 = 0, seconds_max = 0;
  std::vector<double> catch_up_seconds;  // per outage: restart to a report at the leader's position; -1 never
};
// The lag of every follower that runs and has caught up since its last
// outage, in the samples taken within `windows`. Positions: the leader's
// report less the follower's (0 when the follower's is newer). Time: how
// long before the sample the highest report seen reached the follower's
// position (0 when none is higher).
LagFigures Lag(const std::vector<PositionSample>& samples, const std::vector<Outage>& outages,
               const std::vector<Window>& windows);

}  // namespace grid::crashtest
