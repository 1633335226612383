// CaseIntake.SubmitCase (see case_intake_service.h): authenticate, parse,
// validate and route on the gRPC thread (all CPU), then queue the case for the
// case writer, whose callback completes the call after the fsynced commit.
//
// Thread-safety: the handler keeps no state of its own; the reactor is
// finished exactly once, here on a refusal or by the writer's callback.
#include "services/case_intake_service.h"

#include <utility>

#include "services/errors.h"
#include "services/wire.h"

namespace grid::services {

grpc::ServerUnaryReactor* CaseIntakeService::SubmitCase(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* raw_request,
                                                        grpc::ByteBuffer* raw_response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kSubmitCase);
  if (!principal.ok()) return Respond(context, principal.status());
  CaseWriter::Submission s;
  grid::v1::SubmitCaseRequest& request = s.request;
  if (Status st = ParseRequest(*raw_request, &request); !st.ok()) return Respond(context, st);
  auto dir = deps_->directory->Get();
  if (Status st = ValidateSubmit(request, *dir, deps_->limits); !st.ok()) return Respond(context, st);
  // The unit the operator names must be within the caller's scope; where
  // the router sends the case need not be (the caller can read it back).
  if (Status st = AdmitUnit(*principal, *dir, policy::Rpc::kSubmitCase, request.unit_code()); !st.ok()) {
    return Respond(context, st);
  }
  auto routing = deps_->router->Route(*dir, RouteInputOf(request, *principal));
  if (!routing.ok()) return Respond(context, routing.status());

  auto* reactor = context->DefaultReactor();
  s.actor = Actor{principal->id, RoleName(principal->role)};
  s.routing = std::move(routing).value();
  s.done = [reactor, context, raw_response, deps = deps_](StatusOr<grid::v1::Case> result) {
    if (!result.ok()) {
      reactor->Finish(Fail(context, result.status()));
      return;
    }
    NoteCase(*deps, *context, result->id());
    grid::v1::SubmitCaseResponse response;
    *response.mutable_case_() = std::move(result).value();
    SerializeResponse(response, raw_response);
    reactor->Finish(grpc::Status::OK);
  };
  if (!deps_->intake->Submit(std::move(s))) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

}  // namespace grid::services
