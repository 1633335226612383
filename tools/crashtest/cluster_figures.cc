// The figures of crashtest --cluster: see cluster_figures.h.
#include "tools/crashtest/cluster_figures.h"

#include <algorithm>

#include "tools/crashtest/harness.h"

namespace grid::crashtest {

namespace {

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

bool Within(SteadyTime t, const std::vector<Window>& windows) {
  return std::any_of(windows.begin(), windows.end(), [&](const Window& w) { return t >= w.from && t < w.to; });
}

}  // namespace

void IntakeRecorder::Add(SteadyTime first_sent, SteadyTime last_sent, SteadyTime acked) {
  grid::MutexLock lock(&mu_);
  acks_.push_back({first_sent, last_sent, acked});
  added_.SignalAll();
}

size_t IntakeRecorder::size() const {
  grid::MutexLock lock(&mu_);
  return acks_.size();
}

std::optional<SteadyTime> IntakeRecorder::WaitSentAfter(size_t from, SteadyTime sent_after, SteadyTime deadline) {
  grid::MutexLock lock(&mu_);
  while (true) {
    for (; from < acks_.size(); ++from) {
      if (acks_[from].last_sent >= sent_after) return acks_[from].acked;
    }
    if (added_.WaitUntil(&mu_, deadline) == std::cv_status::timeout && from == acks_.size()) return std::nullopt;
  }
}

std::vector<IntakeRecorder::Ack> IntakeRecorder::acks() const {
  grid::MutexLock lock(&mu_);
  return acks_;
}

IntakeFigures Intake(const std::vector<IntakeRecorder::Ack>& acks, const std::vector<Window>& windows) {
  IntakeFigures f;
  for (const Window& w : windows) f.seconds += std::max(0.0, Seconds(w.to - w.from));
  std::vector<double> latencies;
  for (const auto& a : acks) {
    if (!Within(a.acked, windows)) continue;
    ++f.acks;
    const bool whole = std::any_of(windows.begin(), windows.end(),
                                   [&](const Window& w) { return a.first_sent >= w.from && a.acked < w.to; });
    if (whole) latencies.push_back(Seconds(a.acked - a.first_sent) * 1e3);
  }
  f.per_second = f.seconds > 0 ? static_cast<double>(f.acks) / f.seconds : 0;
  f.p50_ms = Percentile(latencies, 0.5);
  f.p99_ms = Percentile(latencies, 0.99);
  return f;
}

LagFigures Lag(const std::vector<PositionSample>& samples, const std::vector<Outage>& outages,
               const std::vector<Window>& windows) {
  LagFigures f;
  // Each outage's catch-up: the first sample after the restart in which the
  // replica leads, or reports at least the leader's position.
  std::vector<SteadyTime> caught_up(outages.size(), SteadyTime::max());
  for (size_t o = 0; o < outages.size(); ++o) {
    const Outage& out = outages[o];
    double seconds = -1;
    for (const PositionSample& s : samples) {
      if (s.at < out.restarted || s.leader < 0) continue;
      const auto r = static_cast<int>(out.replica);
      const int64_t mine = s.positions[out.replica];
      const int64_t leader = s.positions[static_cast<size_t>(s.leader)];
      if (s.leader == r || (leader >= 0 && mine >= leader)) {
        caught_up[o] = s.at;
        seconds = Seconds(s.at - out.restarted);
        break;
      }
    }
    f.catch_up_seconds.push_back(seconds);
  }
  auto excluded = [&](size_t replica, SteadyTime t) {
    for (size_t o = 0; o < outages.size(); ++o) {
      if (outages[o].replica == replica && t >= outages[o].killed && t < caught_up[o]) return true;
    }
    return false;
  };
  // The highest position any replica had reported by each sample.
  std::vector<int64_t> head(samples.size(), -1);
  for (size_t i = 0; i < samples.size(); ++i) {
    head[i] = i == 0 ? -1 : head[i - 1];
    for (int64_t p : samples[i].positions) head[i] = std::max(head[i], p);
  }
  std::vector<double> positions, seconds;
  for (size_t i = 0; i < samples.size(); ++i) {
    const PositionSample& s = samples[i];
    if (s.leader < 0 || !Within(s.at, windows)) continue;
    const int64_t leader = s.positions[static_cast<size_t>(s.leader)];
    if (leader < 0) continue;
    for (size_t r = 0; r < s.positions.size(); ++r) {
      const int64_t mine = s.positions[r];
      if (static_cast<int>(r) == s.leader || mine < 0 || excluded(r, s.at)) continue;
      positions.push_back(static_cast<double>(std::max<int64_t>(0, leader - mine)));
      double behind = 0;
      if (mine < head[i]) {
        const auto reached = std::lower_bound(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(i) + 1, mine);
        behind = Seconds(s.at - samples[static_cast<size_t>(reached - head.begin())].at);
      }
      seconds.push_back(behind);
    }
  }
  f.samples = positions.size();
  f.positions_p50 = static_cast<int64_t>(Percentile(positions, 0.5));
  f.positions_max = positions.empty() ? 0 : static_cast<int64_t>(*std::max_element(positions.begin(), positions.end()));
  f.seconds_p50 = Percentile(seconds, 0.5);
  f.seconds_max = seconds.empty() ? 0 : *std::max_element(seconds.begin(), seconds.end());
  return f;
}

}  // namespace grid::crashtest
