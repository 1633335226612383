// Open311 GeoReport v2 as pure functions: which endpoint a path names, the
// fields of a form or JSON body, a SubmitCaseRequest from them, the filters
// of GET requests, and our cases, categories and errors rendered as Open311
// JSON or XML (docs/open311.md has the mapping tables).
//
// Nothing here does I/O or reads a clock: the gateway (open311_gateway.h)
// calls the gRPC services and passes "now" and the names it looked up.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/clock.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"
#include "grid/v1/directory.pb.h"
#include "grid/v1/service.pb.h"

namespace grid::services::open311 {

inline constexpr Micros kMicrosPerSecond = 1'000'000;

enum class Format { kJson, kXml };

const char* ContentType(Format format);

enum class Endpoint { kDiscovery, kServices, kServiceDefinition, kRequests, kRequest };

struct Route {
  Endpoint endpoint = Endpoint::kDiscovery;
  Format format = Format::kJson;
  std::string id;  // the service_code or service_request_id of the path
};

// The endpoint of `path` (without the query) for `method`: NOT_FOUND
// UNKNOWN_PATH for a path that is not GeoReport v2 or lacks .json/.xml,
// UNIMPLEMENTED METHOD_NOT_ALLOWED for a method the endpoint does not take.
StatusOr<Route> ParseRoute(std::string_view method, std::string_view path);
// The format an error about `path` is answered in: XML for a path ending in
// ".xml", else JSON.
Format FormatOfPath(std::string_view path);

// Name/value pairs in the order given (a name may repeat).
using Fields = std::vector<std::pair<std::string, std::string>>;
// The first value of `name`, or nullopt.
std::optional<std::string> Field(const Fields& fields, std::string_view name);

// application/x-www-form-urlencoded (also a URL's query): '+' is a space,
// %XX a byte. MALFORMED_REQUEST for a bad escape; INVALID_UTF8 (naming the
// field) for a name or value that is not UTF-8.
StatusOr<Fields> ParseForm(std::string_view body);
// A JSON object of strings, numbers and booleans (nested values refused):
// INVALID_UTF8, INVALID_JSON, MALFORMED_REQUEST.
StatusOr<Fields> ParseJsonObject(std::string_view body);
// A POST body by its Content-Type (form or JSON, any charset parameter):
// INVALID_ARGUMENT UNSUPPORTED_MEDIA_TYPE for another type.
StatusOr<Fields> ParseBody(std::string_view content_type, std::string_view body);

// The case a POST requests.json asks for: service_code -> category, lat/long
// -> location (WGS-84), address_string -> address, first_name/last_name ->
// citizen name, phone -> citizen phone, description, media_url -> the one
// attachment, and our extension idempotency_key; channel WEB. email,
// device_id, account_id and attribute[...] are accepted and not kept.
// MISSING_CATEGORY, MISSING_LOCATION (neither lat/long nor address_string),
// MALFORMED_REQUEST (a number that is not one, lat without long). The rest
// is the gRPC service's validation.
StatusOr<grid::v1::SubmitCaseRequest> ToSubmitCaseRequest(const Fields& fields);

// GET requests.json's filters. With ids set the other filters are ignored,
// as the spec says.
struct RequestsQuery {
  std::vector<std::string> ids;  // service_request_id, comma separated
  std::string service_code;
  Micros start = 0, end = 0;                   // requested_datetime window
  std::vector<grid::v1::CaseStatus> statuses;  // empty: every status
};
inline constexpr Micros kDefaultWindow = 90 * 24 * 3600 * kMicrosPerSecond;
inline constexpr size_t kMaxRequests = 1000;
inline constexpr size_t kMaxIds = 100;
// INVALID_DATE (start_date/end_date not ISO 8601), INVALID_RANGE (end before
// start), INVALID_STATUS (not open/closed), INVALID_CASE_ID (over kMaxIds).
// Without dates the window is the kDefaultWindow before `now`.
StatusOr<RequestsQuery> ParseRequestsQuery(const Fields& fields, Micros now);

// ISO 8601: YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.fff]] with Z, +HH:MM, +HHMM
// or nothing (then +08:00, the time of our data). INVALID_DATE otherwise.
StatusOr<Micros> ParseIso8601(std::string_view text);
// "2026-11-19T01:33:20+08:00".
std::string FormatIso8601(Micros micros);

// "open" or "closed" (GeoReport v2), and FixMyStreet's extended status.
const char* Open311Status(grid::v1::CaseStatus status);
std::string ExtendedStatus(const grid::v1::Case& c);
// The statuses that are `open311_status` ("open" or "closed").
std::vector<grid::v1::CaseStatus> StatusesOf(std::string_view open311_status);

// Names the renderers need and the protos do not hold.
struct Names {
  std::function<std::string(std::string_view category_code)> service_name;
  std::function<std::string(std::string_view unit_code)> unit_name;
};

struct ErrorItem {
  int code = 400;
  std::string description;
};
std::string RenderErrors(Format format, const std::vector<ErrorItem>& errors);
// The HTTP status of a refusal: 400, 401, 403, 404, 405, 409, 413, 415,
// 429, 500, 503 by the status code and reason.
int HttpStatusOf(const Status& status);

std::string RenderDiscovery(Format format, std::string_view base_url);
std::string RenderServices(Format format, const std::vector<const grid::v1::Category*>& categories);
std::string RenderServiceDefinition(Format format, const grid::v1::Category& category);
// One case, or a list, as service requests; `events` (the case's history,
// when known) gives the status notes.
std::string RenderRequests(Format format, const std::vector<grid::v1::Case>& cases, const Names& names,
                           const std::vector<std::vector<grid::v1::CaseEvent>>& events = {});
// The answer to a POST: service_request_id and service_notice.
std::string RenderSubmitted(Format format, const grid::v1::Case& c);

}  // namespace grid::services::open311
