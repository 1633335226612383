// gridctl's case-work commands: their flags, the CaseCommand each fills, the
// RPC it goes to, and the summary printed. See work_commands.h.
#include "tools/gridctl/work_commands.h"

#include <charconv>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tools/gridctl/output.h"

namespace grid::tools::gridctl {
namespace {

namespace v1 = grid::v1;

// For unsigned options: CLI11 would read "-1" as 2^64-1 and saturate what
// does not fit.
CLI::Validator WholeNumber(uint64_t max = std::numeric_limits<uint32_t>::max()) {
  return CLI::Validator(
      [max](std::string& s) -> std::string {
        uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) {
          return "'" + s + "' is not a whole number from 0 to " + std::to_string(max);
        }
        return "";
      },
      "N");
}

// The flags of the case-work commands. One command is parsed per run, so the
// commands share these variables.
struct WorkFlags {
  std::string case_id;
  uint64_t expected_version = 0;
  std::string note;
  std::string reason;
  double lat = 0, lon = 0;
  CLI::Option* lat_opt = nullptr;
  std::string address, unit, category, department, member, master;
  std::vector<std::string> departments;
  uint32_t arrive_within_minutes = 0;
  uint32_t hours = 0;
  bool done = false, satisfied = false, dissatisfied = false;
};

// Sets case_id, expected_version and note, which every CaseWork request has,
// on the request the command holds.
void SetCommonFields(const WorkFlags& w, v1::CaseCommand* command) {
  const auto* oneof = v1::CaseCommand::descriptor()->FindOneofByName("action");
  auto* request = command->GetReflection()->MutableMessage(
      command, command->GetReflection()->GetOneofFieldDescriptor(*command, oneof));
  const auto* d = request->GetDescriptor();
  const auto* r = request->GetReflection();
  r->SetString(request, d->FindFieldByName("case_id"), w.case_id);
  r->SetUInt64(request, d->FindFieldByName("expected_version"), w.expected_version);
  r->SetString(request, d->FindFieldByName("note"), w.note);
}

grpc::Status SendWork(v1::CaseWork::Stub& stub, grpc::ClientContext* ctx, const v1::CaseCommand& c,
                      v1::CaseWorkResponse* resp) {
  switch (c.action_case()) {
    case v1::CaseCommand::kAccept: return stub.Accept(ctx, c.accept(), resp);
    case v1::CaseCommand::kReject: return stub.Reject(ctx, c.reject(), resp);
    case v1::CaseCommand::kTransfer: return stub.Transfer(ctx, c.transfer(), resp);
    case v1::CaseCommand::kAddNote: return stub.AddNote(ctx, c.add_note(), resp);
    case v1::CaseCommand::kStartWork: return stub.StartWork(ctx, c.start_work(), resp);
    case v1::CaseCommand::kResolve: return stub.Resolve(ctx, c.resolve(), resp);
    case v1::CaseCommand::kRecordCallback: return stub.RecordCallback(ctx, c.record_callback(), resp);
    case v1::CaseCommand::kClose: return stub.Close(ctx, c.close(), resp);
    case v1::CaseCommand::kReopen: return stub.Reopen(ctx, c.reopen(), resp);
    case v1::CaseCommand::kMerge: return stub.Merge(ctx, c.merge(), resp);
    case v1::CaseCommand::kCancel: return stub.Cancel(ctx, c.cancel(), resp);
    case v1::CaseCommand::kEscalate: return stub.Escalate(ctx, c.escalate(), resp);
    case v1::CaseCommand::kSummon: return stub.SummonDepartments(ctx, c.summon(), resp);
    case v1::CaseCommand::kReportIn: return stub.ReportIn(ctx, c.report_in(), resp);
    case v1::CaseCommand::kAssignHelper: return stub.AssignHelper(ctx, c.assign_helper(), resp);
    case v1::CaseCommand::kWait: return stub.Wait(ctx, c.wait(), resp);
    case v1::CaseCommand::kResume: return stub.Resume(ctx, c.resume(), resp);
    case v1::CaseCommand::kExtend: return stub.Extend(ctx, c.extend(), resp);
    case v1::CaseCommand::kReveal:  // CaseQuery.RevealCitizen: gridctl case reveal
    case v1::CaseCommand::kFire:
    case v1::CaseCommand::ACTION_NOT_SET: break;
  }
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "not a case-work command");
}

