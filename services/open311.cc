// Open311 GeoReport v2 mapping (see open311.h). Responses are built as JSON
// values and written as JSON or, for .xml, as the spec's XML elements.
#include "services/open311.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/reasons.h"
#include "engine/text.h"

namespace grid::services::open311 {
namespace {

using json = nlohmann::ordered_json;

constexpr Micros kOffset = 8 * 3600 * kMicrosPerSecond;  // +08:00, the time of our data

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

Micros MicrosOf(const google::protobuf::Timestamp& t) { return t.seconds() * kMicrosPerSecond + t.nanos() / 1000; }

json TimeOrNull(const google::protobuf::Timestamp& t, bool has) {
  return has && (t.seconds() != 0 || t.nanos() != 0) ? json(FormatIso8601(MicrosOf(t))) : json(nullptr);
}

Status Malformed(std::string message) { return Error(reason::MALFORMED_REQUEST, std::move(message)); }

bool ParseNumber(std::string_view text, double* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

// Parses exactly `n` digits at `*p`.
bool Digits(std::string_view s, size_t* p, size_t n, int* out) {
  if (*p + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*p + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* p, char c) {
  if (*p >= s.size() || s[*p] != c) return false;
  ++*p;
  return true;
}

// The singular element name of an XML list's items.
std::string ItemName(std::string_view list) {
  if (list == "service_requests") return "request";
  if (list == "services") return "service";
  if (list == "errors") return "error";
  if (list == "endpoints") return "endpoint";
  if (list == "formats") return "format";
  if (list == "attributes") return "attribute";
  if (list == "values") return "value";
  return "item";
}

void EscapeXml(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '&': *out += "&amp;"; break;
      case '"': *out += "&quot;"; break;
      case '\'': *out += "&apos;"; break;
      default: *out += c;
    }
  }
}

void WriteXml(const std::string& name, const json& v, std::string* out) {
  *out += "<" + name + ">";
  if (v.is_array()) {
    const std::string item = ItemName(name);
    for (const auto& e : v) WriteXml(item, e, out);
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.items()) WriteXml(k, e, out);
  } else if (v.is_string()) {
    EscapeXml(v.get_ref<const std::string&>(), out);
  } else if (!v.is_null()) {
    EscapeXml(v.dump(), out);
  }
  *out += "</" + name + ">";
}

// `v` as JSON, or as XML under the element `root`.
std::string Render(Format format, const std::string& root, const json& v) {
  if (format == Format::kJson) return v.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out = R"(<?xml version="1.0" encoding="utf-8"?>)";
  WriteXml(root, v, &out);
  return out;
}

std::string StatusNotes(const grid::v1::Case& c, const std::vector<grid::v1::CaseEvent>* events) {
  if (events != nullptr) {
    // The latest note of the history; a reveal's note says why someone read
    // the citizen's data and is not for the public.
    for (auto it = events->rbegin(); it != events->rend(); ++it) {
      if (it->type() != grid::v1::EVENT_TYPE_CITIZEN_REVEALED && !it->note().empty()) return it->note();
    }
    return "";
  }
  if (!c.cancel_reason().empty()) return c.cancel_reason();
  if (!c.merged_into().empty()) return "duplicate of " + c.merged_into();
  return c.callback().note();
}

json RequestJson(const grid::v1::Case& c, const Names& names, const std::vector<grid::v1::CaseEvent>* events) {
  json r;
  r["service_request_id"] = c.id();
  r["status"] = Open311Status(c.status());
  r["status_notes"] = StatusNotes(c, events);
  r["service_name"] = names.service_name ? names.service_name(c.category()) : c.category();
  r["service_code"] = c.category();
  r["description"] = c.description();
  const std::string unit = !c.unit_code().empty() ? c.unit_code() : c.routing().unit_code();
  std::string agency = unit == c.routing().unit_code() ? c.routing().unit_name() : "";
  if (agency.empty() && names.unit_name) agency = names.unit_name(unit);
  r["agency_responsible"] = agency;
  r["service_notice"] = c.routing().explanation();
  r["requested_datetime"] = TimeOrNull(c.created_at(), c.has_created_at());
  r["updated_datetime"] = TimeOrNull(c.updated_at(), c.has_updated_at());
  r["expected_datetime"] = TimeOrNull(c.deadlines().resolve_due(), c.deadlines().has_resolve_due());
  r["address"] = c.address();
  r["address_id"] = "";
  r["zipcode"] = "";
  if (c.has_location()) {
    r["lat"] = c.location().lat();
    r["long"] = c.location().lng();
  } else {
    r["lat"] = nullptr;
    r["long"] = nullptr;
  }
  r["media_url"] = c.attachment_urls_size() > 0 ? c.attachment_urls(0) : "";
  // FixMyStreet's extension: the finer status, and who handles it; the
  // citizen as the gRPC API shows it to this caller (masked by role).
  json ext;
  ext["status"] = ExtendedStatus(c);
  ext["unit_code"] = unit;
  ext["citizen_name"] = c.citizen().name();
  ext["citizen_phone"] = c.citizen().phone();
  r["extended_attributes"] = std::move(ext);
  return r;
}

}  // namespace

