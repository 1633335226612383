// A synchronous client for etcd's v3 gRPC API (etcd 3.4: proto/etcd/), the
// foundation of replication: keys and ranges, transactions, leases,
// compaction and watches.
//
// One gRPC channel spans every endpoint, with pick_first: calls go to the
// first member that accepts a connection, and when that one goes away the
// next call reconnects, trying the endpoints in order (a dead member is
// skipped). Every call has a deadline (Options::call_timeout) and by default
// carries etcd's "hasleader" metadata, so that a member without a leader
// refuses at once (ETCD_NO_LEADER) instead of holding the call until the
// deadline. Plaintext only (loopback or a private network).
//
// Errors (Status reasons, engine/reasons.h), and what a failed write means:
//
//   reason                code                 write applied?
//   ETCD_INVALID_REQUEST  INVALID_ARGUMENT     no (refused by the client before sending, or by etcd)
//   ETCD_COMPACTED        OUT_OF_RANGE         no (a read, watch or compaction asked for compacted history)
//   ETCD_FUTURE_REVISION  OUT_OF_RANGE         no
//   ETCD_LEASE_NOT_FOUND  NOT_FOUND            no
//   ETCD_NO_SPACE         RESOURCE_EXHAUSTED   no (etcd's NOSPACE alarm: over --quota-backend-bytes)
//   ETCD_NO_LEADER        UNAVAILABLE          no (the member refused before proposing)
//   ETCD_UNREACHABLE      UNAVAILABLE          no (no endpoint accepted a connection: nothing sent)
//   ETCD_REFUSED          etcd's code          no (any other "etcdserver: ..." refusal: FAILED_PRECONDITION, ...)
//   ETCD_UNAVAILABLE      UNAVAILABLE          UNKNOWN: the connection broke after sending, or etcd
//                                              answered "etcdserver: request timed out" (or "leader
//                                              changed", "server stopped"): the entry may still commit
//   ETCD_TIMEOUT          DEADLINE_EXCEEDED    UNKNOWN: the client's deadline passed
//   ETCD_ERROR            gRPC's code          UNKNOWN: anything else (CANCELLED, INTERNAL, a response
//                                              over max_response_bytes, ...)
//
// A caller must treat a failed write as outcome-unknown unless
// OutcomeUnknown(status) says otherwise, and settle it by reading (a fenced
// Txn, a version compare). Every message names the etcd call, the endpoints
// and, when one answered, the member ("etcd Put via 127.0.0.1:2379,...
// (peer ipv4:127.0.0.1:2379): etcdserver: request timed out").
//
// Sizes: etcd refuses a request over --max-request-bytes (1.5 MiB by
// default) with "etcdserver: request is too large"; the client refuses one
// whose encoding is over Options::max_request_bytes before sending, so set
// that to the server's value. Responses (ranges, watch batches of up to 1,000
// revisions) are bounded by Options::max_response_bytes.
//
// Thread-safety: EtcdClient is thread-safe; calls block the calling thread
// for at most call_timeout. An EtcdWatch runs its callbacks on a thread of
// its own, one at a time, in revision order.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace grid::cluster {

struct EtcdClientOptions {
  // Every unary call's deadline (a watch's creation too).
  std::chrono::milliseconds call_timeout{5000};
  // Connect waits this long for the channel to be ready.
  std::chrono::milliseconds connect_timeout{5000};
  // Requests whose encoding is larger are refused before sending
  // (ETCD_INVALID_REQUEST). etcd's --max-request-bytes default: 1.5 MiB.
  int max_request_bytes = 1536 * 1024;
  // The largest response the client accepts (gRPC's default is 4 MiB; etcd's
  // Go client takes any size). A larger one fails as ETCD_ERROR, and a write
  // whose response it was may have been applied.
  int max_response_bytes = std::numeric_limits<int32_t>::max();
  // Sends etcd's "hasleader" metadata: a member without a leader refuses
  // calls at once (ETCD_NO_LEADER) and ends watches after three election
  // timeouts without one, instead of leaving them silent.
  bool require_leader = true;
  // The longest pause between reconnection attempts once every endpoint
  // failed (gRPC's default is 120 s).
  std::chrono::milliseconds max_reconnect_backoff{1000};
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // the revision that created the key
  int64_t mod_revision = 0;     // the revision of its last change
  int64_t version = 0;          // changes since it was created, 1 for a new key
  int64_t lease = 0;            // its lease, 0 for none
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // in key order
  int64_t revision = 0;       // the store's revision the range was read at
  bool more = false;          // limit cut the result
  int64_t count = 0;          // keys in the range, regardless of limit
};

// One condition of a Txn on one key. A missing key has version,
// create_revision, mod_revision and lease 0 and compares as such; kValue
// against a missing key is false.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue, kLease };
  enum class Result { kEqual, kGreater, kLess, kNotEqual };
  std::string key;
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  int64_t number = 0;  // for every target but kValue
  std::string value;   // for kValue

  // The key does not exist (create_revision == 0): put-if-absent.
  static Compare Absent(std::string key);
  // The key was created at `revision` and not deleted since: a fence on a
  // leadership key this caller created.
  static Compare CreatedAt(std::string key, int64_t revision);
  static Compare Number(std::string key, Target target, Result result, int64_t number);
  static Compare Value(std::string key, Result result, std::string value);
};

struct TxnOp {
  enum class Kind { kPut, kDelete, kRange };
  Kind kind = Kind::kRange;
  std::string key;
  std::string range_end;  // kDelete, kRange: empty for the key alone
  std::string value;      // kPut
  int64_t lease = 0;      // kPut
  int64_t limit = 0;      // kRange: 0 for no limit

