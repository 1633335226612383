// The feed hub: publishing to subscribers and the housekeeping thread
// (heartbeats, retention) timed by the injected Clock. See feed_hub.h.
#include "services/feed_hub.h"

#include <algorithm>
#include <limits>

namespace grid::services {

StatusOr<std::unique_ptr<FeedHub>> FeedHub::Start(storage::Store* store, const Clock* clock, FeedOptions options) {
  auto last = store->LastFeedCursor();
  if (!last.ok()) return last.status();
  return std::unique_ptr<FeedHub>(new FeedHub(store, clock, options, *last));
}

FeedHub::FeedHub(storage::Store* store, const Clock* clock, FeedOptions options, uint64_t last_cursor)
    : store_(store),
      clock_(clock),
      options_(options),
      replay_(std::max<size_t>(1, options.replay_threads), options.replay_queue),
      dispatch_(std::max<size_t>(1, options.dispatch_threads), 1 << 20),
      published_(last_cursor),
      delivered_(last_cursor) {
  clock_watch_ = clock_->Watch([this] {
    MutexLock lock(&house_mu_);
    house_moved_ = true;
    house_cv_.SignalAll();
  });
  house_ = std::thread([this] { Housekeeping(); });
}

FeedHub::~FeedHub() { Stop(); }

void FeedHub::Publish(const std::vector<grid::v1::FeedEntry>& entries) {
  if (entries.empty()) return;
  std::vector<std::shared_ptr<FeedSink>> kick;
  {
    MutexLock lock(&mu_);
    // Before any offer: a sink that reads published() after an offer it
    // dropped replays at least up to that entry from storage.
    published_.store(entries.back().cursor(), std::memory_order_release);
    uint64_t offered = 0;
    if (subscribers_ > 0) {
      auto everything = by_scope_.find("");
      for (const auto& e : entries) {
        // Serialised once, for the first subscriber it goes to.
        std::shared_ptr<const LiveEntry> shared;
        auto offer = [&](const std::vector<Sub>& subs) {
          for (const Sub& s : subs) {
            if (!e.escalation() && !s.all_changes) continue;
            if (!shared) {
              auto live = std::make_shared<LiveEntry>();
              live->cursor = e.cursor();
              e.SerializeToString(&live->bytes);
              shared = std::move(live);
            }
            ++offered;
            if (s.sink->Offer(shared)) kick.push_back(s.sink);
          }
        };
        if (everything != by_scope_.end()) offer(everything->second);
        for (const auto& code : e.unit_path()) {
          auto it = by_scope_.find(code);
          if (it != by_scope_.end()) offer(it->second);
        }
      }
    }
    delivered_.store(entries.back().cursor(), std::memory_order_release);
    published_count_.fetch_add(entries.size(), std::memory_order_relaxed);
    offered_.fetch_add(offered, std::memory_order_relaxed);
  }
  changed_.SignalAll();
  if (kick.empty()) return;
  // One task per commit, or one per dispatch thread when the commit kicks
  // many subscribers; a full queue (a dispatcher that cannot keep up) kicks
  // here rather than leave a subscriber idle with entries.
  const size_t threads = std::max<size_t>(1, options_.dispatch_threads);
  const size_t chunks = std::clamp<size_t>(kick.size() / std::max<size_t>(1, options_.dispatch_chunk), 1, threads);
  const size_t per_chunk = (kick.size() + chunks - 1) / chunks;
  for (size_t begin = 0; begin < kick.size(); begin += per_chunk) {
    const size_t end = std::min(kick.size(), begin + per_chunk);
    std::vector<std::shared_ptr<FeedSink>> part(std::make_move_iterator(kick.begin() + static_cast<ptrdiff_t>(begin)),
                                                std::make_move_iterator(kick.begin() + static_cast<ptrdiff_t>(end)));
    auto run = [part = std::move(part)]() {
      for (const auto& s : part) s->Kick();
    };
    if (!dispatch_.TrySubmit(run)) run();
  }
}

std::optional<uint64_t> FeedHub::Register(std::shared_ptr<FeedSink> sink, const std::string& scope, bool all_changes) {
  MutexLock lock(&mu_);
  if (stopping() || subscribers_ >= options_.max_subscribers) return std::nullopt;
  by_scope_[scope].push_back(Sub{std::move(sink), all_changes});
  ++subscribers_;
  changed_.SignalAll();
  return published_.load(std::memory_order_acquire);
}

bool FeedHub::WaitDelivered(uint64_t cursor, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;  // a bound on the wait, not the hub's time
  MutexLock lock(&mu_);
  while (delivered() < cursor) {
    if (changed_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) return delivered() >= cursor;
  }
  return true;
}

bool FeedHub::WaitSubscribersIn(size_t min, size_t max, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;  // a bound on the wait, not the hub's time
  MutexLock lock(&mu_);
  while (subscribers_ < min || subscribers_ > max) {
    if (changed_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) break;
  }
  return subscribers_ >= min && subscribers_ <= max;
}

void FeedHub::Unregister(const FeedSink* sink, const std::string& scope) {
  std::shared_ptr<FeedSink> last_ref;  // released outside the lock
  MutexLock lock(&mu_);
  auto it = by_scope_.find(scope);
  if (it == by_scope_.end()) return;
  auto& subs = it->second;
  for (size_t i = 0; i < subs.size(); ++i) {
    if (subs[i].sink.get() != sink) continue;
    last_ref = std::move(subs[i].sink);
    subs[i] = std::move(subs.back());
    subs.pop_back();
    --subscribers_;
    changed_.SignalAll();
    break;
  }
  if (subs.empty()) by_scope_.erase(it);
}

void FeedHub::CountBuffered(int64_t delta, size_t now_held) {
  buffered_.fetch_add(delta, std::memory_order_relaxed);
  uint64_t seen = max_buffered_.load(std::memory_order_relaxed);
  while (now_held > seen && !max_buffered_.compare_exchange_weak(seen, now_held, std::memory_order_relaxed)) {
  }
}

void FeedHub::HeartbeatNow(bool only_if_idle) {
  std::vector<std::shared_ptr<FeedSink>> sinks;
  {
    MutexLock lock(&mu_);
    sinks.reserve(subscribers_);
    for (const auto& [scope, subs] : by_scope_) {
      for (const auto& s : subs) sinks.push_back(s.sink);
    }
  }
  for (auto& s : sinks) s->Heartbeat(only_if_idle);
}

StatusOr<size_t> FeedHub::TrimNow() {
  if (options_.retention <= 0) return size_t{0};
  auto n = store_->TrimFeed(clock_->NowMicros() - options_.retention, options_.trim_batch);
  if (n.ok()) trimmed_.fetch_add(*n, std::memory_order_relaxed);
  return n;
}

void FeedHub::Housekeeping() {
  auto micros = [](std::chrono::milliseconds d) { return static_cast<Micros>(d.count()) * 1000; };
  const Micros hb = micros(options_.heartbeat_interval);  // <= 0: none
  const Micros trim = micros(options_.trim_interval);     // <= 0: only TrimNow
  if (hb <= 0 && trim <= 0) return;
  // A clock that moves by itself is looked at again after at most the
  // shortest interval, so that one set back re-arms the timers instead of
  // stalling them.
  const Micros cap = hb > 0 && trim > 0 ? std::min(hb, trim) : std::max(hb, trim);
  Micros last = clock_->NowMicros();
  Micros next_hb = last + hb;
  Micros next_trim = last + trim;
  house_mu_.Lock();
  while (!house_stop_) {
    if (clock_->MovesByItself()) {
      Micros wake = std::numeric_limits<Micros>::max();
      if (hb > 0) wake = std::min(wake, next_hb);
      if (trim > 0) wake = std::min(wake, next_trim);
      const Micros wait = std::clamp<Micros>(wake - clock_->NowMicros(), 0, cap);
      if (!house_moved_) house_cv_.WaitFor(&house_mu_, std::chrono::microseconds(wait));
    } else {
      while (!house_stop_ && !house_moved_) house_cv_.Wait(&house_mu_);  // FakeClock: only a move makes anything due
    }
    if (house_stop_) break;
    house_moved_ = false;
    house_mu_.Unlock();
    const Micros now = clock_->NowMicros();
    if (now < last) {  // set back
      next_hb = now + hb;
      next_trim = now + trim;
    }
    last = now;
    // Trim first: a subscriber that gets this round's heartbeat can rely on
    // the round's trim being done.
    if (trim > 0 && now >= next_trim) {
      (void)TrimNow();  // a failed trim is retried at the next interval
      next_trim = now + trim;
    }
    if (hb > 0 && now >= next_hb) {
      HeartbeatNow(/*only_if_idle=*/true);
      next_hb = now + hb;
    }
    house_mu_.Lock();
  }
  house_mu_.Unlock();
}

void FeedHub::Stop() {
  std::call_once(stop_once_, [this] {
    std::vector<std::shared_ptr<FeedSink>> sinks;
    {
      MutexLock lock(&mu_);
      stopping_.store(true, std::memory_order_release);
      for (const auto& [scope, subs] : by_scope_) {
        for (const auto& s : subs) sinks.push_back(s.sink);
      }
    }
    for (auto& s : sinks) s->Shutdown();
    clock_->Unwatch(clock_watch_);
    {
      MutexLock lock(&house_mu_);
      house_stop_ = true;
    }
    house_cv_.SignalAll();
    if (house_.joinable()) house_.join();
    replay_.Stop();
    dispatch_.Stop();
  });
}

FeedStats FeedHub::stats() const {
  FeedStats s;
  {
    MutexLock lock(&mu_);
    s.subscribers = subscribers_;
  }
  s.published = published_count_.load(std::memory_order_relaxed);
  s.offered = offered_.load(std::memory_order_relaxed);
  s.overflows = overflows_.load(std::memory_order_relaxed);
  s.buffered = static_cast<uint64_t>(std::max<int64_t>(0, buffered_.load(std::memory_order_relaxed)));
  s.max_buffered = max_buffered_.load(std::memory_order_relaxed);
  s.trimmed = trimmed_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace grid::services
