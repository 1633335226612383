// Status mapping: see errors.h.
#include "services/errors.h"

namespace grid::services {

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.ToString());
}

grpc::Status Fail(grpc::CallbackServerContext* context, const Status& status) {
  if (!status.ok() && context != nullptr) context->AddTrailingMetadata(kReasonMetadataKey, status.reason());
  return ToGrpc(status);
}

}  // namespace grid::services
