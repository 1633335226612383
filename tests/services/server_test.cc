// The services through a real in-process gRPC server on port 0, a real
// RocksDB in a temp dir and real clients. Time is a FakeClock.
#include "services/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/support/grpc_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"

namespace grid::services {
namespace {

using grid::testing::CallResult;
using grid::testing::kStart;

grpc::Status Import(testing::Clients& clients, const std::vector<grid::v1::DirectoryContent>& chunks, bool replace,
                    grid::v1::ImportResponse* resp, std::string* reason, bool mark_last = true);

class ServerTest : public testing::ServerFixture {
 protected:
  void SetUp() override { StartServer(); }

  static grid::v1::SubmitCaseRequest Good(const std::string& key = "") {
    return testing::Submission().Key(key).Build();
  }

  // Opens the store behind a stopped server and counts what is in it.
  uint64_t StoredMaxCaseId() {
    StopServer();
    auto store = storage::Store::Open(storage::StoreOptions{data_dir(), true});
    EXPECT_TRUE(store.ok());
    return store.ok() ? *(*store)->MaxCaseId() : 0;
  }
};

TEST_F(ServerTest, SubmitRoutesStoresAndGetReturnsTheHistory) {
  grid::v1::SubmitCaseResponse resp;
  CallResult r = testing::Submit(*clients_->intake, Good("k1"), &resp, "", "callcenter-01");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const auto& c = resp.case_();
  EXPECT_EQ(c.id(), "1795000000000000");
  EXPECT_EQ(c.status(), grid::v1::CASE_STATUS_ROUTED);
  EXPECT_EQ(c.routing().unit_code(), "100001001002");
  EXPECT_EQ(c.routing().method(), grid::v1::ROUTING_METHOD_LOCATION);
  EXPECT_EQ(c.routing().directory_version(), 1u);
  EXPECT_EQ(c.routing().assignee_member_id(), "M3");
  EXPECT_EQ(c.submitted_by(), "callcenter-01");
  EXPECT_EQ(c.created_at().seconds(), kStart / 1000000);

  grid::v1::GetCaseResponse got;
  r = testing::GetCase(*clients_->query, c.id(), &got);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(got.case_().SerializeAsString(), c.SerializeAsString());
  ASSERT_EQ(got.events_size(), 2);
  EXPECT_EQ(got.events(0).type(), grid::v1::EVENT_TYPE_SUBMITTED);
  EXPECT_EQ(got.events(0).actor(), "callcenter-01");
  EXPECT_EQ(got.events(1).type(), grid::v1::EVENT_TYPE_ROUTED);
  EXPECT_EQ(got.events(1).routing().unit_code(), "100001001002");
}

TEST_F(ServerTest, AssignmentBalancesOpenCasesAlsoAfterRestart) {
  grid::v1::DirectoryContent delta;  // a second on-duty worker in grid 1
  auto* m = delta.add_members();
  m->set_id("M5");
  m->set_name("钱七");
  m->set_unit_code("100001001001");
  m->set_on_duty(true);
  grid::v1::ImportResponse imported;
  std::string reason;
  ASSERT_TRUE(Import(*clients_, {delta}, false, &imported, &reason).ok()) << reason;
  auto submit = [&](int i) {
    auto req = Good("load-" + std::to_string(i));
    req.mutable_location()->set_lng(110.005);  // grid 1
    grid::v1::SubmitCaseResponse resp;
    EXPECT_TRUE(testing::Submit(*clients_->intake, req, &resp).status.ok());
    return resp.case_().routing().assignee_member_id();
  };
  EXPECT_EQ(submit(0), "M1");  // a tie: the lower id
  EXPECT_EQ(submit(1), "M5");  // M1 has one open case
  EXPECT_EQ(submit(2), "M1");
  StopServer();
  StartServer();  // loads are recovered from the index: 2 and 1
  EXPECT_EQ(submit(3), "M5");
  EXPECT_EQ(submit(4), "M1");
}

TEST_F(ServerTest, IdempotentRetryReturnsTheSameCaseAlsoAfterRestart) {
  grid::v1::SubmitCaseResponse first, second, third, other_caller;
  ASSERT_TRUE(testing::Submit(*clients_->intake, Good("retry-1"), &first, "", "cc1").status.ok());
  clock_.Advance(1000);
  ASSERT_TRUE(testing::Submit(*clients_->intake, Good("retry-1"), &second, "", "cc1").status.ok());
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  // The same key from another caller is another case.
  ASSERT_TRUE(testing::Submit(*clients_->intake, Good("retry-1"), &other_caller, "", "cc2").status.ok());
  EXPECT_NE(other_caller.case_().id(), first.case_().id());

  StopServer();
  clock_.Advance(1000);
  StartServer();
  ASSERT_TRUE(testing::Submit(*clients_->intake, Good("retry-1"), &third, "", "cc1").status.ok());
  EXPECT_EQ(first.SerializeAsString(), third.SerializeAsString());
}

TEST_F(ServerTest, ConcurrentRetriesOfOneKeyMakeOneCase) {
  std::vector<std::thread> threads;
  std::vector<std::string> ids(16);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      grid::v1::SubmitCaseResponse resp;
      auto r = testing::Submit(*clients_->intake, Good("same-key"), &resp, "", "cc1");
      if (r.status.ok()) ids[i] = resp.case_().id();
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), 1u);
  EXPECT_FALSE(distinct.begin()->empty());
}

