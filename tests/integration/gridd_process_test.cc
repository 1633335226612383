// gridd as its own process: start it on port 0, talk to it with a real gRPC
// client and with gridctl, kill it with SIGKILL right after an
// acknowledgement, restart it, and find every acknowledged case.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine/directory.h"
#include "tests/support/demo_case.h"
#include "tests/support/gridd_process.h"
#include "tests/support/grpc_client.h"
#include "tests/support/paths.h"
#include "tests/support/store_verified.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"
#include "tools/demo/demo_directory.h"
#include "tools/demo_data.h"

namespace grid {
namespace {

using testing::BinDir;
using testing::GriddProcess;
using testing::JinjiangCase;
using testing::RunCommand;

TEST(GriddProcess, AcknowledgedCasesSurviveSigkill) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data");
  std::vector<std::string> ids;
  grid::v1::SubmitCaseResponse first;
  {
    GriddProcess gridd(data, tmp.Sub("log1"));
    ASSERT_GT(gridd.port(), 0) << "gridd did not start";
    testing::Clients clients(gridd.target());
    for (int i = 0; i < 20; ++i) {
      grid::v1::SubmitCaseResponse resp;
      auto r = testing::Submit(*clients.intake, JinjiangCase("k" + std::to_string(i)), &resp, "", "cc1");
      ASSERT_TRUE(r.status.ok()) << r.status.error_message();
      ids.push_back(resp.case_().id());
      if (i == 0) first = resp;
    }
    // SIGKILL right after the last acknowledgement: no clean shutdown.
    EXPECT_EQ(gridd.Kill(SIGKILL), 128 + SIGKILL);
  }
  // What the killed gridd left is consistent: every index, figure, event and
  // feed entry agrees with the records.
  EXPECT_TRUE(testing::StoreVerifiesClean(data));
  GriddProcess gridd(data, tmp.Sub("log2"));
  ASSERT_GT(gridd.port(), 0);
  auto clients_owner = std::make_unique<testing::Clients>(gridd.target());
  testing::Clients& clients = *clients_owner;
  for (const auto& id : ids) {
    grid::v1::GetCaseResponse got;
    auto r = testing::GetCase(*clients.query, id, &got);
    ASSERT_TRUE(r.status.ok()) << id << ": " << r.status.error_message();
    EXPECT_EQ(got.case_().id(), id);
    EXPECT_EQ(got.events_size(), 2);
  }
  // The retry of the first submission after the crash returns the same response.
  grid::v1::SubmitCaseResponse again;
  ASSERT_TRUE(testing::Submit(*clients.intake, JinjiangCase("k0"), &again, "", "cc1").status.ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  // New ids keep growing past the ones issued before the crash.
  grid::v1::SubmitCaseResponse next;
  ASSERT_TRUE(testing::Submit(*clients.intake, JinjiangCase("k-new"), &next, "", "cc1").status.ok());
  EXPECT_GT(next.case_().id(), ids.back());
  clients_owner.reset();              // an idle open channel would hold the graceful shutdown to its deadline
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);  // graceful shutdown exits 0
  EXPECT_TRUE(testing::StoreVerifiesClean(data));
}

TEST(GriddProcess, GridctlSubmitAndGetShowTheRoutedGridOfTheRightCommunity) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0);
  const std::string ctl = BinDir() + "/gridctl --server " + gridd.target();
  std::ostringstream cmd;
  cmd.precision(9);
  cmd << ctl << " submit --category sanitation.garbage --lat " << kDemoJinjiangPoint.lat << " --lon "
      << kDemoJinjiangPoint.lng << " --description '垃圾桶满了' --idempotency-key demo-1";
  std::string out;
  ASSERT_EQ(RunCommand(cmd.str(), &out), 0) << out;
  EXPECT_NE(out.find(std::string(kDemoJinjiangGridCode)), std::string::npos) << out;
  // The demo point's community and town, by name, as a person reads them.
  auto demo = tools::DemoDirectory();
  ASSERT_TRUE(demo.ok());
  auto dir = Directory::Build(*demo, 1);
  ASSERT_TRUE(dir.ok());
  const std::string community = (*dir)->FindUnit(kDemoJinjiangCommunityCode)->name();
  EXPECT_NE(out.find(community), std::string::npos) << out;
  EXPECT_NE(out.find("金江镇"), std::string::npos) << out;
  EXPECT_NE(out.find("LOCATION"), std::string::npos) << out;
  const std::string id = out.substr(5, 16);  // "case <id>  ROUTED"

  ASSERT_EQ(RunCommand(ctl + " get " + id, &out), 0) << out;
  EXPECT_NE(out.find("history"), std::string::npos) << out;
  EXPECT_NE(out.find("ROUTED"), std::string::npos) << out;
  EXPECT_NE(out.find(std::string(kDemoJinjiangGridCode)), std::string::npos) << out;

  ASSERT_EQ(RunCommand(ctl + " --json get " + id, &out), 0) << out;
  EXPECT_NE(out.find("\"unit_code\": \"" + std::string(kDemoJinjiangGridCode) + "\""), std::string::npos) << out;

  ASSERT_EQ(RunCommand(ctl + " unit " + std::string(kDemoJinjiangCommunityCode), &out), 0) << out;
  EXPECT_NE(out.find(community), std::string::npos) << out;
  EXPECT_NE(out.find(std::string(kDemoJinjiangGridCode)), std::string::npos) << out;

  // A bad value: the server's reason reaches the user and the exit code is 1.
  ASSERT_EQ(RunCommand(ctl + " submit --category sanitation.garbage --lat 95 --lon 110 --description x", &out), 1);
  EXPECT_NE(out.find("INVALID_ARGUMENT: LATITUDE_OUT_OF_RANGE"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(ctl + " get 12345", &out), 1);
  EXPECT_NE(out.find("NOT_FOUND"), std::string::npos) << out;
  // Bad usage exits 2 without calling the server.
  EXPECT_EQ(RunCommand(ctl + " submit --lat 19", &out), 2) << out;
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  EXPECT_TRUE(testing::StoreVerifiesClean(tmp.Sub("data")));
}

