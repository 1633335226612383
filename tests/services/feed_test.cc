// EscalationFeed.Watch through a real in-process gRPC server on port 0, a
// real RocksDB in a temp dir and real clients. Time is a FakeClock; tests wait
// on conditions (stream reads with deadlines), never for time to pass.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "services/server.h"
#include "storage/keys.h"
#include "tests/support/grpc_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_directory.h"
#include "tests/support/watch_stream.h"

namespace grid::services {
namespace {

namespace v1 = grid::v1;

constexpr Micros kDay = 24LL * 3600 * 1'000'000;

// The tiny directory plus a second town: 100002 → 100002001 → 100002001001.
v1::DirectoryContent TwoTowns() {
  v1::DirectoryContent c = testing::TinyDirectory();
  struct Row {
    const char* code;
    v1::UnitLevel level;
    const char* name;
    const char* parent;
  };
  for (const Row& r : {Row{"100002", v1::UNIT_LEVEL_TOWN, "第二镇", "100"},
                       Row{"100002001", v1::UNIT_LEVEL_COMMUNITY, "第二社区", "100002"},
                       Row{"100002001001", v1::UNIT_LEVEL_GRID, "二镇第1网格", "100002001"}}) {
    auto* u = testing::AddUnit(&c, r.code, r.level, r.name, r.parent);
    if (r.level == v1::UNIT_LEVEL_GRID) testing::AddSquare(u, 110.05, 20.00, 110.06, 20.01);
  }
  return c;
}

const char* kTokens =
    "admin-token-0000001 admin * root\n"
    "town1-office-token1 town_office 100001 town1-office\n"
    "town2-office-token1 town_office 100002 town2-office\n";

bool Contains(const v1::FeedEntry& e, const std::string& unit) {
  for (const auto& u : e.unit_path()) {
    if (u == unit) return true;
  }
  return false;
}

using Stream = testing::WatchStream;

v1::WatchRequest Request(const std::string& scope, uint64_t from, bool all) {
  v1::WatchRequest r;
  r.set_scope_unit_code(scope);
  r.set_from_cursor(from);
  r.set_all_changes(all);
  return r;
}

class FeedTest : public testing::ServerFixture {
 protected:
  FeedTest() { directory_ = TwoTowns(); }
  void SetUp() override { std::ofstream(tmp_.Sub("tokens")) << kTokens; }
  void StartServer() { ServerFixture::StartServer(tmp_.Sub("tokens")); }

  // Submits a case in town 1 or town 2; its id.
  std::string Submit(int town) {
    v1::SubmitCaseResponse resp;
    auto r = testing::Submit(*clients_->intake,
                             testing::Submission().NoCitizen().At(20.005, town == 1 ? 110.005 : 110.055).Build(), &resp,
                             "admin-token-0000001");
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    return resp.case_().id();
  }
  // Manual escalation; false when the case is already at the top.
  bool Escalate(const std::string& id) {
    v1::EscalateRequest r;
    r.set_case_id(id);
    r.set_note("吹哨: 需要上级协调");
    v1::CaseWorkResponse resp;
    auto ctx = testing::Context("admin-token-0000001");
    grpc::Status st = work_->Escalate(ctx.get(), r, &resp);
    EXPECT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
    return st.ok();
  }

  // What storage holds for a subscription: the expected stream.
  std::vector<v1::FeedEntry> Expected(const std::string& scope, bool all, uint64_t after = 0) {
    auto entries = server_->store()->ReadFeed(after, 1u << 30);
    EXPECT_TRUE(entries.ok());
    std::vector<v1::FeedEntry> out;
    for (auto& e : *entries) {
      if ((all || e.escalation()) && (scope.empty() || Contains(e, scope))) out.push_back(std::move(e));
    }
    return out;
  }
  uint64_t LastCursor() { return *server_->store()->LastFeedCursor(); }
  // The cursor of the last stored entry a subscription gets: where its
  // stream ends without waiting for a heartbeat.
  uint64_t LastCursorOf(const std::string& scope, bool all, uint64_t after = 0) {
    const auto entries = Expected(scope, all, after);
    EXPECT_FALSE(entries.empty()) << scope;
    return entries.empty() ? after : entries.back().cursor();
  }
  // Waits until the hub has published everything stored (a call's answer
  // can come just before its feed entries reach the hub).
  void WaitPublished() {
    const uint64_t last = LastCursor();
    ASSERT_TRUE(server_->feed()->WaitDelivered(last, std::chrono::seconds(30))) << server_->feed()->delivered();
  }

