// The store verifier: checks a data directory end to end against the format
// (storage/FORMAT.md) and returns what it counted and every disagreement.
//
// It opens the database read-only (rocksdb::DB::OpenForReadOnly, every column
// family of ours, RocksDB's own log discarded), so the directory is never
// changed: run it on a stopped server's directory or on a copy. What it checks:
//   - meta: the format marker; the directory version is 8 bytes;
//   - directory: every entry parses as the message of its kind;
//   - cases: every key is 8 bytes and holds a record with that id;
//   - events: per case, seq 1..N with no gap, N equals the record's version,
//     each event names its case and seq, case_version equals seq where set;
//     no event without a case;
//   - case_index: the set of stored entries equals the set recomputed from
//     every record (storage/case_index.h: by unit, by status, open per
//     member, due time; storage/case_query.h: list entries with their
//     summaries), both ways: missing and stray;
//   - figures (storage/case_stats.h): each (unit, day) counter equals the
//     sum of the records' state contributions and their events' (REJECTED,
//     REOPENED, ESCALATED, filed under the chain of the unit the case was at
//     before the event: the record's unit_path when it is the case's unit now,
//     else that unit's chain in the stored directory);
//   - feed: cursors contiguous from the first retained to the last; each
//     entry holds a stored event, byte for byte; a case's entries follow its
//     seq order; every event has an entry unless it is no newer than the first
//     retained entry (trimmed by retention, or written before the feed existed);
//   - idempotency: each entry is the caller and key of a stored case with the
//     request's fingerprint (recomputed from the record; not for a case whose
//     category, location or address a rejection corrected, since the record
//     no longer holds what was submitted), and each case submitted with a key
//     has its entry.
// List entries and figures are checked only once the store has them (the
// marker kQueryIndexesKey); the summary says so otherwise.
//
// Known limits: the figures of an event are recomputed from the chain of the
// unit the case was at before that event; gridd files them under the chain
// the case had before the whole group commit, and a store backfilled by
// Store::BackfillQueryIndexes files them under the case's chain at the time of
// the backfill. The two differ only for a case whose unit changed in the same
// batch before a rejection, reopening or escalation, or for a backfilled case
// rejected or escalated before it moved; such a case is reported. Memory
// grows with the store: the expected index entries and one feed entry
// reference per event are held while comparing.
//
// Thread-safety: VerifyStore is a pure function of the directory; concurrent
// calls on different (or the same, stopped) directories are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace grid::storage {

struct VerifyOptions {
  // Disagreements kept in the report (all are counted).
  size_t max_problems = 1000;
};

struct VerifyReport {
  uint64_t directory_entries = 0;
  uint64_t cases = 0;
  uint64_t events = 0;
  uint64_t index_entries = 0;  // case_index keys read: indexes, list entries, figures
  uint64_t figure_keys = 0;
  uint64_t feed_entries = 0;
  uint64_t first_feed_cursor = 0, last_feed_cursor = 0;  // 0 when the feed is empty
  uint64_t idempotency_entries = 0;
  bool query_indexes = true;  // the store has list entries and figures (checked)

  // Each disagreement is one line that starts with what it is about:
  // "meta:", "directory:", "cases:", "events:", "index:", "figures:", "feed:",
  // "idempotency:".
  uint64_t disagreements = 0;
  std::vector<std::string> problems;  // the first VerifyOptions::max_problems

  bool clean() const { return disagreements == 0; }
  // One line: the counts, and "clean" or the number of disagreements.
  std::string Summary() const;
  // What the commands print: the first `max_lines` disagreements, one a
  // line, then "... and N more disagreement(s)" when there are more, then
  // the summary line; each line ends with a newline.
  std::string Text(size_t max_lines) const;
};

// Verifies the store in `path`. An error (not a report) when there is no
// store to verify: a missing or empty directory (NO_STORE), a path that is
// not a directory or holds something other than a store of ours
// (FOREIGN_DATA_DIR), or a database that cannot be opened or read
// (DATA_DIR_UNREADABLE, STORAGE_ERROR). Nothing in `path` is created or
// written, in any case.
StatusOr<VerifyReport> VerifyStore(const std::string& path, const VerifyOptions& options = {});

}  // namespace grid::storage
