// What every gridctl command shares: the global flags, a connection and a
// context per call, how a failed call is reported (and its exit code), JSON
// output, and CommandGroup, the interface main.cc's command table holds.
//
// Exit codes: 0 success, 1 the server answered with an error (code and
// reason on stderr), 2 bad usage, 3 a local error (unreadable file) or an
// unreachable server.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "tools/tls_client.h"

namespace grid::tools::gridctl {

// The flags before the command.
struct Global {
  std::string server = "127.0.0.1:50051";
  std::string token;
  std::string caller;
  bool json = false;
  double timeout_s = 30;
  ClientTls tls;  // --tls-ca, --cert, --key
};

// A context with the --timeout deadline, the token and the caller id.
std::unique_ptr<grpc::ClientContext> NewContext(const Global& g);
// A channel to --server, over TLS when --tls-ca/--cert/--key are given. An
// unreadable TLS file ends gridctl with exit code 3.
std::shared_ptr<grpc::Channel> Connect(const Global& g);

// "UNAVAILABLE", ... for a status code.
const char* CodeName(grpc::StatusCode code);
// Prints a failed call; exit 3 when the server could not be reached, else 1.
int Report(const grpc::Status& status);
void PrintJson(const google::protobuf::Message& m);

// A group of subcommands. Add registers them (and the variables their flags
// fill) on the app; after parsing, Run runs the one that was parsed and
// returns its exit code, or nullopt when none of the group's was.
class CommandGroup {
 public:
  virtual ~CommandGroup() = default;
  virtual void Add(CLI::App& app) = 0;
  virtual std::optional<int> Run(const Global& g) = 0;
};

}  // namespace grid::tools::gridctl
