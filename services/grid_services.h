// The grid.v1 gRPC services, on the callback API.
//
// Handlers are thin: authenticate and authorise (auth.h), validate and route
// (engine/), then hand blocking work to the intake writer (synced writes) or
// the read executor (RocksDB reads, directory changes). No reaction blocks a
// gRPC thread; a full queue answers RESOURCE_EXHAUSTED (reason QUEUE_FULL).
//
// Thread-safety: the services hold only pointers to thread-safe parts.
#pragma once

#include "engine/directory.h"
#include "engine/router.h"
#include "engine/validation.h"
#include "grid/v1/service.grpc.pb.h"
#include "services/auth.h"
#include "services/directory_manager.h"
#include "services/executor.h"
#include "services/intake_writer.h"
#include "storage/store.h"

namespace grid::services {

// Everything the handlers need; owned by the server, outlives the services.
struct ServiceDeps {
  storage::Store* store = nullptr;
  DirectoryHandle* directory = nullptr;
  DirectoryManager* directory_manager = nullptr;
  const Authenticator* auth = nullptr;
  const Router* router = nullptr;
  IntakeWriter* intake = nullptr;
  BoundedExecutor* executor = nullptr;
  IntakeLimits limits;
  size_t max_import_bytes = 1ull << 30;
};

// SubmitCase takes raw bytes so that a request that does not parse (invalid
// UTF-8 in a text field) still gets a clear reason (services/wire.h).
class CaseIntakeService final
    : public grid::v1::CaseIntake::WithRawCallbackMethod_SubmitCase<grid::v1::CaseIntake::Service> {
 public:
  explicit CaseIntakeService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* SubmitCase(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                       grpc::ByteBuffer* raw_response) override;

 private:
  const ServiceDeps* deps_;
};

class CaseQueryService final : public grid::v1::CaseQuery::CallbackService {
 public:
  explicit CaseQueryService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context, const grid::v1::GetCaseRequest* request,
                                    grid::v1::GetCaseResponse* response) override;

 private:
  const ServiceDeps* deps_;
};

class DirectoryService final : public grid::v1::Directory::CallbackService {
 public:
  explicit DirectoryService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* context, const grid::v1::GetUnitRequest* request,
                                    grid::v1::GetUnitResponse* response) override;
  grpc::ServerUnaryReactor* ListChildren(grpc::CallbackServerContext* context,
                                         const grid::v1::ListChildrenRequest* request,
                                         grid::v1::ListChildrenResponse* response) override;
  grpc::ServerReadReactor<grid::v1::ImportChunk>* Import(grpc::CallbackServerContext* context,
                                                         grid::v1::ImportResponse* response) override;
  grpc::ServerUnaryReactor* UpsertUnit(grpc::CallbackServerContext* context,
                                       const grid::v1::UpsertUnitRequest* request,
                                       grid::v1::UpsertUnitResponse* response) override;
  grpc::ServerUnaryReactor* RouteCase(grpc::CallbackServerContext* context,
                                      const grid::v1::RouteCaseRequest* request,
                                      grid::v1::RouteCaseResponse* response) override;

 private:
  const ServiceDeps* deps_;
};

}  // namespace grid::services
