// LeaderProxy in front of real GridServers (with tokens), all on 127.0.0.1
// port 0, through real clients: what a client gets through the proxy is what
// it gets from the leader directly, for unary calls, a client stream and the
// Watch stream; the proxy's own answers (no leader, an unreachable leader,
// a second hop, stopping); cancellation and deadlines reaching the leader.
// Tests wait on conditions (stream reads, the feed's subscriber count), with
// bounds, never for time to pass.
#include "services/leader_proxy.h"

#include <arpa/inet.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/grpc_client.h"
#include "tests/support/health_check.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/test_certs.h"
#include "tests/support/watch_stream.h"
#include "tests/support/work_client.h"

namespace grid::services {
namespace {

namespace v1 = grid::v1;
using google::protobuf::util::MessageDifferencer;
using std::chrono::seconds;

constexpr const char* kAdmin = "admin-token-0000001";
constexpr auto kBound = std::chrono::seconds(30);  // how long a test waits for a condition at most

// What the proxy's `leader` callback answers; the test changes it.
class LeaderAddress {
 public:
  void Set(std::optional<std::string> address) {
    std::lock_guard<std::mutex> lock(mu_);
    address_ = std::move(address);
  }
  std::optional<std::string> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return address_;
  }

 private:
  mutable std::mutex mu_;
  std::optional<std::string> address_;  // GUARDED_BY(mu_)
};

// A socket on 127.0.0.1 bound to a free port: listening (connections are
// accepted by the kernel but never answered) or closed when `listen` is false.
class LocalPort {
 public:
  explicit LocalPort(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    if (listen) {
      EXPECT_EQ(::listen(fd_, 16), 0);
    } else {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~LocalPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// An admin's Watch stream over `channel`.
class Watch : public testing::WatchStream {
 public:
  Watch(const std::shared_ptr<grpc::Channel>& channel, const v1::WatchRequest& request,
        std::chrono::milliseconds deadline = std::chrono::seconds(60))
      : WatchStream(channel, kAdmin, request, deadline) {}
  // The cursors of the entries read until the stream's cursor reaches
  // `target`.
  std::vector<uint64_t> CursorsUntil(uint64_t target) {
    std::vector<v1::FeedEntry> entries;
    EXPECT_TRUE(ReadUntil(target, &entries)) << "the stream ended at " << cursor();
    std::vector<uint64_t> cursors;
    for (const auto& e : entries) cursors.push_back(e.cursor());
    return cursors;
  }
};

v1::WatchRequest Everything(uint64_t from) {
  v1::WatchRequest r;
  r.set_from_cursor(from);
  r.set_all_changes(true);
  return r;
}

class LeaderProxyTest : public testing::ServerFixture {
 protected:
  void SetUp() override { std::ofstream(tokens()) << kAdmin << " admin * root\n"; }
  void TearDown() override {
    via_.reset();
    proxy_.reset();
    StopServer();
  }
  std::string tokens() const { return tmp_.Sub("tokens"); }

  // Starts the leader (the fixture's server) and a proxy that forwards to it.
  void StartBoth() {
    StartServer(tokens());
    leader_->Set(target());
    StartProxy();
  }
  void StartProxy(LeaderProxyOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.leader = [leader = leader_] { return leader->Get(); };
    auto proxy = LeaderProxy::Start(options);
    ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
    proxy_ = std::move(proxy).value();
    via_ = std::make_unique<testing::Clients>(ProxyTarget());
  }
  std::string ProxyTarget() const { return "127.0.0.1:" + std::to_string(proxy_->port()); }

  std::string SubmitVia(testing::Clients& clients, const std::string& key) {
    v1::SubmitCaseResponse resp;
    auto r = testing::Submit(*clients.intake, testing::Submission().Key(key).Build(), &resp, kAdmin);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    return resp.case_().id();
  }
  // Escalates `id` (directly): a feed entry.
  void Escalate(const std::string& id) {
    v1::EscalateRequest up;
    up.set_case_id(id);
    up.set_note("吹哨: 需要上级协调");
    v1::CaseWorkResponse resp;
    const auto r = testing::Work(*work_, &v1::CaseWork::Stub::Escalate, up, &resp, kAdmin);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  }
  uint64_t LastCursor() { return *server_->store()->LastFeedCursor(); }
  std::vector<uint64_t> StoredCursors() {
    auto entries = server_->store()->ReadFeed(0, 1u << 20);
    EXPECT_TRUE(entries.ok());
    std::vector<uint64_t> cursors;
    for (const auto& e : *entries) cursors.push_back(e.cursor());
    return cursors;
  }

  std::shared_ptr<LeaderAddress> leader_ = std::make_shared<LeaderAddress>();
  std::unique_ptr<LeaderProxy> proxy_;
  std::unique_ptr<testing::Clients> via_;  // the clients of the proxy
};

TEST_F(LeaderProxyTest, SubmitGetAndListAnswerAsTheLeaderDoes) {
  StartBoth();
  v1::SubmitCaseResponse first, direct, again;
  const auto request = testing::Submission().Key("proxy-1").Build();
  ASSERT_TRUE(testing::Submit(*via_->intake, request, &first, kAdmin).status.ok());
  ASSERT_TRUE(testing::Submit(*clients_->intake, request, &direct, kAdmin).status.ok());
  ASSERT_TRUE(testing::Submit(*via_->intake, request, &again, kAdmin).status.ok());
  EXPECT_EQ(first.case_().id(), direct.case_().id());  // one case, whichever way it came
  EXPECT_TRUE(MessageDifferencer::Equals(direct, again)) << direct.DebugString() << again.DebugString();

  v1::GetCaseResponse got_via, got_direct;
  ASSERT_TRUE(testing::GetCase(*via_->query, first.case_().id(), &got_via, kAdmin).status.ok());
  ASSERT_TRUE(testing::GetCase(*clients_->query, first.case_().id(), &got_direct, kAdmin).status.ok());
  EXPECT_TRUE(MessageDifferencer::Equals(got_via, got_direct));

  v1::ListCasesRequest list;
  list.set_scope_unit_code("100");
  v1::ListCasesResponse listed_via, listed_direct;
  auto ctx = testing::Context(kAdmin);
  ASSERT_TRUE(via_->query->ListCases(ctx.get(), list, &listed_via).ok());
  ctx = testing::Context(kAdmin);
  ASSERT_TRUE(clients_->query->ListCases(ctx.get(), list, &listed_direct).ok());
  ASSERT_EQ(listed_via.cases_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(listed_via, listed_direct));
  EXPECT_EQ(proxy_->forwarded(), 4u);
  EXPECT_EQ(proxy_->no_leader(), 0u);
}

TEST_F(LeaderProxyTest, AnErrorKeepsItsCodeMessageAndReason) {
  StartBoth();
  const auto bad = testing::Submission().At(95, 110.015).Build();
  v1::SubmitCaseResponse resp;
  const auto via = testing::Submit(*via_->intake, bad, &resp, kAdmin);
  const auto direct = testing::Submit(*clients_->intake, bad, &resp, kAdmin);
  EXPECT_EQ(via.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(via.reason, "LATITUDE_OUT_OF_RANGE");
  EXPECT_EQ(via.status.error_code(), direct.status.error_code());
  EXPECT_EQ(via.status.error_message(), direct.status.error_message());
  EXPECT_EQ(via.reason, direct.reason);

  v1::GetCaseResponse got;
  const auto missing = testing::GetCase(*via_->query, "1795000000000001", &got, kAdmin);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.reason, "CASE_NOT_FOUND");
}

TEST_F(LeaderProxyTest, TheBearerTokenGoesToTheLeader) {
  StartBoth();
  v1::SubmitCaseResponse resp;
  EXPECT_TRUE(testing::Submit(*via_->intake, testing::Submission().Build(), &resp, kAdmin).status.ok());
  const auto unknown = testing::Submit(*via_->intake, testing::Submission().Build(), &resp, "not-a-token-at-all");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(unknown.reason, "UNKNOWN_TOKEN");
  const auto missing = testing::Submit(*via_->intake, testing::Submission().Build(), &resp);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(missing.reason, "MISSING_TOKEN");
}

// Directory.Import is client-streaming: several messages, then the
// client's half-close, which the leader needs to answer.
TEST_F(LeaderProxyTest, AClientStreamArrivesWholeWithItsHalfClose) {
  StartBoth();
  const uint64_t version = server_->directory_version();
  v1::ImportChunk first, second;
  first.set_mode(v1::IMPORT_MODE_MERGE);
  first.set_source("proxy test");
  auto* d = first.mutable_content()->add_departments();
  d->set_code("dept.roads");
  d->set_name("交通局");
  d->set_unit_code("100");
  second.set_last(true);
  auto ctx = testing::Context(kAdmin);
  v1::ImportResponse resp;
  auto writer = via_->directory->Import(ctx.get(), &resp);
  ASSERT_TRUE(writer->Write(first));
  ASSERT_TRUE(writer->Write(second));
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status st = writer->Finish();
  ASSERT_TRUE(st.ok()) << st.error_message() << " " << testing::Reason(*ctx);
  EXPECT_EQ(resp.directory_version(), version + 1);
  EXPECT_EQ(server_->directory_version(), version + 1);
}

TEST_F(LeaderProxyTest, WatchStreamsTheFeedAndResumesFromACursor) {
  StartBoth();
  for (int i = 0; i < 3; ++i) Escalate(SubmitVia(*clients_, "w" + std::to_string(i)));
  const uint64_t last = LastCursor();
  const std::vector<uint64_t> all = StoredCursors();
  ASSERT_GE(all.size(), 6u);

  Watch whole(via_->channel, Everything(0));
  EXPECT_EQ(whole.CursorsUntil(last), all);
  whole.Cancel();
  const uint64_t from = all[2];
  Watch resumed(via_->channel, Everything(from));
  EXPECT_EQ(resumed.CursorsUntil(last), std::vector<uint64_t>(all.begin() + 3, all.end()));
  // Live: an entry committed now reaches the proxied stream.
  Escalate(SubmitVia(*via_, "w-live"));
  const std::vector<uint64_t> live = resumed.CursorsUntil(LastCursor());
  ASSERT_FALSE(live.empty());
  EXPECT_EQ(live.front(), last + 1);
  EXPECT_EQ(live.back(), LastCursor());
  resumed.Cancel();
  EXPECT_EQ(resumed.Drain().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(whole.Drain().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(LeaderProxyTest, ACancelledClientEndsTheLeadersStream) {
  StartBoth();
  Watch watch(via_->channel, Everything(0));
  ASSERT_TRUE(server_->feed()->WaitSubscribers(1, kBound));
  watch.Cancel();
  EXPECT_EQ(watch.Drain().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(server_->feed()->WaitSubscribersAtMost(0, kBound)) << server_->feed()->stats().subscribers;
}

TEST_F(LeaderProxyTest, AShortDeadlineEndsTheCallAndTheLeadersStream) {
  StartBoth();
  v1::WatchRequest quiet;
  quiet.set_from_latest(true);  // nothing comes: the deadline ends it
  const auto start = std::chrono::steady_clock::now();
  Watch watch(via_->channel, quiet, std::chrono::milliseconds(300));
  EXPECT_EQ(watch.Drain().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  EXPECT_TRUE(server_->feed()->WaitSubscribersAtMost(0, kBound)) << server_->feed()->stats().subscribers;
}

// The leader's own trailing metadata (grid-cursor beside grid-reason) when
// it ends a stream.
TEST_F(LeaderProxyTest, TheLeadersTrailersReachTheClient) {
  StartBoth();
  Escalate(SubmitVia(*clients_, "t1"));
  const uint64_t last = LastCursor();
  Watch watch(via_->channel, Everything(0));
  watch.CursorsUntil(last);
  server_->Shutdown();
  const grpc::Status st = watch.Drain();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  EXPECT_EQ(watch.Trailer("grid-reason"), "SERVER_STOPPING");
  EXPECT_EQ(watch.Trailer("grid-cursor"), std::to_string(last));
}

TEST_F(LeaderProxyTest, NoLeaderIsUnavailableNotLeaderAtOnce) {
  StartServer(tokens());
  StartProxy();  // leader_ says nullopt
  v1::GetCaseResponse got;
  const auto r = testing::GetCase(*via_->query, "1795000000000001", &got, kAdmin);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(r.reason, "NOT_LEADER");
  EXPECT_EQ(r.status.error_message(), "NOT_LEADER: no leader elected for this shard yet; retry");
  EXPECT_EQ(proxy_->no_leader(), 1u);
  EXPECT_EQ(proxy_->forwarded(), 0u);
}

TEST_F(LeaderProxyTest, AClosedPortIsUnavailableNamingTheLeader) {
  StartServer(tokens());
  const LocalPort closed(/*listen=*/false);
  leader_->Set(closed.address());
  StartProxy();
  v1::GetCaseResponse got;
  const auto r = testing::GetCase(*via_->query, "1795000000000001", &got, kAdmin);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(r.status.error_message().find("leader " + closed.address() + " is unreachable"), std::string::npos)
      << r.status.error_message();
  EXPECT_EQ(r.reason, "");
}

TEST_F(LeaderProxyTest, ALeaderThatNeverAnswersFailsAfterTheConnectTimeout) {
  StartServer(tokens());
  const LocalPort silent(/*listen=*/true);
  leader_->Set(silent.address());
  LeaderProxyOptions options;
  options.connect_timeout = std::chrono::milliseconds(200);
  StartProxy(options);
  const auto start = std::chrono::steady_clock::now();
  v1::GetCaseResponse got;
  const auto r = testing::GetCase(*via_->query, "1795000000000001", &got, kAdmin);  // a 20 s deadline
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(r.status.error_message(), "leader " + silent.address() + " is unreachable: not connected within 200 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

TEST_F(LeaderProxyTest, TheNextCallGoesToTheNewLeader) {
  StartBoth();
  services::ServerConfig config = config_;
  config.listen = "127.0.0.1:0";
  config.data_dir = tmp_.Sub("data-b");
  config.tokens_file = tokens();
  FakeClock clock_b(testing::kStart + 3'600'000'000);  // an hour on: case ids unlike A's
  auto started = GridServer::Start(config, &clock_b, directory_);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::unique_ptr<GridServer> b = std::move(started).value();
  testing::Clients direct_b("127.0.0.1:" + std::to_string(b->port()));

  const std::string on_a = SubmitVia(*via_, "a-1");
  leader_->Set("127.0.0.1:" + std::to_string(b->port()));
  const std::string on_b = SubmitVia(*via_, "b-1");
  v1::GetCaseResponse got;
  EXPECT_TRUE(testing::GetCase(*direct_b.query, on_b, &got, kAdmin).status.ok());
  EXPECT_EQ(testing::GetCase(*clients_->query, on_b, &got, kAdmin).status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(testing::GetCase(*via_->query, on_a, &got, kAdmin).status.error_code(), grpc::StatusCode::NOT_FOUND);
  leader_->Set(target());
  EXPECT_TRUE(testing::GetCase(*via_->query, on_a, &got, kAdmin).status.ok());
}

TEST_F(LeaderProxyTest, ShutdownEndsAWatchInFlightWithUnavailable) {
  StartBoth();
  Escalate(SubmitVia(*clients_, "s1"));
  Watch watch(via_->channel, Everything(0));
  watch.CursorsUntil(LastCursor());
  ASSERT_EQ(watch.cursor(), LastCursor());
  const auto start = std::chrono::steady_clock::now();
  proxy_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  const grpc::Status st = watch.Drain();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  EXPECT_EQ(watch.Trailer("grid-reason"), "SERVER_STOPPING");
  EXPECT_EQ(proxy_->in_flight(), 0u);
  EXPECT_TRUE(server_->feed()->WaitSubscribersAtMost(0, kBound));
  proxy_->Shutdown();  // again: nothing
}

// gridd enables gRPC's default health service for every server of the
// process; the proxy's must not answer for the leader.
TEST_F(LeaderProxyTest, HealthChecksAreTheLeaders) {
  StartBoth();
  EXPECT_EQ(testing::Health(via_->channel, v1::CaseIntake::service_full_name()), 1);
  leader_->Set(std::nullopt);
  const testing::HealthAnswer answer = testing::CheckHealth(via_->channel, v1::CaseIntake::service_full_name());
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Two followers that each take the other for the leader do not pass a call
// back and forth: the second proxy refuses it.
TEST_F(LeaderProxyTest, ACallIsForwardedOnceAtMost) {
  StartServer(tokens());
  StartProxy();
  leader_->Set(ProxyTarget());  // the proxy's leader is itself
  v1::GetCaseResponse got;
  const auto r = testing::GetCase(*via_->query, "1795000000000001", &got, kAdmin);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(r.reason, "NOT_LEADER");
  EXPECT_EQ(proxy_->forwarded(), 1u);
  EXPECT_EQ(proxy_->second_hops(), 1u);
}

TEST_F(LeaderProxyTest, ForwardsToALeaderOverTls) {
  testing::TestCa ca(tmp_.Sub("ca"), "grid test CA");
  const testing::Pem server = ca.Issue("server", "localhost", /*server=*/true);
  config_.tls_cert = server.cert;
  config_.tls_key = server.key;
  StartServer(tokens());
  leader_->Set(target());
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = testing::ReadText(ca.cert());
  LeaderProxyOptions options;
  options.upstream_credentials = grpc::SslCredentials(tls);
  StartProxy(options);
  v1::SubmitCaseResponse resp;
  const auto r = testing::Submit(*via_->intake, testing::Submission().Key("tls-1").Build(), &resp, kAdmin);
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
}

}  // namespace
}  // namespace grid::services
