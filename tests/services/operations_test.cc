// Operations through a real in-process gRPC server: a backup taken while
// other threads keep submitting holds every case acknowledged before it
// started, and a real server started on its restored copy serves them; the
// directory keeps the newest N, shares files between backups, and refuses
// callers that are not admins and bad paths with their reasons, changing
// nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "grid/v1/operations.grpc.pb.h"
#include "port/mutex.h"
#include "storage/backup.h"
#include "tests/support/grpc_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/store_verified.h"
#include "tests/support/submit_request.h"

namespace grid::services {
namespace {

namespace fs = std::filesystem;
using grid::testing::CallResult;

class OperationsTest : public testing::ServerFixture {
 protected:
  void SetUp() override { StartServer(); }
  std::string backups() const { return tmp_.Sub("backups"); }

  CallResult Backup(const std::string& dir, uint32_t keep_last, grid::v1::CreateBackupResponse* resp,
                    const std::string& token = "") {
    auto stub = grid::v1::Operations::NewStub(clients_->channel);
    auto ctx = testing::Context(token);
    grid::v1::CreateBackupRequest req;
    req.set_directory(dir);
    req.set_keep_last(keep_last);
    CallResult r;
    r.status = stub->CreateBackup(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }
  CallResult List(const std::string& dir, grid::v1::ListBackupsResponse* resp, const std::string& token = "") {
    auto stub = grid::v1::Operations::NewStub(clients_->channel);
    auto ctx = testing::Context(token);
    grid::v1::ListBackupsRequest req;
    req.set_directory(dir);
    CallResult r;
    r.status = stub->ListBackups(ctx.get(), req, resp);
    r.reason = testing::Reason(*ctx);
    return r;
  }
};

TEST_F(OperationsTest, ABackupDuringIntakeRestoresEveryCaseAcknowledgedBeforeIt) {
  // Submitters run before, during and after the backup; every answer goes
  // into one list, in the order the answers came.
  constexpr int kSubmitters = 4;
  std::atomic<bool> stop{false};
  struct Answers {
    Mutex mu;
    CondVar answered;  // signalled on every answer
    std::vector<std::string> ids ABSL_GUARDED_BY(mu);
    int failures ABSL_GUARDED_BY(mu) = 0;
  } answers;
  std::vector<std::thread> submitters;
  for (int t = 0; t < kSubmitters; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        grid::v1::SubmitCaseResponse resp;
        auto r = testing::Submit(*clients_->intake,
                                 testing::Submission().Key(std::to_string(t) + "-" + std::to_string(i)).Build(), &resp);
        MutexLock lock(&answers.mu);
        if (r.status.ok()) {
          answers.ids.push_back(resp.case_().id());
        } else {
          ++answers.failures;
        }
        answers.answered.SignalAll();
      }
    });
  }
  std::vector<std::string> before;  // acknowledged when the backup call starts
  {
    MutexLock lock(&answers.mu);
    while (answers.ids.size() < 200) answers.answered.Wait(&answers.mu);
    before = answers.ids;
  }
  grid::v1::CreateBackupResponse backup;
  CallResult r = Backup(backups(), 0, &backup);
  size_t after_backup;
  {
    MutexLock lock(&answers.mu);
    after_backup = answers.ids.size();
  }
  stop = true;
  for (auto& s : submitters) s.join();
  ASSERT_TRUE(r.status.ok()) << r.reason << ": " << r.status.error_message();
  EXPECT_EQ(backup.backup().backup_id(), 1u);
  EXPECT_GT(backup.backup().size_bytes(), 0u);
  EXPECT_EQ(backup.backup().new_bytes(), backup.backup().size_bytes());
  EXPECT_EQ(backup.backups_kept(), 1u);
  {
    MutexLock lock(&answers.mu);
    EXPECT_EQ(answers.failures, 0);
  }
  EXPECT_GT(after_backup, before.size()) << "no submission was answered while the backup ran";