TEST(GriddProcess, GridctlListsCasesAndPrintsFiguresPerChild) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0);
  const std::string ctl = BinDir() + "/gridctl --server " + gridd.target();
  std::ostringstream submit;
  submit.precision(9);
  submit << ctl << " submit --category sanitation.garbage --lat " << kDemoJinjiangPoint.lat << " --lon "
         << kDemoJinjiangPoint.lng << " --description '垃圾桶满了'";
  std::string out;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(RunCommand(submit.str(), &out), 0) << out;
    ids.push_back(out.substr(5, 16));
  }
  const std::string community(kDemoJinjiangCommunityCode);
  // One case per page, every page: all three, in order, once each.
  ASSERT_EQ(RunCommand(ctl + " cases --scope " + community + " --page-size 1 --all-pages", &out), 0) << out;
  size_t at = 0;
  for (const auto& id : ids) {
    const size_t found = out.find(id, at);
    ASSERT_NE(found, std::string::npos) << out;
    at = found + id.size();
  }
  EXPECT_NE(out.find("3 case(s)"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(ctl + " cases --scope " + community + " --status closed", &out), 0) << out;
  EXPECT_NE(out.find("0 case(s)"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(ctl + " cases --scope " + community + " --status nonsense", &out), 2) << out;
  EXPECT_EQ(RunCommand(ctl + " cases --scope 000000", &out), 1) << out;
  EXPECT_NE(out.find("UNIT_NOT_FOUND"), std::string::npos) << out;

  // Figures of the county with a row per town; the cases were created today
  // (UTC+8), so a window around today holds them.
  char from[16], to[16];
  const std::time_t now = std::time(nullptr) + 8 * 3600;
  const std::time_t before = now - 86400, after = now + 86400;
  std::strftime(from, sizeof from, "%Y-%m-%d", std::gmtime(&before));
  std::strftime(to, sizeof to, "%Y-%m-%d", std::gmtime(&after));
  const std::string county = community.substr(0, 6), town = community.substr(0, 9);
  ASSERT_EQ(RunCommand(ctl + " stats --scope " + county + " --from " + from + " --to " + to, &out), 0) << out;
  EXPECT_NE(out.find("金江镇"), std::string::npos) << out;
  EXPECT_NE(out.find("(total)"), std::string::npos) << out;
  EXPECT_NE(out.find("ROUTED 3"), std::string::npos) << out;
  const size_t row = out.find("\n" + town + " ");
  ASSERT_NE(row, std::string::npos) << out;
  EXPECT_NE(out.substr(row, 60).find(" 3 "), std::string::npos) << out;  // 3 cases in the town's row
  ASSERT_EQ(RunCommand(ctl + " stats --scope " + county + " --from " + to + " --to " + from, &out), 1) << out;
  EXPECT_NE(out.find("INVALID_RANGE"), std::string::npos) << out;
  EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  EXPECT_TRUE(testing::StoreVerifiesClean(tmp.Sub("data")));
}

// Generic gRPC tools rely on the standard health and reflection services; call
// them the way such a tool does, with no generated code.
TEST(GriddProcess, HealthCheckingAndReflectionAnswer) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0);
  auto channel = grpc::CreateChannel(gridd.target(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);

  // grpc.health.v1.Health/Check with an empty HealthCheckRequest.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1), response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = s;
    done = true;
    cv.notify_one();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING

  // grpc.reflection.v1alpha.ServerReflection: list_services.
  grpc::ClientContext rctx;
  rctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&rctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::Slice list_services("\x3a\x00", 2);  // field 7 (list_services) = ""
  grpc::ByteBuffer rreq(&list_services, 1), rresp;
  call->Write(rreq, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->Read(&rresp, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  slices.clear();
  ASSERT_TRUE(rresp.Dump(&slices).ok());
  bytes.clear();
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  for (const char* service :
       {"grid.v1.CaseIntake", "grid.v1.CaseQuery", "grid.v1.Directory", "grpc.health.v1.Health"}) {
    EXPECT_NE(bytes.find(service), std::string::npos) << service;
  }
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status finish;
  call->Finish(&finish, reinterpret_cast<void*>(5));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(5)) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST(GriddProcess, ForeignDataDirectoryStopsGriddAndIsLeftAlone) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data");
  std::filesystem::create_directories(data);
  { std::ofstream(data + "/thesis.tex") << "\\documentclass{article}"; }
  GriddProcess gridd(data, tmp.Sub("log"));
  EXPECT_TRUE(gridd.exited());
  EXPECT_EQ(gridd.exit_code(), 1);
  std::ifstream log(tmp.Sub("log"));
  std::stringstream ss;
  ss << log.rdbuf();
  EXPECT_NE(ss.str().find("FOREIGN_DATA_DIR"), std::string::npos) << ss.str();
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(data), std::filesystem::directory_iterator()), 1);
}

