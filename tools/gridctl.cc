// gridctl: the command-line client of gridd.
//
//   gridctl [--server HOST:PORT] [--token T] [--caller ID] [--json] COMMAND ...
//     submit  --category C (--lat Y --lon X | --address A | --unit U) --description D [--idempotency-key K] ...
//     get     CASE_ID
//     unit    CODE
//     route   --category C [--lat Y --lon X] [--address A] [--unit U]
//     import  divisions DIR [--replace]      (the five national division files, .csv or .csv.gz)
//     import  json FILE [--replace]          (a DirectoryContent in protobuf JSON)
//     import  geojson FILE --code-prop P [--name-prop P] [--parent-prop P | --parent CODE] [--level L] [--slug]
//   and one command per CaseWork RPC, each `COMMAND CASE_ID [--note N] [--expected-version V]` plus:
//     accept | start | close | resume                  (no more flags)
//     note | resolve | reopen | cancel | escalate | wait  --note is required
//     reject    --reason wrong-location|other-unit|wrong-category|not-our-duty
//               [--lat Y --lon X] [--address A] [--unit U] [--category C]
//     transfer  --unit U
//     callback  --satisfied | --dissatisfied
//     merge     --into MASTER_ID
//     summon    --dept CODE [--dept CODE]... [--arrive-within-minutes M]
//     report-in --dept CODE [--done]
//     helper    --member ID
//     extend    --hours N --note N
//     watch   [--scope CODE] [--from CURSOR] [--all] [--cursor-file F]
//             (a live stream of escalations, or with --all every case event; reconnects by itself
//             from the last cursor it printed, with backoff, until interrupted)
//     cases   --scope U [--status S]... [--category C] [--overdue] [--from/--to T] [--all-pages] ...
//     stats   --scope U --from YYYY-MM-DD --to YYYY-MM-DD      (see tools/gridctl_queries.h)
//
// Output is for people by default; --json prints the response messages as
// protobuf JSON for scripts. Exit codes: 0 success, 1 the server answered
// with an error (code and reason on stderr), 2 bad usage, 3 a local error
// (unreadable file) or an unreachable server.
#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <vector>

#include "engine/geojson.h"
#include "grid/v1/service.grpc.pb.h"
#include "tools/gridctl_queries.h"
#include "tools/loaders.h"

namespace {

namespace v1 = grid::v1;

struct Global {
  std::string server = "127.0.0.1:50051";
  std::string token;
  std::string caller;
  bool json = false;
  double timeout_s = 30;
};

std::unique_ptr<grpc::ClientContext> NewContext(const Global& g) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(g.timeout_s * 1000)));
  if (!g.token.empty()) ctx->AddMetadata("authorization", "Bearer " + g.token);
  if (!g.caller.empty()) ctx->AddMetadata("x-grid-caller", g.caller);
  return ctx;
}

const char* CodeName(grpc::StatusCode code) {
  static const char* names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                                "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? names[i] : "UNKNOWN";
}

