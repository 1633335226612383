// CaseQuery (proto/grid/v1/service.proto): GetCase, ListCases and GetStats,
// each checked on the gRPC thread and read from the store on the read
// executor; and RevealCitizen, which records its CITIZEN_REVEALED event
// through the case writer before it answers.
//
// Thread-safety: holds only a pointer to ServiceDeps (service_deps.h).
#pragma once

#include "grid/v1/service.grpc.pb.h"
#include "services/service_deps.h"

namespace grid::services {

// ListCases takes and answers raw bytes: a page splices the stored records
// (unless the caller's role sees citizens masked) instead of parsing and
// re-serialising 100 cases, and a request with bad UTF-8 gets INVALID_UTF8.
// So does RevealCitizen, for its note.
class CaseQueryService final
    : public grid::v1::CaseQuery::WithRawCallbackMethod_GetCase<
          grid::v1::CaseQuery::WithRawCallbackMethod_ListCases<grid::v1::CaseQuery::WithRawCallbackMethod_GetStats<
              grid::v1::CaseQuery::WithRawCallbackMethod_RevealCitizen<grid::v1::CaseQuery::Service>>>> {
 public:
  // REQUIRES: deps outlives the service.
  explicit CaseQueryService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                    grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                      grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                     grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* RevealCitizen(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                          grpc::ByteBuffer* raw_response) override;

 private:
  const ServiceDeps* deps_;
};

}  // namespace grid::services
