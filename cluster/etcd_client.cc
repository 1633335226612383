// EtcdClient's unary calls, the channel, and the error mapping of
// etcd_client.h's table. The watch is in etcd_watch.cc.
#include "cluster/etcd_client.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "cluster/etcd_internal.h"
#include "engine/reasons.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace grid::cluster {

namespace internal {

void PrepareContext(grpc::ClientContext* context, const EtcdClientOptions& options, bool deadline) {
  if (deadline) context->set_deadline(std::chrono::system_clock::now() + options.call_timeout);
  if (options.require_leader) context->AddMetadata(kRequireLeaderKey, kRequireLeaderValue);
}

namespace {

std::string Where(std::string_view call, const std::string& endpoints, const std::string& peer) {
  std::string where = "etcd " + std::string(call) + " via " + endpoints;
  // gRPC gives the channel's target (every endpoint) when no member took
  // the call: no peer to name then.
  if (!peer.empty() && peer.find(',') == std::string::npos) where += " (peer " + peer + ")";
  return where;
}

}  // namespace

Status FromGrpc(const grpc::Status& status, std::string_view call, const std::string& endpoints,
                const std::string& peer) {
  const StatusCode code = static_cast<StatusCode>(status.error_code());
  const std::string& said = status.error_message();
  const std::string text = Where(call, endpoints, peer) + ": " + std::string(StatusCodeName(code)) + ": " + said;
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED: return Error(reason::ETCD_TIMEOUT, text);
    case grpc::StatusCode::UNAVAILABLE:
      // The interceptor's refusal (rpctypes.ErrGRPCNoLeader), before any
      // proposal; and gRPC's pick failure while no endpoint is connected.
      if (said == "etcdserver: no leader") return Error(reason::ETCD_NO_LEADER, text);
      if (said.starts_with("failed to connect to all addresses")) return Error(reason::ETCD_UNREACHABLE, text);
      return Error(reason::ETCD_UNAVAILABLE, text);
    default: break;
  }
  // Only etcd's own refusals (rpctypes, all "etcdserver: ...") prove that
  // nothing was applied; gRPC's errors of the same codes (a response over
  // the receive limit, ...) do not.
  if (!said.starts_with("etcdserver: ")) return ErrorWithCode(code, reason::ETCD_ERROR, text);
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT: return Error(reason::ETCD_INVALID_REQUEST, text);
    case grpc::StatusCode::OUT_OF_RANGE:
      if (said.find("required revision has been compacted") != std::string::npos) {
        return Error(reason::ETCD_COMPACTED, text);
      }
      if (said.find("required revision is a future revision") != std::string::npos) {
        return Error(reason::ETCD_FUTURE_REVISION, text);
      }
      return ErrorWithCode(code, reason::ETCD_REFUSED, text);
    case grpc::StatusCode::NOT_FOUND:
      if (said == "etcdserver: requested lease not found") return Error(reason::ETCD_LEASE_NOT_FOUND, text);
      return ErrorWithCode(code, reason::ETCD_REFUSED, text);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      if (said == "etcdserver: mvcc: database space exceeded") return Error(reason::ETCD_NO_SPACE, text);
      return ErrorWithCode(code, reason::ETCD_REFUSED, text);
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::ALREADY_EXISTS: return ErrorWithCode(code, reason::ETCD_REFUSED, text);
    default: return ErrorWithCode(code, reason::ETCD_ERROR, text);
  }
}

Status InvalidRequest(std::string_view call, const std::string& endpoints, std::string_view what) {
  return Error(reason::ETCD_INVALID_REQUEST, Where(call, endpoints, "") + ": " + std::string(what));
}

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(), kv.lease()};
}

}  // namespace internal

namespace {

using internal::FromGrpc;
using internal::InvalidRequest;

// The channel's own send limit stays above max_request_bytes, so that the
// client's check (with its clearer message) is the one that refuses.
constexpr int kSendSlack = 64 * 1024;

// "a.b.c.d:port" or "[v6]:port": the host's address family, or 0.
int LiteralFamily(std::string_view endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == endpoint.size()) return 0;
  const std::string_view port = endpoint.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  std::string host(endpoint.substr(0, colon));
  int family = AF_INET;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    family = AF_INET6;
  }
  unsigned char addr[16];
  return inet_pton(family, host.c_str(), addr) == 1 ? family : 0;
}