  static std::vector<uint64_t> Cursors(const std::vector<v1::FeedEntry>& entries) {
    std::vector<uint64_t> out;
    for (const auto& e : entries) out.push_back(e.cursor());
    return out;
  }
};

TEST_F(FeedTest, ReplaysFromACursorThenGoesLiveWithNoGapAndNoDuplicate) {
  StartServer();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(Submit(1));
  Escalate(ids[0]);
  const uint64_t from = 3;  // mid-way through the stored feed
  Stream s(clients_->channel, "admin-token-0000001", Request("100001", from, true));
  std::vector<v1::FeedEntry> got;
  v1::WatchResponse r;
  // The replay ends with a caught-up marker at the last stored cursor.
  while (true) {
    ASSERT_TRUE(s.Read(&r));
    for (const auto& e : r.entries()) got.push_back(e);
    if (r.caught_up()) break;
  }
  EXPECT_GE(r.cursor(), from);
  EXPECT_LE(r.cursor(), LastCursor());
  // Live from here on.
  Escalate(ids[1]);
  ids.push_back(Submit(1));
  Escalate(ids[0]);
  ASSERT_TRUE(s.ReadUntil(LastCursor(), &got));
  EXPECT_EQ(Cursors(got), Cursors(Expected("100001", true, from)));
  EXPECT_EQ(got.front().cursor(), from + 1);
  s.Cancel();
}

TEST_F(FeedTest, ATownOfficeSeesOnlyItsTownsEscalations) {
  StartServer();
  const std::string a = Submit(1), b = Submit(2);
  Escalate(a);
  Escalate(b);
  Escalate(b);
  WaitPublished();
  // No scope named: the caller's own scope; escalations only.
  Stream s(clients_->channel, "town1-office-token1", Request("", 0, false));
  std::vector<v1::FeedEntry> got;
  ASSERT_TRUE(s.ReadUntil(LastCursor(), &got));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event().case_id(), a);
  EXPECT_EQ(got[0].event().type(), v1::EVENT_TYPE_ESCALATED);
  EXPECT_TRUE(Contains(got[0], "100001"));
  s.Cancel();

  // Another town's scope, or the county above it: OUT_OF_SCOPE.
  for (const char* scope : {"100002", "100"}) {
    Stream denied(clients_->channel, "town1-office-token1", Request(scope, 0, false));
    v1::WatchResponse r;
    EXPECT_FALSE(denied.Read(&r));
    EXPECT_EQ(denied.Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED) << scope;
    EXPECT_EQ(denied.Trailer("grid-reason"), "OUT_OF_SCOPE");
  }
  Stream unknown(clients_->channel, "admin-token-0000001", Request("999999", 0, false));
  v1::WatchResponse r;
  EXPECT_FALSE(unknown.Read(&r));
  EXPECT_EQ(unknown.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(unknown.Trailer("grid-reason"), "UNKNOWN_UNIT");
  Stream anonymous(clients_->channel, "", Request("100001", 0, false));
  EXPECT_FALSE(anonymous.Read(&r));
  EXPECT_EQ(anonymous.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // The C++ client sends invalid UTF-8 in a string (with a logged warning).
  Stream garbled(clients_->channel, "admin-token-0000001", Request("10000\xFF", 0, false));
  EXPECT_FALSE(garbled.Read(&r));
  EXPECT_EQ(garbled.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(garbled.Trailer("grid-reason"), "INVALID_UTF8");
}

// A stored entry that is not a FeedEntry ends a replay with DATA_LOSS after
// everything before it was sent, instead of being skipped or sent as it is.
TEST_F(FeedTest, ACorruptStoredEntryEndsTheReplayWithDataLoss) {
  StartServer();
  Escalate(Submit(1));
  WaitPublished();
  const uint64_t last = LastCursor();
  StopServer();
  // The store recovers its own log first (its merge operands need the
  // store's merge operator), then the raw edit.
  {
    auto store = storage::Store::Open(storage::StoreOptions{tmp_.Sub("data"), false});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Flush().ok());
  }
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), tmp_.Sub("data"), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), tmp_.Sub("data"), cfs, &handles, &db).ok());
    auto feed = std::find(names.begin(), names.end(), "feed");
    ASSERT_NE(feed, names.end());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[feed - names.begin()], storage::FeedKey(last + 1),
                        std::string("\x1a\x40short", 7))
                    .ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  StartServer();
  Stream s(clients_->channel, "admin-token-0000001", Request("", 0, true));
  std::vector<v1::FeedEntry> got;
  EXPECT_FALSE(s.ReadUntil(last + 1, &got));
  ASSERT_FALSE(got.empty()) << s.Finish().error_message();
  EXPECT_EQ(Cursors(got).back(), last);
  EXPECT_EQ(got.size(), last);
  EXPECT_EQ(s.Finish().error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(s.Trailer("grid-reason"), "CORRUPT_RECORD");
}

