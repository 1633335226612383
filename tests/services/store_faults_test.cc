// Faults answered, through a real in-process gRPC server whose store sits on
// the fault file system (storage/fault_file_system.h): a failed fsync or
// write acknowledges nothing and turns the server read-only (UNAVAILABLE
// STORE_FAILED, then STORE_READ_ONLY; health NOT_SERVING for CaseIntake and
// CaseWork), reads go on; a failed commit (I/O error or full disk) waits for
// a restart, a flush that found the disk full recovers by itself when space
// returns, a failed background flush for any other reason waits for a restart.
// And a real disk: on a small tmpfs (where mounting is allowed), intake stops
// with DISK_LOW before RocksDB meets the full disk, and resumes when space is
// freed.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include "engine/case_id.h"
#include "port/mutex.h"
#include "storage/fault_file_system.h"
#include "tests/support/grpc_client.h"
#include "tests/support/health_check.h"
#include "tests/support/http_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/store_verified.h"
#include "tests/support/submit_request.h"
#include "tests/support/work_client.h"

namespace grid::services {
namespace {

using storage::FaultFileSystem;
using testing::CallResult;
using testing::Health;

constexpr int kServing = 1, kNotServing = 2;

class StoreFaultsTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    config_.file_system = fs_;
    config_.side_files = &side_files_;
    config_.store_resume_interval = std::chrono::milliseconds(20);
    config_.http.listen = "127.0.0.1:0";  // /readyz follows the write state
    StartServer();
  }

  CallResult Submit(const std::string& key, grid::v1::SubmitCaseResponse* resp) {
    return testing::Submit(*clients_->intake, testing::Submission().Key(key).Build(), resp);
  }

  // The health of both write services and of the server as a whole.
  void ExpectHealth(int write_services) {
    EXPECT_EQ(Health(clients_->channel, "grid.v1.CaseIntake"), write_services);
    EXPECT_EQ(Health(clients_->channel, "grid.v1.CaseWork"), write_services);
    EXPECT_EQ(Health(clients_->channel, ""), kServing);  // reads go on
    EXPECT_EQ(Health(clients_->channel, "grid.v1.CaseQuery"), kServing);
  }

  // Reads still answer: the case, and a page of the subtree.
  void ExpectReadsAnswer(const std::string& id) {
    grid::v1::GetCaseResponse got;
    CallResult r = testing::GetCase(*clients_->query, id, &got);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(got.case_().id(), id);
  }

  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
  storage::PosixFiles posix_;
  storage::FaultFiles side_files_{&posix_, fs_.get()};
};