// The gRPC target for the endpoints: "ipv4:a:p,b:q" (or ipv6:), whose
// addresses pick_first tries in order; "dns:///host:port" for one name.
StatusOr<std::string> TargetOf(const std::vector<std::string>& endpoints, const std::string& joined) {
  if (endpoints.empty()) return InvalidRequest("Connect", joined, "no endpoint given");
  for (const std::string& e : endpoints) {
    if (e.empty() || e.find(',') != std::string::npos) {
      return InvalidRequest("Connect", joined, "an endpoint is empty or holds a comma: '" + e + "'");
    }
  }
  const int family = LiteralFamily(endpoints.front());
  if (family == 0) {
    if (endpoints.size() == 1) return "dns:///" + endpoints.front();
    return InvalidRequest("Connect", joined,
                          "several endpoints must each be an IP literal with a port (a.b.c.d:port, [v6]:port)");
  }
  for (const std::string& e : endpoints) {
    if (LiteralFamily(e) != family) {
      return InvalidRequest("Connect", joined, "endpoints mix address families or are not IP literals: '" + e + "'");
    }
  }
  return std::string(family == AF_INET ? "ipv4:" : "ipv6:") + joined;
}

void ToProto(const TxnOp& op, etcdserverpb::RequestOp* out) {
  switch (op.kind) {
    case TxnOp::Kind::kPut: {
      etcdserverpb::PutRequest* put = out->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case TxnOp::Kind::kDelete: {
      etcdserverpb::DeleteRangeRequest* del = out->mutable_request_delete_range();
      del->set_key(op.key);
      del->set_range_end(op.range_end);
      break;
    }
    case TxnOp::Kind::kRange: {
      etcdserverpb::RangeRequest* range = out->mutable_request_range();
      range->set_key(op.key);
      range->set_range_end(op.range_end);
      range->set_limit(op.limit);
      break;
    }
  }
}

void ToProto(const Compare& c, etcdserverpb::Compare* out) {
  out->set_key(c.key);
  switch (c.result) {
    case Compare::Result::kEqual: out->set_result(etcdserverpb::Compare::EQUAL); break;
    case Compare::Result::kGreater: out->set_result(etcdserverpb::Compare::GREATER); break;
    case Compare::Result::kLess: out->set_result(etcdserverpb::Compare::LESS); break;
    case Compare::Result::kNotEqual: out->set_result(etcdserverpb::Compare::NOT_EQUAL); break;
  }
  switch (c.target) {
    case Compare::Target::kVersion:
      out->set_target(etcdserverpb::Compare::VERSION);
      out->set_version(c.number);
      break;
    case Compare::Target::kCreateRevision:
      out->set_target(etcdserverpb::Compare::CREATE);
      out->set_create_revision(c.number);
      break;
    case Compare::Target::kModRevision:
      out->set_target(etcdserverpb::Compare::MOD);
      out->set_mod_revision(c.number);
      break;
    case Compare::Target::kValue:
      out->set_target(etcdserverpb::Compare::VALUE);
      out->set_value(c.value);
      break;
    case Compare::Target::kLease:
      out->set_target(etcdserverpb::Compare::LEASE);
      out->set_lease(c.number);
      break;
  }
}

RangeResult FromProto(const etcdserverpb::RangeResponse& resp, int64_t revision) {
  RangeResult result;
  result.kvs.reserve(resp.kvs_size());
  for (const mvccpb::KeyValue& kv : resp.kvs()) result.kvs.push_back(internal::FromProto(kv));
  result.revision = revision;
  result.more = resp.more();
  result.count = resp.count();
  return result;
}

}  // namespace

struct EtcdClient::Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : kv(etcdserverpb::KV::NewStub(channel)), lease(etcdserverpb::Lease::NewStub(channel)) {}
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
};

namespace {

// One unary call: the client's size check, the deadline, the mapping.
template <typename Request, typename Response, typename Invoke>
Status Call(std::string_view name, const std::string& endpoints, const EtcdClientOptions& options,
            const Request& request, Response* response, Invoke invoke) {
  const size_t size = request.ByteSizeLong();
  if (size > static_cast<size_t>(options.max_request_bytes)) {
    return InvalidRequest(name, endpoints,
                          "the request is " + std::to_string(size) + " bytes, over max_request_bytes (" +
                              std::to_string(options.max_request_bytes) + "; etcd's --max-request-bytes)");
  }
  grpc::ClientContext context;
  internal::PrepareContext(&context, options, /*deadline=*/true);
  const grpc::Status status = invoke(&context, request, response);
  if (status.ok()) return Status::Ok();
  return FromGrpc(status, name, endpoints, context.peer());
}

}  // namespace

StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Connect(const std::vector<std::string>& endpoints, Options options) {
  std::string joined;
  for (const std::string& e : endpoints) joined += (joined.empty() ? "" : ",") + e;
  StatusOr<std::string> target = TargetOf(endpoints, joined);
  if (!target.ok()) return target.status();
  if (options.max_request_bytes <= 0 || options.max_request_bytes > std::numeric_limits<int32_t>::max() - kSendSlack ||
      options.max_response_bytes <= 0 || options.call_timeout.count() <= 0) {
    return InvalidRequest("Connect", joined, "max_request_bytes, max_response_bytes and call_timeout must be > 0");
  }

  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("pick_first");
  args.SetMaxSendMessageSize(options.max_request_bytes + kSendSlack);
  args.SetMaxReceiveMessageSize(options.max_response_bytes);
  // A member that stops answering (frozen, cut off) ends the calls and
  // watches on it within 15 s. etcd refuses pings more often than every
  // 5 s (--grpc-keepalive-min-time), and pings only while calls are open.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  const int max_backoff = static_cast<int>(std::max<int64_t>(100, options.max_reconnect_backoff.count()));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_backoff);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target.value(), grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + options.connect_timeout)) {
    return Error(reason::ETCD_CONNECT_FAILED, "etcd Connect via " + joined + ": no endpoint was ready within " +
                                                  std::to_string(options.connect_timeout.count()) + " ms");
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(channel), std::move(joined), options));
}

EtcdClient::EtcdClient(std::shared_ptr<grpc::Channel> channel, std::string endpoints, Options options)
    : channel_(std::move(channel)),
      stubs_(std::make_unique<Stubs>(channel_)),
      endpoints_(std::move(endpoints)),
      options_(options) {}

EtcdClient::~EtcdClient() = default;

StatusOr<RangeResult> EtcdClient::Range(std::string_view key, std::string_view range_end, int64_t limit,
                                        int64_t revision) {
  if (key.empty()) return InvalidRequest("Range", endpoints_, "the key is empty");
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(key));
  request.set_range_end(std::string(range_end));
  request.set_limit(limit);
  request.set_revision(revision);
  etcdserverpb::RangeResponse response;
  GRID_RETURN_IF_ERROR(Call("Range", endpoints_, options_, request, &response,
                            [this](auto* c, const auto& q, auto* r) { return stubs_->kv->Range(c, q, r); }));
  return FromProto(response, response.header().revision());
}

StatusOr<std::optional<KeyValue>> EtcdClient::Get(std::string_view key) {
  StatusOr<RangeResult> range = Range(key, {});
  if (!range.ok()) return range.status();
  if (range->kvs.empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(range->kvs.front()));
}

StatusOr<int64_t> EtcdClient::Put(std::string_view key, std::string_view value, int64_t lease) {
  if (key.empty()) return InvalidRequest("Put", endpoints_, "the key is empty");
  etcdserverpb::PutRequest request;
  request.set_key(std::string(key));
  request.set_value(std::string(value));
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  GRID_RETURN_IF_ERROR(Call("Put", endpoints_, options_, request, &response,
                            [this](auto* c, const auto& q, auto* r) { return stubs_->kv->Put(c, q, r); }));
  return response.header().revision();
}

StatusOr<int64_t> EtcdClient::DeleteRange(std::string_view key, std::string_view range_end) {
  if (key.empty()) return InvalidRequest("DeleteRange", endpoints_, "the key is empty");
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::string(key));
  request.set_range_end(std::string(range_end));
  etcdserverpb::DeleteRangeResponse response;
  GRID_RETURN_IF_ERROR(Call("DeleteRange", endpoints_, options_, request, &response,
                            [this](auto* c, const auto& q, auto* r) { return stubs_->kv->DeleteRange(c, q, r); }));
  return response.deleted();
}

StatusOr<TxnResult> EtcdClient::Txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                                    const std::vector<TxnOp>& failure) {
  etcdserverpb::TxnRequest request;
  for (const Compare& c : compares) {
    if (c.key.empty()) return InvalidRequest("Txn", endpoints_, "a compare's key is empty");
    ToProto(c, request.add_compare());
  }
  for (const auto* branch : {&success, &failure}) {
    for (const TxnOp& op : *branch) {
      if (op.key.empty()) return InvalidRequest("Txn", endpoints_, "an operation's key is empty");
      ToProto(op, branch == &success ? request.add_success() : request.add_failure());
    }
  }
  etcdserverpb::TxnResponse response;
  GRID_RETURN_IF_ERROR(Call("Txn", endpoints_, options_, request, &response,
                            [this](auto* c, const auto& q, auto* r) { return stubs_->kv->Txn(c, q, r); }));
  TxnResult result;
  result.succeeded = response.succeeded();
  result.revision = response.header().revision();
  for (const etcdserverpb::ResponseOp& op : response.responses()) {
    if (op.has_response_range()) result.ranges.push_back(FromProto(op.response_range(), result.revision));
  }
  return result;
}