// A narrow scope where nothing happens still advances its cursor through
// heartbeats, so a reconnect does not rescan what it already passed.
TEST_F(FeedTest, HeartbeatsAdvanceTheCursorOfAQuietScope) {
  config_.feed.heartbeat_interval = std::chrono::milliseconds(0);  // the test sends them
  StartServer();
  Stream s(clients_->channel, "town2-office-token1", Request("", 0, false));
  v1::WatchResponse r;
  ASSERT_TRUE(s.Read(&r));
  EXPECT_TRUE(r.caught_up());
  const std::string a = Submit(1);
  Escalate(a);
  WaitPublished();
  server_->feed()->HeartbeatNow();
  ASSERT_TRUE(s.Read(&r));
  EXPECT_EQ(r.entries_size(), 0);
  EXPECT_EQ(r.cursor(), LastCursor());
  s.Cancel();
}

// The hub's own heartbeats and trims run in the injected clock's time: with a
// FakeClock nothing is sent until the test moves the clock, then at once.
TEST_F(FeedTest, PeriodicHousekeepingFollowsTheInjectedClock) {
  config_.feed.heartbeat_interval = std::chrono::milliseconds(1000);
  config_.feed.retention = 7 * kDay;
  StartServer();
  Stream s(clients_->channel, "town2-office-token1", Request("", 0, false));
  v1::WatchResponse r;
  ASSERT_TRUE(s.Read(&r));
  EXPECT_TRUE(r.caught_up());
  Escalate(Submit(1));  // town 1: nothing for this stream
  WaitPublished();
  server_->feed()->HeartbeatNow(/*only_if_idle=*/true);  // skipped (it just sent "caught up"): idle from now
  clock_.Advance(8 * kDay);  // past a heartbeat interval, the trim interval and the retention
  ASSERT_TRUE(s.Read(&r));   // the heartbeat the move made due
  EXPECT_EQ(r.entries_size(), 0);
  EXPECT_EQ(r.cursor(), LastCursor());
  s.Cancel();
  // The hub trims before it sends heartbeats: the old entries are gone.
  Stream old(clients_->channel, "admin-token-0000001", Request("", 1, false));
  EXPECT_FALSE(old.Read(&r));
  EXPECT_EQ(old.Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

// A case transferred from one town to another is a change for both: the town
// it left sees the transfer too (and nothing after it).
TEST_F(FeedTest, ATransferIsSeenByTheTownTheCaseLeftAndTheOneItJoined) {
  StartServer();
  const std::string a = Submit(1);
  v1::TransferRequest t;
  t.set_case_id(a);
  t.set_unit_code("100002001001");
  t.set_note("属地错误，转第二镇");
  v1::CaseWorkResponse resp;
  auto ctx = testing::Context("admin-token-0000001");
  ASSERT_TRUE(work_->Transfer(ctx.get(), t, &resp).ok());
  const uint64_t transferred = LastCursor();
  WaitPublished();
  auto types = [&](const std::string& token) {
    Stream s(clients_->channel, token, Request("", 0, true));
    std::vector<v1::FeedEntry> got;
    EXPECT_TRUE(s.ReadUntil(LastCursor(), &got));
    s.Cancel();
    std::vector<std::pair<uint64_t, v1::EventType>> out;
    for (const auto& e : got) out.emplace_back(e.cursor(), e.event().type());
    return out;
  };
  const auto town1 = types("town1-office-token1");
  const auto town2 = types("town2-office-token1");
  ASSERT_FALSE(town1.empty());
  EXPECT_EQ(town1.back(), std::make_pair(transferred, v1::EVENT_TYPE_TRANSFERRED));
  ASSERT_EQ(town2.size(), 1u);  // only from the transfer on
  EXPECT_EQ(town2.back(), std::make_pair(transferred, v1::EVENT_TYPE_TRANSFERRED));
  // Both replay (storage) and live (the hub) agree with the stored path.
  auto stored = server_->store()->ReadFeed(transferred - 1, 1);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_TRUE(Contains((*stored)[0], "100001"));
  EXPECT_TRUE(Contains((*stored)[0], "100002"));
}

// The periodic heartbeat goes only to subscribers that sent nothing since the
// last one: a busy subscriber's cursor is recent already.
TEST_F(FeedTest, PeriodicHeartbeatsSkipSubscribersThatJustSentSomething) {
  config_.feed.heartbeat_interval = std::chrono::milliseconds(0);  // the test sends them
  StartServer();
  Stream busy(clients_->channel, "town1-office-token1", Request("", 0, false));
  Stream quiet(clients_->channel, "town2-office-token1", Request("", 0, false));
  v1::WatchResponse r;
  ASSERT_TRUE(busy.Read(&r));
  ASSERT_TRUE(r.caught_up());
  ASSERT_TRUE(quiet.Read(&r));
  ASSERT_TRUE(r.caught_up());
  server_->feed()->HeartbeatNow(/*only_if_idle=*/true);  // both just sent "caught up": none
  const std::string a = Submit(1);
  Escalate(a);
  WaitPublished();
  ASSERT_TRUE(busy.Read(&r));
  ASSERT_EQ(r.entries_size(), 1);
  server_->feed()->HeartbeatNow(/*only_if_idle=*/true);  // the quiet one only
  ASSERT_TRUE(quiet.Read(&r));
  EXPECT_EQ(r.entries_size(), 0);
  EXPECT_EQ(r.cursor(), LastCursor());
  server_->feed()->HeartbeatNow(/*only_if_idle=*/true);  // both idle now
  Escalate(a);
  WaitPublished();
  // The busy one got exactly one heartbeat (the last), then the escalation.
  ASSERT_TRUE(busy.Read(&r));
  EXPECT_EQ(r.entries_size(), 0);
  ASSERT_TRUE(busy.Read(&r));
  ASSERT_EQ(r.entries_size(), 1);
  EXPECT_EQ(r.entries(0).event().case_id(), a);
  ASSERT_TRUE(quiet.Read(&r));  // and the quiet one its second
  EXPECT_EQ(r.entries_size(), 0);
  busy.Cancel();
  quiet.Cancel();
}

// Subscribers that connect while intake runs, each from its own cursor, get
// exactly what storage holds: the storage/live handoff has no gap and no
// duplicate.
TEST_F(FeedTest, SubscribersJoiningDuringIntakeGetEveryEntryOnce) {
  config_.sync = false;
  config_.feed.subscriber_buffer = 64;
  StartServer();
  std::atomic<bool> stop{false};
  std::atomic<int> submitted{0};
  std::thread writer([&] {
    while (!stop.load() && submitted.load() < 3000) {
      std::string id = Submit(submitted.load() % 2 + 1);
      const bool escalate = submitted.load() % 3 == 0;
      if (escalate) Escalate(id);
      submitted.fetch_add(1);
      submitted.notify_all();
    }
  });
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<uint64_t> froms;
  std::vector<std::string> scopes;
  for (int i = 0; i < 6; ++i) {
    // Join at different moments: wait until intake has moved on a little.
    const int seen = submitted.load();
    for (int n = seen; n < seen + 20 && n < 3000; n = submitted.load()) submitted.wait(n);
    const uint64_t from = i % 2 == 0 ? 0 : LastCursor() / 2;
    scopes.push_back(i % 3 == 0 ? "" : i % 3 == 1 ? "100001" : "100002001001");
    froms.push_back(from);
    streams.push_back(
        std::make_unique<Stream>(clients_->channel, "admin-token-0000001", Request(scopes.back(), from, true)));
  }
  stop = true;
  writer.join();
  for (size_t i = 0; i < streams.size(); ++i) {
    std::vector<v1::FeedEntry> got;
    // Up to the scope's own last entry: a narrow scope's cursor would reach
    // the global end only with a heartbeat.
    ASSERT_TRUE(streams[i]->ReadUntil(LastCursorOf(scopes[i], true, froms[i]), &got)) << i;
    EXPECT_EQ(Cursors(got), Cursors(Expected(scopes[i], true, froms[i]))) << "stream " << i;
    streams[i]->Cancel();
  }
}

// A commit that kicks many subscribers is split between the dispatch
// threads (FeedOptions::dispatch_chunk): every part must reach its
// subscribers, each exactly once and in order.
TEST_F(FeedTest, ACommitKickingManySubscribersIsSplitAndReachesEveryOne) {
  config_.sync = false;
  config_.feed.dispatch_threads = 3;
  config_.feed.dispatch_chunk = 4;
  config_.feed.heartbeat_interval = std::chrono::milliseconds(0);
  config_.auth_limits.max_watch_streams = 0;  // 40 streams of one token
  StartServer();
  const uint64_t from = LastCursor();
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 40; ++i) {
    streams.push_back(std::make_unique<Stream>(clients_->channel, "admin-token-0000001", Request("", from, true),
                                               std::chrono::seconds(30)));
  }
  ASSERT_TRUE(server_->feed()->WaitSubscribers(streams.size(), std::chrono::seconds(30)));
  ASSERT_EQ(server_->feed()->stats().subscribers, streams.size());
  for (int i = 0; i < 30; ++i) Escalate(Submit(i % 2 + 1));
  WaitPublished();
  const uint64_t last = LastCursor();
  const auto want = Cursors(Expected("", true, from));
  ASSERT_GT(want.size(), 60u);
  for (size_t i = 0; i < streams.size(); ++i) {
    std::vector<v1::FeedEntry> got;
    ASSERT_TRUE(streams[i]->ReadUntil(last, &got)) << "stream " << i;
    EXPECT_EQ(Cursors(got), want) << "stream " << i;
    streams[i]->Cancel();
  }
}

// A client that stops reading: the server's memory for it stays bounded,
// intake goes on, and once it reads again it gets everything exactly once
// (from storage).
TEST_F(FeedTest, AStalledSubscriberNeitherSlowsIntakeNorGrowsMemoryAndMissesNothing) {
  config_.sync = false;
  config_.feed.subscriber_buffer = 16;
  config_.feed.max_entries_per_message = 4;
  StartServer();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // keep the flow-control window small
  auto raw = grpc::CreateCustomChannel(target(), grpc::InsecureChannelCredentials(), args);
  Stream s(raw, "admin-token-0000001", Request("", 0, true), std::chrono::seconds(120));
  v1::WatchResponse r;
  ASSERT_TRUE(s.Read(&r));  // connected and caught up; now it stops reading
  ASSERT_TRUE(r.caught_up());

  int cases = 0;
  for (int round = 0; round < 100 && server_->feed()->stats().overflows < 2; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 25; ++i) Submit(1);  // each asserts that the call succeeded
      });
    }
    for (auto& t : threads) t.join();
    cases += 100;
    EXPECT_LE(server_->feed()->stats().max_buffered, 16u);
  }
  const FeedStats stats = server_->feed()->stats();
  EXPECT_GE(stats.overflows, 1u) << "the subscriber never fell behind";
  EXPECT_LE(stats.max_buffered, 16u);
  EXPECT_LE(stats.buffered, 16u);

  // Reading again: everything, once, in order.
  std::vector<v1::FeedEntry> got;
  for (const auto& e : r.entries()) got.push_back(e);
  ASSERT_TRUE(s.ReadUntil(LastCursor(), &got));
  EXPECT_EQ(Cursors(got), Cursors(Expected("", true)));
  EXPECT_EQ(got.size(), static_cast<size_t>(2 * cases));  // SUBMITTED and ROUTED per case
  s.Cancel();
}

