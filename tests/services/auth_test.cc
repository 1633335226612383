// Authentication through a real server: stored tokens (create, list, revoke,
// expiry, last use, restarts), their bad values, the token file's
// permissions and reload, open mode's loopback rule, the limits (rates,
// failed-authentication lock-out, Watch streams, request sizes), and TLS
// and mutual TLS with certificates made in the test.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "grid/v1/operations.grpc.pb.h"
#include "grid/v1/service.grpc.pb.h"
#include "tests/support/grpc_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/store_verified.h"
#include "tests/support/submit_request.h"
#include "tests/support/test_certs.h"

namespace grid::services {
namespace {

namespace v1 = grid::v1;
using testing::CallResult;

constexpr const char* kAdmin = "admin-token-0000001";
constexpr const char* kCallCenter = "callcenter-token-01";
constexpr Micros kSecond = 1'000'000;

std::string Trailer(const grpc::ClientContext& ctx, const std::string& key) {
  auto md = ctx.GetServerTrailingMetadata();
  auto it = md.find(key);
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

class AuthTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    std::ofstream(tokens_file()) << "# token role scope caller\n"
                                 << kAdmin << " admin * root\n"
                                 << kCallCenter << " call_center 100 cc-county\n";
  }
  std::string tokens_file() const { return tmp_.Sub("tokens"); }
  void Start() {
    StartServer(tokens_file());
    ops_ = v1::Operations::NewStub(clients_->channel);
  }
  void Stop() {
    ops_.reset();
    StopServer();
  }

  CallResult Create(const v1::CreateTokenRequest& req, v1::CreateTokenResponse* resp,
                    const std::string& token = kAdmin) {
    auto ctx = testing::Context(token);
    CallResult r;
    r.status = ops_->CreateToken(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }
  static v1::CreateTokenRequest Spec(const std::string& role, const std::string& scope, const std::string& name,
                                     uint64_t expires_s = 0) {
    v1::CreateTokenRequest r;
    r.set_role(role);
    r.set_scope_unit_code(scope);
    r.set_name(name);
    r.set_expires_in_seconds(expires_s);
    return r;
  }
  std::vector<v1::TokenInfo> List() {
    auto ctx = testing::Context(kAdmin);
    v1::ListTokensResponse resp;
    EXPECT_TRUE(ops_->ListTokens(ctx.get(), v1::ListTokensRequest(), &resp).ok());
    return {resp.tokens().begin(), resp.tokens().end()};
  }
  CallResult Revoke(const std::string& id, v1::RevokeTokenResponse* resp) {
    auto ctx = testing::Context(kAdmin);
    v1::RevokeTokenRequest req;
    req.set_token_id(id);
    CallResult r;
    r.status = ops_->RevokeToken(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }
  // A GetUnit call with `token`: the cheapest authenticated read.
  CallResult Read(const std::string& token, grpc::ClientContext* keep = nullptr) {
    auto ctx = testing::Context(token);
    v1::GetUnitRequest req;
    req.set_code("100001");
    v1::GetUnitResponse resp;
    CallResult r;
    r.status = clients_->directory->GetUnit(keep != nullptr ? keep : ctx.get(), req, &resp);
    r.reason = testing::Reason(keep != nullptr ? *keep : *ctx);
    return r;
  }

  std::unique_ptr<v1::Operations::Stub> ops_;
};

TEST_F(AuthTest, CreatedTokensAuthenticateAndListWithoutTheirSecret) {
  Start();
  v1::CreateTokenResponse created;
  CallResult r = Create(Spec("town_office", "100001", "town-a"), &created);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const std::string secret = created.secret();
  ASSERT_TRUE(secret.starts_with("gt_" + created.token().token_id() + "_")) << secret;
  EXPECT_EQ(created.token().role(), "town_office");
  EXPECT_EQ(created.token().scope_unit_code(), "100001");
  EXPECT_FALSE(created.token().has_expires_at());

  EXPECT_TRUE(Read(secret).status.ok());
  // The town office may read its town but not another.
  grid::v1::SubmitCaseResponse sub;
  ASSERT_TRUE(
      testing::Submit(*clients_->intake, testing::Submission().Key("k").Build(), &sub, kCallCenter).status.ok());
  grid::v1::GetCaseResponse got;
  EXPECT_TRUE(testing::GetCase(*clients_->query, sub.case_().id(), &got, secret).status.ok());
  EXPECT_EQ(got.case_().citizen().phone().find("****"), 3u);  // masked for its role

  auto tokens = List();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].token_id(), created.token().token_id());
  EXPECT_EQ(tokens[0].name(), "town-a");
  EXPECT_EQ(tokens[0].DebugString().find(secret.substr(20)), std::string::npos);

