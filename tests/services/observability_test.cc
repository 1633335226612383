// /metrics and the access log of a real server (gRPC and HTTP on port 0, a
// real RocksDB in a temp dir, FakeClock): the figures move with real calls,
// deadlines fire through the injected clock, every access log line is JSON
// with its fields and no citizen data.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "services/logging.h"
#include "tests/support/grpc_client.h"
#include "tests/support/http_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/work_client.h"

namespace grid::services {
namespace {

using grid::testing::CallResult;
using grid::testing::HttpCall;
using grid::testing::MetricsText;
using grid::testing::Work;
using nlohmann::json;

constexpr Micros M = kMicrosPerMinute;
constexpr const char* kAdminToken = "observability-admin-0001";
constexpr const char* kForm = "application/x-www-form-urlencoded";

class ObservabilityTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    config_.http.listen = "127.0.0.1:0";
    auto policy = ParseDeadlinePolicy("test", "rule general * calendar 1h 4h\n");
    ASSERT_TRUE(policy.ok());
    config_.deadline_policy = *policy;
  }

  MetricsText Scrape() {
    auto r = HttpCall(server_->http_port(), "GET", "/metrics");
    EXPECT_EQ(r.status, 200) << r.error;
    return MetricsText(r.body);
  }

  std::string Submit(const grid::v1::SubmitCaseRequest& request, const std::string& token = "") {
    grid::v1::SubmitCaseResponse resp;
    CallResult r = testing::Submit(*clients_->intake, request, &resp, token);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    return resp.case_().id();
  }

  // The access log: json lines in log_text_, kept until the log ends.
  void StartJsonLog() {
    config_.log = Log::Start(LogFormat::kJson, std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_));
  }
  // Stops the server and the log (which writes every queued line); the lines.
  std::vector<std::string> EndLog() {
    StopServer();
    config_.log.reset();
    std::vector<std::string> lines;
    std::istringstream in(log_text_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::ostringstream log_text_;
};

TEST_F(ObservabilityTest, MetricsCountCallsBatchesWritesAndTheStore) {
  StartServer();
  constexpr int kCases = 5;
  std::vector<std::string> ids;
  for (int i = 0; i < kCases; ++i) ids.push_back(Submit(testing::Submission().Build()));
  grid::v1::CaseWorkResponse resp;
  grid::v1::AcceptRequest accept;
  accept.set_case_id(ids[0]);
  ASSERT_TRUE(Work(*work_, &grid::v1::CaseWork::Stub::Accept, accept, &resp).status.ok());
  grid::v1::SubmitCaseResponse bad;
  CallResult refused = testing::Submit(*clients_->intake, testing::Submission().At(91, 110).Build(), &bad);
  ASSERT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const MetricsText m = Scrape();
  EXPECT_GE(m.Sum("grid_rpc_requests_total", {{"rpc", "SubmitCase"}, {"code", "OK"}}), kCases);
  EXPECT_EQ(m.Sum("grid_rpc_requests_total", {{"rpc", "SubmitCase"}, {"code", "INVALID_ARGUMENT"}}), 1);
  EXPECT_EQ(m.Sum("grid_rpc_refusals_total", {{"rpc", "SubmitCase"}, {"reason", refused.reason}}), 1) << refused.reason;
  EXPECT_EQ(m.Sum("grid_rpc_requests_total", {{"rpc", "Accept"}, {"code", "OK"}}), 1);
  // The latency histogram: every bucket, cumulative, +Inf holding every call.
  const auto buckets = m.Find("grid_rpc_duration_seconds_bucket", {{"rpc", "SubmitCase"}});
  EXPECT_EQ(buckets.size(), 15u);
  EXPECT_EQ(m.Sum("grid_rpc_duration_seconds_bucket", {{"rpc", "SubmitCase"}, {"le", "+Inf"}}), kCases + 1);
  EXPECT_EQ(m.Sum("grid_rpc_duration_seconds_count", {{"rpc", "SubmitCase"}}), kCases + 1);
  EXPECT_GT(m.Sum("grid_rpc_duration_seconds_sum", {{"rpc", "SubmitCase"}}), 0);
  // The writer and the synced writes: at least one batch per accepted change.
  EXPECT_GT(m.Sum("grid_case_writer_batch_items_count"), 0);
  EXPECT_GE(m.Sum("grid_case_writer_batch_items_sum"), kCases + 1);
  EXPECT_GT(m.Sum("grid_store_synced_write_seconds_count"), 0);
  EXPECT_TRUE(m.Has("grid_case_writer_queue_depth"));
  // RocksDB's own figures, read at the scrape.
  EXPECT_GT(m.Sum("grid_rocksdb_memtable_bytes"), 0);
  for (const char* name : {"grid_rocksdb_pending_compaction_bytes", "grid_rocksdb_running_compactions",
                           "grid_rocksdb_delayed_write_rate_bytes_per_second", "grid_rocksdb_live_sst_bytes"}) {
    EXPECT_TRUE(m.Has(name)) << name;
  }
  EXPECT_EQ(m.Sum("grid_rocksdb_write_stopped"), 0);
  EXPECT_EQ(m.Sum("grid_store_read_only"), 0);
  // The directory.
  EXPECT_EQ(m.Sum("grid_directory_units"), directory_.units_size());
  EXPECT_EQ(m.Sum("grid_directory_version"), static_cast<double>(server_->directory_version()));
  // Every open case has its timers in the index.
  auto due = server_->store()->CountDue();
  ASSERT_TRUE(due.ok());
  EXPECT_GT(*due, 0u);
  EXPECT_EQ(m.Sum("grid_deadlines_pending"), static_cast<double>(*due));

  // HTTP answers by endpoint: the scrape above, and an unknown path.
  EXPECT_EQ(HttpCall(server_->http_port(), "GET", "/nowhere").status, 404);
  const MetricsText again = Scrape();
  EXPECT_GE(again.Sum("grid_http_requests_total", {{"endpoint", "metrics"}, {"method", "GET"}, {"code", "200"}}), 1);
  EXPECT_EQ(again.Sum("grid_http_requests_total", {{"endpoint", "unknown"}, {"code", "404"}}), 1);
}

TEST_F(ObservabilityTest, MetricsRefuseAPostAndTheNameOfEveryMetricIsPrefixed) {
  StartServer();
  auto r = HttpCall(server_->http_port(), "POST", "/metrics", "x", "text/plain");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("METHOD_NOT_ALLOWED"), std::string::npos) << r.body;
  const MetricsText m = Scrape();
  ASSERT_GT(m.size(), 0u);
  for (const auto& s : m.Find("grid_rpc_requests_total")) EXPECT_FALSE(s.labels.at("rpc").empty());
  const std::string text = HttpCall(server_->http_port(), "GET", "/metrics").body;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_EQ(line.rfind("grid_", 0), 0u) << line;
  }
}

