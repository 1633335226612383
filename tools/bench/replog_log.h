// replog_log.h: what replog_bench measures, apart from the engine that
// measures it: a replicated log the leader appends to under a condition, a
// follower that reads it in order, and the times of every record.
//
// A record is one serialized RocksDB WriteBatch of the case writer in the
// real design; here it is --record-bytes of random bytes whose first 8 hold
// its sequence number (little-endian), 1, 2, 3, ... in the order the leader
// appends them. Each engine (replog_etcd.cc, replog_nats.cc) implements
// ReplicatedLog over its own client library.
//
// Thread-safety: Timeline is thread-safe (one mutex). A ReplicatedLog is
// driven by one thread (the benchmark's main thread); its follower and its
// library's callbacks run on threads of their own and touch only the
// Timeline.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "port/mutex.h"

namespace grid::replog {

using SteadyClock = std::chrono::steady_clock;

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

// The sequence number a record carries in its first 8 bytes; 0 when it is
// shorter than that.
inline uint64_t RecordSeq(const void* data, size_t size) {
  uint64_t seq = 0;
  if (size >= sizeof seq) std::memcpy(&seq, data, sizeof seq);
  return seq;
}

// 12 random hex digits: names this run's stream or key prefix, so that runs
// against one cluster never meet.
std::string RunNonce();

// Records of one size: random bytes, the sequence number stamped in front.
class RecordMaker {
 public:
  RecordMaker(size_t bytes, uint64_t seed);
  // The record with sequence number `seq`: a view of a buffer reused by the
  // next call.
  std::string_view Make(uint64_t seq);

 private:
  std::string buffer_;
};

// When each record was started, acknowledged to the leader and seen by the
// follower, by sequence number, on the steady clock (ns).
class Timeline {
 public:
  struct Entry {
    int64_t started_ns = 0;
    int64_t acked_ns = 0;  // 0: not acknowledged (yet, or failed)
    int64_t seen_ns = 0;   // 0: not seen by the follower (yet)
  };
  struct FollowerCounts {
    uint64_t seen = 0;          // records seen, each once
    uint64_t duplicates = 0;    // deliveries of a record already seen
    uint64_t out_of_order = 0;  // records seen after one with a higher number
  };

  void Started(uint64_t seq, int64_t ns) ABSL_LOCKS_EXCLUDED(mu_);
  void Acked(uint64_t seq, int64_t ns) ABSL_LOCKS_EXCLUDED(mu_);
  // The follower delivered record `seq` at `ns`.
  void Seen(uint64_t seq, int64_t ns) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until the follower has seen every acknowledged record, or until
  // `deadline`; true when it has.
  bool WaitFollowerCaughtUp(SteadyClock::time_point deadline) ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<Entry> Entries() const ABSL_LOCKS_EXCLUDED(mu_);  // [0] is record 1
  FollowerCounts Follower() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Entry& At(uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CaughtUp() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  CondVar seen_cv_;  // signalled on every Seen
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t highest_seen_ ABSL_GUARDED_BY(mu_) = 0;
  FollowerCounts follower_ ABSL_GUARDED_BY(mu_);
};

// What one run asks of the engine.
struct RunSpec {
  size_t record_bytes = 4096;
  size_t outstanding = 1;  // appends in flight at once; 1 is the case writer's pattern
  SteadyClock::time_point stop_at;
  uint64_t seed = 1;
};

// What the appends did: counts over the whole run (warm-up included).
struct AppendCounts {
  uint64_t appended = 0;  // acknowledged appends
  uint64_t failed = 0;    // refused or failed appends (the run stops at the first)
  std::string first_error;
};

// A replicated log on one engine, with one leader (this process) and one
// follower (a second connection of this process).
class ReplicatedLog {
 public:
  virtual ~ReplicatedLog() = default;

  // Connects, creates a fresh log (a new stream or key prefix) and makes this
  // process its leader. A cluster that is still electing is waited for, up to
  // `ready_timeout`.
  virtual Status Open(std::chrono::seconds ready_timeout) = 0;
  // Starts reading the log from its first record, in order, on a second
  // connection (to another server when there is one), reporting each record
  // to `timeline`. REQUIRES: Open succeeded.
  virtual Status StartFollower(Timeline* timeline) = 0;
  // Appends records 1, 2, 3, ... until spec.stop_at, with spec.outstanding
  // in flight, each conditional (the leader still holds its epoch; the
  // record's place is still free), and reports every start and
  // acknowledgement to `timeline`. Stops at the first refusal or error.
  // REQUIRES: Open succeeded; called once.
  virtual AppendCounts AppendUntil(const RunSpec& spec, Timeline* timeline) = 0;
  // After AppendUntil: what a deposed leader would try, an append at the
  // place after record `last` (the last acknowledged) with a stale
  // condition (etcd: another epoch; NATS: the last sequence one lower). OK
  // when the engine refused it; an error when it was stored or the call
  // failed otherwise.
  virtual Status StaleAppendIsRefused(uint64_t last) = 0;
  // Stops the follower and removes the log (stream, keys, lease). Errors
  // are reported on stderr, not returned: the figures are taken by then.
  virtual void Close() = 0;
};

// The engines; `endpoints` are host:port of the client ports, loopback only
// (checked by the caller). `replicas` is the stream's replica count (NATS)
// and is ignored by etcd, whose every key is on every member.
std::unique_ptr<ReplicatedLog> MakeEtcdLog(std::vector<std::string> endpoints);
std::unique_ptr<ReplicatedLog> MakeNatsLog(std::vector<std::string> endpoints, int replicas);

}  // namespace grid::replog
