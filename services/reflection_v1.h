// grpc.reflection.v1.ServerReflection for gridd (proto/grpc/reflection/v1).
//
// Why our own: Debian's libgrpc++ 1.51 reflection plugin serves only
// grpc.reflection.v1alpha, and current tools ask for v1 first. The two
// versions' messages are wire-identical, so this is the v1alpha service's
// logic over the v1 messages: answers come from the generated descriptor
// pool (every .proto linked into gridd), a file comes with those of its
// dependencies not yet sent on the stream, and the service list is the
// server's own (the live list gRPC keeps of registered services).
//
// AddReflectionV1(builder) before BuildAndStart registers the service through
// a server builder plugin, which is how it learns the service list.
//
// Thread-safety: each stream has its own reactor, which gRPC runs one reaction
// at a time; the service list is read-only once the server has started.
#pragma once

#include <grpcpp/server_builder.h>

namespace grid::services {

// Serves grpc.reflection.v1.ServerReflection on the server `builder` builds.
void AddReflectionV1(grpc::ServerBuilder& builder);

}  // namespace grid::services