TEST_F(ServerTest, ReusedKeyWithADifferentRequestIsRefused) {
  grid::v1::SubmitCaseResponse resp;
  ASSERT_TRUE(testing::Submit(*clients_->intake, Good("k"), &resp, "", "cc1").status.ok());
  auto changed = Good("k");
  changed.set_description("另一件事");
  CallResult r = testing::Submit(*clients_->intake, changed, &resp, "", "cc1");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(r.reason, "IDEMPOTENCY_KEY_REUSED");
}

TEST_F(ServerTest, EveryBadSubmitIsRefusedWithAReasonAndStoresNothing) {
  struct Case {
    const char* reason;
    std::function<void(grid::v1::SubmitCaseRequest*)> mutate;
  };
  const std::vector<Case> cases = {
      {"MISSING_CATEGORY", [](auto* r) { r->clear_category(); }},
      {"UNKNOWN_CATEGORY", [](auto* r) { r->set_category("nope"); }},
      {"MISSING_DESCRIPTION", [](auto* r) { r->clear_description(); }},
      {"DESCRIPTION_TOO_LONG", [](auto* r) { r->set_description(std::string(4001, 'x')); }},
      {"LATITUDE_OUT_OF_RANGE", [](auto* r) { r->mutable_location()->set_lat(-91); }},
      {"LONGITUDE_OUT_OF_RANGE", [](auto* r) { r->mutable_location()->set_lng(181); }},
      {"NON_FINITE_COORDINATE", [](auto* r) { r->mutable_location()->set_lat(NAN); }},
      {"UNKNOWN_UNIT", [](auto* r) { r->set_unit_code("999999"); }},
      {"TOO_MANY_ATTACHMENTS",
       [](auto* r) {
         for (int i = 0; i < 11; ++i) r->add_attachment_urls("https://x.org/" + std::to_string(i));
       }},
      {"INVALID_ATTACHMENT_URL", [](auto* r) { r->add_attachment_urls("file:///etc/passwd"); }},
      {"INVALID_PHONE", [](auto* r) { r->mutable_citizen()->set_phone("abc"); }},
      {"INVALID_PRIORITY", [](auto* r) { r->set_priority(static_cast<grid::v1::Priority>(42)); }},
      {"MESSAGE_TOO_LARGE", [](auto* r) { r->set_address(std::string(100000, 'a')); }},
      {"INVALID_IDEMPOTENCY_KEY", [](auto* r) { r->set_idempotency_key("white space"); }},
  };
  for (const auto& c : cases) {
    auto req = Good("bad-" + std::string(c.reason));
    c.mutate(&req);
    grid::v1::SubmitCaseResponse resp;
    CallResult r = testing::Submit(*clients_->intake, req, &resp);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.reason;
    EXPECT_EQ(r.reason, c.reason);
    EXPECT_EQ(r.status.error_message().rfind(std::string(c.reason) + ": ", 0), 0u) << r.status.error_message();
  }
  EXPECT_EQ(StoredMaxCaseId(), 0u);
}

