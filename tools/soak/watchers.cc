#include "tools/soak/watchers.h"

#include <utility>

#include "grid/v1/service.grpc.pb.h"

namespace grid::soak {

namespace v1 = grid::v1;

namespace {

// The entries of `spec` from the oldest kept up to the cursor at which a
// fresh stream caught up with the live feed; false with `error` on failure.
bool Replay(const std::shared_ptr<grpc::Channel>& channel, const WatcherSpec& spec,
            std::chrono::steady_clock::time_point deadline, std::vector<uint64_t>* cursors, uint64_t* head,
            std::string* error) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + (deadline - std::chrono::steady_clock::now()));
  v1::WatchRequest req;
  req.set_scope_unit_code(spec.scope);
  req.set_all_changes(spec.all_changes);
  auto reader = v1::EscalationFeed::NewStub(channel)->Watch(&ctx, req);
  v1::WatchResponse r;
  while (reader->Read(&r)) {
    for (const auto& e : r.entries()) cursors->push_back(e.cursor());
    if (r.caught_up()) {
      *head = r.cursor();
      ctx.TryCancel();
      (void)reader->Finish();
      return true;
    }
  }
  const grpc::Status st = reader->Finish();
  *error = "replay of " + spec.scope + " ended before catching up: " + st.error_message();
  return false;
}

}  // namespace

Watchers::Watchers(std::shared_ptr<grpc::Channel> channel, std::vector<WatcherSpec> specs)
    : channel_(std::move(channel)), specs_(std::move(specs)), states_(specs_.size()) {
  grid::MutexLock lock(&mu_);
  confirmed_.assign(specs_.size(), 0);
  streams_.assign(specs_.size(), nullptr);
}

Watchers::~Watchers() {
  {
    grid::MutexLock lock(&mu_);
    stop_ = true;
    for (grpc::ClientContext* c : streams_) {
      if (c != nullptr) c->TryCancel();
    }
  }
  for (auto& t : threads_) t.join();
}

void Watchers::Start() {
  for (size_t i = 0; i < specs_.size(); ++i) threads_.emplace_back([this, i] { Run(i); });
}

void Watchers::Run(size_t index) {
  const WatcherSpec& spec = specs_[index];
  State& state = states_[index];
  uint64_t cursor = 0;
  auto stub = v1::EscalationFeed::NewStub(channel_);
  while (true) {
    grpc::ClientContext ctx;
    {
      grid::MutexLock lock(&mu_);
      if (stop_) return;
      streams_[index] = &ctx;
    }
    v1::WatchRequest req;
    req.set_scope_unit_code(spec.scope);
    req.set_all_changes(spec.all_changes);
    req.set_from_cursor(cursor);
    auto reader = stub->Watch(&ctx, req);
    v1::WatchResponse r;
    while (reader->Read(&r)) {
      uint64_t automatic = 0;
      for (const auto& e : r.entries()) {
        state.cursors.push_back(e.cursor());
        if (e.event().type() == v1::EVENT_TYPE_ESCALATED && e.event().automatic()) ++automatic;
      }
      delivered_ += static_cast<uint64_t>(r.entries_size());
      if (index == 0) deadline_escalations_ += automatic;
      if (r.cursor() > cursor) {
        cursor = r.cursor();
        grid::MutexLock lock(&mu_);
        confirmed_[index] = cursor;
        advanced_.SignalAll();
      }
    }
    (void)reader->Finish();
    grid::MutexLock lock(&mu_);
    streams_[index] = nullptr;
    if (stop_) return;
    ++state.stream_ends;  // resumed from `cursor` at once
  }
}

std::vector<WatcherResult> Watchers::Finish(std::chrono::seconds patience) {
  std::vector<WatcherResult> results(specs_.size());
  // One replay per distinct spec.
  std::map<std::pair<std::string, bool>, std::pair<std::vector<uint64_t>, uint64_t>> replays;
  std::map<std::pair<std::string, bool>, std::string> replay_errors;
  for (const auto& spec : specs_) {
    const auto key = std::make_pair(spec.scope, spec.all_changes);
    if (replays.count(key) != 0 || replay_errors.count(key) != 0) continue;
    std::vector<uint64_t> cursors;
    uint64_t head = 0;
    std::string error;
    if (Replay(channel_, spec, std::chrono::steady_clock::now() + patience, &cursors, &head, &error)) {
      replays[key] = {std::move(cursors), head};
    } else {
      replay_errors[key] = error;
    }
  }
  std::vector<bool> reached(specs_.size(), false);
  const auto deadline = std::chrono::steady_clock::now() + patience;
  {
    grid::MutexLock lock(&mu_);
    for (size_t i = 0; i < specs_.size(); ++i) {
      const auto it = replays.find({specs_[i].scope, specs_[i].all_changes});
      if (it == replays.end()) continue;
      while (confirmed_[i] < it->second.second) {
        if (advanced_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) break;
      }
      reached[i] = confirmed_[i] >= it->second.second;
    }
    stop_ = true;
    for (grpc::ClientContext* c : streams_) {
      if (c != nullptr) c->TryCancel();
    }
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (size_t i = 0; i < specs_.size(); ++i) {
    WatcherResult& r = results[i];
    const State& s = states_[i];
    r.spec = specs_[i];
    r.received = s.cursors.size();
    r.stream_ends = s.stream_ends;
    const auto key = std::make_pair(specs_[i].scope, specs_[i].all_changes);
    if (const auto e = replay_errors.find(key); e != replay_errors.end()) {
      r.problem = e->second;
      continue;
    }
    const auto& [want, head] = replays.at(key);
    r.expected = want.size();
    r.checked_to = head;
    if (!reached[i]) {
      r.problem = "did not reach cursor " + std::to_string(head);
      continue;
    }
    size_t n = 0;
    while (n < s.cursors.size() && s.cursors[n] <= head) ++n;
    if (n != want.size() || !std::equal(want.begin(), want.end(), s.cursors.begin())) {
      r.problem = "received " + std::to_string(n) + " entries up to cursor " + std::to_string(head) +
                  ", the replay has " + std::to_string(want.size()) + " (or they differ)";
      continue;
    }
    if (r.stream_ends != 0) {
      r.problem = "its stream ended " + std::to_string(r.stream_ends) + " time(s)";
      continue;
    }
    r.matched = true;
  }
  return results;
}

}  // namespace grid::soak
