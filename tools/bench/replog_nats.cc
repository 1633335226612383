// replog_nats.cc: replog_bench's log on NATS JetStream (libnats, nats.c 3.4).
//
// The log is a fresh file-backed stream (name and subject with this run's
// nonce, --replicas copies), removed at Close. Record n is published with
// the expected last stream sequence n - 1 (jsPubOptions.ExpectLastSeq; for
// record 1 the header "Nats-Expected-Last-Sequence: 0" itself, which the
// option cannot express), so an append lands only at its place: a deposed
// leader that still believes the log ends at n - 1 is refused once anyone
// else appended. In nats-server 2.9 that stream-wide check runs where the
// replicas apply the message, in Raft order; the per-subject variant
// (ExpectLastSubjectSeq) was only checked by the leader before proposing,
// and raced on clustered streams until 2.9.21 (BENCHMARKS.md).
//
// One append in flight: js_PublishMsg, which waits for the stream leader's
// acknowledgement. More: js_PublishMsgAsync with a window of that many,
// acknowledgements through the context's AckHandler. The follower is an
// ordered push consumer (ephemeral, no acks, flow control) on a second
// connection to the second server, so the records reach it over the
// cluster's routes.
//
// Thread-safety: see replog_log.h; the AckHandler and the follower's
// callback run on libnats threads and touch only the Timeline and `window_`.
#include <nats/nats.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "port/mutex.h"
#include "tools/bench/replog_log.h"

namespace grid::replog {
namespace {

constexpr jsErrCode kNotSet = static_cast<jsErrCode>(0);

Status NatsError(const std::string& what, natsStatus s, jsErrCode code = kNotSet) {
  std::string text = what + ": " + natsStatus_GetText(s);
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0') text += std::string(" (") + last + ")";
  if (code != kNotSet) text += " [JetStream error " + std::to_string(static_cast<int>(code)) + "]";
  return Status(StatusCode::kUnavailable, "NATS", text);
}

// Publishes wait at most this long for their acknowledgement.
constexpr int64_t kPublishWaitMs = 30000;

class NatsLog final : public ReplicatedLog {
 public:
  NatsLog(std::vector<std::string> endpoints, int replicas) : endpoints_(std::move(endpoints)), replicas_(replicas) {
    const std::string nonce = RunNonce();
    stream_ = "REPLOG_" + nonce;
    subject_ = "replog." + nonce;
  }
  ~NatsLog() override { Close(); }

