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

#include "grid/v1/case.pb.h"

namespace grid::storage {

// The unit a case is indexed under: its current unit, or the routed unit for
// records written before cases carried one.
const std::string& IndexedUnit(const grid::v1::Case& c);

// Every index key of `c` (unsorted): by unit, by status, open by assignee,
// and one due-time key per pending timer (engine/lifecycle.h PendingTimers).
std::vector<std::string> CaseIndexKeys(const grid::v1::Case& c);

}  // namespace grid::storage