TEST_F(FeedTest, RetentionTrimsOldEntriesAndAnOlderCursorIsOutOfRange) {
  config_.feed.retention = 7 * kDay;
  config_.feed.trim_interval = std::chrono::milliseconds(0);  // the test trims
  StartServer();
  const std::string a = Submit(1);
  Escalate(a);
  const uint64_t old_last = LastCursor();
  clock_.Advance(8 * kDay);
  server_->FireDueDeadlines();  // what fell due meanwhile, at the new time
  Escalate(a);
  auto trimmed = server_->feed()->TrimNow();
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, old_last);
  EXPECT_EQ(*server_->store()->FirstFeedCursor(), old_last + 1);

  Stream old(clients_->channel, "admin-token-0000001", Request("100001", 1, false));
  v1::WatchResponse r;
  EXPECT_FALSE(old.Read(&r));
  grpc::Status st = old.Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(old.Trailer("grid-reason"), "FEED_CURSOR_TRIMMED");
  EXPECT_EQ(old.Trailer("grid-oldest-cursor"), std::to_string(old_last + 1));
  EXPECT_NE(st.error_message().find(std::to_string(old_last + 1)), std::string::npos);

  // From 0 means from the oldest kept; from just before it is fine too.
  for (uint64_t from : {uint64_t{0}, old_last}) {
    Stream ok(clients_->channel, "admin-token-0000001", Request("100001", from, false));
    std::vector<v1::FeedEntry> got;
    ASSERT_TRUE(ok.ReadUntil(LastCursor(), &got));
    EXPECT_FALSE(got.empty());
    EXPECT_EQ(Cursors(got), Cursors(Expected("100001", false, old_last)));
    ok.Cancel();
  }
  Stream ahead(clients_->channel, "admin-token-0000001", Request("100001", LastCursor() + 5, false));
  EXPECT_FALSE(ahead.Read(&r));
  EXPECT_EQ(ahead.Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(ahead.Trailer("grid-reason"), "FEED_CURSOR_AHEAD");

  // Everything old: the newest entry stays, so cursors are never reused.
  clock_.Advance(30 * kDay);
  ASSERT_TRUE(server_->feed()->TrimNow().ok());
  const uint64_t last = LastCursor();
  EXPECT_EQ(*server_->store()->FirstFeedCursor(), last);
  StopServer();
  StartServer();
  Escalate(a);
  auto kept = server_->store()->ReadFeed(0, 1000);
  ASSERT_TRUE(kept.ok());
  ASSERT_GE(kept->size(), 2u);
  EXPECT_EQ(kept->front().cursor(), last);
  EXPECT_EQ(kept->back().cursor(), last + kept->size() - 1);  // dense: nothing reused
}

