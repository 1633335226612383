// EtcdClient::Watch and EtcdWatch: one Watch stream per watch, read by a
// thread of its own that runs the callbacks (etcd_client.h).
//
// The thread creates the watch and reports the outcome to Watch, which waits
// up to call_timeout; callbacks start only once Watch has accepted the
// created watch. Destruction sets `stopping` (no callback starts after it),
// cancels the stream's context and joins the thread.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>
#include <utility>

#include "cluster/etcd_client.h"
#include "cluster/etcd_internal.h"
#include "engine/reasons.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "port/mutex.h"

namespace grid::cluster {

struct EtcdWatch::State {
  // Set before the thread starts, then read-only.
  std::shared_ptr<grpc::Channel> channel;
  std::string endpoints;
  std::string what;  // "Watch of 'key'", for messages
  etcdserverpb::WatchCreateRequest create;
  std::function<void(const WatchBatch&)> on_events;
  std::function<void(const Status&)> on_end;

  grpc::ClientContext context;  // TryCancel is thread-safe
  std::thread thread;           // touched by Watch and the destructor only
  std::atomic<int64_t> watch_id{0};
  std::atomic<int64_t> compact_revision{0};

  enum class Phase { kCreating, kCreated, kFailed };
  Mutex mu;
  CondVar cv;
  Phase phase ABSL_GUARDED_BY(mu) = Phase::kCreating;
  Status create_status ABSL_GUARDED_BY(mu);   // when kFailed
  bool accepted ABSL_GUARDED_BY(mu) = false;  // Watch returned it: callbacks may run
  bool stopping ABSL_GUARDED_BY(mu) = false;  // destroyed or abandoned: no callback starts

