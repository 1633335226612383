// ValidateCommand (see lifecycle.h): the field checks of a case-work command
// that need no case and no directory, so that the services can answer them on
// the gRPC thread and the case writer can check them again before Apply.
//
// Thread-safety: pure functions.
#include <set>
#include <string>
#include <string_view>

#include "engine/case_id.h"
#include "engine/lifecycle.h"
#include "engine/lifecycle_internal.h"
#include "engine/reasons.h"
#include "engine/text.h"
#include "engine/validation.h"

namespace grid {

using grid::v1::CaseCommand;
using lifecycle_internal::IsBlank;
using lifecycle_internal::VisitCommand;

namespace {

Status CheckText(std::string_view field, const std::string& value, size_t max_chars, bool required) {
  if (!text::IsValidUtf8(value)) return Error(reason::INVALID_UTF8, std::string(field) + " is not valid UTF-8");
  if (required && IsBlank(value)) {
    return Error(reason::MISSING_NOTE, std::string(field) + " is required for this action");
  }
  if (text::CodePointCount(value) > max_chars) {
    return Error(reason::NOTE_TOO_LONG,
                 std::string(field) + " is longer than " + std::to_string(max_chars) + " characters");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateCommand(const CaseCommand& command, const LifecycleOptions& options) {
  if (command.action_case() == CaseCommand::ACTION_NOT_SET) {
    return Error(reason::MISSING_ACTION, "the command names no action");
  }
  const std::string& id = CommandCaseId(command);
  if (id.empty()) return Error(reason::MISSING_CASE_ID, "case_id is required");
  if (!ParseCaseId(id)) return Error(reason::INVALID_CASE_ID, "case_id '" + id + "' is not a case id");
  if (command.has_fire()) return Status::Ok();
  GRID_RETURN_IF_ERROR(CheckCharacters(command));

  // Actions whose note is required: it is the record of what was done or why.
  const bool note_required = command.has_add_note() || command.has_resolve() || command.has_reopen() ||
                             command.has_cancel() || command.has_escalate() || command.has_wait() ||
                             command.has_extend() || command.has_reveal();
  GRID_RETURN_IF_ERROR(VisitCommand(
      command, [&](const auto& r) { return CheckText("note", r.note(), options.max_note_chars, note_required); }));

  switch (command.action_case()) {
    case CaseCommand::kReject: {
      const auto& r = command.reject();
      if (r.reason() == grid::v1::REJECT_REASON_UNSPECIFIED) {
        return Error(reason::MISSING_REASON, "a rejection needs a reason code");
      }
      if (!grid::v1::RejectReason_IsValid(r.reason())) {
        return Error(reason::INVALID_REASON, "reason " + std::to_string(r.reason()) + " is not a reason code");
      }
      if (r.has_corrected_location()) GRID_RETURN_IF_ERROR(ValidateLocation(r.corrected_location()));
      GRID_RETURN_IF_ERROR(CheckText("corrected_address", r.corrected_address(), 500, false));
      if (r.reason() == grid::v1::REJECT_REASON_WRONG_LOCATION && !r.has_corrected_location() &&
          IsBlank(r.corrected_address())) {
        return Error(reason::MISSING_CORRECTION, "WRONG_LOCATION needs corrected_location or corrected_address");
      }
      if (r.reason() == grid::v1::REJECT_REASON_OTHER_UNIT && r.suggested_unit_code().empty()) {
        return Error(reason::MISSING_UNIT, "OTHER_UNIT needs suggested_unit_code");
      }
      if (r.reason() == grid::v1::REJECT_REASON_WRONG_CATEGORY && r.corrected_category().empty()) {
        return Error(reason::MISSING_CATEGORY, "WRONG_CATEGORY needs corrected_category");
      }
      break;
    }
    case CaseCommand::kTransfer:
      if (command.transfer().unit_code().empty()) return Error(reason::MISSING_UNIT, "unit_code is required");
      break;
    case CaseCommand::kMerge:
      if (command.merge().master_case_id().empty()) {
        return Error(reason::MISSING_MASTER, "master_case_id is required");
      }
      if (!ParseCaseId(command.merge().master_case_id())) {
        return Error(reason::INVALID_CASE_ID,
                     "master_case_id '" + command.merge().master_case_id() + "' is not a case id");
      }
      if (*ParseCaseId(command.merge().master_case_id()) == *ParseCaseId(id)) {
        return Error(reason::SELF_MERGE, "a case cannot be merged into itself");
      }
      break;
    case CaseCommand::kSummon: {
      const auto& r = command.summon();
      if (r.department_codes().empty()) {
        return Error(reason::MISSING_DEPARTMENT, "department_codes needs at least one department");
      }
      if (static_cast<size_t>(r.department_codes_size()) > options.max_departments_per_summons) {
        return Error(reason::TOO_MANY_DEPARTMENTS,
                     "at most " + std::to_string(options.max_departments_per_summons) + " departments per summons");
      }
      std::set<std::string> seen;
      for (const auto& code : r.department_codes()) {
        if (code.empty()) return Error(reason::MISSING_DEPARTMENT, "a department code is empty");
        if (!seen.insert(code).second) {
          return Error(reason::DUPLICATE_DEPARTMENT, "department '" + code + "' is named twice");
        }
      }
      if (r.arrive_within_minutes() > options.max_arrive_within_minutes) {
        return Error(reason::INVALID_ARRIVE_WITHIN,
                     "arrive_within_minutes is at most " + std::to_string(options.max_arrive_within_minutes));
      }
      break;
    }
    case CaseCommand::kReportIn:
      if (command.report_in().department_code().empty()) {
        return Error(reason::MISSING_DEPARTMENT, "department_code is required");
      }
      break;
    case CaseCommand::kAssignHelper:
      if (command.assign_helper().member_id().empty()) {
        return Error(reason::MISSING_MEMBER, "member_id is required");
      }
      break;
    case CaseCommand::kExtend:
      if (command.extend().hours() == 0 || command.extend().hours() > options.max_extension_hours) {
        return Error(reason::INVALID_EXTENSION, "hours must be 1.." + std::to_string(options.max_extension_hours));
      }
      break;
    default: break;
  }
  return Status::Ok();
}

}  // namespace grid
