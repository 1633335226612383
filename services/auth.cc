// Authentication: see auth.h and docs/security.md.
#include "services/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "engine/reasons.h"
#include "engine/text.h"
#include "port/mutex.h"
#include "storage/store.h"

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

constexpr std::string_view kTokenPrefix = "gt_";
constexpr size_t kIdHexDigits = 16;
constexpr size_t kSecretBytes = 32;
constexpr Micros kLastUseEvery = 60'000'000;                     // persisted at most once a minute
constexpr uint64_t kMaxExpirySeconds = 10ull * 366 * 24 * 3600;  // ten years
constexpr Micros kMicrosPerSecond = 1'000'000;

std::string_view Metadata(const grpc::ServerContextBase& context, std::string_view key) {
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

bool IsTokenId(std::string_view id) {
  return id.size() == kIdHexDigits &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsClientCn(std::string_view cn) {
  return !cn.empty() && cn.size() <= 64 &&
         std::all_of(cn.begin(), cn.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(md), len);
}

// The verified client certificate's common name, or empty.
std::string PeerCommonName(const grpc::CallbackServerContext& context) {
  auto auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return {};
  auto values = auth->FindPropertyValues("x509_common_name");
  if (values.empty()) return {};
  return std::string(values.front().data(), values.front().size());
}

google::protobuf::Timestamp ToTimestamp(Micros micros) {
  google::protobuf::Timestamp t;
  t.set_seconds(micros / kMicrosPerSecond);
  t.set_nanos(static_cast<int32_t>(micros % kMicrosPerSecond) * 1000);
  return t;
}

Micros ToMicros(const google::protobuf::Timestamp& t) { return t.seconds() * kMicrosPerSecond + t.nanos() / 1000; }

Status WithRetry(Status status, Micros wait) {
  status.set_retry_after_ms(std::max<int64_t>(1, (wait + 999) / 1000));
  return status;
}

// A token of the store, as held in memory.
struct StoredEntry {
  grid::v1::StoredToken record;  // info.last_used_at kept in last_used instead
  Principal principal;
  Micros expires = 0;  // 0: never
  bool revoked = false;
  Micros last_used = 0;
  Micros last_persisted = 0;
};

StoredEntry EntryOf(grid::v1::StoredToken record) {
  StoredEntry e;
  const auto& info = record.info();
  e.principal.id = info.name();
  if (!ParseRole(info.role(), &e.principal.role)) e.principal.role = Role::kCallCenter;  // verifier-checked
  e.principal.scope = info.scope_unit_code();
  e.principal.limit_key = std::string(kTokenPrefix) + info.token_id();
  e.expires = info.has_expires_at() ? ToMicros(info.expires_at()) : 0;
  e.revoked = info.has_revoked_at();
  e.last_used = e.last_persisted = info.has_last_used_at() ? ToMicros(info.last_used_at()) : 0;
  record.mutable_info()->clear_last_used_at();
  e.record = std::move(record);
  return e;
}

grid::v1::TokenInfo InfoOf(const StoredEntry& e) {
  grid::v1::TokenInfo info = e.record.info();
  if (e.last_used != 0) *info.mutable_last_used_at() = ToTimestamp(e.last_used);
  return info;
}

struct Bucket {
  double tokens = 0;
  Micros at = 0;
};

struct Failures {
  Micros window_start = 0;
  int count = 0;
};

// The peer of a call over the server's in-process channel: that transport
// gives its calls no address, and gRPC reports "unknown"; every network
// transport (TCP, Unix socket) gives one ("ipv4:...", "ipv6:...", "unix:...").
// tests/services/observability_test.cc pins both sides.
constexpr std::string_view kInProcessPeer = "unknown";

}  // namespace

std::string ClientAddress(const grpc::ServerContextBase& context) {
  std::string peer = context.peer();
  if (peer == kInProcessPeer) {
    const std::string_view forwarded = Metadata(context, kForwardedPeerKey);
    if (!forwarded.empty() && forwarded.size() <= 64) return "http:" + std::string(forwarded);
    return peer;
  }
  const size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) peer.resize(colon);
  return peer;
}

