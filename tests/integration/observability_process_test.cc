// gridd's logs and /metrics as a process: --log-format json writes one JSON
// object per line (its own messages and the access log), text still works,
// a bad value is refused; /metrics answers with the demo county's figures.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/gridd_process.h"
#include "tests/support/http_client.h"
#include "tests/support/metrics_text.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace grid::testing {
namespace {

int HttpPortOf(const std::string& port_file) {
  std::ifstream in(port_file);
  int grpc_port = 0, http_port = 0;
  std::string label;
  in >> grpc_port >> label >> http_port;
  return http_port;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Submits one case through Open311 with a distinctive description; its id.
std::string SubmitOverHttp(int http_port, const std::string& description) {
  const HttpResult posted = HttpCall(http_port, "POST", "/open311/v2/requests.json",
                                     FormEncode({{"service_code", "sanitation.garbage"},
                                                 {"lat", "19.718341"},
                                                 {"long", "110.018842"},
                                                 {"first_name", "Quokkaname"},
                                                 {"description", description}}),
                                     "application/x-www-form-urlencoded");
  EXPECT_EQ(posted.status, 200) << posted.body;
  return posted.status == 200 ? nlohmann::json::parse(posted.body)[0]["service_request_id"].get<std::string>() : "";
}

TEST(ObservabilityProcess, JsonLogsAreOneObjectPerLine) {
  TempDir tmp;
  const std::string log = tmp.Sub("log");
  std::string id;
  {
    GriddProcess gridd(tmp.Sub("data"), log, {"--http-listen", "127.0.0.1:0", "--log-format", "json"});
    ASSERT_GT(gridd.port(), 0) << ReadText(log);
    const int http_port = HttpPortOf(tmp.Sub("data") + ".port");
    id = SubmitOverHttp(http_port, "DISTINCTIVE-DESCRIPTION-4711");
    ASSERT_FALSE(id.empty());
    // The demo county's directory, scraped.
    const MetricsText m(HttpCall(http_port, "GET", "/metrics").body);
    EXPECT_GT(m.Sum("grid_directory_units"), 500);
    EXPECT_EQ(m.Sum("grid_rpc_requests_total", {{"rpc", "SubmitCase"}, {"code", "OK"}}), 1);
    EXPECT_EQ(
        m.Sum("grid_http_requests_total", {{"endpoint", "open311_requests"}, {"method", "POST"}, {"code", "200"}}), 1);
    EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  }
  const auto lines = Lines(log);
  ASSERT_GE(lines.size(), 4u);
  bool serving = false, stopped = false, access = false;
  for (const std::string& line : lines) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    EXPECT_EQ(line.find("DISTINCTIVE-DESCRIPTION"), std::string::npos) << line;
    EXPECT_EQ(line.find("Quokkaname"), std::string::npos) << line;
    const std::string msg = j["msg"];
    serving = serving || (msg.find("serving on") != std::string::npos && j.contains("listen"));
    stopped = stopped || msg == "gridd: stopped";
    if (msg == "rpc" && j["rpc"] == "SubmitCase") {
      access = true;
      EXPECT_EQ(j["case_id"], id);
      EXPECT_EQ(j["code"], "OK");
      EXPECT_EQ(j["peer"], "http:127.0.0.1");
      EXPECT_EQ(j["caller"], "open311");
    }
  }
  EXPECT_TRUE(serving);
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(access);
}

TEST(ObservabilityProcess, TextLogsStillWork) {
  TempDir tmp;
  const std::string log = tmp.Sub("log");
  {
    GriddProcess gridd(tmp.Sub("data"), log, {"--http-listen", "127.0.0.1:0", "--log-format", "text"});
    ASSERT_GT(gridd.port(), 0) << ReadText(log);
    ASSERT_FALSE(SubmitOverHttp(HttpPortOf(tmp.Sub("data") + ".port"), "x").empty());
    EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  }
  const std::string text = ReadText(log);
  EXPECT_NE(text.find(" info gridd: serving on 127.0.0.1:"), std::string::npos) << text;
  EXPECT_NE(text.find(" info rpc rpc=SubmitCase code=OK "), std::string::npos) << text;
  EXPECT_NE(text.find(" info gridd: stopped"), std::string::npos) << text;
}

TEST(ObservabilityProcess, ABadLogFormatIsRefused) {
  TempDir tmp;
  std::string out;
  const int code = RunCommand(BinDir() + "/gridd --data " + tmp.Sub("data") + " --log-format xml", &out);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--log-format"), std::string::npos) << out;
  EXPECT_NE(out.find("must be text or json, not 'xml'"), std::string::npos) << out;
}

}  // namespace
}  // namespace grid::testing
