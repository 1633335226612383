// LeaderProxy: see leader_proxy.h.
//
// Every call is a ProxyCall: a server reactor facing the client (Down) and a
// client reactor facing the leader (Up), both bidi streams of raw bytes.
// Each direction is a ping-pong with one operation in flight:
//   client -> leader: Down.StartRead -> Up.StartWrite -> Down.StartRead ...,
//                     the client's half-close becomes Up.StartWritesDone;
//   leader -> client: Up's initial metadata -> Down.StartSendInitialMetadata,
//                     Up.StartRead -> Down.StartWrite -> Up.StartRead ...;
//   then Up.OnDone -> the trailing metadata and status -> Down.Finish.
// Down ends only after Finish, which only Up.OnDone calls, so operations on
// Down are always safe. Operations on Up started from Down's reactions are
// not (Up may be done and gone): Up carries one hold from before StartCall,
// which keeps it, and every start from Down's side goes through
// StartOnLeader. The hold is released (Release) once nothing more needs to
// go to the leader: its read side closed, or the client is gone.
//
// Nothing calls into gRPC while holding a ProxyCall's or the Core's mutex:
// a start from a thread outside gRPC may run reactions inline.
#include "services/leader_proxy.h"

#include <absl/base/thread_annotations.h>
#include <grpcpp/alarm.h>
#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/server_builder_option.h>

#include <atomic>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/reasons.h"
#include "port/mutex.h"
#include "services/errors.h"

namespace grid::services {
namespace {

// Calls still writing to a client that does not read, when the proxy stops,
// are cancelled after this.
constexpr auto kShutdownGrace = std::chrono::seconds(1);

// Whether a metadata entry travels on from one call to the next: not gRPC's
// own (pseudo-headers, grpc-*, and what its transport sets per hop), nor the
// forwarded-for header, which the proxy writes itself.
bool Forwardable(std::string_view key) {
  if (key.empty() || key.front() == ':' || key.starts_with("grpc-")) return false;
  return key != "te" && key != "content-type" && key != "user-agent" && key != "host" && key != kForwardedForKey;
}

std::string_view View(const grpc::string_ref& s) { return {s.data(), s.size()}; }

// No plugins (server reflection) and no default health service on the
// proxy's server, whatever the process enabled for gridd's: those calls go
// to the leader like the others.
class NothingOfItsOwn final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override { plugins->clear(); }
};

class ProxyCall;

}  // namespace

class LeaderProxy::Core final : public grpc::CallbackGenericService {
 public:
  explicit Core(LeaderProxyOptions options) : options_(std::move(options)) {
    if (!options_.upstream_credentials) options_.upstream_credentials = grpc::InsecureChannelCredentials();
    if (!options_.server_credentials) options_.server_credentials = grpc::InsecureServerCredentials();
  }
  ~Core() override { Shutdown(); }

  Status Listen();
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override
      ABSL_LOCKS_EXCLUDED(mu_);

  // The channel to `address`: the cached one, or a new one that replaces it.
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) ABSL_LOCKS_EXCLUDED(mu_);
  // ProxyCall::Unref: `call` leaves calls_ before it is deleted, and is
  // Dead once it is.
  void Dying(ProxyCall* call) ABSL_LOCKS_EXCLUDED(mu_);
  void Dead() ABSL_LOCKS_EXCLUDED(mu_);

  const LeaderProxyOptions& options() const { return options_; }
  int port() const { return port_; }

  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> no_leader{0};
  std::atomic<uint64_t> second_hops{0};
  std::atomic<uint64_t> in_flight{0};  // calls not yet deleted

 private:
  LeaderProxyOptions options_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::once_flag shutdown_once_;

  Mutex mu_;
  CondVar idle_;                                               // signalled when the last call is deleted
  std::unordered_set<ProxyCall*> calls_ ABSL_GUARDED_BY(mu_);  // not being deleted
  size_t dying_ ABSL_GUARDED_BY(mu_) = 0;                      // being deleted
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::string channel_address_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
};

namespace {

// One call, from the client's arrival to the end of both sides. Owned by
// its references: one for Down until its OnDone, one for Up until its
// OnDone, one for a connect alarm until it runs, and Shutdown's while it
// cancels.
class ProxyCall {
 public:
  ProxyCall(LeaderProxy::Core* core, grpc::GenericCallbackServerContext* context)
      : core_(core), context_(context), down_(this), up_(this) {}

