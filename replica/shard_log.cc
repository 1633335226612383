#include "replica/shard_log.h"

#include <charconv>
#include <cstdio>

#include "engine/reasons.h"
#include "storage/keys.h"

namespace grid::replica {

using cluster::Compare;
using cluster::EtcdClient;
using cluster::EtcdWatch;
using cluster::PrefixEnd;
using cluster::TxnOp;
using cluster::WatchBatch;
using cluster::WatchEvent;

namespace {

constexpr size_t kEntryHeader = 16;
constexpr int64_t kCatchUpPage = 256;

}  // namespace

ShardKeys::ShardKeys(std::string_view root, std::string_view shard) {
  const std::string base = std::string(root) + "/shards/" + std::string(shard) + "/";
  leader = base + "leader";
  log_prefix = base + "log/";
  applied_prefix = base + "applied/";
}

std::string ShardKeys::Log(uint64_t position) const {
  char digits[21];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(position));
  return log_prefix + digits;
}

std::optional<uint64_t> ShardKeys::PositionOf(std::string_view key) const {
  if (key.size() != log_prefix.size() + 20 || key.substr(0, log_prefix.size()) != log_prefix) return std::nullopt;
  const std::string_view digits = key.substr(log_prefix.size());
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::string EncodeLogEntry(uint64_t epoch, uint32_t part, uint32_t parts, std::string_view data) {
  std::string out;
  out.reserve(kEntryHeader + data.size());
  storage::PutFixed64BE(&out, epoch);
  storage::PutFixed32BE(&out, part);
  storage::PutFixed32BE(&out, parts);
  out.append(data);
  return out;
}

StatusOr<LogEntry> DecodeLogEntry(std::string_view value) {
  if (value.size() < kEntryHeader) {
    return Error(reason::LOG_MISMATCH, "a log entry of " + std::to_string(value.size()) + " bytes has no header");
  }
  LogEntry e;
  e.epoch = storage::DecodeFixed64BE(value.data());
  e.part = storage::DecodeFixed32BE(value.data() + 8);
  e.parts = storage::DecodeFixed32BE(value.data() + 12);
  e.data = value.substr(kEntryHeader);
  if (e.parts == 0 || e.part >= e.parts) {
    return Error(reason::LOG_MISMATCH,
                 "a log entry says part " + std::to_string(e.part) + " of " + std::to_string(e.parts));
  }
  return e;
}

EtcdBatchLog::EtcdBatchLog(EtcdClient* client, ShardKeys keys, int64_t epoch, uint64_t next, size_t max_part_bytes)
    : client_(client), keys_(std::move(keys)), epoch_(epoch), next_(next), max_part_bytes_(max_part_bytes) {}

Status EtcdBatchLog::Append(uint64_t first, uint32_t parts, std::string_view batch) {
  if (first != next_) {
    return Error(reason::LOG_MISMATCH,
                 "append at " + std::to_string(first) + " but the log continues at " + std::to_string(next_));
  }
  for (uint32_t part = 0; part < parts; ++part) {
    const std::string_view slice = batch.substr(std::min(batch.size(), size_t{part} * max_part_bytes_),
                                                part + 1 == parts ? std::string_view::npos : max_part_bytes_);
    const std::string key = keys_.Log(first + part);
    const TxnOp put = TxnOp::Put(key, EncodeLogEntry(static_cast<uint64_t>(epoch_), part, parts, slice));
    auto txn = client_->Txn({Compare::CreatedAt(keys_.leader, epoch_), Compare::Absent(key)}, {put});
    if (!txn.ok()) {
      return Error(reason::REPLICATION_FAILED, "appending log entry " + std::to_string(first + part) +
                                                   " (outcome unknown): " + txn.status().message());
    }
    if (!txn->succeeded) {
      return Error(reason::NOT_LEADER, "log entry " + std::to_string(first + part) +
                                           " refused: this replica's leadership (epoch " + std::to_string(epoch_) +
                                           ") has ended or the position is taken");
    }
  }
  next_ = first + parts;
  return Status::Ok();
}

LogApplier::LogApplier(storage::Store* store, bool sync) : store_(store), sync_(sync) {}

Status LogApplier::Init() {
  auto position = store_->LogPosition();
  if (!position.ok()) return position.status();
  position_ = applied_ = *position;
  open_.reset();
  open_bytes_.clear();
  return Status::Ok();
}

Status LogApplier::Take(uint64_t position, std::string_view value) {
  if (position != position_ + 1) {
    return Error(reason::LOG_MISMATCH,
                 "log entry " + std::to_string(position) + " does not follow position " + std::to_string(position_));
  }
  auto entry = DecodeLogEntry(value);
  if (!entry.ok()) return entry.status();
  if (entry->part == 0) {
    open_ = *entry;  // a batch starts: one a deposed leader left open is dropped
    open_bytes_.assign(entry->data);
  } else if (open_ && open_->epoch == entry->epoch && open_->parts == entry->parts && open_->part + 1 == entry->part) {
    open_->part = entry->part;
    open_bytes_.append(entry->data);
  } else {
    // A later part of a batch whose start this replica dropped or never saw
    // complete: the batch was never finished by its leader... or belongs to
    // one that was; either way it cannot be applied alone.
    open_.reset();
    open_bytes_.clear();
    position_ = position;
    return Status::Ok();
  }
  position_ = position;
  if (open_->part + 1 < open_->parts) return Status::Ok();
  Status applied = store_->ApplyLogged(position, open_bytes_, sync_);
  open_.reset();
  open_bytes_.clear();
  if (!applied.ok()) {
    position_ = applied_;
    return applied;
  }
  applied_ = position;
  return Status::Ok();
}

StatusOr<int64_t> CatchUp(EtcdClient* client, const ShardKeys& keys, LogApplier* applier) {
  const std::string end = PrefixEnd(keys.log_prefix);
  int64_t revision = 0;  // the first page fixes the revision the rest read at
  bool first_page = true;
  for (;;) {
    auto page = client->Range(keys.Log(applier->position() + 1), end, kCatchUpPage, revision);
    if (!page.ok()) return page.status();
    if (revision == 0) revision = page->revision;
    for (const auto& kv : page->kvs) {
      auto position = keys.PositionOf(kv.key);
      if (!position) {
        return Error(reason::LOG_MISMATCH, "a key under the log prefix is not a log position: " + kv.key);
      }
      if (first_page && *position != applier->position() + 1) {
        return Error(reason::LOG_TRUNCATED, "the log continues at " + std::to_string(*position) +
                                                " but this replica holds position " +
                                                std::to_string(applier->position()) +
                                                ": the entries between were trimmed; restore this replica from a "
                                                "backup of another (docs/replication.md)");
      }
      first_page = false;
      if (Status s = applier->Take(*position, kv.value); !s.ok()) return s;
    }
    if (!page->more) return revision;
  }
}

}  // namespace grid::replica