// Prints a failed call; exit 3 when the server could not be reached, else 1.
int Report(const grpc::Status& status) {
  std::cerr << "gridctl: " << CodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ? 3 : 1;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  std::cout << out;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  std::time_t t = ts.seconds();
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string EnumShort(const std::string& full, const char* prefix) {
  return full.rfind(prefix, 0) == 0 ? full.substr(std::string(prefix).size()) : full;
}

void PrintRouting(const v1::RoutingDecision& r) {
  std::printf("  routed to   %s (%s)\n", r.unit_name().c_str(), r.unit_code().c_str());
  std::printf("  path        %s\n", r.path().c_str());
  std::printf("  method      %s%s%s\n", EnumShort(v1::RoutingMethod_Name(r.method()), "ROUTING_METHOD_").c_str(),
              r.ambiguous() ? " (ambiguous)" : "", r.needs_manual_dispatch() ? " (manual dispatch)" : "");
  std::printf("  why         %s\n", r.explanation().c_str());
  for (const auto& s : r.steps()) {
    std::printf("    %-14s %-4s %s\n", EnumShort(v1::RoutingMethod_Name(s.method()), "ROUTING_METHOD_").c_str(),
                s.matched() ? "yes" : "no", s.detail().c_str());
  }
  if (!r.department_code().empty()) std::printf("  department  %s\n", r.department_code().c_str());
  if (r.summoned_department_codes_size() > 0) {
    std::string s;
    for (const auto& d : r.summoned_department_codes()) s += (s.empty() ? "" : ", ") + d;
    std::printf("  summoned    %s\n", s.c_str());
  }
  if (!r.assignee_member_id().empty() || !r.assignee_explanation().empty()) {
    std::printf("  assignee    %s\n", r.assignee_explanation().c_str());
  }
  std::printf("  directory   version %llu\n", static_cast<unsigned long long>(r.directory_version()));
}

void PrintCase(const v1::Case& c) {
  std::printf("case %s  %s\n", c.id().c_str(), EnumShort(v1::CaseStatus_Name(c.status()), "CASE_STATUS_").c_str());
  std::printf("  category    %s\n", c.category().c_str());
  std::printf("  description %s\n", c.description().c_str());
  if (c.has_location()) std::printf("  location    %.6f, %.6f\n", c.location().lat(), c.location().lng());
  if (!c.address().empty()) std::printf("  address     %s\n", c.address().c_str());
  if (!c.citizen().name().empty() || !c.citizen().phone().empty()) {
    std::printf("  citizen     %s %s\n", c.citizen().name().c_str(), c.citizen().phone().c_str());
  }
  std::printf("  priority    %s\n", EnumShort(v1::Priority_Name(c.priority()), "PRIORITY_").c_str());
  std::printf("  created     %s by %s\n", FormatTime(c.created_at()).c_str(), c.submitted_by().c_str());
  PrintRouting(c.routing());
}

std::shared_ptr<grpc::Channel> Connect(const Global& g);

std::string UnitLabel(const v1::Case& c) {
  if (c.routing().unit_code() == c.unit_code() && !c.routing().unit_name().empty()) {
    return c.routing().unit_name() + " (" + c.unit_code() + ")";
  }
  return c.unit_code();
}

std::string EventLine(const v1::CaseEvent& e) {
  std::string line = "#" + std::to_string(e.seq()) + " " + EnumShort(v1::EventType_Name(e.type()), "EVENT_TYPE_");
  line += e.automatic() ? " (automatic)" : " by " + e.actor() + (e.actor_role().empty() ? "" : " (" + e.actor_role() + ")");
  if (e.reject_reason() != v1::REJECT_REASON_UNSPECIFIED) {
    line += " " + EnumShort(v1::RejectReason_Name(e.reject_reason()), "REJECT_REASON_");
  }
  if (e.deadline_kind() != v1::DEADLINE_KIND_UNSPECIFIED) {
    line += " " + EnumShort(v1::DeadlineKind_Name(e.deadline_kind()), "DEADLINE_KIND_") + " deadline";
  }
  if (!e.from_unit().empty() && !e.to_unit().empty()) {
    line += " " + e.from_unit() + " -> " + e.to_unit();
  } else if (!e.from_unit().empty()) {
    line += " from " + e.from_unit();
  } else if (!e.to_unit().empty()) {
    line += " to " + e.to_unit();
  }
  for (const auto& d : e.department_codes()) line += " " + d;
  if (e.type() == v1::EVENT_TYPE_CALLED_BACK) line += e.satisfied() ? " satisfied" : " dissatisfied";
  if (!e.member_id().empty()) line += " member " + e.member_id();
  if (!e.related_case_id().empty()) line += " case " + e.related_case_id();
  if (!e.note().empty()) line += ": " + e.note();
  return line;
}

// One stage's clock: "due T (warn W), overdue".
std::string StageLine(bool has_due, const google::protobuf::Timestamp& due, bool has_warn,
                      const google::protobuf::Timestamp& warn, bool overdue) {
  std::string s = has_due ? "due " + FormatTime(due) : "no timer";
  if (has_due && has_warn) s += " (warn " + FormatTime(warn) + ")";
  if (overdue) s += ", OVERDUE";
  return s;
}

// The short block after a case-work command: status, unit, the clocks still
// running, the open sub-tasks.
void PrintWorkSummary(const v1::Case& c) {
  std::printf("case %s  %s  version %llu\n", c.id().c_str(),
              EnumShort(v1::CaseStatus_Name(c.status()), "CASE_STATUS_").c_str(),
              static_cast<unsigned long long>(c.version()));
  std::printf("  unit        %s%s%s%s\n", UnitLabel(c).c_str(), c.arbitration() ? " (to arbitrate)" : "",
              c.assignee_member_id().empty() ? "" : ", assignee ", c.assignee_member_id().c_str());
  if (c.escalation_level() > 0) {
    std::printf("  escalated   level %u, to %s\n", c.escalation_level(), c.escalation_unit_code().c_str());
  }
  const auto& d = c.deadlines();
  if (c.status() == v1::CASE_STATUS_ROUTED) {
    std::printf("  accept      %s\n", StageLine(d.has_accept_due(), d.accept_due(), d.has_accept_warn_at(),
                                                d.accept_warn_at(), d.accept_overdue()).c_str());
  }
  if (c.status() == v1::CASE_STATUS_ROUTED || c.status() == v1::CASE_STATUS_ACCEPTED ||
      c.status() == v1::CASE_STATUS_IN_PROGRESS || c.status() == v1::CASE_STATUS_WAITING) {
    std::printf("  resolve     %s\n", c.status() == v1::CASE_STATUS_WAITING
                                          ? "clock paused (waiting for the citizen)"
                                          : StageLine(d.has_resolve_due(), d.resolve_due(), d.has_resolve_warn_at(),
                                                      d.resolve_warn_at(), d.resolve_overdue()).c_str());
  }
  for (const auto& t : c.subtasks()) {
    if (t.status() == v1::SUB_TASK_STATUS_DONE) continue;
    std::printf("  sub-task    %s %s, arrive by %s\n", t.department_code().c_str(),
                EnumShort(v1::SubTaskStatus_Name(t.status()), "SUB_TASK_STATUS_").c_str(),
                FormatTime(t.arrive_due()).c_str());
  }
}

// Every lifecycle field, for `get`.
void PrintLifecycle(const v1::Case& c) {
  std::printf("lifecycle (version %llu)\n", static_cast<unsigned long long>(c.version()));
  std::printf("  unit        %s%s\n", UnitLabel(c).c_str(), c.arbitration() ? " (to arbitrate)" : "");
  if (!c.assignee_member_id().empty()) std::printf("  assignee    %s\n", c.assignee_member_id().c_str());
  if (!c.department_code().empty()) std::printf("  department  %s\n", c.department_code().c_str());
  std::printf("  escalation  level %u%s%s\n", c.escalation_level(), c.escalation_unit_code().empty() ? "" : ", at ",
              c.escalation_unit_code().c_str());
  const auto& d = c.deadlines();
  std::printf("  deadlines   %s, %s time\n", d.deadline_class().empty() ? "(none)" : d.deadline_class().c_str(),
              d.working_time() ? "working" : "calendar");
  std::printf("    accept    %s\n", StageLine(d.has_accept_due(), d.accept_due(), d.has_accept_warn_at(),
                                            d.accept_warn_at(), d.accept_overdue()).c_str());
  if (c.has_accepted_at()) {
    std::printf("    accepted  %s (%s)\n", FormatTime(c.accepted_at()).c_str(),
                c.accepted_on_time() ? "on time" : "late");
  }
  std::printf("    resolve   %s\n", StageLine(d.has_resolve_due(), d.resolve_due(), d.has_resolve_warn_at(),
                                            d.resolve_warn_at(), d.resolve_overdue()).c_str());
  if (c.has_resolved_at()) {
    std::printf("    resolved  %s (%s)\n", FormatTime(c.resolved_at()).c_str(),
                c.resolved_on_time() ? "on time" : "late");
  }
  for (const auto& p : d.pauses()) {
    std::printf("    paused    %s .. %s (%s, by %s)\n", FormatTime(p.from()).c_str(),
                p.has_to() ? FormatTime(p.to()).c_str() : "now", p.reason().c_str(), p.actor().c_str());
  }
  if (c.subtasks_size() > 0) std::printf("  sub-tasks\n");
  for (const auto& t : c.subtasks()) {
    std::printf("    %-20s %-8s summoned %s, arrive by %s%s%s%s%s%s%s\n", t.department_code().c_str(),
                EnumShort(v1::SubTaskStatus_Name(t.status()), "SUB_TASK_STATUS_").c_str(),
                FormatTime(t.summoned_at()).c_str(), FormatTime(t.arrive_due()).c_str(),
                t.has_done_due() ? (", done by " + FormatTime(t.done_due())).c_str() : "",
                t.has_arrived_at() ? (", arrived " + FormatTime(t.arrived_at())).c_str() : "",
                t.has_done_at() ? (", done " + FormatTime(t.done_at())).c_str() : "",
                t.arrive_escalated() ? ", arrived late" : "", t.done_escalated() ? ", finished late" : "",
                t.note().empty() ? "" : (": " + t.note()).c_str());
  }
  if (c.helpers_size() > 0) std::printf("  helpers\n");
  for (const auto& h : c.helpers()) {
    std::printf("    %-8s %s%s since %s%s%s\n", h.member_id().c_str(), h.name().c_str(),
                h.party_member() ? " (party member)" : "", FormatTime(h.at()).c_str(), h.note().empty() ? "" : ": ",
                h.note().c_str());
  }
  if (c.rejections_size() > 0) std::printf("  rejections\n");
  for (const auto& r : c.rejections()) {
    std::printf("    %s  %s %s -> %s by %s%s%s\n", FormatTime(r.at()).c_str(), r.unit_code().c_str(),
                EnumShort(v1::RejectReason_Name(r.reason()), "REJECT_REASON_").c_str(), r.routed_to().c_str(),
                r.actor().c_str(), r.note().empty() ? "" : ": ", r.note().c_str());
  }
  if (c.has_callback()) {
    std::printf("  callback    %s at %s by %s%s%s\n", c.callback().satisfied() ? "satisfied" : "dissatisfied",
                FormatTime(c.callback().at()).c_str(), c.callback().actor().c_str(),
                c.callback().note().empty() ? "" : ": ", c.callback().note().c_str());
  }
  if (c.reopen_count() > 0) std::printf("  reopened    %u time(s)\n", c.reopen_count());
  if (!c.merged_into().empty()) std::printf("  merged into %s\n", c.merged_into().c_str());
  for (const auto& m : c.merged_case_ids()) std::printf("  duplicate   %s\n", m.c_str());
  if (!c.cancel_reason().empty()) std::printf("  cancelled   %s\n", c.cancel_reason().c_str());
  if (c.has_closed_at()) std::printf("  closed      %s\n", FormatTime(c.closed_at()).c_str());
}

// ---- CaseWork commands ----------------------------------------------------

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

class WorkCommands {
 public:
  WorkCommands(CLI::App& app, WorkFlags& w) : app_(app), w_(w) {}

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
  static const std::map<std::string, v1::RejectReason> m = {
      {"wrong-location", v1::REJECT_REASON_WRONG_LOCATION},
      {"other-unit", v1::REJECT_REASON_OTHER_UNIT},
      {"wrong-category", v1::REJECT_REASON_WRONG_CATEGORY},
      {"not-our-duty", v1::REJECT_REASON_NOT_OUR_DUTY}};
  return m;
}

void AddWorkCommands(WorkCommands& work, WorkFlags& w) {
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
  auto* callback = work.Add("callback", "回访: record the citizen's verdict on a resolved case", false,
                            [](const WorkFlags& f, v1::CaseCommand* c) {
                              c->mutable_record_callback()->set_satisfied(f.satisfied);
                            });
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
  summon->add_option("--arrive-within-minutes", w.arrive_within_minutes,
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

std::shared_ptr<grpc::Channel> Connect(const Global& g) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(g.server, grpc::InsecureChannelCredentials(), args);
}

v1::Priority ParsePriority(const std::string& s) {
  if (s == "urgent") return v1::PRIORITY_URGENT;
  if (s == "emergency") return v1::PRIORITY_EMERGENCY;
  return v1::PRIORITY_NORMAL;
}

v1::Channel ParseChannel(const std::string& s) {
  static const std::map<std::string, v1::Channel> m = {
      {"phone", v1::CHANNEL_PHONE},     {"web", v1::CHANNEL_WEB},         {"app", v1::CHANNEL_APP},
      {"wechat", v1::CHANNEL_WECHAT},   {"walk_in", v1::CHANNEL_WALK_IN}, {"grid_patrol", v1::CHANNEL_GRID_PATROL}};
  auto it = m.find(s);
  return it == m.end() ? v1::CHANNEL_PHONE : it->second;
}

// ---- watch -----------------------------------------------------------------

struct WatchOptions {
  std::string scope;
  uint64_t from = 0;
  bool from_given = false;
  bool all = false;
  std::string cursor_file;
};

// Names of units for readable paths ("澄迈县 / 金江镇 / ..."), asked once per unit.
class UnitNames {
 public:
  explicit UnitNames(const Global& g) : g_(g) {}
  std::string Name(const std::string& code) {
    auto it = names_.find(code);
    if (it != names_.end()) return it->second;
    if (!stub_) stub_ = v1::Directory::NewStub(Connect(g_));
    auto ctx = NewContext(g_);
    v1::GetUnitRequest req;
    req.set_code(code);
    v1::GetUnitResponse resp;
    if (!stub_->GetUnit(ctx.get(), req, &resp).ok()) return code;  // not cached: asked again next time
    for (const auto& a : resp.ancestors()) names_.emplace(a.code(), a.name());
    return names_[code] = resp.unit().name();
  }
  void Reset() { stub_.reset(); }

 private:
  const Global& g_;
  std::unique_ptr<v1::Directory::Stub> stub_;
  std::map<std::string, std::string> names_;
};

void PrintFeedEntry(const v1::FeedEntry& e, UnitNames& names) {
  const auto& ev = e.event();
  std::string path;
  for (const auto& code : e.unit_path()) path += (path.empty() ? "" : " / ") + names.Name(code);
  std::string what = EnumShort(v1::EventType_Name(ev.type()), "EVENT_TYPE_");
  if (ev.automatic()) what += " (deadline)";
  std::printf("%s  #%-8llu case %s  %-18s %s", FormatTime(ev.at()).c_str(),
              static_cast<unsigned long long>(e.cursor()), ev.case_id().c_str(), what.c_str(), path.c_str());
  if (!ev.to_unit().empty() && ev.to_unit() != ev.from_unit()) std::printf("  -> %s", names.Name(ev.to_unit()).c_str());
  if (!ev.note().empty()) std::printf("  : %s", ev.note().c_str());
  std::printf("\n");
  std::fflush(stdout);
}

void SaveCursor(const std::string& file, uint64_t cursor) {
  if (file.empty()) return;
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << cursor << "\n";
  }
  std::filesystem::rename(tmp, file);
}

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED || code == grpc::StatusCode::CANCELLED ||
         code == grpc::StatusCode::ABORTED || code == grpc::StatusCode::INTERNAL ||
         code == grpc::StatusCode::UNKNOWN;
}