  grpc::ServerGenericBidiReactor* downstream() { return &down_; }

  // Answers the client with `status` without calling the leader.
  void Refuse(const Status& status) { down_.Finish(Fail(context_, status)); }

  // Calls `leader` over `channel` with the client's metadata and deadline.
  void Forward(std::string leader, std::shared_ptr<grpc::Channel> channel);

  // Ends the call: the leader's side is cancelled and, unless it has
  // finished OK already, the client answered `status` with `reason` (none
  // when empty) in its trailing metadata. The first Cancel's status wins.
  void Cancel(grpc::Status status, std::string reason = "") ABSL_LOCKS_EXCLUDED(mu_);

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // A reference unless the call is being deleted. REQUIRES: the core's
  // mutex, under which a call in its calls_ is not deleted.
  bool TryRef() {
    int n = refs_.load(std::memory_order_relaxed);
    while (n > 0 && !refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
    }
    return n > 0;
  }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    LeaderProxy::Core* core = core_;
    core->Dying(this);
    delete this;
    core->Dead();
  }

 private:
  class Down final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Down(ProxyCall* call) : call_(call) {}
    void OnReadDone(bool ok) override { call_->OnClientMessage(ok); }
    void OnWriteDone(bool ok) override { call_->OnClientWritten(ok); }
    void OnCancel() override { call_->upstream_.TryCancel(); }  // the client cancelled, or its deadline passed
    void OnDone() override { call_->Unref(); }

   private:
    ProxyCall* const call_;
  };

  class Up final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Up(ProxyCall* call) : call_(call) {}
    void OnReadInitialMetadataDone(bool ok) override { call_->OnLeaderHeaders(ok); }
    void OnReadDone(bool ok) override { call_->OnLeaderMessage(ok); }
    void OnWriteDone(bool ok) override {
      if (ok) call_->down_.StartRead(&call_->request_);
      // else the leader's call is over: its status comes with OnDone, and
      // the client's further messages are not read.
    }
    void OnDone(const grpc::Status& status) override { call_->OnLeaderDone(status); }

   private:
    ProxyCall* const call_;
  };

  ~ProxyCall() = default;

  void OnClientMessage(bool ok) {
    if (ok) {
      StartOnLeader([this] { up_.StartWrite(&request_); });
    } else {
      StartOnLeader([this] { up_.StartWritesDone(); });  // the client's half-close
    }
  }

  void OnClientWritten(bool ok) {
    if (ok) {
      StartOnLeader([this] { up_.StartRead(&response_); });
      return;
    }
    upstream_.TryCancel();  // the client is gone
    Release();
  }

  void OnLeaderHeaders(bool ok) {
    if (alarm_) alarm_->Cancel();  // the leader answered: connected
    if (!ok) {                     // a trailers-only answer, or the call failed: its status comes with OnDone
      Release();
      return;
    }
    for (const auto& [key, value] : upstream_.GetServerInitialMetadata()) {
      if (Forwardable(View(key))) context_->AddInitialMetadata(std::string(View(key)), std::string(View(value)));
    }
    down_.StartSendInitialMetadata();
    up_.StartRead(&response_);
  }

  void OnLeaderMessage(bool ok) {
    if (!ok) {  // the leader sends no more: nothing more goes to it either
      Release();
      return;
    }
    ++responses_;
    down_.StartWrite(&response_);
  }

  void OnLeaderDone(const grpc::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  // The connect alarm fired: fails the call when the leader's channel is
  // not connected yet.
  void OnConnectTimeout();

  // Runs `start` (an operation on Up, from Down's side) unless the hold is
  // released or being released.
  template <class Start>
  void StartOnLeader(Start start) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      if (released_) return;
      ++starting_;
    }
    start();
    bool remove = false;
    {
      MutexLock lock(&mu_);
      remove = --starting_ == 0 && released_;
    }
    if (remove) up_.RemoveHold();
  }

  // Nothing more goes to the leader from Down's side: the hold is removed
  // (by the last StartOnLeader in progress, if any). Once only.
  void Release() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      if (released_) return;
      released_ = true;
      if (starting_ > 0) return;
    }
    up_.RemoveHold();
  }

  LeaderProxy::Core* const core_;
  grpc::GenericCallbackServerContext* const context_;
  Down down_;
  Up up_;
  grpc::ClientContext upstream_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string leader_;
  grpc::ByteBuffer request_;          // client -> leader, one message at a time
  grpc::ByteBuffer response_;         // leader -> client
  uint64_t responses_ = 0;            // messages from the leader: only Up's reactions, in sequence
  std::optional<grpc::Alarm> alarm_;  // the connect timeout; set before StartCall only
  std::atomic<int> refs_{1};          // Down's until its OnDone

  Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int starting_ ABSL_GUARDED_BY(mu_) = 0;  // StartOnLeader calls in progress
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status cancel_status_ ABSL_GUARDED_BY(mu_);
  std::string cancel_reason_ ABSL_GUARDED_BY(mu_);
};

