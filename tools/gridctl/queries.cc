// gridctl cases and stats: flags, times and statuses parsed, pages fetched,
// tables printed. See queries.h.
#include "tools/gridctl/queries.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace grid::tools {
namespace {

namespace v1 = grid::v1;

constexpr int64_t kChinaOffsetSeconds = 8 * 3600;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Short(const std::string& full, const std::string& prefix) {
  return full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
}

std::string LocalTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  std::time_t t = ts.seconds() + kChinaOffsetSeconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string Duration(double seconds) {
  char buf[32];
  if (seconds <= 0) return "-";
  if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%.0fm", seconds / 60);
  } else if (seconds < 72 * 3600) {
    std::snprintf(buf, sizeof buf, "%.1fh", seconds / 3600);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fd", seconds / 86400);
  }
  return buf;
}

std::string Percent(double r, uint64_t den) {
  if (den == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", r * 100);
  return buf;
}

bool SetTime(const std::string& text, google::protobuf::Timestamp* ts, const char* flag) {
  int64_t s = 0;
  if (!ParseLocalTime(text, &s)) {
    std::cerr << "gridctl: " << flag << " '" << text << "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]\n";
    return false;
  }
  ts->set_seconds(s);
  return true;
}

void PrintFiguresRow(const v1::CaseFigures& f, const std::string& label) {
  uint64_t open = 0;
  for (const auto& s : f.by_status()) {
    if (s.status() != v1::CASE_STATUS_CLOSED && s.status() != v1::CASE_STATUS_CANCELLED &&
        s.status() != v1::CASE_STATUS_MERGED) {
      open += s.count();
    }
  }
  uint64_t escalations = 0;
  for (const auto& e : f.escalations()) escalations += e.count();
  std::printf("%-16s %-20s %7llu %6llu %7s %7s %7s %7s %7s %7s %7s %7s %5llu %5llu %5llu\n", f.unit_code().c_str(),
              label.c_str(), static_cast<unsigned long long>(f.cases()), static_cast<unsigned long long>(open),
              Percent(f.response_rate(), f.accepted() + f.accept_missed()).c_str(),
              Percent(f.resolution_rate(), f.cases() - f.merged() - f.cancelled()).c_str(),
              Percent(f.satisfaction_rate(), f.called_back()).c_str(),
              Percent(f.on_time_resolution_rate(), f.resolved()).c_str(), Duration(f.median_accept_seconds()).c_str(),
              Duration(f.p90_accept_seconds()).c_str(), Duration(f.median_resolve_seconds()).c_str(),
              Duration(f.p90_resolve_seconds()).c_str(), static_cast<unsigned long long>(f.returns()),
              static_cast<unsigned long long>(f.reopenings()), static_cast<unsigned long long>(escalations));
}

}  // namespace

bool ParseLocalTime(const std::string& text, int64_t* seconds) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail);
  if (n == 7 || (n != 3 && n != 5 && n != 6)) return false;
  if (n == 3 && text.size() != 10) return false;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  *seconds = static_cast<int64_t>(timegm(&tm)) - kChinaOffsetSeconds;
  return true;
}

QueryCommands::QueryCommands(CLI::App& app) {
  cases_ = app.add_subcommand("cases", "list the cases of a subtree (CaseQuery.ListCases)");
  cases_->add_option("--scope", scope_, "unit code: this unit and everything below it")->required();
  cases_->add_option("--status", statuses_, "status (repeatable): routed, accepted, in_progress, ...");
  cases_->add_option("--category", category_, "category code");
  cases_->add_flag("--overdue", overdue_, "only unresolved cases past a due or flagged overdue");
  cases_->add_option("--from", from_, "created at or after (YYYY-MM-DD[THH:MM], UTC+8)");
  cases_->add_option("--to", to_, "created before (YYYY-MM-DD[THH:MM], UTC+8)");
  cases_->add_option("--updated-from", updated_from_, "last changed at or after");
  cases_->add_option("--updated-to", updated_to_, "last changed before");
  cases_->add_option("--assignee", assignee_, "member id working the case");
  cases_->add_option("--page-size", page_size_, "cases per page (at most 1000)")->capture_default_str();
  cases_->add_option("--page-token", page_token_, "continue from a previous page");
  cases_->add_flag("--all-pages", all_pages_, "fetch every page");

  stats_ = app.add_subcommand("stats", "figures of a subtree and of each child (CaseQuery.GetStats)");
  stats_->add_option("--scope", stats_scope_, "unit code")->required();
  stats_->add_option("--from", stats_from_, "first day, YYYY-MM-DD (UTC+8)")->required();
  stats_->add_option("--to", stats_to_, "last day, YYYY-MM-DD (UTC+8), inclusive")->required();
}

bool QueryCommands::parsed() const { return cases_->parsed() || stats_->parsed(); }

int QueryCommands::Run(const std::shared_ptr<grpc::Channel>& channel, const Io& io) const {
  auto stub = v1::CaseQuery::NewStub(channel);
  return cases_->parsed() ? RunCases(*stub, io) : RunStats(*stub, io);
}

