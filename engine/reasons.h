// The catalogue of reasons: every stable, machine-readable reason a grid
// Status can carry, each defined once with its status code and what it means.
//
// A reason goes on the wire twice (services/errors.h): it heads the message
// ("QUEUE_FULL: ...") and fills the trailing metadata key "grid-reason".
// Clients and scripts match on it, so a reason never changes name or code;
// a new situation gets a new reason here. docs/reasons.md lists the same
// table and tests/engine/reasons_test.cc fails when the two disagree, or when
// a source file in engine/, storage/ or services/ hands a Status a quoted
// reason that is not in this list.
//
//   return Error(reason::UNKNOWN_UNIT, "unit '" + code + "' is not in the directory");
//   if (status.reason() == reason::STALE_TIMER.name) ...
//
// The identifiers spell the reason exactly as it travels, so one grep finds
// the definition, every producer, the tests and the docs.
//
// Thread-safety: compile-time constants and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace grid {

// X(REASON, code, "meaning"), sorted by REASON. `code` is a StatusCode
// enumerator; the meaning is one line for docs/reasons.md.
#define GRID_REASONS(X)                                                                                                \
  X(ADDRESS_TOO_LONG, kInvalidArgument, "address is longer than the limit (500 characters by default)")                \
  X(ALREADY_ARRIVED, kFailedPrecondition, "the summoned department has already reported its arrival")                  \
  X(ALREADY_HELPING, kFailedPrecondition, "the member already helps on this case")                                     \
  X(ALREADY_SUMMONED, kFailedPrecondition, "the department already has an open sub-task on this case")                 \
  X(AT_TOP, kFailedPrecondition, "the case is supervised at the top of the chain (county): no higher level")           \
  X(BACKUP_DIR_FOREIGN, kFailedPrecondition, "the backup directory is a file, or holds files but no backups")          \
  X(BACKUP_DIR_IN_DATA_DIR, kInvalidArgument, "the backup directory lies inside the data directory")                   \
  X(BACKUP_DIR_NOT_ABSOLUTE, kInvalidArgument, "a backup directory must be an absolute path on the server")            \
  X(BACKUP_DIR_UNWRITABLE, kFailedPrecondition, "the server cannot create or write the backup directory")              \
  X(BACKUP_NOT_FOUND, kNotFound, "the backup directory holds no backup with this id")                                  \
  X(BAD_CASE_ID, kInternal, "a stored idempotency record names a case id that is not numeric")                         \
  X(BAD_CLIENT_CN, kInvalidArgument, "client_cn is not 1-64 printable ASCII, or a live token has it")                  \
  X(BAD_TOKEN_EXPIRY, kInvalidArgument, "expires_in_seconds is beyond ten years")                                      \
  X(BAD_TOKEN_ID, kInvalidArgument, "a token id is 16 lowercase hex digits")                                           \
  X(BAD_TOKEN_NAME, kInvalidArgument, "a token name is 1-64 characters of [0-9A-Za-z._@-]")                            \
  X(CANCELLED, kCancelled, "the client cancelled the stream")                                                          \
  X(CASE_NOT_FOUND, kNotFound, "no case has this id (or the master case of a merge does not exist)")                   \
  X(CLIENT_CERT_MISMATCH, kUnauthenticated, "the token is bound to a client certificate not presented")                \
  X(COORDINATE_OUT_OF_RANGE, kInvalidArgument, "a boundary vertex lies outside [-90, 90] x [-180, 180]")               \
  X(CORRUPT_INDEX, kInvalidArgument, "a saved grid index file is truncated, of another version or fails its checksum") \
  X(CORRUPT_RECORD, kDataLoss, "a stored record or key cannot be parsed")                                              \
  X(CORRUPT_TABLE, kInvalidArgument, "a saved unit table file is truncated or inconsistent")                           \
  X(DATA_DIR_UNREADABLE, kFailedPrecondition, "the data directory cannot be listed or read")                           \
  X(DEMO_INPUT, kInvalidArgument, "the demo directory's input files are missing or inconsistent")                      \
  X(DEMO_ORGANISATIONS, kInternal, "the demo directory ran out of organisation names")                                 \
  X(DEMO_PHONES, kInternal, "the demo directory ran out of member phone numbers (over 9999 members)")                  \
  X(DESCRIPTION_TOO_LONG, kInvalidArgument, "description is longer than the limit (4,000 characters by default)")      \
  X(DISK_LOW, kUnavailable, "the data directory's disk has less free space than gridd keeps free: nothing written")    \
  X(DUPLICATE_CODE, kInvalidArgument, "a unit, department, category or feature code appears twice")                    \
  X(DUPLICATE_DEPARTMENT, kInvalidArgument, "a summons names the same department twice")                               \
  X(DUPLICATE_MEMBER, kInvalidArgument, "a member id appears twice in the directory")                                  \
  X(EMPTY_GEOMETRY, kInvalidArgument, "a boundary, polygon or ring has no coordinates")                                \
  X(ETCD_COMPACTED, kOutOfRange,                                                                                       \
    "the etcd revision asked for (a watch's start, a read's, a compaction's) is compacted")                            \
  X(ETCD_CONNECT_FAILED, kUnavailable, "no etcd endpoint became ready within the client's connect timeout")            \
  X(ETCD_ERROR, kUnknown,                                                                                              \
    "etcd or gRPC answered an error the client does not classify, its code kept: a write's outcome is unknown")        \
  X(ETCD_FUTURE_REVISION, kOutOfRange, "the etcd revision asked for is newer than the store's: nothing applied")       \
  X(ETCD_INVALID_REQUEST, kInvalidArgument,                                                                            \
    "the etcd client or etcd refused a malformed request (empty key, too large): nothing applied")                     \
  X(ETCD_LEASE_NOT_FOUND, kNotFound, "the etcd lease does not exist: never granted, revoked or expired")               \
  X(ETCD_NO_LEADER, kUnavailable,                                                                                      \
    "the etcd member has no leader and refused the request before proposing it: nothing applied")                      \
  X(ETCD_NO_SPACE, kResourceExhausted,                                                                                 \
    "etcd's backend is over its quota (the NOSPACE alarm): the write was not applied")                                 \
  X(ETCD_REFUSED, kFailedPrecondition,                                                                                 \
    "etcd refused the request, its code kept (FAILED_PRECONDITION, NOT_FOUND, ...): nothing applied")                  \
  X(ETCD_TIMEOUT, kDeadlineExceeded, "an etcd call passed the client's deadline: a write's outcome is unknown")        \
  X(ETCD_UNAVAILABLE, kUnavailable,                                                                                    \
    "an etcd call broke in transit, or etcd did not commit it in time: a write's outcome is unknown")                  \
  X(ETCD_UNREACHABLE, kUnavailable, "no etcd endpoint could be connected to: the request was not sent")                \
  X(ETCD_WATCH_CANCELLED, kAborted, "etcd cancelled a watch (its reason in the message): watch again")                 \
  X(FEED_BUSY, kResourceExhausted, "too many feed subscribers, or the replay queue is full; resume later")             \
  X(FEED_CURSOR_AHEAD, kOutOfRange, "the resume cursor is past the newest feed entry")                                 \
  X(FEED_CURSOR_TRIMMED, kOutOfRange, "the feed entries after the resume cursor have been trimmed")                    \
  X(FILE_UNREADABLE, kNotFound, "gridd cannot open or read a directory or data file given to it")                      \
  X(FOREIGN_DATA_DIR, kFailedPrecondition, "the data directory holds something other than a gridd store")              \
  X(GRID_OUTSIDE_COMMUNITY, kInvalidArgument, "a grid's boundary reaches outside its community's boundary")            \
  X(IDEMPOTENCY_KEY_REUSED, kAlreadyExists, "the caller used this idempotency key for a different request")            \
  X(ILLEGAL_TRANSITION, kFailedPrecondition, "the case's state does not allow the command")                            \
  X(IMPORT_AFTER_LAST, kInvalidArgument, "an import chunk arrived after the chunk marked last")                        \
  X(IMPORT_INCOMPLETE, kFailedPrecondition, "the import stream ended before the chunk marked last; nothing changed")   \
  X(IMPORT_TOO_LARGE, kResourceExhausted, "the import is larger than the server accepts")                              \
  X(INVALID_ADDRESS_COVERAGE, kInvalidArgument, "a grid's address coverage entry has an empty or invalid street")      \
  X(INVALID_ARRIVE_WITHIN, kInvalidArgument, "arrive_within_minutes is above the limit (24 h by default)")             \
  X(INVALID_ATTACHMENT_URL, kInvalidArgument, "an attachment URL is not an http(s) URL of acceptable length")          \
  X(INVALID_BOUNDARY_FILE, kInvalidArgument,                                                                           \
    "GDAL cannot open or read a boundary file, or a shapefile lacks its .dbf or .shx")                                 \
  X(INVALID_CASE_ID, kInvalidArgument, "a case id is not the 16-digit id of a case")                                   \
  X(INVALID_CATEGORY, kInvalidArgument, "a directory category has no handling, or no department where it needs one")   \
  X(INVALID_CHANNEL, kInvalidArgument, "channel is not a known value")                                                 \
  X(INVALID_CHARACTERS, kInvalidArgument,                                                                              \
    "a name, code or id holds a control character, NUL, escape or bidi override")                                      \
  X(INVALID_CODE, kInvalidArgument, "a unit, member, department, category or division code is malformed")              \
  X(INVALID_DATE, kInvalidArgument, "a date is not YYYY-MM-DD")                                                        \
  X(INVALID_EXTENSION, kInvalidArgument, "an extension's hours are outside 1..720")                                    \
  X(INVALID_GEOJSON, kInvalidArgument, "a GeoJSON file is not a FeatureCollection of Features")                        \
  X(INVALID_GEOMETRY, kInvalidArgument, "a boundary is not a valid polygon or multipolygon")                           \
  X(INVALID_IDEMPOTENCY_KEY, kInvalidArgument,                                                                         \
    "idempotency_key is over 128 bytes, or not printable ASCII without spaces")                                        \
  X(INVALID_IMPORT_MODE, kInvalidArgument, "an import's mode is not a known value")                                    \
  X(INVALID_JSON, kInvalidArgument, "a directory file given to gridd is not valid JSON for DirectoryContent")          \
  X(INVALID_LEVEL, kInvalidArgument, "a unit's level is missing or unknown")                                           \
  X(INVALID_NAME, kInvalidArgument, "a unit, member, department or category name is empty, too long or not UTF-8")     \
  X(INVALID_PAGE_SIZE, kInvalidArgument, "page_size is above its maximum (1000)")                                      \
  X(INVALID_PAGE_TOKEN, kInvalidArgument, "page_token was not issued by this query, or for other filters")             \
  X(INVALID_PARAMETER, kInvalidArgument,                                                                               \
    "an HTTP query parameter is not the number or flag it takes (named in the message)")                               \
  X(INVALID_PAUSE, kInvalidArgument, "a deadline pause is empty or reversed")                                          \
  X(INVALID_PHONE, kInvalidArgument, "citizen.phone is not 3-20 digits with an optional +, - or spaces")               \
  X(INVALID_PRIORITY, kInvalidArgument, "priority is not a known value")                                               \
  X(INVALID_PROPERTY, kInvalidArgument, "a GeoJSON feature property is not a string or number")                        \
  X(INVALID_RANGE, kInvalidArgument, "a time or date range is invalid, or its start is after its end")                 \
  X(INVALID_REASON, kInvalidArgument, "a rejection's reason is not a known reason code")                               \
  X(INVALID_REPLICA_CONFIG, kInvalidArgument,                                                                          \
    "a replica's options are missing or contradict each other (the message names which)")                              \
  X(INVALID_RULE, kInvalidArgument, "a category rule names no unit or category, or lacks handling or departments")     \
  X(INVALID_STATUS, kInvalidArgument, "a status filter is not a case status")                                          \
  X(INVALID_UTF8, kInvalidArgument, "a text field (named in the message) is not valid UTF-8")                          \
  X(IO_ERROR, kInternal, "a saved side file cannot be written, synced or read (NOT_FOUND when it does not exist)")     \
  X(LATITUDE_OUT_OF_RANGE, kInvalidArgument, "latitude is outside [-90, 90]")                                          \
  X(LISTEN_FAILED, kUnavailable, "gridd cannot listen on the configured address")                                      \
  X(LOG_MISMATCH, kDataLoss, "a replicated log entry does not follow the position this replica holds")                 \
  X(LOG_TRUNCATED, kFailedPrecondition,                                                                                \
    "the replicated log no longer holds the entries this replica needs: restore it from a backup")                     \
  X(LONGITUDE_OUT_OF_RANGE, kInvalidArgument, "longitude is outside [-180, 180]")                                      \
  X(MALFORMED_CALENDAR, kInvalidArgument, "a working calendar definition cannot be parsed")                            \
  X(MALFORMED_CSV, kInvalidArgument, "a division CSV file has a bad header, quoting or field count, or an empty name") \
  X(MALFORMED_POLICY, kInvalidArgument, "a deadline policy definition cannot be parsed")                               \
  X(MALFORMED_REQUEST, kInvalidArgument, "the request bytes are not a valid message of the method's type")             \
  X(MALFORMED_TOKEN_FILE, kInvalidArgument, "a line of the token file is malformed (named in the message)")            \
  X(MASTER_NOT_OPEN, kFailedPrecondition, "the master case of a merge is closed, cancelled or merged")                 \
  X(MEMBER_NOT_NEARBY, kFailedPrecondition, "the member serves neither the case's grid nor its community")             \
  X(MESSAGE_TOO_LARGE, kInvalidArgument, "the request is over its method's size limit (docs/security.md)")             \
  X(METHOD_NOT_ALLOWED, kUnimplemented, "the HTTP method is not one the Open311 endpoint takes")                       \
  X(MISSING_ACTION, kInvalidArgument, "the command names no action")                                                   \
  X(MISSING_CASE_ID, kInvalidArgument, "case_id is required")                                                          \
  X(MISSING_CATEGORY, kInvalidArgument, "category (or corrected_category for WRONG_CATEGORY) is required")             \
  X(MISSING_CORRECTION, kInvalidArgument, "WRONG_LOCATION needs corrected_location or corrected_address")              \
  X(MISSING_DEPARTMENT, kInvalidArgument, "a department code is required and missing or empty")                        \
  X(MISSING_DESCRIPTION, kInvalidArgument, "description is required")                                                  \
  X(MISSING_LOCATION, kInvalidArgument, "an Open311 request gives neither lat/long nor address_string")                \
  X(MISSING_MASTER, kInvalidArgument, "master_case_id is required")                                                    \
  X(MISSING_MEMBER, kInvalidArgument, "member_id is required")                                                         \
  X(MISSING_NOTE, kInvalidArgument, "the action requires a note")                                                      \
  X(MISSING_PROPERTY, kInvalidArgument, "a GeoJSON feature lacks a mapped property, or no code property was given")    \
  X(MISSING_REASON, kInvalidArgument, "a rejection needs a reason code")                                               \
  X(MISSING_SCOPE, kInvalidArgument, "scope_unit_code is required")                                                    \
  X(MISSING_TOKEN, kUnauthenticated, "the call carries no 'authorization: Bearer <token>'")                            \
  X(MISSING_UNIT, kInvalidArgument, "a unit (unit_code, suggested_unit_code or unit) is required")                     \
  X(NAME_TOO_LONG, kInvalidArgument, "citizen.name is longer than the limit (64 characters by default)")               \
  X(NON_FINITE_COORDINATE, kInvalidArgument, "a coordinate is NaN or infinite")                                        \
  X(NOTE_TOO_LONG, kInvalidArgument, "a note (or corrected address) is longer than the limit")                         \
  X(NOT_LEADER, kUnavailable,                                                                                          \
    "this replica is not its shard's leader (any more): retry, any node forwards to the leader")                       \
  X(NOT_SUMMONED, kFailedPrecondition, "the department has no open sub-task on this case")                             \
  X(NO_ARBITER, kFailedPrecondition, "a rejection needs arbitration but the unit has no parent")                       \
  X(NO_BACKUP, kNotFound, "the backup directory does not exist or holds no backup")                                    \
  X(NO_INDEX, kNotFound, "no saved grid index path was given")                                                         \
  X(NO_LIFECYCLE, kUnimplemented, "this case writer was built without a lifecycle and takes no commands")              \
  X(NO_PREVIOUS_DIRECTORY, kFailedPrecondition, "no directory replaced by a REPLACE import is kept to restore")        \
  X(NO_STORE, kNotFound, "a read-only tool was given a missing or empty data directory")                               \
  X(OPEN_MODE_NOT_LOOPBACK, kFailedPrecondition, "open mode (no --tokens) listens on a loopback address only")         \
  X(OUT_OF_SCOPE, kPermissionDenied, "the case, unit or department is outside the caller's scope")                     \
  X(PARENT_LEVEL, kInvalidArgument, "a unit cannot sit below its parent's level")                                      \
  X(QUEUE_FULL, kResourceExhausted, "the server is at capacity; retry with backoff")                                   \
  X(RATE_LIMITED, kResourceExhausted, "the token's call rate is over its role's limit; retry later")                   \
  X(REPLACE_REMOVES_UNITS, kFailedPrecondition,                                                                        \
    "a REPLACE removes the root or units with open cases; confirm how many")                                           \
  X(REPLICATION_FAILED, kUnavailable,                                                                                  \
    "appending to the replicated log failed: nothing of the request is acknowledged")                                  \
  X(RESTORE_TARGET_NOT_EMPTY, kFailedPrecondition, "a backup is restored only into a missing or empty data dir")       \
  X(RING_LENGTH_MISMATCH, kInvalidArgument, "a boundary ring's latitude and longitude lists differ in length")         \
  X(RING_TOO_SHORT, kInvalidArgument, "a boundary ring has fewer than three distinct vertices")                        \
  X(ROLE_NOT_ALLOWED, kPermissionDenied, "the caller's role may not do this")                                          \
  X(SAME_UNIT, kFailedPrecondition, "a transfer names the unit the case is already at")                                \
  X(SELF_INTERSECTING_RING, kInvalidArgument, "a boundary ring crosses itself")                                        \
  X(SELF_MERGE, kInvalidArgument, "a case cannot be merged into itself")                                               \
  X(SERVER_STOPPING, kUnavailable, "the server is stopping; reconnect and resume from the last cursor")                \
  X(STALE_INDEX, kInvalidArgument, "a saved grid index belongs to another directory version or unit table")            \
  X(STALE_TABLE, kInvalidArgument, "a saved unit table belongs to another directory version")                          \
  X(STALE_TIMER, kNotFound, "a fired deadline the case no longer has (already handled, or the case moved on)")         \
  X(STORAGE_ERROR, kInternal, "a RocksDB call failed (DATA_LOSS for corruption, UNAVAILABLE for I/O errors)")          \
  X(STORED_DIRECTORY_INVALID, kDataLoss, "the directory stored in the database does not validate")                     \
  X(STORE_FAILED, kUnavailable,                                                                                        \
    "a write or fsync to the store failed: nothing of the request is acknowledged; the store turned read-only")        \
  X(STORE_READ_ONLY, kUnavailable,                                                                                     \
    "the store takes no writes after a failed write, fsync, flush or compaction (or a full disk); reads go on")        \
  X(SUBTASKS_OPEN, kFailedPrecondition, "summoned departments have not all reported done")                             \
  X(SWAPPED_COORDINATES, kInvalidArgument, "GeoJSON positions look like [lat, lng] instead of [lng, lat]")             \
  X(TLS_FILE_INVALID, kInvalidArgument, "a TLS certificate, key or CA file cannot be read or parsed")                  \
  X(TOKEN_EXPIRED, kUnauthenticated, "the bearer token has expired")                                                   \
  X(TOKEN_FILE_SHARED, kFailedPrecondition, "the token file is readable by group or others (chmod 600 it)")            \
  X(TOKEN_FILE_UNREADABLE, kInvalidArgument, "the token file cannot be read")                                          \
  X(TOKEN_NOT_FOUND, kNotFound, "no token has this id")                                                                \
  X(TOKEN_REVOKED, kUnauthenticated, "the bearer token has been revoked")                                              \
  X(TOO_MANY_ATTACHMENTS, kInvalidArgument, "more than 10 attachment URLs")                                            \
  X(TOO_MANY_AUTH_FAILURES, kResourceExhausted, "too many failed authentications from this peer; retry later")         \
  X(TOO_MANY_CONNECTIONS, kResourceExhausted, "the HTTP port holds its maximum of open connections")                   \
  X(TOO_MANY_DEPARTMENTS, kInvalidArgument, "a summons names more departments than allowed (20 by default)")           \
  X(TOO_MANY_UNITS, kResourceExhausted, "the unit table cannot hold more than 2^32 - 1 units")                         \
  X(TOO_MUCH_TEXT, kResourceExhausted, "the unit table's codes and names exceed 4 GiB")                                \
  X(UNIT_NOT_FOUND, kNotFound, "no unit has this code")                                                                \
  X(UNKNOWN_CATEGORY, kInvalidArgument, "the category is not in the directory")                                        \
  X(UNKNOWN_COORDINATE_SYSTEM, kInvalidArgument,                                                                       \
    "a point or a boundary file names a coordinate system that is not known")                                          \
  X(UNKNOWN_CRS, kInvalidArgument,                                                                                     \
    "a boundary file has no usable CRS (a shapefile without .prj, a CRS PROJ cannot read)")                            \
  X(UNKNOWN_DEADLINE_CLASS, kNotFound, "the deadline policy has no rule for this class and priority")                  \
  X(UNKNOWN_DEPARTMENT, kInvalidArgument, "the department is not in the directory")                                    \
  X(UNKNOWN_MEMBER, kInvalidArgument, "the member is not in the directory")                                            \
  X(UNKNOWN_PARENT, kInvalidArgument, "a unit's parent does not exist, or a grid has no parent community")             \
  X(UNKNOWN_PATH, kNotFound, "no HTTP endpoint at this path (Open311 paths end in .json or .xml)")                     \
  X(UNKNOWN_ROLE, kInvalidArgument, "role is not one of the six roles (call_center ... admin)")                        \
  X(UNKNOWN_TOKEN, kUnauthenticated, "the bearer token is not known")                                                  \
  X(UNKNOWN_UNIT, kInvalidArgument, "a unit named in the request or the directory does not exist")                     \
  X(UNREPAIRABLE_GEOMETRY, kInvalidArgument,                                                                           \
    "an invalid boundary that make-valid cannot turn into polygons the engine accepts")                                \
  X(UNROUTABLE, kFailedPrecondition, "no rule, location, address or fallback finds a unit for the case")               \
  X(UNSUPPORTED, kFailedPrecondition, "only a cell-grid spatial index can be saved")                                   \
  X(UNSUPPORTED_FORMAT, kInvalidArgument, "a boundary file is not GeoJSON, TopoJSON, a Shapefile or a GeoPackage")     \
  X(UNSUPPORTED_MEDIA_TYPE, kInvalidArgument, "an HTTP body is not form-encoded or JSON")                              \
  X(VERSION_MISMATCH, kAborted, "expected_version is stale: the case has changed since")                               \
  X(WATCH_LIMIT, kResourceExhausted, "the token holds as many Watch streams as its role may")                          \
  X(WINDOW_TOO_LONG, kInvalidArgument, "a statistics window is longer than 400 days")

