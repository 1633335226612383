// The figures of crashtest --cluster (tools/crashtest/cluster_figures.h) on
// made-up recordings: intake within windows only, the first acknowledgement
// sent after a kill, and follower lag that leaves out a restarted replica
// until it caught up.
#include "tools/crashtest/cluster_figures.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace grid::crashtest {
namespace {

using std::chrono::milliseconds;

const SteadyTime kT0 = SteadyTime() + std::chrono::hours(1);
SteadyTime At(int ms) { return kT0 + milliseconds(ms); }

TEST(ClusterFigures, IntakeCountsAcksWithinTheWindowsAndTimesOnlyCallsWhollyInOne) {
  // Serving 0-10 s and 15-20 s; a failover between.
  const std::vector<Window> windows = {{At(0), At(10'000)}, {At(15'000), At(20'000)}};
  std::vector<IntakeRecorder::Ack> acks;
  for (int i = 0; i < 100; ++i) acks.push_back({At(i * 100), At(i * 100), At(i * 100 + 5)});  // 5 ms each
  // Sent before the kill, answered by the new leader: counted, not timed.
  acks.push_back({At(9'990), At(14'000), At(15'010)});
  // During the failover: neither.
  acks.push_back({At(12'000), At(12'000), At(13'000)});
  for (int i = 0; i < 50; ++i) acks.push_back({At(15'100 + i * 90), At(15'100 + i * 90), At(15'100 + i * 90 + 7)});
  const IntakeFigures f = Intake(acks, windows);
  EXPECT_DOUBLE_EQ(f.seconds, 15.0);
  EXPECT_EQ(f.acks, 151u);
  EXPECT_DOUBLE_EQ(f.per_second, 151.0 / 15.0);
  EXPECT_DOUBLE_EQ(f.p50_ms, 5.0);
  EXPECT_DOUBLE_EQ(f.p99_ms, 7.0);
}

TEST(ClusterFigures, TheFirstAckAfterAKillIsOneSentAfterIt) {
  IntakeRecorder r;
  r.Add(At(0), At(0), At(10));
  const size_t before = r.size();
  // Answered after the kill at 100 ms, but sent before it (by the old leader).
  r.Add(At(90), At(90), At(120));
  r.Add(At(50), At(2'000), At(2'500));  // sent again after the kill: this one
  r.Add(At(2'100), At(2'100), At(2'600));
  const auto acked = r.WaitSentAfter(before, At(100), std::chrono::steady_clock::now());
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(*acked, At(2'500));
  EXPECT_FALSE(r.WaitSentAfter(before, At(3'000), std::chrono::steady_clock::now()).has_value());
}

TEST(ClusterFigures, LagLeavesOutARestartedReplicaUntilItCaughtUp) {
  // r0 leads; r1 reports 5 behind; r2 is killed at 2 s, restarted at 3 s,
  // and reports the leader's position from 4 s on.
  std::vector<PositionSample> samples;
  for (int ms = 0; ms <= 6'000; ms += 200) {
    const int64_t head = 100 + ms / 100;
    const int64_t r2 = ms < 2'000 ? head - 1 : ms < 4'000 ? 110 : head;
    samples.push_back({At(ms), 0, {head, head - 5, r2}});
  }
  const std::vector<Outage> outages = {{2, At(2'000), At(3'000)}};
  const LagFigures f = Lag(samples, outages, {{At(0), At(10'000)}});
  ASSERT_EQ(f.catch_up_seconds.size(), 1u);
  EXPECT_DOUBLE_EQ(f.catch_up_seconds[0], 1.0);
  // r1 at every sample (31), r2 before the kill (10) and from 4 s (11).
  EXPECT_EQ(f.samples, 52u);
  EXPECT_EQ(f.positions_max, 5);
  EXPECT_EQ(f.positions_p50, 5);
  // The head grows 2 positions a sample: r1's position (5 behind) was first
  // reported two samples, 400 ms, before.
  EXPECT_NEAR(f.seconds_max, 0.4, 1e-9);
  EXPECT_NEAR(f.seconds_p50, 0.4, 1e-9);
}

TEST(ClusterFigures, NoLeaderNoLag) {
  const std::vector<PositionSample> samples = {{At(0), -1, {10, 5, 5}}, {At(200), -1, {10, 5, 5}}};
  const LagFigures f = Lag(samples, {}, {{At(0), At(1'000)}});
  EXPECT_EQ(f.samples, 0u);
  EXPECT_EQ(f.positions_max, 0);
}

}  // namespace
}  // namespace grid::crashtest
