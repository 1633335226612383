// gridd's security as a process: SIGHUP reopens the log, reloads the token
// file and the TLS certificate without dropping the server; gridctl's token
// commands over TLS; what gridd refuses at start (open mode off loopback, a
// token file others can read).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <thread>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tests/support/gridd_process.h"
#include "tests/support/grpc_client.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace grid {
namespace {

using testing::BinDir;
using testing::GriddProcess;
using testing::RunCommand;

constexpr const char* kAdmin = "admin-token-0000001";

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& target, const std::string& ca) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = testing::ReadText(ca);
  return grpc::CreateChannel(target, grpc::SslCredentials(o));
}

// GetUnit with `token` over `channel`: OK, or the reason.
std::string ReadWith(const std::shared_ptr<grpc::Channel>& channel, const std::string& token) {
  auto stub = grid::v1::Directory::NewStub(channel);
  auto ctx = testing::Context(token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grid::v1::GetUnitRequest req;
  req.set_code("469023");
  grid::v1::GetUnitResponse resp;
  grpc::Status st = stub->GetUnit(ctx.get(), req, &resp);
  if (st.ok()) return "OK";
  const std::string reason = testing::Reason(*ctx);
  return reason.empty() ? "code " + std::to_string(st.error_code()) : reason;
}

// Waits (bounded) until `file` holds `text`: gridd writes it once a SIGHUP
// has been handled.
bool WaitForLine(const std::string& file, const std::string& text) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    if (testing::ReadText(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(SecurityProcess, SighupReopensTheLogAndReloadsTokensAndCertificate) {
  testing::TempDir tmp;
  testing::TestCa ca(tmp.Sub("ca"), "grid test CA"), next_ca(tmp.Sub("next-ca"), "next CA");
  const testing::Pem first = ca.Issue("server", "localhost", true);
  const std::string cert = tmp.Sub("server.crt"), key = tmp.Sub("server.key");
  std::filesystem::copy_file(first.cert, cert);
  std::filesystem::copy_file(first.key, key);
  const std::string tokens = tmp.Sub("tokens"), log = tmp.Sub("gridd.log");
  std::ofstream(tokens) << kAdmin << " admin * root\nold-token-000000001 supervisor * old-super\n";
  ::chmod(tokens.c_str(), 0600);
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("stdout"),
                     {"--tokens", tokens, "--tls-cert", cert, "--tls-key", key, "--log-file", log});
  ASSERT_GT(gridd.port(), 0) << testing::ReadText(tmp.Sub("stdout"));
  auto channel = TlsChannel(gridd.target(), ca.cert());
  EXPECT_EQ(ReadWith(channel, "old-token-000000001"), "OK");
  EXPECT_EQ(ReadWith(channel, "new-token-000000001"), "UNKNOWN_TOKEN");
  EXPECT_NE(testing::ReadText(log).find(", TLS"), std::string::npos);
  EXPECT_EQ(testing::ReadText(log).find("mutual TLS"), std::string::npos);

  // Rotate: the log moved aside, a new token file, a certificate of another CA.
  std::filesystem::rename(log, log + ".1");
  std::ofstream(tokens) << kAdmin << " admin * root\nnew-token-000000001 supervisor * new-super\n";
  const testing::Pem next = next_ca.Issue("next", "localhost", true);
  std::filesystem::copy_file(next.cert, cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(next.key, key, std::filesystem::copy_options::overwrite_existing);
  gridd.Signal(SIGHUP);
  ASSERT_TRUE(WaitForLine(log, "TLS certificate reloaded")) << testing::ReadText(log + ".1");
  EXPECT_TRUE(gridd.Alive());
  EXPECT_NE(testing::ReadText(log).find("token file " + tokens + " reloaded"), std::string::npos);

  // The certificate: gRPC's watcher picks it up within a second or so.
  auto next_channel = [&] { return TlsChannel(gridd.target(), next_ca.cert()); };
  std::string got;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((got = ReadWith(next_channel(), "new-token-000000001")) != "OK" && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(got, "OK");
  EXPECT_EQ(ReadWith(next_channel(), "old-token-000000001"), "UNKNOWN_TOKEN");
  EXPECT_NE(ReadWith(TlsChannel(gridd.target(), ca.cert()), kAdmin), "OK");  // the old CA no longer matches

  // A broken token file on the next SIGHUP: reported, the tokens in force stay.
  std::ofstream(tokens) << "short admin * x\n";
  gridd.Signal(SIGHUP);
  ASSERT_TRUE(WaitForLine(log, "the old tokens stay"));
  EXPECT_EQ(ReadWith(next_channel(), "new-token-000000001"), "OK");
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
}

// gridd serving TLS with a certificate from a CA made here, and one stored
// admin token (kAdmin) in a private token file.
struct TlsGridd {
  TlsGridd() {
    const std::string tokens = tmp.Sub("tokens");
    std::ofstream(tokens) << kAdmin << " admin * root\n";
    ::chmod(tokens.c_str(), 0600);
    gridd = std::make_unique<GriddProcess>(
        tmp.Sub("data"), tmp.Sub("log"),
        std::vector<std::string>{"--tokens", tokens, "--tls-cert", server.cert, "--tls-key", server.key});
  }
  std::string log() const { return testing::ReadText(tmp.Sub("log")); }

  testing::TempDir tmp;
  testing::TestCa ca{tmp.Sub("ca"), "grid test CA"};
  const testing::Pem server = ca.Issue("server", "localhost", true);
  std::unique_ptr<GriddProcess> gridd;
};

TEST(SecurityProcess, GridctlCreatesListsAndRevokesTokensOverTls) {
  TlsGridd tls;
  GriddProcess& gridd = *tls.gridd;
  const testing::TestCa& ca = tls.ca;
  ASSERT_GT(gridd.port(), 0) << tls.log();
  const std::string ctl =
      BinDir() + "/gridctl --server " + gridd.target() + " --tls-ca " + ca.cert() + " --token " + kAdmin + " ";
  std::string out;
  ASSERT_EQ(
      RunCommand(ctl + "token create --role town_office --scope 469023100 --name town-jinjiang --expires 90d", &out), 0)
      << out;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(out, m, std::regex("token \\(shown once; keep it secret\\): (gt_([0-9a-f]{16})_[0-9a-f]+)")))
      << out;
  const std::string secret = m[1], id = m[2];
  EXPECT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() + " --tls-ca " + ca.cert() + " --token " +
                           secret + " unit 469023100",
                       &out),
            0)
      << out;
  ASSERT_EQ(RunCommand(ctl + "token list", &out), 0) << out;
  EXPECT_NE(out.find(id), std::string::npos);
  EXPECT_NE(out.find("town-jinjiang"), std::string::npos);
  EXPECT_NE(out.find("expires"), std::string::npos);
  EXPECT_EQ(out.find(secret), std::string::npos);
  ASSERT_EQ(RunCommand(ctl + "token revoke " + id, &out), 0) << out;
  EXPECT_NE(out.find("REVOKED"), std::string::npos);
  EXPECT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() + " --tls-ca " + ca.cert() + " --token " +
                           secret + " unit 469023100",
                       &out),
            1);
  EXPECT_NE(out.find("TOKEN_REVOKED"), std::string::npos) << out;
  // Bad values: usage errors before any call, and the server's reasons.
  EXPECT_EQ(RunCommand(ctl + "token create --role admin --scope '*' --name x --expires 90y", &out), 2);
  EXPECT_EQ(RunCommand(ctl + "token create --role janitor --scope '*' --name x", &out), 1);
  EXPECT_NE(out.find("UNKNOWN_ROLE"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(ctl + "token revoke nothex", &out), 1);
  EXPECT_NE(out.find("BAD_TOKEN_ID"), std::string::npos) << out;
  // Plaintext against the TLS server: unreachable (exit 3).
  EXPECT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() + " --token " + kAdmin + " token list", &out),
            3);
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
}

