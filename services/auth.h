// Identity: the one place where every call's caller is established. What a
// caller may do is the authorization policy's (services/policy.h).
//
// Callers present "authorization: Bearer <token>". A token file maps tokens to
// principals, one per line:   <token> <role> <scope-unit-code|*> <caller-id>
// (blank lines and lines starting with # are ignored). Without a token file
// the server runs open (development and demo only): every caller is an admin
// whose id is the "x-grid-caller" metadata value, or "anonymous".
//
// Roles: call_center, grid_worker, department, supervisor, town_office, admin.
// A scope is a unit; the principal sees that unit and its subtree ("*": all).
//
// Thread-safety: Authenticator is immutable after construction.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <unordered_map>

#include "engine/directory.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"

namespace grid::services {

enum class Role { kCallCenter, kGridWorker, kDepartment, kSupervisor, kTownOffice, kAdmin };

const char* RoleName(Role role);
bool ParseRole(std::string_view name, Role* role);

struct Principal {
  std::string id;
  Role role = Role::kAdmin;
  std::string scope;  // empty: everything
};

class Authenticator {
 public:
  // Open mode: no tokens.
  Authenticator() = default;
  // Loads a token file. Errors name the line.
  static StatusOr<Authenticator> FromFile(const std::string& path);
  static StatusOr<Authenticator> FromText(std::string_view text, std::string_view source);

  bool open() const { return open_; }

  // UNAUTHENTICATED (MISSING_TOKEN, UNKNOWN_TOKEN) when the call carries no
  // valid token.
  StatusOr<Principal> Authenticate(const grpc::CallbackServerContext& context) const;

 private:
  bool open_ = true;
  std::unordered_map<std::string, Principal> tokens_;
};

}  // namespace grid::services
