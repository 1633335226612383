// EscalationFeed.Watch: see feed_service.h.
//
// The handoff from storage to the live feed. A subscription is in one of two
// modes:
//   replay: a task on the hub's replay executor reads stored entries after
//     sent_ up to target_ and sends those that match;
//   live:   entries offered by the hub are buffered and sent in order.
// It registers with the hub *before* reading target_ (Register returns
// published() under the hub's lock), so every entry after target_ reaches its
// buffer and every entry up to target_ is in storage. Once the replay reaches
// target_ it turns live and sends the buffered entries with cursor > sent_:
// no gap, no duplicate. When the buffer overflows, the subscription drops it
// (memory stays bounded) and, once its writes let it, goes back to replay
// with target_ = published(), read after clearing the overflow mark (the hub
// advances published() before it offers: feed_hub.h), so the dropped entries
// come from storage instead.
//
// Every message carries cursor = sent_: all matching entries <= sent_ were
// sent. In live mode with an empty buffer sent_ advances to the hub's
// delivered(), which lets heartbeats move a narrow subscriber forward.
//
// Entries are never parsed or re-serialised on the way out: a WatchResponse
// is built by splicing serialised FeedEntry bytes (from storage, or
// serialised once by the hub) behind their field tag, then the cursor. The
// replay reads only the two fields it filters on (unit_path, escalation) from
// the stored bytes.
//
// One token, busy_, serialises the reactor: it is held by a write in flight
// or by a replay task, and only its holder calls StartWrite; Finish is only
// called when nobody holds it, so it never races a write. Nothing calls into
// gRPC while holding mu_ (reactions may run inline).
#include "services/feed_service.h"

#include <absl/base/thread_annotations.h>

#include <algorithm>
#include <cstring>
#include <deque>

#include "engine/reasons.h"
#include "port/mutex.h"
#include "services/errors.h"
#include "services/feed_wire.h"
#include "services/wire.h"

namespace grid::services {
namespace {

// A stream refused before it started.
class Refusal final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  Refusal(grpc::CallbackServerContext* context, const Status& status) { Finish(Fail(context, status)); }
  void OnDone() override { delete this; }
};

class WatchCall final : public grpc::ServerWriteReactor<grpc::ByteBuffer>, public FeedSink {
 public:
  // `lease`: the caller's Watch slot (Authenticator::AcquireStream), held
  // until the stream is done.
  static WatchCall* Begin(FeedHub* hub, grpc::CallbackServerContext* context, std::string scope,
                          const grid::v1::WatchRequest& request, std::shared_ptr<void> lease) {
    std::shared_ptr<WatchCall> call(new WatchCall(hub, context, std::move(scope), request.all_changes()));
    call->self_ = call;
    call->lease_ = std::move(lease);
    auto last = hub->Register(call, call->scope_, call->all_);
    {
      MutexLock lock(&call->mu_);
      if (!last) {
        call->final_ = hub->stopping() ? Error(reason::SERVER_STOPPING, "the server is stopping; reconnect")
                                       : Error(reason::FEED_BUSY, "too many subscribers; retry later");
        call->sent_ = request.from_cursor();
      } else {
        call->registered_ = true;
        uint64_t from = request.from_latest() ? *last : request.from_cursor();
        call->sent_ = from;
        call->target_ = *last;
        if (from > *last) {
          call->final_ = Error(reason::FEED_CURSOR_AHEAD, "from_cursor " + std::to_string(from) +
                                                              " is beyond the last entry " + std::to_string(*last));
        }
      }
    }
    call->Pump();
    return call.get();
  }

  // ---- FeedSink (the hub) ----