// The load generator that targets a running server speaks TLS as gridctl
// does: with the CA it submits; without it, nothing gets through.
TEST(SecurityProcess, SubmitLoadRunsOverTls) {
  TlsGridd tls;
  GriddProcess& gridd = *tls.gridd;
  const testing::TestCa& ca = tls.ca;
  ASSERT_GT(gridd.port(), 0) << tls.log();
  const std::string load = BinDir() + "/bench/submit_load --server " + gridd.target() + " --token " + kAdmin +
                           " --concurrency 4 --warmup-s 0 --duration-s 1 --json";
  std::string out;
  ASSERT_EQ(RunCommand(load + " --tls-ca " + ca.cert(), &out), 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\"ok\": ([0-9]+)"))) << out;
  EXPECT_GT(std::stoull(m[1]), 0u) << out;
  EXPECT_NE(out.find("\"errors\": 0"), std::string::npos) << out;
  // Plaintext against the TLS server: nothing succeeds (exit 1).
  EXPECT_EQ(RunCommand(load, &out), 1) << out;
  // Half a client identity is a usage error.
  EXPECT_EQ(RunCommand(load + " --tls-ca " + ca.cert() + " --cert " + tls.server.cert, &out), 2) << out;
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
}

TEST(SecurityProcess, StartRefusesOpenModeOffLoopbackAndASharedTokenFile) {
  testing::TempDir tmp;
  std::string out;
  EXPECT_EQ(RunCommand(BinDir() + "/gridd --listen 0.0.0.0:0 --no-demo --data " + tmp.Sub("a"), &out), 1);
  EXPECT_NE(out.find("OPEN_MODE_NOT_LOOPBACK"), std::string::npos) << out;
  const std::string tokens = tmp.Sub("tokens");
  std::ofstream(tokens) << kAdmin << " admin * root\n";
  ::chmod(tokens.c_str(), 0644);
  EXPECT_EQ(
      RunCommand(BinDir() + "/gridd --listen 127.0.0.1:0 --no-demo --tokens " + tokens + " --data " + tmp.Sub("b"),
                 &out),
      1);
  EXPECT_NE(out.find("TOKEN_FILE_SHARED"), std::string::npos) << out;
  EXPECT_NE(out.find("chmod 600"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(BinDir() + "/gridd --rate-limit janitor=5 --data " + tmp.Sub("c"), &out), 2);
  // Open mode on loopback starts, with the warning block.
  GriddProcess gridd(tmp.Sub("d"), tmp.Sub("log"), {"--no-demo"});
  ASSERT_GT(gridd.port(), 0);
  EXPECT_NE(testing::ReadText(tmp.Sub("log")).find("OPEN MODE: no --tokens"), std::string::npos);
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
}

}  // namespace
}  // namespace grid
