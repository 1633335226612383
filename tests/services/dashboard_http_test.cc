// The dashboard's JSON API and its Server-Sent Events over a real server
// (RocksDB in a temp dir, gRPC and HTTP on port 0): scope and masking as the
// gRPC API has them, every bad input answered with a JSON error and nothing
// stored, the live stream resuming from Last-Event-ID, and the HTTP limits
// holding for long-lived streams.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "services/dashboard_map.h"
#include "tests/support/http_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/tiny_directory.h"

namespace grid {
namespace {

using nlohmann::json;
using testing::FormEncode;
using testing::HttpCall;
using testing::HttpResult;

constexpr const char* kAdmin = "dash-admin-token-000001";
constexpr const char* kTownOffice = "dash-town-office-000001";
constexpr const char* kGridWorker = "dash-grid-worker-000001";

// A Server-Sent Events stream read over a raw socket.
class EventStream {
 public:
  EventStream(int port, const std::string& target, const std::string& extra_headers = "") : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    boost::asio::write(socket_,
                       boost::asio::buffer("GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra_headers + "\r\n"));
  }
  // Reads until `text` has arrived (or the stream ends); all read so far.
  std::string ReadUntil(const std::string& text) {
    boost::system::error_code ec;
    while (data_.find(text) == std::string::npos && !ec) {
      char buf[4096];
      const size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      data_.append(buf, n);
    }
    return data_;
  }
  const std::string& data() const { return data_; }
  void Close() { socket_.close(); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string data_;
};

class DashboardHttpTest : public testing::ServerFixture {
 protected:
  void SetUp() override { config_.http.listen = "127.0.0.1:0"; }

  void StartWithTokens() {
    std::ofstream(tmp_.Sub("tokens")) << kAdmin << " admin * root\n"
                                      << kTownOffice << " town_office 100001 town-1\n"
                                      << kGridWorker << " grid_worker 100001001002 worker-2\n";
    StartServer(tmp_.Sub("tokens"));
  }

  int http() const { return server_->http_port(); }
  HttpResult Get(const std::string& target, const std::string& token) {
    testing::Headers h;
    if (!token.empty()) h.push_back({"Authorization", "Bearer " + token});
    return HttpCall(http(), "GET", target, "", "", h);
  }
  json GetJson(const std::string& target, const std::string& token) {
    const HttpResult r = Get(target, token);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body << r.error;
    EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
    return json::parse(r.body, nullptr, false);
  }
  // {"error": {"status", "reason", "message"}}
  static void ExpectError(const HttpResult& r, int status, const std::string& reason, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body << r.error;
    const json doc = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(doc.is_object() && doc.contains("error")) << what << ": " << r.body;
    EXPECT_EQ(doc["error"]["status"], status) << what;
    EXPECT_EQ(doc["error"]["reason"], reason) << what << ": " << r.body;
    EXPECT_FALSE(doc["error"]["message"].get<std::string>().empty()) << what;
  }
  std::string Submit(const std::string& key) {
    const HttpResult r = HttpCall(http(), "POST", "/open311/v2/requests.json",
                                  FormEncode({{"api_key", kAdmin},
                                              {"service_code", "sanitation"},
                                              {"lat", "20.005"},
                                              {"long", "110.015"},
                                              {"first_name", "张"},
                                              {"last_name", "三"},
                                              {"phone", "13812341234"},
                                              {"description", "垃圾堆积 " + key}}),
                                  "application/x-www-form-urlencoded");
    EXPECT_EQ(r.status, 200) << r.body;
    const json doc = json::parse(r.body, nullptr, false);
    return doc.is_array() && !doc.empty() ? doc[0]["service_request_id"].get<std::string>() : "";
  }
  size_t Stored() {
    auto feed = server_->store()->ReadFeed(0, 100000);
    EXPECT_TRUE(feed.ok());
    return feed.ok() ? feed->size() : 0;
  }
};

const std::vector<std::string> kEndpoints = {"/dashboard/api/session",
                                             "/dashboard/api/unit?unit=100001",
                                             "/dashboard/api/shapes?unit=100001",
                                             "/dashboard/api/figures?unit=100001",
                                             "/dashboard/api/counts?unit=100001",
                                             "/dashboard/api/cases?unit=100001",
                                             "/dashboard/api/cases/0000000000000001",
                                             "/dashboard/api/escalations?unit=100001"};

TEST_F(DashboardHttpTest, TheSessionIsTheTokensScope) {
  StartWithTokens();
  EXPECT_EQ(GetJson("/dashboard/api/session", kTownOffice)["scope"]["unit"]["code"], "100001");
  EXPECT_EQ(GetJson("/dashboard/api/session", kAdmin)["scope"]["unit"]["code"], "100");
  const json s = GetJson("/dashboard/api/session", kGridWorker);
  EXPECT_EQ(s["scope"]["unit"]["code"], "100001001002");
  EXPECT_EQ(s["today"].get<std::string>().size(), 10u);
}

TEST_F(DashboardHttpTest, BadTokensAre401) {
  StartWithTokens();
  const size_t before = Stored();
  for (const auto& e : kEndpoints) {
    ExpectError(Get(e, ""), 401, "MISSING_TOKEN", e);
    ExpectError(Get(e, "no-such-token-0000000000"), 401, "UNKNOWN_TOKEN", e);
  }
  EXPECT_EQ(Stored(), before);
}

TEST_F(DashboardHttpTest, UnitsOutOfScopeAre403) {
  StartWithTokens();
  const std::string id = Submit("scope");
  const size_t before = Stored();
  for (const std::string e : {"shapes", "figures", "counts", "cases", "escalations"}) {
    ExpectError(Get("/dashboard/api/" + e + "?unit=100001001001", kGridWorker), 403, "OUT_OF_SCOPE", e);
    ExpectError(Get("/dashboard/api/" + e + "?unit=100", kTownOffice), 403, "OUT_OF_SCOPE", e);
  }
  // The case sits in grid 2: its worker sees it, the worker of grid 1 would not.
  EXPECT_EQ(GetJson("/dashboard/api/cases/" + id, kGridWorker)["case"]["id"], id);
  EXPECT_EQ(Stored(), before);
}

TEST_F(DashboardHttpTest, MalformedParametersAre400WithAReason) {
  StartWithTokens();
  const size_t before = Stored();
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {"/dashboard/api/shapes?unit=100001&zoom=abc", "INVALID_PARAMETER"},
      {"/dashboard/api/shapes?unit=100001&zoom=19", "INVALID_PARAMETER"},
      {"/dashboard/api/cases?unit=100001&page_size=5000", "INVALID_PARAMETER"},
      {"/dashboard/api/cases?unit=100001&overdue=maybe", "INVALID_PARAMETER"},
      {"/dashboard/api/cases?unit=100001&from=2026-13-01", "INVALID_DATE"},
      {"/dashboard/api/cases?unit=100001&to=yesterday", "INVALID_DATE"},
      {"/dashboard/api/cases?unit=100001&status=LOST", "INVALID_STATUS"},
      {"/dashboard/api/cases?unit=100001&page_token=bogus", "INVALID_PAGE_TOKEN"},
      {"/dashboard/api/figures?unit=100001&from=2026-1-1", "INVALID_DATE"},
      {"/dashboard/api/cases", "MISSING_SCOPE"},
      {"/dashboard/api/counts", "MISSING_SCOPE"},
      {"/dashboard/api/escalations?unit=100001&cursor=-1", "INVALID_PARAMETER"},
      {"/dashboard/api/escalations?unit=100001&all=2", "INVALID_PARAMETER"},
      {"/dashboard/api/cases/not-a-case-id", "INVALID_CASE_ID"},
      {"/dashboard/api/cases?unit=100001&category=%ZZ", "MALFORMED_REQUEST"},
  };
  for (const auto& [target, reason] : cases) {
    const HttpResult r = Get(target, kTownOffice);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_NE(r.body.find("\"" + reason + "\""), std::string::npos) << target << ": " << r.body;
  }
  ExpectError(Get("/dashboard/api/nothing", kTownOffice), 404, "UNKNOWN_PATH", "unknown endpoint");
  ExpectError(HttpCall(http(), "POST", "/dashboard/api/cases?unit=100001", "x", "text/plain"), 405,
              "METHOD_NOT_ALLOWED", "POST");
  ExpectError(Get("/dashboard/api/unit?unit=999", kTownOffice), 404, "UNIT_NOT_FOUND", "no such unit");
  EXPECT_EQ(Stored(), before);
}

TEST_F(DashboardHttpTest, ShapesCountsAndCasesOfTheScope) {
  StartWithTokens();
  const std::string id = Submit("one");
  const json shapes = GetJson("/dashboard/api/shapes?unit=100&zoom=14", kAdmin);
  EXPECT_EQ(shapes["outline"], "grids");
  ASSERT_EQ(shapes["features"].size(), 2u);
  EXPECT_EQ(shapes["features"][0]["properties"]["child"], "100001");
  // Zoomed out, the grids (0.01 degree) are too small: the town's outline.
  const json merged = GetJson("/dashboard/api/shapes?unit=100&zoom=8", kAdmin);
  EXPECT_EQ(merged["outline"], "children");
  EXPECT_EQ(merged["grids"], 2);
  ASSERT_EQ(merged["features"].size(), 1u);
  EXPECT_EQ(merged["features"][0]["properties"], json({{"child", "100001"}, {"name", "测试镇"}}));
  EXPECT_EQ(GetJson("/dashboard/api/shapes?unit=100&zoom=8&outline=grids", kAdmin)["features"].size(), 2u);
  ExpectError(Get("/dashboard/api/shapes?unit=100&outline=towns", kAdmin), 400, "INVALID_PARAMETER", "outline");
  const json community = GetJson("/dashboard/api/shapes?unit=100001001", kTownOffice);
  ASSERT_EQ(community["features"].size(), 2u);
  std::set<std::string> children;
  for (const auto& f : community["features"]) children.insert(f["properties"]["child"].get<std::string>());
  EXPECT_EQ(children, (std::set<std::string>{"100001001001", "100001001002"}));
  const json counts = GetJson("/dashboard/api/counts?unit=100001001", kTownOffice);
  EXPECT_EQ(counts["children"]["100001001002"]["open"], 1);
  EXPECT_EQ(counts["children"]["100001001002"]["overdue"], 0);
  EXPECT_TRUE(counts["complete"]);
  const json list = GetJson("/dashboard/api/cases?unit=100001&status=ROUTED&page_size=10", kTownOffice);
  ASSERT_EQ(list["cases"].size(), 1u);
  EXPECT_EQ(list["cases"][0]["id"], id);
  EXPECT_EQ(GetJson("/dashboard/api/cases?unit=100001&status=CLOSED", kTownOffice)["cases"].size(), 0u);
  // The town office sees the citizen masked, as in the gRPC API; the admin as stored.
  const json got = GetJson("/dashboard/api/cases/" + id, kTownOffice);
  EXPECT_EQ(got["case"]["citizen"]["phone"], "138****1234");
  EXPECT_GE(got["events"].size(), 2u);
  EXPECT_EQ(GetJson("/dashboard/api/cases/" + id, kAdmin)["case"]["citizen"]["phone"], "13812341234");
  const json figures = GetJson("/dashboard/api/figures?unit=100001", kTownOffice);
  ASSERT_EQ(figures["children"].size(), 1u);
  EXPECT_EQ(figures["children"][0]["unitCode"], "100001001");
}

TEST_F(DashboardHttpTest, StaticFilesAndTheirRefusals) {
  std::filesystem::create_directories(tmp_.Sub("web"));
  std::ofstream(tmp_.Sub("web/index.html")) << "<!doctype html><title>t</title>";
  std::ofstream(tmp_.Sub("web/app.js")) << "export {};";
  std::ofstream(tmp_.Sub("secret.txt")) << "no";
  config_.web_root = tmp_.Sub("web");
  StartServer();
  for (const std::string p : {"/", "/dashboard", "/dashboard/"}) {
    const HttpResult r = HttpCall(http(), "GET", p);
    EXPECT_EQ(r.status, 200) << p;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  }
  EXPECT_EQ(HttpCall(http(), "GET", "/dashboard/app.js").content_type, "text/javascript; charset=utf-8");
  for (const std::string p :
       {"/dashboard/../secret.txt", "/dashboard/%2e%2e/secret.txt", "/dashboard/nope.js", "/dashboard//etc/passwd"}) {
    ExpectError(HttpCall(http(), "GET", p), 404, "UNKNOWN_PATH", p);
  }
  ExpectError(HttpCall(http(), "POST", "/dashboard/", "x", "text/plain"), 405, "METHOD_NOT_ALLOWED", "POST");
  // The server's own refusals on the dashboard's paths are JSON too.
  ExpectError(HttpCall(http(), "GET", "/dashboard/api/session", "", "", {{"X-Pad", std::string(9000, 'x')}}), 431,
              "MESSAGE_TOO_LARGE", "a header block over the limit");
  // Open311 keeps its paths.
  EXPECT_EQ(HttpCall(http(), "GET", "/open311/v2/services.json").status, 200);
}

TEST_F(DashboardHttpTest, EscalationsStreamAndResumeFromLastEventId) {
  StartWithTokens();
  const std::string auth = std::string("Authorization: Bearer ") + kTownOffice + "\r\n";
  EventStream live(http(), "/dashboard/api/escalations?unit=100001&all=true", auth);
  const std::string head = live.ReadUntil("event: cursor");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  const std::string id = Submit("live");
  const std::string got = live.ReadUntil("EVENT_TYPE_ROUTED");
  // The first entry's cursor: resuming from it gives the entries after it, once each.
  const size_t at = got.find("id: ", got.find("event: cursor"));
  ASSERT_NE(at, std::string::npos);
  const std::string first = got.substr(at + 4, got.find('\n', at) - at - 4);
  live.Close();
  EventStream resumed(http(),
                      "/dashboard/api/escalations?unit=100001&all=true&access_token=" + std::string(kTownOffice),
                      "Last-Event-ID: " + first + "\r\n");
  const std::string again = resumed.ReadUntil("EVENT_TYPE_ROUTED");
  EXPECT_EQ(again.find("EVENT_TYPE_SUBMITTED"), std::string::npos) << again;
  EXPECT_NE(again.find(id), std::string::npos);
}

TEST_F(DashboardHttpTest, StreamsCountAgainstTheConnectionLimitAndEndWithTheServer) {
  config_.http.max_connections = 2;
  StartWithTokens();
  const std::string auth = std::string("Authorization: Bearer ") + kTownOffice + "\r\n";
  auto a = std::make_unique<EventStream>(http(), "/dashboard/api/escalations?unit=100001", auth);
  EventStream b(http(), "/dashboard/api/escalations?unit=100001", auth);
  a->ReadUntil("event: cursor");
  b.ReadUntil("event: cursor");
  // Refused before its request is read: in the server's own error shape.
  const HttpResult third = Get("/dashboard/api/session", kTownOffice);
  EXPECT_EQ(third.status, 503);
  EXPECT_NE(third.body.find("TOO_MANY_CONNECTIONS"), std::string::npos) << third.body;
  // A stream whose client leaves frees its connection.
  a->Close();
  a.reset();
  HttpResult r;
  for (int i = 0; i < 100 && r.status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = Get("/dashboard/api/session", kTownOffice);
  }
  EXPECT_EQ(r.status, 200) << r.body;
  // Stopping the server ends the stream that is still open (the read ends).
  StopServer();
  b.ReadUntil("\x01never");
}

TEST(DashboardMapTest, SimplifyKeepsCornersAndDropsNearlyStraightPoints) {
  std::vector<geo::Point> ring;
  for (int i = 0; i < 10; ++i) ring.push_back({i * 0.001, 0.0000001 * (i % 2)});
  ring.push_back({0.01, 0.01});
  ring.push_back({0.0, 0.01});
  const auto kept = services::dashboard::SimplifyRing(ring, services::dashboard::ToleranceForZoom(12));
  EXPECT_EQ(kept.size(), 4u);
  // At tolerance 0 only the exactly collinear points go; the jittered ones stay.
  EXPECT_GT(services::dashboard::SimplifyRing(ring, 0).size(), 8u);
  const std::vector<geo::Point> triangle = {{0, 0}, {1, 0}, {0, 1}};
  EXPECT_EQ(services::dashboard::SimplifyRing(triangle, 10).size(), 3u);
  EXPECT_GT(services::dashboard::ToleranceForZoom(5), services::dashboard::ToleranceForZoom(6));
}

// County 100: town 100001 with a community of 2 x 2 grids (no boundary of
// its own), town 100002 with its own boundary and a community of two grids.
std::shared_ptr<const Directory> TwoTowns() {
  using testing::AddSquare;
  using testing::AddUnit;
  grid::v1::DirectoryContent c;
  AddUnit(&c, "100", grid::v1::UNIT_LEVEL_COUNTY, "测试县", "");
  AddUnit(&c, "100001", grid::v1::UNIT_LEVEL_TOWN, "一镇", "100");
  AddUnit(&c, "100001001", grid::v1::UNIT_LEVEL_COMMUNITY, "一社区", "100001");
  int n = 0;
  for (double x : {110.00, 110.01})
    for (double y : {20.00, 20.01})
      AddSquare(AddUnit(&c, "10000100100" + std::to_string(++n), grid::v1::UNIT_LEVEL_GRID, "网格", "100001001"), x, y,
                x + 0.01, y + 0.01);
  AddSquare(AddUnit(&c, "100002", grid::v1::UNIT_LEVEL_TOWN, "二镇", "100"), 110.03, 20.00, 110.06, 20.03);
  AddUnit(&c, "100002001", grid::v1::UNIT_LEVEL_COMMUNITY, "二社区", "100002");
  AddSquare(AddUnit(&c, "100002001001", grid::v1::UNIT_LEVEL_GRID, "网格", "100002001"), 110.03, 20.00, 110.04, 20.01);
  AddSquare(AddUnit(&c, "100002001002", grid::v1::UNIT_LEVEL_GRID, "网格", "100002001"), 110.04, 20.00, 110.05, 20.01);
  auto d = Directory::Build(std::move(c), 1);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : nullptr;
}

// The features' outer rings, by child: [[lng, lat], ...] closed.
std::map<std::string, std::vector<json>> Outlines(const std::string& geojson) {
  std::map<std::string, std::vector<json>> out;
  const json doc = json::parse(geojson);
  for (const auto& f : doc["features"]) {
    for (const auto& polygon : f["geometry"]["coordinates"])
      out[f["properties"]["child"].get<std::string>()].push_back(polygon[0]);
  }
  return out;
}

TEST(DashboardMapTest, ZoomedOutTheChildrenAreDrawnMergedOrByTheirOwnBoundary) {
  using services::dashboard::GridShapes;
  using services::dashboard::Outline;
  auto d = TwoTowns();
  ASSERT_TRUE(d);
  // Zoom 8: a 0.01-degree grid is about 2 pixels across.
  const auto low = GridShapes(*d, "100", 8);
  EXPECT_EQ(low.outline, Outline::kChildren);
  EXPECT_EQ(low.grids, 6u);
  EXPECT_EQ(low.features, 2u);
  const auto outlines = Outlines(low.geojson);
  // 100001: its four grids merged into one square, no inner edges left.
  ASSERT_EQ(outlines.at("100001").size(), 1u);
  std::set<std::pair<double, double>> corners;
  for (const auto& p : outlines.at("100001")[0]) corners.insert({p[0].get<double>(), p[1].get<double>()});
  EXPECT_EQ(corners,
            (std::set<std::pair<double, double>>{{110.0, 20.0}, {110.02, 20.0}, {110.02, 20.02}, {110.0, 20.02}}))
      << low.geojson;
  // 100002: the directory's own boundary of the town, not its grids.
  ASSERT_EQ(outlines.at("100002").size(), 1u);
  double east = 0;
  for (const auto& p : outlines.at("100002")[0]) east = std::max(east, p[0].get<double>());
  EXPECT_DOUBLE_EQ(east, 110.06);
  EXPECT_NE(low.geojson.find(R"({"child":"100001","name":"一镇"})"), std::string::npos) << low.geojson;

  // Zoom 14: a grid is over 100 pixels: the grids, each with its town as child.
  const auto high = GridShapes(*d, "100", 14);
  EXPECT_EQ(high.outline, Outline::kGrids);
  EXPECT_EQ(high.features, 6u);
  EXPECT_EQ(Outlines(high.geojson).at("100001").size(), 4u);
  EXPECT_EQ(high.geojson.find("\"code\""), std::string::npos) << "only what the page uses";
  // Forced either way; a community is always drawn by its grids.
  EXPECT_EQ(GridShapes(*d, "100", 14, Outline::kChildren).features, 2u);
  EXPECT_EQ(GridShapes(*d, "100", 8, Outline::kGrids).features, 6u);
  EXPECT_EQ(GridShapes(*d, "100001001", 8).outline, Outline::kGrids);
  EXPECT_EQ(GridShapes(*d, "100001", 8).features, 1u);
}

}  // namespace
}  // namespace grid