struct Authenticator::State {
  Mutex admin_mu;  // serialises CreateToken and RevokeToken across their store writes
  mutable Mutex mu;
  storage::Store* store = nullptr;
  const Clock* clock = nullptr;
  std::function<bool(std::function<void()>)> offload;
  AuthLimits limits ABSL_GUARDED_BY(mu);
  std::unordered_map<std::string, Principal> file_tokens ABSL_GUARDED_BY(mu);
  std::map<std::string, StoredEntry> stored ABSL_GUARDED_BY(mu);           // by token id
  std::unordered_map<std::string, std::string> by_cn ABSL_GUARDED_BY(mu);  // client CN -> live token id
  std::unordered_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  std::unordered_map<std::string, Failures> failures ABSL_GUARDED_BY(mu);  // by peer host
  std::unordered_map<std::string, int> streams ABSL_GUARDED_BY(mu);        // by limit key

  Micros Now() const { return clock != nullptr ? clock->NowMicros() : 0; }

  // Counts a failed authentication of `peer`.
  void Fail(const std::string& peer, Micros now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (limits.max_auth_failures <= 0) return;
    if (failures.size() >= limits.max_tracked) {
      const Micros window = limits.failure_window;
      std::erase_if(failures, [&](const auto& kv) { return now - kv.second.window_start >= window; });
      if (failures.size() >= limits.max_tracked) return;
    }
    Failures& f = failures[peer];
    if (now - f.window_start >= limits.failure_window) f = Failures{now, 0};
    ++f.count;
  }

  // Counts the failure and returns `status`.
  Status Refuse(const std::string& peer, Micros now, Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Fail(peer, now);
    return status;
  }

  // TOO_MANY_AUTH_FAILURES while `peer` is locked out.
  Status CheckPeer(const std::string& peer, Micros now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (limits.max_auth_failures <= 0) return Status::Ok();
    auto it = failures.find(peer);
    if (it == failures.end() || it->second.count < limits.max_auth_failures) return Status::Ok();
    const Micros left = it->second.window_start + limits.failure_window - now;
    if (left <= 0) return Status::Ok();
    return WithRetry(Error(reason::TOO_MANY_AUTH_FAILURES,
                           std::to_string(it->second.count) + " failed authentications from " + peer +
                               "; retry after " + std::to_string((left + 999) / 1000) + " ms"),
                     left);
  }

  // Takes one call from the principal's bucket; RATE_LIMITED when empty.
  Status Take(const Principal& p, Micros now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const AuthLimits::Rate& rate = limits.rate[static_cast<size_t>(p.role)];
    if (rate.per_second <= 0) return Status::Ok();
    const double burst = rate.burst >= 1 ? rate.burst : std::max(1.0, rate.per_second);
    if (buckets.size() >= limits.max_tracked && !buckets.contains(p.limit_key)) buckets.clear();  // all refill
    auto [it, fresh] = buckets.try_emplace(p.limit_key, Bucket{burst, now});
    Bucket& b = it->second;
    if (!fresh && now > b.at) {
      b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.at) * rate.per_second / 1e6);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return Status::Ok();
    }
    const auto wait = static_cast<Micros>(std::ceil((1 - b.tokens) / rate.per_second * 1e6));
    return WithRetry(Error(reason::RATE_LIMITED, std::string("role ") + RoleName(p.role) + " may make " +
                                                     std::to_string(rate.per_second) + " calls/s; retry after " +
                                                     std::to_string((wait + 999) / 1000) + " ms"),
                     wait);
  }
};

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

bool ParseRateLimit(std::string_view text, AuthLimits* limits, std::string* error) {
  const size_t eq = text.find('=');
  Role role;
  if (eq == std::string_view::npos || !ParseRole(text.substr(0, eq), &role)) {
    *error = "expected ROLE=PER_SECOND[:BURST] with one of the six roles, not '" + std::string(text) + "'";
    return false;
  }
  std::string rest(text.substr(eq + 1));
  double per_second = 0, burst = 0;
  char* end = nullptr;
  per_second = std::strtod(rest.c_str(), &end);
  if (end != rest.c_str() && *end == ':') {
    const char* b = end + 1;
    burst = std::strtod(b, &end);
    if (end == b) end = nullptr;
  }
  if (end == nullptr || end == rest.c_str() || *end != '\0' || !std::isfinite(per_second) || per_second < 0 ||
      per_second > 1e6 || !std::isfinite(burst) || burst < 0 || burst > 1e6) {
    *error = "expected ROLE=PER_SECOND[:BURST], numbers within [0, 1e6], not '" + std::string(text) + "'";
    return false;
  }
  limits->rate[static_cast<size_t>(role)] = AuthLimits::Rate{per_second, burst};
  return true;
}

