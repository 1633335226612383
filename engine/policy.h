// The authorization policy (issue #14): for every RPC of grid.v1 and every
// role, whether the role may call it and on which cases or units. The policy
// is data, kPolicy below, one row per RPC and one rule per role; Decide is the
// one function that reads it. The services call it through Admit* on the
// case or unit a request names (services/policy.h), and Lifecycle::Apply
// calls it for every case-work command on the stored case it is about to
// change, so reads and writes follow the same table. docs/security.md
// "Authorization policy" is PolicyMarkdown(), compared by
// tests/engine/policy_test.cc, so the document cannot drift from the code.
//
// A rule is decided from facts about the subject (Subject): whether the unit
// lies within the caller's scope, whether the caller submitted the case,
// whether a department handles it or is summoned to it. OfCase and OfUnit
// compute them from the stored case and the directory.
//
// Errors: PERMISSION_DENIED ROLE_NOT_ALLOWED (the rule is kDenied) or
// OUT_OF_SCOPE (the subject does not meet the rule).
//
// Thread-safety: constants and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/directory.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"

namespace grid::policy {

// The roles of the token file (services/auth.h), in its order.
enum class Role : uint8_t { kCallCenter, kGridWorker, kDepartment, kSupervisor, kTownOffice, kAdmin };
inline constexpr size_t kRoleCount = 6;

struct RoleInfo {
  Role role;
  std::string_view name;
  // Sees the citizen's name and phone as stored; others see them masked
  // ("陈**", "138****1234") and may ask for them with RevealCitizen, which
  // records who, when and why in the case's history.
  bool sees_citizen;
  // Dispatches work: sees members' names and phones in directory reads;
  // others see them masked.
  bool sees_member_contacts;
};
inline constexpr std::array<RoleInfo, kRoleCount> kRoles = {{
    {Role::kCallCenter, "call_center", true, true},
    {Role::kGridWorker, "grid_worker", true, false},
    {Role::kDepartment, "department", false, false},
    {Role::kSupervisor, "supervisor", false, true},
    {Role::kTownOffice, "town_office", false, false},
    {Role::kAdmin, "admin", true, true},
}};

const RoleInfo& InfoOf(Role role);
std::optional<Role> RoleFromName(std::string_view name);

// Every method of every service in proto/grid/v1/service.proto and
// operations.proto.
enum class Rpc : uint8_t {
  kSubmitCase,
  kGetCase,
  kListCases,
  kGetStats,
  kRevealCitizen,
  kAccept,
  kReject,
  kTransfer,
  kAddNote,
  kStartWork,
  kResolve,
  kRecordCallback,
  kClose,
  kReopen,
  kMerge,
  kCancel,
  kEscalate,
  kSummonDepartments,
  kReportIn,
  kAssignHelper,
  kWait,
  kResume,
  kExtend,
  kWatch,
  kGetUnit,
  kListChildren,
  kImport,
  kUpsertUnit,
  kRestorePreviousVersion,
  kRouteCase,
  kCreateBackup,
  kListBackups,
  kCreateToken,
  kListTokens,
  kRevokeToken,
};

// What a role needs of the subject to call an RPC.
enum class Rule : uint8_t {
  kDenied,           // never: ROLE_NOT_ALLOWED
  kWholeScope,       // the caller's scope is everything ("*")
  kTargetUnit,       // the unit the request names lies within the scope (no unit named: passes)
  kUnitOrAbove,      // the unit named lies within the scope or above it (the chain to the root)
  kCaseUnit,         // the case's unit, or the unit it is escalated to, lies within the scope
  kCaseOrSubmitter,  // kCaseUnit, or the caller submitted the case
  kHandled,          // department: kCaseUnit, and the department handles the case or its category
  kParticipant,      // department: kHandled, or the department is summoned to the case
  kSummoned,         // department: summoned to the case (its own sub-task only)
};

struct PolicyRow {
  Rpc rpc;
  std::string_view service;            // e.g. "CaseWork"
  std::string_view method;             // e.g. "Accept"
  std::array<Rule, kRoleCount> rules;  // by Role
};

// One letter per rule, for the table.
namespace cells {
inline constexpr Rule D = Rule::kDenied;
inline constexpr Rule W = Rule::kWholeScope;
inline constexpr Rule T = Rule::kTargetUnit;
inline constexpr Rule U = Rule::kUnitOrAbove;
inline constexpr Rule C = Rule::kCaseUnit;
inline constexpr Rule S = Rule::kCaseOrSubmitter;
inline constexpr Rule H = Rule::kHandled;
inline constexpr Rule P = Rule::kParticipant;
inline constexpr Rule M = Rule::kSummoned;
}  // namespace cells

inline constexpr size_t kRpcCount = 35;

// The table. Columns: call_center, grid_worker, department, supervisor,
// town_office, admin.
inline constexpr std::array<PolicyRow, kRpcCount> kPolicy = [] {
  using namespace cells;
  return std::array<PolicyRow, kRpcCount>{{
      // clang-format off
    // rpc                      service           method               cc grid dept sup town admin
    {Rpc::kSubmitCase,        "CaseIntake",     "SubmitCase",        {T, T, D, D, D, T}},
    {Rpc::kGetCase,           "CaseQuery",      "GetCase",           {S, S, P, C, C, C}},
    {Rpc::kListCases,         "CaseQuery",      "ListCases",         {T, T, T, T, T, T}},
    {Rpc::kGetStats,          "CaseQuery",      "GetStats",          {T, T, T, T, T, T}},
    {Rpc::kRevealCitizen,     "CaseQuery",      "RevealCitizen",     {D, D, P, C, C, D}},
    {Rpc::kAccept,            "CaseWork",       "Accept",            {D, C, H, C, D, C}},
    {Rpc::kReject,            "CaseWork",       "Reject",            {D, C, H, C, D, C}},
    {Rpc::kTransfer,          "CaseWork",       "Transfer",          {C, D, D, C, D, C}},
    {Rpc::kAddNote,           "CaseWork",       "AddNote",           {C, C, P, C, C, C}},
    {Rpc::kStartWork,         "CaseWork",       "StartWork",         {D, C, H, C, D, C}},
    {Rpc::kResolve,           "CaseWork",       "Resolve",           {D, C, H, C, D, C}},
    {Rpc::kRecordCallback,    "CaseWork",       "RecordCallback",    {C, D, D, C, D, C}},
    {Rpc::kClose,             "CaseWork",       "Close",             {C, D, D, C, D, C}},
    {Rpc::kReopen,            "CaseWork",       "Reopen",            {C, D, D, C, D, C}},
    {Rpc::kMerge,             "CaseWork",       "Merge",             {C, D, D, C, D, C}},
    {Rpc::kCancel,            "CaseWork",       "Cancel",            {C, D, D, C, D, C}},
    {Rpc::kEscalate,          "CaseWork",       "Escalate",          {C, C, H, C, D, C}},
    {Rpc::kSummonDepartments, "CaseWork",       "SummonDepartments", {D, C, D, C, D, C}},
    {Rpc::kReportIn,          "CaseWork",       "ReportIn",          {D, D, M, C, D, C}},
    {Rpc::kAssignHelper,      "CaseWork",       "AssignHelper",      {D, C, D, C, D, C}},
    {Rpc::kWait,              "CaseWork",       "Wait",              {D, C, H, C, D, C}},
    {Rpc::kResume,            "CaseWork",       "Resume",            {C, C, H, C, D, C}},
    {Rpc::kExtend,            "CaseWork",       "Extend",            {D, D, D, C, D, C}},
    {Rpc::kWatch,             "EscalationFeed", "Watch",             {T, T, D, T, T, T}},
    {Rpc::kGetUnit,           "Directory",      "GetUnit",           {U, U, U, U, U, U}},
    {Rpc::kListChildren,      "Directory",      "ListChildren",      {U, U, U, U, U, U}},
    {Rpc::kImport,            "Directory",      "Import",            {D, D, D, D, D, W}},
    {Rpc::kUpsertUnit,        "Directory",      "UpsertUnit",        {D, D, D, D, D, T}},
    {Rpc::kRestorePreviousVersion, "Directory", "RestorePreviousVersion", {D, D, D, D, D, W}},
    {Rpc::kRouteCase,         "Directory",      "RouteCase",         {T, T, T, T, T, T}},
    {Rpc::kCreateBackup,      "Operations",     "CreateBackup",      {D, D, D, D, D, W}},
    {Rpc::kListBackups,       "Operations",     "ListBackups",       {D, D, D, D, D, W}},
    {Rpc::kCreateToken,       "Operations",     "CreateToken",       {D, D, D, D, D, W}},
    {Rpc::kListTokens,        "Operations",     "ListTokens",        {D, D, D, D, D, W}},
    {Rpc::kRevokeToken,       "Operations",     "RevokeToken",       {D, D, D, D, D, W}},
      // clang-format on
  }};
}();

const PolicyRow& RowOf(Rpc rpc);
// "CaseWork.Accept"
std::string RpcName(Rpc rpc);
inline Rule RuleOf(Role role, Rpc rpc) { return RowOf(rpc).rules[static_cast<size_t>(role)]; }

// The caller, as policy sees it. A department's id is its department code.
struct Caller {
  std::string_view id;
  Role role = Role::kAdmin;
  std::string_view scope;  // a unit code; "" or "*": everything
};

// Facts about what a call is on.
struct Subject {
  bool in_scope = false;     // the unit (a case's unit or escalation unit) lies within the scope
  bool above_scope = false;  // the unit is an ancestor of the scope's unit
  bool whole_scope = false;  // the caller's scope is everything
  bool submitter = false;    // the caller submitted the case
  bool handles = false;      // department: the case is its own, or its category's
  bool summoned = false;     // department: it has a sub-task on the case
};

bool IsWholeScope(std::string_view scope);

// The facts of a stored case, and of a unit named by a request ("" = none).
Subject OfCase(const Directory& directory, const Caller& caller, const grid::v1::Case& c);
Subject OfUnit(const Directory& directory, const Caller& caller, std::string_view unit_code);

// Whether the role may call the RPC at all: ROLE_NOT_ALLOWED when not.
Status AdmitRole(Role role, Rpc rpc);
// The whole decision: ROLE_NOT_ALLOWED, then OUT_OF_SCOPE when the subject
// does not meet the role's rule. `what` names the subject in the message.
Status Decide(Role role, Rpc rpc, const Subject& subject, std::string_view what = "the subject");

// Shorthands: OfCase/OfUnit then Decide.
Status AdmitCase(const Directory& directory, const Caller& caller, Rpc rpc, const grid::v1::Case& c);
Status AdmitUnit(const Directory& directory, const Caller& caller, Rpc rpc, std::string_view unit_code);

// The "Authorization policy" tables of docs/security.md, generated from
// kPolicy and kRoles.
std::string PolicyMarkdown();

}  // namespace grid::policy
