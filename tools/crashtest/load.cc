#include "tools/crashtest/load.h"

#include <functional>
#include <random>
#include <utility>

#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/plan.h"
#include "tools/crashtest/rpc.h"

namespace grid::crashtest {

namespace v1 = grid::v1;

namespace {

grpc::Status SendOp(v1::CaseWork::Stub& stub, grpc::ClientContext* ctx, Op op, const std::string& id, uint64_t expected,
                    const std::string& note, v1::CaseWorkResponse* resp) {
  auto fill = [&](auto& r) {
    r.set_case_id(id);
    r.set_expected_version(expected);
    r.set_note(note);
    return r;
  };
  switch (op) {
    case Op::kAccept: {
      v1::AcceptRequest r;
      return stub.Accept(ctx, fill(r), resp);
    }
    case Op::kStartWork: {
      v1::StartWorkRequest r;
      return stub.StartWork(ctx, fill(r), resp);
    }
    case Op::kNote: {
      v1::AddNoteRequest r;
      return stub.AddNote(ctx, fill(r), resp);
    }
    case Op::kEscalate: {
      v1::EscalateRequest r;
      return stub.Escalate(ctx, fill(r), resp);
    }
    case Op::kResolve: {
      v1::ResolveRequest r;
      return stub.Resolve(ctx, fill(r), resp);
    }
    case Op::kCallback: {
      v1::RecordCallbackRequest r;
      fill(r).set_satisfied(true);
      return stub.RecordCallback(ctx, r, resp);
    }
    case Op::kClose: {
      v1::CloseRequest r;
      return stub.Close(ctx, fill(r), resp);
    }
  }
  return grpc::Status(grpc::StatusCode::INTERNAL, "unknown op");
}

}  // namespace

struct Load::Caller {
  struct Tracked {
    std::string id;
    uint64_t version = 0;
    std::vector<Op> plan;
    size_t next = 0;
  };

  Caller(Load* load, size_t index)
      : load(load), index(index), counts(load->counts_[index]), rng(Mix(load->options_.seed ^ Mix(index + 1))) {}

