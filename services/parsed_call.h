// A unary call whose request gRPC hands over as raw bytes, parsed by
// ParseRequest (services/wire.h) so that bytes that are not a valid request
// get INVALID_ARGUMENT with a reason (INVALID_UTF8 naming the field,
// MALFORMED_REQUEST) instead of gRPC's bare UNIMPLEMENTED. It owns the parsed
// request and the response until the call is done.
//
//   auto* call = new ParsedCall<grid::v1::GetCaseRequest, grid::v1::GetCaseResponse>(context, raw_response);
//   if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
//   ... fill call->response ...
//   return call->Reply(Status::Ok());
//
// Thread-safety: Reply is called exactly once, from any thread; the call
// deletes itself when gRPC is done with it.
#pragma once

#include <grpcpp/grpcpp.h>

#include "engine/status.h"
#include "services/errors.h"
#include "services/wire.h"

namespace grid::services {

template <typename Request, typename Response>
class ParsedCall final : public grpc::ServerUnaryReactor {
 public:
  // REQUIRES: context and raw_response are the call's own.
  ParsedCall(grpc::CallbackServerContext* context, grpc::ByteBuffer* raw_response)
      : context_(context), raw_response_(raw_response) {}

  Status Parse(const grpc::ByteBuffer& raw_request) { return ParseRequest(raw_request, &request); }

  // Finishes the call with `status`: OK sends `response`, an error its
  // reason (services/errors.h). Returns the reactor, for a handler to return.
  grpc::ServerUnaryReactor* Reply(const Status& status) {
    if (status.ok()) SerializeResponse(response, raw_response_);
    Finish(Fail(context_, status));
    return this;
  }

  grpc::CallbackServerContext* context() const { return context_; }

  void OnDone() override { delete this; }

  Request request;
  Response response;

 private:
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer* const raw_response_;
};

}  // namespace grid::services
