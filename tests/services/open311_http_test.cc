// Open311 GeoReport v2 over HTTP, end to end: a real server (RocksDB in a
// temp dir, gRPC and HTTP on port 0) driven by a real HTTP client with the
// spec's own example requests, a case followed through CaseWork (gRPC) to
// closed, every bad input answered in Open311's error shape with nothing
// stored, authentication through api_key, and the HTTP limits.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/grpc_client.h"
#include "tests/support/http_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/work_client.h"

namespace grid {
namespace {

using nlohmann::json;
using testing::FormEncode;
using testing::HttpCall;
using testing::HttpResult;

constexpr const char* kForm = "application/x-www-form-urlencoded";
constexpr const char* kAdmin = "open311-admin-token-0001";
constexpr const char* kCallCenter = "open311-call-center-0001";
constexpr const char* kTownOffice = "open311-town-office-0001";
constexpr const char* kSupervisor = "open311-supervisor-00001";

class Open311HttpTest : public testing::ServerFixture {
 protected:
  void SetUp() override { config_.http.listen = "127.0.0.1:0"; }

  void StartWithTokens() {
    std::ofstream(tmp_.Sub("tokens")) << kAdmin << " admin * root\n"
                                      << kCallCenter << " call_center * cc-1\n"
                                      << kTownOffice << " town_office 100001 town-1\n"
                                      << kSupervisor << " supervisor 100001 sup-1\n";
    StartServer(tmp_.Sub("tokens"));
  }

  int http() const { return server_->http_port(); }
  HttpResult Get(const std::string& target) { return HttpCall(http(), "GET", target); }
  HttpResult Post(const std::string& target, const std::string& body, const std::string& type = kForm) {
    return HttpCall(http(), "POST", target, body, type);
  }

  // The GeoReport v2 spec's example POST, in our county: grid 2 of the tiny directory.
  static std::vector<std::pair<std::string, std::string>> SpecExample() {
    return {{"jurisdiction_id", "city.gov"},
            {"service_code", "sanitation"},
            {"lat", "20.005"},
            {"long", "110.015"},
            {"address_string", "123 Fake St"},
            {"email", "smit333@sfgov.edu"},
            {"device_id", "tt222111"},
            {"account_id", "123456"},
            {"first_name", "john"},
            {"last_name", "smith"},
            {"phone", "111111111"},
            {"description", "A large sinkhole is destroying the street"},
            {"media_url", "http://media.example.com/asdf456"}};
  }

  // Every feed entry there is: one per stored event, so a refusal that
  // stored nothing leaves it as it was.
  size_t Stored() {
    auto feed = server_->store()->ReadFeed(0, 100000);
    EXPECT_TRUE(feed.ok());
    return feed.ok() ? feed->size() : 0;
  }

  // Expects an Open311 error answer: `status`, [{"code": status,
  // "description": "<REASON>: ..."}].
  static void ExpectError(const HttpResult& r, int status, const std::string& reason) {
    EXPECT_EQ(r.status, status) << r.body << r.error;
    const json doc = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(doc.is_array() && doc.size() == 1) << r.body;
    EXPECT_EQ(doc[0]["code"], status);
    const std::string description = doc[0]["description"];
    EXPECT_EQ(description.rfind(reason + ": ", 0), 0u) << description;
    EXPECT_GT(description.size(), reason.size() + 10) << description;
  }

  std::string SubmitExample() {
    const HttpResult r = Post("/open311/v2/requests.json", FormEncode(SpecExample()));
    EXPECT_EQ(r.status, 200) << r.body;
    const json doc = json::parse(r.body, nullptr, false);
    if (!doc.is_array() || doc.empty()) return "";
    return doc[0]["service_request_id"];
  }

  void Work(const std::string& id, auto method, auto request) {
    request.set_case_id(id);
    grid::v1::CaseWorkResponse resp;
    auto r = testing::Work(*work_, method, request, &resp);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  }

