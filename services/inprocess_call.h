// Calls on this process's own grid.v1 services over an in-process channel,
// made by the HTTP gateways (open311_gateway.h, dashboard_gateway.h) with the
// HTTP caller's token, so that authentication, authorization, scope and
// masking are exactly those of the gRPC API.
//
// Thread-safety: CallTracker is thread-safe; UnaryCall may be made from any
// thread and completes on a gRPC thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "engine/status.h"
#include "port/mutex.h"

namespace grid::services {

inline constexpr std::chrono::seconds kInProcessCallDeadline{30};

// A gRPC refusal as our Status: the reason from the trailing metadata, the
// message without the "REASON: " it starts with; no reason when gRPC itself
// refused (deadline, shutdown).
Status StatusOfCall(const grpc::Status& status, const grpc::ClientContext& context);

// Who an HTTP request's in-process calls are made for: its token (none when
// empty) and the HTTP client's address, forwarded so that the lock-out of
// failing clients and the access log see each client (auth.h,
// kForwardedPeerKey).
struct HttpCaller {
  std::string token;
  std::string peer;
};

// Sets the bearer token, forwards the client's address and names the caller
// in open mode (x-grid-caller, docs/security.md).
void PrepareContext(grpc::ClientContext* context, const HttpCaller& who, const char* caller);

// Counts the calls in flight, so that a gateway can wait for them.
class CallTracker {
 public:
  void Begin() ABSL_LOCKS_EXCLUDED(mu_);
  void End() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until none is in flight.
  void Drain() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Mutex mu_;
  CondVar idle_;
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// One unary call: `method(context, request, response, callback)` starts it
// (a lambda over stub->async()->Method); `done` gets the response, or the
// refusal with its reason. REQUIRES: tracker outlives the call.
template <typename Response, typename Request, typename Method>
void UnaryCall(CallTracker* tracker, Method method, Request request, const HttpCaller& who, const char* caller,
               std::function<void(StatusOr<Response>)> done) {
  struct State {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto state = std::make_shared<State>();
  state->request = std::move(request);
  PrepareContext(&state->context, who, caller);
  state->context.set_deadline(std::chrono::system_clock::now() + kInProcessCallDeadline);
  tracker->Begin();
  method(&state->context, &state->request, &state->response,
         [tracker, state, done = std::move(done)](grpc::Status status) {
           if (status.ok()) {
             done(std::move(state->response));
           } else {
             done(StatusOfCall(status, state->context));
           }
           tracker->End();
         });
}

}  // namespace grid::services