TEST_F(StoreFaultsTest, AFailedFsyncAcknowledgesNothingAndStopsIntakeUntilARestart) {
  grid::v1::SubmitCaseResponse first, resp;
  ASSERT_TRUE(Submit("k1", &first).status.ok());
  ExpectHealth(kServing);
  EXPECT_EQ(testing::HttpCall(server_->http_port(), "GET", "/readyz").status, 200);

  fs_->FailNth(FaultFileSystem::Op::kSync, 1, FaultFileSystem::Kind::kIOError);
  CallResult r = Submit("k2", &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(r.reason, "STORE_FAILED");
  ASSERT_TRUE(server_->WaitWritable(false, std::chrono::seconds(10)));
  ExpectHealth(kNotServing);
  EXPECT_EQ(testing::HttpCall(server_->http_port(), "GET", "/readyz").status, 503);
  EXPECT_EQ(testing::HttpCall(server_->http_port(), "GET", "/healthz").status, 200);

  // Intake stops: a new case, a retry, a case-work command; reads go on.
  r = Submit("k3", &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(r.reason, "STORE_READ_ONLY");
  grid::v1::AcceptRequest accept;
  accept.set_case_id(first.case_().id());
  accept.set_expected_version(first.case_().version());
  grid::v1::CaseWorkResponse work;
  r = testing::Work(*work_, &grid::v1::CaseWork::Stub::Accept, accept, &work, "", "M3");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(r.reason, "STORE_READ_ONLY");
  ExpectReadsAnswer(first.case_().id());
  // The acknowledged submission's retry is a read: it still answers.
  grid::v1::SubmitCaseResponse again;
  ASSERT_TRUE(Submit("k1", &again).status.ok());
  EXPECT_EQ(again.case_().id(), first.case_().id());

  // The disk works again, but an I/O error is not trusted away: a restart.
  fs_->StopFailing();
  const Status resumed = server_->store()->Resume();
  EXPECT_EQ(resumed.reason(), "STORE_READ_ONLY") << resumed.ToString();
  EXPECT_FALSE(server_->writable());
  StopServer();
  StartServer();
  ExpectHealth(kServing);
  ExpectReadsAnswer(first.case_().id());
  ASSERT_TRUE(Submit("k3", &resp).status.ok());
  r = testing::Work(*work_, &grid::v1::CaseWork::Stub::Accept, accept, &work, "", "M3");
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  // k2 was never acknowledged: after the restart it is stored whole or not at all.
  grid::v1::SubmitCaseResponse k2;
  ASSERT_TRUE(Submit("k2", &k2).status.ok());
  grid::v1::GetCaseResponse got;
  ASSERT_TRUE(testing::GetCase(*clients_->query, k2.case_().id(), &got).status.ok());
  EXPECT_EQ(got.events_size(), 2);
}

// A full disk under a commit: the batch may be in the WAL, so the store
// waits for a restart even when space returns (docs/operations.md).
TEST_F(StoreFaultsTest, ADiskFullUnderACommitRefusesIntakeUntilARestart) {
  grid::v1::SubmitCaseResponse first, resp;
  ASSERT_TRUE(Submit("k1", &first).status.ok());

  fs_->FailAll(FaultFileSystem::Op::kWrite, FaultFileSystem::Kind::kNoSpace);
  CallResult r = Submit("k2", &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(r.reason, "STORE_FAILED");
  ASSERT_TRUE(server_->WaitWritable(false, std::chrono::seconds(10)));
  ExpectHealth(kNotServing);
  r = Submit("k3", &resp);
  EXPECT_EQ(r.reason, "STORE_READ_ONLY") << r.status.error_message();
  ExpectReadsAnswer(first.case_().id());

  fs_->StopFailing();  // space returns: still no writes before a restart
  const Status resumed = server_->store()->Resume();
  EXPECT_EQ(resumed.reason(), "STORE_READ_ONLY") << resumed.ToString();
  EXPECT_FALSE(server_->writable());
  r = Submit("k3", &resp);
  EXPECT_EQ(r.reason, "STORE_READ_ONLY") << r.status.error_message();

  StopServer();
  StartServer();
  ExpectHealth(kServing);
  grid::v1::SubmitCaseResponse k2, k3;
  ASSERT_TRUE(Submit("k2", &k2).status.ok());
  ASSERT_TRUE(Submit("k3", &k3).status.ok());
  EXPECT_NE(k2.case_().id(), k3.case_().id());
  for (const auto* c : {&first, &k2, &k3}) {
    grid::v1::GetCaseResponse got;
    ASSERT_TRUE(testing::GetCase(*clients_->query, c->case_().id(), &got).status.ok());
    EXPECT_EQ(got.case_().SerializeAsString(), c->case_().SerializeAsString());
    EXPECT_EQ(got.events_size(), 2);
  }
}

// A full disk under a flush: nothing was half-written, so the server takes
// writes again by itself once space returns.
TEST_F(StoreFaultsTest, ADiskFullUnderAFlushResumesWhenSpaceReturns) {
  grid::v1::SubmitCaseResponse first, resp;
  ASSERT_TRUE(Submit("k1", &first).status.ok());

  fs_->FailAll(FaultFileSystem::Op::kWrite, FaultFileSystem::Kind::kNoSpace);
  EXPECT_FALSE(server_->store()->Flush().ok());
  ASSERT_TRUE(server_->WaitWritable(false, std::chrono::seconds(10)));
  ExpectHealth(kNotServing);
  CallResult r = Submit("k2", &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(r.reason, "STORE_READ_ONLY") << r.status.error_message();
  ExpectReadsAnswer(first.case_().id());
  EXPECT_FALSE(server_->store()->Resume().ok());  // still full
  EXPECT_FALSE(server_->writable());

  fs_->StopFailing();  // space returns
  ASSERT_TRUE(server_->WaitWritable(true, std::chrono::seconds(20)));
  ExpectHealth(kServing);
  grid::v1::SubmitCaseResponse k2, k3;
  ASSERT_TRUE(Submit("k2", &k2).status.ok());
  ASSERT_TRUE(Submit("k3", &k3).status.ok());

  // Everything acknowledged is there after a restart, whole.
  StopServer();
  StartServer();
  for (const auto* c : {&first, &k2, &k3}) {
    grid::v1::GetCaseResponse got;
    ASSERT_TRUE(testing::GetCase(*clients_->query, c->case_().id(), &got).status.ok());
    EXPECT_EQ(got.case_().SerializeAsString(), c->case_().SerializeAsString());
    EXPECT_EQ(got.events_size(), 2);
  }
}

TEST_F(StoreFaultsTest, AFailedBackgroundFlushTurnsTheServerReadOnly) {
  grid::v1::SubmitCaseResponse first, resp;
  ASSERT_TRUE(Submit("k1", &first).status.ok());
  // The flush writes a table file; every write fails as with a broken disk.
  fs_->FailAll(FaultFileSystem::Op::kWrite, FaultFileSystem::Kind::kIOError);
  EXPECT_FALSE(server_->store()->Flush().ok());
  ASSERT_TRUE(server_->WaitWritable(false, std::chrono::seconds(10)));
  ExpectHealth(kNotServing);
  fs_->StopFailing();
  CallResult r = Submit("k2", &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(r.reason, "STORE_READ_ONLY");
  ExpectReadsAnswer(first.case_().id());
  StopServer();
  StartServer();
  ExpectHealth(kServing);
  ASSERT_TRUE(Submit("k2", &resp).status.ok());
  ExpectReadsAnswer(first.case_().id());
}

// Power lost while gridd writes its side files (grid-index.bin,
// unit-table.bin) at start: the next start finds each whole or rebuilds it,
// and routes as before.
TEST(SideFilesPowerLoss, TheNextStartLoadsThemWholeOrRebuildsThem) {
  FakeClock clock(testing::kStart);
  // A store with its directory and no side files, so that the next start
  // writes them.
  auto prepare = [&](const testing::TempDir& tmp) {
    ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.data_dir = tmp.Sub("data");
    {
      auto first = GridServer::Start(config, &clock, testing::TinyDirectory());
      EXPECT_TRUE(first.ok()) << first.status().ToString();
    }
    std::filesystem::remove(config.data_dir + "/" + kGridIndexFile);
    std::filesystem::remove(config.data_dir + "/" + kUnitTableFile);
    return config;
  };
  // A start over the fault file system with the power cut after `cut`
  // operations; the operations the whole start took.
  auto start_with_cut = [&](const ServerConfig& config, std::optional<uint64_t> cut) -> uint64_t {
    auto fs = std::make_shared<FaultFileSystem>();
    storage::PosixFiles posix;
    storage::FaultFiles files(&posix, fs.get());
    ServerConfig faulty = config;
    faulty.file_system = fs;
    faulty.side_files = &files;
    if (cut) fs->CutPowerAfter(*cut);
    uint64_t used = 0;
    {
      auto s = GridServer::Start(faulty, &clock, testing::TinyDirectory());
      used = fs->operations();
      (void)s;  // may or may not start: the power went during it
    }
    fs->CutPowerAfter(0);
    const auto restored = fs->RestoreAfterPowerLoss();
    EXPECT_TRUE(restored.ok()) << restored.ToString();
    return used;
  };
  uint64_t whole = 0;
  {
    testing::TempDir tmp;
    whole = start_with_cut(prepare(tmp), std::nullopt);
  }
  ASSERT_GT(whole, 10u);
  size_t loaded = 0, rebuilt = 0;
  constexpr uint64_t kPoints = 16;
  for (uint64_t k = 0; k <= kPoints; ++k) {
    const uint64_t cut = whole * k / kPoints;
    SCOPED_TRACE("power cut after " + std::to_string(cut) + " of " + std::to_string(whole) + " operations");
    testing::TempDir tmp;
    const ServerConfig config = prepare(tmp);
    start_with_cut(config, cut);
    auto s = GridServer::Start(config, &clock, testing::TinyDirectory());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto report = (*s)->index_report();
    (report.origin == IndexOrigin::kLoaded ? loaded : rebuilt) += 1;
    testing::Clients clients("127.0.0.1:" + std::to_string((*s)->port()));
    grid::v1::SubmitCaseResponse resp;
    CallResult r = testing::Submit(*clients.intake, testing::Submission().Build(), &resp);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(resp.case_().routing().unit_code(), "100001001002");
  }
  // The power went before the side files were durable, and after.
  EXPECT_GT(loaded, 0u);
  EXPECT_GT(rebuilt, 0u);
}

// A real full disk: the data directory on a 16 MiB tmpfs, gridd keeping 4 MiB
// free. A ballast file then fills the tmpfs to the last byte: every write is
// refused with DISK_LOW before it reaches RocksDB (which, on Debian's 7.8,
// could otherwise abort on a full log, docs/operations.md), reads and a Watch
// stream go on, and once the ballast is gone intake resumes by itself, with
// no restart and nothing half-written.
TEST(RealDiskFull, WritesStopBeforeTheDiskIsFullAndResumeWhenSpaceReturns) {
  testing::TempDir tmp;
  const std::string mnt = tmp.Sub("tmpfs");
  std::filesystem::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); the fault-file-system disk-full tests cover the store's side";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  FakeClock clock(testing::kStart);
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = mnt + "/data";
  config.min_free_bytes = 4 << 20;
  config.max_log_bytes = 1 << 20;  // small memtables and log preallocations on a small disk
  config.store_resume_interval = std::chrono::milliseconds(20);
  auto started = GridServer::Start(config, &clock, testing::TinyDirectory());
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto server = std::move(started).value();
  testing::Clients clients("127.0.0.1:" + std::to_string(server->port()));
  auto work = grid::v1::CaseWork::NewStub(clients.channel);
  grid::v1::SubmitCaseResponse first;
  CallResult r = testing::Submit(*clients.intake, testing::Submission().Key("before").Build(), &first);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();

  // A town office watching every change, the whole time.
  grpc::ClientContext watch_ctx;
  grid::v1::WatchRequest watch_req;
  watch_req.set_all_changes(true);
  watch_req.set_from_latest(true);
  auto reader = grid::v1::EscalationFeed::NewStub(clients.channel)->Watch(&watch_ctx, watch_req);
  std::atomic<bool> stream_ended{false};
  Mutex seen_mu;
  CondVar seen_cv;
  std::vector<std::string> submitted_seen;  // case ids, guarded by seen_mu
  std::thread watcher([&] {
    grid::v1::WatchResponse resp;
    while (reader->Read(&resp)) {
      MutexLock lock(&seen_mu);
      for (const auto& e : resp.entries()) {
        if (e.event().type() == grid::v1::EVENT_TYPE_SUBMITTED) submitted_seen.push_back(e.event().case_id());
      }
      seen_cv.SignalAll();
    }
    stream_ended = true;
  });

  // The ballast fills the tmpfs to the last byte.
  const std::string ballast = mnt + "/ballast";
  {
    std::ofstream out(ballast, std::ios::binary);
    const std::string mb(1 << 16, 'x');
    while (out.write(mb.data(), static_cast<std::streamsize>(mb.size()))) {
    }
  }
  struct statvfs st {};
  ASSERT_EQ(::statvfs(mnt.c_str(), &st), 0);
  ASSERT_LT(static_cast<uint64_t>(st.f_bavail) * st.f_frsize, 64u << 10) << "the tmpfs is not full";

  // Writes are refused before they are written: a new case, case work.
  grid::v1::SubmitCaseResponse resp;
  r = testing::Submit(*clients.intake, testing::Submission().Key("during").Build(), &resp);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(r.reason, "DISK_LOW") << r.status.error_message();
  grid::v1::AcceptRequest accept;
  accept.set_case_id(first.case_().id());
  grid::v1::CaseWorkResponse worked;
  r = testing::Work(*work, &grid::v1::CaseWork::Stub::Accept, accept, &worked, "", "M3");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(r.reason, "DISK_LOW");
  ASSERT_TRUE(server->WaitWritable(false, std::chrono::seconds(10)));
  EXPECT_EQ(Health(clients.channel, "grid.v1.CaseIntake"), kNotServing);
  EXPECT_EQ(Health(clients.channel, ""), kServing);
  // Reads go on: the case, and the retry of an acknowledged submission.
  grid::v1::GetCaseResponse got;
  r = testing::GetCase(*clients.query, first.case_().id(), &got);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(got.case_().version(), first.case_().version());  // the refused accept left nothing
  grid::v1::SubmitCaseResponse again;
  r = testing::Submit(*clients.intake, testing::Submission().Key("before").Build(), &again);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(again.case_().id(), first.case_().id());

  // Space returns: writes resume by themselves, no restart.
  std::filesystem::remove(ballast);
  ASSERT_TRUE(server->WaitWritable(true, std::chrono::seconds(10)));
  EXPECT_EQ(Health(clients.channel, "grid.v1.CaseIntake"), kServing);
  r = testing::Submit(*clients.intake, testing::Submission().Key("during").Build(), &resp);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  grid::v1::SubmitCaseResponse retried;
  r = testing::Submit(*clients.intake, testing::Submission().Key("during").Build(), &retried);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(retried.case_().id(), resp.case_().id());  // one case for the key
  r = testing::Work(*work, &grid::v1::CaseWork::Stub::Accept, accept, &worked, "", "M3");
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();

  // The stream stayed open through it all and saw the new case, once.
  {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    MutexLock lock(&seen_mu);
    while (std::count(submitted_seen.begin(), submitted_seen.end(), resp.case_().id()) == 0) {
      if (seen_cv.WaitUntil(&seen_mu, until) == std::cv_status::timeout) break;
    }
    EXPECT_EQ(std::count(submitted_seen.begin(), submitted_seen.end(), resp.case_().id()), 1);
  }
  EXPECT_FALSE(stream_ended.load());
  watch_ctx.TryCancel();
  watcher.join();
  server.reset();
  // Nothing half-written: the store verifies clean.
  EXPECT_TRUE(testing::StoreVerifiesClean(config.data_dir));
}

}  // namespace
}  // namespace grid::services
