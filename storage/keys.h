// Key layout of the RocksDB store. Every key is built here; storage/FORMAT.md
// draws the same layout byte by byte. The values of the prefixes and the names
// of the column families are frozen: changing one is a format change.
//
// Integers in keys are big-endian so that keys sort like the numbers.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace grid::storage {

// Column families.
inline constexpr const char* kMetaCf = "default";
inline constexpr const char* kDirectoryCf = "directory";
inline constexpr const char* kCasesCf = "cases";
inline constexpr const char* kEventsCf = "events";
inline constexpr const char* kIdempotencyCf = "idempotency";
inline constexpr const char* kIndexCf = "case_index";
inline constexpr const char* kFeedCf = "feed";  // cursor (8, BE) -> FeedEntry

// Meta keys (default column family).
inline constexpr std::string_view kFormatKey =
    "\x01"
    "format";
inline constexpr std::string_view kFormatValue = "gridcase-store-v1";
inline constexpr std::string_view kDirectoryVersionKey =
    "\x01"
    "directory_version";
// The version of the directory kept for Directory.RestorePreviousVersion:
// the one the last REPLACE replaced (its entries: kPreviousDirectoryByte).
inline constexpr std::string_view kPreviousDirectoryVersionKey =
    "\x01"
    "previous_directory_version";
// The directory column family's entries of that kept version: this byte,
// then the entry's key as it was (kind byte, code or id). Every kind byte
// sorts below it.
inline constexpr char kPreviousDirectoryByte = '\x80';
// Present once every stored case has its query index entries and figures
// (Store::BackfillQueryIndexes).
inline constexpr std::string_view kQueryIndexesKey =
    "\x01"
    "query_indexes";

// The replicated log's position the store holds, 8 bytes BE (a store that
// was never replicated has none: position 0). Written in the same batch as
// what it covers (storage/replication.h).
inline constexpr std::string_view kLogPositionKey =
    "\x01"
    "log_position";

// Tokens (docs/security.md), also in the default column family:
//   0x02 | token id (16 lowercase hex)  -> grid.v1.StoredToken
//   0x03 | token id                     -> last use, micros (8, BE)
// The last use is kept apart so that recording it never rewrites (and never
// races) the record a revocation writes.
inline constexpr char kTokenPrefix = 0x02;
inline constexpr char kTokenLastUsePrefix = 0x03;

// Directory entries: one kind byte, then the entry's code or id.
enum class DirectoryKind : char {
  kUnit = 'U',
  kMember = 'M',
  kDepartment = 'D',
  kCategory = 'C',
  kCategoryRule = 'R',  // id: unit code | 0x00 | category code
  // A unit's boundary (grid::v1::Boundary), kept apart from its 'U' record
  // (which then has none) so that loading the directory reads no geometry:
  // 'B' for grids, 'A' for units of any other level. Stores written before
  // the split keep boundaries inside 'U'; both are read.
  kGridBoundary = 'B',
  kAreaBoundary = 'A',
};

// Secondary index tags (case_index column family).
enum class IndexTag : char {
  kByUnit = 0x01,          // tag | unit code | 0x00 | case id (8, BE)
  kByStatus = 0x02,        // tag | status (1) | case id (8, BE)
  kOpenByAssignee = 0x03,  // tag | member id | 0x00 | case id (8, BE): open cases per member
  kDue = 0x04,             // tag | due micros (8, BE) | case id (8, BE) | kind (1) | subtask (4, BE) | warning (1)
  // Query indexes (storage/case_query.h): one entry per unit of Case.unit_path.
  kListByUnit = 0x10,        // tag | unit code | 0x00 | case id (8, BE)              -> ListSummary
  kListByUnitStatus = 0x11,  // tag | unit code | 0x00 | status (1) | case id (8, BE) -> ListSummary
  kStats = 0x12,             // tag | unit code | 0x00 | day (4, BE)                   -> stats counters (merge)
};

// One entry of the due-time index.
struct DueKey {
  uint64_t due_micros = 0;
  uint64_t case_id = 0;
  int kind = 0;
  uint32_t subtask = 0;
  bool warning = false;
};

void PutFixed64BE(std::string* out, uint64_t v);
void PutFixed32BE(std::string* out, uint32_t v);
uint64_t DecodeFixed64BE(const char* p);
// LEB128 varints (values of the query indexes).
void PutVarint(std::string* out, uint64_t v);
// Consumes a varint from the front of `in`; false when it is cut short.
bool GetVarint(std::string_view* in, uint64_t* v);
uint32_t DecodeFixed32BE(const char* p);

std::string TokenKey(std::string_view token_id);
std::string TokenLastUseKey(std::string_view token_id);

std::string DirectoryKey(DirectoryKind kind, std::string_view id);
std::string CaseKey(uint64_t case_id);
// REQUIRES: key.size() == 8.
uint64_t DecodeCaseKey(std::string_view key);
std::string EventKey(uint64_t case_id, uint32_t seq);
std::string EventPrefix(uint64_t case_id);
// caller | 0x00 | idempotency key. Callers never contain 0x00.
std::string IdempotencyKey(std::string_view caller, std::string_view key);
std::string ByUnitKey(std::string_view unit_code, uint64_t case_id);
std::string ByStatusKey(int status, uint64_t case_id);
std::string OpenByAssigneeKey(std::string_view member_id, uint64_t case_id);
std::string EncodeDueKey(const DueKey& due);
// nullopt when the key is not a due key of the right length.
std::optional<DueKey> DecodeDueKey(std::string_view key);
std::string FeedKey(uint64_t cursor);
// Query index keys. The *Prefix forms end before the case id (or day).
std::string ListByUnitPrefix(std::string_view unit_code);
std::string ListByUnitKey(std::string_view unit_code, uint64_t case_id);
std::string ListByUnitStatusPrefix(std::string_view unit_code, int status);
std::string ListByUnitStatusKey(std::string_view unit_code, int status, uint64_t case_id);
std::string StatsPrefix(std::string_view unit_code);
std::string StatsKey(std::string_view unit_code, uint32_t day);

// The value stored under an idempotency key: case id and request fingerprint.
std::string EncodeIdempotencyValue(uint64_t case_id, uint64_t fingerprint);
// nullopt when the value is not 16 bytes.
std::optional<std::pair<uint64_t, uint64_t>> DecodeIdempotencyValue(std::string_view v);

}  // namespace grid::storage