  static TxnOp Put(std::string key, std::string value, int64_t lease = 0);
  static TxnOp Delete(std::string key, std::string range_end = "");
  static TxnOp Range(std::string key, std::string range_end = "", int64_t limit = 0);
};

struct TxnResult {
  bool succeeded = false;           // every compare held: the success branch ran
  int64_t revision = 0;             // the store's revision after the txn
  std::vector<RangeResult> ranges;  // one per kRange op of the branch taken, in order
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  // For kDelete: the key, and mod_revision the revision of the deletion.
  KeyValue kv;
};

struct WatchBatch {
  std::vector<WatchEvent> events;  // in revision order, never empty
  int64_t revision = 0;            // the store's revision when sent: >= every event's
};

// Is a failed call's effect unknown? False for OK (applied) and for the
// reasons above that prove nothing was applied; true for every other status.
bool OutcomeUnknown(const Status& status);

// The range_end that makes [prefix, PrefixEnd(prefix)) every key starting
// with `prefix`: its last byte below 0xff incremented, what follows dropped;
// "\0" (every key >= prefix) when there is none.
std::string PrefixEnd(std::string_view prefix);

class EtcdWatch;

class EtcdClient {
 public:
  using Options = EtcdClientOptions;

  // Connects to `endpoints` ("host:port"; IPv4 literals or [IPv6] literals
  // when more than one, any host name when one) and waits up to
  // options.connect_timeout until the channel is ready (ETCD_CONNECT_FAILED
  // when not; ETCD_INVALID_REQUEST for malformed endpoints).
  static StatusOr<std::unique_ptr<EtcdClient>> Connect(const std::vector<std::string>& endpoints, Options options = {});
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Keys in [key, range_end) (range_end empty: `key` alone; "\0": every key
  // >= key) at `revision` (0: the newest), at most `limit` (0: all).
  // Linearizable. REQUIRES: key not empty (ETCD_INVALID_REQUEST).
  StatusOr<RangeResult> Range(std::string_view key, std::string_view range_end, int64_t limit = 0,
                              int64_t revision = 0);
  // The key, or nullopt when it does not exist.
  StatusOr<std::optional<KeyValue>> Get(std::string_view key);

  // Sets key to value (attached to `lease`, 0 for none); the store's revision
  // after the put.
  StatusOr<int64_t> Put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Deletes [key, range_end) (range_end empty: `key` alone); how many keys
  // were deleted.
  StatusOr<int64_t> DeleteRange(std::string_view key, std::string_view range_end = {});

  // If every compare holds, runs `success`, else `failure`, atomically at one
  // revision. etcd refuses (ETCD_INVALID_REQUEST) a txn that writes a key
  // twice, or has more than --max-txn-ops (128) operations in a branch.
  StatusOr<TxnResult> Txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                          const std::vector<TxnOp>& failure = {});

  // A new lease of `ttl_seconds`; its id. etcd raises a TTL below its
  // minimum (1.5 election timeouts, rounded up to seconds) to that minimum.
  StatusOr<int64_t> LeaseGrant(int64_t ttl_seconds);
  // Renews the lease once (over the LeaseKeepAlive stream); its remaining
  // TTL in seconds, > 0. An expired, revoked or unknown lease is
  // ETCD_LEASE_NOT_FOUND (etcd answers TTL 0; this client never returns 0).
  StatusOr<int64_t> LeaseKeepAliveOnce(int64_t id);
  // Revokes the lease and deletes its keys. ETCD_LEASE_NOT_FOUND when it is
  // already gone.
  Status LeaseRevoke(int64_t id);

  // Drops the history before `revision` (reads and watches of earlier
  // revisions then fail ETCD_COMPACTED). `physical`: returns once the
  // compaction is applied to the backend.
  Status Compact(int64_t revision, bool physical = false);

  // Watches [key, range_end) (as Range) from `start_revision` (0: from now
  // on; an earlier revision replays the history since, then goes on live).
  // Returns once etcd created the watch (within call_timeout).
  //
  // on_events gets every change, batch by batch, in revision order.
  // on_end runs at most once, when the watch ends by itself, and nothing runs
  // after it: ETCD_COMPACTED (OUT_OF_RANGE) when `start_revision` is below
  // the compact revision (EtcdWatch::compact_revision() names it),
  // ETCD_NO_LEADER when the member lost its leader, ETCD_WATCH_CANCELLED when
  // etcd cancelled it otherwise, ETCD_UNAVAILABLE (or another reason of the
  // table) when the stream broke. A watch never stops silently.
  //
  // Callbacks run on the watch's own thread, one at a time, once Watch has
  // the watch created (possibly just before it returns). They must not
  // throw, and should return promptly: the stream is not read meanwhile.
  StatusOr<std::unique_ptr<EtcdWatch>> Watch(std::string_view key, std::string_view range_end, int64_t start_revision,
                                             std::function<void(const WatchBatch&)> on_events,
                                             std::function<void(const Status&)> on_end);

  // The endpoints, comma-separated, as messages name them.
  const std::string& endpoints() const { return endpoints_; }

 private:
  struct Stubs;
  EtcdClient(std::shared_ptr<grpc::Channel> channel, std::string endpoints, Options options);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stubs> stubs_;
  std::string endpoints_;
  Options options_;
};

// A running watch. Destroying it cancels the watch and returns once no
// callback runs; it may be destroyed from its own callbacks (then it returns
// at once, and the thread ends by itself after the callback).
class EtcdWatch {
 public:
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // etcd's id of the watch.
  int64_t watch_id() const;
  // After an end with ETCD_COMPACTED: the compact revision, the oldest a new
  // watch may start from. 0 otherwise.
  int64_t compact_revision() const;

 private:
  friend class EtcdClient;
  struct State;
  explicit EtcdWatch(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace grid::cluster
