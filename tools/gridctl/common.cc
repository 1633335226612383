// gridctl's connection, per-call context, error reporting and JSON output:
// see common.h.
#include "tools/gridctl/common.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>

namespace grid::tools::gridctl {

std::unique_ptr<grpc::ClientContext> NewContext(const Global& g) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(g.timeout_s * 1000)));
  if (!g.token.empty()) ctx->AddMetadata("authorization", "Bearer " + g.token);
  if (!g.caller.empty()) ctx->AddMetadata("x-grid-caller", g.caller);
  return ctx;
}

std::shared_ptr<grpc::Channel> Connect(const Global& g) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  std::string error;
  auto credentials = ChannelCredentialsFor(g.tls, &error);
  if (credentials == nullptr) {
    std::cerr << "gridctl: " << error << "\n";
    std::exit(3);
  }
  return grpc::CreateCustomChannel(g.server, credentials, args);
}

const char* CodeName(grpc::StatusCode code) {
  static const char* names[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? names[i] : "UNKNOWN";
}

int Report(const grpc::Status& status) {
  std::cerr << "gridctl: " << CodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ? 3 : 1;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  std::cout << out;
}

}  // namespace grid::tools::gridctl
