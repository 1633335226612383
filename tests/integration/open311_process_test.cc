// gridd --http-listen as a process: the HTTP port is written to the port
// file's second line, and Open311 and health answer on it beside gRPC.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/gridd_process.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

namespace grid::testing {
namespace {

TEST(Open311Process, GriddServesOpen311OnItsHttpPort) {
  TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"), {"--http-listen", "127.0.0.1:0"});
  ASSERT_GT(gridd.port(), 0) << "gridd did not start";
  std::ifstream in(tmp.Sub("data") + ".port");
  int grpc_port = 0, http_port = 0;
  std::string label;
  in >> grpc_port >> label >> http_port;
  EXPECT_EQ(grpc_port, gridd.port());
  EXPECT_EQ(label, "http");
  ASSERT_GT(http_port, 0);

  EXPECT_EQ(HttpCall(http_port, "GET", "/healthz").status, 200);
  EXPECT_EQ(HttpCall(http_port, "GET", "/readyz").status, 200);
  const HttpResult services = HttpCall(http_port, "GET", "/open311/v2/services.json");
  ASSERT_EQ(services.status, 200) << services.body;
  EXPECT_EQ(nlohmann::json::parse(services.body).size(), 13u);  // the demo county's categories
  const HttpResult posted = HttpCall(http_port, "POST", "/open311/v2/requests.json",
                                     FormEncode({{"service_code", "sanitation.garbage"},
                                                 {"lat", "19.718341"},
                                                 {"long", "110.018842"},
                                                 {"description", "小区门口垃圾堆积三天"}}),
                                     "application/x-www-form-urlencoded");
  ASSERT_EQ(posted.status, 200) << posted.body;
  const std::string id = nlohmann::json::parse(posted.body)[0]["service_request_id"];
  const HttpResult got = HttpCall(http_port, "GET", "/open311/v2/requests/" + id + ".json");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(nlohmann::json::parse(got.body)[0]["agency_responsible"], "光明社区第1网格");
}

}  // namespace
}  // namespace grid::testing