  // A wrong secret for a known id, and a made-up token of the right shape.
  std::string wrong = secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(Read(wrong).reason, "UNKNOWN_TOKEN");
  EXPECT_EQ(Read("gt_0123456789abcdef_00").reason, "UNKNOWN_TOKEN");
}

TEST_F(AuthTest, RevocationHoldsAtOnceAndAfterARestart) {
  Start();
  v1::CreateTokenResponse a, b;
  ASSERT_TRUE(Create(Spec("supervisor", "*", "sup-a"), &a).status.ok());
  ASSERT_TRUE(Create(Spec("supervisor", "*", "sup-b"), &b).status.ok());
  ASSERT_TRUE(Read(a.secret()).status.ok());
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(Revoke(a.token().token_id(), &revoked).status.ok());
  EXPECT_TRUE(revoked.token().has_revoked_at());
  CallResult r = Read(a.secret());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(r.reason, "TOKEN_REVOKED");
  // Revoking twice keeps the first time.
  clock_.Advance(10 * kSecond);
  v1::RevokeTokenResponse again;
  ASSERT_TRUE(Revoke(a.token().token_id(), &again).status.ok());
  EXPECT_EQ(again.token().revoked_at().seconds(), revoked.token().revoked_at().seconds());

  Stop();
  EXPECT_TRUE(testing::StoreVerifiesClean(data_dir()));
  Start();
  EXPECT_EQ(Read(a.secret()).reason, "TOKEN_REVOKED");
  EXPECT_TRUE(Read(b.secret()).status.ok());
  auto tokens = List();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].token_id() == a.token().token_id() ? tokens[0].has_revoked_at() : tokens[1].has_revoked_at(),
            true);
}

TEST_F(AuthTest, TokensExpireOnTheServersClock) {
  Start();
  v1::CreateTokenResponse t;
  ASSERT_TRUE(Create(Spec("call_center", "*", "cc-temp", 3600), &t).status.ok());
  EXPECT_EQ(t.token().expires_at().seconds() - t.token().created_at().seconds(), 3600);
  EXPECT_TRUE(Read(t.secret()).status.ok());
  clock_.Advance(3600 * kSecond);
  CallResult r = Read(t.secret());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(r.reason, "TOKEN_EXPIRED");
}

TEST_F(AuthTest, LastUseIsKeptToTheMinuteAndSurvivesARestart) {
  Start();
  v1::CreateTokenResponse t;
  ASSERT_TRUE(Create(Spec("grid_worker", "*", "gw-1"), &t).status.ok());
  EXPECT_FALSE(List()[0].has_last_used_at());
  ASSERT_TRUE(Read(t.secret()).status.ok());
  const int64_t first = List()[0].last_used_at().seconds();
  EXPECT_EQ(first, testing::kStart / kSecond);
  clock_.Advance(90 * kSecond);
  ASSERT_TRUE(Read(t.secret()).status.ok());
  EXPECT_EQ(List()[0].last_used_at().seconds(), first + 90);  // in memory at once
  Stop();                                                     // the executor finishes the queued last-use writes
  Start();
  EXPECT_EQ(List()[0].last_used_at().seconds(), first + 90);
}

