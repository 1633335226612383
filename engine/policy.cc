// The authorization policy: see policy.h.
#include "engine/policy.h"

#include "engine/reasons.h"

namespace grid::policy {
namespace {

// The table is indexed by Rpc: row i is Rpc i.
constexpr bool RowsInOrder() {
  for (size_t i = 0; i < kPolicy.size(); ++i) {
    if (static_cast<size_t>(kPolicy[i].rpc) != i) return false;
  }
  return true;
}
static_assert(RowsInOrder(), "kPolicy must list the RPCs in the order of enum Rpc");
static_assert(static_cast<size_t>(Rpc::kRevokeToken) + 1 == kRpcCount, "kRpcCount must count every Rpc");

constexpr bool RolesInOrder() {
  for (size_t i = 0; i < kRoles.size(); ++i) {
    if (static_cast<size_t>(kRoles[i].role) != i) return false;
  }
  return true;
}
static_assert(RolesInOrder(), "kRoles must list the roles in the order of enum Role");

bool Met(Rule rule, const Subject& s) {
  switch (rule) {
    case Rule::kDenied: return false;
    case Rule::kWholeScope: return s.whole_scope;
    case Rule::kTargetUnit:
    case Rule::kCaseUnit: return s.in_scope;
    case Rule::kUnitOrAbove: return s.in_scope || s.above_scope;
    case Rule::kCaseOrSubmitter: return s.in_scope || s.submitter;
    case Rule::kHandled: return s.in_scope && s.handles;
    case Rule::kParticipant: return (s.in_scope && s.handles) || s.summoned;
    case Rule::kSummoned: return s.summoned;
  }
  return false;
}

// How a rule reads in docs/security.md.
const char* Cell(Rule rule) {
  switch (rule) {
    case Rule::kDenied: return "no";
    case Rule::kWholeScope: return "whole scope";
    case Rule::kTargetUnit: return "unit";
    case Rule::kUnitOrAbove: return "unit or above";
    case Rule::kCaseUnit: return "case";
    case Rule::kCaseOrSubmitter: return "case or own";
    case Rule::kHandled: return "handled";
    case Rule::kParticipant: return "handled or summoned";
    case Rule::kSummoned: return "summoned";
  }
  return "?";
}

const char* Meaning(Rule rule) {
  switch (rule) {
    case Rule::kDenied: return "the role may not call it: `PERMISSION_DENIED ROLE_NOT_ALLOWED`";
    case Rule::kWholeScope: return "only with scope `*`: the call concerns the whole server";
    case Rule::kTargetUnit:
      return "the unit the request names (`scope_unit_code`, `unit_code`, the unit upserted and its parent) lies "
             "within the caller's scope; a request that names none passes";
    case Rule::kUnitOrAbove:
      return "the unit lies within the caller's scope or above it (the chain from the scope to the root); members "
             "are listed only for units within the scope";
    case Rule::kCaseUnit: return "the case's unit, or the unit it is escalated to, lies within the caller's scope";
    case Rule::kCaseOrSubmitter: return "as `case`, or the caller submitted the case (`Case.submitted_by`)";
    case Rule::kHandled:
      return "as `case`, and the department handles the case: it is routed to the department "
             "(`Case.department_code`) or its category is one the department handles";
    case Rule::kParticipant:
      return "as `handled`, or the department is summoned to the case (a sub-task of its own, 吹哨报到), "
             "wherever the case is";
    case Rule::kSummoned: return "the department is summoned to the case, and reports in for its own sub-task only";
  }
  return "?";
}

std::string ScopeText(std::string_view scope) { return IsWholeScope(scope) ? "*" : std::string(scope); }

}  // namespace

const RoleInfo& InfoOf(Role role) { return kRoles[static_cast<size_t>(role)]; }

std::optional<Role> RoleFromName(std::string_view name) {
  for (const auto& r : kRoles) {
    if (r.name == name) return r.role;
  }
  return std::nullopt;
}

const PolicyRow& RowOf(Rpc rpc) { return kPolicy[static_cast<size_t>(rpc)]; }

std::string RpcName(Rpc rpc) {
  const PolicyRow& row = RowOf(rpc);
  return std::string(row.service) + "." + std::string(row.method);
}

bool IsWholeScope(std::string_view scope) { return scope.empty() || scope == "*"; }

Subject OfCase(const Directory& dir, const Caller& caller, const grid::v1::Case& c) {
  Subject s;
  s.whole_scope = IsWholeScope(caller.scope);
  s.in_scope = s.whole_scope || dir.IsWithin(c.unit_code(), caller.scope) ||
               (!c.escalation_unit_code().empty() && dir.IsWithin(c.escalation_unit_code(), caller.scope));
  s.submitter = !caller.id.empty() && c.submitted_by() == caller.id;
  if (caller.role == Role::kDepartment && !caller.id.empty()) {
    s.handles = c.department_code() == caller.id;
    if (!s.handles) {
      const auto* category = dir.FindCategory(c.category());
      if (category != nullptr && category->handling() == grid::v1::HANDLING_DEPARTMENT) {
        for (const auto& d : category->department_codes()) s.handles = s.handles || d == caller.id;
      }
    }
    for (const auto& t : c.subtasks()) s.summoned = s.summoned || t.department_code() == caller.id;
  }
  return s;
}

Subject OfUnit(const Directory& dir, const Caller& caller, std::string_view unit_code) {
  Subject s;
  s.whole_scope = IsWholeScope(caller.scope);
  s.in_scope = s.whole_scope || unit_code.empty() || dir.IsWithin(unit_code, caller.scope);
  s.above_scope = !unit_code.empty() && dir.IsWithin(caller.scope, unit_code);
  return s;
}

Status AdmitRole(Role role, Rpc rpc) {
  if (RuleOf(role, rpc) != Rule::kDenied) return Status::Ok();
  return Error(reason::ROLE_NOT_ALLOWED, "role " + std::string(InfoOf(role).name) + " may not call " + RpcName(rpc));
}

Status Decide(Role role, Rpc rpc, const Subject& subject, std::string_view what) {
  GRID_RETURN_IF_ERROR(AdmitRole(role, rpc));
  const Rule rule = RuleOf(role, rpc);
  if (Met(rule, subject)) return Status::Ok();
  return Error(reason::OUT_OF_SCOPE, std::string(what) + " is outside what role " + std::string(InfoOf(role).name) +
                                         " may reach with " + RpcName(rpc) + " (" + Cell(rule) + ")");
}

Status AdmitCase(const Directory& dir, const Caller& caller, Rpc rpc, const grid::v1::Case& c) {
  return Decide(caller.role, rpc, OfCase(dir, caller, c), "case " + c.id());
}

Status AdmitUnit(const Directory& dir, const Caller& caller, Rpc rpc, std::string_view unit_code) {
  return Decide(caller.role, rpc, OfUnit(dir, caller, unit_code),
                unit_code.empty() ? std::string("the request")
                                  : "unit " + std::string(unit_code) + " (scope " + ScopeText(caller.scope) + ")");
}

std::string PolicyMarkdown() {
  std::string out = "| RPC |";
  std::string rule_line = "|---|";
  for (const auto& r : kRoles) {
    out += " " + std::string(r.name) + " |";
    rule_line += "---|";
  }
  out += "\n" + rule_line + "\n";
  for (const auto& row : kPolicy) {
    out += "| `" + RpcName(row.rpc) + "` |";
    for (const Rule rule : row.rules) out += " " + std::string(Cell(rule)) + " |";
    out += "\n";
  }
  out += "\n| rule | the call is allowed when |\n|---|---|\n";
  for (Rule rule : {Rule::kDenied, Rule::kWholeScope, Rule::kTargetUnit, Rule::kUnitOrAbove, Rule::kCaseUnit,
                    Rule::kCaseOrSubmitter, Rule::kHandled, Rule::kParticipant, Rule::kSummoned}) {
    out += "| " + std::string(Cell(rule)) + " | " + Meaning(rule) + " |\n";
  }
  out += "\n| role | citizen name and phone | members' names and phones in directory reads |\n|---|---|---|\n";
  for (const auto& r : kRoles) {
    out += "| " + std::string(r.name) + " | " + (r.sees_citizen ? "as stored" : "masked; RevealCitizen, audited") +
           " | " + (r.sees_member_contacts ? "as stored" : "masked") + " |\n";
  }
  return out;
}

}  // namespace grid::policy
