// Open311Gateway: answers GeoReport v2 HTTP requests (http_server.h) by
// calling this process's own grid.v1 services over an in-process gRPC
// channel, and renders the answers with open311.h.
//
// Why a channel and not ServiceDeps directly: authentication, the rate and
// lock-out limits, the authorization policy, validation, routing, the case
// writer and citizen masking all run inside the gRPC handlers, keyed on a
// grpc::CallbackServerContext. Calling them through an in-process channel
// (no socket, no TLS) runs exactly that code with api_key as the bearer
// token, at the cost of one message copy, instead of a second path beside it
// that could drift. Only the public catalogue (services.json, discovery) is
// read from the directory snapshot, as the spec has it unauthenticated.
//
// Thread-safety: Handle may be called from any thread; gRPC completes the
// calls on its own threads and the replies go back through HttpReply. Drain
// waits until no call is in flight; the destructor drains.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/directory.h"
#include "grid/v1/service.grpc.pb.h"
#include "services/http_server.h"
#include "services/inprocess_call.h"
#include "services/open311.h"

namespace grid::services {

class Open311Gateway {
 public:
  // REQUIRES: `channel` reaches this process's grid.v1 services; directory
  // and clock outlive the gateway.
  Open311Gateway(std::shared_ptr<grpc::Channel> channel, const DirectoryHandle* directory, const Clock* clock);
  ~Open311Gateway();

  void Handle(HttpRequest request, HttpReply reply);
  // An Open311 error answer (HttpServerOptions::render_error).
  static HttpResponse ErrorResponse(int status, const std::string& path, const Status& why);
  // Waits until every gRPC call made for a request has completed.
  void Drain();

 private:
  // Makes one unary call for `caller` (its api_key as the bearer token, its
  // address forwarded; inprocess_call.h); `done` gets the response, or the
  // refusal as a Status with its reason.
  template <typename Response, typename Request, typename Method>
  void Unary(Method method, Request request, const HttpCaller& caller, std::function<void(StatusOr<Response>)> done);
  // The caller of a request: api_key in the query, else the Authorization header.
  static HttpCaller CallerOf(const HttpRequest& request, const open311::Fields& query);
  void SubmitRequest(const HttpRequest& request, open311::Format format, HttpCaller caller, HttpReply reply);
  void ListRequests(const open311::Fields& query, open311::Format format, const HttpCaller& caller, HttpReply reply);
  void GetRequests(std::vector<std::string> ids, bool single, open311::Format format, const HttpCaller& caller,
                   HttpReply reply);
  open311::Names NamesOf(std::shared_ptr<const Directory> directory) const;

  std::unique_ptr<grid::v1::CaseIntake::Stub> intake_;
  std::unique_ptr<grid::v1::CaseQuery::Stub> query_;
  const DirectoryHandle* directory_;
  const Clock* clock_;
  CallTracker calls_;
};

}  // namespace grid::services