TEST_F(ServerTest, InvalidUtf8IsRefusedAndStoresNothing) {
  // The C++ client serialises invalid UTF-8 in a string field (with a logged
  // warning); the server must refuse it.
  auto req = Good("utf8");
  req.set_description("bad \xC3\x28 text");
  grid::v1::SubmitCaseResponse resp;
  CallResult r = testing::Submit(*clients_->intake, req, &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.reason, "INVALID_UTF8");
  EXPECT_NE(r.status.error_message().find("description"), std::string::npos);
  req = Good("utf8-nested");
  req.mutable_citizen()->set_name("\xFF\xFE");
  r = testing::Submit(*clients_->intake, req, &resp);
  EXPECT_EQ(r.reason, "INVALID_UTF8");
  EXPECT_NE(r.status.error_message().find("citizen.name"), std::string::npos);
  EXPECT_EQ(StoredMaxCaseId(), 0u);
}

TEST_F(ServerTest, OversizedMessageIsResourceExhausted) {
  auto req = Good("huge");
  req.set_description(std::string(9 * 1024 * 1024, 'x'));
  grid::v1::SubmitCaseResponse resp;
  CallResult r = testing::Submit(*clients_->intake, req, &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(StoredMaxCaseId(), 0u);
}

TEST_F(ServerTest, GetCaseErrors) {
  grid::v1::GetCaseResponse got;
  CallResult r = testing::GetCase(*clients_->query, "not-a-number", &got);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.reason, "INVALID_CASE_ID");
  r = testing::GetCase(*clients_->query, "1795000000000999", &got);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(r.reason, "CASE_NOT_FOUND");
}

