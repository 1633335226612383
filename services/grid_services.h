// The grid.v1 gRPC services, on the callback API.
//
// Handlers are thin: authenticate and authorise (auth.h), validate and route
// (engine/), then hand blocking work to the intake writer (synced writes) or
// the read executor (RocksDB reads, directory changes). No reaction blocks a
// gRPC thread; a full queue answers RESOURCE_EXHAUSTED (reason QUEUE_FULL).
//
// Thread-safety: the services hold only pointers to thread-safe parts.
#pragma once

#include "engine/clock.h"
#include "engine/directory.h"
#include "engine/lifecycle.h"
#include "engine/router.h"
#include "engine/validation.h"
#include "grid/v1/service.grpc.pb.h"
#include "services/auth.h"
#include "services/directory_manager.h"
#include "services/executor.h"
#include "services/case_writer.h"
#include "storage/store.h"

namespace grid::services {

// Everything the handlers need; owned by the server, outlives the services.
struct ServiceDeps {
  storage::Store* store = nullptr;
  DirectoryHandle* directory = nullptr;
  DirectoryManager* directory_manager = nullptr;
  const Authenticator* auth = nullptr;
  const Router* router = nullptr;
  CaseWriter* intake = nullptr;
  BoundedExecutor* executor = nullptr;
  const Lifecycle* lifecycle = nullptr;
  const Clock* clock = nullptr;  // "now" for ListCases' overdue filter
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

// ListCases takes and answers raw bytes: a page splices the stored records
// (unless the caller's role sees citizens masked) instead of parsing and
// re-serialising 100 cases, and a request with bad UTF-8 gets INVALID_UTF8.
class CaseQueryService final
    : public grid::v1::CaseQuery::WithRawCallbackMethod_ListCases<grid::v1::CaseQuery::CallbackService> {
 public:
  explicit CaseQueryService(const ServiceDeps* deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context, const grid::v1::GetCaseRequest* request,
                                    grid::v1::GetCaseResponse* response) override;
  // ListCases and GetStats live in services/case_queries.cc.
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                      grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context, const grid::v1::GetStatsRequest* request,
                                     grid::v1::GetStatsResponse* response) override;

 private:
  const ServiceDeps* deps_;
};

// CaseWork: every method takes raw bytes (services/wire.h) so that a note
// with invalid UTF-8 gets INVALID_UTF8, and becomes one CaseCommand for the
// case writer, which applies the state machine (engine/lifecycle.h).
namespace internal {
using CaseWorkRaw = grid::v1::CaseWork::WithRawCallbackMethod_Accept<
    grid::v1::CaseWork::WithRawCallbackMethod_Reject<grid::v1::CaseWork::WithRawCallbackMethod_Transfer<
        grid::v1::CaseWork::WithRawCallbackMethod_AddNote<grid::v1::CaseWork::WithRawCallbackMethod_StartWork<
            grid::v1::CaseWork::WithRawCallbackMethod_Resolve<grid::v1::CaseWork::WithRawCallbackMethod_RecordCallback<
                grid::v1::CaseWork::WithRawCallbackMethod_Close<grid::v1::CaseWork::WithRawCallbackMethod_Reopen<
                    grid::v1::CaseWork::WithRawCallbackMethod_Merge<grid::v1::CaseWork::WithRawCallbackMethod_Cancel<
                        grid::v1::CaseWork::WithRawCallbackMethod_Escalate<
                            grid::v1::CaseWork::WithRawCallbackMethod_SummonDepartments<
                                grid::v1::CaseWork::WithRawCallbackMethod_ReportIn<
                                    grid::v1::CaseWork::WithRawCallbackMethod_AssignHelper<
                                        grid::v1::CaseWork::WithRawCallbackMethod_Wait<
                                            grid::v1::CaseWork::WithRawCallbackMethod_Resume<
                                                grid::v1::CaseWork::WithRawCallbackMethod_Extend<
                                                    grid::v1::CaseWork::Service>>>>>>>>>>>>>>>>>>;
}  // namespace internal

class CaseWorkService final : public internal::CaseWorkRaw {
 public:
  explicit CaseWorkService(const ServiceDeps* deps) : deps_(deps) {}

#define GRID_CASE_WORK_METHOD(Method)                                                                   \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request, \
                                   grpc::ByteBuffer* response) override;
  GRID_CASE_WORK_METHOD(Accept)
  GRID_CASE_WORK_METHOD(Reject)
  GRID_CASE_WORK_METHOD(Transfer)
  GRID_CASE_WORK_METHOD(AddNote)
  GRID_CASE_WORK_METHOD(StartWork)
  GRID_CASE_WORK_METHOD(Resolve)
  GRID_CASE_WORK_METHOD(RecordCallback)
  GRID_CASE_WORK_METHOD(Close)
  GRID_CASE_WORK_METHOD(Reopen)
  GRID_CASE_WORK_METHOD(Merge)
  GRID_CASE_WORK_METHOD(Cancel)
  GRID_CASE_WORK_METHOD(Escalate)
  GRID_CASE_WORK_METHOD(SummonDepartments)
  GRID_CASE_WORK_METHOD(ReportIn)
  GRID_CASE_WORK_METHOD(AssignHelper)
  GRID_CASE_WORK_METHOD(Wait)
  GRID_CASE_WORK_METHOD(Resume)
  GRID_CASE_WORK_METHOD(Extend)
#undef GRID_CASE_WORK_METHOD

 private:
  // Parses the request into the command's action (via `mutable_action`),
  // authenticates, and hands the command to the case writer.
  template <typename Request>
  grpc::ServerUnaryReactor* Handle(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                   grpc::ByteBuffer* raw_response,
                                   Request* (grid::v1::CaseCommand::*mutable_action)());

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
