// LeaderProxy: a follower's gRPC port, forwarding every call to its shard's
// leader. In a replicated shard one gridd leads and serves the API; the two
// followers apply its replicated log and serve nothing themselves. So that a
// client may call any node, a follower runs this proxy on its gRPC address:
// each call goes, as raw bytes, to the leader of the moment (`leader`).
//
// What passes through, both ways and unchanged: any method (unary and
// streaming, EscalationFeed.Watch included), every message with flow
// control (one read and one write in flight per direction), the client's
// half-close, its metadata (the bearer token, x-* headers; not gRPC's own
// headers), its deadline, and the leader's initial metadata, trailing
// metadata (grid-reason travels there: errors.h) and final status. The
// standard health and reflection services are forwarded too: the proxy
// registers none of its own, whatever the process enabled for its servers.
//
// What the proxy answers itself:
//   - no leader known (`leader` gives nullopt): UNAVAILABLE, NOT_LEADER, at
//     once;
//   - a call that another proxy forwarded already (it carries
//     x-grid-forwarded-for): UNAVAILABLE, NOT_LEADER. A call is forwarded
//     once at most, so two followers that each take the other for the
//     leader cannot pass a call back and forth;
//   - the leader unreachable: UNAVAILABLE as gRPC reports it, the message
//     headed "leader <address> is unreachable: "; a leader that accepts no
//     connection within connect_timeout: UNAVAILABLE naming it;
//   - stopping (Shutdown): UNAVAILABLE, SERVER_STOPPING, for the calls in
//     flight and those that still arrive.
//
// The leader sees the client's address as kForwardedForKey. It must trust
// that header only from its proxies; it does not read it yet, so its
// lock-out of peers that fail to authenticate (auth.h) counts per proxy.
//
// Thread-safety and lifetime: Start, Shutdown, port and the counters may be
// called from any thread; Shutdown is idempotent and the destructor calls
// it. Shutdown returns once every call has ended (the leader's side
// cancelled, the client's answered); calls still writing to a client that
// does not read are cancelled after a grace of one second. `leader` is
// called on gRPC's threads, once per call, concurrently: it must be
// thread-safe and must not block. Nothing blocks inside a reaction.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/status.h"

namespace grid::services {

// The original client's address (as gRPC gives it: "ipv4:10.0.0.7:51234"),
// which the proxy adds to every call it forwards.
inline constexpr const char* kForwardedForKey = "x-grid-forwarded-for";

struct LeaderProxyOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one (LeaderProxy::port)
  // The leader's gRPC address now ("host:port"), nullopt when none is known.
  std::function<std::optional<std::string>()> leader;
  // To the leader (null: insecure), and on the proxy's own port (null:
  // insecure). TLS to the leader: grpc::SslCredentials with its CA.
  std::shared_ptr<grpc::ChannelCredentials> upstream_credentials;
  std::shared_ptr<grpc::ServerCredentials> server_credentials;
  // The largest request message taken from a client and sent on, as
  // ServerConfig::max_receive_bytes. Responses are not limited here: the
  // client applies its own limit.
  int max_message_bytes = 8 * 1024 * 1024;
  // How long a call waits for a connection to the leader before it fails
  // with UNAVAILABLE; a refused connection fails it at once. 0: no limit
  // but the call's deadline.
  std::chrono::milliseconds connect_timeout{5000};
};

class LeaderProxy {
 public:
  // Listens on options.listen. LISTEN_FAILED when it cannot.
  static StatusOr<std::unique_ptr<LeaderProxy>> Start(const LeaderProxyOptions& options);
  ~LeaderProxy();

  LeaderProxy(const LeaderProxy&) = delete;
  LeaderProxy& operator=(const LeaderProxy&) = delete;

  int port() const;

  // Refuses new calls, cancels the leader's side of those in flight and
  // answers their clients UNAVAILABLE (SERVER_STOPPING), waits for them to
  // end. Idempotent. REQUIRES: not on one of gRPC's threads (it waits for
  // them).
  void Shutdown();

  // Calls sent on to a leader; refused because no leader was known; refused
  // because another proxy had forwarded them already; in flight now.
  uint64_t forwarded() const;
  uint64_t no_leader() const;
  uint64_t second_hops() const;
  uint64_t in_flight() const;

  class Core;  // the generic service and its calls (leader_proxy.cc)

 private:
  explicit LeaderProxy(std::unique_ptr<Core> core);
  std::unique_ptr<Core> core_;
};

}  // namespace grid::services