// Every bad value of CreateToken and RevokeToken: a clear reason, nothing stored.
TEST_F(AuthTest, BadTokenRequestsChangeNothing) {
  Start();
  v1::CreateTokenResponse bound;
  auto with_cn = Spec("admin", "*", "ops-bot");
  with_cn.set_client_cn("ops-bot.example");
  ASSERT_TRUE(Create(with_cn, &bound).status.ok());
  struct Case {
    const char* name;
    v1::CreateTokenRequest req;
    const char* reason;
    grpc::StatusCode code;
  };
  auto cn = [](v1::CreateTokenRequest r, const std::string& c) {
    r.set_client_cn(c);
    return r;
  };
  const std::vector<Case> cases = {
      {"unknown role", Spec("janitor", "*", "x"), "UNKNOWN_ROLE", grpc::StatusCode::INVALID_ARGUMENT},
      {"empty role", Spec("", "*", "x"), "UNKNOWN_ROLE", grpc::StatusCode::INVALID_ARGUMENT},
      {"unknown scope", Spec("supervisor", "999", "x"), "UNKNOWN_UNIT", grpc::StatusCode::INVALID_ARGUMENT},
      {"empty name", Spec("supervisor", "*", ""), "BAD_TOKEN_NAME", grpc::StatusCode::INVALID_ARGUMENT},
      {"name with a space", Spec("supervisor", "*", "a b"), "BAD_TOKEN_NAME", grpc::StatusCode::INVALID_ARGUMENT},
      {"name too long", Spec("supervisor", "*", std::string(65, 'a')), "BAD_TOKEN_NAME",
       grpc::StatusCode::INVALID_ARGUMENT},
      {"expiry beyond ten years", Spec("supervisor", "*", "x", 11ull * 366 * 86400), "BAD_TOKEN_EXPIRY",
       grpc::StatusCode::INVALID_ARGUMENT},
      {"control character in CN", cn(Spec("supervisor", "*", "x"), "a\nb"), "BAD_CLIENT_CN",
       grpc::StatusCode::INVALID_ARGUMENT},
      {"CN too long", cn(Spec("supervisor", "*", "x"), std::string(65, 'c')), "BAD_CLIENT_CN",
       grpc::StatusCode::INVALID_ARGUMENT},
      {"CN of a live token", cn(Spec("supervisor", "*", "x"), "ops-bot.example"), "BAD_CLIENT_CN",
       grpc::StatusCode::INVALID_ARGUMENT},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    v1::CreateTokenResponse resp;
    CallResult r = Create(c.req, &resp);
    EXPECT_EQ(r.status.error_code(), c.code);
    EXPECT_EQ(r.reason, c.reason);
  }
  // Not an admin.
  v1::CreateTokenResponse resp;
  CallResult r = Create(Spec("admin", "*", "sneaky"), &resp, kCallCenter);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.reason, "ROLE_NOT_ALLOWED");

  for (const auto& [id, reason] :
       std::vector<std::pair<std::string, std::string>>{{"", "BAD_TOKEN_ID"},
                                                        {"0123", "BAD_TOKEN_ID"},
                                                        {"0123456789ABCDEF", "BAD_TOKEN_ID"},
                                                        {"0123456789abcdeg", "BAD_TOKEN_ID"},
                                                        {"0123456789abcdef", "TOKEN_NOT_FOUND"}}) {
    SCOPED_TRACE(id);
    v1::RevokeTokenResponse rr;
    EXPECT_EQ(Revoke(id, &rr).reason, reason);
  }
  auto ctx = testing::Context(kCallCenter);
  v1::ListTokensResponse listed;
  EXPECT_EQ(ops_->ListTokens(ctx.get(), v1::ListTokensRequest(), &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Only the one good token is stored, and it is live.
  Stop();
  Start();
  auto tokens = List();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].name(), "ops-bot");
  EXPECT_FALSE(tokens[0].has_revoked_at());
}

TEST_F(AuthTest, ATokenFileOthersCanReadIsRefusedUnlessAllowed) {
  ::chmod(tokens_file().c_str(), 0644);
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = data_dir();
  config.tokens_file = tokens_file();
  auto s = GridServer::Start(config, &clock_, directory_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "TOKEN_FILE_SHARED");
  EXPECT_NE(s.status().message().find("chmod 600"), std::string::npos);
  config.allow_shared_token_file = true;
  s = GridServer::Start(config, &clock_, directory_);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
}

