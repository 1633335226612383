// `gridd --verify` and `gridctl verify` as processes, on the data directory a
// real gridd left: clean (exit 0, a summary line), damaged with a raw RocksDB
// handle (exit 1, each disagreement, capped), and no store at all (exit 3,
// nothing created). Every run leaves the directory byte for byte as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>

#include <sstream>
#include <string>
#include <vector>

#include "engine/case_id.h"
#include "storage/case_stats.h"
#include "storage/keys.h"
#include "tests/support/gridd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/demo/demo_directory.h"

namespace grid {
namespace {

using testing::BinDir;
using testing::GriddProcess;
using ::testing::HasSubstr;
using testing::RunCommand;

// Both verifying commands, each with `dir`.
std::vector<std::string> VerifyCommands(const std::string& dir) {
  return {BinDir() + "/gridd --verify --data " + dir, BinDir() + "/gridctl verify --data " + dir};
}

// Three cases submitted with gridctl to a real gridd, stopped with SIGTERM.
void FillWithGridd(const testing::TempDir& tmp, const std::string& data) {
  GriddProcess gridd(data, tmp.Sub("log"));
  ASSERT_GT(gridd.port(), 0) << "gridd did not start";
  for (int i = 0; i < 3; ++i) {
    std::ostringstream cmd;
    cmd.precision(9);
    cmd << BinDir() << "/gridctl --server " << gridd.target() << " submit --category sanitation.garbage --lat "
        << kDemoJinjiangPoint.lat << " --lon " << kDemoJinjiangPoint.lng << " --description '垃圾桶满了'"
        << " --idempotency-key v" << i;
    std::string out;
    ASSERT_EQ(RunCommand(cmd.str(), &out), 0) << out;
  }
  ASSERT_EQ(gridd.Kill(SIGTERM), 0);
}

// Deletes the first by-status entry and adds `strays` due-time entries of
// cases that do not exist; returns the deleted key.
std::string Damage(const std::string& data, int strays) {
  rocksdb::Options options;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(options, data, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) {
    descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    if (n == storage::kIndexCf) descs.back().options.merge_operator = storage::StatsMergeOperator();
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), data, descs, &handles, &db).ok());
  if (db == nullptr) return "";
  rocksdb::ColumnFamilyHandle* index = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == storage::kIndexCf) index = handles[i];
  }
  std::string deleted;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), index));
  it->Seek(std::string(1, static_cast<char>(storage::IndexTag::kByStatus)));
  if (it->Valid() && it->key()[0] == static_cast<char>(storage::IndexTag::kByStatus)) deleted = it->key().ToString();
  it.reset();
  EXPECT_FALSE(deleted.empty());
  EXPECT_TRUE(db->Delete(rocksdb::WriteOptions(), index, deleted).ok());
  for (int i = 1; i <= strays; ++i) {
    const std::string key = storage::EncodeDueKey(storage::DueKey{1'800'000'000'000'000, static_cast<uint64_t>(i), 1});
    EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), index, key, "").ok());
  }
  for (auto* h : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
  return deleted;
}

TEST(VerifyProcess, ACleanStoreExitsZeroWithItsCounts) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data");
  FillWithGridd(tmp, data);
  const auto before = testing::FilesUnder(data);
  for (const auto& cmd : VerifyCommands(data)) {
    std::string out;
    EXPECT_EQ(RunCommand(cmd, &out), 0) << cmd << "\n" << out;
    EXPECT_THAT(out, HasSubstr("3 cases, 6 events")) << cmd;
    EXPECT_THAT(out, HasSubstr("6 feed entries (1..6), 3 idempotency keys")) << cmd;
    EXPECT_THAT(out, HasSubstr(": clean\n")) << cmd;
    EXPECT_EQ(testing::FilesUnder(data), before) << cmd;
  }
}

TEST(VerifyProcess, ADamagedStoreExitsOneNamingEachDisagreementUpToFifty) {
  testing::TempDir tmp;
  const std::string data = tmp.Sub("data");
  FillWithGridd(tmp, data);
  const std::string deleted = Damage(data, 60);
  ASSERT_EQ(deleted.size(), 1u + 1 + 8);
  const std::string id = CaseIdToString(storage::DecodeFixed64BE(deleted.data() + 2));
  const auto before = testing::FilesUnder(data);
  for (const auto& cmd : VerifyCommands(data)) {
    std::string out;
    EXPECT_EQ(RunCommand(cmd, &out), 1) << cmd << "\n" << out;
    EXPECT_THAT(out, HasSubstr("index: missing entry by-status 2 case " + id + "\n")) << cmd;
    EXPECT_THAT(out, HasSubstr("index: stray entry due-time 1800000000000000 case " + CaseIdToString(1) +
                               " kind 1 subtask 0\n"))
        << cmd;
    // 61 found: 50 lines, how many more, and the summary.
    EXPECT_THAT(out, HasSubstr("... and 11 more disagreement(s)\n")) << cmd;
    EXPECT_THAT(out, HasSubstr("3 cases, 6 events")) << cmd;
    EXPECT_THAT(out, HasSubstr(": 61 disagreement(s)\n")) << cmd;
    size_t lines = 0;
    for (char c : out) lines += c == '\n';
    EXPECT_EQ(lines, 52u) << out;
    EXPECT_EQ(testing::FilesUnder(data), before) << cmd;
  }
}

TEST(VerifyProcess, NoStoreExitsThreeAndCreatesNothing) {
  testing::TempDir tmp;
  std::filesystem::create_directory(tmp.Sub("empty"));
  std::ofstream(tmp.Sub("file")) << "not a store\n";
  const auto before = testing::FilesUnder(tmp.path());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {tmp.Sub("missing"), "NO_STORE"}, {tmp.Sub("empty"), "NO_STORE"}, {tmp.Sub("file"), "FOREIGN_DATA_DIR"}};
  for (const auto& [dir, says] : bad) {
    for (const auto& cmd : VerifyCommands(dir)) {
      std::string out;
      EXPECT_EQ(RunCommand(cmd, &out), 3) << cmd << "\n" << out;
      EXPECT_THAT(out, HasSubstr(says)) << cmd;
      EXPECT_EQ(testing::FilesUnder(tmp.path()), before) << cmd;
    }
  }
  // Without --data: bad usage.
  std::string out;
  EXPECT_EQ(RunCommand(BinDir() + "/gridd --verify", &out), 2) << out;
  EXPECT_EQ(RunCommand(BinDir() + "/gridctl verify", &out), 2) << out;
}

}  // namespace
}  // namespace grid