  // Restore into a fresh directory and serve it with a second, real server.
  auto restored = storage::RestoreBackup(backups(), std::nullopt, tmp_.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  // The backup is one consistent point: every index, figure, event, feed and
  // idempotency entry agrees with the records.
  EXPECT_TRUE(testing::StoreVerifiesClean(tmp_.Sub("restored")));
  services::ServerConfig config = config_;
  config.listen = "127.0.0.1:0";
  config.data_dir = tmp_.Sub("restored");
  auto second = services::GridServer::Start(config, &clock_, directory_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  testing::Clients clients("127.0.0.1:" + std::to_string((*second)->port()));
  for (const std::string& id : before) {
    grid::v1::GetCaseResponse got;
    CallResult g = testing::GetCase(*clients.query, id, &got);
    ASSERT_TRUE(g.status.ok()) << "case " << id << ", acknowledged before the backup: " << g.reason;
    EXPECT_EQ(got.events_size(), 2) << id;  // SUBMITTED, ROUTED
  }
}

TEST_F(OperationsTest, BackupsShareFilesAndKeepTheNewest) {
  grid::v1::CreateBackupResponse resp;
  for (int i = 0; i < 3; ++i) {
    grid::v1::SubmitCaseResponse submitted;
    ASSERT_TRUE(testing::Submit(*clients_->intake, testing::Submission().Key(std::to_string(i)).Build(), &submitted)
                    .status.ok());
    CallResult r = Backup(backups(), 2, &resp);
    ASSERT_TRUE(r.status.ok()) << r.reason;
    EXPECT_EQ(resp.backup().backup_id(), static_cast<uint32_t>(i + 1));
    EXPECT_EQ(resp.backups_kept(), std::min(i + 1, 2));
    // The directory's table files, flushed at start, are copied once.
    if (i > 0) {
      EXPECT_LT(resp.backup().new_bytes(), resp.backup().size_bytes());
    }
  }
  grid::v1::ListBackupsResponse list;
  CallResult r = List(backups(), &list);
  ASSERT_TRUE(r.status.ok()) << r.reason;
  ASSERT_EQ(list.backups_size(), 2);
  EXPECT_EQ(list.backups(0).backup_id(), 2u);
  EXPECT_EQ(list.backups(1).backup_id(), 3u);
  EXPECT_EQ(list.backups(1).size_bytes(), resp.backup().size_bytes());
  EXPECT_EQ(list.backups(1).created_at().seconds(), resp.backup().created_at().seconds());
  EXPECT_GT(list.backups(1).files(), 0u);
}

TEST_F(OperationsTest, BadPathsAreRefusedWithTheirReasonAndNothingIsCreated) {
  std::ofstream(tmp_.Sub("a-file")) << "x";
  struct Case {
    std::string dir;
    grpc::StatusCode code;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {"", grpc::StatusCode::INVALID_ARGUMENT, "BACKUP_DIR_NOT_ABSOLUTE"},
           {"backups", grpc::StatusCode::INVALID_ARGUMENT, "BACKUP_DIR_NOT_ABSOLUTE"},
           {data_dir() + "/backups", grpc::StatusCode::INVALID_ARGUMENT, "BACKUP_DIR_IN_DATA_DIR"},
           {tmp_.Sub("a-file"), grpc::StatusCode::FAILED_PRECONDITION, "BACKUP_DIR_FOREIGN"},
           {tmp_.Sub("a-file/backups"), grpc::StatusCode::FAILED_PRECONDITION, "BACKUP_DIR_UNWRITABLE"},
           {"/proc/gridd-backups", grpc::StatusCode::FAILED_PRECONDITION, "BACKUP_DIR_UNWRITABLE"},
       }) {
    grid::v1::CreateBackupResponse resp;
    CallResult r = Backup(c.dir, 0, &resp);
    EXPECT_EQ(r.status.error_code(), c.code) << c.dir;
    EXPECT_EQ(r.reason, c.reason) << c.dir;
  }
  grid::v1::ListBackupsResponse list;
  CallResult r = List(tmp_.Sub("nothing-here"), &list);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(r.reason, "NO_BACKUP");
  r = List("relative", &list);
  EXPECT_EQ(r.reason, "BACKUP_DIR_NOT_ABSOLUTE");
  EXPECT_FALSE(fs::exists(data_dir() + "/backups"));
  EXPECT_FALSE(fs::exists(tmp_.Sub("nothing-here")));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp_.path()), fs::directory_iterator()), 2);  // data, a-file
}

class OperationsAuthTest : public OperationsTest {
 protected:
  void SetUp() override {
    std::ofstream(tmp_.Sub("tokens")) << "admin-token-0000001 admin * root\n"
                                         "callcenter-token-01 call_center * cc-county\n"
                                         "supervisor-token-01 supervisor * county-super\n";
    StartServer(tmp_.Sub("tokens"));
  }
};

TEST_F(OperationsAuthTest, OnlyAdminsMayBackUpOrList) {
  grid::v1::CreateBackupResponse resp;
  for (const char* token : {"callcenter-token-01", "supervisor-token-01"}) {
    CallResult r = Backup(backups(), 0, &resp, token);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << token;
    EXPECT_EQ(r.reason, "ROLE_NOT_ALLOWED") << token;
  }
  CallResult r = Backup(backups(), 0, &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(fs::exists(backups()));

  ASSERT_TRUE(Backup(backups(), 0, &resp, "admin-token-0000001").status.ok());
  grid::v1::ListBackupsResponse list;
  r = List(backups(), &list, "callcenter-token-01");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.reason, "ROLE_NOT_ALLOWED");
  EXPECT_EQ(list.backups_size(), 0);
  ASSERT_TRUE(List(backups(), &list, "admin-token-0000001").status.ok());
  EXPECT_EQ(list.backups_size(), 1);
}

}  // namespace
}  // namespace grid::services