  // The request's Open311 status, FixMyStreet status and status notes.
  void ExpectStatus(const std::string& id, const char* status, const char* extended, const char* notes) {
    const json r = Request(id);
    EXPECT_EQ(r["status"], status);
    EXPECT_EQ(r["extended_attributes"]["status"], extended);
    EXPECT_EQ(r["status_notes"], notes);
  }

  json Request(const std::string& id) {
    const HttpResult r = Get("/open311/v2/requests/" + id + ".json");
    EXPECT_EQ(r.status, 200) << r.body;
    const json doc = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(doc.is_array() && doc.size() == 1) << r.body;
    return doc.is_array() && !doc.empty() ? doc[0] : json();
  }
};

TEST_F(Open311HttpTest, ListsServicesInJsonAndXml) {
  StartServer();
  HttpResult r = Get("/open311/v2/services.json?jurisdiction_id=city.gov");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  const json services = json::parse(r.body);
  ASSERT_EQ(services.size(), 4u);
  EXPECT_EQ(services[0]["service_code"], "medical");
  EXPECT_EQ(services[2]["service_code"], "security");
  EXPECT_EQ(services[3]["service_name"], "水管爆裂");
  EXPECT_EQ(services[3]["metadata"], false);

  r = Get("/open311/v2/services.xml?jurisdiction_id=city.gov");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/xml; charset=utf-8");
  EXPECT_NE(r.body.find("<service><service_code>sanitation</service_code><service_name>环境卫生</service_name>"),
            std::string::npos)
      << r.body;

  r = Get("/open311/v2/services/water.burst.json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["service_code"], "water.burst");
  ExpectError(Get("/open311/v2/services/no.such.json"), 404, "UNKNOWN_CATEGORY");

  r = Get("/open311/v2/discovery.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["endpoints"][0]["url"], "http://127.0.0.1:" + std::to_string(http()) + "/open311/v2");
}

TEST_F(Open311HttpTest, ASubmittedRequestIsFollowedToClosed) {
  StartServer();
  const std::string id = SubmitExample();
  ASSERT_FALSE(id.empty());

  json r = Request(id);
  EXPECT_EQ(r["service_request_id"], id);
  EXPECT_EQ(r["status"], "open");
  EXPECT_EQ(r["extended_attributes"]["status"], "open");
  EXPECT_EQ(r["service_code"], "sanitation");
  EXPECT_EQ(r["service_name"], "环境卫生");
  EXPECT_EQ(r["agency_responsible"], "第2网格");
  EXPECT_EQ(r["description"], "A large sinkhole is destroying the street");
  EXPECT_EQ(r["address"], "123 Fake St");
  EXPECT_EQ(r["media_url"], "http://media.example.com/asdf456");
  EXPECT_EQ(r["requested_datetime"], "2026-11-18T19:06:40+08:00");
  EXPECT_EQ(r["extended_attributes"]["citizen_name"], "john smith");  // open mode: an admin sees it
  EXPECT_NE(r["service_notice"].get<std::string>().find("第2网格"), std::string::npos);

  // The gRPC API sees the same case, submitted on the web channel.
  grid::v1::GetCaseResponse got;
  ASSERT_TRUE(testing::GetCase(*clients_->query, id, &got).status.ok());
  EXPECT_EQ(got.case_().channel(), grid::v1::CHANNEL_WEB);
  EXPECT_EQ(got.case_().citizen().phone(), "111111111");

  grid::v1::AcceptRequest accept;
  accept.set_note("收到");
  Work(id, &grid::v1::CaseWork::Stub::Accept, accept);
  ExpectStatus(id, "open", "action_scheduled", "收到");

  grid::v1::ResolveRequest resolve;
  resolve.set_note("已清运");
  Work(id, &grid::v1::CaseWork::Stub::Resolve, resolve);
  ExpectStatus(id, "closed", "fixed", "已清运");
  grid::v1::RecordCallbackRequest callback;
  callback.set_satisfied(true);
  Work(id, &grid::v1::CaseWork::Stub::RecordCallback, callback);
  grid::v1::CloseRequest close;
  close.set_note("办结");
  Work(id, &grid::v1::CaseWork::Stub::Close, close);
  ExpectStatus(id, "closed", "closed", "办结");

  // The spec's list queries: by status and window, and by ids.
  HttpResult list = Get("/open311/v2/requests.json?jurisdiction_id=100&status=closed");
  ASSERT_EQ(list.status, 200) << list.body;
  json doc = json::parse(list.body);
  ASSERT_EQ(doc.size(), 1u) << list.body;
  EXPECT_EQ(doc[0]["service_request_id"], id);
  list = Get("/open311/v2/requests.json?status=open");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body).size(), 0u);
  list = Get("/open311/v2/requests.xml?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=closed");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body, R"(<?xml version="1.0" encoding="utf-8"?><service_requests></service_requests>)");
  list = Get("/open311/v2/requests.json?service_request_id=" + id + ",1,999");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(json::parse(list.body).size(), 1u) << list.body;
  list = Get("/open311/v2/requests/" + id + ".xml");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("<status>closed</status>"), std::string::npos) << list.body;
}