TEST_F(ServerTest, GetUnitShowsAncestorsChildrenAndMembers) {
  auto ctx = testing::Context();
  grid::v1::GetUnitRequest req;
  req.set_code("100001001");
  grid::v1::GetUnitResponse resp;
  ASSERT_TRUE(clients_->directory->GetUnit(ctx.get(), req, &resp).ok());
  EXPECT_EQ(resp.unit().name(), "测试社区");
  ASSERT_EQ(resp.ancestors_size(), 2);
  EXPECT_EQ(resp.ancestors(0).code(), "100");
  ASSERT_EQ(resp.children_size(), 2);
  EXPECT_EQ(resp.children(0).member_count(), 2u);
  EXPECT_EQ(resp.members_size(), 1);  // M4 reports to the community
  EXPECT_EQ(resp.directory_version(), 1u);

  auto ctx2 = testing::Context();
  req.set_code("nope");
  auto st = clients_->directory->GetUnit(ctx2.get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(testing::Reason(*ctx2), "UNIT_NOT_FOUND");
}

TEST_F(ServerTest, ListChildrenPages) {
  grid::v1::ListChildrenRequest req;
  req.set_code("100001001");
  req.set_page_size(1);
  std::vector<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto ctx = testing::Context();
    grid::v1::ListChildrenResponse resp;
    ASSERT_TRUE(clients_->directory->ListChildren(ctx.get(), req, &resp).ok());
    for (const auto& c : resp.children()) seen.push_back(c.code());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"100001001001", "100001001002"}));
  auto ctx = testing::Context();
  req.set_page_size(5000);
  grid::v1::ListChildrenResponse resp;
  auto st = clients_->directory->ListChildren(ctx.get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

grpc::Status Import(testing::Clients& clients, const std::vector<grid::v1::DirectoryContent>& chunks, bool replace,
                    grid::v1::ImportResponse* resp, std::string* reason, bool mark_last) {
  auto ctx = testing::Context();
  auto writer = clients.directory->Import(ctx.get(), resp);
  for (size_t i = 0; i < chunks.size(); ++i) {
    grid::v1::ImportChunk chunk;
    if (i == 0) chunk.set_mode(replace ? grid::v1::IMPORT_MODE_REPLACE : grid::v1::IMPORT_MODE_MERGE);
    *chunk.mutable_content() = chunks[i];
    chunk.set_last(mark_last && i + 1 == chunks.size());
    writer->Write(chunk);
  }
  writer->WritesDone();
  auto st = writer->Finish();
  *reason = testing::Reason(*ctx);
  return st;
}

TEST_F(ServerTest, ImportCreatesAVersionAndSurvivesRestart) {
  grid::v1::DirectoryContent a, b;
  testing::AddUnit(&a, "100002", grid::v1::UNIT_LEVEL_TOWN, "新镇", "100");
  testing::AddUnit(&b, "100002001", grid::v1::UNIT_LEVEL_COMMUNITY, "新社区",
                   "100002");  // a later chunk than its parent
  grid::v1::ImportResponse resp;
  std::string reason;
  auto st = Import(*clients_, {a, b}, false, &resp, &reason);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.directory_version(), 2u);
  EXPECT_EQ(resp.units(), 2u);
  StopServer();
  StartServer();
  EXPECT_EQ(server_->directory_version(), 2u);
  auto ctx = testing::Context();
  grid::v1::GetUnitRequest req;
  req.set_code("100002001");
  grid::v1::GetUnitResponse unit;
  ASSERT_TRUE(clients_->directory->GetUnit(ctx.get(), req, &unit).ok());
  EXPECT_EQ(unit.ancestors_size(), 2);
}

TEST_F(ServerTest, AnImportThatEndsBeforeItsLastChunkChangesNothing) {
  grid::v1::DirectoryContent a;
  testing::AddUnit(&a, "100002", grid::v1::UNIT_LEVEL_TOWN, "新镇", "100");
  grid::v1::ImportResponse resp;
  std::string reason;
  auto st = Import(*clients_, {a}, false, &resp, &reason, /*mark_last=*/false);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(reason, "IMPORT_INCOMPLETE");
  EXPECT_EQ(server_->directory_version(), 1u);
}

TEST_F(ServerTest, BadImportChangesNothing) {
  grid::v1::DirectoryContent bad;
  testing::AddUnit(&bad, "100009001", grid::v1::UNIT_LEVEL_COMMUNITY, "孤儿社区", "100009");
  grid::v1::ImportResponse resp;
  std::string reason;
  auto st = Import(*clients_, {bad}, false, &resp, &reason);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(reason, "UNKNOWN_PARENT");
  EXPECT_NE(st.error_message().find("100009001"), std::string::npos);
  EXPECT_EQ(server_->directory_version(), 1u);
  StopServer();
  StartServer();
  EXPECT_EQ(server_->directory_version(), 1u);
}

TEST_F(ServerTest, ACategoryRuleImportedOnlineChangesRouting) {
  grid::v1::DirectoryContent rules;
  auto* rule = rules.add_category_rules();
  rule->set_unit_code("100");
  rule->set_category("sanitation");
  rule->set_handling(grid::v1::HANDLING_DEPARTMENT);
  rule->add_department_codes("dept.water");
  grid::v1::ImportResponse imported;
  std::string reason;
  ASSERT_TRUE(Import(*clients_, {rules}, false, &imported, &reason).ok()) << reason;
  auto ctx = testing::Context();
  grid::v1::RouteCaseRequest req;
  req.set_category("sanitation");
  req.mutable_location()->set_lat(20.005);
  req.mutable_location()->set_lng(110.005);
  grid::v1::RouteCaseResponse resp;
  ASSERT_TRUE(clients_->directory->RouteCase(ctx.get(), req, &resp).ok());
  EXPECT_EQ(resp.routing().department_code(), "dept.water");
  EXPECT_EQ(resp.routing().directory_version(), imported.directory_version());
}

