// What etcd_client.cc and etcd_watch.cc share: the mapping of gRPC and etcd
// errors to Status reasons (the table in etcd_client.h), the call context and
// message conversions. Not for use outside cluster/.
//
// Thread-safety: pure functions.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "cluster/etcd_client.h"
#include "engine/status.h"
#include "etcd/mvccpb/kv.pb.h"

namespace grid::cluster::internal {

// etcd's metadata that makes a member without a leader refuse a call
// (etcdserver/api/v3rpc/rpctypes/md.go).
inline constexpr const char* kRequireLeaderKey = "hasleader";
inline constexpr const char* kRequireLeaderValue = "true";

// Sets the deadline (when `deadline` is true) and the leader requirement.
void PrepareContext(grpc::ClientContext* context, const EtcdClientOptions& options, bool deadline);

// The Status of a failed call: its reason by the table in etcd_client.h, the
// message "etcd <call> via <endpoints> (peer <peer>): <gRPC code>: <etcd's
// message>". REQUIRES: !status.ok().
Status FromGrpc(const grpc::Status& status, std::string_view call, const std::string& endpoints,
                const std::string& peer);

// ETCD_INVALID_REQUEST, refused by the client before sending.
Status InvalidRequest(std::string_view call, const std::string& endpoints, std::string_view what);

KeyValue FromProto(const mvccpb::KeyValue& kv);

}  // namespace grid::cluster::internal