// A case-work subcommand: its CLI and how it fills the command from the flags.
struct WorkCommand {
  CLI::App* cli = nullptr;
  std::function<void(const WorkFlags&, v1::CaseCommand*)> fill;
};

class WorkCommandList {
 public:
  WorkCommandList(CLI::App& app, WorkFlags& w) : app_(app), w_(w) {}

  // Adds `name` with CASE_ID, --note (required when `note_required`) and --expected-version.
  CLI::App* Add(const char* name, const char* what, bool note_required,
                std::function<void(const WorkFlags&, v1::CaseCommand*)> fill) {
    auto* sc = app_.add_subcommand(name, what);
    sc->add_option("case_id", w_.case_id, "case id")->required();
    auto* note = sc->add_option("--note", w_.note, note_required ? "why, or what was done (required)" : "a remark");
    if (note_required) note->required();
    sc->add_option("--expected-version", w_.expected_version,
                   "the case version you last saw: a stale one changes nothing (0: do not check)")
        ->check(WholeNumber(std::numeric_limits<uint64_t>::max()));
    commands_.push_back(WorkCommand{sc, std::move(fill)});
    return sc;
  }

  // The parsed command, if a case-work command was given.
  const WorkCommand* Parsed() const {
    for (const auto& c : commands_) {
      if (c.cli->parsed()) return &c;
    }
    return nullptr;
  }

 private:
  CLI::App& app_;
  WorkFlags& w_;
  std::vector<WorkCommand> commands_;
};

const std::map<std::string, v1::RejectReason>& RejectReasons() {
  static const std::map<std::string, v1::RejectReason> m = {{"wrong-location", v1::REJECT_REASON_WRONG_LOCATION},
                                                            {"other-unit", v1::REJECT_REASON_OTHER_UNIT},
                                                            {"wrong-category", v1::REJECT_REASON_WRONG_CATEGORY},
                                                            {"not-our-duty", v1::REJECT_REASON_NOT_OUR_DUTY}};
  return m;
}