  Status Open(std::chrono::seconds ready_timeout) override {
    // The servers may still be starting: retry the connection, then the
    // stream, until ready_timeout.
    const auto give_up = SteadyClock::now() + ready_timeout;
    for (;;) {
      Status s = Connect(0, &leader_conn_);
      if (s.ok()) break;
      if (SteadyClock::now() >= give_up) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = kPublishWaitMs;
    options.PublishAsync.AckHandler = &NatsLog::OnAck;
    options.PublishAsync.AckHandlerClosure = this;
    options.PublishAsync.MaxPending = 1 << 16;  // the window below is the real limit
    if (natsStatus s = natsConnection_JetStream(&js_, leader_conn_, &options); s != NATS_OK) {
      return NatsError("JetStream context", s);
    }
    // A fresh cluster answers "JetStream not available" or times out until
    // its meta leader is elected.
    const char* subjects[] = {subject_.c_str()};
    for (;;) {
      jsStreamConfig config;
      jsStreamConfig_Init(&config);
      config.Name = stream_.c_str();
      config.Subjects = subjects;
      config.SubjectsLen = 1;
      config.Storage = js_FileStorage;
      config.Replicas = replicas_;
      jsStreamInfo* info = nullptr;
      jsErrCode code = kNotSet;
      jsOptions api_wait;  // one attempt's wait
      jsOptions_Init(&api_wait);
      api_wait.Wait = 2000;
      const natsStatus s = js_AddStream(&info, js_, &config, &api_wait, &code);
      if (s == NATS_OK) {
        jsStreamInfo_Destroy(info);
        stream_created_ = true;
        break;
      }
      if (SteadyClock::now() >= give_up) return NatsError("creating stream " + stream_, s, code);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    // A replicated stream takes publishes once its own Raft group has a leader.
    for (;;) {
      jsStreamInfo* info = nullptr;
      jsErrCode code = kNotSet;
      const natsStatus s = js_GetStreamInfo(&info, js_, stream_.c_str(), nullptr, &code);
      const bool led =
          s == NATS_OK && (replicas_ == 1 || (info->Cluster != nullptr && info->Cluster->Leader != nullptr &&
                                              *info->Cluster->Leader != '\0'));
      if (info != nullptr) jsStreamInfo_Destroy(info);
      if (led) return Status::Ok();
      if (SteadyClock::now() >= give_up) {
        return s == NATS_OK ? Status(StatusCode::kUnavailable, "NATS", "stream " + stream_ + " has no leader")
                            : NatsError("stream info of " + stream_, s, code);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Status StartFollower(Timeline* timeline) override {
    follower_timeline_ = timeline;
    if (Status s = Connect(endpoints_.size() > 1 ? 1 : 0, &follower_conn_); !s.ok()) return s;
    // Creating the consumer waits for its own Raft group's leader: on a
    // loaded machine that took over the default 5 s.
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = kPublishWaitMs;
    if (natsStatus s = natsConnection_JetStream(&follower_js_, follower_conn_, &options); s != NATS_OK) {
      return NatsError("follower's JetStream context", s);
    }
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Stream = stream_.c_str();
    sub_options.Ordered = true;
    jsErrCode code = kNotSet;
    if (natsStatus s = js_Subscribe(&follower_sub_, follower_js_, subject_.c_str(), &NatsLog::OnFollowerMsg, this,
                                    nullptr, &sub_options, &code);
        s != NATS_OK) {
      return NatsError("follower's ordered consumer", s, code);
    }
    // The follower must never be the one that drops records: no pending limit.
    if (natsStatus s = natsSubscription_SetPendingLimits(follower_sub_, -1, -1); s != NATS_OK) {
      return NatsError("follower's pending limits", s);
    }
    return Status::Ok();
  }

  AppendCounts AppendUntil(const RunSpec& spec, Timeline* timeline) override {
    timeline_ = timeline;
    RecordMaker maker(spec.record_bytes, spec.seed);
    AppendCounts counts;
    if (spec.outstanding <= 1) {
      for (uint64_t seq = 1; SteadyClock::now() < spec.stop_at; ++seq) {
        natsMsg* msg = nullptr;
        if (Status s = Message(seq, maker.Make(seq), &msg); !s.ok()) return Failed(counts, s);
        jsPubOptions options = PublishOptions(seq);
        jsPubAck* ack = nullptr;
        jsErrCode code = kNotSet;
        timeline->Started(seq, NowNs());
        const natsStatus s = js_PublishMsg(&ack, js_, msg, &options, &code);
        const int64_t now = NowNs();
        natsMsg_Destroy(msg);
        if (s != NATS_OK) return Failed(counts, NatsError("append " + std::to_string(seq), s, code));
        const uint64_t stored_at = ack->Sequence;
        jsPubAck_Destroy(ack);
        if (stored_at != seq) {
          return Failed(counts, Status(StatusCode::kInternal, "NATS",
                                       "record " + std::to_string(seq) + " stored at " + std::to_string(stored_at)));
        }
        timeline->Acked(seq, now);
        ++counts.appended;
      }
      return counts;
    }

    // A window of spec.outstanding asynchronous publishes.
    uint64_t seq = 1;
    for (; SteadyClock::now() < spec.stop_at; ++seq) {
      {
        MutexLock lock(&mu_);
        while (in_flight_ >= spec.outstanding && async_error_.ok()) window_cv_.Wait(&mu_);
        if (!async_error_.ok()) break;
        ++in_flight_;
      }
      natsMsg* msg = nullptr;
      if (Status s = Message(seq, maker.Make(seq), &msg); !s.ok()) {
        MutexLock lock(&mu_);
        --in_flight_;
        async_error_ = s;
        break;
      }
      jsPubOptions options = PublishOptions(seq);
      timeline->Started(seq, NowNs());
      const natsStatus s = js_PublishMsgAsync(js_, &msg, &options);
      natsMsg_Destroy(msg);  // no effect when the library took it
      if (s != NATS_OK) {
        MutexLock lock(&mu_);
        --in_flight_;
        async_error_ = NatsError("append " + std::to_string(seq), s);
        break;
      }
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = kPublishWaitMs;
    const natsStatus drained = js_PublishAsyncComplete(js_, &wait);
    MutexLock lock(&mu_);
    counts.appended = async_acked_;
    counts.failed = async_failed_;
    if (!async_error_.ok()) {
      counts.first_error = async_error_.ToString();
      if (counts.failed == 0) counts.failed = 1;
    } else if (drained != NATS_OK) {
      counts.first_error = NatsError("waiting for the last acknowledgements", drained).ToString();
      ++counts.failed;
    }
    return counts;
  }

  Status StaleAppendIsRefused(uint64_t last) override {
    natsMsg* msg = nullptr;
    RecordMaker maker(64, 0);
    if (Status s = Message(last + 1, maker.Make(last + 1), &msg); !s.ok()) return s;
    jsPubOptions options = PublishOptions(last);  // expects last - 1: it missed record `last`
    jsPubAck* ack = nullptr;
    jsErrCode code = kNotSet;
    const natsStatus s = js_PublishMsg(&ack, js_, msg, &options, &code);
    natsMsg_Destroy(msg);
    if (s == NATS_OK) {
      const uint64_t stored_at = ack->Sequence;
      jsPubAck_Destroy(ack);
      return Status(StatusCode::kInternal, "NATS", "a stale append was stored at " + std::to_string(stored_at));
    }
    if (code == JSStreamWrongLastSequenceErr) return Status::Ok();
    return NatsError("the stale append failed, but not as refused", s, code);
  }

  void Close() override {
    if (follower_sub_ != nullptr) {
      natsSubscription_Unsubscribe(follower_sub_);
      natsSubscription_Destroy(follower_sub_);
      follower_sub_ = nullptr;
    }
    if (stream_created_) {
      jsErrCode code = kNotSet;
      if (natsStatus s = js_DeleteStream(js_, stream_.c_str(), nullptr, &code); s != NATS_OK) {
        std::cerr << "replog_bench: " << NatsError("deleting stream " + stream_, s, code).ToString() << "\n";
      }
      stream_created_ = false;
    }
    for (jsCtx** js : {&js_, &follower_js_}) {
      if (*js != nullptr) jsCtx_Destroy(*js);
      *js = nullptr;
    }
    for (natsConnection** conn : {&leader_conn_, &follower_conn_}) {
      if (*conn != nullptr) {
        natsConnection_Close(*conn);
        natsConnection_Destroy(*conn);
      }
      *conn = nullptr;
    }
  }

 private:
  // A connection whose server list starts at endpoints_[first] (no
  // randomising: the leader talks to the first server, the follower to the
  // second).
  Status Connect(size_t first, natsConnection** conn) {
    std::vector<std::string> urls;
    for (size_t i = 0; i < endpoints_.size(); ++i)
      urls.push_back("nats://" + endpoints_[(first + i) % endpoints_.size()]);
    std::vector<const char*> servers;
    for (const auto& u : urls) servers.push_back(u.c_str());
    natsOptions* options = nullptr;
    natsStatus s = natsOptions_Create(&options);
    if (s == NATS_OK) s = natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size()));
    if (s == NATS_OK) s = natsOptions_SetNoRandomize(options, true);
    if (s == NATS_OK) s = natsOptions_SetTimeout(options, 5000);
    if (s == NATS_OK) s = natsConnection_Connect(conn, options);
    natsOptions_Destroy(options);
    return s == NATS_OK ? Status::Ok() : NatsError("connecting to " + urls.front(), s);
  }

  Status Message(uint64_t seq, std::string_view record, natsMsg** msg) const {
    natsStatus s = natsMsg_Create(msg, subject_.c_str(), nullptr, record.data(), static_cast<int>(record.size()));
    // ExpectLastSeq = 0 means "no expectation" to nats.c: say 0 in the header.
    if (s == NATS_OK && seq == 1) s = natsMsgHeader_Set(*msg, "Nats-Expected-Last-Sequence", "0");
    return s == NATS_OK ? Status::Ok() : NatsError("building record " + std::to_string(seq), s);
  }

  static jsPubOptions PublishOptions(uint64_t seq) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = kPublishWaitMs;
    options.ExpectLastSeq = seq - 1;
    return options;
  }

  static AppendCounts Failed(AppendCounts counts, const Status& s) {
    ++counts.failed;
    counts.first_error = s.ToString();
    return counts;
  }

  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<NatsLog*>(closure);
    const int64_t now = NowNs();
    const uint64_t seq = RecordSeq(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    Status failure;
    if (ack == nullptr || error != nullptr) {
      failure = Status(
          StatusCode::kUnavailable, "NATS",
          "append " + std::to_string(seq) + ": " +
              (error != nullptr && error->ErrText != nullptr ? error->ErrText : "no acknowledgement") +
              (error != nullptr ? " [JetStream error " + std::to_string(static_cast<int>(error->ErrCode)) + "]" : ""));
    } else if (ack->Sequence != seq) {
      failure = Status(StatusCode::kInternal, "NATS",
                       "record " + std::to_string(seq) + " stored at " + std::to_string(ack->Sequence));
    }
    if (failure.ok()) self->timeline_->Acked(seq, now);
    natsMsg_Destroy(msg);
    MutexLock lock(&self->mu_);
    --self->in_flight_;
    if (failure.ok()) {
      ++self->async_acked_;
    } else {
      ++self->async_failed_;
      if (self->async_error_.ok()) self->async_error_ = failure;
    }
    self->window_cv_.SignalAll();
  }

  static void OnFollowerMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<NatsLog*>(closure);
    const int64_t now = NowNs();
    self->follower_timeline_->Seen(RecordSeq(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))),
                                   now);
    natsMsg_Destroy(msg);
  }

  const std::vector<std::string> endpoints_;
  const int replicas_;
  std::string stream_, subject_;
  bool stream_created_ = false;
  natsConnection* leader_conn_ = nullptr;
  natsConnection* follower_conn_ = nullptr;
  jsCtx* js_ = nullptr;
  jsCtx* follower_js_ = nullptr;
  natsSubscription* follower_sub_ = nullptr;
  Timeline* timeline_ = nullptr;           // set before the first append
  Timeline* follower_timeline_ = nullptr;  // set before the follower starts

  Mutex mu_;
  CondVar window_cv_;  // signalled on every asynchronous acknowledgement
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t async_acked_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t async_failed_ ABSL_GUARDED_BY(mu_) = 0;
  Status async_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<ReplicatedLog> MakeNatsLog(std::vector<std::string> endpoints, int replicas) {
  return std::make_unique<NatsLog>(std::move(endpoints), replicas);
}

}  // namespace grid::replog
