#include "tools/crashtest/harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/rpc.h"
#include "tools/demo/demo_directory.h"

namespace grid::crashtest {

namespace v1 = grid::v1;

namespace {

constexpr std::chrono::seconds kSettleTimeout{120};

void PrintCount(const char* what, const Figures::Count& c) {
  std::printf("  %-14s %llu  (cases %llu, transitions %llu, deadlines %llu, feed %llu, watch %llu)\n", what,
              static_cast<unsigned long long>(c.total()), static_cast<unsigned long long>(c.cases),
              static_cast<unsigned long long>(c.transitions), static_cast<unsigned long long>(c.deadlines),
              static_cast<unsigned long long>(c.feed), static_cast<unsigned long long>(c.watch));
}

}  // namespace

std::string PolicyFile(const std::string& work_dir, int64_t accept_s, int64_t resolve_s) {
  const std::string path = work_dir + "/policy.txt";
  std::ofstream(path) << "warn 0.8\nrule general * calendar " << accept_s / 60 << "m " << resolve_s / 60 << "m\n";
  return path;
}

std::vector<std::string> GriddArgs(const std::string& policy) {
  return {"--deadline-policy", policy, "--feed-retention-days", "0", "--feed-heartbeat-ms", "200"};
}

std::string OffsetText(double hours) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", hours);
  return buf;
}

std::vector<std::string> Scopes(const std::shared_ptr<grpc::Channel>& channel) {
  std::vector<std::string> scopes = {std::string(grid::kDemoCountyCode)};
  auto stub = v1::Directory::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  v1::GetUnitRequest req;
  req.set_code(std::string(grid::kDemoCountyCode));
  v1::GetUnitResponse resp;
  if (stub->GetUnit(&ctx, req, &resp).ok()) {
    for (int i = 0; i < resp.children_size() && i < 2; ++i) scopes.push_back(resp.children(i).code());
  }
  return scopes;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void PrintFigures(const Figures& f) {
  std::printf("  store          %llu cases; %llu acknowledged cases, %llu acknowledged transitions checked\n",
              static_cast<unsigned long long>(f.cases_in_store), static_cast<unsigned long long>(f.acknowledged_cases),
              static_cast<unsigned long long>(f.acknowledged_transitions));
  std::printf("  deadlines      %llu escalations fired by deadlines, over %llu cases (at most %llu on one)\n",
              static_cast<unsigned long long>(f.deadline_escalations),
              static_cast<unsigned long long>(f.cases_escalated),
              static_cast<unsigned long long>(f.max_escalations_per_case));
  std::printf("  feed           %llu entries\n", static_cast<unsigned long long>(f.feed_entries));
  for (const auto& [scope, n] : f.subscriber_escalations) {
    std::printf("  subscriber     %s: %llu escalations of its scope checked\n", scope.c_str(),
                static_cast<unsigned long long>(n));
  }
  PrintCount("lost", f.lost);
  PrintCount("duplicated", f.duplicated);
  for (const auto& p : f.problems) std::printf("  PROBLEM: %s\n", p.c_str());
}

Figures SettleAndCheck(CallTarget& target, int64_t server_start, const std::string& log_path,
                       const LogContents* given_log, const std::function<bool(uint64_t head)>& before_check, bool* ok) {
  Figures f;
  auto serving = target.WaitServing(0);
  if (!serving) {
    f.read_failed = true;
    f.Problem("gridd is not serving");
    *ok = false;
    return f;
  }
  const std::string root(grid::kDemoCountyCode);
  uint64_t still_due = 0;
  std::string error;
  std::vector<v1::FeedEntry> feed;
  uint64_t head = 0;
  if (!SettleDeadlines(serving->channel, root, server_start, kSettleTimeout, &still_due, &error) ||
      !ReadFeed(serving->channel, &feed, &head, &error)) {
    f.read_failed = true;
    f.Problem(error);
    *ok = false;
    return f;
  }
  if (!before_check(head)) *ok = false;
  LogContents log;
  if (given_log != nullptr) {
    log = *given_log;
  } else if (!ReadLog(log_path, &log, &error)) {
    f.read_failed = true;
    f.Problem(error);
    *ok = false;
    return f;
  }
  f = Check(serving->channel, root, log, feed, server_start, still_due);
  if (f.read_failed || f.lost.total() + f.duplicated.total() > 0) *ok = false;
  return f;
}

Figures CheckRun(CallTarget& target, int64_t server_start, const std::string& log_path, Subscribers& subscribers,
                 bool* ok) {
  Figures f;
  if (*ok) {
    f = SettleAndCheck(
        target, server_start, log_path, nullptr,
        [&](uint64_t head) {
          if (subscribers.Finish(head, std::chrono::steady_clock::now() + std::chrono::seconds(60))) return true;
          std::printf("  PROBLEM: a subscriber did not reach the feed's head (cursor %llu) within 60 s\n",
                      static_cast<unsigned long long>(head));
          return false;
        },
        ok);
  }
  subscribers.Finish(0, std::chrono::steady_clock::now());
  return f;
}

int RunVerify(const std::string& command, const std::string& data) {
  if (command.empty()) return 0;
  std::string cmd = command;
  const size_t at = cmd.find("{}");
  if (at != std::string::npos) {
    cmd.replace(at, 2, data);
  } else {
    cmd += " " + data;
  }
  std::printf("  verify         %s\n", cmd.c_str());
  std::fflush(stdout);
  const int status = std::system(cmd.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::printf("  verify         exit %d\n", code);
  return code;
}

std::string MakeWorkDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "crashtest-XXXXXX").string();
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
}

std::string KeyPrefix(uint64_t seed) {
  const std::string nonce = std::to_string(
      Mix(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^ getpid()) % 1000000);
  return "ct" + std::to_string(seed) + "x" + nonce;
}

void PrintLoadCounts(const LoadCounts& counts) {
  uint64_t acked = 0;
  std::string kinds;
  for (const auto& [kind, n] : counts.acknowledged) {
    acked += n;
    kinds += " " + kind + " " + std::to_string(n);
  }
  std::printf("  acknowledged   %llu:%s\n", static_cast<unsigned long long>(acked), kinds.c_str());
  std::printf(
      "  retried        %llu calls sent again; %llu found stored though unanswered; %llu met a version "
      "moved by a deadline\n",
      static_cast<unsigned long long>(counts.retries), static_cast<unsigned long long>(counts.found_after_retry),
      static_cast<unsigned long long>(counts.version_moved));
  for (const auto& [reason, n] : counts.refused) {
    std::printf("  refused        %s: %llu\n", reason.c_str(), static_cast<unsigned long long>(n));
  }
}

}  // namespace grid::crashtest