TEST_F(ServerTest, VersionsSwapWhileServingWithoutAFailedRequest) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, calls{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      uint64_t last_version = 0;
      for (int i = 0; !stop.load(); ++i) {
        grid::v1::SubmitCaseResponse resp;
        auto r = testing::Submit(*clients_->intake, Good("swap-" + std::to_string(t) + "-" + std::to_string(i)), &resp);
        calls.fetch_add(1);
        calls.notify_all();
        if (!r.status.ok()) {
          ++failures;
          continue;
        }
        // A caller never sees the directory go back to an older version.
        if (resp.case_().routing().directory_version() < last_version) ++failures;
        last_version = resp.case_().routing().directory_version();
      }
    });
  }
  for (int v = 0; v < 10; ++v) {
    grid::v1::DirectoryContent delta;
    *delta.add_units() = testing::TinyDirectory().units(4);
    delta.mutable_units(0)->set_name("第2网格 v" + std::to_string(v));
    grid::v1::ImportResponse resp;
    std::string reason;
    ASSERT_TRUE(Import(*clients_, {delta}, false, &resp, &reason).ok()) << reason;
  }
  // Wait for 40 calls, some of them made while versions swapped.
  for (int n = calls.load(); n < 40; n = calls.load()) calls.wait(n);
  stop = true;
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server_->directory_version(), 11u);
}

TEST_F(ServerTest, UpsertAndRouteCase) {
  auto ctx = testing::Context();
  grid::v1::UpsertUnitRequest up;
  *up.mutable_unit() = testing::TinyDirectory().units(4);
  up.mutable_unit()->set_name("第二网格（改）");
  grid::v1::UpsertUnitResponse up_resp;
  ASSERT_TRUE(clients_->directory->UpsertUnit(ctx.get(), up, &up_resp).ok());
  EXPECT_EQ(up_resp.directory_version(), 2u);

  auto ctx2 = testing::Context();
  grid::v1::RouteCaseRequest req;
  req.set_category("sanitation");
  req.mutable_location()->set_lat(20.005);
  req.mutable_location()->set_lng(110.015);
  grid::v1::RouteCaseResponse resp;
  ASSERT_TRUE(clients_->directory->RouteCase(ctx2.get(), req, &resp).ok());
  EXPECT_EQ(resp.routing().unit_name(), "第二网格（改）");
  EXPECT_EQ(resp.routing().directory_version(), 2u);
  EXPECT_EQ(StoredMaxCaseId(), 0u);  // routing alone creates no case
}

// The grid a RouteCase at (lng, lat) names, "" when it fails.
std::string RoutedGrid(testing::Clients& clients, double lng, double lat) {
  auto ctx = testing::Context();
  grid::v1::RouteCaseRequest req;
  req.set_category("sanitation");
  req.mutable_location()->set_lat(lat);
  req.mutable_location()->set_lng(lng);
  grid::v1::RouteCaseResponse resp;
  if (!clients.directory->RouteCase(ctx.get(), req, &resp).ok()) return "";
  return resp.routing().method() == grid::v1::ROUTING_METHOD_LOCATION ? resp.routing().unit_code()
                                                                      : "(not by location)";
}