  bool Offer(const std::shared_ptr<const LiveEntry>& entry) override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (finished_ || overflowed_) return false;
    if (buffer_.size() >= hub_->options().subscriber_buffer) {
      overflowed_ = true;
      DropBufferLocked();
      hub_->CountOverflow();
      return !busy_;
    }
    buffer_.push_back(entry);
    hub_->CountBuffered(1, buffer_.size());
    if (busy_ || mode_ != Mode::kLive || kick_pending_) return false;
    kick_pending_ = true;
    return true;
  }
  void Kick() override ABSL_LOCKS_EXCLUDED(mu_) { Pump(); }
  void Heartbeat(bool only_if_idle) override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      const bool wrote = wrote_since_heartbeat_;
      wrote_since_heartbeat_ = false;
      if (mode_ != Mode::kLive || (only_if_idle && wrote)) return;
      heartbeat_due_ = true;
    }
    Pump();
  }
  void Shutdown() override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      if (final_.ok()) final_ = Error(reason::SERVER_STOPPING, "the server is stopping; resume from the last cursor");
    }
    Pump();
  }

  // ---- gRPC reactions ----

  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      busy_ = false;
      if (!ok) cancelled_ = true;  // the stream is broken
    }
    Pump();
  }
  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      cancelled_ = true;
    }
    Pump();
  }
  void OnDone() override ABSL_LOCKS_EXCLUDED(mu_) {
    if (registered_) hub_->Unregister(this, scope_);
    {
      MutexLock lock(&mu_);
      DropBufferLocked();
    }
    lease_.reset();                    // the Watch slot is free again
    auto last_ref = std::move(self_);  // may destroy *this on return
  }

 private:
  enum class Mode { kReplay, kLive };

  WatchCall(FeedHub* hub, grpc::CallbackServerContext* context, std::string scope, bool all_changes)
      : hub_(hub), context_(context), scope_(std::move(scope)), all_(all_changes) {}

  void DropBufferLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (buffer_.empty()) return;
    hub_->CountBuffered(-static_cast<int64_t>(buffer_.size()), 0);
    std::deque<std::shared_ptr<const LiveEntry>>().swap(buffer_);
  }

  // Under mu_, in live mode: fills out_ from the buffer. False when there is
  // nothing to send.
  bool BuildLiveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    out_.clear();
    const auto& opt = hub_->options();
    size_t entries = 0;
    int64_t popped = 0;
    while (!buffer_.empty() && entries < opt.max_entries_per_message && out_.size() < opt.max_bytes_per_message) {
      auto e = std::move(buffer_.front());
      buffer_.pop_front();
      ++popped;
      if (e->cursor <= sent_) continue;  // already sent by the replay
      AppendFeedEntry(&out_, e->bytes);
      ++entries;
      sent_ = e->cursor;
    }
    if (popped > 0) hub_->CountBuffered(-popped, 0);
    if (buffer_.empty() && !overflowed_) sent_ = std::max(sent_, hub_->delivered());
    if (entries == 0 && !heartbeat_due_) return false;
    if (entries > 0) wrote_since_heartbeat_ = true;  // a heartbeat itself does not count
    AppendFeedTail(&out_, sent_, false);
    heartbeat_due_ = false;
    return true;
  }

  // Holds busy_: sends out_.
  void WriteOut() ABSL_LOCKS_EXCLUDED(mu_) {
    grpc::Slice slice(out_.data(), out_.size());
    msg_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&msg_);
  }

  void Pump() ABSL_LOCKS_EXCLUDED(mu_) {
    enum class Act { kNone, kWrite, kReplay, kFinish } act = Act::kNone;
    Status final_status;
    uint64_t cursor = 0, oldest = 0;
    {
      MutexLock lock(&mu_);
      kick_pending_ = false;
      if (finished_ || busy_) return;
      if (!final_.ok() || cancelled_) {
        finished_ = true;
        DropBufferLocked();
        final_status = final_.ok() ? Error(reason::CANCELLED, "the stream was cancelled") : final_;
        cursor = sent_;
        oldest = oldest_;
        act = Act::kFinish;
      } else {
        if (overflowed_ && mode_ == Mode::kLive) {
          overflowed_ = false;
          mode_ = Mode::kReplay;
          target_ = hub_->published();
        }
        if (mode_ == Mode::kReplay) {
          busy_ = true;
          act = Act::kReplay;
        } else if (BuildLiveLocked()) {
          busy_ = true;
          act = Act::kWrite;
        }
      }
    }
    switch (act) {
      case Act::kNone: break;
      case Act::kWrite: WriteOut(); break;
      case Act::kReplay: ScheduleReplay(); break;
      case Act::kFinish:
        context_->AddTrailingMetadata(kCursorMetadataKey, std::to_string(cursor));
        if (oldest != 0) context_->AddTrailingMetadata(kOldestCursorMetadataKey, std::to_string(oldest));
        Finish(Fail(context_, final_status));
        break;
    }
  }

  // Holds busy_.
  void ScheduleReplay() ABSL_LOCKS_EXCLUDED(mu_) {
    std::shared_ptr<WatchCall> self = self_;
    if (hub_->replay_executor()->TrySubmit([self] { self->ReplayStep(); })) return;
    {
      MutexLock lock(&mu_);
      if (final_.ok()) {
        final_ = Error(reason::FEED_BUSY, "the replay queue is full; resume from the last cursor");
      }
      busy_ = false;
    }
    Pump();
  }

  // On the replay executor; holds busy_.
  void ReplayStep() ABSL_LOCKS_EXCLUDED(mu_) {
    uint64_t position = 0, target = 0;
    bool stop = false;
    {
      MutexLock lock(&mu_);
      position = sent_;
      target = target_;
      stop = cancelled_ || !final_.ok();
    }
    if (stop || hub_->stopping()) {
      {
        MutexLock lock(&mu_);
        busy_ = false;
      }
      Pump();
      return;
    }
    const auto& opt = hub_->options();
    out_.clear();
    size_t entries = 0;
    bool gap = false, corrupt = false, held = false;
    uint64_t gap_at = 0;
    const uint64_t start = position;
    StatusOr<size_t> visited = size_t{0};
    if (position < target) {
      const size_t limit = static_cast<size_t>(std::min<uint64_t>(target - position, opt.replay_scan_per_task));
      visited = hub_->store()->ScanFeed(position, limit, [&](uint64_t cursor, std::string_view bytes_in) {
        // Cursors are dense; a hole means retention removed what this
        // subscriber still needed (a from_cursor of 0 starts at the oldest).
        if (cursor != position + 1 && !(position == 0 && start == 0)) {
          gap = true;
          gap_at = cursor;
          return false;
        }
        if (cursor > target) return false;
        bool escalation = false, in_scope = false;
        if (!PeekFeedEntry(bytes_in, scope_, &escalation, &in_scope)) {
          // What came before it goes out first; the next step stops here.
          if (entries == 0) corrupt = true;
          held = true;
          return false;
        }
        position = cursor;
        if (in_scope && (all_ || escalation)) {
          AppendFeedEntry(&out_, bytes_in);
          ++entries;
        }
        return position < target && entries < opt.max_entries_per_message && out_.size() < opt.max_bytes_per_message;
      });
      if (visited.ok() && !gap && !held && *visited < limit && position < target &&
          entries < opt.max_entries_per_message && out_.size() < opt.max_bytes_per_message) {
        gap = true;  // the stored feed ends before target: trimmed under us
      }
    }
    enum class Next { kWrite, kAgain, kPump } next = Next::kPump;
    {
      MutexLock lock(&mu_);
      if (!visited.ok() || corrupt || gap) {
        if (final_.ok()) {
          if (!visited.ok()) {
            final_ = visited.status();
          } else if (corrupt) {
            final_ = Error(reason::CORRUPT_RECORD, "a feed entry cannot be parsed");
          } else {
            auto first = hub_->store()->FirstFeedCursor();
            oldest_ = first.ok() && *first != 0 ? *first : gap_at;
            final_ = Error(reason::FEED_CURSOR_TRIMMED, "entries after cursor " + std::to_string(position) +
                                                            " are no longer kept; the oldest cursor available is " +
                                                            std::to_string(oldest_));
          }
        }
        busy_ = false;
      } else {
        sent_ = position;
        const bool reached = position >= target;
        if (reached) mode_ = Mode::kLive;
        if (entries > 0 || reached) {
          AppendFeedTail(&out_, position, reached);
          wrote_since_heartbeat_ = true;
          next = Next::kWrite;
        } else {
          next = Next::kAgain;
        }
      }
    }
    switch (next) {
      case Next::kWrite: WriteOut(); break;
      case Next::kAgain: ScheduleReplay(); break;
      case Next::kPump: Pump(); break;
    }
  }

  FeedHub* const hub_;
  grpc::CallbackServerContext* const context_;
  const std::string scope_;
  const bool all_;
  std::shared_ptr<WatchCall> self_;  // released in OnDone
  bool registered_ = false;          // set before any reaction

  Mutex mu_;  // taken after the hub's lock (Offer runs under it), never before
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kReplay;
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;    // every matching entry <= sent_ was sent
  uint64_t target_ ABSL_GUARDED_BY(mu_) = 0;  // the replay's end
  std::deque<std::shared_ptr<const LiveEntry>> buffer_ ABSL_GUARDED_BY(mu_);
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // a write in flight or a replay task
  bool heartbeat_due_ ABSL_GUARDED_BY(mu_) = false;
  bool wrote_since_heartbeat_ ABSL_GUARDED_BY(mu_) = false;  // entries (or replay) sent since the last Heartbeat
  bool kick_pending_ ABSL_GUARDED_BY(mu_) = false;           // a Kick is queued at the hub
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  Status final_ ABSL_GUARDED_BY(mu_);         // set: end the stream with it
  uint64_t oldest_ ABSL_GUARDED_BY(mu_) = 0;  // with FEED_CURSOR_TRIMMED
  std::shared_ptr<void> lease_;               // the caller's Watch slot; set once by Begin
  std::string out_;                           // owned by the holder of busy_: the WatchResponse being built
  grpc::ByteBuffer msg_;                      // owned by the holder of busy_: the one in flight
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* FeedService::Watch(grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* raw_request) {
  auto principal = Identify(*deps_, *context);
  if (!principal.ok()) return new Refusal(context, principal.status());
  if (Status st = AdmitRole(*principal, policy::Rpc::kWatch); !st.ok()) return new Refusal(context, st);
  grid::v1::WatchRequest req;
  if (Status st = ParseRequest(*raw_request, &req); !st.ok()) return new Refusal(context, st);
  const grid::v1::WatchRequest* request = &req;
  std::string scope = request->scope_unit_code().empty() ? principal->scope : request->scope_unit_code();
  if (!scope.empty()) {
    auto dir = deps_->directory->Get();
    if (dir->FindUnit(scope) == nullptr) {
      return new Refusal(context, Error(reason::UNKNOWN_UNIT, "no unit " + scope + " in the directory"));
    }
    if (Status st = AdmitUnit(*principal, *dir, policy::Rpc::kWatch, scope); !st.ok()) return new Refusal(context, st);
  }
  auto lease = deps_->auth->AcquireStream(*principal);
  if (!lease.ok()) return new Refusal(context, lease.status());
  return WatchCall::Begin(hub_, context, std::move(scope), *request, std::move(lease).value());
}

}  // namespace grid::services
