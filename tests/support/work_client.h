// A CaseWork client for tests: one call per method, with the reason.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "grid/v1/service.grpc.pb.h"
#include "tests/support/grpc_client.h"

namespace grid::testing {

// Calls `method` (e.g. &CaseWork::Stub::Accept) with `req`.
template <typename Request>
CallResult Work(grid::v1::CaseWork::Stub& stub,
                grpc::Status (grid::v1::CaseWork::Stub::*method)(grpc::ClientContext*, const Request&,
                                                                 grid::v1::CaseWorkResponse*),
                const Request& req, grid::v1::CaseWorkResponse* resp, const std::string& token = "",
                const std::string& caller = "") {
  auto ctx = Context(token, caller);
  CallResult r;
  r.status = (stub.*method)(ctx.get(), req, resp);
  r.reason = Reason(*ctx);
  return r;
}

}  // namespace grid::testing
