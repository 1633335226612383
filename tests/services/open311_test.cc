// The Open311 GeoReport v2 mapping (services/open311.h) as pure functions:
// paths, form and JSON fields, the submission, the filters, times, statuses
// and the rendered JSON and XML.
#include "services/open311.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace grid::services::open311 {
namespace {

using nlohmann::json;

TEST(Open311Route, NamesEveryEndpointInBothFormats) {
  auto r = ParseRoute("GET", "/open311/v2/services/sanitation.garbage.xml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->endpoint, Endpoint::kServiceDefinition);
  EXPECT_EQ(r->format, Format::kXml);
  EXPECT_EQ(r->id, "sanitation.garbage");
  EXPECT_EQ(ParseRoute("GET", "/open311/v2/discovery.json")->endpoint, Endpoint::kDiscovery);
  EXPECT_EQ(ParseRoute("GET", "/open311/v2/services.json")->endpoint, Endpoint::kServices);
  EXPECT_EQ(ParseRoute("POST", "/open311/v2/requests.json")->endpoint, Endpoint::kRequests);
  EXPECT_EQ(ParseRoute("GET", "/open311/v2/requests/123.json")->id, "123");
}

TEST(Open311Route, RefusesUnknownPathsAndMethods) {
  for (const char* path : {"/open311/v2/requests", "/open311/v2/nothing.json", "/open311/v1/services.json",
                           "/open311/v2/requests/1/2.json", "/"}) {
    auto r = ParseRoute("GET", path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().reason(), "UNKNOWN_PATH") << path;
    EXPECT_EQ(HttpStatusOf(r.status()), 404);
  }
  auto r = ParseRoute("DELETE", "/open311/v2/requests.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(HttpStatusOf(r.status()), 405);
  EXPECT_EQ(ParseRoute("POST", "/open311/v2/requests/1.json").status().reason(), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(ParseRoute("POST", "/open311/v2/services.json").status().reason(), "METHOD_NOT_ALLOWED");
}

TEST(Open311Fields, DecodesAFormAsTheSpecsExampleSendsIt) {
  auto f = ParseForm(
      "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043&address_string="
      "123+Fake+St&email=smit333%40sfgov.edu&first_name=john&last_name=smith&phone=111111111&description=A+large+"
      "sinkhole+is+destroying+the+street&media_url=http%3A%2F%2Fmedia.example.com%2Fasdf456");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Field(*f, "address_string"), "123 Fake St");
  EXPECT_EQ(Field(*f, "email"), "smit333@sfgov.edu");
  EXPECT_EQ(Field(*f, "media_url"), "http://media.example.com/asdf456");
  auto r = ToSubmitCaseRequest(*f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->category(), "001");
  EXPECT_DOUBLE_EQ(r->location().lat(), 37.76524078);
  EXPECT_DOUBLE_EQ(r->location().lng(), -122.4212043);
  EXPECT_EQ(r->address(), "123 Fake St");
  EXPECT_EQ(r->citizen().name(), "john smith");
  EXPECT_EQ(r->citizen().phone(), "111111111");
  EXPECT_EQ(r->description(), "A large sinkhole is destroying the street");
  ASSERT_EQ(r->attachment_urls_size(), 1);
  EXPECT_EQ(r->attachment_urls(0), "http://media.example.com/asdf456");
  EXPECT_EQ(r->channel(), grid::v1::CHANNEL_WEB);
}

TEST(Open311Fields, JoinsAChineseNameFamilyNameFirst) {
  auto r = ToSubmitCaseRequest(
      {{"service_code", "x"}, {"address_string", "幸福巷"}, {"first_name", "小梅"}, {"last_name", "陈"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->citizen().name(), "陈小梅");
}

TEST(Open311Fields, RefusesBadFieldsWithTheirReason) {
  EXPECT_EQ(ParseForm("a=%zz").status().reason(), "MALFORMED_REQUEST");
  EXPECT_EQ(ParseForm("a=%4").status().reason(), "MALFORMED_REQUEST");
  EXPECT_EQ(ParseForm("description=%ff%fe").status().reason(), "INVALID_UTF8");
  EXPECT_NE(ParseForm("description=%ff").status().message().find("description"), std::string::npos);
  EXPECT_EQ(ParseJsonObject("{\"a\":").status().reason(), "INVALID_JSON");
  EXPECT_EQ(ParseJsonObject("[1]").status().reason(), "INVALID_JSON");
  EXPECT_EQ(ParseJsonObject("{\"a\":{\"b\":1}}").status().reason(), "MALFORMED_REQUEST");
  EXPECT_EQ(ParseJsonObject("{\"a\":\"\xff\"}").status().reason(), "INVALID_UTF8");
  EXPECT_EQ(ParseBody("text/plain", "a=b").status().reason(), "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(HttpStatusOf(ParseBody("text/plain", "a=b").status()), 415);
  EXPECT_TRUE(ParseBody("application/x-www-form-urlencoded; charset=UTF-8", "a=b").ok());
  auto json_fields = ParseBody("Application/JSON", R"({"lat": 20.005, "service_code": "x"})");
  ASSERT_TRUE(json_fields.ok());
  EXPECT_EQ(Field(*json_fields, "lat"), "20.005");

  EXPECT_EQ(ToSubmitCaseRequest({{"lat", "1"}, {"long", "2"}}).status().reason(), "MISSING_CATEGORY");
  EXPECT_EQ(ToSubmitCaseRequest({{"service_code", "x"}}).status().reason(), "MISSING_LOCATION");
  EXPECT_EQ(ToSubmitCaseRequest({{"service_code", "x"}, {"lat", "1"}}).status().reason(), "MALFORMED_REQUEST");
  EXPECT_EQ(ToSubmitCaseRequest({{"service_code", "x"}, {"lat", "north"}, {"long", "2"}}).status().reason(),
            "MALFORMED_REQUEST");
  EXPECT_EQ(ToSubmitCaseRequest({{"service_code", "x"}, {"lat", "nan"}, {"long", "2"}}).status().reason(),
            "MALFORMED_REQUEST");
}

TEST(Open311Time, ParsesIso8601WithEveryOffsetForm) {
  const Micros utc = *ParseIso8601("2010-05-24T00:00:00Z");
  EXPECT_EQ(utc, 1274659200LL * kMicrosPerSecond);
  EXPECT_EQ(*ParseIso8601("2010-05-24T08:00:00+08:00"), utc);
  EXPECT_EQ(*ParseIso8601("2010-05-24T08:00:00+0800"), utc);
  EXPECT_EQ(*ParseIso8601("2010-05-23T19:00-05:00"), utc);
  EXPECT_EQ(*ParseIso8601("2010-05-24T08:00:00"), utc);  // no offset: ours, +08:00
  EXPECT_EQ(*ParseIso8601("2010-05-24"), utc - 8 * 3600 * kMicrosPerSecond);
  EXPECT_EQ(*ParseIso8601("2010-05-24T00:00:00.250Z"), utc + 250000);
  for (const char* bad : {"", "2010-5-24", "2010-13-01", "2010-02-30", "2011-02-29T00:00:00Z", "2010-05-24T25:00Z",
                          "2010-05-24 00:00:00", "2010-05-24T00:00:00+8", "yesterday", "2010-05-24T00:00:00Zjunk"}) {
    auto t = ParseIso8601(bad);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().reason(), t.ok() ? "" : "INVALID_DATE");
  }
  EXPECT_TRUE(ParseIso8601("2012-02-29T00:00:00Z").ok());
}

TEST(Open311Time, FormatsWithTheOffsetOfOurData) {
  EXPECT_EQ(FormatIso8601(1274659200LL * kMicrosPerSecond), "2010-05-24T08:00:00+08:00");
  EXPECT_EQ(FormatIso8601(1795000000LL * kMicrosPerSecond + 999999), "2026-11-18T19:06:40+08:00");
  const Micros t = *ParseIso8601("2026-12-31T23:59:59+08:00");
  EXPECT_EQ(FormatIso8601(t), "2026-12-31T23:59:59+08:00");
}

TEST(Open311Query, DefaultsToTheLast90DaysAndMapsStatuses) {
  const Micros now = 1795000000LL * kMicrosPerSecond;
  auto q = ParseRequestsQuery({}, now);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->end, now);
  EXPECT_EQ(q->start, now - kDefaultWindow);
  EXPECT_TRUE(q->statuses.empty());
  q = ParseRequestsQuery({{"start_date", "2010-05-24T00:00:00Z"},
                          {"end_date", "2010-06-24T00:00:00Z"},
                          {"status", "open"},
                          {"service_code", "sanitation"}},
                         now);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->start, *ParseIso8601("2010-05-24T00:00:00Z"));
  EXPECT_EQ(q->end, *ParseIso8601("2010-06-24T00:00:00Z"));
  EXPECT_EQ(q->statuses, StatusesOf("open"));
  EXPECT_EQ(q->service_code, "sanitation");
  q = ParseRequestsQuery({{"service_request_id", "1,2,,3"}, {"status", "bogus"}}, now);
  ASSERT_TRUE(q.ok());  // with ids the other filters are ignored
  EXPECT_EQ(q->ids, (std::vector<std::string>{"1", "2", "3"}));

  EXPECT_EQ(ParseRequestsQuery({{"status", "pending"}}, now).status().reason(), "INVALID_STATUS");
  EXPECT_EQ(ParseRequestsQuery({{"start_date", "soon"}}, now).status().reason(), "INVALID_DATE");
  EXPECT_EQ(ParseRequestsQuery({{"start_date", "2010-06-24"}, {"end_date", "2010-05-24"}}, now).status().reason(),
            "INVALID_RANGE");
  std::string many;
  for (int i = 0; i <= static_cast<int>(kMaxIds); ++i) many += std::to_string(i) + ",";
  EXPECT_EQ(ParseRequestsQuery({{"service_request_id", many}}, now).status().reason(), "INVALID_CASE_ID");
}

TEST(Open311Status, MapsEveryCaseStatusToOpenOrClosedAndAFixMyStreetStatus) {
  struct Row {
    grid::v1::CaseStatus status;
    const char* open311;
    const char* extended;
  };
  for (const Row& row : std::vector<Row>{{grid::v1::CASE_STATUS_SUBMITTED, "open", "open"},
                                         {grid::v1::CASE_STATUS_ROUTED, "open", "open"},
                                         {grid::v1::CASE_STATUS_ACCEPTED, "open", "action_scheduled"},
                                         {grid::v1::CASE_STATUS_IN_PROGRESS, "open", "in_progress"},
                                         {grid::v1::CASE_STATUS_WAITING, "open", "investigating"},
                                         {grid::v1::CASE_STATUS_RESOLVED, "closed", "fixed"},
                                         {grid::v1::CASE_STATUS_CALLED_BACK, "closed", "fixed"},
                                         {grid::v1::CASE_STATUS_CLOSED, "closed", "closed"},
                                         {grid::v1::CASE_STATUS_CANCELLED, "closed", "no_further_action"},
                                         {grid::v1::CASE_STATUS_MERGED, "closed", "duplicate"}}) {
    grid::v1::Case c;
    c.set_status(row.status);
    EXPECT_STREQ(Open311Status(row.status), row.open311) << row.status;
    EXPECT_EQ(ExtendedStatus(c), row.extended) << row.status;
    const auto same = StatusesOf(row.open311);
    EXPECT_NE(std::find(same.begin(), same.end(), row.status), same.end()) << row.status;
  }
  grid::v1::Case c;
  c.set_status(grid::v1::CASE_STATUS_ROUTED);
  c.set_arbitration(true);
  EXPECT_EQ(ExtendedStatus(c), "internal_referral");
  c.add_rejections()->set_reason(grid::v1::REJECT_REASON_NOT_OUR_DUTY);
  EXPECT_EQ(ExtendedStatus(c), "not_councils_responsibility");
}

grid::v1::Case SampleCase() {
  grid::v1::Case c;
  c.set_id("1795000000000001");
  c.set_category("sanitation");
  c.set_description("垃圾 <堆积> & 异味");
  c.mutable_location()->set_lat(20.005);
  c.mutable_location()->set_lng(110.015);
  c.set_address("幸福巷 3 号");
  c.set_status(grid::v1::CASE_STATUS_ACCEPTED);
  c.mutable_created_at()->set_seconds(1795000000);
  c.mutable_updated_at()->set_seconds(1795000600);
  c.set_unit_code("100001001002");
  c.mutable_routing()->set_unit_code("100001001002");
  c.mutable_routing()->set_unit_name("第2网格");
  c.mutable_routing()->set_explanation("point lies in 第2网格");
  c.mutable_citizen()->set_name("陈*");
  c.mutable_citizen()->set_phone("138****1234");
  c.add_attachment_urls("https://example.com/a.jpg");
  return c;
}

TEST(Open311Render, ACaseAsAServiceRequest) {
  Names names;
  names.service_name = [](std::string_view) { return std::string("环境卫生"); };
  grid::v1::CaseEvent note;
  note.set_type(grid::v1::EVENT_TYPE_ACCEPTED);
  note.set_note("收到");
  grid::v1::CaseEvent reveal;
  reveal.set_type(grid::v1::EVENT_TYPE_CITIZEN_REVEALED);
  reveal.set_note("why we looked");
  const json doc = json::parse(RenderRequests(Format::kJson, {SampleCase()}, names, {{note, reveal}}));
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 1u);
  const json& r = doc[0];
  EXPECT_EQ(r["service_request_id"], "1795000000000001");
  EXPECT_EQ(r["status"], "open");
  EXPECT_EQ(r["status_notes"], "收到");  // not the reveal's note
  EXPECT_EQ(r["service_name"], "环境卫生");
  EXPECT_EQ(r["service_code"], "sanitation");
  EXPECT_EQ(r["agency_responsible"], "第2网格");
  EXPECT_EQ(r["service_notice"], "point lies in 第2网格");
  EXPECT_EQ(r["requested_datetime"], "2026-11-18T19:06:40+08:00");
  EXPECT_EQ(r["updated_datetime"], "2026-11-18T19:16:40+08:00");
  EXPECT_TRUE(r["expected_datetime"].is_null());
  EXPECT_DOUBLE_EQ(r["lat"].get<double>(), 20.005);
  EXPECT_DOUBLE_EQ(r["long"].get<double>(), 110.015);
  EXPECT_EQ(r["media_url"], "https://example.com/a.jpg");
  EXPECT_EQ(r["extended_attributes"]["status"], "action_scheduled");
  EXPECT_EQ(r["extended_attributes"]["citizen_phone"], "138****1234");
}

TEST(Open311Render, XmlEscapesTextAndNamesItems) {
  const std::string xml = RenderRequests(Format::kXml, {SampleCase()}, Names{});
  EXPECT_EQ(xml.rfind(R"(<?xml version="1.0" encoding="utf-8"?><service_requests><request>)", 0), 0u) << xml;
  EXPECT_NE(xml.find("<description>垃圾 &lt;堆积&gt; &amp; 异味</description>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<status>open</status>"), std::string::npos);
  EXPECT_NE(xml.find("<extended_attributes><status>action_scheduled</status>"), std::string::npos);
  EXPECT_EQ(RenderErrors(Format::kXml, {{400, "MISSING_CATEGORY: service_code is required"}}),
            R"(<?xml version="1.0" encoding="utf-8"?><errors><error><code>400</code>)"
            R"(<description>MISSING_CATEGORY: service_code is required</description></error></errors>)");
  EXPECT_EQ(RenderErrors(Format::kJson, {{404, "x"}}), R"([{"code":404,"description":"x"}])");
}

TEST(Open311Render, ServicesAndTheirDefinitions) {
  grid::v1::Category c;
  c.set_code("water.burst");
  c.set_name("水管爆裂");
  c.set_deadline_class("utilities");
  const json list = json::parse(RenderServices(Format::kJson, {&c}));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["service_code"], "water.burst");
  EXPECT_EQ(list[0]["service_name"], "水管爆裂");
  EXPECT_EQ(list[0]["metadata"], false);
  EXPECT_EQ(list[0]["type"], "realtime");
  EXPECT_EQ(list[0]["group"], "water");
  const json def = json::parse(RenderServiceDefinition(Format::kJson, c));
  EXPECT_EQ(def["service_code"], "water.burst");
  EXPECT_TRUE(def["attributes"].is_array());
  const std::string xml = RenderServices(Format::kXml, {&c});
  EXPECT_NE(xml.find("<services><service><service_code>water.burst</service_code>"), std::string::npos) << xml;
  EXPECT_NE(RenderDiscovery(Format::kXml, "http://h/open311/v2").find("<formats><format>application/json</format>"),
            std::string::npos);
}

}  // namespace
}  // namespace grid::services::open311
