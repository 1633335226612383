// The fixture of the handler tests: the services of gridd through a real
// in-process gRPC server on 127.0.0.1:0, a real RocksDB in a temp dir, real
// clients, and time from a FakeClock that only the test moves.
//
// A test sets config_ (and directory_, the directory of a fresh store) before
// StartServer; StopServer and StartServer again is a restart over the same
// data. Thread-safety: the fixture itself is used from the test's thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "engine/clock.h"
#include "grid/v1/service.grpc.pb.h"
#include "services/server.h"
#include "tests/support/grpc_client.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::testing {

// 2026-11-18 17:33:20 UTC, a Wednesday: where the fixture's clock starts.
inline constexpr Micros kStart = 1'795'000'000'000'000;

class ServerFixture : public ::testing::Test {
 protected:
  void TearDown() override { StopServer(); }

  // Starts the server with config_ on port 0 over data_dir(), `tokens_file`
  // (empty: open mode; made private to its owner first, as gridd requires),
  // and connects the clients. Fails the test when the server does not start.
  void StartServer(const std::string& tokens_file = "") {
    if (!tokens_file.empty()) ::chmod(tokens_file.c_str(), 0600);
    services::ServerConfig config = config_;
    config.listen = "127.0.0.1:0";
    config.data_dir = data_dir();
    config.tokens_file = tokens_file;
    auto s = services::GridServer::Start(config, &clock_, directory_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    clients_ = std::make_unique<Clients>(target());
    work_ = grid::v1::CaseWork::NewStub(clients_->channel);
  }
  void StopServer() {
    work_.reset();
    clients_.reset();
    server_.reset();
  }

  std::string data_dir() const { return tmp_.Sub("data"); }
  std::string target() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  TempDir tmp_;
  FakeClock clock_{kStart};
  services::ServerConfig config_;
  grid::v1::DirectoryContent directory_ = TinyDirectory();
  std::unique_ptr<services::GridServer> server_;
  std::unique_ptr<Clients> clients_;
  std::unique_ptr<grid::v1::CaseWork::Stub> work_;
};

}  // namespace grid::testing
