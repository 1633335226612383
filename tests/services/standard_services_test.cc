// The standard gRPC services that generic tools use, through a real
// in-process server on port 0: server reflection v1 (services/reflection_v1.h)
// beside v1alpha, and health checking by service name.
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "tests/support/health_check.h"
#include "tests/support/server_fixture.h"

namespace grid::services {
namespace {

namespace rv1 = grpc::reflection::v1;

constexpr int kServing = 1;

class StandardServicesTest : public testing::ServerFixture {
 protected:
  void SetUp() override { StartServer(); }
};

// One reflection stream: each request in turn, each answer read before the
// next is sent.
std::vector<rv1::ServerReflectionResponse> Reflect(const std::shared_ptr<grpc::Channel>& channel,
                                                   const std::vector<rv1::ServerReflectionRequest>& requests) {
  auto stub = rv1::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&ctx);
  std::vector<rv1::ServerReflectionResponse> responses;
  for (const auto& request : requests) {
    EXPECT_TRUE(stream->Write(request));
    rv1::ServerReflectionResponse response;
    EXPECT_TRUE(stream->Read(&response));
    responses.push_back(response);
  }
  stream->WritesDone();
  const grpc::Status finished = stream->Finish();
  EXPECT_TRUE(finished.ok()) << finished.error_message();
  return responses;
}

TEST_F(StandardServicesTest, ReflectionV1ListsServicesAndSendsFileDescriptors) {
  rv1::ServerReflectionRequest list, symbol, again, unknown;
  list.set_list_services("");
  symbol.set_file_containing_symbol("grid.v1.CaseWork.Accept");
  again.set_file_by_filename("grid/v1/case.proto");  // already sent with service.proto
  unknown.set_file_containing_symbol("grid.v1.NoSuchService");
  const auto responses = Reflect(clients_->channel, {list, symbol, again, unknown});
  ASSERT_EQ(responses.size(), 4u);

  std::vector<std::string> names;
  for (const auto& s : responses[0].list_services_response().service()) names.push_back(s.name());
  for (const char* want : {"grid.v1.CaseIntake", "grid.v1.CaseQuery", "grid.v1.Directory", "grid.v1.CaseWork",
                           "grid.v1.EscalationFeed", "grid.v1.Operations", "grpc.health.v1.Health",
                           "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }

  // The file that declares the method first, then its dependencies.
  const auto& files = responses[1].file_descriptor_response().file_descriptor_proto();
  ASSERT_GE(files.size(), 4);  // service.proto, case.proto, directory.proto, timestamp.proto
  google::protobuf::FileDescriptorProto first;
  ASSERT_TRUE(first.ParseFromString(files[0]));
  EXPECT_EQ(first.name(), "grid/v1/service.proto");
  bool has_case_work = false;
  for (const auto& service : first.service()) has_case_work |= service.name() == "CaseWork";
  EXPECT_TRUE(has_case_work);
  std::vector<std::string> sent;
  for (const auto& bytes : files) {
    google::protobuf::FileDescriptorProto f;
    ASSERT_TRUE(f.ParseFromString(bytes));
    sent.push_back(f.name());
  }
  for (const char* dep : {"grid/v1/case.proto", "grid/v1/directory.proto", "google/protobuf/timestamp.proto"}) {
    EXPECT_NE(std::find(sent.begin(), sent.end(), dep), sent.end()) << dep;
  }
  EXPECT_EQ(responses[1].original_request().file_containing_symbol(), "grid.v1.CaseWork.Accept");

  // A file sent earlier on the stream is not sent again (as v1alpha does).
  EXPECT_TRUE(responses[2].has_file_descriptor_response());
  EXPECT_EQ(responses[2].file_descriptor_response().file_descriptor_proto_size(), 0);

  EXPECT_EQ(responses[3].error_response().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(StandardServicesTest, ReflectionV1DescribesItself) {
  rv1::ServerReflectionRequest request;
  request.set_file_containing_symbol("grpc.reflection.v1.ServerReflection");
  const auto responses = Reflect(clients_->channel, {request});
  ASSERT_EQ(responses.size(), 1u);
  ASSERT_EQ(responses[0].file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(responses[0].file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "grpc/reflection/v1/reflection.proto");
  EXPECT_EQ(file.package(), "grpc.reflection.v1");
}

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
