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

class DirectoryService final : public grid::v1::Directory::CallbackService {
 public:
  // REQUIRES: deps outlives the service.
  explicit DirectoryService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* context, const grid::v1::GetUnitRequest* request,
                                    grid::v1::GetUnitResponse* response) override;
  grpc::ServerUnaryReactor* ListChildren(grpc::CallbackServerContext* context,
                                         const grid::v1::ListChildrenRequest* request,
                                         grid::v1::ListChildrenResponse* response) override;
  grpc::ServerReadReactor<grid::v1::ImportChunk>* Import(grpc::CallbackServerContext* context,
                                                         grid::v1::ImportResponse* response) override;
  grpc::ServerUnaryReactor* UpsertUnit(grpc::CallbackServerContext* context, const grid::v1::UpsertUnitRequest* request,
                                       grid::v1::UpsertUnitResponse* response) override;
  grpc::ServerUnaryReactor* RouteCase(grpc::CallbackServerContext* context, const grid::v1::RouteCaseRequest* request,
                                      grid::v1::RouteCaseResponse* response) override;

 private:
  const ServiceDeps* deps_;
};

}  // namespace grid::services
