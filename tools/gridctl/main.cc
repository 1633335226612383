// gridctl: the command-line client of gridd.
//
//   gridctl [--server HOST:PORT] [--token T] [--caller ID] [--json]
//           [--tls-ca CA.pem [--cert CLIENT.pem --key CLIENT.key]] COMMAND ...
//     submit  --category C (--lat Y --lon X | --address A | --unit U) --description D [--idempotency-key K] ...
//     get     CASE_ID
//     unit    CODE
//     route   --category C [--lat Y --lon X] [--address A] [--unit U]
//     import  divisions DIR [--replace]      (the five national division files, .csv or .csv.gz)
//     import  json FILE [--replace]          (a DirectoryContent in protobuf JSON)
//     import  geojson FILE --code-prop P [--name-prop P] [--parent-prop P | --parent CODE] [--level L] [--slug]
//     directory restore-previous             (undo the last REPLACE import)
//   and one command per CaseWork RPC, each `COMMAND CASE_ID [--note N] [--expected-version V]` plus:
//     accept | start | close | resume                  (no more flags)
//     note | resolve | reopen | cancel | escalate | wait  --note is required
//     reject    --reason wrong-location|other-unit|wrong-category|not-our-duty
//               [--lat Y --lon X] [--address A] [--unit U] [--category C]
//     transfer  --unit U
//     callback  --satisfied | --dissatisfied
//     merge     --into MASTER_ID
//     summon    --dept CODE [--dept CODE]... [--arrive-within-minutes M]
//     report-in --dept CODE [--done]
//     helper    --member ID
//     extend    --hours N --note N
//     watch   [--scope CODE] [--from CURSOR] [--all] [--cursor-file F]
//             (a live stream of escalations, or with --all every case event; reconnects by itself
//             from the last cursor it printed, with backoff, until interrupted)
//     cases   --scope U [--status S]... [--category C] [--overdue] [--from/--to T] [--all-pages] ...
//     stats   --scope U --from YYYY-MM-DD --to YYYY-MM-DD      (see tools/gridctl/queries.h)
//     verify  --data DIR [--max-lines N]   (local, no server: checks a stopped server's store, read-only)
//     backup  create DIR [--keep N] | list DIR                  (admins; see tools/gridctl/backup_commands.h)
//     token   create --role R --scope UNIT --name N [--expires 90d] [--client-cn CN] | list | revoke ID
//             (admins; see tools/gridctl/token_commands.h)
//
// Output is for people by default; --json prints the response messages as
// protobuf JSON for scripts. Exit codes: 0 success, 1 the server answered
// with an error (code and reason on stderr), 2 bad usage, 3 a local error
// (unreadable file) or an unreachable server.
//
// This file owns the global flags and the command table: each command group
// (a file of tools/gridctl/) registers its subcommands and runs the one parsed.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <memory>
#include <vector>

#include "tools/gridctl/backup_commands.h"
#include "tools/gridctl/case_commands.h"
#include "tools/gridctl/common.h"
#include "tools/gridctl/import_commands.h"
#include "tools/gridctl/queries.h"
#include "tools/gridctl/token_commands.h"
#include "tools/gridctl/verify_command.h"
#include "tools/gridctl/watch_command.h"
#include "tools/gridctl/work_commands.h"

int main(int argc, char** argv) {
  namespace ctl = grid::tools::gridctl;
  ctl::Global g;
  if (const char* s = std::getenv("GRID_SERVER")) g.server = s;
  if (const char* t = std::getenv("GRID_TOKEN")) g.token = t;
  if (const char* v = std::getenv("GRID_TLS_CA")) g.tls.ca = v;
  if (const char* v = std::getenv("GRID_CERT")) g.tls.cert = v;
  if (const char* v = std::getenv("GRID_KEY")) g.tls.key = v;

  CLI::App app{"gridctl: client of the grid case routing server"};
  app.require_subcommand(1);
  app.add_option("--server", g.server, "gridd address (env GRID_SERVER)")->capture_default_str();
  app.add_option("--token", g.token, "bearer token (env GRID_TOKEN)");
  app.add_option("--caller", g.caller, "caller id in open mode (x-grid-caller)");
  app.add_flag("--json", g.json, "print protobuf JSON");
  app.add_option("--timeout", g.timeout_s, "seconds per call")->capture_default_str();
  app.add_option("--tls-ca", g.tls.ca, "TLS: the PEM CA of the server's certificate (env GRID_TLS_CA)");
  app.add_option("--cert", g.tls.cert, "mutual TLS: this client's PEM certificate (env GRID_CERT)");
  app.add_option("--key", g.tls.key, "mutual TLS: the PEM private key of --cert (env GRID_KEY)");

  // In the order `gridctl --help` lists them.
  std::vector<std::unique_ptr<ctl::CommandGroup>> commands;
  commands.push_back(ctl::CaseCommands());       // submit, get, unit, route
  commands.push_back(ctl::ImportCommands());     // import divisions|geojson|json
  commands.push_back(ctl::DirectoryCommands());  // directory restore-previous
  commands.push_back(ctl::WorkCommands());       // accept, reject, ... extend
  commands.push_back(ctl::WatchCommand());       // watch
  commands.push_back(ctl::Queries());            // cases, stats
  commands.push_back(ctl::VerifyCommand());      // verify (local)
  commands.push_back(ctl::BackupCommands());     // backup create|list
  commands.push_back(ctl::TokenCommands());      // token create|list|revoke
  for (auto& c : commands) c->Add(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }
  for (auto& c : commands) {
    if (auto code = c->Run(g)) return *code;
  }
  return 2;
}