const char* ContentType(Format format) {
  return format == Format::kJson ? "application/json; charset=utf-8" : "text/xml; charset=utf-8";
}

Format FormatOfPath(std::string_view path) { return EndsWith(path, ".xml") ? Format::kXml : Format::kJson; }

StatusOr<Route> ParseRoute(std::string_view method, std::string_view path) {
  constexpr std::string_view kPrefix = "/open311/v2/";
  auto unknown = [&] {
    return Error(reason::UNKNOWN_PATH,
                 "no GeoReport v2 endpoint at '" + std::string(path) +
                     "' (discovery, services, services/{code}, requests, requests/{id}; .json or .xml)");
  };
  if (path.substr(0, kPrefix.size()) != kPrefix) return unknown();
  std::string_view rest = path.substr(kPrefix.size());
  Route route;
  if (EndsWith(rest, ".json")) {
    rest.remove_suffix(5);
  } else if (EndsWith(rest, ".xml")) {
    rest.remove_suffix(4);
    route.format = Format::kXml;
  } else {
    return unknown();
  }
  const size_t slash = rest.find('/');
  const std::string_view head = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    route.id = std::string(rest.substr(slash + 1));
    if (route.id.empty() || route.id.find('/') != std::string::npos) return unknown();
  }
  bool post_allowed = false;
  if (head == "discovery" && route.id.empty()) {
    route.endpoint = Endpoint::kDiscovery;
  } else if (head == "services") {
    route.endpoint = route.id.empty() ? Endpoint::kServices : Endpoint::kServiceDefinition;
  } else if (head == "requests") {
    route.endpoint = route.id.empty() ? Endpoint::kRequests : Endpoint::kRequest;
    post_allowed = route.id.empty();
  } else {
    return unknown();
  }
  if (method == "GET" || method == "HEAD" || (method == "POST" && post_allowed)) return route;
  return Error(reason::METHOD_NOT_ALLOWED, std::string(method) + " is not allowed on " + std::string(path) +
                                               (post_allowed ? " (GET or POST)" : " (GET only)"));
}

std::optional<std::string> Field(const Fields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return std::nullopt;
}

StatusOr<Fields> ParseForm(std::string_view body) {
  auto decode = [](std::string_view s, std::string* out) {
    out->clear();
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        *out += ' ';
      } else if (s[i] == '%') {
        int v = 0;
        if (i + 2 >= s.size()) return false;
        auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (ec != std::errc() || p != s.data() + i + 3) return false;
        *out += static_cast<char>(v);
        i += 2;
      } else {
        *out += s[i];
      }
    }
    return true;
  };
  Fields fields;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    const std::string_view pair = body.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!decode(pair.substr(0, eq), &name) ||
        !decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), &value)) {
      return Malformed("a bad %-escape in '" + std::string(pair.substr(0, 100)) + "'");
    }
    if (!text::IsValidUtf8(name)) return Error(reason::INVALID_UTF8, "a field name is not valid UTF-8");
    if (!text::IsValidUtf8(value)) return Error(reason::INVALID_UTF8, name + " is not valid UTF-8");
    fields.emplace_back(std::move(name), std::move(value));
  }
  return fields;
}

