#include "tools/soak/traffic.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/rpc.h"

namespace grid::soak {

namespace v1 = grid::v1;
using crashtest::Mix;
using crashtest::Op;
using crashtest::Unit;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kMaxNap{2};  // the dispatcher's longest sleep while sending

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "CODE";
  }
}

std::string ErrorKey(const grpc::Status& st, const grpc::ClientContext& ctx, const char* what) {
  const std::string reason = crashtest::ReasonOf(ctx);
  return std::string(what) + " " + CodeName(st.error_code()) + (reason.empty() ? "" : " " + reason);
}

SteadyClock::duration Seconds(double s) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
}

int64_t Nanos(SteadyClock::duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

struct SubmitCall {
  grpc::ClientContext ctx;
  v1::SubmitCaseRequest request;
  v1::SubmitCaseResponse response;
};

struct WorkCall {
  grpc::ClientContext ctx;
  v1::AcceptRequest accept;
  v1::StartWorkRequest start_work;
  v1::AddNoteRequest note;
  v1::EscalateRequest escalate;
  v1::ResolveRequest resolve;
  v1::RecordCallbackRequest callback;
  v1::CloseRequest close;
  v1::CancelRequest cancel;
  v1::CaseWorkResponse response;
};

}  // namespace

uint64_t TrafficFigures::error_count() const {
  uint64_t n = dropped;
  for (const auto& [k, v] : errors) n += v;
  return n;
}

struct Traffic::CaseState {
  std::string id;
  uint64_t hash = 0;
  std::vector<Op> plan;
  size_t next = 0;  // plan.size(): the settling cancel is next
  SteadyClock::time_point submitted;
};

Traffic::Traffic(std::vector<std::shared_ptr<grpc::Channel>> channels, TrafficOptions options)
    : options_(std::move(options)) {
  for (const auto& ch : channels) {
    intake_.push_back(v1::CaseIntake::NewStub(ch));
    work_.push_back(v1::CaseWork::NewStub(ch));
  }
}

Traffic::~Traffic() {
  StopSending();
  WaitIdle(SteadyClock::now() + options_.call_timeout + std::chrono::seconds(5));
}

void Traffic::Start() {
  dispatcher_ = std::thread([this] { Dispatch(); });
}

