// A point in a Chinese coordinate system through the real server: SubmitCase
// and RouteCase take a GCJ-02 (or BD-09) point, route it as the WGS-84 point
// it stands for, explain both, and keep the point as submitted; a system
// outside the enum is refused and stores nothing.
#include <gtest/gtest.h>

#include <string>

#include "engine/coordinates.h"
#include "tests/support/grpc_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"

namespace grid::services {
namespace {

class CoordinateSystemTest : public testing::ServerFixture {
 protected:
  void SetUp() override { StartServer(); }
};

// Grid 2 of the tiny directory spans lng 110.01..110.02; this WGS-84 point
// lies in it, 300 m from its east edge, and its GCJ-02 reading lies east of it.
constexpr geo::Point kWgs{110.017, 20.005};

TEST_F(CoordinateSystemTest, AGcj02SubmissionRoutesAsItsWgs84Point) {
  const geo::Point gcj = coords::Wgs84ToGcj02(kWgs);
  ASSERT_GT(gcj.lng, 110.02);  // the offset takes the numbers out of the grid
  grid::v1::SubmitCaseRequest req = testing::Submission().Key("gcj").At(gcj.lat, gcj.lng).Build();
  req.mutable_location()->set_coordinate_system(grid::v1::COORDINATE_SYSTEM_GCJ02);
  grid::v1::SubmitCaseResponse resp;
  testing::CallResult r = testing::Submit(*clients_->intake, req, &resp);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const auto& c = resp.case_();
  EXPECT_EQ(c.routing().unit_code(), "100001001002");
  EXPECT_EQ(c.routing().method(), grid::v1::ROUTING_METHOD_LOCATION);
  EXPECT_NE(c.routing().explanation().find("point GCJ-02 ("), std::string::npos) << c.routing().explanation();
  EXPECT_NE(c.routing().explanation().find("= WGS-84 (20.005000, 110.017000) lies in"), std::string::npos)
      << c.routing().explanation();
  // The case keeps the point as it was given, with its system.
  EXPECT_EQ(c.location().coordinate_system(), grid::v1::COORDINATE_SYSTEM_GCJ02);
  EXPECT_DOUBLE_EQ(c.location().lng(), gcj.lng);

  // The same numbers given as WGS-84 are not in the grid.
  auto ctx = testing::Context();
  grid::v1::RouteCaseRequest route;
  route.set_category("sanitation");
  route.mutable_location()->set_lat(gcj.lat);
  route.mutable_location()->set_lng(gcj.lng);
  grid::v1::RouteCaseResponse routed;
  ASSERT_TRUE(clients_->directory->RouteCase(ctx.get(), route, &routed).ok());
  EXPECT_NE(routed.routing().method(), grid::v1::ROUTING_METHOD_LOCATION);

  // RouteCase takes the system too (BD-09 here).
  const geo::Point bd = coords::FromWgs84(kWgs, grid::v1::COORDINATE_SYSTEM_BD09);
  route.mutable_location()->set_lat(bd.lat);
  route.mutable_location()->set_lng(bd.lng);
  route.mutable_location()->set_coordinate_system(grid::v1::COORDINATE_SYSTEM_BD09);
  auto ctx2 = testing::Context();
  ASSERT_TRUE(clients_->directory->RouteCase(ctx2.get(), route, &routed).ok());
  EXPECT_EQ(routed.routing().unit_code(), "100001001002");
  EXPECT_NE(routed.routing().explanation().find("point BD-09 ("), std::string::npos) << routed.routing().explanation();
}

TEST_F(CoordinateSystemTest, AnUnknownSystemIsRefusedAndStoresNothing) {
  grid::v1::SubmitCaseRequest req = testing::Submission().Key("bad-crs").Build();
  req.mutable_location()->set_coordinate_system(static_cast<grid::v1::CoordinateSystem>(42));
  grid::v1::SubmitCaseResponse resp;
  testing::CallResult r = testing::Submit(*clients_->intake, req, &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.reason, "UNKNOWN_COORDINATE_SYSTEM");

  grid::v1::GetCaseResponse got;
  EXPECT_FALSE(testing::GetCase(*clients_->query, "1795000000000000", &got).status.ok());

  auto ctx = testing::Context();
  grid::v1::RouteCaseRequest route;
  route.set_category("sanitation");
  route.mutable_location()->set_lat(20.005);
  route.mutable_location()->set_lng(110.015);
  route.mutable_location()->set_coordinate_system(static_cast<grid::v1::CoordinateSystem>(42));
  grid::v1::RouteCaseResponse routed;
  grpc::Status s = clients_->directory->RouteCase(ctx.get(), route, &routed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("UNKNOWN_COORDINATE_SYSTEM"), std::string::npos) << s.error_message();
}

}  // namespace
}  // namespace grid::services