TEST_F(AuthTest, ReloadingTheTokenFileSwapsItsTokens) {
  Start();
  EXPECT_TRUE(Read(kCallCenter).status.ok());
  std::ofstream(tokens_file()) << kAdmin << " admin * root\nnew-token-000000001 supervisor * new-super\n";
  ASSERT_TRUE(server_->ReloadTokens().ok());
  EXPECT_EQ(Read(kCallCenter).reason, "UNKNOWN_TOKEN");
  EXPECT_TRUE(Read("new-token-000000001").status.ok());
  // A broken file keeps the tokens in force.
  std::ofstream(tokens_file()) << "short admin * x\n";
  Status st = server_->ReloadTokens();
  EXPECT_EQ(st.reason(), "MALFORMED_TOKEN_FILE");
  EXPECT_TRUE(Read("new-token-000000001").status.ok());
  ::chmod(tokens_file().c_str(), 0604);
  std::ofstream(tokens_file()) << kAdmin << " admin * root\n";
  EXPECT_EQ(server_->ReloadTokens().reason(), "TOKEN_FILE_SHARED");
  EXPECT_TRUE(Read("new-token-000000001").status.ok());
}

TEST_F(AuthTest, OpenModeListensOnLoopbackOnly) {
  ServerConfig config;
  config.data_dir = data_dir();
  for (const char* listen : {"0.0.0.0:0", "[::]:0", "10.1.2.3:0"}) {
    SCOPED_TRACE(listen);
    config.listen = listen;
    auto s = GridServer::Start(config, &clock_, directory_);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().reason(), "OPEN_MODE_NOT_LOOPBACK");
  }
  for (const char* listen : {"127.0.0.1:0", "localhost:0", "[::1]:0"}) {
    SCOPED_TRACE(listen);
    config.listen = listen;
    auto s = GridServer::Start(config, &clock_, directory_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
  }
}

TEST_F(AuthTest, RatesAreLimitedPerTokenByRole) {
  config_.auth_limits.rate[static_cast<size_t>(Role::kCallCenter)] = {2, 2};
  Start();
  EXPECT_TRUE(Read(kCallCenter).status.ok());
  EXPECT_TRUE(Read(kCallCenter).status.ok());
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kCallCenter);
  CallResult r = Read(kCallCenter, &ctx);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(r.reason, "RATE_LIMITED");
  EXPECT_EQ(Trailer(ctx, "retry-after-ms"), "500");
  EXPECT_NE(r.status.error_message().find("retry after 500 ms"), std::string::npos);
  EXPECT_TRUE(Read(kAdmin).status.ok());  // another role, another bucket
  clock_.Advance(kSecond / 2);
  EXPECT_TRUE(Read(kCallCenter).status.ok());
  EXPECT_EQ(Read(kCallCenter).reason, "RATE_LIMITED");
}

TEST_F(AuthTest, PeersThatFailTooOftenAreLockedOutForTheWindow) {
  config_.auth_limits.max_auth_failures = 3;
  config_.auth_limits.failure_window = 60 * kSecond;
  Start();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Read("guess-000000000000" + std::to_string(i)).reason, "UNKNOWN_TOKEN");
  clock_.Advance(20 * kSecond);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kAdmin);
  CallResult r = Read(kAdmin, &ctx);  // even a good token, from this peer
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(r.reason, "TOO_MANY_AUTH_FAILURES");
  EXPECT_EQ(Trailer(ctx, "retry-after-ms"), "40000");
  clock_.Advance(40 * kSecond);
  EXPECT_TRUE(Read(kAdmin).status.ok());
  EXPECT_EQ(Read("guess-0000000000009").reason, "UNKNOWN_TOKEN");  // a new window
}