  // Sends `call` until it gets an answer from a gridd (any status but a
  // missing answer); UNAVAILABLE "gridd stopped" once the supervisor ended.
  // `last_sent`, when given, is when the answered attempt was sent.
  grpc::Status Send(
      const std::function<grpc::Status(grpc::ClientContext*, const std::shared_ptr<grpc::Channel>&)>& call,
      std::string* reason, std::chrono::steady_clock::time_point* last_sent = nullptr) {
    uint64_t last_generation = 0;
    int same_generation = 0;
    for (size_t tries = 0;; ++tries) {
      auto serving = load->gridd_->WaitServing(index + tries);
      if (!serving) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gridd stopped");
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
      if (last_sent != nullptr) *last_sent = std::chrono::steady_clock::now();
      const grpc::Status st = call(&ctx, serving->channel);
      *reason = ReasonOf(ctx);
      if (!NoAnswer(st)) return st;
      ++counts.retries;
      if (serving->generation != last_generation) {
        last_generation = serving->generation;
        same_generation = 0;
        continue;
      }
      // The same gridd failed us twice (overloaded, or dying before the
      // supervisor noticed): a short pause before the next try.
      if (++same_generation > 500 && load->stop_) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Submit() {
    const uint64_t n = submitted++;
    const uint64_t h = Mix(load->options_.seed ^ Mix((index << 32) | n));
    v1::SubmitCaseRequest req;
    FillSubmit(load->options_.key_prefix + "-" + std::to_string(index) + "-" + std::to_string(n), h, &req);
    v1::SubmitCaseResponse resp;
    std::string reason;
    const auto first_sent = std::chrono::steady_clock::now();
    auto last_sent = first_sent;
    const grpc::Status st = Send(
        [&](grpc::ClientContext* ctx, const std::shared_ptr<grpc::Channel>& ch) {
          return v1::CaseIntake::NewStub(ch)->SubmitCase(ctx, req, &resp);
        },
        &reason, &last_sent);
    if (!st.ok()) {
      if (!load->stop_ || st.error_code() != grpc::StatusCode::UNAVAILABLE) ++counts.refused[ReasonOrCode(st, reason)];
      return;
    }
    const auto acked = std::chrono::steady_clock::now();
    load->log_->Write({"S", req.idempotency_key(), resp.case_().id(), std::to_string(resp.case_().version())});
    ++counts.acknowledged["submit"];
    if (load->options_.on_submit) load->options_.on_submit(first_sent, last_sent, acked);
    Tracked t;
    t.id = resp.case_().id();
    t.version = resp.case_().version();
    t.plan = Plan(Mix(h ^ 4));
    if (!t.plan.empty()) cases.push_back(std::move(t));
  }

  // Reads the case; false when it cannot.
  bool Read(const std::string& id, v1::GetCaseResponse* got) {
    v1::GetCaseRequest req;
    req.set_case_id(id);
    std::string reason;
    return Send(
               [&](grpc::ClientContext* ctx, const std::shared_ptr<grpc::Channel>& ch) {
                 got->Clear();
                 return v1::CaseQuery::NewStub(ch)->GetCase(ctx, req, got);
               },
               &reason)
        .ok();
  }

  // The next step of cases[i]; false when the case is done with (finished
  // its plan, or was refused).
  bool Work(Tracked& t) {
    const Op op = t.plan[t.next];
    const std::string note = "crashtest " + load->options_.key_prefix + " " + std::to_string(index) + "." +
                             std::to_string(calls++) + " " + OpName(op);
    uint64_t expected = t.version;
    for (int attempt = 0; attempt < 20; ++attempt) {
      v1::CaseWorkResponse resp;
      std::string reason;
      const grpc::Status st = Send(
          [&](grpc::ClientContext* ctx, const std::shared_ptr<grpc::Channel>& ch) {
            resp.Clear();
            auto stub = v1::CaseWork::NewStub(ch);
            return SendOp(*stub, ctx, op, t.id, expected, note, &resp);
          },
          &reason);
      if (st.ok()) {
        std::string events;
        for (const auto& ev : resp.events()) {
          if (!events.empty()) events += ',';
          events += std::to_string(ev.seq()) + ":" + std::to_string(static_cast<int>(ev.type()));
        }
        load->log_->Write(
            {"W", t.id, OpName(op), std::to_string(expected), std::to_string(resp.case_().version()), note, events});
        ++counts.acknowledged[OpName(op)];
        t.version = resp.case_().version();
        return ++t.next < t.plan.size();
      }
      if (load->stop_ && st.error_code() == grpc::StatusCode::UNAVAILABLE) return false;
      if (reason == "VERSION_MISMATCH") {
        v1::GetCaseResponse got;
        if (!Read(t.id, &got)) return false;
        t.version = got.case_().version();
        for (const auto& ev : got.events()) {
          if (ev.type() == PrimaryEvent(op) && ev.note() == note) {
            ++counts.found_after_retry;
            return ++t.next < t.plan.size();
          }
        }
        ++counts.version_moved;
        expected = t.version;
        continue;
      }
      ++counts.refused[ReasonOrCode(st, reason)];
      // A manual escalation refused at the top of the chain: go on without it.
      if (op == Op::kEscalate && st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        return ++t.next < t.plan.size();
      }
      return false;
    }
    return false;
  }

  void Run() {
    while (!load->stop_) {
      if (cases.size() < load->options_.cases_per_caller) {
        Submit();
      } else {
        const size_t i = rng() % cases.size();
        if (!Work(cases[i])) cases.erase(cases.begin() + static_cast<std::ptrdiff_t>(i));
      }
      if (load->options_.think.count() > 0) std::this_thread::sleep_for(load->options_.think);
    }
  }

  Load* const load;
  const size_t index;
  LoadCounts& counts;
  std::mt19937_64 rng;
  std::vector<Tracked> cases;
  uint64_t submitted = 0;
  uint64_t calls = 0;
};

Load::Load(CallTarget* gridd, AckLog* log, LoadOptions options)
    : gridd_(gridd), log_(log), options_(std::move(options)), counts_(options_.callers) {}

Load::~Load() { Stop(); }

void Load::Start() {
  for (size_t i = 0; i < options_.callers; ++i) threads_.emplace_back([this, i] { Run(i); });
}

void Load::Run(size_t index) {
  Caller c(this, index);
  c.Run();
}

void Load::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

LoadCounts Load::counts() const {
  LoadCounts total;
  for (const auto& c : counts_) {
    for (const auto& [k, n] : c.acknowledged) total.acknowledged[k] += n;
    for (const auto& [k, n] : c.refused) total.refused[k] += n;
    total.retries += c.retries;
    total.found_after_retry += c.found_after_retry;
    total.version_moved += c.version_moved;
  }
  return total;
}

}  // namespace grid::crashtest