TEST(GriddProcess, NoDemoMeansAnEmptyDirectory) {
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"), {"--no-demo"});
  ASSERT_GT(gridd.port(), 0);
  std::string out;
  EXPECT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() + " unit 469023", &out), 1);
  EXPECT_NE(out.find("UNIT_NOT_FOUND"), std::string::npos) << out;
}

TEST(GriddProcess, GridctlImportsDivisionFilesAndNamesTheBadLine) {
  const std::string fixtures = testing::TestDataDir() + "/divisions";
  testing::TempDir tmp;
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"), {"--no-demo"});
  ASSERT_GT(gridd.port(), 0);
  const std::string ctl = BinDir() + "/gridctl --server " + gridd.target();
  std::string out;
  ASSERT_EQ(RunCommand(ctl + " import divisions " + fixtures, &out), 0) << out;
  EXPECT_NE(out.find("directory version 1"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(ctl + " unit 469023100", &out), 0) << out;
  EXPECT_NE(out.find("金江镇"), std::string::npos) << out;

  // A copy with one broken line: the import names it and changes nothing.
  const std::string broken = tmp.Sub("broken");
  std::filesystem::copy(fixtures, broken);
  { std::ofstream(broken + "/villages.csv", std::ios::app) << "4690231000XX,\"坏行\",469023100,46,4690,469023\n"; }
  EXPECT_EQ(RunCommand(ctl + " import divisions " + broken, &out), 3) << out;
  EXPECT_NE(out.find("line"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(ctl + " --json unit 469023", &out), 0) << out;
  EXPECT_NE(out.find("\"directory_version\": \"1\""), std::string::npos) << out;
}

TEST(GriddProcess, GridctlImportsGeoJsonAsANewVersion) {
  testing::TempDir tmp;
  // The city and its service regions first, as protobuf JSON.
  grid::v1::DirectoryContent upper;
  auto unit = [&](const char* code, grid::v1::UnitLevel level, const char* parent) {
    testing::AddUnit(&upper, code, level, code, parent);
  };
  unit("la", grid::v1::UNIT_LEVEL_COUNTY, "");
  unit("region-8-north-east-la", grid::v1::UNIT_LEVEL_TOWN, "la");
  unit("region-7-east", grid::v1::UNIT_LEVEL_TOWN, "la");
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(upper, &json).ok());
  { std::ofstream(tmp.Sub("upper.json")) << json; }
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"), {"--directory", tmp.Sub("upper.json")});
  ASSERT_GT(gridd.port(), 0);
  const std::string ctl = BinDir() + "/gridctl --server " + gridd.target();
  const std::string councils = testing::TestDataDir() + "/geojson/councils.geojson";
  std::string out;
  ASSERT_EQ(RunCommand(ctl + " import geojson " + councils +
                           " --code-prop nc_id --name-prop name --parent-prop service_re --slug --level community",
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("imported 3 units"), std::string::npos) << out;
  EXPECT_NE(out.find("directory version 2"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(ctl + " unit 47", &out), 0) << out;
  EXPECT_NE(out.find("region-8-north-east-la"), std::string::npos) << out;
  EXPECT_NE(out.find("polygon"), std::string::npos) << out;

  // A feature without its key property: named, exit 3, nothing sent.
  EXPECT_EQ(
      RunCommand(ctl + " import geojson " + councils + " --code-prop no_such_prop --level community --parent la", &out),
      3)
      << out;
  EXPECT_NE(out.find("MISSING_PROPERTY"), std::string::npos) << out;
  EXPECT_NE(out.find("feature 0"), std::string::npos) << out;
  // A parent that does not exist: the server refuses, the version stays 2.
  EXPECT_EQ(
      RunCommand(ctl + " import geojson " + councils + " --code-prop nc_id --level community --parent nowhere", &out),
      1)
      << out;
  EXPECT_NE(out.find("UNKNOWN_PARENT"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(ctl + " --json unit la", &out), 0) << out;
  EXPECT_NE(out.find("\"directory_version\": \"2\""), std::string::npos) << out;
}

TEST(GriddProcess, ConfigFileAndAnInitialDirectoryFile) {
  testing::TempDir tmp;
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(testing::TinyDirectory(), &json, opts).ok());
  { std::ofstream(tmp.Sub("tiny.json")) << json; }
  {
    std::ofstream(tmp.Sub("gridd.toml")) << "directory = \"" << tmp.Sub("tiny.json")
                                         << "\"\nnearest-grid-meters = 50\n";
  }
  GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"), {"--config", tmp.Sub("gridd.toml")});
  ASSERT_GT(gridd.port(), 0);
  std::string out;
  ASSERT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() + " unit 100001001", &out), 0) << out;
  EXPECT_NE(out.find("测试社区"), std::string::npos) << out;
  // 0.001 degree south of grid 1 is about 111 m: beyond the configured 50 m, so no nearest grid.
  ASSERT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() +
                           " route --category sanitation --lat 19.999 --lon 110.005",
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("FALLBACK"), std::string::npos) << out;
}

TEST(GriddProcess, BadFlagsAndBadDirectoryFilesExitNonZero) {
  testing::TempDir tmp;
  std::string out;
  EXPECT_EQ(RunCommand(BinDir() + "/gridd --listen 127.0.0.1:0", &out), 2) << out;  // --data is required
  EXPECT_NE(out.find("--data"), std::string::npos) << out;
  { std::ofstream(tmp.Sub("broken.json")) << "{\"units\": [{\"code\": 5"; }
  EXPECT_EQ(RunCommand(BinDir() + "/gridd --listen 127.0.0.1:0 --data " + tmp.Sub("d") + " --directory " +
                           tmp.Sub("broken.json"),
                       &out),
            1)
      << out;
  EXPECT_NE(out.find("INVALID_JSON"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("d")));  // nothing was created
}

}  // namespace
}  // namespace grid