TEST_F(AuthTest, WatchStreamsAreCappedPerToken) {
  config_.auth_limits.max_watch_streams = 1;
  Start();
  auto stub = v1::EscalationFeed::NewStub(clients_->channel);
  v1::WatchRequest req;  // from cursor 0 of an empty feed: caught up at once
  auto open = [&](grpc::ClientContext* ctx, const char* token) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    ctx->AddMetadata("authorization", std::string("Bearer ") + token);
    return stub->Watch(ctx, req);
  };
  grpc::ClientContext first_ctx;
  auto first = open(&first_ctx, kAdmin);
  v1::WatchResponse msg;
  ASSERT_TRUE(first->Read(&msg));  // registered and caught up
  {
    grpc::ClientContext ctx;
    auto second = open(&ctx, kAdmin);
    EXPECT_FALSE(second->Read(&msg));
    grpc::Status st = second->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(testing::Reason(ctx), "WATCH_LIMIT");
  }
  {
    grpc::ClientContext ctx;  // another token has its own slots
    auto other = open(&ctx, kCallCenter);
    EXPECT_TRUE(other->Read(&msg));
    ctx.TryCancel();
    (void)other->Finish();
  }
  first_ctx.TryCancel();
  (void)first->Finish();
  // The slot frees when the server has finished the stream (an event on its
  // side): a bounded number of attempts, each a full round trip.
  bool reopened = false;
  for (int attempt = 0; attempt < 200 && !reopened; ++attempt) {
    grpc::ClientContext ctx;
    auto again = open(&ctx, kAdmin);
    reopened = again->Read(&msg);
    ctx.TryCancel();
    (void)again->Finish();
    if (!reopened) std::this_thread::yield();
  }
  EXPECT_TRUE(reopened);
}

TEST_F(AuthTest, OversizedRequestsAreRefusedPerMethod) {
  Start();
  std::string big(300 << 10, 'x');
  grid::v1::SubmitCaseResponse resp;
  CallResult r =
      testing::Submit(*clients_->intake, testing::Submission().Key("big").Description(big).Build(), &resp, kCallCenter);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.reason, "MESSAGE_TOO_LARGE");
  EXPECT_NE(r.status.error_message().find("at most 262144 bytes"), std::string::npos) << r.status.error_message();
  // A Watch request is small: 4 KiB at most, before its scope is looked up.
  {
    auto stub = v1::EscalationFeed::NewStub(clients_->channel);
    v1::WatchRequest req;
    req.set_scope_unit_code(std::string(5000, '1'));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kAdmin);
    auto reader = stub->Watch(&ctx, req);
    v1::WatchResponse msg;
    EXPECT_FALSE(reader->Read(&msg));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(testing::Reason(ctx), "MESSAGE_TOO_LARGE");
  }
  // Beyond gRPC's own limit, every method: gRPC refuses it before any handler.
  Stop();
  config_.max_receive_bytes = 64 << 10;
  Start();
  r = testing::Submit(*clients_->intake, testing::Submission().Key("big").Description(big).Build(), &resp, kCallCenter);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  Stop();
  auto store = storage::Store::Open(storage::StoreOptions{data_dir(), true});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->MaxCaseId(), 0u);
}

