// Identity: the one place where every call's caller is established, and the
// limits that keep abuse in bounds (docs/security.md). What a caller may do
// is the authorization policy's (services/policy.h).
//
// Callers present "authorization: Bearer <token>". Tokens come from two
// places:
//   - the token file (the bootstrap, e.g. the first admin), one per line:
//       <token> <role> <scope-unit-code|*> <caller-id>
//     (blank lines and lines starting with # are ignored). It must not be
//     readable by group or others (TOKEN_FILE_SHARED) unless allowed, and is
//     read again by ReloadFile (gridd: on SIGHUP);
//   - the store: tokens "gt_<id>_<secret>" made by CreateToken, kept as the
//     SHA-256 of the secret, with expiry, revocation and last use. They are
//     all held in memory; CreateToken and RevokeToken write the store first
//     and then the memory, so a revocation holds at once and after restarts.
// A stored token may be bound to a client certificate's common name
// (client_cn): over mutual TLS a call that presents no bearer token is that
// token's principal when its verified certificate has that CN, and a bearer
// token that is bound answers only over such a connection.
//
// Without a token file the server runs open (development and demo only, and
// on loopback only: server.cc): every caller is an admin whose id is the
// "x-grid-caller" metadata value, or "anonymous".
//
// Limits (AuthLimits) are enforced here too: per-token call rates (a token
// bucket per role, on the injected clock), a lock-out of peers that fail to
// authenticate too often, and a cap on concurrent Watch streams per token.
//
// Roles: call_center, grid_worker, department, supervisor, town_office, admin.
// A scope is a unit; the principal sees that unit and its subtree ("*": all).
//
// Thread-safety: every method may be called from any thread. The mutable
// state (tokens, buckets, failures, streams) sits behind one mutex; token
// creation and revocation are serialised by a second one held across the
// store write.
#pragma once

#include <grpcpp/grpcpp.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/directory.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"
#include "grid/v1/operations.pb.h"

namespace grid::storage {
class Store;
}

namespace grid::services {

enum class Role { kCallCenter, kGridWorker, kDepartment, kSupervisor, kTownOffice, kAdmin };
inline constexpr size_t kRoleCount = 6;

const char* RoleName(Role role);
bool ParseRole(std::string_view name, Role* role);

struct Principal {
  std::string id;
  Role role = Role::kAdmin;
  std::string scope;  // empty: everything
  // What the per-token limits count against: "gt_<id>" for a stored token,
  // "file:<caller-id>" for a token of the file, "open:<caller-id>" in open
  // mode.
  std::string limit_key;
};

struct AuthLimits {
  struct Rate {
    double per_second = 0;  // 0: unlimited
    double burst = 0;       // bucket size; below 1 means max(1, per_second)
  };
  std::array<Rate, kRoleCount> rate{};  // by Role
  // A peer (client address, without its port) that fails authentication this
  // many times within `failure_window` is refused for the rest of the window
  // (TOO_MANY_AUTH_FAILURES). 0: no lock-out.
  int max_auth_failures = 20;
  Micros failure_window = 60'000'000;
  // Concurrent EscalationFeed.Watch streams per token (WATCH_LIMIT). 0: no cap.
  int max_watch_streams = 16;
  // Peers and buckets tracked at most; beyond, expired entries are dropped.
  size_t max_tracked = 100000;
};

// Set by the Open311 gateway on its calls over the in-process channel: the
// HTTP client's address, so that the lock-out of failing clients and the
// access log see each HTTP client and not the gateway. Trusted only on the
// in-process channel: a network client that sends it is judged by its own
// address.
inline constexpr const char* kForwardedPeerKey = "x-grid-http-peer";

// The client's address without its port ("ipv4:10.0.0.7:51234" ->
// "ipv4:10.0.0.7"); for a call over the in-process channel that carries
// kForwardedPeerKey, "http:" and that address.
std::string ClientAddress(const grpc::ServerContextBase& context);

// Parses "ROLE=PER_SECOND[:BURST]" (gridd --rate-limit) into `limits`;
// false with `error` set when it is malformed.
bool ParseRateLimit(std::string_view text, AuthLimits* limits, std::string* error);

class Authenticator {
 public:
  // Open mode: no tokens.
  Authenticator();
  // Loads a token file. Errors name the line; TOKEN_FILE_SHARED when the
  // file is readable by group or others and `allow_shared` is false.
  static StatusOr<Authenticator> FromFile(const std::string& path, bool allow_shared = false);
  static StatusOr<Authenticator> FromText(std::string_view text, std::string_view source);

  bool open() const { return open_; }

  // Loads the stored tokens and from then on keeps them in `store`; `clock`
  // times expiry, last use and limits; `offload` runs a task off the gRPC
  // thread (false when it cannot: the task is dropped). REQUIRES: before
  // serving; store and clock outlive the authenticator.
  Status Attach(storage::Store* store, const Clock* clock, std::function<bool(std::function<void()>)> offload,
                const AuthLimits& limits);

  // Reads the token file again and swaps its tokens in; on any error the old
  // ones stay and the error is returned. OK and nothing done in open mode.
  Status ReloadFile();

  // UNAUTHENTICATED (MISSING_TOKEN, UNKNOWN_TOKEN, TOKEN_EXPIRED,
  // TOKEN_REVOKED, CLIENT_CERT_MISMATCH) when the call carries no valid
  // token; RESOURCE_EXHAUSTED (TOO_MANY_AUTH_FAILURES, RATE_LIMITED, with a
  // retry hint) when a limit refuses it.
  StatusOr<Principal> Authenticate(const grpc::CallbackServerContext& context) const;

  // Stored tokens (Operations). CreateToken validates the request (UNKNOWN_ROLE,
  // UNKNOWN_UNIT, BAD_TOKEN_NAME, BAD_TOKEN_EXPIRY, BAD_CLIENT_CN: nothing is
  // written then), writes the record synced and returns the secret.
  // RevokeToken: BAD_TOKEN_ID, TOKEN_NOT_FOUND; revoking twice keeps the
  // first time. REQUIRES: Attach. They block on the store: not on a gRPC thread.
  StatusOr<grid::v1::CreateTokenResponse> CreateToken(const grid::v1::CreateTokenRequest& request,
                                                      const Directory& directory);
  std::vector<grid::v1::TokenInfo> ListTokens() const;
  StatusOr<grid::v1::TokenInfo> RevokeToken(std::string_view token_id);

  // Takes one of the principal's Watch slots, held until the returned lease
  // is released; WATCH_LIMIT when they are all taken.
  StatusOr<std::shared_ptr<void>> AcquireStream(const Principal& principal) const;

 private:
  struct State;
  bool open_ = true;
  std::string path_;  // the token file, for ReloadFile
  bool allow_shared_ = false;
  std::shared_ptr<State> state_;  // shared with stream leases
};

}  // namespace grid::services
