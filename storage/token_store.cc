// Store::PutToken, ListTokens and PutTokenLastUse: the token records of the
// default column family (storage/keys.h, FORMAT.md "Tokens").
//
// Thread-safety: as store.h; RocksDB orders concurrent writes.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <memory>

#include "engine/reasons.h"
#include "storage/rocks_status.h"
#include "storage/store.h"

namespace grid::storage {

Status Store::PutToken(const grid::v1::StoredToken& token) {
  rocksdb::WriteBatch batch;
  auto s = batch.Put(meta_, TokenKey(token.info().token_id()), token.SerializeAsString());
  GRID_RETURN_IF_ERROR(FromRocks(s, "writing token " + token.info().token_id()));
  return WriteSynced(&batch, "writing token " + token.info().token_id());
}

Status Store::PutTokenLastUse(std::string_view token_id, int64_t micros) {
  GRID_RETURN_IF_ERROR(WriteState());
  std::string v;
  PutFixed64BE(&v, static_cast<uint64_t>(micros));
  rocksdb::WriteOptions wo;
  wo.sync = false;
  return FromRocks(db_->Put(wo, meta_, TokenLastUseKey(token_id), v), "recording a token's last use");
}

StatusOr<std::vector<grid::v1::StoredToken>> Store::ListTokens() const {
  std::vector<grid::v1::StoredToken> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  const std::string prefix(1, kTokenPrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    grid::v1::StoredToken t;
    if (!t.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Error(reason::CORRUPT_RECORD, "token record " + it->key().ToString().substr(1) + " cannot be parsed");
    }
    out.push_back(std::move(t));
  }
  GRID_RETURN_IF_ERROR(FromRocks(it->status(), "reading the tokens"));
  for (auto& t : out) {
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), meta_, TokenLastUseKey(t.info().token_id()), &v);
    if (s.IsNotFound()) continue;
    GRID_RETURN_IF_ERROR(FromRocks(s, "reading a token's last use"));
    if (v.size() != 8) return Error(reason::CORRUPT_RECORD, "the last use of token " + t.info().token_id());
    const uint64_t micros = DecodeFixed64BE(v.data());
    t.mutable_info()->mutable_last_used_at()->set_seconds(static_cast<int64_t>(micros / 1000000));
    t.mutable_info()->mutable_last_used_at()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  }
  return out;
}

}  // namespace grid::storage