// Prints the stream until an error that retrying cannot fix; reconnects from
// the last cursor it printed (or saved) otherwise, backing off up to 10 s.
int Watch(const Global& g, const WatchOptions& w) {
  uint64_t cursor = w.from;
  bool from_latest = !w.from_given;
  if (!w.cursor_file.empty()) {
    std::ifstream in(w.cursor_file);
    uint64_t saved = 0;
    if (in >> saved) {
      cursor = saved;
      from_latest = false;
    }
  }
  UnitNames names(g);
  auto backoff = std::chrono::milliseconds(200);
  while (true) {
    auto channel = Connect(g);
    auto stub = v1::EscalationFeed::NewStub(channel);
    grpc::ClientContext ctx;  // no deadline: a stream lasts
    if (!g.token.empty()) ctx.AddMetadata("authorization", "Bearer " + g.token);
    if (!g.caller.empty()) ctx.AddMetadata("x-grid-caller", g.caller);
    v1::WatchRequest req;
    req.set_scope_unit_code(w.scope);
    req.set_from_cursor(cursor);
    req.set_from_latest(from_latest);
    req.set_all_changes(w.all);
    auto reader = stub->Watch(&ctx, req);
    v1::WatchResponse r;
    while (reader->Read(&r)) {
      backoff = std::chrono::milliseconds(200);
      from_latest = false;
      for (const auto& e : r.entries()) {
        if (g.json) {
          PrintJson(e);
          std::cout << std::endl;
        } else {
          PrintFeedEntry(e, names);
        }
      }
      if (r.caught_up() && !g.json) std::fprintf(stderr, "gridctl: caught up at cursor %llu\n",
                                                  static_cast<unsigned long long>(r.cursor()));
      if (r.cursor() != cursor) {
        cursor = r.cursor();
        SaveCursor(w.cursor_file, cursor);
      }
    }
    grpc::Status st = reader->Finish();
    if (!Retryable(st.error_code())) return Report(st);
    std::fprintf(stderr, "gridctl: stream ended (%s: %s); reconnecting from cursor %llu in %.1f s\n",
                 CodeName(st.error_code()), st.error_message().c_str(), static_cast<unsigned long long>(cursor),
                 backoff.count() / 1000.0);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    names.Reset();
  }
}