void ProxyCall::Forward(std::string leader, std::shared_ptr<grpc::Channel> channel) {
  leader_ = std::move(leader);
  channel_ = std::move(channel);
  for (const auto& [key, value] : context_->client_metadata()) {
    if (Forwardable(View(key))) upstream_.AddMetadata(std::string(View(key)), std::string(View(value)));
  }
  upstream_.AddMetadata(kForwardedForKey, context_->peer());
  upstream_.set_deadline(context_->deadline());
  grpc::GenericStub(channel_).PrepareBidiStreamingCall(&upstream_, context_->method(), grpc::StubOptions(), &up_);
  Ref();          // for Up's OnDone
  up_.AddHold();  // Down's side starts operations on Up: see Release
  const auto timeout = core_->options().connect_timeout;
  if (timeout.count() > 0) {
    alarm_.emplace();
    Ref();  // for the alarm's callback, which always runs (fired or cancelled)
    alarm_->Set(std::chrono::system_clock::now() + timeout, [this](bool fired) {
      if (fired) OnConnectTimeout();
      Unref();
    });
  }
  up_.StartCall();
  down_.StartRead(&request_);
}

void ProxyCall::Cancel(grpc::Status status, std::string reason) {
  {
    MutexLock lock(&mu_);
    if (!cancelled_) {
      cancelled_ = true;
      cancel_status_ = std::move(status);
      cancel_reason_ = std::move(reason);
    }
  }
  upstream_.TryCancel();
}

void ProxyCall::OnConnectTimeout() {
  if (channel_->GetState(false) == GRPC_CHANNEL_READY) return;  // connected: the leader is just slow to answer
  Cancel(grpc::Status(grpc::StatusCode::UNAVAILABLE, "leader " + leader_ + " is unreachable: not connected within " +
                                                         std::to_string(core_->options().connect_timeout.count()) +
                                                         " ms"));
}

void ProxyCall::OnLeaderDone(const grpc::Status& status) {
  if (alarm_) alarm_->Cancel();
  bool cancelled = false;
  grpc::Status cancel_status;
  std::string cancel_reason;
  {
    MutexLock lock(&mu_);
    cancelled = cancelled_ && !status.ok();
    cancel_status = cancel_status_;
    cancel_reason = cancel_reason_;
  }
  if (cancelled) {
    // The proxy ended the call (Shutdown, the connect timeout): its own
    // status, and its reason when it has one.
    if (!cancel_reason.empty()) context_->AddTrailingMetadata(kReasonMetadataKey, cancel_reason);
    down_.Finish(cancel_status);
    Unref();
    return;
  }
  size_t trailers = 0;
  for (const auto& [key, value] : upstream_.GetServerTrailingMetadata()) {
    if (!Forwardable(View(key))) continue;
    context_->AddTrailingMetadata(std::string(View(key)), std::string(View(value)));
    ++trailers;
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && trailers == 0 && responses_ == 0) {
    // gRPC's own failure to reach the leader (gridd's refusals carry a
    // reason): say which leader.
    down_.Finish(grpc::Status(status.error_code(), "leader " + leader_ + " is unreachable: " + status.error_message(),
                              status.error_details()));
  } else {
    down_.Finish(status);
  }
  Unref();
}

}  // namespace

Status LeaderProxy::Core::Listen() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, options_.server_credentials, &port_);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  builder.SetOption(std::make_unique<NothingOfItsOwn>());
  builder.RegisterCallbackGenericService(this);
  server_ = builder.BuildAndStart();
  if (server_ && port_ != 0) return Status::Ok();
  return Error(reason::LISTEN_FAILED, "the leader proxy cannot listen on " + options_.listen);
}

