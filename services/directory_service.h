// Directory (proto/grid/v1/service.proto): reads of the
// directory snapshot (GetUnit, ListChildren, RouteCase) on the gRPC thread,
// and changes to it (Import, UpsertUnit) and boundary reads on the read
// executor, through the DirectoryManager.
//
// Thread-safety: holds only a pointer to ServiceDeps (service_deps.h).
#pragma once

#include "grid/v1/service.grpc.pb.h"
#include "services/service_deps.h"

namespace grid::services {

// Every method takes its request as raw bytes (ParseRequest, wire.h), so a
// request that does not parse gets a reason, not a bare UNIMPLEMENTED.
class DirectoryService final
    : public grid::v1::Directory::WithRawCallbackMethod_GetUnit<grid::v1::Directory::WithRawCallbackMethod_ListChildren<
          grid::v1::Directory::WithRawCallbackMethod_Import<grid::v1::Directory::WithRawCallbackMethod_UpsertUnit<
              grid::v1::Directory::WithRawCallbackMethod_RouteCase<
                  grid::v1::Directory::WithRawCallbackMethod_RestorePreviousVersion<grid::v1::Directory::Service>>>>>> {
 public:
  // REQUIRES: deps outlives the service.
  explicit DirectoryService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                    grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* ListChildren(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                         grpc::ByteBuffer* raw_response) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* Import(grpc::CallbackServerContext* context,
                                                    grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* UpsertUnit(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                       grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* RouteCase(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                      grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* RestorePreviousVersion(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* raw_request,
                                                   grpc::ByteBuffer* raw_response) override;

 private:
  const ServiceDeps* deps_;
};

}  // namespace grid::services
