// The store verifier: see verify.h.
#include "storage/verify.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <cstdarg>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "engine/case_id.h"
#include "engine/intake.h"
#include "engine/reasons.h"
#include "engine/timestamp.h"
#include "grid/v1/directory.pb.h"
#include "grid/v1/operations.pb.h"
#include "grid/v1/service.pb.h"
#include "storage/case_index.h"
#include "storage/case_query.h"
#include "storage/case_stats.h"
#include "storage/keys.h"
#include "storage/rocks_status.h"

namespace grid::storage {
namespace {

namespace fs = std::filesystem;
namespace v1 = grid::v1;

// RocksDB writes (and rotates) its info LOG in the database directory even
// when it opens read-only; the verifier changes nothing, so it logs nowhere.
class NoLog final : public rocksdb::Logger {
 public:
  NoLog() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// The disagreements found so far: all counted, the first few kept.
class Problems {
 public:
  Problems(VerifyReport* report, size_t keep) : report_(report), keep_(keep) {}
  void Add(std::string line) {
    ++report_->disagreements;
    if (report_->problems.size() < keep_) report_->problems.push_back(std::move(line));
  }

 private:
  VerifyReport* report_;
  size_t keep_;
};

std::string Id(uint64_t id) { return CaseIdToString(id); }

std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x80) {
      out.push_back(static_cast<char>(c));  // UTF-8 text (unit codes, names) stays readable
    } else {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A case_index key as a reader would name it.
std::string DescribeIndexKey(std::string_view key) {
  if (key.empty()) return "an empty key";
  const auto tag = static_cast<IndexTag>(key[0]);
  std::string_view rest = key.substr(1);
  auto text_then_id = [&](const char* what) {
    const size_t zero = rest.find('\0');
    if (zero == std::string_view::npos || rest.size() != zero + 1 + 8) return std::string(what) + " " + Printable(key);
    return std::string(what) + " " + Printable(rest.substr(0, zero)) + " case " +
           Id(DecodeFixed64BE(rest.data() + zero + 1));
  };
  switch (tag) {
    case IndexTag::kByUnit: return text_then_id("by-unit");
    case IndexTag::kOpenByAssignee: return text_then_id("open-by-member");
    case IndexTag::kListByUnit: return text_then_id("list-by-unit");
    case IndexTag::kByStatus:
      if (rest.size() == 9) {
        return "by-status " + std::to_string(static_cast<unsigned char>(rest[0])) + " case " +
               Id(DecodeFixed64BE(rest.data() + 1));
      }
      break;
    case IndexTag::kDue:
      if (auto d = DecodeDueKey(key)) {
        return "due-time " + std::to_string(d->due_micros) + " case " + Id(d->case_id) + " kind " +
               std::to_string(d->kind) + " subtask " + std::to_string(d->subtask) + (d->warning ? " warning" : "");
      }
      break;
    case IndexTag::kListByUnitStatus: {
      const size_t zero = rest.find('\0');
      if (zero != std::string_view::npos && rest.size() == zero + 1 + 1 + 8) {
        return "list-by-unit-status " + Printable(rest.substr(0, zero)) + " status " +
               std::to_string(static_cast<unsigned char>(rest[zero + 1])) + " case " +
               Id(DecodeFixed64BE(rest.data() + zero + 2));
      }
      break;
    }
    case IndexTag::kStats: {
      const size_t zero = rest.find('\0');
      if (zero != std::string_view::npos && rest.size() == zero + 1 + 4) {
        return "unit " + Printable(rest.substr(0, zero)) + " day " + FormatDay(DecodeFixed32BE(rest.data() + zero + 1));
      }
      break;
    }
  }
  return "unknown key " + Printable(key);
}

// The differing fields of two sets of counters: "field 3: stored 2, from the records 1; ...".
std::string CounterDifference(const SparseCounters& stored, const SparseCounters& expected) {
  std::string out;
  std::set<uint32_t> fields;
  for (const auto& [f, v] : stored) fields.insert(f);
  for (const auto& [f, v] : expected) fields.insert(f);
  for (uint32_t f : fields) {
    const auto s = stored.count(f) ? stored.at(f) : 0;
    const auto e = expected.count(f) ? expected.at(f) : 0;
    if (s == e) continue;
    if (!out.empty()) out += "; ";
    out += "field " + std::to_string(f) + ": stored " + std::to_string(s) + ", from the records " + std::to_string(e);
  }
  return out;
}

void DropZeros(SparseCounters* c) {
  std::erase_if(*c, [](const auto& kv) { return kv.second == 0; });
}

// The submission a record was built from, as far as the fingerprint reads it
// (engine/intake.cc RequestFingerprint).
v1::SubmitCaseRequest RequestOf(const v1::Case& c) {
  v1::SubmitCaseRequest r;
  r.set_idempotency_key(c.idempotency_key());
  r.set_channel(c.channel());
  r.set_category(c.category());
  r.set_description(c.description());
  if (c.has_location()) *r.mutable_location() = c.location();
  r.set_address(c.address());
  *r.mutable_citizen() = c.citizen();
  r.set_priority(c.priority());
  *r.mutable_attachment_urls() = c.attachment_urls();
  r.set_unit_code(c.explicit_unit_code());
  return r;
}

struct ExpectedIdempotency {
  uint64_t case_id = 0;
  uint64_t fingerprint = 0;
  uint64_t fingerprint_unspecified = 0;  // the same request without a priority (the record says NORMAL)
  // False once a rejection corrected the category, location or address: the
  // record no longer holds what was submitted, so the fingerprint cannot be
  // recomputed (the entry must still name the case).
  bool fingerprint_known = true;
  bool seen = false;
};

struct FeedRef {
  uint64_t cursor = 0;
  size_t event_hash = 0;
  bool matched = false;
};

struct EventRefHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9E3779B97F4A7C15ULL ^ p.second);
  }
};