TEST_F(FeedTest, ShutdownEndsAStreamResumablyWithItsCursor) {
  StartServer();
  Escalate(Submit(1));
  Stream s(clients_->channel, "admin-token-0000001", Request("", 0, false));
  std::vector<v1::FeedEntry> got;
  ASSERT_TRUE(s.ReadUntil(LastCursor(), &got));
  const uint64_t last = LastCursor();
  server_->Shutdown();
  v1::WatchResponse r;
  while (s.Read(&r)) {
  }
  EXPECT_EQ(s.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.Trailer("grid-reason"), "SERVER_STOPPING");
  EXPECT_EQ(s.Trailer("grid-cursor"), std::to_string(last));
}

// A town office's client, written like gridctl watch: reconnects from the
// last cursor it saw, with backoff, to whatever address the server has now.
class TownOfficeClient {
 public:
  TownOfficeClient(std::string token, uint64_t from) : token_(std::move(token)), cursor_(from) {}
  ~TownOfficeClient() { Kill(); }

  void Start(const std::string& target) {
    SetTarget(target);
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
  }
  void SetTarget(const std::string& target) {
    std::lock_guard<std::mutex> lock(mu_);
    target_ = target;
    cv_.notify_all();
  }
  // The process dies: its stream and channel go; only the cursor survives
  // (as in gridctl watch --cursor-file).
  void Kill() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      if (ctx_ != nullptr) ctx_->TryCancel();
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }
  // Waits until the client has seen everything up to `cursor`.
  bool WaitFor(uint64_t cursor) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return cursor_ >= cursor; });
  }
  std::vector<v1::FeedEntry> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  uint64_t cursor() {
    std::lock_guard<std::mutex> lock(mu_);
    return cursor_;
  }
  int connects() const { return connects_; }

 private:
  void Run() {
    int backoff_ms = 1;
    while (true) {
      std::string target;
      uint64_t from = 0;
      grpc::ClientContext ctx;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        target = target_;
        from = cursor_;
        ctx_ = &ctx;
      }
      auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
      auto stub = v1::EscalationFeed::NewStub(channel);
      ctx.AddMetadata("authorization", "Bearer " + token_);
      ++connects_;
      auto reader = stub->Watch(&ctx, Request("", from, false));
      v1::WatchResponse r;
      while (reader->Read(&r)) {
        backoff_ms = 1;
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& e : r.entries()) received_.push_back(e);
        cursor_ = r.cursor();
        cv_.notify_all();
      }
      grpc::Status st = reader->Finish();
      std::unique_lock<std::mutex> lock(mu_);
      ctx_ = nullptr;
      if (stop_) return;
      EXPECT_NE(st.error_code(), grpc::StatusCode::OUT_OF_RANGE) << st.error_message();
      EXPECT_NE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
      // Backoff before reconnecting; a new target or a kill wakes it early.
      const std::string was = target_;
      cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stop_ || target_ != was; });
      backoff_ms = std::min(backoff_ms * 2, 200);
    }
  }

  const std::string token_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string target_;                   // GUARDED_BY(mu_)
  uint64_t cursor_;                      // GUARDED_BY(mu_)
  std::vector<v1::FeedEntry> received_;  // GUARDED_BY(mu_)
  grpc::ClientContext* ctx_ = nullptr;   // GUARDED_BY(mu_)
  bool stop_ = false;                    // GUARDED_BY(mu_)
  std::atomic<int> connects_{0};
  std::thread thread_;
};