// Streams `content` in chunks of at most `per_chunk` entries of each kind.
int SendImport(const Global& g, const v1::DirectoryContent& content, bool replace, const std::string& source) {
  auto stub = v1::Directory::NewStub(Connect(g));
  auto ctx = NewContext(g);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  v1::ImportResponse response;
  auto writer = stub->Import(ctx.get(), &response);
  constexpr int kPerChunk = 5000;
  int u = 0, m = 0, d = 0, c = 0, r = 0;
  bool first = true;
  while (first || u < content.units_size() || m < content.members_size() || d < content.departments_size() ||
         c < content.categories_size() || r < content.category_rules_size()) {
    v1::ImportChunk chunk;
    if (first) {
      chunk.set_mode(replace ? v1::IMPORT_MODE_REPLACE : v1::IMPORT_MODE_MERGE);
      chunk.set_source(source);
      first = false;
    }
    auto* out = chunk.mutable_content();
    for (int n = 0; n < kPerChunk && u < content.units_size(); ++n) *out->add_units() = content.units(u++);
    for (int n = 0; n < kPerChunk && m < content.members_size(); ++n) *out->add_members() = content.members(m++);
    for (int n = 0; n < kPerChunk && d < content.departments_size(); ++n) *out->add_departments() = content.departments(d++);
    for (int n = 0; n < kPerChunk && c < content.categories_size(); ++n) *out->add_categories() = content.categories(c++);
    for (int n = 0; n < kPerChunk && r < content.category_rules_size(); ++n) {
      *out->add_category_rules() = content.category_rules(r++);
    }
    chunk.set_last(u == content.units_size() && m == content.members_size() && d == content.departments_size() &&
                   c == content.categories_size() && r == content.category_rules_size());
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return Report(status);
  if (g.json) {
    PrintJson(response);
  } else {
    std::printf("imported %u units, %u members, %u departments, %u categories, %u category rules: directory version %llu\n",
                response.units(), response.members(), response.departments(), response.categories(),
                response.category_rules(),
                static_cast<unsigned long long>(response.directory_version()));
  }
  return 0;
}

// Loads content locally, then streams it to the server.
int ImportLoaded(const Global& g, grid::StatusOr<v1::DirectoryContent> content, bool replace,
                 const std::string& source) {
  if (!content.ok()) {
    std::cerr << "gridctl: " << content.status().ToString() << "\n";
    return 3;
  }
  return SendImport(g, *content, replace, source);
}

}  // namespace