class Verifier {
 public:
  Verifier(rocksdb::DB* db, std::map<std::string, rocksdb::ColumnFamilyHandle*> cfs, VerifyReport* report, size_t keep)
      : db_(db), cfs_(std::move(cfs)), report_(report), problems_(report, keep) {
    read_.fill_cache = false;
    read_.readahead_size = 2 << 20;
  }

  Status Run() {
    GRID_RETURN_IF_ERROR(CheckMeta());
    GRID_RETURN_IF_ERROR(CheckTokens());
    GRID_RETURN_IF_ERROR(CheckDirectory());
    GRID_RETURN_IF_ERROR(ReadFeed());
    GRID_RETURN_IF_ERROR(CheckCasesAndEvents());
    GRID_RETURN_IF_ERROR(CheckIndex());
    GRID_RETURN_IF_ERROR(CheckIdempotency());
    return Status::Ok();
  }

 private:
  std::unique_ptr<rocksdb::Iterator> Iterate(const char* cf) {
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read_, cfs_.at(cf)));
  }

  Status CheckMeta() {
    std::string v;
    auto s = db_->Get(read_, cfs_.at(kMetaCf), std::string(kDirectoryVersionKey), &v);
    if (s.ok() && v.size() != 8)
      problems_.Add("meta: the directory version is " + std::to_string(v.size()) + " bytes, not 8");
    if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the directory version");
    s = db_->Get(read_, cfs_.at(kMetaCf), std::string(kQueryIndexesKey), &v);
    if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the query index marker");
    report_->query_indexes = s.ok();
    return Status::Ok();
  }

  // Tokens (FORMAT.md "Tokens"): each record parses, sits under its own id
  // and holds a 32-byte hash; each last use is 8 bytes and has its record.
  // Nothing else may sit in the default column family beyond the 0x01 keys.
  Status CheckTokens() {
    auto it = Iterate(kMetaCf);
    std::set<std::string> ids;
    v1::StoredToken token;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      const char tag = key.empty() ? '\0' : key[0];
      const std::string id(key.substr(key.empty() ? 0 : 1));
      if (tag == 0x01) continue;
      if (tag == kTokenPrefix) {
        if (!token.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
          problems_.Add("meta: token record " + Printable(key) + " cannot be parsed");
        } else if (token.info().token_id() != id || token.secret_sha256().size() != 32) {
          problems_.Add("meta: token record " + Printable(key) + " names another id or lacks its 32-byte hash");
        }
        ids.insert(id);
      } else if (tag == kTokenLastUsePrefix) {
        if (it->value().size() != 8) problems_.Add("meta: the last use of token " + Printable(key) + " is not 8 bytes");
        if (!ids.contains(id)) problems_.Add("meta: a last use of token " + Printable(key) + " without its record");
      } else {
        problems_.Add("meta: key " + Printable(key) + " is of no known kind");
      }
    }
    return FromRocks(it->status(), "reading the tokens");
  }

  Status CheckDirectory() {
    auto it = Iterate(kDirectoryCf);
    v1::Unit unit;
    v1::Member member;
    v1::Department department;
    v1::Category category;
    v1::CategoryRule rule;
    v1::Boundary boundary;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->directory_entries;
      const std::string_view key(it->key().data(), it->key().size());
      const auto value = it->value();
      google::protobuf::MessageLite* msg = nullptr;
      // The previous directory's entries (kept for a restore) carry one byte more.
      const bool kept = !key.empty() && key[0] == kPreviousDirectoryByte;
      const std::string_view entry = kept ? key.substr(1) : key;
      switch (entry.empty() ? '\0' : entry[0]) {
        case static_cast<char>(DirectoryKind::kUnit): msg = &unit; break;
        case static_cast<char>(DirectoryKind::kMember): msg = &member; break;
        case static_cast<char>(DirectoryKind::kDepartment): msg = &department; break;
        case static_cast<char>(DirectoryKind::kCategory): msg = &category; break;
        case static_cast<char>(DirectoryKind::kCategoryRule): msg = &rule; break;
        case static_cast<char>(DirectoryKind::kGridBoundary):
        case static_cast<char>(DirectoryKind::kAreaBoundary): msg = &boundary; break;
        default: problems_.Add("directory: entry " + Printable(key) + " is of no known kind"); continue;
      }
      if (!msg->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        problems_.Add("directory: entry " + Printable(key) + " cannot be parsed");
        continue;
      }
      if (msg == &unit && !kept) parents_[unit.code()] = unit.parent_code();
    }
    return FromRocks(it->status(), "reading the directory");
  }

  // The chain of a unit in the stored directory, root first, ending with it.
  std::vector<std::string> ChainOf(const std::string& unit) const {
    std::vector<std::string> chain = {unit};
    for (auto it = parents_.find(unit); it != parents_.end() && !it->second.empty() && chain.size() < 64;
         it = parents_.find(it->second)) {
      chain.push_back(it->second);
    }
    std::reverse(chain.begin(), chain.end());
    return chain;
  }

  Status ReadFeed() {
    if (!cfs_.count(kFeedCf)) return Status::Ok();  // a store from before the feed
    auto it = Iterate(kFeedCf);
    v1::FeedEntry entry;
    uint64_t previous = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->feed_entries;
      const std::string_view key(it->key().data(), it->key().size());
      if (key.size() != 8) {
        problems_.Add("feed: key " + Printable(key) + " is not a cursor of 8 bytes");
        continue;
      }
      const uint64_t cursor = DecodeFixed64BE(key.data());
      if (previous == 0) {
        report_->first_feed_cursor = cursor;
      } else if (cursor != previous + 1) {
        problems_.Add("feed: cursors " + std::to_string(previous + 1) + ".." + std::to_string(cursor - 1) +
                      " are missing between the first retained " + std::to_string(report_->first_feed_cursor) +
                      " and the last");
      }
      previous = cursor;
      report_->last_feed_cursor = cursor;
      if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        problems_.Add("feed: entry " + std::to_string(cursor) + " cannot be parsed");
        continue;
      }
      if (entry.cursor() != cursor) {
        problems_.Add("feed: entry " + std::to_string(cursor) + " says it is cursor " + std::to_string(entry.cursor()));
      }
      if (cursor == report_->first_feed_cursor) first_feed_at_ = FromTimestamp(entry.event().at());
      auto id = ParseCaseId(entry.event().case_id());
      if (!id) {
        problems_.Add("feed: entry " + std::to_string(cursor) + " names case '" + Printable(entry.event().case_id()) +
                      "', not a case id");
        continue;
      }
      auto [at, fresh] = feed_.emplace(std::make_pair(*id, entry.event().seq()),
                                       FeedRef{cursor, std::hash<std::string>()(entry.event().SerializeAsString())});
      if (!fresh) {
        problems_.Add("feed: entries " + std::to_string(at->second.cursor) + " and " + std::to_string(cursor) +
                      " both hold event " + std::to_string(entry.event().seq()) + " of case " + Id(*id));
      }
    }
    return FromRocks(it->status(), "reading the feed");
  }

  // One case and its events (stored in seq order): their own checks, and
  // what they contribute to the expected index entries, figures, feed and
  // idempotency entries.
  void CheckCase(uint64_t id, const v1::Case& c, const std::vector<std::pair<uint32_t, std::string>>& events) {
    const std::string name = "case " + Id(id);
    for (auto& key : CaseIndexKeys(c)) expected_index_.emplace_back(std::move(key), std::string());
    const uint32_t day = DayOf(MicrosOf(c.created_at()));
    if (report_->query_indexes) {
      for (auto& entry : CaseListEntries(c)) expected_index_.push_back(std::move(entry));
      const SparseCounters state = StateContribution(c);
      for (const std::string& unit : IndexedPath(c)) {
        SparseCounters& sum = expected_stats_[StatsKey(unit, day)];
        for (const auto& [f, v] : state) sum[f] += v;
      }
    }
    if (!c.idempotency_key().empty()) {
      v1::SubmitCaseRequest r = RequestOf(c);
      ExpectedIdempotency e{id, RequestFingerprint(r), 0, true, false};
      for (const auto& rejection : c.rejections()) {
        e.fingerprint_known &= rejection.reason() != v1::REJECT_REASON_WRONG_CATEGORY &&
                               rejection.reason() != v1::REJECT_REASON_WRONG_LOCATION;
      }
      r.set_priority(v1::PRIORITY_UNSPECIFIED);
      e.fingerprint_unspecified = c.priority() == v1::PRIORITY_NORMAL ? RequestFingerprint(r) : e.fingerprint;
      expected_idempotency_[IdempotencyKey(c.submitted_by(), c.idempotency_key())] = e;
    }

    if (events.empty()) {
      problems_.Add("events: " + name + " has no events (version " + std::to_string(c.version()) + ")");
      return;
    }
    v1::CaseEvent e;
    std::string unit;  // the unit the case is at, event by event
    uint64_t expected_seq = 1, last_cursor = 0;
    for (const auto& [seq, bytes] : events) {
      if (seq != expected_seq) {
        problems_.Add("events: " + name + " has no event " + std::to_string(expected_seq) +
                      (seq > expected_seq + 1 ? ".." + std::to_string(seq - 1) : std::string()) +
                      " (next stored: " + std::to_string(seq) + ")");
      }
      expected_seq = seq + 1;
      if (!e.ParseFromString(bytes)) {
        problems_.Add("events: event " + std::to_string(seq) + " of " + name + " cannot be parsed");
        continue;
      }
      if (e.case_id() != c.id() || e.seq() != seq) {
        problems_.Add("events: the key of event " + std::to_string(seq) + " of " + name + " holds event " +
                      std::to_string(e.seq()) + " of case " + Printable(e.case_id()));
      }
      if (e.case_version() != 0 && e.case_version() != seq) {
        problems_.Add("events: event " + std::to_string(seq) + " of " + name + " says case version " +
                      std::to_string(e.case_version()));
      }
      // Figures of what happened: under the chain the case had before it.
      if (report_->query_indexes) {
        SparseCounters happened;
        if (e.type() == v1::EVENT_TYPE_REJECTED) happened[stat::kReturns] = 1;
        if (e.type() == v1::EVENT_TYPE_REOPENED) happened[stat::kReopenings] = 1;
        if (e.type() == v1::EVENT_TYPE_ESCALATED) {
          happened[stat::kEscalationBase + static_cast<uint32_t>(e.to_level() & 7)] = 1;
        }
        if (!happened.empty()) {
          const std::vector<std::string> chain =
              unit.empty() || unit == IndexedUnit(c) ? IndexedPath(c) : ChainOf(unit);
          for (const std::string& u : chain) {
            SparseCounters& sum = expected_stats_[StatsKey(u, day)];
            for (const auto& [f, v] : happened) sum[f] += v;
          }
        }
      }
      if (e.has_routing() && !e.routing().unit_code().empty()) {
        unit = e.routing().unit_code();
      } else if (e.type() == v1::EVENT_TYPE_ARBITRATION && !e.to_unit().empty()) {
        unit = e.to_unit();
      }
      // Its feed entry.
      auto f = feed_.find(std::make_pair(id, static_cast<uint64_t>(seq)));
      if (f == feed_.end()) {
        if (report_->feed_entries > 0 && FromTimestamp(e.at()) > first_feed_at_) {
          problems_.Add("feed: event " + std::to_string(seq) + " of " + name +
                        " has no feed entry, though it is newer than the first retained entry " +
                        std::to_string(report_->first_feed_cursor));
        }
        continue;
      }
      f->second.matched = true;
      if (f->second.event_hash != std::hash<std::string>()(bytes)) {
        problems_.Add("feed: entry " + std::to_string(f->second.cursor) + " differs from event " + std::to_string(seq) +
                      " of " + name);
      }
      if (f->second.cursor < last_cursor) {
        problems_.Add("feed: entry " + std::to_string(f->second.cursor) + " (event " + std::to_string(seq) + " of " +
                      name + ") comes before the entry of an earlier event, " + std::to_string(last_cursor));
      }
      last_cursor = f->second.cursor;
    }
    if (expected_seq - 1 != c.version()) {
      problems_.Add("events: " + name + " is at version " + std::to_string(c.version()) + " but its last event is " +
                    std::to_string(expected_seq - 1));
    }
  }

  Status CheckCasesAndEvents() {
    auto cases = Iterate(kCasesCf);
    auto events = Iterate(kEventsCf);
    events->SeekToFirst();
    std::vector<std::pair<uint32_t, std::string>> mine;
    v1::Case c;
    // Events of cases below `below` that have no record: stray.
    auto strays_before = [&](uint64_t below) {
      for (; events->Valid(); events->Next()) {
        const auto key = events->key();
        if (key.size() != 12) {
          problems_.Add("events: key " + Printable(std::string_view(key.data(), key.size())) +
                        " is not case id + seq (12 bytes)");
          ++report_->events;
          continue;
        }
        const uint64_t id = DecodeFixed64BE(key.data());
        if (id >= below) return;
        ++report_->events;
        problems_.Add("events: event " + std::to_string(DecodeFixed32BE(key.data() + 8)) + " of case " + Id(id) +
                      " has no case record");
      }
    };
    for (cases->SeekToFirst(); cases->Valid(); cases->Next()) {
      ++report_->cases;
      const auto key = cases->key();
      if (key.size() != 8) {
        problems_.Add("cases: key " + Printable(std::string_view(key.data(), key.size())) + " is not a case id");
        continue;
      }
      const uint64_t id = DecodeFixed64BE(key.data());
      strays_before(id);
      mine.clear();
      for (; events->Valid() && events->key().size() == 12 && DecodeFixed64BE(events->key().data()) == id;
           events->Next()) {
        ++report_->events;
        mine.emplace_back(DecodeFixed32BE(events->key().data() + 8), events->value().ToString());
      }
      case_ids_.insert(id);
      if (!c.ParseFromArray(cases->value().data(), static_cast<int>(cases->value().size()))) {
        problems_.Add("cases: case " + Id(id) + " cannot be parsed");
        continue;
      }
      if (c.id() != Id(id)) {
        problems_.Add("cases: the key of case " + Id(id) + " holds case '" + Printable(c.id()) + "'");
        continue;
      }
      CheckCase(id, c, mine);
    }
    GRID_RETURN_IF_ERROR(FromRocks(cases->status(), "reading the cases"));
    strays_before(~uint64_t{0});
    GRID_RETURN_IF_ERROR(FromRocks(events->status(), "reading the events"));
    for (const auto& [ref, f] : feed_) {
      if (f.matched) continue;
      problems_.Add("feed: entry " + std::to_string(f.cursor) + " holds event " + std::to_string(ref.second) +
                    " of case " + Id(ref.first) + ", which is not stored");
    }
    return Status::Ok();
  }

  // The stored case_index against the entries the records give, in key order.
  Status CheckIndex() {
    std::sort(expected_index_.begin(), expected_index_.end());
    auto dup = std::adjacent_find(expected_index_.begin(), expected_index_.end(),
                                  [](const auto& a, const auto& b) { return a.first == b.first; });
    if (dup != expected_index_.end()) {
      problems_.Add("index: two records give the entry " + DescribeIndexKey(dup->first));
    }
    auto it = Iterate(kIndexCf);
    auto want = expected_index_.begin();
    const char stats_tag = static_cast<char>(IndexTag::kStats);
    auto missing = [&](const std::pair<std::string, std::string>& e) {
      problems_.Add("index: missing entry " + DescribeIndexKey(e.first));
    };
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->index_entries;
      const std::string_view key(it->key().data(), it->key().size());
      if (!key.empty() && key[0] == stats_tag) {
        if (report_->query_indexes) CheckFigures(key, std::string_view(it->value().data(), it->value().size()));
        continue;
      }
      while (want != expected_index_.end() && want->first < key) missing(*want++);
      if (want == expected_index_.end() || want->first != key) {
        const bool query = !key.empty() && (key[0] == static_cast<char>(IndexTag::kListByUnit) ||
                                            key[0] == static_cast<char>(IndexTag::kListByUnitStatus));
        if (!query || report_->query_indexes) problems_.Add("index: stray entry " + DescribeIndexKey(key));
        continue;
      }
      if (want->second != std::string_view(it->value().data(), it->value().size())) {
        problems_.Add("index: entry " + DescribeIndexKey(key) + " holds a summary that differs from its case's");
      }
      ++want;
    }
    GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the case index"));
    while (want != expected_index_.end()) missing(*want++);
    for (auto& [key, counters] : expected_stats_) {
      DropZeros(&counters);
      if (!counters.empty() && !seen_stats_.count(key)) {
        problems_.Add("figures: " + DescribeIndexKey(key) + " are missing: " + CounterDifference({}, counters));
      }
    }
    return Status::Ok();
  }

  void CheckFigures(std::string_view key, std::string_view value) {
    ++report_->figure_keys;
    SparseCounters stored;
    if (!DecodeCountersInto(value, &stored)) {
      problems_.Add("figures: " + DescribeIndexKey(key) + " cannot be decoded");
      return;
    }
    DropZeros(&stored);
    seen_stats_.insert(std::string(key));
    SparseCounters expected;
    if (auto e = expected_stats_.find(std::string(key)); e != expected_stats_.end()) expected = e->second;
    DropZeros(&expected);
    if (stored != expected) {
      problems_.Add("figures: " + DescribeIndexKey(key) +
                    " disagree with the records: " + CounterDifference(stored, expected));
    }
  }

  Status CheckIdempotency() {
    auto it = Iterate(kIdempotencyCf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->idempotency_entries;
      const std::string key(it->key().data(), it->key().size());
      const size_t zero = key.find('\0');
      const std::string name = zero == std::string::npos
                                   ? Printable(key)
                                   : Printable(key.substr(0, zero)) + " / " + Printable(key.substr(zero + 1));
      auto value = DecodeIdempotencyValue(std::string_view(it->value().data(), it->value().size()));
      if (!value) {
        problems_.Add("idempotency: entry " + name + " is not a case id and a fingerprint (16 bytes)");
        continue;
      }
      const auto [case_id, fingerprint] = *value;
      auto e = expected_idempotency_.find(key);
      if (e == expected_idempotency_.end()) {
        problems_.Add("idempotency: entry " + name + " names case " + Id(case_id) +
                      (case_ids_.count(case_id) ? ", which was not submitted with this caller and key"
                                                : ", which is not stored"));
        continue;
      }
      e->second.seen = true;
      if (e->second.case_id != case_id) {
        problems_.Add("idempotency: entry " + name + " names case " + Id(case_id) + " but case " +
                      Id(e->second.case_id) + " was submitted with it" +
                      (case_ids_.count(case_id) ? "" : " (case " + Id(case_id) + " is not stored)"));
        continue;
      }
      if (e->second.fingerprint_known && fingerprint != e->second.fingerprint &&
          fingerprint != e->second.fingerprint_unspecified) {
        problems_.Add("idempotency: entry " + name + " has fingerprint " + std::to_string(fingerprint) + " but case " +
                      Id(case_id) + "'s request gives " + std::to_string(e->second.fingerprint));
      }
    }
    GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the idempotency keys"));
    for (const auto& [key, e] : expected_idempotency_) {
      if (e.seen) continue;
      const size_t zero = key.find('\0');
      problems_.Add("idempotency: case " + Id(e.case_id) + " was submitted with key " +
                    Printable(key.substr(zero + 1)) + " by " + Printable(key.substr(0, zero)) + " but has no entry");
    }
    return Status::Ok();
  }

  rocksdb::DB* db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cfs_;
  VerifyReport* report_;
  Problems problems_;
  rocksdb::ReadOptions read_;

  std::unordered_map<std::string, std::string> parents_;                           // unit code -> parent code
  std::unordered_map<std::pair<uint64_t, uint64_t>, FeedRef, EventRefHash> feed_;  // (case id, seq) -> entry
  Micros first_feed_at_ = 0;
  std::unordered_set<uint64_t> case_ids_;
  std::vector<std::pair<std::string, std::string>> expected_index_;  // key -> value ("" for key-only entries)
  std::map<std::string, SparseCounters> expected_stats_;
  std::unordered_set<std::string> seen_stats_;
  std::unordered_map<std::string, ExpectedIdempotency> expected_idempotency_;
};