TEST_F(ServerTest, GetUnitReadsTheBoundaryFromTheStore) {
  auto ctx = testing::Context();
  grid::v1::GetUnitRequest req;
  req.set_code("100001001002");
  grid::v1::GetUnitResponse resp;
  ASSERT_TRUE(clients_->directory->GetUnit(ctx.get(), req, &resp).ok());
  EXPECT_EQ(resp.unit().boundary().SerializeAsString(),
            testing::TinyDirectory().units(4).boundary().SerializeAsString());
  auto ctx2 = testing::Context();
  req.set_code("100001001");  // no boundary
  ASSERT_TRUE(clients_->directory->GetUnit(ctx2.get(), req, &resp).ok());
  EXPECT_FALSE(resp.unit().has_boundary());
}

class RestartTest : public ServerTest {
 protected:
  std::string IndexFile() const { return data_dir() + "/" + kGridIndexFile; }
  void Restart() {
    StopServer();
    StartServer();
  }
  // Corrupts a saved file: one bit of its byte 200 flipped.
  static void FlipABit(const std::string& file) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(200);
    char c = 0;
    f.get(c);
    f.seekp(200);
    f.put(static_cast<char>(c ^ 0x01));
  }
  // Grid 2 moved east by an upsert: version 2 answers differently from 1.
  void MoveGrid2() {
    auto ctx = testing::Context();
    grid::v1::UpsertUnitRequest up;
    *up.mutable_unit() = testing::TinyDirectory().units(4);
    up.mutable_unit()->clear_boundary();
    testing::AddSquare(up.mutable_unit(), 110.02, 20.00, 110.03, 20.01);
    grid::v1::UpsertUnitResponse resp;
    ASSERT_TRUE(clients_->directory->UpsertUnit(ctx.get(), up, &resp).ok());
    ASSERT_EQ(resp.directory_version(), 2u);
  }
};

TEST_F(RestartTest, LoadsTheSavedIndexOfItsVersion) {
  ASSERT_TRUE(std::filesystem::exists(IndexFile()));
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kBuilt);
  MoveGrid2();
  EXPECT_EQ(server_->index_save_error(), "");
  Restart();
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kLoaded) << server_->index_report().why_rebuilt;
  EXPECT_EQ(server_->directory_version(), 2u);
  EXPECT_EQ(RoutedGrid(*clients_, 110.025, 20.005), "100001001002");
  EXPECT_EQ(RoutedGrid(*clients_, 110.005, 20.005), "100001001001");
}

TEST_F(RestartTest, MapsTheSavedUnitTableAndRebuildsAMissingOrCorruptOne) {
  const std::string table = data_dir() + "/" + kUnitTableFile;
  ASSERT_TRUE(std::filesystem::exists(table));
  MoveGrid2();
  Restart();
  EXPECT_EQ(server_->index_report().table_origin, IndexOrigin::kLoaded) << server_->index_report().why_table_rebuilt;
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kLoaded);
  EXPECT_EQ(RoutedGrid(*clients_, 110.025, 20.005), "100001001002");
  // Missing: the units are read from the store; the index still loads.
  StopServer();
  ASSERT_TRUE(std::filesystem::remove(table));
  StartServer();
  EXPECT_EQ(server_->index_report().table_origin, IndexOrigin::kRebuilt);
  EXPECT_NE(server_->index_report().why_table_rebuilt.find("IO_ERROR"), std::string::npos);
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kLoaded) << server_->index_report().why_rebuilt;
  EXPECT_EQ(RoutedGrid(*clients_, 110.025, 20.005), "100001001002");
  ASSERT_TRUE(std::filesystem::exists(table));
  // Corrupt: the same.
  StopServer();
  FlipABit(table);
  StartServer();
  EXPECT_EQ(server_->index_report().table_origin, IndexOrigin::kRebuilt);
  EXPECT_NE(server_->index_report().why_table_rebuilt.find("CORRUPT_TABLE"), std::string::npos)
      << server_->index_report().why_table_rebuilt;
  EXPECT_EQ(RoutedGrid(*clients_, 110.005, 20.005), "100001001001");
  Restart();
  EXPECT_EQ(server_->index_report().table_origin, IndexOrigin::kLoaded);
  EXPECT_EQ(server_->directory_version(), 2u);
}