TEST_F(ObservabilityTest, DeadlinesFiredAndEscalationsByLevelMoveWithTheInjectedClock) {
  StartServer();
  constexpr int kCases = 3;
  for (int i = 0; i < kCases; ++i) Submit(testing::Submission().Build());
  MetricsText before = Scrape();
  EXPECT_EQ(before.Sum("grid_deadlines_fired_total"), 0);
  EXPECT_EQ(before.Sum("grid_escalations_total"), 0);
  const double pending = before.Sum("grid_deadlines_pending");
  EXPECT_GE(pending, 2 * kCases);  // the accept warning and due, at least

  clock_.Advance(61 * M);  // past the accept warning (48 min) and due (60 min)
  const size_t fired = server_->FireDueDeadlines();
  EXPECT_EQ(fired, 2u * kCases);
  MetricsText after = Scrape();
  EXPECT_EQ(after.Sum("grid_deadlines_fired_total"), static_cast<double>(fired));
  // Overdue at the grid: escalated one level up, to the community, by the deadline.
  EXPECT_EQ(after.Sum("grid_escalations_total", {{"level", "community"}, {"automatic", "true"}}), kCases);
  EXPECT_EQ(after.Sum("grid_escalations_total"), kCases);
  // The fired timers left the index; the escalations added the next level's.
  auto due = server_->store()->CountDue();
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(after.Sum("grid_deadlines_pending"), static_cast<double>(*due));
}

