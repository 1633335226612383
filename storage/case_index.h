// The secondary index entries of one case record (case_index column family,
// storage/FORMAT.md). They are a pure function of the record, so that every
// commit can rewrite them from the difference between the record before and
// after, in the same batch as the change itself: an index can never disagree
// with the case it points to.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "engine/directory.h"
#include "grid/v1/case.pb.h"

namespace grid::storage {

// The unit a case is indexed under: its current unit, or the routed unit for
// records written before cases carried one.
const std::string& IndexedUnit(const grid::v1::Case& c);

// Sets c->unit_path to the chain of its unit in `directory`, root first,
// ending with the unit (the unit alone when the directory does not know it).
// The case writer calls it on every record it writes, so that the query
// indexes follow the unit and the directory.
void SetUnitPath(const Directory& directory, grid::v1::Case* c);

// Every index key of `c` (unsorted): by unit, by status, open by assignee,
// and one due-time key per pending timer (engine/lifecycle.h PendingTimers).
std::vector<std::string> CaseIndexKeys(const grid::v1::Case& c);

// One write to case_index beyond CaseIndexKeys' key-only entries.
struct IndexOp {
  enum class Kind { kPut, kDelete, kMerge };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
};

// The list entries that differ between two records of a change (before ==
// nullptr for a new case), as puts and deletes (storage/case_query.h).
std::vector<IndexOp> CaseListOps(const grid::v1::Case* before, const grid::v1::Case& after);

// The query index writes of one change (before == nullptr for a new case):
// the list entries that differ (storage/case_query.h) and the stats merge
// operands (storage/case_stats.h). A pure function of the records and the
// events the change appends.
std::vector<IndexOp> CaseQueryOps(const grid::v1::Case* before, const grid::v1::Case& after,
                                  const std::vector<grid::v1::CaseEvent>* events);

}  // namespace grid::storage
