// The standard gRPC services that generic tools use, through a real
// in-process server on port 0: health checking by service name.
#include <gtest/gtest.h>

#include "tests/support/health_check.h"
#include "tests/support/server_fixture.h"

namespace grid::services {
namespace {

constexpr int kServing = 1;

class StandardServicesTest : public testing::ServerFixture {
 protected:
  void SetUp() override { StartServer(); }
};

TEST_F(StandardServicesTest, HealthAnswersEveryServiceByNameAndNotFoundForOthers) {
  for (const char* name : {"", "grid.v1.CaseIntake", "grid.v1.CaseQuery", "grid.v1.Directory", "grid.v1.CaseWork",
                           "grid.v1.EscalationFeed", "grid.v1.Operations"}) {
    const testing::HealthAnswer answer = testing::CheckHealth(clients_->channel, name);
    EXPECT_TRUE(answer.status.ok()) << name << ": " << answer.status.error_message();
    EXPECT_EQ(answer.serving, kServing) << name;
  }
  const testing::HealthAnswer unknown = testing::CheckHealth(clients_->channel, "grid.v1.NoSuchService");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace grid::services