bool IsEmptyDir(const fs::path& p) {
  std::error_code ec;
  return fs::directory_iterator(p, ec) == fs::directory_iterator() && !ec;
}

}  // namespace

std::string VerifyReport::Summary() const {
  std::string s = std::to_string(cases) + " cases, " + std::to_string(events) + " events, " +
                  std::to_string(index_entries) + " index entries (" + std::to_string(figure_keys) + " figure keys), " +
                  std::to_string(feed_entries) + " feed entries";
  if (feed_entries > 0) s += " (" + std::to_string(first_feed_cursor) + ".." + std::to_string(last_feed_cursor) + ")";
  s += ", " + std::to_string(idempotency_entries) + " idempotency keys, " + std::to_string(directory_entries) +
       " directory entries";
  if (!query_indexes) s += "; no list entries or figures yet (not checked)";
  s += clean() ? ": clean" : ": " + std::to_string(disagreements) + " disagreement(s)";
  return s;
}

std::string VerifyReport::Text(size_t max_lines) const {
  std::string out;
  size_t shown = 0;
  for (; shown < problems.size() && shown < max_lines; ++shown) out += problems[shown] + "\n";
  if (disagreements > shown) out += "... and " + std::to_string(disagreements - shown) + " more disagreement(s)\n";
  return out + Summary() + "\n";
}