void AddWorkCommands(WorkCommandList& work, WorkFlags& w) {
  work.Add("accept", "签收: the responsible unit takes the case", false,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_accept(); });
  auto* reject = work.Add("reject", "退单: not ours; the case is re-routed or its parent arbitrates", false,
                          [](const WorkFlags& f, v1::CaseCommand* c) {
                            auto* r = c->mutable_reject();
                            r->set_reason(RejectReasons().at(f.reason));
                            if (f.lat_opt->count() > 0) {
                              r->mutable_corrected_location()->set_lat(f.lat);
                              r->mutable_corrected_location()->set_lng(f.lon);
                            }
                            r->set_corrected_address(f.address);
                            r->set_suggested_unit_code(f.unit);
                            r->set_corrected_category(f.category);
                          });
  reject->add_option("--reason", w.reason, "wrong-location, other-unit, wrong-category or not-our-duty")
      ->required()
      ->check(CLI::IsMember({"wrong-location", "other-unit", "wrong-category", "not-our-duty"}));
  w.lat_opt = reject->add_option("--lat", w.lat, "wrong-location: the corrected latitude");
  auto* lon_opt = reject->add_option("--lon", w.lon, "wrong-location: the corrected longitude");
  w.lat_opt->needs(lon_opt);
  lon_opt->needs(w.lat_opt);
  reject->add_option("--address", w.address, "wrong-location: the corrected address");
  reject->add_option("--unit", w.unit, "other-unit: the unit it belongs to");
  reject->add_option("--category", w.category, "wrong-category: the corrected category");
  work.Add("transfer", "move the case to another unit (supervisor, hotline)", false,
           [](const WorkFlags& f, v1::CaseCommand* c) { c->mutable_transfer()->set_unit_code(f.unit); })
      ->add_option("--unit", w.unit, "the unit that takes it")
      ->required();
  work.Add("note", "add a note to the case's history", true,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_add_note(); });
  work.Add("start", "an accepted case: work starts", false,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_start_work(); });
  work.Add("resolve", "答复: the work is done (every summoned department must have reported done)", true,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_resolve(); });
  auto* callback = work.Add(
      "callback", "回访: record the citizen's verdict on a resolved case", false,
      [](const WorkFlags& f, v1::CaseCommand* c) { c->mutable_record_callback()->set_satisfied(f.satisfied); });
  auto* verdict = callback->add_option_group("verdict", "exactly one of");
  verdict->add_flag("--satisfied", w.satisfied, "the citizen is satisfied");
  verdict->add_flag("--dissatisfied", w.dissatisfied, "the citizen is not satisfied (the case may be reopened)");
  verdict->require_option(1);
  work.Add("close", "办结: close a called-back case", false,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_close(); });
  work.Add("reopen", "重办: reopen after a dissatisfied callback, or a closed case", true,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_reopen(); });
  work.Add("merge", "merge this duplicate into its master case", false,
           [](const WorkFlags& f, v1::CaseCommand* c) { c->mutable_merge()->set_master_case_id(f.master); })
      ->add_option("--into", w.master, "the master case id")
      ->required();
  work.Add("cancel", "cancel a case not yet resolved", true,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_cancel(); });
  work.Add("escalate", "吹哨: raise the case one level up", true,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_escalate(); });
  auto* summon = work.Add("summon", "吹哨报到: summon departments, each with an arrival deadline", false,
                          [](const WorkFlags& f, v1::CaseCommand* c) {
                            auto* r = c->mutable_summon();
                            for (const auto& d : f.departments) r->add_department_codes(d);
                            r->set_arrive_within_minutes(f.arrive_within_minutes);
                          });
  summon->add_option("--dept", w.departments, "a department code (repeat for more)")->required();
  summon
      ->add_option("--arrive-within-minutes", w.arrive_within_minutes,
                   "arrival deadline in minutes (0: the server's default, 30)")
      ->check(WholeNumber());
  auto* report = work.Add("report-in", "报到: a summoned department arrives, or (--done) finishes its part", false,
                          [](const WorkFlags& f, v1::CaseCommand* c) {
                            c->mutable_report_in()->set_department_code(f.department);
                            c->mutable_report_in()->set_done(f.done);
                          });
  report->add_option("--dept", w.department, "the department reporting")->required();
  report->add_flag("--done", w.done, "its part is done (without: it has arrived)");
  work.Add("helper", "党员帮忙: a member of the case's grid or community helps", false,
           [](const WorkFlags& f, v1::CaseCommand* c) { c->mutable_assign_helper()->set_member_id(f.member); })
      ->add_option("--member", w.member, "the member id")
      ->required();
  work.Add("wait", "pause the resolve clock: waiting for the citizen", true,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_wait(); });
  work.Add("resume", "the citizen answered: the resolve clock runs again", false,
           [](const WorkFlags&, v1::CaseCommand* c) { c->mutable_resume(); });
  work.Add("extend", "延期: an approved extension stops the resolve clock for --hours", true,
           [](const WorkFlags& f, v1::CaseCommand* c) { c->mutable_extend()->set_hours(f.hours); })
      ->add_option("--hours", w.hours, "hours the resolve clock stops (1..720)")
      ->required()
      ->check(WholeNumber());
}

int RunWork(const Global& g, const WorkCommand& cmd, const WorkFlags& w) {
  v1::CaseCommand command;
  cmd.fill(w, &command);
  SetCommonFields(w, &command);
  auto stub = v1::CaseWork::NewStub(Connect(g));
  auto ctx = NewContext(g);
  v1::CaseWorkResponse resp;
  grpc::Status st = SendWork(*stub, ctx.get(), command, &resp);
  if (!st.ok()) return Report(st);
  if (g.json) {
    PrintJson(resp);
    return 0;
  }
  PrintWorkSummary(resp.case_());
  for (const auto& e : resp.events()) std::printf("  + %s\n", EventLine(e).c_str());
  return 0;
}

class Work final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    list_ = std::make_unique<WorkCommandList>(app, flags_);
    AddWorkCommands(*list_, flags_);
  }
  std::optional<int> Run(const Global& g) override {
    const WorkCommand* parsed = list_->Parsed();
    if (parsed == nullptr) return std::nullopt;
    return RunWork(g, *parsed, flags_);
  }

 private:
  WorkFlags flags_;
  std::unique_ptr<WorkCommandList> list_;
};

}  // namespace

std::unique_ptr<CommandGroup> WorkCommands() { return std::make_unique<Work>(); }

}  // namespace grid::tools::gridctl
