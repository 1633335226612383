// gridctl watch: the stream, reconnection with backoff, the cursor file and
// unit names for readable paths. See watch_command.h.
#include "tools/gridctl/watch_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "grid/v1/service.grpc.pb.h"
#include "tools/gridctl/output.h"

namespace grid::tools::gridctl {
namespace {

namespace v1 = grid::v1;

struct WatchOptions {
  std::string scope;
  uint64_t from = 0;
  bool from_given = false;
  bool all = false;
  std::string cursor_file;
};

// Names of units for readable paths ("澄迈县 / 金江镇 / ..."), asked once per unit.
class UnitNames {
 public:
  explicit UnitNames(const Global& g) : g_(g) {}
  std::string Name(const std::string& code) {
    auto it = names_.find(code);
    if (it != names_.end()) return it->second;
    if (!stub_) stub_ = v1::Directory::NewStub(Connect(g_));
    auto ctx = NewContext(g_);
    v1::GetUnitRequest req;
    req.set_code(code);
    v1::GetUnitResponse resp;
    if (!stub_->GetUnit(ctx.get(), req, &resp).ok()) return code;  // not cached: asked again next time
    for (const auto& a : resp.ancestors()) names_.emplace(a.code(), a.name());
    return names_[code] = resp.unit().name();
  }
  void Reset() { stub_.reset(); }

 private:
  const Global& g_;
  std::unique_ptr<v1::Directory::Stub> stub_;
  std::map<std::string, std::string> names_;
};

void PrintFeedEntry(const v1::FeedEntry& e, UnitNames& names) {
  const auto& ev = e.event();
  std::string path;
  for (const auto& code : e.unit_path()) path += (path.empty() ? "" : " / ") + names.Name(code);
  std::string what = EnumShort(v1::EventType_Name(ev.type()), "EVENT_TYPE_");
  if (ev.automatic()) what += " (deadline)";
  std::printf("%s  #%-8llu case %s  %-18s %s", FormatTime(ev.at()).c_str(), static_cast<unsigned long long>(e.cursor()),
              ev.case_id().c_str(), what.c_str(), path.c_str());
  if (!ev.to_unit().empty() && ev.to_unit() != ev.from_unit()) std::printf("  -> %s", names.Name(ev.to_unit()).c_str());
  if (!ev.note().empty()) std::printf("  : %s", ev.note().c_str());
  std::printf("\n");
  std::fflush(stdout);
}

void SaveCursor(const std::string& file, uint64_t cursor) {
  if (file.empty()) return;
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << cursor << "\n";
  }
  std::filesystem::rename(tmp, file);
}

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED || code == grpc::StatusCode::CANCELLED ||
         code == grpc::StatusCode::ABORTED || code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN;
}

// Prints the stream until an error that retrying cannot fix; reconnects from
// the last cursor it printed (or saved) otherwise, backing off up to 10 s.
int Watch(const Global& g, const WatchOptions& w) {
  uint64_t cursor = w.from;
  bool from_latest = !w.from_given;
  if (!w.cursor_file.empty()) {
    std::ifstream in(w.cursor_file);
    uint64_t saved = 0;
    if (in >> saved) {
      cursor = saved;
      from_latest = false;
    }
  }
  UnitNames names(g);
  auto backoff = std::chrono::milliseconds(200);
  while (true) {
    auto channel = Connect(g);
    auto stub = v1::EscalationFeed::NewStub(channel);
    grpc::ClientContext ctx;  // no deadline: a stream lasts
    if (!g.token.empty()) ctx.AddMetadata("authorization", "Bearer " + g.token);
    if (!g.caller.empty()) ctx.AddMetadata("x-grid-caller", g.caller);
    v1::WatchRequest req;
    req.set_scope_unit_code(w.scope);
    req.set_from_cursor(cursor);
    req.set_from_latest(from_latest);
    req.set_all_changes(w.all);
    auto reader = stub->Watch(&ctx, req);
    v1::WatchResponse r;
    while (reader->Read(&r)) {
      backoff = std::chrono::milliseconds(200);
      from_latest = false;
      for (const auto& e : r.entries()) {
        if (g.json) {
          PrintJson(e);
          std::cout << std::endl;
        } else {
          PrintFeedEntry(e, names);
        }
      }
      if (r.caught_up() && !g.json)
        std::fprintf(stderr, "gridctl: caught up at cursor %llu\n", static_cast<unsigned long long>(r.cursor()));
      if (r.cursor() != cursor) {
        cursor = r.cursor();
        SaveCursor(w.cursor_file, cursor);
      }
    }
    grpc::Status st = reader->Finish();
    if (!Retryable(st.error_code())) return Report(st);
    std::fprintf(stderr, "gridctl: stream ended (%s: %s); reconnecting from cursor %llu in %.1f s\n",
                 CodeName(st.error_code()), st.error_message().c_str(), static_cast<unsigned long long>(cursor),
                 backoff.count() / 1000.0);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    names.Reset();
  }
}

class WatchGroup final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    cmd_ = app.add_subcommand("watch", "a live stream of escalations (or every change with --all) of a subtree");
    cmd_->add_option("--scope", options_.scope, "unit code whose subtree to watch (default: your own scope)");
    from_opt_ = cmd_->add_option("--from", options_.from, "replay everything after this cursor first");
    cmd_->add_flag("--all", options_.all, "every case event, not only escalations");
    cmd_->add_option("--cursor-file", options_.cursor_file,
                     "keep the last cursor in this file and resume from it when started again");
  }
  std::optional<int> Run(const Global& g) override {
    if (!cmd_->parsed()) return std::nullopt;
    options_.from_given = from_opt_->count() > 0;
    return Watch(g, options_);
  }

 private:
  CLI::App* cmd_ = nullptr;
  CLI::Option* from_opt_ = nullptr;
  WatchOptions options_;
};

}  // namespace

std::unique_ptr<CommandGroup> WatchCommand() { return std::make_unique<WatchGroup>(); }

}  // namespace grid::tools::gridctl