TEST_F(RestartTest, RebuildsAMissingIndexAndSavesItAgain) {
  ASSERT_TRUE(std::filesystem::remove(IndexFile()));
  Restart();
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kRebuilt);
  EXPECT_EQ(RoutedGrid(*clients_, 110.015, 20.005), "100001001002");
  ASSERT_TRUE(std::filesystem::exists(IndexFile()));
  Restart();
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kLoaded);
}

TEST_F(RestartTest, RebuildsAStaleIndex) {
  const std::string v1 = tmp_.Sub("v1.idx");
  std::filesystem::copy_file(IndexFile(), v1);
  MoveGrid2();
  StopServer();
  // The version 1 file put back, as after a crash between saving the
  // directory and saving its index.
  std::filesystem::copy_file(v1, IndexFile(), std::filesystem::copy_options::overwrite_existing);
  StartServer();
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kRebuilt);
  EXPECT_NE(server_->index_report().why_rebuilt.find("STALE_INDEX"), std::string::npos);
  EXPECT_EQ(RoutedGrid(*clients_, 110.025, 20.005), "100001001002");
  EXPECT_EQ(RoutedGrid(*clients_, 110.015, 20.005), "(not by location)");
}

TEST_F(RestartTest, RebuildsACorruptIndex) {
  StopServer();
  FlipABit(IndexFile());
  StartServer();
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kRebuilt);
  EXPECT_NE(server_->index_report().why_rebuilt.find("CORRUPT_INDEX"), std::string::npos)
      << server_->index_report().why_rebuilt;
  EXPECT_EQ(RoutedGrid(*clients_, 110.015, 20.005), "100001001002");
  // Not a file at all (a directory in its place): rebuilt too, and the
  // failure to save over it is reported, not fatal.
  StopServer();
  std::filesystem::remove(IndexFile());
  std::filesystem::create_directory(IndexFile());
  std::ofstream(IndexFile() + "/x") << "x";
  StartServer();
  EXPECT_EQ(server_->index_report().origin, IndexOrigin::kRebuilt);
  EXPECT_NE(server_->index_save_error(), "");
  EXPECT_EQ(RoutedGrid(*clients_, 110.015, 20.005), "100001001002");
}

