// Helpers of in-process gRPC calls (see inprocess_call.h).
#include "services/inprocess_call.h"

#include "services/auth.h"
#include "services/errors.h"

namespace grid::services {

Status StatusOfCall(const grpc::Status& status, const grpc::ClientContext& context) {
  std::string reason;
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find(kReasonMetadataKey); it != trailers.end()) {
    reason.assign(it->second.data(), it->second.size());
  }
  std::string message = status.error_message();
  if (!reason.empty() && message.rfind(reason + ": ", 0) == 0) message.erase(0, reason.size() + 2);
  return Status(static_cast<StatusCode>(status.error_code()), std::move(reason), std::move(message));
}

void PrepareContext(grpc::ClientContext* context, const HttpCaller& who, const char* caller) {
  if (!who.token.empty()) context->AddMetadata("authorization", "Bearer " + who.token);
  context->AddMetadata("x-grid-caller", caller);
  if (!who.peer.empty()) context->AddMetadata(kForwardedPeerKey, who.peer);
}

void CallTracker::Begin() {
  MutexLock lock(&mu_);
  ++in_flight_;
}

void CallTracker::End() {
  MutexLock lock(&mu_);
  if (--in_flight_ == 0) idle_.SignalAll();
}

void CallTracker::Drain() {
  MutexLock lock(&mu_);
  while (in_flight_ > 0) idle_.Wait(&mu_);
}

}  // namespace grid::services