StatusOr<Fields> ParseJsonObject(std::string_view body) {
  if (!text::IsValidUtf8(body)) return Error(reason::INVALID_UTF8, "the JSON body is not valid UTF-8");
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(reason::INVALID_JSON, "the body is not valid JSON");
  if (!doc.is_object()) return Error(reason::INVALID_JSON, "the JSON body must be an object of fields");
  Fields fields;
  for (const auto& [k, v] : doc.items()) {
    if (v.is_string()) {
      fields.emplace_back(k, v.get<std::string>());
    } else if (v.is_number() || v.is_boolean()) {
      fields.emplace_back(k, v.dump());
    } else if (!v.is_null()) {
      return Malformed("field " + k + " must be a string or a number");
    }
  }
  return fields;
}

StatusOr<Fields> ParseBody(std::string_view content_type, std::string_view body) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type == "application/x-www-form-urlencoded") return ParseForm(body);
  if (type == "application/json") return ParseJsonObject(body);
  return Error(reason::UNSUPPORTED_MEDIA_TYPE, "Content-Type '" + std::string(content_type.substr(0, 100)) +
                                                   "' is not application/x-www-form-urlencoded or application/json");
}

StatusOr<grid::v1::SubmitCaseRequest> ToSubmitCaseRequest(const Fields& fields) {
  grid::v1::SubmitCaseRequest r;
  r.set_channel(grid::v1::CHANNEL_WEB);
  const auto code = Field(fields, "service_code");
  if (!code || code->empty()) return Error(reason::MISSING_CATEGORY, "service_code is required");
  r.set_category(*code);
  const auto lat = Field(fields, "lat"), lng = Field(fields, "long");
  const auto address = Field(fields, "address_string");
  if (lat.has_value() != lng.has_value()) return Malformed("lat and long go together: give both or neither");
  if (lat) {
    double la = 0, lo = 0;
    if (!ParseNumber(*lat, &la)) return Malformed("lat '" + lat->substr(0, 100) + "' is not a number");
    if (!ParseNumber(*lng, &lo)) return Malformed("long '" + lng->substr(0, 100) + "' is not a number");
    r.mutable_location()->set_lat(la);
    r.mutable_location()->set_lng(lo);
  }
  if (address) r.set_address(*address);
  if (!lat && (!address || address->empty())) {
    return Error(reason::MISSING_LOCATION, "a location is required: lat and long, or address_string");
  }
  if (auto d = Field(fields, "description")) r.set_description(*d);
  if (auto m = Field(fields, "media_url"); m && !m->empty()) r.add_attachment_urls(*m);
  if (auto k = Field(fields, "idempotency_key")) r.set_idempotency_key(*k);
  const std::string first = Field(fields, "first_name").value_or("");
  const std::string last = Field(fields, "last_name").value_or("");
  // A Chinese name is family name first, with no space; a Latin one the other way.
  const bool cjk = std::any_of(first.begin(), first.end(), [](char c) { return c & 0x80; }) ||
                   std::any_of(last.begin(), last.end(), [](char c) { return c & 0x80; });
  std::string name = cjk ? last + first : first + (first.empty() || last.empty() ? "" : " ") + last;
  if (!name.empty()) r.mutable_citizen()->set_name(name);
  if (auto p = Field(fields, "phone"); p && !p->empty()) r.mutable_citizen()->set_phone(*p);
  return r;
}

