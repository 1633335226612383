// Store::ListCases and Store::ReadStats: the read side of the query indexes
// (storage/case_query.h, storage/case_stats.h). Kept apart from store.cc,
// which writes them.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "engine/case_id.h"
#include "engine/reasons.h"
#include "storage/case_index.h"
#include "storage/rocks_status.h"
#include "storage/store.h"

namespace grid::storage {
namespace {

// Releases a snapshot when the read is done.
class SnapshotHold {
 public:
  explicit SnapshotHold(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {}
  ~SnapshotHold() { db_->ReleaseSnapshot(snap_); }
  SnapshotHold(const SnapshotHold&) = delete;
  SnapshotHold& operator=(const SnapshotHold&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

// One key range of the list index, walked in case id order.
struct Walk {
  std::string prefix;
  std::string lower, upper;
  rocksdb::Slice upper_slice;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it;
  uint64_t id = 0;  // the current entry's case id, valid when `valid`
  bool valid = false;

  void Settle() {
    valid = it->Valid() && it->key().size() == prefix.size() + 8 && it->key().starts_with(prefix);
    if (valid) id = DecodeFixed64BE(it->key().data() + prefix.size());
  }
};

std::string AfterPrefix(std::string prefix) {
  // Every prefix ends with 0x00 or a status byte (< 0xff): bump the last byte.
  prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

StatusOr<CaseListPage> Store::ListCases(const CaseListQuery& q) const {
  SnapshotHold snap(db_.get());
  CaseListPage page;
  page.cursor = q.after_id;
  uint64_t start = q.after_id == std::numeric_limits<uint64_t>::max() ? q.after_id : q.after_id + 1;
  start = std::max(start, q.id_from);
  if (q.id_to != 0 && start >= q.id_to) {
    page.done = true;
    return page;
  }

  std::vector<std::unique_ptr<Walk>> walks;
  auto add_walk = [&](std::string prefix) {
    auto w = std::make_unique<Walk>();
    w->prefix = std::move(prefix);
    w->lower = w->prefix;
    PutFixed64BE(&w->lower, start);
    if (q.id_to != 0) {
      w->upper = w->prefix;
      PutFixed64BE(&w->upper, q.id_to);
    } else {
      w->upper = AfterPrefix(w->prefix);
    }
    w->upper_slice = rocksdb::Slice(w->upper);
    w->ro.snapshot = snap.get();
    w->ro.iterate_upper_bound = &w->upper_slice;
    w->it.reset(db_->NewIterator(w->ro, index_));
    w->it->Seek(w->lower);
    w->Settle();
    walks.push_back(std::move(w));
  };
  const std::vector<int> statuses = StatusesToWalk(q);
  if (statuses.empty()) {
    add_walk(ListByUnitPrefix(q.scope));
  } else {
    for (int s : statuses) {
      if (s >= 0) add_walk(ListByUnitStatusPrefix(q.scope, s));
    }
  }

  std::vector<uint64_t> ids;
  const size_t page_size = std::max<size_t>(q.page_size, 1);
  for (;;) {
    Walk* next = nullptr;
    for (auto& w : walks) {
      if (w->valid && (next == nullptr || w->id < next->id)) next = w.get();
    }
    if (next == nullptr) {
      page.done = true;
      break;
    }
    if (ids.size() >= page_size || page.examined >= q.max_examined) break;
    ++page.examined;
    page.cursor = next->id;
    auto summary = DecodeListSummary(std::string_view(next->it->value().data(), next->it->value().size()));
    if (!summary) return Error(reason::CORRUPT_RECORD, "a list index entry is malformed");
    if (Matches(*summary, q)) ids.push_back(next->id);
    next->it->Next();
    next->Settle();
  }
  for (auto& w : walks) GRID_RETURN_IF_ERROR(FromRocks(w->it->status(), "reading the list index"));

  if (!ids.empty()) {
    std::vector<std::string> keys;
    keys.reserve(ids.size());
    for (uint64_t id : ids) keys.push_back(CaseKey(id));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses_out(keys.size());
    rocksdb::ReadOptions ro;
    ro.snapshot = snap.get();
    db_->MultiGet(ro, cases_, keys.size(), slices.data(), values.data(), statuses_out.data(), /*sorted_input=*/true);
    if (q.raw) {
      page.raw.reserve(ids.size());
    } else {
      page.cases.reserve(ids.size());
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      if (statuses_out[i].IsNotFound()) {
        return Error(reason::CORRUPT_RECORD,
                     "the list index names case " + CaseIdToString(ids[i]) + ", which is missing");
      }
      GRID_RETURN_IF_ERROR(FromRocks(statuses_out[i], "reading a listed case"));
      if (q.raw) {
        page.raw.emplace_back(values[i].data(), values[i].size());
        continue;
      }
      if (!page.cases.emplace_back().ParseFromArray(values[i].data(), static_cast<int>(values[i].size()))) {
        return Error(reason::CORRUPT_RECORD, "case " + CaseIdToString(ids[i]) + " cannot be parsed");
      }
    }
  }
  return page;
}

StatusOr<std::vector<Counters>> Store::ReadStats(const std::vector<std::string>& unit_codes, uint32_t from_day,
                                                 uint32_t to_day) const {
  SnapshotHold snap(db_.get());
  std::vector<Counters> out(unit_codes.size());
  // One iterator for every unit: a unit is one Seek, not a new iterator.
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, index_));
  for (size_t i = 0; i < unit_codes.size(); ++i) {
    out[i].fill(0);
    const std::string lower = StatsKey(unit_codes[i], from_day);
    const std::string upper = to_day == std::numeric_limits<uint32_t>::max() ? AfterPrefix(StatsPrefix(unit_codes[i]))
                                                                             : StatsKey(unit_codes[i], to_day + 1);
    const rocksdb::Slice upper_slice(upper);
    for (it->Seek(lower); it->Valid() && it->key().compare(upper_slice) < 0; it->Next()) {
      if (!DecodeCountersInto(std::string_view(it->value().data(), it->value().size()), &out[i])) {
        return Error(reason::CORRUPT_RECORD, "a stats record of " + unit_codes[i] + " is malformed");
      }
    }
    GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the figures"));
  }
  return out;
}

StatusOr<uint64_t> Store::BackfillQueryIndexes(const Directory& directory) {
  std::string marker;
  auto got = db_->Get(rocksdb::ReadOptions(), meta_, std::string(kQueryIndexesKey), &marker);
  if (got.ok()) return uint64_t{0};
  if (!got.IsNotFound()) GRID_RETURN_IF_ERROR(FromRocks(got, "reading the query index marker"));
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  // Whatever a broken run wrote: list entries and figures (tags 0x10..0x12).
  rocksdb::WriteBatch clear;
  GRID_RETURN_IF_ERROR(
      FromRocks(clear.DeleteRange(index_, std::string(1, static_cast<char>(IndexTag::kListByUnit)),
                                  std::string(1, static_cast<char>(static_cast<int>(IndexTag::kStats) + 1))),
                "clearing the query indexes"));
  GRID_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &clear), "clearing the query indexes"));