Authenticator::Authenticator() : state_(std::make_shared<State>()) {}

StatusOr<Authenticator> Authenticator::FromFile(const std::string& path, bool allow_shared) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error(reason::TOKEN_FILE_UNREADABLE, "cannot read token file " + path);
  if ((st.st_mode & 077) != 0 && !allow_shared) {
    return Error(reason::TOKEN_FILE_SHARED, "the token file " + path +
                                                " is readable or writable by group or others: chmod 600 it (or start "
                                                "with --allow-shared-token-file)");
  }
  std::ifstream in(path);
  if (!in) return Error(reason::TOKEN_FILE_UNREADABLE, "cannot read token file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto a = FromText(ss.str(), path);
  if (!a.ok()) return a.status();
  a->path_ = path;
  a->allow_shared_ = allow_shared;
  return a;
}

StatusOr<Authenticator> Authenticator::FromText(std::string_view text, std::string_view source) {
  std::unordered_map<std::string, Principal> tokens;
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
    if (token.starts_with(kTokenPrefix)) {
      return Error(reason::MALFORMED_TOKEN_FILE, where + "tokens starting gt_ are the store's; choose another");
    }
    if (!IsCallerId(id)) return Error(reason::MALFORMED_TOKEN_FILE, where + "caller id must be [0-9A-Za-z._@-]");
    p.id = id;
    p.scope = scope == "*" ? "" : scope;
    p.limit_key = "file:" + id;
    if (!tokens.emplace(token, std::move(p)).second) {
      return Error(reason::MALFORMED_TOKEN_FILE, where + "the token appears twice");
    }
  }
  Authenticator a;
  a.open_ = false;
  {
    MutexLock lock(&a.state_->mu);
    a.state_->file_tokens = std::move(tokens);
  }
  return a;
}

Status Authenticator::Attach(storage::Store* store, const Clock* clock,
                             std::function<bool(std::function<void()>)> offload, const AuthLimits& limits) {
  auto tokens = store->ListTokens();
  if (!tokens.ok()) return tokens.status();
  State& s = *state_;
  s.store = store;
  s.clock = clock;
  s.offload = std::move(offload);
  MutexLock lock(&s.mu);
  s.limits = limits;
  s.stored.clear();
  s.by_cn.clear();
  for (auto& t : *tokens) {
    StoredEntry e = EntryOf(std::move(t));
    if (!e.revoked && !e.record.info().client_cn().empty())
      s.by_cn[e.record.info().client_cn()] = e.record.info().token_id();
    s.stored.emplace(e.record.info().token_id(), std::move(e));
  }
  return Status::Ok();
}

Status Authenticator::ReloadFile() {
  if (open_ || path_.empty()) return Status::Ok();
  auto fresh = FromFile(path_, allow_shared_);
  if (!fresh.ok()) return fresh.status();
  std::unordered_map<std::string, Principal> tokens;
  {
    MutexLock lock(&fresh->state_->mu);
    tokens = std::move(fresh->state_->file_tokens);
  }
  MutexLock lock(&state_->mu);
  state_->file_tokens = std::move(tokens);
  return Status::Ok();
}