  void Run();
  bool Stopping() ABSL_LOCKS_EXCLUDED(mu) {
    MutexLock lock(&mu);
    return stopping;
  }
  // How a response that ends the watch ends it.
  Status EndOf(const etcdserverpb::WatchResponse& response);
};

Status EtcdWatch::State::EndOf(const etcdserverpb::WatchResponse& response) {
  const std::string where = "etcd " + what + " via " + endpoints;
  if (response.compact_revision() != 0) {
    compact_revision.store(response.compact_revision());
    return Error(reason::ETCD_COMPACTED,
                 where + ": the history from revision " + std::to_string(create.start_revision()) +
                     " is compacted; the oldest revision left is " + std::to_string(response.compact_revision()));
  }
  const std::string& why = response.cancel_reason();
  if (why == "etcdserver: no leader") return Error(reason::ETCD_NO_LEADER, where + ": cancelled: " + why);
  return Error(reason::ETCD_WATCH_CANCELLED, where + ": cancelled by etcd" + (why.empty() ? "" : ": " + why));
}

void EtcdWatch::State::Run() {
  std::unique_ptr<etcdserverpb::Watch::Stub> stub = etcdserverpb::Watch::NewStub(channel);
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>> stream =
      stub->Watch(&context);
  etcdserverpb::WatchRequest request;
  *request.mutable_create_request() = create;
  etcdserverpb::WatchResponse response;

  // Creation: the first response answers the create request.
  Status end;
  bool created = false;
  bool stream_over = true;  // Read returned false: Finish has the stream's status
  if (stream->Write(request) && stream->Read(&response)) {
    if (response.created() && !response.canceled() && response.compact_revision() == 0) {
      created = true;
      watch_id.store(response.watch_id());
    } else {
      end = EndOf(response);
      stream_over = false;
    }
  }
  if (!created) {
    if (!stream_over) context.TryCancel();
    const grpc::Status status = stream->Finish();
    if (end.ok()) {
      end = status.ok() ? Error(reason::ETCD_UNAVAILABLE, "etcd " + what + " via " + endpoints +
                                                              ": the stream ended before the watch was created")
                        : internal::FromGrpc(status, what, endpoints, context.peer());
    }
    MutexLock lock(&mu);
    phase = Phase::kFailed;
    create_status = end;
    cv.SignalAll();
    return;
  }
  {
    MutexLock lock(&mu);
    phase = Phase::kCreated;
    cv.SignalAll();
    while (!accepted && !stopping) cv.Wait(&mu);
  }

  // Events until the stream ends, etcd ends the watch, or the owner stops it.
  while (!Stopping() && stream->Read(&response)) {
    if (response.compact_revision() != 0 || response.canceled()) {
      end = EndOf(response);
      stream_over = false;
      break;
    }
    if (response.events_size() == 0) continue;  // a progress notice
    WatchBatch batch;
    batch.revision = response.header().revision();
    batch.events.reserve(response.events_size());
    for (const mvccpb::Event& e : response.events()) {
      batch.events.push_back(
          WatchEvent{e.type() == mvccpb::Event::DELETE ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut,
                     internal::FromProto(e.kv())});
    }
    if (Stopping()) break;
    on_events(batch);
  }
  if (!stream_over || Stopping()) context.TryCancel();
  const grpc::Status status = stream->Finish();
  if (Stopping()) return;
  if (end.ok()) {
    end = status.ok() ? Error(reason::ETCD_UNAVAILABLE, "etcd " + what + " via " + endpoints +
                                                            ": etcd closed the stream without cancelling the watch")
                      : internal::FromGrpc(status, what, endpoints, context.peer());
  }
  on_end(end);
}

StatusOr<std::unique_ptr<EtcdWatch>> EtcdClient::Watch(std::string_view key, std::string_view range_end,
                                                       int64_t start_revision,
                                                       std::function<void(const WatchBatch&)> on_events,
                                                       std::function<void(const Status&)> on_end) {
  const std::string what = "Watch of '" + std::string(key) + "'";
  if (key.empty()) return internal::InvalidRequest("Watch", endpoints_, "the key is empty");
  if (start_revision < 0) return internal::InvalidRequest(what, endpoints_, "the start revision is negative");
  auto state = std::make_shared<EtcdWatch::State>();
  state->channel = channel_;
  state->endpoints = endpoints_;
  state->what = what;
  state->create.set_key(std::string(key));
  state->create.set_range_end(std::string(range_end));
  state->create.set_start_revision(start_revision);
  state->on_events = std::move(on_events);
  state->on_end = std::move(on_end);
  // No deadline: the stream lives as long as the watch.
  internal::PrepareContext(&state->context, options_, /*deadline=*/false);
  state->thread = std::thread([state] { state->Run(); });

  // The analysis follows a plain pointer's members, not a shared_ptr's.
  EtcdWatch::State* s = state.get();
  const auto deadline = std::chrono::steady_clock::now() + options_.call_timeout;
  Status failed;
  {
    MutexLock lock(&s->mu);
    while (s->phase == EtcdWatch::State::Phase::kCreating &&
           s->cv.WaitUntil(&s->mu, deadline) == std::cv_status::no_timeout) {
    }
    if (s->phase == EtcdWatch::State::Phase::kCreated) {
      s->accepted = true;
      s->cv.SignalAll();
      return std::unique_ptr<EtcdWatch>(new EtcdWatch(std::move(state)));
    }
    failed = s->phase == EtcdWatch::State::Phase::kFailed
                 ? s->create_status
                 : Error(reason::ETCD_TIMEOUT, "etcd " + what + " via " + endpoints_ + ": not created within " +
                                                   std::to_string(options_.call_timeout.count()) + " ms");
    s->stopping = true;
    s->cv.SignalAll();
  }
  s->context.TryCancel();
  s->thread.join();
  return failed;
}

EtcdWatch::EtcdWatch(std::shared_ptr<State> state) : state_(std::move(state)) {}

EtcdWatch::~EtcdWatch() {
  State* s = state_.get();
  {
    MutexLock lock(&s->mu);
    s->stopping = true;
    s->cv.SignalAll();
  }
  s->context.TryCancel();
  if (s->thread.get_id() == std::this_thread::get_id()) {
    s->thread.detach();  // from a callback: the thread ends after it, holding the state
  } else {
    s->thread.join();
  }
}

int64_t EtcdWatch::watch_id() const { return state_->watch_id.load(); }

int64_t EtcdWatch::compact_revision() const { return state_->compact_revision.load(); }

}  // namespace grid::cluster