// Issue #5, done when: a town office client killed and restarted while the
// server restarts too and escalations keep coming (manual and fired by
// deadlines) ends with every escalation of its town exactly once and none of
// another town's.
TEST_F(FeedTest, TownOfficeClientSurvivesItsOwnAndTheServersRestartsWithEveryEscalationOnce) {
  config_.feed.retention = 0;  // 60 days pass: keep every entry to compare with
  StartServer();
  std::vector<std::string> town1, town2;
  for (int i = 0; i < 8; ++i) {
    town1.push_back(Submit(1));
    town2.push_back(Submit(2));
  }
  auto escalate_some = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      Escalate(town1[i]);
      Escalate(town2[i]);
    }
  };
  escalate_some(0, 3);

  TownOfficeClient client("town1-office-token1", 0);
  client.Start(target());
  escalate_some(3, 5);
  ASSERT_TRUE(client.WaitFor(LastCursorOf("100001", false)));

  // The client dies; escalations go on without it; the server restarts.
  client.Kill();
  escalate_some(5, 8);
  StopServer();
  StartServer();
  escalate_some(0, 4);
  client.Start(target());  // back, from the cursor it had
  // Deadlines fire on their own: automatic escalations.
  clock_.Advance(30 * kDay);
  server_->FireDueDeadlines();

  // The server restarts under the connected client, which keeps retrying
  // (against the old address, until it learns the new one).
  StopServer();
  StartServer();
  client.SetTarget(target());
  escalate_some(4, 8);
  clock_.Advance(30 * kDay);
  server_->FireDueDeadlines();
  ASSERT_TRUE(client.WaitFor(LastCursorOf("100001", false)));
  client.Kill();

  const auto got = client.received();
  const auto expected = Expected("100001", false);
  EXPECT_EQ(Cursors(got), Cursors(expected));
  std::set<std::pair<std::string, uint64_t>> seen;
  bool automatic = false;
  for (const auto& e : got) {
    EXPECT_TRUE(seen.emplace(e.event().case_id(), e.event().seq()).second) << "duplicate " << e.cursor();
    EXPECT_TRUE(Contains(e, "100001"));
    EXPECT_FALSE(Contains(e, "100002")) << "another town's escalation " << e.cursor();
    EXPECT_TRUE(e.escalation());
    automatic = automatic || e.event().automatic();
  }
  EXPECT_TRUE(automatic);
  EXPECT_GE(got.size(), 8u * 3);  // every town-1 case went up its chain
  EXPECT_GE(client.connects(), 3);
}

}  // namespace
}  // namespace grid::services