// One reason: its wire name, the status code it always travels with, and
// what it means.
struct Reason {
  std::string_view name;
  StatusCode code;
  std::string_view meaning;
};

namespace reason {
#define GRID_REASON_CONSTANT(name, code, meaning) inline constexpr Reason name{#name, StatusCode::code, meaning};
GRID_REASONS(GRID_REASON_CONSTANT)
#undef GRID_REASON_CONSTANT

// Every reason, in catalogue order.
#define GRID_REASON_ENTRY(name, code, meaning) name,
inline constexpr Reason kAll[] = {GRID_REASONS(GRID_REASON_ENTRY)};
#undef GRID_REASON_ENTRY
}  // namespace reason

// A Status with `reason` and the reason's code. REQUIRES: `message` says what
// was wrong with this request, in a way a person can act on.
inline Status Error(const Reason& reason, std::string message) {
  return Status(reason.code, std::string(reason.name), std::move(message));
}

// As Error, with a code other than the catalogue's. Only for the reasons
// whose meaning names the codes they travel with (STORAGE_ERROR, IO_ERROR).
inline Status ErrorWithCode(StatusCode code, const Reason& reason, std::string message) {
  return Status(code, std::string(reason.name), std::move(message));
}

// The catalogue entry of a reason name; nullptr when it has none.
inline const Reason* FindReason(std::string_view name) {
  for (const Reason& r : reason::kAll) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// "INVALID_ARGUMENT" for kInvalidArgument: the gRPC spelling of a code.
constexpr std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUnknown: return "UNKNOWN";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

}  // namespace grid