TEST_F(Open311HttpTest, TakesAJsonBodyToo) {
  StartServer();
  json body = {{"service_code", "sanitation"}, {"lat", 20.005},        {"long", 110.015},
               {"description", "路灯不亮"},    {"first_name", "小梅"}, {"last_name", "陈"}};
  const HttpResult r = Post("/open311/v2/requests.json", body.dump(), "application/json; charset=utf-8");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = json::parse(r.body)[0]["service_request_id"];
  EXPECT_EQ(Request(id)["extended_attributes"]["citizen_name"], "陈小梅");
}

TEST_F(Open311HttpTest, BadInputIsRefusedInOpen311ShapeAndStoresNothing) {
  config_.http.max_body_bytes = 4096;
  StartServer();
  ASSERT_FALSE(SubmitExample().empty());
  const size_t before = Stored();
  auto without = [](const std::string& name) {
    auto f = SpecExample();
    std::erase_if(f, [&](const auto& kv) { return kv.first == name; });
    return FormEncode(f);
  };
  auto with = [](const std::string& name, const std::string& value) {
    auto f = SpecExample();
    for (auto& [k, v] : f) {
      if (k == name) v = value;
    }
    return FormEncode(f);
  };
  const std::string path = "/open311/v2/requests.json";
  ExpectError(Post(path, without("service_code")), 400, "MISSING_CATEGORY");
  ExpectError(Post(path, without("description")), 400, "MISSING_DESCRIPTION");
  {
    auto f = SpecExample();
    std::erase_if(
        f, [](const auto& kv) { return kv.first == "lat" || kv.first == "long" || kv.first == "address_string"; });
    ExpectError(Post(path, FormEncode(f)), 400, "MISSING_LOCATION");
  }
  ExpectError(Post(path, without("long")), 400, "MALFORMED_REQUEST");
  ExpectError(Post(path, with("lat", "twenty")), 400, "MALFORMED_REQUEST");
  ExpectError(Post(path, with("lat", "95")), 400, "LATITUDE_OUT_OF_RANGE");
  ExpectError(Post(path, with("service_code", "no.such")), 400, "UNKNOWN_CATEGORY");
  ExpectError(Post(path, with("phone", "call me")), 400, "INVALID_PHONE");
  ExpectError(Post(path, with("media_url", "ftp://x")), 400, "INVALID_ATTACHMENT_URL");
  ExpectError(Post(path, FormEncode(SpecExample()) + "&description=%zz"), 400, "MALFORMED_REQUEST");
  ExpectError(Post(path, "service_code=sanitation&lat=20.005&long=110.015&description=%ff%fe"), 400, "INVALID_UTF8");
  ExpectError(Post(path, "{\"service_code\": \"sanitation\", \"description\": \"\xff\"}", "application/json"), 400,
              "INVALID_UTF8");
  ExpectError(Post(path, "{\"service_code\":", "application/json"), 400, "INVALID_JSON");
  ExpectError(Post(path, FormEncode(SpecExample()), "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE");
  ExpectError(Post(path, FormEncode(SpecExample()), ""), 415, "UNSUPPORTED_MEDIA_TYPE");
  ExpectError(Post(path, with("description", std::string(5000, 'x'))), 413, "MESSAGE_TOO_LARGE");
  ExpectError(Get("/open311/v2/requests.json?start_date=last+week"), 400, "INVALID_DATE");
  ExpectError(Get("/open311/v2/requests.json?status=pending"), 400, "INVALID_STATUS");
  ExpectError(Get("/open311/v2/requests/99999.json"), 404, "CASE_NOT_FOUND");
  ExpectError(Get("/open311/v2/nothing.json"), 404, "UNKNOWN_PATH");
  ExpectError(Get("/somewhere/else"), 404, "UNKNOWN_PATH");
  ExpectError(HttpCall(http(), "DELETE", path), 405, "METHOD_NOT_ALLOWED");
  ExpectError(HttpCall(http(), "PUT", "/open311/v2/services.json"), 405, "METHOD_NOT_ALLOWED");
  const HttpResult xml = Post("/open311/v2/requests.xml", without("service_code"));
  EXPECT_EQ(xml.status, 400);
  EXPECT_EQ(xml.body, R"(<?xml version="1.0" encoding="utf-8"?><errors><error><code>400</code>)"
                      R"(<description>MISSING_CATEGORY: service_code is required</description></error></errors>)");
  EXPECT_EQ(Stored(), before);
}

TEST_F(Open311HttpTest, ApiKeyIsTheBearerTokenOfTheSamePolicy) {
  StartWithTokens();
  const std::string path = "/open311/v2/requests.json";
  const size_t before = Stored();
  ExpectError(Post(path, FormEncode(SpecExample())), 401, "MISSING_TOKEN");
  auto with_key = [](const std::string& key) {
    auto f = SpecExample();
    f.emplace_back("api_key", key);
    return FormEncode(f);
  };
  ExpectError(Post(path, with_key("not-a-token-at-all-xyz")), 401, "UNKNOWN_TOKEN");
  ExpectError(Post(path, with_key(kTownOffice)), 403, "ROLE_NOT_ALLOWED");
  EXPECT_EQ(Stored(), before);
  ExpectError(Get("/open311/v2/requests.json?jurisdiction_id=100"), 401, "MISSING_TOKEN");

  HttpResult r = Post(path, with_key(kCallCenter));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = json::parse(r.body)[0]["service_request_id"];
  // The key may also come in the query or as "Authorization: Bearer".
  r = Get("/open311/v2/requests/" + id + ".json?api_key=" + kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)[0]["extended_attributes"]["citizen_phone"], "111111111");
  // A supervisor sees the citizen masked, as over gRPC.
  r = HttpCall(http(), "GET", "/open311/v2/requests/" + id + ".json", "", "",
               {{"Authorization", std::string("Bearer ") + kSupervisor}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json masked = json::parse(r.body)[0]["extended_attributes"];
  EXPECT_EQ(masked["citizen_phone"], "111**1111");
  EXPECT_NE(masked["citizen_name"], "john smith");
  // Out of scope: the town office of town 100001 asking for the county.
  ExpectError(Get(std::string("/open311/v2/requests.json?jurisdiction_id=100&api_key=") + kTownOffice), 403,
              "OUT_OF_SCOPE");
  r = Get(std::string("/open311/v2/requests.json?jurisdiction_id=100001&api_key=") + kTownOffice);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).size(), 1u);
  // The catalogue is public, as the spec has it.
  EXPECT_EQ(Get("/open311/v2/services.json").status, 200);
}

