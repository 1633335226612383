#include "tools/crashtest/load.h"

#include <functional>
#include <random>
#include <utility>

#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/rpc.h"
#include "tools/demo/demo_directory.h"

namespace grid::crashtest {

namespace v1 = grid::v1;

namespace {

enum class Op { kAccept, kStartWork, kNote, kEscalate, kResolve, kCallback, kClose };

const char* OpName(Op op) {
  switch (op) {
    case Op::kAccept: return "accept";
    case Op::kStartWork: return "start_work";
    case Op::kNote: return "note";
    case Op::kEscalate: return "escalate";
    case Op::kResolve: return "resolve";
    case Op::kCallback: return "callback";
    case Op::kClose: return "close";
  }
  return "?";
}

// The event each call appends with the caller's note.
v1::EventType PrimaryEvent(Op op) {
  switch (op) {
    case Op::kAccept: return v1::EVENT_TYPE_ACCEPTED;
    case Op::kStartWork: return v1::EVENT_TYPE_WORK_STARTED;
    case Op::kNote: return v1::EVENT_TYPE_NOTE;
    case Op::kEscalate: return v1::EVENT_TYPE_ESCALATED;
    case Op::kResolve: return v1::EVENT_TYPE_RESOLVED;
    case Op::kCallback: return v1::EVENT_TYPE_CALLED_BACK;
    case Op::kClose: return v1::EVENT_TYPE_CLOSED;
  }
  return v1::EVENT_TYPE_UNSPECIFIED;
}

// What a case will go through, by a hash of it: a fifth is never accepted
// (its accept deadline escalates it to the top), a fifth never resolved.
std::vector<Op> Plan(uint64_t h) {
  using enum Op;
  switch (h % 10) {
    case 0:
    case 1: return {};
    case 2:
    case 3: return {kAccept};
    case 4: return {kAccept, kEscalate, kStartWork};
    case 5: return {kAccept, kStartWork, kNote, kEscalate, kResolve, kCallback, kClose};
    default: return {kAccept, kStartWork, kNote, kResolve, kCallback, kClose};
  }
}

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

const char* kDescriptions[] = {"小区门口垃圾桶满溢，已两天未清运", "路边堆放建筑垃圾，影响通行",
                               "菜市场后巷垃圾无人清理，气味很大", "村道边有人乱倒生活垃圾"};

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
  grpc::Status Send(
      const std::function<grpc::Status(grpc::ClientContext*, const std::shared_ptr<grpc::Channel>&)>& call,
      std::string* reason) {
    uint64_t last_generation = 0;
    int same_generation = 0;
    while (true) {
      auto serving = load->gridd_->WaitServing();
      if (!serving) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gridd stopped");
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
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
    const grid::DemoExtent& e = grid::kDemoCountyExtent;
    v1::SubmitCaseRequest req;
    req.set_idempotency_key(load->options_.key_prefix + "-" + std::to_string(index) + "-" + std::to_string(n));
    req.set_channel(v1::CHANNEL_PHONE);
    req.set_category("sanitation.garbage");
    req.set_description(kDescriptions[h % std::size(kDescriptions)]);
    req.mutable_location()->set_lat(e.south + 1e-6 + Unit(Mix(h ^ 1)) * (e.north - e.south - 2e-6));
    req.mutable_location()->set_lng(e.west + 1e-6 + Unit(Mix(h ^ 2)) * (e.east - e.west - 2e-6));
    req.mutable_citizen()->set_name("王女士");
    req.mutable_citizen()->set_phone("138" + std::to_string(10000000 + Mix(h ^ 3) % 90000000));
    req.set_priority(v1::PRIORITY_NORMAL);
    v1::SubmitCaseResponse resp;
    std::string reason;
    const grpc::Status st = Send(
        [&](grpc::ClientContext* ctx, const std::shared_ptr<grpc::Channel>& ch) {
          return v1::CaseIntake::NewStub(ch)->SubmitCase(ctx, req, &resp);
        },
        &reason);
    if (!st.ok()) {
      if (!load->stop_ || st.error_code() != grpc::StatusCode::UNAVAILABLE) ++counts.refused[ReasonOrCode(st, reason)];
      return;
    }
    load->log_->Write({"S", req.idempotency_key(), resp.case_().id(), std::to_string(resp.case_().version())});
    ++counts.acknowledged["submit"];
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

Load::Load(GriddSupervisor* gridd, AckLog* log, LoadOptions options)
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
