// CaseWork (proto/grid/v1/service.proto): the eighteen case-work methods,
// each one CaseCommand for the case writer, which applies the state machine
// (engine/lifecycle.h) to the latest state of the case and stores the result
// before the call completes.
//
// Thread-safety: holds only a pointer to ServiceDeps (service_deps.h).
#pragma once

#include "grid/v1/service.grpc.pb.h"
#include "services/service_deps.h"

namespace grid::services {

// Every method takes raw bytes (services/wire.h) so that a note with invalid
// UTF-8 gets INVALID_UTF8.
namespace internal {
using CaseWorkRaw = grid::v1::CaseWork::WithRawCallbackMethod_Accept<grid::v1::CaseWork::WithRawCallbackMethod_Reject<
    grid::v1::CaseWork::WithRawCallbackMethod_Transfer<grid::v1::CaseWork::WithRawCallbackMethod_AddNote<
        grid::v1::CaseWork::WithRawCallbackMethod_StartWork<grid::v1::CaseWork::WithRawCallbackMethod_Resolve<
            grid::v1::CaseWork::WithRawCallbackMethod_RecordCallback<grid::v1::CaseWork::WithRawCallbackMethod_Close<
                grid::v1::CaseWork::WithRawCallbackMethod_Reopen<grid::v1::CaseWork::WithRawCallbackMethod_Merge<
                    grid::v1::CaseWork::WithRawCallbackMethod_Cancel<grid::v1::CaseWork::WithRawCallbackMethod_Escalate<
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
  // REQUIRES: deps outlives the service.
  explicit CaseWorkService(const ServiceDeps* deps) : deps_(deps) {}

#define GRID_CASE_WORK_METHOD(Method)                                                                     \
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
                                   grpc::ByteBuffer* raw_response, Request* (grid::v1::CaseCommand::*mutable_action)());

  const ServiceDeps* deps_;
};

}  // namespace grid::services
