// Key encoding: see keys.h and FORMAT.md.
#include "storage/keys.h"

namespace grid::storage {

void PutFixed64BE(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void PutFixed32BE(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t DecodeFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint32_t DecodeFixed32BE(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string TokenKey(std::string_view token_id) { return std::string(1, kTokenPrefix) + std::string(token_id); }

std::string TokenLastUseKey(std::string_view token_id) {
  return std::string(1, kTokenLastUsePrefix) + std::string(token_id);
}

std::string DirectoryKey(DirectoryKind kind, std::string_view id) {
  std::string k;
  k.reserve(1 + id.size());
  k.push_back(static_cast<char>(kind));
  k.append(id);
  return k;
}

std::string CaseKey(uint64_t case_id) {
  std::string k;
  PutFixed64BE(&k, case_id);
  return k;
}

uint64_t DecodeCaseKey(std::string_view key) { return DecodeFixed64BE(key.data()); }

std::string EventKey(uint64_t case_id, uint32_t seq) {
  std::string k = CaseKey(case_id);
  PutFixed32BE(&k, seq);
  return k;
}

std::string EventPrefix(uint64_t case_id) { return CaseKey(case_id); }

std::string IdempotencyKey(std::string_view caller, std::string_view key) {
  std::string k;
  k.reserve(caller.size() + 1 + key.size());
  k.append(caller);
  k.push_back('\0');
  k.append(key);
  return k;
}

namespace {
// tag | text | 0x00 | case id (8, big-endian): the layout of the by-unit and
// by-assignee indexes (FORMAT.md).
std::string TextThenCaseKey(IndexTag tag, std::string_view text, uint64_t case_id) {
  std::string k;
  k.reserve(1 + text.size() + 1 + 8);
  k.push_back(static_cast<char>(tag));
  k.append(text);
  k.push_back('\0');
  PutFixed64BE(&k, case_id);
  return k;
}
}  // namespace

std::string ByUnitKey(std::string_view unit_code, uint64_t case_id) {
  return TextThenCaseKey(IndexTag::kByUnit, unit_code, case_id);
}

std::string OpenByAssigneeKey(std::string_view member_id, uint64_t case_id) {
  return TextThenCaseKey(IndexTag::kOpenByAssignee, member_id, case_id);
}

std::string EncodeDueKey(const DueKey& due) {
  std::string k;
  k.reserve(1 + 8 + 8 + 1 + 4 + 1);
  k.push_back(static_cast<char>(IndexTag::kDue));
  PutFixed64BE(&k, due.due_micros);
  PutFixed64BE(&k, due.case_id);
  k.push_back(static_cast<char>(due.kind));
  PutFixed32BE(&k, due.subtask);
  k.push_back(due.warning ? 1 : 0);
  return k;
}

std::optional<DueKey> DecodeDueKey(std::string_view key) {
  if (key.size() != 1 + 8 + 8 + 1 + 4 + 1 || key[0] != static_cast<char>(IndexTag::kDue)) return std::nullopt;
  DueKey d;
  d.due_micros = DecodeFixed64BE(key.data() + 1);
  d.case_id = DecodeFixed64BE(key.data() + 9);
  d.kind = static_cast<unsigned char>(key[17]);
  d.subtask = DecodeFixed32BE(key.data() + 18);
  d.warning = key[22] != 0;
  return d;
}

std::string FeedKey(uint64_t cursor) {
  std::string k;
  PutFixed64BE(&k, cursor);
  return k;
}

std::string ByStatusKey(int status, uint64_t case_id) {
  std::string k;
  k.push_back(static_cast<char>(IndexTag::kByStatus));
  k.push_back(static_cast<char>(status));
  PutFixed64BE(&k, case_id);
  return k;
}

std::string EncodeIdempotencyValue(uint64_t case_id, uint64_t fingerprint) {
  std::string v;
  PutFixed64BE(&v, case_id);
  PutFixed64BE(&v, fingerprint);
  return v;
}

std::optional<std::pair<uint64_t, uint64_t>> DecodeIdempotencyValue(std::string_view v) {
  if (v.size() != 16) return std::nullopt;
  return std::make_pair(DecodeFixed64BE(v.data()), DecodeFixed64BE(v.data() + 8));
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

namespace {

// tag | unit code | 0x00
std::string UnitPrefix(IndexTag tag, std::string_view unit_code) {
  std::string k;
  k.reserve(unit_code.size() + 11);
  k.push_back(static_cast<char>(tag));
  k.append(unit_code);
  k.push_back('\0');
  return k;
}

}  // namespace

std::string ListByUnitPrefix(std::string_view unit_code) { return UnitPrefix(IndexTag::kListByUnit, unit_code); }

std::string ListByUnitKey(std::string_view unit_code, uint64_t case_id) {
  std::string k = ListByUnitPrefix(unit_code);
  PutFixed64BE(&k, case_id);
  return k;
}

std::string ListByUnitStatusPrefix(std::string_view unit_code, int status) {
  std::string k = UnitPrefix(IndexTag::kListByUnitStatus, unit_code);
  k.push_back(static_cast<char>(status));
  return k;
}

std::string ListByUnitStatusKey(std::string_view unit_code, int status, uint64_t case_id) {
  std::string k = ListByUnitStatusPrefix(unit_code, status);
  PutFixed64BE(&k, case_id);
  return k;
}

std::string StatsPrefix(std::string_view unit_code) { return UnitPrefix(IndexTag::kStats, unit_code); }

std::string StatsKey(std::string_view unit_code, uint32_t day) {
  std::string k = StatsPrefix(unit_code);
  PutFixed32BE(&k, day);
  return k;
}

}  // namespace grid::storage
