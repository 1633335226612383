// grpc.health.v1.Health/Check for the tests, with no generated code (Debian
// ships no C++ stubs for the health proto): the request and the answer are
// encoded by hand, the way a generic tool sends them.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace grid::testing {

struct HealthAnswer {
  grpc::Status status;  // of the call: NOT_FOUND for a name the server does not know
  int serving = -1;     // the response's status: 1 SERVING, 2 NOT_SERVING; -1 when none
};

inline HealthAnswer CheckHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::string req = std::string(1, '\x0a') + static_cast<char>(service.size()) + service;
  grpc::Slice slice(req);
  grpc::ByteBuffer request(&slice, 1), response;
  HealthAnswer answer;
  grpc::CompletionQueue cq;
  auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  call->Finish(&response, &answer.status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  const bool finished = cq.Next(&tag, &ok) && ok;
  cq.Shutdown();
  for (void* t = nullptr; cq.Next(&t, &ok);) {
  }
  if (!finished || !answer.status.ok()) return answer;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return answer;
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  if (bytes.empty()) {
    answer.serving = 0;  // UNKNOWN, the default value
  } else if (bytes.size() == 2 && bytes[0] == '\x08') {
    answer.serving = bytes[1];
  }
  return answer;
}

// The status of `service` (1 SERVING, 2 NOT_SERVING), or -1 on a failed call.
inline int Health(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  return CheckHealth(channel, service).serving;
}

}  // namespace grid::testing
