// Helpers for tests that talk to a server through a real gRPC client.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "grid/v1/service.grpc.pb.h"

namespace grid::testing {

struct Clients {
  explicit Clients(const std::string& target) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 * 1024 * 1024);
    channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    intake = grid::v1::CaseIntake::NewStub(channel);
    query = grid::v1::CaseQuery::NewStub(channel);
    directory = grid::v1::Directory::NewStub(channel);
  }
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grid::v1::CaseIntake::Stub> intake;
  std::unique_ptr<grid::v1::CaseQuery::Stub> query;
  std::unique_ptr<grid::v1::Directory::Stub> directory;
};

// A call's outcome with the server's machine-readable reason.
struct CallResult {
  grpc::Status status;
  std::string reason;  // trailing metadata "grid-reason"
};

inline std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "", const std::string& caller = "") {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  if (!caller.empty()) ctx->AddMetadata("x-grid-caller", caller);
  return ctx;
}

inline std::string Reason(const grpc::ClientContext& ctx) {
  auto md = ctx.GetServerTrailingMetadata();
  auto it = md.find("grid-reason");
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

inline CallResult Submit(grid::v1::CaseIntake::Stub& stub, const grid::v1::SubmitCaseRequest& req,
                         grid::v1::SubmitCaseResponse* resp, const std::string& token = "",
                         const std::string& caller = "") {
  auto ctx = Context(token, caller);
  CallResult r;
  r.status = stub.SubmitCase(ctx.get(), req, resp);
  r.reason = Reason(*ctx);
  return r;
}

inline CallResult GetCase(grid::v1::CaseQuery::Stub& stub, const std::string& id, grid::v1::GetCaseResponse* resp,
                          const std::string& token = "") {
  auto ctx = Context(token);
  grid::v1::GetCaseRequest req;
  req.set_case_id(id);
  CallResult r;
  r.status = stub.GetCase(ctx.get(), req, resp);
  r.reason = Reason(*ctx);
  return r;
}

}  // namespace grid::testing
