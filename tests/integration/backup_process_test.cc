// Backup and restore with the binaries: gridctl backup create and list
// against a running gridd, then gridd --restore-from into a new data
// directory, which serves every case acknowledged before the backup; and
// every bad restore stops gridd with its reason and leaves the directories
// as they were.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/demo_case.h"
#include "tests/support/gridd_process.h"
#include "tests/support/grpc_client.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tools/demo/demo_directory.h"

namespace grid {
namespace {

namespace fs = std::filesystem;
using testing::BinDir;
using testing::GriddProcess;
using testing::JinjiangCase;
using testing::RunCommand;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The log once it holds `text`: gridd's log is written by a thread of its
// own, so a line logged before the port file appeared may reach the file just
// after. Waits for the line (up to 20 s), not for a time.
std::string LogWith(const std::string& path, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string log = ReadAll(path);
  while (log.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = ReadAll(path);
  }
  return log;
}

size_t Entries(const std::string& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(BackupProcess, GriddRestoresABackupMadeWithGridctlAndServesIt) {
  testing::TempDir tmp;
  const std::string backups = tmp.Sub("backups");
  std::vector<std::string> ids;
  {
    GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log1"));
    ASSERT_GT(gridd.port(), 0) << ReadAll(tmp.Sub("log1"));
    testing::Clients clients(gridd.target());
    const std::string ctl = BinDir() + "/gridctl --server " + gridd.target();
    std::string out;
    for (int i = 0; i < 6; ++i) {
      grid::v1::SubmitCaseResponse resp;
      ASSERT_TRUE(testing::Submit(*clients.intake, JinjiangCase("k" + std::to_string(i)), &resp).status.ok());
      ids.push_back(resp.case_().id());
      if (i % 2 == 1) {
        ASSERT_EQ(RunCommand(ctl + " backup create " + backups + " --keep 2", &out), 0) << out;
        EXPECT_NE(out.find("backup " + std::to_string(i / 2 + 1) + " "), std::string::npos) << out;
      }
    }
    ASSERT_EQ(RunCommand(ctl + " backup list " + backups, &out), 0) << out;
    EXPECT_EQ(out.find("backup 1 "), std::string::npos) << out;  // purged by --keep 2
    EXPECT_NE(out.find("backup 2 "), std::string::npos) << out;
    EXPECT_NE(out.find("backup 3 "), std::string::npos) << out;
    EXPECT_EQ(RunCommand(ctl + " backup create relative/dir", &out), 1);
    EXPECT_NE(out.find("BACKUP_DIR_NOT_ABSOLUTE"), std::string::npos) << out;
    EXPECT_EQ(RunCommand(ctl + " backup list " + tmp.Sub("nothing"), &out), 1);
    EXPECT_NE(out.find("NO_BACKUP"), std::string::npos) << out;
    EXPECT_EQ(RunCommand(ctl + " backup create " + backups + " --keep -1", &out), 2) << out;
    EXPECT_EQ(gridd.Kill(SIGKILL), 128 + SIGKILL);
  }

  // Backup 2 holds the first four cases; the newest (3) all six.
  GriddProcess older(tmp.Sub("older"), tmp.Sub("log2"), {"--restore-from", backups, "--backup-id", "2"});
  ASSERT_GT(older.port(), 0) << ReadAll(tmp.Sub("log2"));
  EXPECT_NE(LogWith(tmp.Sub("log2"), "restored backup 2").find("restored backup 2"), std::string::npos);
  {
    testing::Clients clients(older.target());
    for (size_t i = 0; i < ids.size(); ++i) {
      grid::v1::GetCaseResponse got;
      auto r = testing::GetCase(*clients.query, ids[i], &got);
      if (i < 4) {
        ASSERT_TRUE(r.status.ok()) << ids[i] << ": " << r.status.error_message();
        EXPECT_EQ(got.events_size(), 2);
      } else {
        EXPECT_EQ(r.reason, "CASE_NOT_FOUND") << ids[i];
      }
    }
  }
  GriddProcess newest(tmp.Sub("newest"), tmp.Sub("log3"), {"--restore-from", backups});
  ASSERT_GT(newest.port(), 0) << ReadAll(tmp.Sub("log3"));
  // The side files were not backed up: the restored store rebuilds them.
  const std::string log3 = LogWith(tmp.Sub("log3"), "rebuilt from the store");
  EXPECT_NE(log3.find("rebuilt from the store"), std::string::npos) << log3;
  testing::Clients clients(newest.target());
  for (const auto& id : ids) {
    grid::v1::GetCaseResponse got;
    ASSERT_TRUE(testing::GetCase(*clients.query, id, &got).status.ok()) << id;
  }
  // A retry of an acknowledged submission returns its case, as after a restart.
  grid::v1::SubmitCaseResponse again;
  ASSERT_TRUE(testing::Submit(*clients.intake, JinjiangCase("k5"), &again).status.ok());
  EXPECT_EQ(again.case_().id(), ids.back());
}

TEST(BackupProcess, BadRestoresStopGriddAndChangeNothing) {
  testing::TempDir tmp;
  const std::string backups = tmp.Sub("backups");
  {
    GriddProcess gridd(tmp.Sub("data"), tmp.Sub("log"));
    ASSERT_GT(gridd.port(), 0);
    std::string out;
    ASSERT_EQ(RunCommand(BinDir() + "/gridctl --server " + gridd.target() + " backup create " + backups, &out), 0)
        << out;
    EXPECT_EQ(gridd.Kill(SIGTERM), 0);
  }
  fs::create_directories(tmp.Sub("empty-backups"));
  fs::create_directories(tmp.Sub("busy"));
  { std::ofstream(tmp.Sub("busy/notes.txt")) << "someone's files"; }
  struct Case {
    std::string data;
    std::vector<std::string> flags;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {tmp.Sub("busy"), {"--restore-from", backups}, "RESTORE_TARGET_NOT_EMPTY"},
      {tmp.Sub("data"), {"--restore-from", backups}, "RESTORE_TARGET_NOT_EMPTY"},
      {tmp.Sub("new1"), {"--restore-from", tmp.Sub("empty-backups")}, "NO_BACKUP"},
      {tmp.Sub("new2"), {"--restore-from", tmp.Sub("no-such-dir")}, "NO_BACKUP"},
      {tmp.Sub("new3"), {"--restore-from", backups, "--backup-id", "7"}, "BACKUP_NOT_FOUND"},
      {tmp.Sub("new4"), {"--restore-from", "backups"}, "BACKUP_DIR_NOT_ABSOLUTE"},
  };
  const size_t data_entries = Entries(tmp.Sub("data"));
  for (const Case& c : cases) {
    GriddProcess gridd(c.data, tmp.Sub("bad.log"), c.flags);
    EXPECT_TRUE(gridd.exited()) << c.reason;
    EXPECT_EQ(gridd.exit_code(), 1) << c.reason;
    const std::string log = ReadAll(tmp.Sub("bad.log"));
    EXPECT_NE(log.find(c.reason), std::string::npos) << log;
  }
  EXPECT_EQ(Entries(tmp.Sub("busy")), 1u);
  EXPECT_EQ(Entries(tmp.Sub("data")), data_entries);
  EXPECT_EQ(Entries(tmp.Sub("empty-backups")), 0u);
  for (const char* created : {"new1", "new2", "new3", "new4", "no-such-dir", ".new1.restoring"}) {
    EXPECT_FALSE(fs::exists(tmp.Sub(created))) << created;
  }
  // Bad flag values are usage errors (exit 2), found before anything is read.
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{{"--backup-id", "2"},  // without --restore-from
                                             {"--restore-from", backups, "--backup-id", "0"},
                                             {"--restore-from", backups, "--backup-id", "x"},
                                             {"--max-log-mb", "-1"},
                                             {"--min-free-mb", "x"},
                                             {"--block-cache-mb", "0"},
                                             {"--block-cache-mb", "-5"}}) {
    GriddProcess gridd(tmp.Sub("new5"), tmp.Sub("flags.log"), flags);
    EXPECT_TRUE(gridd.exited());
    EXPECT_EQ(gridd.exit_code(), 2) << flags[0] << " " << flags[1] << ": " << ReadAll(tmp.Sub("flags.log"));
    EXPECT_FALSE(fs::exists(tmp.Sub("new5")));
  }
}

}  // namespace
}  // namespace grid
