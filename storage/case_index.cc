// Secondary index entries of a case: see case_index.h.
#include "storage/case_index.h"

#include "engine/case_id.h"
#include "engine/lifecycle.h"
#include "storage/keys.h"

namespace grid::storage {

const std::string& IndexedUnit(const grid::v1::Case& c) {
  return c.unit_code().empty() ? c.routing().unit_code() : c.unit_code();
}

std::vector<std::string> CaseIndexKeys(const grid::v1::Case& c) {
  std::vector<std::string> keys;
  auto id = ParseCaseId(c.id());
  if (!id) return keys;
  keys.push_back(ByUnitKey(IndexedUnit(c), *id));
  keys.push_back(ByStatusKey(c.status(), *id));
  const std::string& assignee =
      c.unit_code().empty() ? c.routing().assignee_member_id() : c.assignee_member_id();
  if (!assignee.empty() && IsOpen(c.status())) keys.push_back(OpenByAssigneeKey(assignee, *id));
  for (const PendingTimer& t : PendingTimers(c)) {
    keys.push_back(EncodeDueKey(DueKey{static_cast<uint64_t>(t.due), *id, static_cast<int>(t.kind), t.subtask,
                                       t.warning}));
  }
  return keys;
}

}  // namespace grid::storage
