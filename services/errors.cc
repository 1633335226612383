// Status mapping at the gRPC edge, the unary shortcut and the one QUEUE_FULL
// answer: see errors.h.
#include "services/errors.h"

#include "engine/reasons.h"
#include "engine/text.h"

namespace grid::services {

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // Messages echo what the caller sent (a code, an id, a category): capped
  // here, once for every error, so that a huge value never makes the status
  // too large for the trailing metadata (the client would then see a bare
  // RESOURCE_EXHAUSTED without our reason).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), text::CapEchoes(status.ToString()));
}

grpc::Status Fail(grpc::CallbackServerContext* context, const Status& status) {
  if (!status.ok() && context != nullptr) {
    context->AddTrailingMetadata(kReasonMetadataKey, status.reason());
    if (status.retry_after_ms() > 0) {
      context->AddTrailingMetadata(kRetryAfterMetadataKey, std::to_string(status.retry_after_ms()));
    }
  }
  return ToGrpc(status);
}

grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context, const Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(Fail(context, status));
  return reactor;
}

const Status& QueueFull() {
  static const Status queue_full =
      Error(reason::QUEUE_FULL,
            "the server is at capacity; retry with backoff (a SubmitCase retry keeps its idempotency key)");
  return queue_full;
}

}  // namespace grid::services