StatusOr<int64_t> EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  if (ttl_seconds <= 0) return InvalidRequest("LeaseGrant", endpoints_, "the TTL must be > 0 seconds");
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  GRID_RETURN_IF_ERROR(Call("LeaseGrant", endpoints_, options_, request, &response,
                            [this](auto* c, const auto& q, auto* r) { return stubs_->lease->LeaseGrant(c, q, r); }));
  if (response.id() == 0 || !response.error().empty()) {
    return Error(reason::ETCD_ERROR, "etcd LeaseGrant via " + endpoints_ + ": no lease granted: " + response.error());
  }
  return response.id();
}

StatusOr<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t id) {
  // etcd renews only over the LeaseKeepAlive stream: one request, one
  // response, then the stream is closed.
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  grpc::ClientContext context;
  internal::PrepareContext(&context, options_, /*deadline=*/true);
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>>
      stream = stubs_->lease->LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveResponse response;
  bool answered = false;
  if (stream->Write(request)) {
    stream->WritesDone();
    answered = stream->Read(&response);
  }
  if (answered) context.TryCancel();  // the stream's end no longer matters
  const grpc::Status status = stream->Finish();
  if (!answered) {
    if (!status.ok()) return FromGrpc(status, "LeaseKeepAlive", endpoints_, context.peer());
    return Error(reason::ETCD_ERROR, "etcd LeaseKeepAlive via " + endpoints_ + ": the stream ended without an answer");
  }
  if (response.ttl() <= 0) {
    return Error(reason::ETCD_LEASE_NOT_FOUND, "etcd LeaseKeepAlive via " + endpoints_ + ": lease " +
                                                   std::to_string(id) + " has expired or does not exist");
  }
  return response.ttl();
}

Status EtcdClient::LeaseRevoke(int64_t id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  etcdserverpb::LeaseRevokeResponse response;
  return Call("LeaseRevoke", endpoints_, options_, request, &response,
              [this](auto* c, const auto& q, auto* r) { return stubs_->lease->LeaseRevoke(c, q, r); });
}

Status EtcdClient::Compact(int64_t revision, bool physical) {
  if (revision <= 0) return InvalidRequest("Compact", endpoints_, "the revision must be > 0");
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(physical);
  etcdserverpb::CompactionResponse response;
  return Call("Compact", endpoints_, options_, request, &response,
              [this](auto* c, const auto& q, auto* r) { return stubs_->kv->Compact(c, q, r); });
}

bool OutcomeUnknown(const Status& status) {
  if (status.ok()) return false;
  for (const Reason* proven : {&reason::ETCD_INVALID_REQUEST, &reason::ETCD_COMPACTED, &reason::ETCD_FUTURE_REVISION,
                               &reason::ETCD_LEASE_NOT_FOUND, &reason::ETCD_NO_SPACE, &reason::ETCD_NO_LEADER,
                               &reason::ETCD_UNREACHABLE, &reason::ETCD_REFUSED}) {
    if (status.reason() == proven->name) return false;
  }
  return true;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Compare Compare::Absent(std::string key) { return Number(std::move(key), Target::kCreateRevision, Result::kEqual, 0); }

Compare Compare::CreatedAt(std::string key, int64_t revision) {
  return Number(std::move(key), Target::kCreateRevision, Result::kEqual, revision);
}

Compare Compare::Number(std::string key, Target target, Result result, int64_t number) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.result = result;
  c.number = number;
  return c;
}

Compare Compare::Value(std::string key, Result result, std::string value) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::kValue;
  c.result = result;
  c.value = std::move(value);
  return c;
}

TxnOp TxnOp::Put(std::string key, std::string value, int64_t lease) {
  TxnOp op;
  op.kind = Kind::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}

TxnOp TxnOp::Delete(std::string key, std::string range_end) {
  TxnOp op;
  op.kind = Kind::kDelete;
  op.key = std::move(key);
  op.range_end = std::move(range_end);
  return op;
}

TxnOp TxnOp::Range(std::string key, std::string range_end, int64_t limit) {
  TxnOp op;
  op.kind = Kind::kRange;
  op.key = std::move(key);
  op.range_end = std::move(range_end);
  op.limit = limit;
  return op;
}

}  // namespace grid::cluster