StatusOr<VerifyReport> VerifyStore(const std::string& path, const VerifyOptions& options) {
  const fs::path dir(path);
  std::error_code ec;
  const auto kind = fs::status(dir, ec).type();
  if (kind == fs::file_type::not_found) return Error(reason::NO_STORE, path + " does not exist: no store to verify");
  if (ec) return Error(reason::DATA_DIR_UNREADABLE, path + " cannot be read: " + ec.message());
  if (kind != fs::file_type::directory) {
    return Error(reason::FOREIGN_DATA_DIR, path + " is not a directory, so not a data directory");
  }
  if (IsEmptyDir(dir)) return Error(reason::NO_STORE, path + " is empty: no store to verify");
  if (!fs::exists(dir / "CURRENT", ec)) {
    return Error(reason::FOREIGN_DATA_DIR, path + " holds no gridd store (no RocksDB database)");
  }

  rocksdb::DBOptions db_options;
  db_options.info_log = std::make_shared<NoLog>();
  db_options.create_if_missing = false;
  db_options.max_open_files = 256;
  std::vector<std::string> existing;
  auto s = rocksdb::DB::ListColumnFamilies(db_options, path, &existing);
  if (!s.ok()) return Error(reason::DATA_DIR_UNREADABLE, path + " cannot be read as a store: " + s.ToString());
  std::vector<std::string> ours = {kMetaCf, kDirectoryCf, kCasesCf, kEventsCf, kIdempotencyCf, kIndexCf, kFeedCf};
  std::vector<std::string> first(ours.begin(), ours.end() - 1);  // stores from before the feed
  std::vector<std::string> theirs = existing;
  std::sort(ours.begin(), ours.end());
  std::sort(first.begin(), first.end());
  std::sort(theirs.begin(), theirs.end());
  if (theirs != ours && theirs != first) {
    return Error(reason::FOREIGN_DATA_DIR,
                 path + " holds a RocksDB database that is not a gridd store (its column families differ)");
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& name : existing) {
    rocksdb::ColumnFamilyOptions cf;
    if (name == kIndexCf) cf.merge_operator = StatsMergeOperator();
    descs.emplace_back(name, cf);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(db_options, path, descs, &handles, &raw);
  if (!s.ok()) return Error(reason::DATA_DIR_UNREADABLE, path + " cannot be opened read-only: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cfs;
  for (size_t i = 0; i < existing.size(); ++i) cfs[existing[i]] = handles[i];
  auto close = [&] {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db->Close().PermitUncheckedError();
  };

  std::string marker;
  s = db->Get(rocksdb::ReadOptions(), cfs.at(kMetaCf), std::string(kFormatKey), &marker);
  if (!s.ok() || marker != kFormatValue) {
    close();
    return Error(reason::FOREIGN_DATA_DIR, path + " has gridd's column families but format marker " +
                                               (s.ok() ? "'" + Printable(marker) + "'" : "missing") +
                                               ": not a store of ours");
  }
  VerifyReport report;
  Verifier verifier(db.get(), cfs, &report, options.max_problems);
  Status run = verifier.Run();
  close();
  if (!run.ok()) return run;
  return report;
}

}  // namespace grid::storage
