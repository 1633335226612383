// Listing cases by subtree (CaseQuery.ListCases): the list index's entries
// and the filters applied to them.
//
// Every case has, for each unit of its chain (IndexedPath: Case.unit_path,
// root first), two entries in the case_index column family:
//   kListByUnit        unit | case id           -> ListSummary
//   kListByUnitStatus  unit | status | case id  -> ListSummary
// so a subtree is one key range ordered by case id (or, for one status, one
// range per status, merged by id). The value is a small summary of the
// fields the filters look at, so filtering reads no case record; only the
// cases of a page are read. Like every index entry, these are a pure
// function of the record (storage/case_index.h), rewritten from the
// before/after difference in the batch of every change.
//
// Thread-safety: pure functions and plain structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/clock.h"
#include "grid/v1/case.pb.h"

namespace grid::storage {

// A Timestamp as microseconds since the epoch.
Micros MicrosOf(const google::protobuf::Timestamp& ts);

// The units a case is filed under, root first, ending with its unit: the
// record's unit_path when it ends with the case's unit, else that unit alone
// (records written before unit_path existed).
std::vector<std::string> IndexedPath(const grid::v1::Case& c);

// What the filters of ListCases need to know of a case.
struct ListSummary {
  int status = 0;
  bool accepted = false;  // has accepted_at
  bool accept_overdue = false;
  bool resolve_overdue = false;
  Micros accept_due = 0;   // 0: none
  Micros resolve_due = 0;  // 0: none
  Micros updated = 0;
  std::string category;
  std::string assignee;  // the member working it now
  bool operator==(const ListSummary&) const = default;
};

ListSummary SummaryOf(const grid::v1::Case& c);
std::string EncodeListSummary(const ListSummary& s);
// nullopt when the bytes are not a summary.
std::optional<ListSummary> DecodeListSummary(std::string_view bytes);

// The list entries (key, value) of a case (unsorted).
std::vector<std::pair<std::string, std::string>> CaseListEntries(const grid::v1::Case& c);

// A ListCases query, validated (the service checks the request).
struct CaseListQuery {
  std::string scope;          // unit code
  std::vector<int> statuses;  // empty: all
  std::string category;       // empty: any
  bool overdue = false;
  Micros now = 0;           // for overdue
  uint64_t id_from = 0;     // inclusive, 0: none
  uint64_t id_to = 0;       // exclusive, 0: none
  Micros updated_from = 0;  // inclusive, 0: none
  Micros updated_to = 0;    // exclusive, 0: none
  std::string assignee;     // empty: any
  uint64_t after_id = 0;    // the cursor: only ids above it (0: from the start)
  size_t page_size = 50;
  size_t max_examined = 20000;  // index entries examined per page at most
  bool raw = false;             // records as stored (CaseListPage::raw), not parsed
};

struct CaseListPage {
  std::vector<grid::v1::Case> cases;  // unless the query asked for raw
  std::vector<std::string> raw;       // the serialised records, with raw
  uint64_t cursor = 0;                // the last case id examined
  bool done = false;                  // nothing after the cursor can match
  size_t examined = 0;
};

// Statuses not yet resolved: the ones `overdue` can match.
const std::vector<int>& UnresolvedStatuses();

// The statuses whose ranges a query walks (sorted, unique); empty: walk the
// by-unit range instead. `overdue` narrows to UnresolvedStatuses.
std::vector<int> StatusesToWalk(const CaseListQuery& q);

// Whether a summary passes every filter but the scope and the id range.
bool Matches(const ListSummary& s, const CaseListQuery& q);

}  // namespace grid::storage