// TLS and mutual TLS, in process, with certificates made here.
class TlsTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    ca_ = std::make_unique<testing::TestCa>(tmp_.Sub("ca"), "grid test CA");
    other_ca_ = std::make_unique<testing::TestCa>(tmp_.Sub("other-ca"), "someone else");
    server_pem_ = ca_->Issue("server", "localhost", true);
    config_.tls_cert = server_pem_.cert;
    config_.tls_key = server_pem_.key;
  }
  std::shared_ptr<grpc::Channel> Channel(const std::string& ca, const testing::Pem& client = {}) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = testing::ReadText(ca);
    if (!client.cert.empty()) {
      o.pem_cert_chain = testing::ReadText(client.cert);
      o.pem_private_key = testing::ReadText(client.key);
    }
    return grpc::CreateChannel(target(), grpc::SslCredentials(o));
  }
  // GetUnit over `channel` with `token` (none: empty).
  CallResult ReadOver(const std::shared_ptr<grpc::Channel>& channel, const std::string& token) {
    auto stub = v1::Directory::NewStub(channel);
    auto ctx = testing::Context(token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetUnitRequest req;
    req.set_code("100001");
    v1::GetUnitResponse resp;
    CallResult r;
    r.status = stub->GetUnit(ctx.get(), req, &resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }
  std::unique_ptr<testing::TestCa> ca_, other_ca_;
  testing::Pem server_pem_;
};

TEST_F(TlsTest, ServesTlsOnlyToClientsThatTrustItsCa) {
  Start();  // the fixture's own plaintext clients are refused
  EXPECT_EQ(Read(kAdmin).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(ReadOver(Channel(ca_->cert()), kAdmin).status.ok());
  EXPECT_EQ(ReadOver(Channel(other_ca_->cert()), kAdmin).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReadOver(Channel(ca_->cert()), "").reason, "MISSING_TOKEN");  // TLS is no identity by itself
}

TEST_F(TlsTest, BadTlsFilesRefuseToStart) {
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = data_dir();
  config.tls_cert = server_pem_.cert;
  config.tls_key = other_ca_->key();  // not the certificate's key
  auto s = GridServer::Start(config, &clock_, directory_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "TLS_FILE_INVALID");
  config.tls_key = server_pem_.key;
  config.tls_cert = tokens_file();  // not PEM
  s = GridServer::Start(config, &clock_, directory_);
  EXPECT_EQ(s.status().reason(), "TLS_FILE_INVALID");
}

TEST_F(TlsTest, MutualTlsNamesThePrincipalByTheCertificatesCommonName) {
  config_.tls_client_ca = ca_->cert();
  Start();
  const testing::Pem alice = ca_->Issue("alice", "alice.ops", false);
  const testing::Pem mallory = other_ca_->Issue("mallory", "alice.ops", false);
  // No client certificate, or one from another CA: no handshake.
  EXPECT_EQ(ReadOver(Channel(ca_->cert()), kAdmin).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReadOver(Channel(ca_->cert(), mallory), kAdmin).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // A verified certificate with bearer tokens as before.
  EXPECT_TRUE(ReadOver(Channel(ca_->cert(), alice), kAdmin).status.ok());
  EXPECT_EQ(ReadOver(Channel(ca_->cert(), alice), "").reason, "MISSING_TOKEN");  // its CN is bound to nothing yet

  // Bind a token to the CN: the certificate alone is then that principal.
  v1::CreateTokenRequest spec = Spec("supervisor", "100001", "alice");
  spec.set_client_cn("alice.ops");
  auto ops = v1::Operations::NewStub(Channel(ca_->cert(), alice));
  auto ctx = testing::Context(kAdmin);
  v1::CreateTokenResponse bound;
  ASSERT_TRUE(ops->CreateToken(ctx.get(), spec, &bound).ok());
  EXPECT_TRUE(ReadOver(Channel(ca_->cert(), alice), "").status.ok());
  // The bound bearer token works only with that certificate.
  const testing::Pem bob = ca_->Issue("bob", "bob.ops", false);
  EXPECT_TRUE(ReadOver(Channel(ca_->cert(), alice), bound.secret()).status.ok());
  EXPECT_EQ(ReadOver(Channel(ca_->cert(), bob), bound.secret()).reason, "CLIENT_CERT_MISMATCH");
  // Revoked: the certificate names nobody again.
  auto rctx = testing::Context(kAdmin);
  v1::RevokeTokenRequest rreq;
  rreq.set_token_id(bound.token().token_id());
  v1::RevokeTokenResponse rresp;
  ASSERT_TRUE(ops->RevokeToken(rctx.get(), rreq, &rresp).ok());
  EXPECT_EQ(ReadOver(Channel(ca_->cert(), alice), "").reason, "MISSING_TOKEN");
}

TEST_F(TlsTest, AReloadedCertificateIsServedWithoutARestart) {
  config_.tls_refresh_seconds = 1;
  Start();
  ASSERT_TRUE(ReadOver(Channel(ca_->cert()), kAdmin).status.ok());
  // A bad file is refused and the served one stays.
  std::ofstream(tmp_.Sub("garbage.crt")) << "not a certificate\n";
  const testing::Pem renewed = other_ca_->Issue("renewed", "localhost", true);
  std::filesystem::copy_file(tmp_.Sub("garbage.crt"), server_pem_.cert,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(server_->ReloadTls().reason(), "TLS_FILE_INVALID");
  // The renewed pair, from the other CA, replaces it.
  std::filesystem::copy_file(renewed.cert, server_pem_.cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(renewed.key, server_pem_.key, std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(server_->ReloadTls().ok());
  // gRPC's watcher looks every second: a bounded number of fresh handshakes.
  bool served = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!served && std::chrono::steady_clock::now() < until) {
    served = ReadOver(Channel(other_ca_->cert()), kAdmin).status.ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
  EXPECT_EQ(ReadOver(Channel(ca_->cert()), kAdmin).status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace grid::services