int main(int argc, char** argv) {
  Global g;
  if (const char* s = std::getenv("GRID_SERVER")) g.server = s;
  if (const char* t = std::getenv("GRID_TOKEN")) g.token = t;

  CLI::App app{"gridctl: client of the grid case routing server"};
  app.require_subcommand(1);
  app.add_option("--server", g.server, "gridd address (env GRID_SERVER)")->capture_default_str();
  app.add_option("--token", g.token, "bearer token (env GRID_TOKEN)");
  app.add_option("--caller", g.caller, "caller id in open mode (x-grid-caller)");
  app.add_flag("--json", g.json, "print protobuf JSON");
  app.add_option("--timeout", g.timeout_s, "seconds per call")->capture_default_str();

  v1::SubmitCaseRequest submit;
  double lat = 0, lon = 0;
  std::string priority = "normal", channel = "phone", name, phone;
  auto* sub = app.add_subcommand("submit", "submit a citizen case");
  sub->add_option("--category", *submit.mutable_category(), "category code")->required();
  sub->add_option("--description", *submit.mutable_description(), "what the citizen reported")->required();
  auto* lat_opt = sub->add_option("--lat", lat, "latitude (WGS-84)");
  auto* lon_opt = sub->add_option("--lon", lon, "longitude (WGS-84)");
  lat_opt->needs(lon_opt);
  lon_opt->needs(lat_opt);
  sub->add_option("--address", *submit.mutable_address(), "address text");
  sub->add_option("--unit", *submit.mutable_unit_code(), "the responsible unit, if the operator knows it");
  sub->add_option("--idempotency-key", *submit.mutable_idempotency_key(), "retry key: the same key returns the same case");
  sub->add_option("--name", name, "citizen's name");
  sub->add_option("--phone", phone, "citizen's phone");
  sub->add_option("--priority", priority, "normal, urgent or emergency")->capture_default_str()
      ->check(CLI::IsMember({"normal", "urgent", "emergency"}));
  sub->add_option("--channel", channel, "phone, web, app, wechat, walk_in, grid_patrol")->capture_default_str()
      ->check(CLI::IsMember({"phone", "web", "app", "wechat", "walk_in", "grid_patrol"}));
  std::vector<std::string> attachments;
  sub->add_option("--attachment", attachments, "attachment URL (repeatable)");

  std::string case_id;
  auto* get = app.add_subcommand("get", "show a case and its history");
  get->add_option("id", case_id, "case id")->required();

  std::string unit_code;
  auto* unit = app.add_subcommand("unit", "show a unit, its ancestors, children and members");
  unit->add_option("code", unit_code, "unit code")->required();

  v1::RouteCaseRequest route;
  double rlat = 0, rlon = 0;
  auto* rt = app.add_subcommand("route", "where would a case go, and why (creates nothing)");
  rt->add_option("--category", *route.mutable_category(), "category code")->required();
  auto* rlat_opt = rt->add_option("--lat", rlat, "latitude");
  auto* rlon_opt = rt->add_option("--lon", rlon, "longitude");
  rlat_opt->needs(rlon_opt);
  rlon_opt->needs(rlat_opt);
  rt->add_option("--address", *route.mutable_address(), "address text");
  rt->add_option("--unit", *route.mutable_unit_code(), "explicit unit");

  auto* imp = app.add_subcommand("import", "import directory data");
  imp->require_subcommand(1);
  std::string import_dir, import_json;
  bool replace = false;
  auto* imp_div = imp->add_subcommand("divisions", "the national division files (provinces, cities, areas, streets, villages)");
  imp_div->add_option("dir", import_dir, "folder holding the five .csv or .csv.gz files")->required();
  imp_div->add_flag("--replace", replace, "replace the whole directory instead of merging");
  grid::GeoJsonMapping mapping;
  std::string geojson_file, level_name = "grid";
  auto* imp_geo = imp->add_subcommand("geojson", "units with boundaries from a GeoJSON FeatureCollection");
  imp_geo->add_option("file", geojson_file, "GeoJSON file (.geojson, optionally .gz)")->required();
  imp_geo->add_option("--code-prop", mapping.code_prop, "feature property holding the unit code")->required();
  imp_geo->add_option("--name-prop", mapping.name_prop, "feature property holding the name (default: the code)");
  imp_geo->add_option("--parent-prop", mapping.parent_prop, "feature property holding the parent's code");
  imp_geo->add_option("--parent", mapping.parent_code, "the parent of every unit, when there is no --parent-prop");
  imp_geo->add_option("--level", level_name, "level of the units")
      ->capture_default_str()
      ->check(CLI::IsMember({"county", "town", "community", "grid"}));
  imp_geo->add_option("--code-prefix", mapping.code_prefix, "prepended to every code");
  imp_geo->add_option("--parent-prefix", mapping.parent_prefix, "prepended to every parent code");
  imp_geo->add_flag("--slug", mapping.slug_values, "turn code and parent values into codes (\"REGION 8\" -> region-8)");
  auto* imp_json = imp->add_subcommand("json", "a DirectoryContent message in protobuf JSON");
  imp_json->add_option("file", import_json, "file")->required();
  imp_json->add_flag("--replace", replace, "replace the whole directory instead of merging");

  WorkFlags work_flags;
  WorkCommands work(app, work_flags);
  AddWorkCommands(work, work_flags);
  WatchOptions watch;
  auto* wt = app.add_subcommand("watch", "a live stream of escalations (or every change with --all) of a subtree");
  wt->add_option("--scope", watch.scope, "unit code whose subtree to watch (default: your own scope)");
  auto* from_opt = wt->add_option("--from", watch.from, "replay everything after this cursor first");
  wt->add_flag("--all", watch.all, "every case event, not only escalations");
  wt->add_option("--cursor-file", watch.cursor_file,
                 "keep the last cursor in this file and resume from it when started again");
  grid::tools::QueryCommands queries(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }

  if (const WorkCommand* w = work.Parsed()) return RunWork(g, *w, work_flags);
  if (wt->parsed()) {
    watch.from_given = from_opt->count() > 0;
    return Watch(g, watch);
  }
  if (queries.parsed()) {
    return queries.Run(Connect(g), {[&g] { return NewContext(g); }, Report, PrintJson, g.json});
  }
  if (sub->parsed()) {
    if (lat_opt->count() > 0) {
      submit.mutable_location()->set_lat(lat);
      submit.mutable_location()->set_lng(lon);
    }
    submit.set_priority(ParsePriority(priority));
    submit.set_channel(ParseChannel(channel));
    submit.mutable_citizen()->set_name(name);
    submit.mutable_citizen()->set_phone(phone);
    for (auto& a : attachments) submit.add_attachment_urls(a);
    auto stub = v1::CaseIntake::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::SubmitCaseResponse resp;
    grpc::Status st = stub->SubmitCase(ctx.get(), submit, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintCase(resp.case_());
    }
    return 0;
  }
  if (get->parsed()) {
    auto stub = v1::CaseQuery::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::GetCaseRequest req;
    req.set_case_id(case_id);
    v1::GetCaseResponse resp;
    grpc::Status st = stub->GetCase(ctx.get(), req, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    PrintCase(resp.case_());
    PrintLifecycle(resp.case_());
    std::printf("history\n");
    for (const auto& e : resp.events()) std::printf("  %s  %s\n", FormatTime(e.at()).c_str(), EventLine(e).c_str());
    return 0;
  }
  if (unit->parsed()) {
    auto stub = v1::Directory::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::GetUnitRequest req;
    req.set_code(unit_code);
    v1::GetUnitResponse resp;
    grpc::Status st = stub->GetUnit(ctx.get(), req, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    const auto& u = resp.unit();
    std::printf("%s %s (%s)\n", u.code().c_str(), u.name().c_str(),
                EnumShort(v1::UnitLevel_Name(u.level()), "UNIT_LEVEL_").c_str());
    std::string path;
    for (const auto& a : resp.ancestors()) path += a.name() + " / ";
    std::printf("  path        %s%s\n", path.c_str(), u.name().c_str());
    if (!u.party_organisation().name().empty()) std::printf("  party org   %s\n", u.party_organisation().name().c_str());
    if (u.boundary().polygons_size() > 0) {
      std::printf("  boundary    %d polygon(s)\n", u.boundary().polygons_size());
    }
    for (const auto& a : u.address_coverage()) {
      if (a.from_number() || a.to_number()) {
        std::printf("  covers      %s %d-%d号\n", a.street().c_str(), a.from_number(), a.to_number());
      } else {
        std::printf("  covers      %s\n", a.street().c_str());
      }
    }
    std::printf("  directory   version %llu\n", static_cast<unsigned long long>(resp.directory_version()));
    if (resp.children_size() > 0) std::printf("children (%d shown)\n", resp.children_size());
    for (const auto& c : resp.children()) {
      std::printf("  %-16s %-24s %4u children %5u members\n", c.code().c_str(), c.name().c_str(), c.child_count(),
                  c.member_count());
    }
    if (!resp.next_page_token().empty()) std::printf("  ... more children after %s\n", resp.next_page_token().c_str());
    if (resp.members_size() > 0) std::printf("members (%d)\n", resp.members_size());
    for (const auto& m : resp.members()) {
      std::string roles;
      for (int r : m.roles()) {
        roles += (roles.empty() ? "" : ",") + EnumShort(v1::MemberRole_Name(static_cast<v1::MemberRole>(r)), "MEMBER_ROLE_");
      }
      std::string skills;
      for (const auto& s : m.skills()) skills += (skills.empty() ? " skills: " : ",") + s;
      std::printf("  %-8s %-8s %s%s%s\n", m.id().c_str(), m.name().c_str(), roles.c_str(), m.on_duty() ? " on-duty" : "",
                  skills.c_str());
    }
    return 0;
  }
  if (rt->parsed()) {
    if (rlat_opt->count() > 0) {
      route.mutable_location()->set_lat(rlat);
      route.mutable_location()->set_lng(rlon);
    }
    auto stub = v1::Directory::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::RouteCaseResponse resp;
    grpc::Status st = stub->RouteCase(ctx.get(), route, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintRouting(resp.routing());
    }
    return 0;
  }
  if (imp_div->parsed()) return ImportLoaded(g, grid::tools::LoadDivisionsDir(import_dir), replace, import_dir);
  if (imp_json->parsed()) return ImportLoaded(g, grid::tools::LoadDirectoryJson(import_json), replace, import_json);
  if (imp_geo->parsed()) {
    static const std::map<std::string, v1::UnitLevel> levels = {{"county", v1::UNIT_LEVEL_COUNTY},
                                                                {"town", v1::UNIT_LEVEL_TOWN},
                                                                {"community", v1::UNIT_LEVEL_COMMUNITY},
                                                                {"grid", v1::UNIT_LEVEL_GRID}};
    mapping.level = levels.at(level_name);
    auto text = grid::tools::ReadFileMaybeGz(geojson_file);
    if (!text.ok()) return ImportLoaded(g, text.status(), false, geojson_file);
    const std::string name = std::filesystem::path(geojson_file).filename().string();
    return ImportLoaded(g, grid::ParseGeoJsonUnits(*text, mapping, name), false, geojson_file);
  }
  return 2;
}