TEST_F(ObservabilityTest, TheJsonAccessLogHasItsFieldsAndNoCitizenData) {
  std::ofstream(tmp_.Sub("tokens")) << kAdminToken << " admin * ops-desk-7\n";
  StartJsonLog();
  StartServer(tmp_.Sub("tokens"));
  // Distinctive citizen values, each of which must stay out of the log.
  const std::vector<std::string> citizen = {
      "Quokkaname Zyxw", "13912345678", "quokka@example.org", "987 Obscurelane Rd", "DISTINCTIVE-DESCRIPTION-4711",
      "20.00512",        "110.01534"};
  auto request = testing::Submission().At(20.00512, 110.01534).Description(citizen[4]).Build();
  request.mutable_citizen()->set_name(citizen[0]);
  request.mutable_citizen()->set_phone(citizen[1]);
  request.set_address(citizen[3]);
  const std::string id = Submit(request, kAdminToken);
  ASSERT_FALSE(id.empty());
  grid::v1::GetCaseResponse got;
  ASSERT_TRUE(testing::GetCase(*clients_->query, id, &got, kAdminToken).status.ok());
  // The same citizen through Open311.
  auto http = HttpCall(server_->http_port(), "POST", "/open311/v2/requests.json",
                       testing::FormEncode({{"service_code", "sanitation"},
                                            {"lat", citizen[5]},
                                            {"long", citizen[6]},
                                            {"first_name", citizen[0]},
                                            {"phone", citizen[1]},
                                            {"email", citizen[2]},
                                            {"address_string", citizen[3]},
                                            {"description", citizen[4]},
                                            {"api_key", kAdminToken}}),
                       kForm);
  ASSERT_EQ(http.status, 200) << http.body;
  // A refusal: no token.
  grid::v1::SubmitCaseResponse refused;
  ASSERT_EQ(testing::Submit(*clients_->intake, request, &refused).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  const std::vector<std::string> lines = EndLog();
  ASSERT_GE(lines.size(), 4u);
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  int submits = 0, gets = 0, refusals = 0, via_http = 0;
  for (const std::string& line : lines) {
    const json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(std::regex_match(j.value("time", ""), iso)) << line;
    EXPECT_TRUE(j.contains("level")) << line;
    for (const std::string& value : citizen) EXPECT_EQ(line.find(value), std::string::npos) << value << " in " << line;
    EXPECT_EQ(line.find(kAdminToken), std::string::npos) << line;
    if (j.value("msg", "") != "rpc") continue;
    for (const char* field : {"rpc", "code", "reason", "caller", "role", "case_id", "peer"}) {
      EXPECT_TRUE(j.contains(field) && j[field].is_string()) << field << " in " << line;
    }
    EXPECT_TRUE(j.contains("latency_ms") && j["latency_ms"].is_number()) << line;
    if (j["rpc"] == "SubmitCase" && j["code"] == "OK") {
      ++submits;
      EXPECT_EQ(j["caller"], "ops-desk-7");
      EXPECT_EQ(j["role"], "admin");
      EXPECT_EQ(j["case_id"].get<std::string>().size(), 16u);
      if (j["case_id"] == id) {
        EXPECT_EQ(j["peer"].get<std::string>().rfind("ipv4:127.0.0.1", 0), 0u) << line;
      } else {
        EXPECT_EQ(j["peer"], "http:127.0.0.1") << line;
        ++via_http;
      }
    }
    if (j["rpc"] == "GetCase") {
      ++gets;
      EXPECT_EQ(j["case_id"], id);
    }
    if (j["code"] == "UNAUTHENTICATED") {
      ++refusals;
      EXPECT_EQ(j["reason"], "MISSING_TOKEN");
      EXPECT_EQ(j["caller"], "");
    }
  }
  EXPECT_EQ(submits, 2);
  EXPECT_EQ(via_http, 1);
  EXPECT_EQ(gets, 1);
  EXPECT_EQ(refusals, 1);
}

TEST_F(ObservabilityTest, TheTextAccessLogIsOneLinePerCall) {
  config_.log = Log::Start(LogFormat::kText, std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_));
  StartServer();
  const std::string id = Submit(testing::Submission().Build());
  const std::vector<std::string> lines = EndLog();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(
      std::regex_search(lines[0], std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info rpc rpc=SubmitCase )"
                                             R"(code=OK reason="" caller=anonymous role=admin case_id=)" +
                                             id + " latency_ms=")))
      << lines[0];
}

}  // namespace
}  // namespace grid::services