grpc::ServerGenericBidiReactor* LeaderProxy::Core::CreateReactor(grpc::GenericCallbackServerContext* context) {
  auto* call = new ProxyCall(this, context);
  in_flight.fetch_add(1, std::memory_order_relaxed);
  bool stopping = false;
  {
    MutexLock lock(&mu_);
    calls_.insert(call);
    stopping = stopping_;
  }
  if (stopping) {
    call->Refuse(Error(reason::SERVER_STOPPING, "this node's proxy to the leader is stopping; retry on another node"));
    return call->downstream();
  }
  const auto& metadata = context->client_metadata();
  if (auto hop = metadata.find(kForwardedForKey); hop != metadata.end()) {
    second_hops.fetch_add(1, std::memory_order_relaxed);
    call->Refuse(Error(reason::NOT_LEADER, "the call was forwarded to this node by a proxy (for " +
                                               std::string(View(hop->second)) +
                                               "), but this node is not its shard's leader either; retry"));
    return call->downstream();
  }
  std::optional<std::string> leader = options_.leader ? options_.leader() : std::nullopt;
  if (!leader || leader->empty()) {
    no_leader.fetch_add(1, std::memory_order_relaxed);
    call->Refuse(Error(reason::NOT_LEADER, "no leader elected for this shard yet; retry"));
    return call->downstream();
  }
  forwarded.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<grpc::Channel> channel = ChannelTo(*leader);
  call->Forward(std::move(*leader), std::move(channel));
  return call->downstream();
}

std::shared_ptr<grpc::Channel> LeaderProxy::Core::ChannelTo(const std::string& address) {
  {
    MutexLock lock(&mu_);
    if (channel_ && channel_address_ == address) return channel_;
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  args.SetMaxReceiveMessageSize(-1);  // the client applies its own limit
  // A leader that restarts is connected to again within a second, not
  // after gRPC's default backoff of up to two minutes (calls in between
  // fail at once: they do not wait for it).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(address, options_.upstream_credentials, args);
  std::shared_ptr<grpc::Channel> old;  // released outside the lock: no gRPC under it
  MutexLock lock(&mu_);
  if (channel_address_ == address && channel_) return channel_;  // another call made one meanwhile
  old = std::exchange(channel_, channel);
  channel_address_ = address;
  return channel;
}

void LeaderProxy::Core::Dying(ProxyCall* call) {
  MutexLock lock(&mu_);
  calls_.erase(call);
  ++dying_;
}

void LeaderProxy::Core::Dead() {
  in_flight.fetch_sub(1, std::memory_order_relaxed);
  MutexLock lock(&mu_);
  if (--dying_ == 0 && calls_.empty()) idle_.SignalAll();
}

void LeaderProxy::Core::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    std::vector<ProxyCall*> calls;
    {
      MutexLock lock(&mu_);
      stopping_ = true;
      for (ProxyCall* call : calls_) {
        if (call->TryRef()) calls.push_back(call);  // it stays while it is cancelled
      }
    }
    const Status stopping = Error(reason::SERVER_STOPPING, "this node's proxy to the leader is stopping; retry");
    for (ProxyCall* call : calls) {
      call->Cancel(ToGrpc(stopping), stopping.reason());
      call->Unref();
    }
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    std::shared_ptr<grpc::Channel> channel;  // released outside the lock
    MutexLock lock(&mu_);
    while (!calls_.empty() || dying_ > 0) idle_.Wait(&mu_);
    channel = std::move(channel_);
  });
}

StatusOr<std::unique_ptr<LeaderProxy>> LeaderProxy::Start(const LeaderProxyOptions& options) {
  auto core = std::make_unique<Core>(options);
  GRID_RETURN_IF_ERROR(core->Listen());
  return std::unique_ptr<LeaderProxy>(new LeaderProxy(std::move(core)));
}

LeaderProxy::LeaderProxy(std::unique_ptr<Core> core) : core_(std::move(core)) {}
LeaderProxy::~LeaderProxy() { Shutdown(); }

int LeaderProxy::port() const { return core_->port(); }
void LeaderProxy::Shutdown() { core_->Shutdown(); }
uint64_t LeaderProxy::forwarded() const { return core_->forwarded.load(std::memory_order_relaxed); }
uint64_t LeaderProxy::no_leader() const { return core_->no_leader.load(std::memory_order_relaxed); }
uint64_t LeaderProxy::second_hops() const { return core_->second_hops.load(std::memory_order_relaxed); }
uint64_t LeaderProxy::in_flight() const { return core_->in_flight.load(std::memory_order_relaxed); }

}  // namespace grid::services
