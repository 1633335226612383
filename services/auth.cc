// Authentication and authorisation: see auth.h.
#include "services/auth.h"

#include <fstream>
#include <sstream>

#include "engine/reasons.h"
#include "engine/text.h"

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

// Keeps the first code point of a name and masks the rest.
std::string MaskName(const std::string& name) {
  if (name.empty()) return name;
  size_t first = 1;
  while (first < name.size() && (static_cast<unsigned char>(name[first]) & 0xC0) == 0x80) ++first;
  size_t rest = text::CodePointCount(std::string_view(name).substr(first));
  return name.substr(0, first) + std::string(rest, '*');
}

// Keeps the first three and last four digits.
std::string MaskPhone(const std::string& phone) {
  if (phone.size() <= 7) return std::string(phone.size(), '*');
  return phone.substr(0, 3) + std::string(phone.size() - 7, '*') + phone.substr(phone.size() - 4);
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

Status Authorize(const Principal& p, Action action) {
  bool ok = false;
  switch (action) {
    case Action::kSubmitCase:
      ok = p.role == Role::kCallCenter || p.role == Role::kGridWorker || p.role == Role::kAdmin;
      break;
    case Action::kReadCase:
    case Action::kReadDirectory: ok = true; break;
    case Action::kChangeDirectory:
    case Action::kOperate: ok = p.role == Role::kAdmin; break;
  }
  if (ok) return Status::Ok();
  return Error(reason::ROLE_NOT_ALLOWED, std::string("role ") + RoleName(p.role) + " may not do this");
}

Status CheckScope(const Principal& p, const Directory& directory, std::string_view unit_code) {
  if (p.scope.empty() || directory.IsWithin(unit_code, p.scope)) return Status::Ok();
  return Error(reason::OUT_OF_SCOPE, std::string(unit_code) + " is outside the caller's scope " + p.scope);
}

bool SeesCitizen(const Principal& p) {
  return p.role == Role::kCallCenter || p.role == Role::kGridWorker || p.role == Role::kAdmin;
}

void MaskCitizen(const Principal& p, grid::v1::Case* c) {
  if (SeesCitizen(p)) return;
  auto* citizen = c->mutable_citizen();
  citizen->set_name(MaskName(citizen->name()));
  citizen->set_phone(MaskPhone(citizen->phone()));
}

}  // namespace grid::services