TEST_F(Open311HttpTest, HealthReadinessAndMetrics) {
  StartServer();
  HttpResult r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  r = Get("/readyz");
  EXPECT_EQ(r.status, 200);
  // The server's own figures (observability_test.cc), unless a hook is given.
  r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("grid_rpc_requests_total"), std::string::npos) << r.body;
  StopServer();
  config_.http.metrics_text = [] { return std::string("grid_up 1\n"); };
  StartServer();
  r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "grid_up 1\n");
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  ExpectError(HttpCall(http(), "POST", "/healthz", "x", "text/plain"), 405, "METHOD_NOT_ALLOWED");
}

TEST_F(Open311HttpTest, ABodyOverTheLimitIsRefusedUnread) {
  config_.http.max_body_bytes = 1024;
  StartServer();
  const size_t before = Stored();
  auto f = SpecExample();
  f.emplace_back("attribute[note]", std::string(2000, 'x'));
  ExpectError(Post("/open311/v2/requests.json", FormEncode(f)), 413, "MESSAGE_TOO_LARGE");
  EXPECT_EQ(Stored(), before);
  // The server still serves.
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(Open311HttpTest, AHeaderBlockOverTheLimitIsRefused) {
  config_.http.max_header_bytes = 1024;
  StartServer();
  const HttpResult r =
      HttpCall(http(), "GET", "/open311/v2/services.json", "", "", {{"X-Padding", std::string(2048, 'p')}});
  ExpectError(r, 431, "MESSAGE_TOO_LARGE");
}

TEST_F(Open311HttpTest, AnIdleConnectionIsClosed) {
  config_.http.idle_timeout = std::chrono::milliseconds(100);
  StartServer();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(http())});
  // Half a request, then nothing: the server closes the connection by itself
  // after the idle timeout (the read below returns; it does not hang).
  const std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  boost::asio::write(socket, boost::asio::buffer(partial));
  const auto started = std::chrono::steady_clock::now();
  char byte;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(Open311HttpTest, ConnectionsBeyondTheLimitAreRefused) {
  config_.http.max_connections = 1;
  StartServer();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket held(io);
  held.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(http())});
  // The held connection is counted once the server has accepted it: a
  // request over it answers only then.
  boost::asio::write(held, boost::asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")));
  char buf[64];
  ASSERT_GT(held.read_some(boost::asio::buffer(buf)), 0u);
  ExpectError(Get("/open311/v2/services.json"), 503, "TOO_MANY_CONNECTIONS");
  held.close();
}