StatusOr<RequestsQuery> ParseRequestsQuery(const Fields& fields, Micros now) {
  RequestsQuery q;
  if (auto ids = Field(fields, "service_request_id"); ids && !ids->empty()) {
    size_t pos = 0;
    while (pos <= ids->size()) {
      size_t comma = ids->find(',', pos);
      if (comma == std::string::npos) comma = ids->size();
      std::string id = ids->substr(pos, comma - pos);
      pos = comma + 1;
      if (!id.empty()) q.ids.push_back(std::move(id));
    }
    if (q.ids.size() > kMaxIds) {
      return Error(reason::INVALID_CASE_ID, "at most " + std::to_string(kMaxIds) + " service_request_id values");
    }
    return q;
  }
  q.service_code = Field(fields, "service_code").value_or("");
  std::optional<Micros> start, end;
  for (auto [name, out] : {std::pair{"start_date", &start}, std::pair{"end_date", &end}}) {
    if (auto v = Field(fields, name); v && !v->empty()) {
      auto t = ParseIso8601(*v);
      if (!t.ok()) return Error(reason::INVALID_DATE, std::string(name) + ": " + t.status().message());
      *out = *t;
    }
  }
  q.end = end.value_or(start ? std::max(now, *start) : now);
  q.start = start.value_or(q.end - kDefaultWindow);
  if (q.end < q.start) return Error(reason::INVALID_RANGE, "end_date is before start_date");
  if (auto s = Field(fields, "status"); s && !s->empty()) {
    size_t pos = 0;
    while (pos <= s->size()) {
      size_t comma = s->find(',', pos);
      if (comma == std::string::npos) comma = s->size();
      const std::string one = s->substr(pos, comma - pos);
      pos = comma + 1;
      auto statuses = StatusesOf(one);
      if (statuses.empty()) {
        return Error(reason::INVALID_STATUS, "status '" + one.substr(0, 100) + "' is not open or closed");
      }
      q.statuses.insert(q.statuses.end(), statuses.begin(), statuses.end());
    }
  }
  return q;
}

StatusOr<Micros> ParseIso8601(std::string_view s) {
  auto bad = [&] {
    return Error(reason::INVALID_DATE,
                 "'" + std::string(s.substr(0, 100)) + "' is not an ISO 8601 date-time (2026-11-18T09:30:00+08:00)");
  };
  size_t p = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &p, 4, &y) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &mo) || !Expect(s, &p, '-') ||
      !Digits(s, &p, 2, &d)) {
    return bad();
  }
  Micros frac = 0;
  Micros offset = kOffset;
  if (p < s.size()) {
    if (!Expect(s, &p, 'T') || !Digits(s, &p, 2, &h) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &mi)) return bad();
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!Digits(s, &p, 2, &sec)) return bad();
      if (p < s.size() && s[p] == '.') {
        ++p;
        Micros scale = 100000;
        const size_t begin = p;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          frac += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
        }
        if (p == begin) return bad();
      }
    }
    if (p < s.size()) {
      if (s[p] == 'Z') {
        offset = 0;
        ++p;
      } else if (s[p] == '+' || s[p] == '-') {
        const int sign = s[p] == '+' ? 1 : -1;
        ++p;
        int oh = 0, om = 0;
        if (!Digits(s, &p, 2, &oh)) return bad();
        if (p < s.size() && s[p] == ':') ++p;
        if (!Digits(s, &p, 2, &om) || oh > 23 || om > 59) return bad();
        offset = sign * (oh * 3600 + om * 60) * kMicrosPerSecond;
      } else {
        return bad();
      }
    }
    if (p != s.size()) return bad();
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 59) return bad();
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return bad();
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return (days * 86400 + h * 3600 + mi * 60 + sec) * kMicrosPerSecond + frac - offset;
}