  uint64_t n = 0;
  rocksdb::WriteBatch batch;
  std::string value;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cases_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    grid::v1::Case c;
    if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Error(reason::CORRUPT_RECORD, "a case record cannot be parsed");
    }
    auto id = ParseCaseId(c.id());
    if (!id) return Error(reason::CORRUPT_RECORD, "case id '" + c.id() + "' is not numeric");
    auto events = GetEvents(*id);
    if (!events.ok()) return events.status();
    SetUnitPath(directory, &c);
    value.clear();
    c.SerializeToString(&value);
    GRID_RETURN_IF_ERROR(FromRocks(batch.Put(cases_, it->key(), value), "rewriting a case"));
    for (const IndexOp& op : CaseQueryOps(nullptr, c, &*events)) {
      rocksdb::Status s =
          op.kind == IndexOp::Kind::kPut ? batch.Put(index_, op.key, op.value) : batch.Merge(index_, op.key, op.value);
      GRID_RETURN_IF_ERROR(FromRocks(s, "indexing a case"));
    }
    if (++n % 10000 == 0) {
      GRID_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "writing the query indexes"));
      batch.Clear();
    }
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the cases"));
  GRID_RETURN_IF_ERROR(FromRocks(batch.Put(meta_, std::string(kQueryIndexesKey), "1"), "marking the query indexes"));
  GRID_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "writing the query indexes"));
  return n;
}

}  // namespace grid::storage