void Traffic::StopSending() {
  {
    grid::MutexLock lock(&mu_);
    stop_ = true;
    while (!steps_.empty()) steps_.pop();
    changed_.SignalAll();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
}

bool Traffic::WaitIdle(SteadyClock::time_point deadline) {
  grid::MutexLock lock(&mu_);
  while (in_flight_ != 0) {
    if (changed_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) return in_flight_ == 0;
  }
  return true;
}

TrafficFigures Traffic::TakeInterval() {
  TrafficFigures out;
  grid::MutexLock lock(&mu_);
  std::swap(out, current_);
  return out;
}

size_t Traffic::NextChannel() { return next_channel_++ % intake_.size(); }

void Traffic::Dispatch() {
  const auto start = SteadyClock::now();
  uint64_t sent = 0;  // submissions due so far, sent or dropped
  grid::MutexLock lock(&mu_);
  while (!stop_) {
    const auto now = SteadyClock::now();
    const auto due = static_cast<uint64_t>(std::chrono::duration<double>(now - start).count() * options_.rate);
    std::vector<Step> ready;
    while (!steps_.empty() && steps_.top().due <= now) {
      ready.push_back(steps_.top());
      steps_.pop();
    }
    mu_.Unlock();
    for (; sent < due; ++sent) {
      SendSubmit(sent, start + Seconds(static_cast<double>(sent) / options_.rate));
    }
    for (auto& step : ready) SendStep(std::move(step));
    mu_.Lock();
    auto wake = start + Seconds(static_cast<double>(sent + 1) / options_.rate);
    wake = std::min(wake, SteadyClock::now() + kMaxNap);
    if (!steps_.empty()) wake = std::min(wake, steps_.top().due);
    if (!stop_) changed_.WaitUntil(&mu_, wake);
  }
}

void Traffic::SendSubmit(uint64_t n, SteadyClock::time_point due) {
  {
    grid::MutexLock lock(&mu_);
    ++current_.submitted;
    if (in_flight_ >= options_.max_in_flight) {
      ++current_.dropped;
      return;
    }
  }
  ++in_flight_;
  auto* call = new SubmitCall;
  const uint64_t h = Mix(options_.seed ^ Mix(n));
  crashtest::FillSubmit(options_.key_prefix + "-" + std::to_string(n), h, &call->request);
  call->ctx.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
  intake_[NextChannel()]->async()->SubmitCase(&call->ctx, &call->request, &call->response,
                                              [this, call, h, due](grpc::Status st) {
                                                const auto now = SteadyClock::now();
                                                std::shared_ptr<CaseState> state;
                                                {
                                                  grid::MutexLock lock(&mu_);
                                                  if (st.ok()) {
                                                    ++current_.acknowledged;
                                                    current_.submit_ns.push_back(Nanos(now - due));
                                                  } else {
                                                    ++current_.errors[ErrorKey(st, call->ctx, "submit")];
                                                  }
                                                }
                                                if (st.ok()) {
                                                  state = std::make_shared<CaseState>();
                                                  state->id = call->response.case_().id();
                                                  state->hash = h;
                                                  state->plan = crashtest::Plan(Mix(h ^ 4));
                                                  state->submitted = due;
                                                }
                                                delete call;
                                                if (state && !state->plan.empty()) {
                                                  ScheduleNext(std::move(state), now);
                                                } else if (state) {
                                                  ScheduleSettle(std::move(state), now);
                                                }
                                                Finished();
                                              });
}

void Traffic::ScheduleNext(std::shared_ptr<CaseState> state, SteadyClock::time_point from) {
  const double u = Unit(Mix(state->hash ^ (0x100 + state->next)));
  Schedule(std::move(state), from + Seconds(options_.step_min_s + u * (options_.step_max_s - options_.step_min_s)));
}

void Traffic::ScheduleSettle(std::shared_ptr<CaseState> state, SteadyClock::time_point now) {
  if (options_.settle_s <= 0 || (!state->plan.empty() && state->plan.back() == Op::kClose)) return;
  Schedule(std::move(state), std::max(now, state->submitted + Seconds(options_.settle_s)));
}

void Traffic::Schedule(std::shared_ptr<CaseState> state, SteadyClock::time_point due) {
  grid::MutexLock lock(&mu_);
  if (stop_) return;
  const bool first = steps_.empty() || due < steps_.top().due;
  steps_.push({due, step_order_++, std::move(state)});
  if (first) changed_.SignalAll();
}

void Traffic::SendStep(Step step) {
  {
    grid::MutexLock lock(&mu_);
    ++current_.work_sent;
    if (in_flight_ >= options_.max_in_flight) {
      ++current_.dropped;
      return;
    }
  }
  ++in_flight_;
  auto state = std::move(step.state);
  const bool settle = state->next == state->plan.size();
  const Op op = settle ? Op::kClose : state->plan[state->next];  // the name is for the figures only
  const char* op_name = settle ? "settle_cancel" : crashtest::OpName(op);
  const auto due = step.due;
  auto* call = new WorkCall;
  call->ctx.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
  const std::string note = std::string("soak ") + op_name;
  auto fill = [&](auto& r) -> auto* {
    r.set_case_id(state->id);
    r.set_note(note);  // expected_version 0: the soak does not race deadlines on purpose
    return &r;
  };
  auto done = [this, call, state, op_name, settle, due](grpc::Status st) mutable {
    const auto now = SteadyClock::now();
    {
      grid::MutexLock lock(&mu_);
      if (st.ok()) {
        ++current_.work_ok;
        ++current_.work_ok_by_op[op_name];
        current_.work_ns.push_back(Nanos(now - due));
      } else {
        ++current_.errors[ErrorKey(st, call->ctx, op_name)];
      }
    }
    delete call;
    if (st.ok() && !settle) {
      if (++state->next < state->plan.size()) {
        ScheduleNext(std::move(state), now);
      } else {
        ScheduleSettle(std::move(state), now);
      }
    }
    Finished();
  };
  auto* async = work_[NextChannel()]->async();
  if (settle) {
    async->Cancel(&call->ctx, fill(call->cancel), &call->response, std::move(done));
    return;
  }
  switch (op) {
    case Op::kAccept: async->Accept(&call->ctx, fill(call->accept), &call->response, std::move(done)); break;
    case Op::kStartWork: async->StartWork(&call->ctx, fill(call->start_work), &call->response, std::move(done)); break;
    case Op::kNote: async->AddNote(&call->ctx, fill(call->note), &call->response, std::move(done)); break;
    case Op::kEscalate: async->Escalate(&call->ctx, fill(call->escalate), &call->response, std::move(done)); break;
    case Op::kResolve: async->Resolve(&call->ctx, fill(call->resolve), &call->response, std::move(done)); break;
    case Op::kCallback:
      fill(call->callback)->set_satisfied(true);
      async->RecordCallback(&call->ctx, &call->callback, &call->response, std::move(done));
      break;
    case Op::kClose: async->Close(&call->ctx, fill(call->close), &call->response, std::move(done)); break;
  }
}

void Traffic::Finished() {
  if (--in_flight_ != 0) return;
  grid::MutexLock lock(&mu_);
  changed_.SignalAll();
}

}  // namespace grid::soak