std::string FormatIso8601(Micros micros) {
  const Micros local = micros + kOffset;
  int64_t secs = local / kMicrosPerSecond;
  if (local % kMicrosPerSecond < 0) --secs;
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld+08:00", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

const char* Open311Status(grid::v1::CaseStatus status) {
  switch (status) {
    case grid::v1::CASE_STATUS_RESOLVED:
    case grid::v1::CASE_STATUS_CALLED_BACK:
    case grid::v1::CASE_STATUS_CLOSED:
    case grid::v1::CASE_STATUS_CANCELLED:
    case grid::v1::CASE_STATUS_MERGED: return "closed";
    default: return "open";
  }
}

std::string ExtendedStatus(const grid::v1::Case& c) {
  switch (c.status()) {
    case grid::v1::CASE_STATUS_SUBMITTED:
    case grid::v1::CASE_STATUS_ROUTED:
      if (c.arbitration()) {
        // Refused by the unit it was sent to and now with the parent: "not
        // ours" without a suggestion, or a referral inside the hierarchy.
        const bool not_ours = c.rejections_size() > 0 &&
                              c.rejections(c.rejections_size() - 1).reason() == grid::v1::REJECT_REASON_NOT_OUR_DUTY;
        return not_ours ? "not_councils_responsibility" : "internal_referral";
      }
      return "open";
    case grid::v1::CASE_STATUS_ACCEPTED: return "action_scheduled";
    case grid::v1::CASE_STATUS_IN_PROGRESS: return "in_progress";
    case grid::v1::CASE_STATUS_WAITING: return "investigating";
    case grid::v1::CASE_STATUS_RESOLVED:
    case grid::v1::CASE_STATUS_CALLED_BACK: return "fixed";
    case grid::v1::CASE_STATUS_CLOSED: return "closed";
    case grid::v1::CASE_STATUS_CANCELLED: return "no_further_action";
    case grid::v1::CASE_STATUS_MERGED: return "duplicate";
    default: return "open";
  }
}

std::vector<grid::v1::CaseStatus> StatusesOf(std::string_view open311_status) {
  using S = grid::v1::CaseStatus;
  if (open311_status == "open") {
    return {grid::v1::CASE_STATUS_SUBMITTED, grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED,
            grid::v1::CASE_STATUS_IN_PROGRESS, grid::v1::CASE_STATUS_WAITING};
  }
  if (open311_status == "closed") {
    return {grid::v1::CASE_STATUS_RESOLVED, grid::v1::CASE_STATUS_CALLED_BACK, grid::v1::CASE_STATUS_CLOSED,
            grid::v1::CASE_STATUS_CANCELLED, grid::v1::CASE_STATUS_MERGED};
  }
  return std::vector<S>{};
}

std::string RenderErrors(Format format, const std::vector<ErrorItem>& errors) {
  json list = json::array();
  for (const auto& e : errors) list.push_back(json{{"code", e.code}, {"description", e.description}});
  return Render(format, "errors", list);
}

int HttpStatusOf(const Status& status) {
  if (status.reason() == reason::MESSAGE_TOO_LARGE.name) return 413;
  if (status.reason() == reason::UNSUPPORTED_MEDIA_TYPE.name) return 415;
  if (status.reason() == reason::METHOD_NOT_ALLOWED.name) return 405;
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnimplemented: return 405;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string RenderDiscovery(Format format, std::string_view base_url) {
  json endpoint{{"specification", "http://wiki.open311.org/GeoReport_v2"},
                {"url", std::string(base_url)},
                {"changeset", "2026-12-07T00:00:00+08:00"},
                {"type", "production"},
                {"formats", json::array({"application/json", "text/xml"})}};
  json d{{"changeset", "2026-12-07T00:00:00+08:00"},
         {"contact", "12345 citizen hotline"},
         {"key_service", "api_key is a gridd token (docs/open311.md)"},
         {"endpoints", json::array({endpoint})}};
  return Render(format, "discovery", d);
}

std::string RenderServices(Format format, const std::vector<const grid::v1::Category*>& categories) {
  json list = json::array();
  for (const auto* c : categories) {
    const std::string& code = c->code();
    list.push_back(json{{"service_code", code},
                        {"service_name", c->name()},
                        {"description", c->name()},
                        {"metadata", false},  // no category of ours has attributes yet
                        {"type", "realtime"},
                        {"keywords", c->deadline_class()},
                        {"group", code.substr(0, code.find('.'))}});
  }
  return Render(format, "services", list);
}

std::string RenderServiceDefinition(Format format, const grid::v1::Category& category) {
  return Render(format, "service_definition", json{{"service_code", category.code()}, {"attributes", json::array()}});
}

std::string RenderRequests(Format format, const std::vector<grid::v1::Case>& cases, const Names& names,
                           const std::vector<std::vector<grid::v1::CaseEvent>>& events) {
  json list = json::array();
  for (size_t i = 0; i < cases.size(); ++i) {
    list.push_back(RequestJson(cases[i], names, i < events.size() ? &events[i] : nullptr));
  }
  return Render(format, "service_requests", list);
}

std::string RenderSubmitted(Format format, const grid::v1::Case& c) {
  json one{{"service_request_id", c.id()}, {"service_notice", c.routing().explanation()}, {"account_id", nullptr}};
  return Render(format, "service_requests", json::array({one}));
}

}  // namespace grid::services::open311