TEST_F(ServerTest, RouteCaseRejectsBadInput) {
  auto ctx = testing::Context();
  grid::v1::RouteCaseRequest req;
  req.set_category("sanitation");
  req.mutable_location()->set_lat(100);
  grid::v1::RouteCaseResponse resp;
  auto st = clients_->directory->RouteCase(ctx.get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(testing::Reason(*ctx), "LATITUDE_OUT_OF_RANGE");
  auto ctx2 = testing::Context();
  req.clear_location();
  req.set_address(std::string(600, 'a'));
  st = clients_->directory->RouteCase(ctx2.get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(testing::Reason(*ctx2), "ADDRESS_TOO_LONG");
  auto ctx3 = testing::Context();
  req.clear_address();
  req.set_category("");
  st = clients_->directory->RouteCase(ctx3.get(), req, &resp);
  EXPECT_EQ(testing::Reason(*ctx3), "MISSING_CATEGORY");
  auto ctx4 = testing::Context();
  req.set_category("sanitation");
  req.set_unit_code("404");
  st = clients_->directory->RouteCase(ctx4.get(), req, &resp);
  EXPECT_EQ(testing::Reason(*ctx4), "UNKNOWN_UNIT");
}

class AuthServerTest : public ServerTest {
 protected:
  void SetUp() override {
    std::ofstream(tmp_.Sub("tokens")) << "# token role scope caller\n"
                                         "admin-token-0000001 admin * root\n"
                                         "callcenter-token-01 call_center 100 cc-county\n"
                                         "town-office-token-1 town_office 100001 town-office\n"
                                         "other-town-token-01 supervisor 100002 other-super\n"
                                         "department-token-01 department 100 water-dept\n";
    StartServer(tmp_.Sub("tokens"));
  }
};

TEST_F(AuthServerTest, CallsWithoutAValidTokenAreUnauthenticated) {
  grid::v1::SubmitCaseResponse resp;
  CallResult r = testing::Submit(*clients_->intake, Good(), &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(r.reason, "MISSING_TOKEN");
  r = testing::Submit(*clients_->intake, Good(), &resp, "wrong-token-000000");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(r.reason, "UNKNOWN_TOKEN");
  EXPECT_EQ(StoredMaxCaseId(), 0u);
}

TEST_F(AuthServerTest, RolesAndScopesDecide) {
  grid::v1::SubmitCaseResponse resp;
  CallResult r = testing::Submit(*clients_->intake, Good(), &resp, "department-token-01");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.reason, "ROLE_NOT_ALLOWED");

  r = testing::Submit(*clients_->intake, Good("a"), &resp, "callcenter-token-01");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(resp.case_().submitted_by(), "cc-county");
  const std::string id = resp.case_().id();

  grid::v1::GetCaseResponse got;
  r = testing::GetCase(*clients_->query, id, &got, "town-office-token-1");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(got.case_().citizen().name(), "陈**");  // masked for a town office
  EXPECT_EQ(got.case_().citizen().phone(), "138****1234");
  r = testing::GetCase(*clients_->query, id, &got, "callcenter-token-01");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(got.case_().citizen().name(), "陈小梅");  // the call center sees it whole

  r = testing::GetCase(*clients_->query, id, &got, "other-town-token-01");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.reason, "OUT_OF_SCOPE");

  auto ctx = testing::Context("callcenter-token-01");
  grid::v1::UpsertUnitRequest up;
  *up.mutable_unit() = testing::TinyDirectory().units(0);
  grid::v1::UpsertUnitResponse up_resp;
  EXPECT_EQ(clients_->directory->UpsertUnit(ctx.get(), up, &up_resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// A full queue answers RESOURCE_EXHAUSTED at once instead of queueing without
// bound: queues of capacity 0 are always full.
class FullQueues : public testing::ServerFixture {};

TEST_F(FullQueues, AnswerResourceExhaustedAndStoreNothing) {
  config_.intake_queue = 0;
  config_.executor_queue = 0;
  StartServer();
  grid::v1::SubmitCaseResponse resp;
  CallResult r =
      testing::Submit(*clients_->intake, testing::Submission().In("100001001001").Description("x").Build(), &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(r.reason, "QUEUE_FULL");
  grid::v1::GetCaseResponse got;
  r = testing::GetCase(*clients_->query, "1795000000000000", &got);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(r.reason, "QUEUE_FULL");
  StopServer();
  auto store = storage::Store::Open(storage::StoreOptions{data_dir(), true});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->MaxCaseId(), 0u);
}

TEST(Authenticator, TokenFileErrorsNameTheLine) {
  auto a = Authenticator::FromText("good-token-0000001 admin * root\nshort admin * x\n", "tokens");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().reason(), "MALFORMED_TOKEN_FILE");
  EXPECT_NE(a.status().message().find("line 2"), std::string::npos);
  a = Authenticator::FromText("good-token-0000001 janitor * root\n", "tokens");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("unknown role"), std::string::npos);
}

TEST(BoundedExecutor, RefusesWhenFull) {
  BoundedExecutor ex(1, 2);
  std::mutex mu;
  std::condition_variable cv;
  bool started = false, release = false;
  ASSERT_TRUE(ex.TrySubmit([&] {
    std::unique_lock<std::mutex> lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  }));
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  // The single thread is busy: exactly 2 more fit in the queue.
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += ex.TrySubmit([] {});
  EXPECT_EQ(accepted, 2);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ex.Stop();
  EXPECT_FALSE(ex.TrySubmit([] {}));
}

}  // namespace
}  // namespace grid::services
