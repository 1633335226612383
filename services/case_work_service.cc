// CaseWork's eighteen methods (see case_work_service.h): each parses its
// request into one CaseCommand, checks its fields (ValidateCommand) on the
// gRPC thread, and queues it for the case writer, whose callback answers with
// the case after the commit and the events it appended.
//
// Thread-safety: the handlers keep no state of their own; each reactor is
// finished exactly once, here on a refusal or by the writer's callback.
#include "services/case_work_service.h"

#include <utility>

#include "services/errors.h"
#include "services/wire.h"

namespace grid::services {

template <typename Request>
grpc::ServerUnaryReactor* CaseWorkService::Handle(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* raw_request, grpc::ByteBuffer* raw_response,
                                                  Request* (grid::v1::CaseCommand::*mutable_action)()) {
  auto principal = Identify(*deps_, *context);
  if (!principal.ok()) return Respond(context, principal.status());
  CaseWriter::Command c;
  if (Status st = ParseRequest(*raw_request, (c.command.*mutable_action)()); !st.ok()) return Respond(context, st);
  NoteCase(*deps_, *context, CommandCaseId(c.command));
  // Field errors answer here, without queueing; the writer checks them again.
  if (Status st = ValidateCommand(c.command, deps_->lifecycle->options()); !st.ok()) return Respond(context, st);
  c.actor = WorkActor{principal->id, RoleName(principal->role), principal->scope};
  auto* reactor = context->DefaultReactor();
  c.done = [reactor, context, raw_response, p = *principal](StatusOr<CaseWriter::CommandResult> result) {
    if (!result.ok()) {
      reactor->Finish(Fail(context, result.status()));
      return;
    }
    grid::v1::CaseWorkResponse response;
    *response.mutable_case_() = std::move(result->after);
    MaskCitizen(p, response.mutable_case_());
    for (auto& e : result->events) *response.add_events() = std::move(e);
    SerializeResponse(response, raw_response);
    reactor->Finish(grpc::Status::OK);
  };
  if (!deps_->intake->Execute(std::move(c))) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

#define GRID_CASE_WORK_METHOD(Method, action)                                                                      \
  grpc::ServerUnaryReactor* CaseWorkService::Method(grpc::CallbackServerContext* context,                          \
                                                    const grpc::ByteBuffer* request, grpc::ByteBuffer* response) { \
    return Handle(context, request, response, &grid::v1::CaseCommand::mutable_##action);                           \
  }
GRID_CASE_WORK_METHOD(Accept, accept)
GRID_CASE_WORK_METHOD(Reject, reject)
GRID_CASE_WORK_METHOD(Transfer, transfer)
GRID_CASE_WORK_METHOD(AddNote, add_note)
GRID_CASE_WORK_METHOD(StartWork, start_work)
GRID_CASE_WORK_METHOD(Resolve, resolve)
GRID_CASE_WORK_METHOD(RecordCallback, record_callback)
GRID_CASE_WORK_METHOD(Close, close)
GRID_CASE_WORK_METHOD(Reopen, reopen)
GRID_CASE_WORK_METHOD(Merge, merge)
GRID_CASE_WORK_METHOD(Cancel, cancel)
GRID_CASE_WORK_METHOD(Escalate, escalate)
GRID_CASE_WORK_METHOD(SummonDepartments, summon)
GRID_CASE_WORK_METHOD(ReportIn, report_in)
GRID_CASE_WORK_METHOD(AssignHelper, assign_helper)
GRID_CASE_WORK_METHOD(Wait, wait)
GRID_CASE_WORK_METHOD(Resume, resume)
GRID_CASE_WORK_METHOD(Extend, extend)
#undef GRID_CASE_WORK_METHOD

}  // namespace grid::services
