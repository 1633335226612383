// CaseIntake (proto/grid/v1/service.proto): SubmitCase validates and routes a
// case on the gRPC thread and hands it to the case writer, which stores it
// (fsynced, idempotent per caller and key) before the call completes.
//
// Thread-safety: holds only a pointer to ServiceDeps (service_deps.h).
#pragma once

#include "grid/v1/service.grpc.pb.h"
#include "services/service_deps.h"

namespace grid::services {

// SubmitCase takes raw bytes so that a request that does not parse (invalid
// UTF-8 in a text field) still gets a clear reason (services/wire.h).
class CaseIntakeService final
    : public grid::v1::CaseIntake::WithRawCallbackMethod_SubmitCase<grid::v1::CaseIntake::Service> {
 public:
  // REQUIRES: deps outlives the service.
  explicit CaseIntakeService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* SubmitCase(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                       grpc::ByteBuffer* raw_response) override;

 private:
  const ServiceDeps* deps_;
};

}  // namespace grid::services