StatusOr<Principal> Authenticator::Authenticate(const grpc::CallbackServerContext& context) const {
  State& s = *state_;
  const Micros now = s.Now();
  const std::string peer = ClientAddress(context);
  if (open_) {
    Principal p;
    std::string_view caller = Metadata(context, "x-grid-caller");
    p.id = IsCallerId(caller) ? std::string(caller) : "anonymous";
    p.role = Role::kAdmin;
    p.limit_key = "open:" + p.id;
    MutexLock lock(&s.mu);
    GRID_RETURN_IF_ERROR(s.Take(p, now));
    return p;
  }
  std::string_view auth = Metadata(context, "authorization");
  constexpr std::string_view kBearer = "Bearer ";
  const std::string cn = PeerCommonName(context);
  std::string persist_id;  // a last use to record, outside the lock
  Principal principal;
  {
    MutexLock lock(&s.mu);
    GRID_RETURN_IF_ERROR(s.CheckPeer(peer, now));
    StoredEntry* entry = nullptr;
    if (!auth.starts_with(kBearer)) {
      auto bound = cn.empty() ? s.by_cn.end() : s.by_cn.find(cn);
      if (bound == s.by_cn.end())
        return s.Refuse(peer, now, Error(reason::MISSING_TOKEN, "send 'authorization: Bearer <token>'"));
      entry = &s.stored.at(bound->second);
    } else {
      const std::string_view token = auth.substr(kBearer.size());
      if (token.starts_with(kTokenPrefix)) {
        // gt_<id>_<secret>: one lookup by id, then the secret's hash compared in constant time.
        const std::string_view rest = token.substr(kTokenPrefix.size());
        const std::string_view id = rest.substr(0, kIdHexDigits);
        auto it = IsTokenId(id) && rest.size() > kIdHexDigits + 1 && rest[kIdHexDigits] == '_'
                      ? s.stored.find(std::string(id))
                      : s.stored.end();
        const std::string hash = it == s.stored.end() ? std::string() : Sha256(rest.substr(kIdHexDigits + 1));
        if (it == s.stored.end() || hash.size() != it->second.record.secret_sha256().size() ||
            CRYPTO_memcmp(hash.data(), it->second.record.secret_sha256().data(), hash.size()) != 0) {
          return s.Refuse(peer, now, Error(reason::UNKNOWN_TOKEN, "the token is not known"));
        }
        entry = &it->second;
        const std::string& bound_cn = entry->record.info().client_cn();
        if (!bound_cn.empty() && bound_cn != cn) {
          return s.Refuse(
              peer, now,
              Error(reason::CLIENT_CERT_MISMATCH, "the token is bound to a client certificate with CN " + bound_cn));
        }
      } else {
        auto it = s.file_tokens.find(std::string(token));
        if (it == s.file_tokens.end())
          return s.Refuse(peer, now, Error(reason::UNKNOWN_TOKEN, "the token is not known"));
        principal = it->second;
      }
    }
    if (entry != nullptr) {
      if (entry->revoked) return s.Refuse(peer, now, Error(reason::TOKEN_REVOKED, "the token has been revoked"));
      if (entry->expires != 0 && now >= entry->expires) {
        return s.Refuse(peer, now, Error(reason::TOKEN_EXPIRED, "the token expired"));
      }
      principal = entry->principal;
      if (now > entry->last_used) entry->last_used = now;
      if (s.store != nullptr && now - entry->last_persisted >= kLastUseEvery) {
        entry->last_persisted = now;
        persist_id = entry->record.info().token_id();
      }
    }
    GRID_RETURN_IF_ERROR(s.Take(principal, now));
  }
  if (!persist_id.empty() && s.offload) {
    // When the queue is full the use goes unrecorded; a call a minute on tries again.
    (void)s.offload([store = s.store, id = std::move(persist_id), now] { (void)store->PutTokenLastUse(id, now); });
  }
  return principal;
}