int QueryCommands::RunCases(v1::CaseQuery::Stub& stub, const Io& io) const {
  v1::ListCasesRequest req;
  req.set_scope_unit_code(scope_);
  for (const auto& s : statuses_) {
    v1::CaseStatus status;
    if (!v1::CaseStatus_Parse("CASE_STATUS_" + Upper(s), &status) || status == v1::CASE_STATUS_UNSPECIFIED) {
      std::cerr << "gridctl: --status '" << s << "' is not a case status\n";
      return 2;
    }
    req.add_statuses(status);
  }
  req.set_category(category_);
  req.set_overdue(overdue_);
  req.set_assignee_member_id(assignee_);
  req.set_page_size(page_size_);
  req.set_page_token(page_token_);
  if (!from_.empty() && !SetTime(from_, req.mutable_created_from(), "--from")) return 2;
  if (!to_.empty() && !SetTime(to_, req.mutable_created_to(), "--to")) return 2;
  if (!updated_from_.empty() && !SetTime(updated_from_, req.mutable_updated_from(), "--updated-from")) return 2;
  if (!updated_to_.empty() && !SetTime(updated_to_, req.mutable_updated_to(), "--updated-to")) return 2;

  size_t total = 0;
  bool header = false;
  for (;;) {
    auto ctx = io.context();
    v1::ListCasesResponse resp;
    grpc::Status st = stub.ListCases(ctx.get(), req, &resp);
    if (!st.ok()) return io.report(st);
    total += static_cast<size_t>(resp.cases_size());
    if (io.json) {
      io.print_json(resp);
    } else {
      if (!header) {
        std::printf("%-16s %-12s %-22s %-16s %-10s %-16s %-16s %s\n", "case", "status", "category", "unit", "assignee",
                    "created", "updated", "overdue");
        header = true;
      }
      for (const auto& c : resp.cases()) {
        const bool flagged = c.deadlines().accept_overdue() || c.deadlines().resolve_overdue();
        std::printf("%-16s %-12s %-22s %-16s %-10s %-16s %-16s %s\n", c.id().c_str(),
                    Short(v1::CaseStatus_Name(c.status()), "CASE_STATUS_").c_str(), c.category().c_str(),
                    c.unit_code().c_str(), c.assignee_member_id().empty() ? "-" : c.assignee_member_id().c_str(),
                    LocalTime(c.created_at()).c_str(), LocalTime(c.updated_at()).c_str(), flagged ? "yes" : "");
      }
    }
    if (resp.next_page_token().empty()) break;
    if (!all_pages_) {
      if (!io.json) std::printf("more: --page-token %s\n", resp.next_page_token().c_str());
      break;
    }
    req.set_page_token(resp.next_page_token());
  }
  if (!io.json) std::printf("%zu case(s)\n", total);
  return 0;
}

int QueryCommands::RunStats(v1::CaseQuery::Stub& stub, const Io& io) const {
  v1::GetStatsRequest req;
  req.set_scope_unit_code(stats_scope_);
  req.set_from_date(stats_from_);
  req.set_to_date(stats_to_);
  auto ctx = io.context();
  v1::GetStatsResponse resp;
  grpc::Status st = stub.GetStats(ctx.get(), req, &resp);
  if (!st.ok()) return io.report(st);
  if (io.json) {
    io.print_json(resp);
    return 0;
  }
  std::printf("%s %s, cases created %s .. %s (UTC+8)\n", resp.total().unit_code().c_str(),
              resp.total().unit_name().c_str(), resp.from_date().c_str(), resp.to_date().c_str());
  std::printf("%-16s %-20s %7s %6s %7s %7s %7s %7s %7s %7s %7s %7s %5s %5s %5s\n", "unit", "name", "cases", "open",
              "resp%", "resolv%", "satisf%", "ontime%", "acc p50", "acc p90", "res p50", "res p90", "退单", "重办",
              "esc");
  std::printf(
      "(resp%% 响应率: accepted on time / accepted or missed; resolv%% 解决率; satisf%% 满意率; "
      "ontime%%: resolved on time / resolved; times from creation)\n");
  for (const auto& child : resp.children()) PrintFiguresRow(child, child.unit_name());
  PrintFiguresRow(resp.total(), "(total)");
  const auto& t = resp.total();
  std::printf("by status:");
  for (const auto& s : t.by_status()) {
    std::printf(" %s %llu", Short(v1::CaseStatus_Name(s.status()), "CASE_STATUS_").c_str(),
                static_cast<unsigned long long>(s.count()));
  }
  std::printf("\nescalations:");
  if (t.escalations_size() == 0) std::printf(" none");
  for (const auto& e : t.escalations()) {
    std::printf(" to %s %llu", Short(v1::UnitLevel_Name(e.level()), "UNIT_LEVEL_").c_str(),
                static_cast<unsigned long long>(e.count()));
  }
  std::printf("\n");
  return 0;
}

}  // namespace grid::tools

namespace grid::tools::gridctl {
namespace {

class QueryGroup final : public CommandGroup {
 public:
  void Add(CLI::App& app) override { commands_ = std::make_unique<QueryCommands>(app); }
  std::optional<int> Run(const Global& g) override {
    if (!commands_->parsed()) return std::nullopt;
    return commands_->Run(Connect(g), {[&g] { return NewContext(g); }, Report, PrintJson, g.json});
  }

 private:
  std::unique_ptr<QueryCommands> commands_;
};

}  // namespace

std::unique_ptr<CommandGroup> Queries() { return std::make_unique<QueryGroup>(); }

}  // namespace grid::tools::gridctl
