// Authentication: see auth.h.
#include "services/auth.h"

#include <fstream>
#include <sstream>

#include "engine/reasons.h"

namespace grid::services {
namespace {

struct RoleEntry {
  Role role;
  const char* name;
};
constexpr RoleEntry kRoles[] = {
    {Role::kCallCenter, "call_center"}, {Role::kGridWorker, "grid_worker"}, {Role::kDepartment, "department"},
    {Role::kSupervisor, "supervisor"},  {Role::kTownOffice, "town_office"}, {Role::kAdmin, "admin"},
};

std::string_view Metadata(const grpc::CallbackServerContext& context, std::string_view key) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

bool IsCallerId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
              c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const char* RoleName(Role role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return r.name;
  }
  return "unknown";
}

bool ParseRole(std::string_view name, Role* role) {
  for (const auto& r : kRoles) {
    if (name == r.name) {
      *role = r.role;
      return true;
    }
  }
  return false;
}

StatusOr<Authenticator> Authenticator::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(reason::TOKEN_FILE_UNREADABLE, "cannot read token file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return FromText(ss.str(), path);
}

StatusOr<Authenticator> Authenticator::FromText(std::string_view text, std::string_view source) {
  Authenticator a;
  a.open_ = false;
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream fields(line);
    std::string token, role, scope, id, extra;
    if (!(fields >> token) || token[0] == '#') continue;
    const std::string where = std::string(source) + " line " + std::to_string(n) + ": ";
    if (!(fields >> role >> scope >> id) || (fields >> extra)) {
      return Error(reason::MALFORMED_TOKEN_FILE, where + "expected: <token> <role> <scope|*> <caller-id>");
    }
    Principal p;
    if (!ParseRole(role, &p.role)) return Error(reason::MALFORMED_TOKEN_FILE, where + "unknown role " + role);
    if (token.size() < 16) return Error(reason::MALFORMED_TOKEN_FILE, where + "tokens must be 16 characters or more");
    if (!IsCallerId(id)) return Error(reason::MALFORMED_TOKEN_FILE, where + "caller id must be [0-9A-Za-z._@-]");
    p.id = id;
    p.scope = scope == "*" ? "" : scope;
    if (!a.tokens_.emplace(token, std::move(p)).second) {
      return Error(reason::MALFORMED_TOKEN_FILE, where + "the token appears twice");
    }
  }
  return a;
}

StatusOr<Principal> Authenticator::Authenticate(const grpc::CallbackServerContext& context) const {
  if (open_) {
    Principal p;
    std::string_view caller = Metadata(context, "x-grid-caller");
    p.id = IsCallerId(caller) ? std::string(caller) : "anonymous";
    p.role = Role::kAdmin;
    return p;
  }
  std::string_view auth = Metadata(context, "authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth.starts_with(kBearer)) {
    return Error(reason::MISSING_TOKEN, "send 'authorization: Bearer <token>'");
  }
  auto it = tokens_.find(std::string(auth.substr(kBearer.size())));
  if (it == tokens_.end()) return Error(reason::UNKNOWN_TOKEN, "the token is not known");
  return it->second;
}

}  // namespace grid::services
