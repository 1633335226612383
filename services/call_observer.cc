// The call observer (see call_observer.h).
#include "services/call_observer.h"

#include <chrono>

#include "engine/reasons.h"
#include "services/auth.h"
#include "services/errors.h"

namespace grid::services {

void CallNotes::Begin(Key call) {
  Shard& s = ShardOf(call);
  MutexLock lock(&s.mu);
  s.notes[call] = CallNote{};
}

void CallNotes::NoteCaller(Key call, std::string_view caller, std::string_view role) {
  Shard& s = ShardOf(call);
  MutexLock lock(&s.mu);
  auto it = s.notes.find(call);
  if (it == s.notes.end()) return;
  it->second.caller = caller;
  it->second.role = role;
}

void CallNotes::NoteCase(Key call, std::string_view case_id) {
  Shard& s = ShardOf(call);
  MutexLock lock(&s.mu);
  auto it = s.notes.find(call);
  // A case id is 16 digits; a request's own text that is far longer is not noted.
  if (it != s.notes.end() && case_id.size() <= kMaxCaseId) it->second.case_id = case_id;
}

CallNote CallNotes::End(Key call) {
  Shard& s = ShardOf(call);
  MutexLock lock(&s.mu);
  auto it = s.notes.find(call);
  if (it == s.notes.end()) return {};
  CallNote note = std::move(it->second);
  s.notes.erase(it);
  return note;
}

namespace {

class CallObserver final : public grpc::experimental::Interceptor {
 public:
  CallObserver(grpc::experimental::ServerRpcInfo* info, CallNotes* notes, Metrics* metrics, Log* log)
      : start_(std::chrono::steady_clock::now()),
        context_(info->server_context()),
        method_(info->method() != nullptr ? info->method() : ""),
        notes_(notes),
        metrics_(metrics),
        log_(log) {
    notes_->Begin(context_);
  }

  ~CallObserver() override {
    // A call that ended without a status of ours (cancelled by the client,
    // or the server shut down under it).
    if (!finished_) Finish(grpc::StatusCode::CANCELLED, "");
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS) &&
        !finished_) {
      const grpc::Status status = methods->GetSendStatus();
      std::string reason;
      if (auto* trailers = methods->GetSendTrailingMetadata(); trailers != nullptr) {
        if (auto it = trailers->find(kReasonMetadataKey); it != trailers->end()) reason = it->second;
      }
      Finish(status.error_code(), reason);
    }
    methods->Proceed();
  }

 private:
  void Finish(grpc::StatusCode code, const std::string& reason) {
    finished_ = true;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    CallNote note = notes_->End(context_);
    if (metrics_ != nullptr) metrics_->CountCall(method_, code, reason, seconds);
    if (log_ == nullptr) return;
    const std::string_view rpc = Metrics::RpcLabel(method_);
    // Refusals are the callers' business (info); a failure of ours is worth a look.
    const bool ours = code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
                      code == grpc::StatusCode::DATA_LOSS || (code == grpc::StatusCode::UNAVAILABLE && reason.empty());
    log_->WriteBuffered(ours ? spdlog::level::warn : spdlog::level::info, "rpc",
                        {{"rpc", rpc == "other" ? std::string_view(method_) : rpc},
                         {"code", StatusCodeName(static_cast<StatusCode>(code))},
                         {"reason", reason},
                         {"caller", note.caller},
                         {"role", note.role},
                         {"case_id", note.case_id},
                         {"latency_ms", seconds * 1000},
                         {"peer", ClientAddress(*context_)}});
  }

  const std::chrono::steady_clock::time_point start_;
  grpc::ServerContextBase* const context_;
  const std::string method_;
  CallNotes* const notes_;
  Metrics* const metrics_;
  Log* const log_;
  bool finished_ = false;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  Factory(CallNotes* notes, Metrics* metrics, std::shared_ptr<Log> log)
      : notes_(notes), metrics_(metrics), log_(std::move(log)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new CallObserver(info, notes_, metrics_, log_.get());
  }

 private:
  CallNotes* const notes_;
  Metrics* const metrics_;
  const std::shared_ptr<Log> log_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeCallObserverFactory(
    CallNotes* notes, Metrics* metrics, std::shared_ptr<Log> log) {
  return std::make_unique<Factory>(notes, metrics, std::move(log));
}

}  // namespace grid::services