StatusOr<grid::v1::CreateTokenResponse> Authenticator::CreateToken(const grid::v1::CreateTokenRequest& request,
                                                                   const Directory& directory) {
  State& s = *state_;
  Role role;
  if (!ParseRole(request.role(), &role)) {
    return Error(reason::UNKNOWN_ROLE, "role '" + request.role() +
                                           "' is not one of call_center, grid_worker, department, supervisor, "
                                           "town_office, admin");
  }
  const std::string scope = request.scope_unit_code() == "*" ? "" : request.scope_unit_code();
  if (!scope.empty() && directory.FindUnit(scope) == nullptr) {
    return Error(reason::UNKNOWN_UNIT, "no unit " + scope + " in the directory");
  }
  if (!IsCallerId(request.name())) {
    return Error(reason::BAD_TOKEN_NAME, "name must be 1-64 characters of [0-9A-Za-z._@-]");
  }
  if (request.expires_in_seconds() > kMaxExpirySeconds) {
    return Error(reason::BAD_TOKEN_EXPIRY, "expires_in_seconds may be ten years at most");
  }
  if (!request.client_cn().empty() && !IsClientCn(request.client_cn())) {
    return Error(reason::BAD_CLIENT_CN, "client_cn must be 1-64 printable ASCII characters");
  }
  if (s.store == nullptr) return Error(reason::STORE_FAILED, "the token store is not attached");
  MutexLock admin(&s.admin_mu);
  unsigned char id_bytes[kIdHexDigits / 2], secret_bytes[kSecretBytes];
  std::string id;
  {
    MutexLock lock(&s.mu);
    if (!request.client_cn().empty() && s.by_cn.contains(request.client_cn())) {
      return Error(reason::BAD_CLIENT_CN, "another live token is bound to CN " + request.client_cn());
    }
    do {
      if (RAND_bytes(id_bytes, sizeof id_bytes) != 1) return Error(reason::STORE_FAILED, "no randomness for an id");
      id = Hex(id_bytes, sizeof id_bytes);
    } while (s.stored.contains(id));
  }
  if (RAND_bytes(secret_bytes, sizeof secret_bytes) != 1) return Error(reason::STORE_FAILED, "no randomness");
  const std::string secret = Hex(secret_bytes, sizeof secret_bytes);
  OPENSSL_cleanse(secret_bytes, sizeof secret_bytes);

  const Micros now = s.Now();
  grid::v1::StoredToken record;
  auto* info = record.mutable_info();
  info->set_token_id(id);
  info->set_name(request.name());
  info->set_role(RoleName(role));
  info->set_scope_unit_code(scope);
  *info->mutable_created_at() = ToTimestamp(now);
  if (request.expires_in_seconds() > 0) {
    *info->mutable_expires_at() =
        ToTimestamp(now + static_cast<Micros>(request.expires_in_seconds()) * kMicrosPerSecond);
  }
  info->set_client_cn(request.client_cn());
  record.set_secret_sha256(Sha256(secret));
  GRID_RETURN_IF_ERROR(s.store->PutToken(record));

  grid::v1::CreateTokenResponse response;
  *response.mutable_token() = record.info();
  response.set_secret(std::string(kTokenPrefix) + id + "_" + secret);
  MutexLock lock(&s.mu);
  if (!request.client_cn().empty()) s.by_cn[request.client_cn()] = id;
  s.stored.emplace(id, EntryOf(std::move(record)));
  return response;
}

std::vector<grid::v1::TokenInfo> Authenticator::ListTokens() const {
  std::vector<grid::v1::TokenInfo> out;
  MutexLock lock(&state_->mu);
  for (const auto& [id, e] : state_->stored) out.push_back(InfoOf(e));
  return out;
}

StatusOr<grid::v1::TokenInfo> Authenticator::RevokeToken(std::string_view token_id) {
  State& s = *state_;
  if (!IsTokenId(token_id)) return Error(reason::BAD_TOKEN_ID, "a token id is 16 lowercase hex digits");
  MutexLock admin(&s.admin_mu);
  grid::v1::StoredToken record;
  {
    MutexLock lock(&s.mu);
    auto it = s.stored.find(std::string(token_id));
    if (it == s.stored.end()) return Error(reason::TOKEN_NOT_FOUND, "no token " + std::string(token_id));
    if (it->second.revoked) return InfoOf(it->second);
    record = it->second.record;
  }
  *record.mutable_info()->mutable_revoked_at() = ToTimestamp(s.Now());
  GRID_RETURN_IF_ERROR(s.store->PutToken(record));
  MutexLock lock(&s.mu);
  StoredEntry& e = s.stored.at(std::string(token_id));
  e.revoked = true;
  e.record = std::move(record);
  if (auto it = s.by_cn.find(e.record.info().client_cn()); it != s.by_cn.end() && it->second == token_id) {
    s.by_cn.erase(it);
  }
  return InfoOf(e);
}

StatusOr<std::shared_ptr<void>> Authenticator::AcquireStream(const Principal& principal) const {
  std::shared_ptr<State> s = state_;
  {
    MutexLock lock(&s->mu);
    const int cap = s->limits.max_watch_streams;
    int& n = s->streams[principal.limit_key];
    if (cap > 0 && n >= cap) {
      return Error(reason::WATCH_LIMIT, "the token holds " + std::to_string(n) + " Watch streams, the most it may");
    }
    ++n;
  }
  return std::shared_ptr<void>(nullptr, [s, key = principal.limit_key](void*) {
    MutexLock lock(&s->mu);
    auto it = s->streams.find(key);
    if (it != s->streams.end() && --it->second <= 0) s->streams.erase(it);
  });
}

}  // namespace grid::services