// Regression: the Open311 gateway calls the services over the in-process
// channel, so the lock-out of failing peers saw every HTTP client as one
// peer, and one client with a bad key locked out all the others.
TEST_F(Open311HttpTest, OneFailingHttpClientDoesNotLockOutTheOthers) {
  config_.auth_limits.max_auth_failures = 3;
  StartWithTokens();
  const int port = http();
  auto list = [&](const std::string& source, const std::string& key) {
    return testing::HttpCallFrom(source, port, "GET", "/open311/v2/requests.json?api_key=" + key);
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(list("127.0.0.2", "wrong-key").status, 401);
  // The failing client is locked out, also with the right key...
  auto locked = list("127.0.0.2", kAdmin);
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_NE(locked.body.find("TOO_MANY_AUTH_FAILURES"), std::string::npos) << locked.body;
  // ...and the others are not.
  auto other = list("127.0.0.3", kAdmin);
  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(list("127.0.0.1", kAdmin).status, 200);

  // A network client cannot borrow the header: it is judged by its own address.
  for (int i = 0; i < 4; ++i) {
    auto ctx = testing::Context("wrong-key-" + std::to_string(i));
    ctx->AddMetadata(services::kForwardedPeerKey, "10.9.8." + std::to_string(i));
    grid::v1::SubmitCaseResponse resp;
    clients_->intake->SubmitCase(ctx.get(), testing::Submission().Build(), &resp);
  }
  grid::v1::SubmitCaseResponse resp;
  testing::CallResult r = testing::Submit(*clients_->intake, testing::Submission().Build(), &resp, kAdmin);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(r.reason, "TOO_MANY_AUTH_FAILURES");
}

}  // namespace
}  // namespace grid
