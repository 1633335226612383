#include "tools/crashtest/subscribers.h"

#include "grid/v1/service.grpc.pb.h"

namespace grid::crashtest {

namespace v1 = grid::v1;

Subscribers::Subscribers(CallTarget* gridd, AckLog* log, std::vector<std::string> scopes)
    : gridd_(gridd), log_(log), scopes_(std::move(scopes)) {
  grid::MutexLock lock(&mu_);
  confirmed_.assign(scopes_.size(), 0);
  streams_.assign(scopes_.size(), nullptr);
}

Subscribers::~Subscribers() { Finish(0, std::chrono::steady_clock::now()); }

void Subscribers::Start() {
  for (size_t i = 0; i < scopes_.size(); ++i) threads_.emplace_back([this, i] { Run(i); });
}

void Subscribers::Run(size_t index) {
  const std::string& scope = scopes_[index];
  uint64_t cursor = 0;
  bool first = true;
  for (size_t streams = 0;; ++streams) {
    auto serving = gridd_->WaitServing(index + streams);
    if (!serving) return;
    grpc::ClientContext ctx;
    {
      grid::MutexLock lock(&mu_);
      if (stop_) return;
      streams_[index] = &ctx;
    }
    if (!first) ++resumed_;
    first = false;
    v1::WatchRequest req;
    req.set_scope_unit_code(scope);
    req.set_from_cursor(cursor);
    auto stub = v1::EscalationFeed::NewStub(serving->channel);
    auto reader = stub->Watch(&ctx, req);
    v1::WatchResponse r;
    bool answered = false;
    while (reader->Read(&r)) {
      answered = true;
      for (const auto& e : r.entries()) {
        log_->Write({"F", scope, std::to_string(e.cursor()), e.event().case_id(), std::to_string(e.event().seq()),
                     std::to_string(static_cast<int>(e.event().type()))});
        ++received_;
      }
      if (r.cursor() > cursor) {
        cursor = r.cursor();
        log_->Write({"C", scope, std::to_string(cursor)});
        grid::MutexLock lock(&mu_);
        confirmed_[index] = cursor;
        advanced_.SignalAll();
      }
    }
    (void)reader->Finish();
    {
      grid::MutexLock lock(&mu_);
      streams_[index] = nullptr;
      if (stop_) return;
    }
    // Refused at once (a replica with no leader to forward to): a short
    // pause rather than a busy loop until one is elected.
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool Subscribers::Finish(uint64_t head, std::chrono::steady_clock::time_point deadline) {
  bool reached = true;
  {
    grid::MutexLock lock(&mu_);
    auto all_there = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (uint64_t c : confirmed_) {
        if (c < head) return false;
      }
      return true;
    };
    while (!all_there()) {
      if (advanced_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) {
        reached = all_there();
        break;
      }
    }
    stop_ = true;
    for (grpc::ClientContext* c : streams_) {
      if (c != nullptr) c->TryCancel();
    }
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  return reached;
}

}  // namespace grid::crashtest
