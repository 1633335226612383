// gridctl's query commands over CaseQuery.ListCases and GetStats:
//
//   cases --scope U [--status S]... [--category C] [--overdue] [--from T] [--to T]
//         [--updated-from T] [--updated-to T] [--assignee M] [--page-size N]
//         [--page-token T] [--all-pages]
//   stats --scope U --from YYYY-MM-DD --to YYYY-MM-DD
//
// Times (--from/--to: created; --updated-*) are YYYY-MM-DD (00:00 UTC+8) or
// YYYY-MM-DDTHH:MM[:SS] (UTC+8); --to is exclusive. Statuses are names
// without the CASE_STATUS_ prefix, in any case (routed, in_progress ...).
#pragma once

#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tools/gridctl/common.h"

namespace grid::tools {

class QueryCommands {
 public:
  // What the other commands share (common.h): a context per call, how an
  // error is reported (returns the exit code), and protobuf JSON output.
  struct Io {
    std::function<std::unique_ptr<grpc::ClientContext>()> context;
    std::function<int(const grpc::Status&)> report;
    std::function<void(const google::protobuf::Message&)> print_json;
    bool json = false;
  };

  // Adds the subcommands to `app`.
  explicit QueryCommands(CLI::App& app);

  bool parsed() const;
  // Runs the parsed command: its exit code (0 ok, 1 server error, 2 usage).
  int Run(const std::shared_ptr<grpc::Channel>& channel, const Io& io) const;

 private:
  int RunCases(grid::v1::CaseQuery::Stub& stub, const Io& io) const;
  int RunStats(grid::v1::CaseQuery::Stub& stub, const Io& io) const;

  CLI::App* cases_ = nullptr;
  CLI::App* stats_ = nullptr;
  std::string scope_;
  std::vector<std::string> statuses_;
  std::string category_, assignee_, from_, to_, updated_from_, updated_to_, page_token_;
  bool overdue_ = false;
  bool all_pages_ = false;
  uint32_t page_size_ = 50;
  std::string stats_scope_, stats_from_, stats_to_;
};

// "2026-11-27" or "2026-11-27T08:30[:00]" in UTC+8 -> seconds since the epoch.
bool ParseLocalTime(const std::string& text, int64_t* seconds);

}  // namespace grid::tools

namespace grid::tools::gridctl {

// cases and stats as a group of main.cc's command table.
std::unique_ptr<CommandGroup> Queries();

}  // namespace grid::tools::gridctl
