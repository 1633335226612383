// DashboardGateway (see dashboard_gateway.h): path -> endpoint, query ->
// a grid.v1 request, the call on the in-process channel with the caller's
// token, the answer as JSON (protobuf's JSON mapping, lowerCamelCase).
#include "services/dashboard_gateway.h"

#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/calendar.h"
#include "engine/reasons.h"
#include "services/dashboard_map.h"
#include "services/errors.h"
#include "services/open311.h"

namespace grid::services {
namespace {

using nlohmann::json;
constexpr const char* kCaller = "dashboard";
constexpr const char* kApi = "/dashboard/api/";
constexpr const char* kJson = "application/json; charset=utf-8";
// Open cases counted per child for the map, at most (pages of 1,000).
constexpr int kCountPages = 5;
constexpr Micros kBeijingOffset = 8 * kMicrosPerHour;

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "null";
  return out;
}

HttpResponse Ok(std::string body) { return HttpResponse{200, kJson, std::move(body)}; }

HttpResponse Refusal(const Status& why) { return DashboardGateway::ErrorResponse(open311::HttpStatusOf(why), why); }

Status BadParameter(const std::string& name, const std::string& what) {
  return Error(reason::INVALID_PARAMETER, "query parameter '" + name + "' " + what);
}

// YYYY-MM-DD (UTC+8) -> micros since the epoch at its start.
StatusOr<Micros> DayStart(const std::string& name, const std::string& text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      std::from_chars(text.data(), text.data() + 4, y).ptr != text.data() + 4 ||
      std::from_chars(text.data() + 5, text.data() + 7, m).ptr != text.data() + 7 ||
      std::from_chars(text.data() + 8, text.data() + 10, d).ptr != text.data() + 10 || m < 1 || m > 12 || d < 1 ||
      d > 31) {
    return Error(reason::INVALID_DATE,
                 "query parameter '" + name + "' is not YYYY-MM-DD: '" + text.substr(0, 40) + "'");
  }
  // days_from_civil (H. Hinnant).
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + static_cast<int64_t>(doe) - 719468;
  return days * 24 * kMicrosPerHour - kBeijingOffset;
}

std::string DayOf(Micros now) {
  const int64_t days = (now + kBeijingOffset) / (24 * kMicrosPerHour);
  // civil_from_days (H. Hinnant).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
  return buf;
}

void Stamp(Micros m, google::protobuf::Timestamp* t) {
  t->set_seconds(m / 1'000'000);
  t->set_nanos(static_cast<int32_t>(m % 1'000'000) * 1000);
}

StatusOr<uint64_t> Number(const std::string& name, const std::string& text, uint64_t max) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || v > max) {
    return BadParameter(name, "is not a number in 0.." + std::to_string(max) + ": '" + text.substr(0, 40) + "'");
  }
  return v;
}

StatusOr<bool> Flag(const std::string& name, const std::string& text) {
  if (text == "1" || text == "true") return true;
  if (text == "0" || text == "false" || text.empty()) return false;
  return BadParameter(name, "is not true/false or 1/0: '" + text.substr(0, 40) + "'");
}

// The in-process call of `Method` on `stub` (a lambda for UnaryCall).
#define GRID_ASYNC_CALL(stub, Method) \
  [s = (stub)](auto* c, auto* q, auto* p, auto cb) { s->async()->Method(c, q, p, std::move(cb)); }

// Replies with the response as JSON, or the refusal.
template <typename Response>
std::function<void(StatusOr<Response>)> ReplyJson(HttpReply reply) {
  return [reply](StatusOr<Response> r) {
    if (!r.ok()) return reply(Refusal(r.status()));
    reply(Ok(ToJson(*r)));
  };
}

}  // namespace

struct DashboardGateway::Request {
  HttpCaller who;  // the token and the client's address
  open311::Fields query;
  std::string last_event_id;
  std::optional<std::string> Get(std::string_view name) const { return open311::Field(query, name); }
  // The `unit` parameter, required.
  StatusOr<std::string> UnitParam() const {
    auto u = Get("unit");
    if (!u || u->empty()) return Error(reason::MISSING_SCOPE, "query parameter 'unit' is required");
    return *u;
  }
};

DashboardGateway::DashboardGateway(std::shared_ptr<grpc::Channel> channel, const DirectoryHandle* directory,
                                   const Clock* clock, std::string web_root)
    : query_(grid::v1::CaseQuery::NewStub(channel)),
      units_(grid::v1::Directory::NewStub(channel)),
      feed_(grid::v1::EscalationFeed::NewStub(channel)),
      directory_(directory),
      clock_(clock),
      web_root_(std::move(web_root)) {}

DashboardGateway::~DashboardGateway() { Drain(); }

bool DashboardGateway::Serves(const std::string& path) {
  return path == "/" || path == "/dashboard" || path.rfind("/dashboard/", 0) == 0;
}

HttpResponse DashboardGateway::ErrorResponse(int status, const Status& why) {
  json e{{"error",
          {{"status", status},
           {"reason", why.reason().empty() ? std::string(StatusCodeName(why.code())) : why.reason()},
           {"message", why.message()}}}};
  return HttpResponse{status, kJson, e.dump(-1, ' ', false, json::error_handler_t::replace)};
}

void DashboardGateway::Handle(HttpRequest request, HttpReply reply) {
  if (request.path.rfind(kApi, 0) != 0) return StaticFile(request, reply);
  if (request.method != "GET") {
    return reply(ErrorResponse(405, Error(reason::METHOD_NOT_ALLOWED, "the dashboard's API takes GET only")));
  }
  auto query = open311::ParseForm(request.query);
  if (!query.ok()) return reply(Refusal(query.status()));
  Request r;
  r.query = std::move(query).value();
  constexpr std::string_view kBearer = "Bearer ";
  if (request.authorization.rfind(kBearer, 0) == 0) {
    r.who.token = request.authorization.substr(kBearer.size());
  } else if (auto t = r.Get("access_token")) {
    r.who.token = *t;  // EventSource cannot set a header (RFC 6750, 2.3)
  }
  r.who.peer = request.peer;
  r.last_event_id = request.last_event_id;
  const std::string endpoint = request.path.substr(std::string_view(kApi).size());
  if (endpoint == "session") return Session(r, reply);
  if (endpoint == "unit") return Unit(r, reply);
  if (endpoint == "shapes") return Shapes(r, reply);
  if (endpoint == "figures") return Figures(r, reply);
  if (endpoint == "counts") return Counts(r, reply);
  if (endpoint == "cases") return Cases(r, reply);
  if (endpoint.rfind("cases/", 0) == 0) return Case(r, endpoint.substr(6), reply);
  if (endpoint == "escalations") return Escalations(r, reply);
  reply(ErrorResponse(404, Error(reason::UNKNOWN_PATH, "no dashboard endpoint '" + endpoint.substr(0, 100) + "'")));
}

// The caller's scope unit: GetUnit with no code.
void DashboardGateway::Session(const Request& r, HttpReply reply) {
  UnaryCall<grid::v1::GetUnitResponse>(
      &calls_, GRID_ASYNC_CALL(units_.get(), GetUnit), grid::v1::GetUnitRequest(), r.who, kCaller,
      [this, reply](StatusOr<grid::v1::GetUnitResponse> u) {
        if (!u.ok()) return reply(Refusal(u.status()));
        u->mutable_unit()->clear_boundary();
        reply(Ok(R"({"today":")" + DayOf(clock_->NowMicros()) + R"(","scope":)" + ToJson(*u) + "}"));
      });
}

void DashboardGateway::Unit(const Request& r, HttpReply reply) {
  auto unit = r.UnitParam();
  if (!unit.ok()) return reply(Refusal(unit.status()));
  grid::v1::GetUnitRequest get;
  get.set_code(*unit);
  UnaryCall<grid::v1::GetUnitResponse>(&calls_, GRID_ASYNC_CALL(units_.get(), GetUnit), std::move(get), r.who, kCaller,
                                       [reply](StatusOr<grid::v1::GetUnitResponse> u) {
                                         if (!u.ok()) return reply(Refusal(u.status()));
                                         u->mutable_unit()->clear_boundary();
                                         reply(Ok(ToJson(*u)));
                                       });
}

// GetStats over `unit` for today admits the caller to the unit's subtree
// (CaseQuery.GetStats: the unit lies within the scope); then the shapes.
void DashboardGateway::Shapes(const Request& r, HttpReply reply) {
  auto unit = r.UnitParam();
  if (!unit.ok()) return reply(Refusal(unit.status()));
  auto zoom = Number("zoom", r.Get("zoom").value_or("12"), dashboard::kMaxZoom);
  if (!zoom.ok()) return reply(Refusal(zoom.status()));
  const std::string outline_name = r.Get("outline").value_or("");
  const int outline = outline_name == "grids" ? 1 : outline_name == "children" ? 2 : 0;
  if (outline == 0 && !outline_name.empty()) {
    return reply(Refusal(BadParameter("outline", "is not grids or children: '" + outline_name.substr(0, 40) + "'")));
  }
  grid::v1::GetStatsRequest stats;
  stats.set_scope_unit_code(*unit);
  stats.set_from_date(DayOf(clock_->NowMicros()));
  stats.set_to_date(stats.from_date());
  UnaryCall<grid::v1::GetStatsResponse>(
      &calls_, GRID_ASYNC_CALL(query_.get(), GetStats), std::move(stats), r.who, kCaller,
      [this, reply, unit = *unit, zoom = static_cast<int>(*zoom), outline](StatusOr<grid::v1::GetStatsResponse> s) {
        if (!s.ok()) return reply(Refusal(s.status()));
        auto directory = directory_->Get();
        reply(Ok(*CachedShapes(*directory, unit, zoom, outline)));
      });
}

std::shared_ptr<const std::string> DashboardGateway::CachedShapes(const Directory& directory, const std::string& unit,
                                                                  int zoom, int outline) {
  const auto key = std::make_tuple(directory.version(), unit, zoom, outline);
  {
    MutexLock lock(&mu_);
    if (auto it = shapes_.find(key); it != shapes_.end()) return it->second;
  }
  std::optional<dashboard::Outline> forced;
  if (outline == 1) forced = dashboard::Outline::kGrids;
  if (outline == 2) forced = dashboard::Outline::kChildren;
  auto shapes = std::make_shared<const std::string>(dashboard::GridShapes(directory, unit, zoom, forced).geojson);
  MutexLock lock(&mu_);
  if (shapes_.size() >= kMaxCachedShapes) shapes_.clear();
  shapes_.emplace(key, shapes);
  return shapes;
}

void DashboardGateway::Figures(const Request& r, HttpReply reply) {
  auto unit = r.UnitParam();
  if (!unit.ok()) return reply(Refusal(unit.status()));
  grid::v1::GetStatsRequest stats;
  stats.set_scope_unit_code(*unit);
  const std::string today = DayOf(clock_->NowMicros());
  stats.set_from_date(r.Get("from").value_or(today));
  stats.set_to_date(r.Get("to").value_or(today));
  UnaryCall<grid::v1::GetStatsResponse>(&calls_, GRID_ASYNC_CALL(query_.get(), GetStats), std::move(stats), r.who,
                                        kCaller, ReplyJson<grid::v1::GetStatsResponse>(reply));
}

// Open and overdue cases per child of `unit`: two ListCases scans (open,
// overdue), each at most kCountPages pages; "complete" false when cut short.
void DashboardGateway::Counts(const Request& r, HttpReply reply) {
  auto unit = r.UnitParam();
  if (!unit.ok()) return reply(Refusal(unit.status()));
  struct Tally {
    Mutex mu;
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_child ABSL_GUARDED_BY(mu);  // open, overdue
    bool complete ABSL_GUARDED_BY(mu) = true;
    int left ABSL_GUARDED_BY(mu) = 2;
    std::optional<Status> error ABSL_GUARDED_BY(mu);
  };
  auto tally = std::make_shared<Tally>();
  auto finish = [tally, reply]() {
    json out;
    {
      MutexLock lock(&tally->mu);
      if (--tally->left > 0) return;
      if (tally->error) return reply(Refusal(*tally->error));
      json children = json::object();
      for (const auto& [code, n] : tally->by_child) children[code] = {{"open", n.first}, {"overdue", n.second}};
      out = {{"children", children}, {"complete", tally->complete}};
    }
    reply(Ok(out.dump()));
  };
  for (const bool overdue : {false, true}) {
    grid::v1::ListCasesRequest list;
    list.set_scope_unit_code(*unit);
    list.set_overdue(overdue);
    for (auto s : {grid::v1::CASE_STATUS_SUBMITTED, grid::v1::CASE_STATUS_ROUTED, grid::v1::CASE_STATUS_ACCEPTED,
                   grid::v1::CASE_STATUS_IN_PROGRESS, grid::v1::CASE_STATUS_WAITING}) {
      list.add_statuses(s);
    }
    list.set_page_size(1000);
    // One page, then the next from its token, kCountPages at most.
    auto page = std::make_shared<std::function<void(grid::v1::ListCasesRequest, int)>>();
    *page = [this, page, tally, finish, overdue, unit = *unit, who = r.who](grid::v1::ListCasesRequest list, int n) {
      UnaryCall<grid::v1::ListCasesResponse>(
          &calls_, GRID_ASYNC_CALL(query_.get(), ListCases), list, who, kCaller,
          [page, tally, finish, overdue, unit, list, n](StatusOr<grid::v1::ListCasesResponse> l) {
            {
              MutexLock lock(&tally->mu);
              if (!l.ok()) {
                if (!tally->error) tally->error = l.status();
              } else {
                for (const auto& c : l->cases()) {
                  // The child of `unit` on the case's path; the unit itself when the case sits there.
                  const auto& path = c.unit_path();
                  std::string child = unit;
                  for (int i = 0; i + 1 < path.size(); ++i) {
                    if (path[i] == unit) child = path[i + 1];
                  }
                  auto& counts = tally->by_child[child];
                  (overdue ? counts.second : counts.first)++;
                }
              }
            }
            if (l.ok() && !l->next_page_token().empty()) {
              if (n + 1 < kCountPages) {
                auto next = list;
                next.set_page_token(l->next_page_token());
                return (*page)(std::move(next), n + 1);
              }
              MutexLock lock(&tally->mu);
              tally->complete = false;
            }
            finish();
            *page = nullptr;  // breaks the cycle page -> lambda -> page
          });
    };
    (*page)(std::move(list), 0);
  }
}

void DashboardGateway::Cases(const Request& r, HttpReply reply) {
  auto unit = r.UnitParam();
  if (!unit.ok()) return reply(Refusal(unit.status()));
  grid::v1::ListCasesRequest list;
  list.set_scope_unit_code(*unit);
  if (auto statuses = r.Get("status"); statuses && !statuses->empty()) {
    std::stringstream in(*statuses);
    for (std::string name; std::getline(in, name, ',');) {
      grid::v1::CaseStatus s{};
      if (!grid::v1::CaseStatus_Parse("CASE_STATUS_" + name, &s) && !grid::v1::CaseStatus_Parse(name, &s)) {
        return reply(Refusal(Error(reason::INVALID_STATUS, "'" + name.substr(0, 40) + "' is not a case status")));
      }
      list.add_statuses(s);
    }
  }
  list.set_category(r.Get("category").value_or(""));
  list.set_assignee_member_id(r.Get("assignee").value_or(""));
  auto overdue = Flag("overdue", r.Get("overdue").value_or(""));
  if (!overdue.ok()) return reply(Refusal(overdue.status()));
  list.set_overdue(*overdue);
  if (auto from = r.Get("from"); from && !from->empty()) {
    auto m = DayStart("from", *from);
    if (!m.ok()) return reply(Refusal(m.status()));
    Stamp(*m, list.mutable_created_from());
  }
  if (auto to = r.Get("to"); to && !to->empty()) {
    auto m = DayStart("to", *to);
    if (!m.ok()) return reply(Refusal(m.status()));
    Stamp(*m + 24 * kMicrosPerHour, list.mutable_created_to());  // the whole day
  }
  auto size = Number("page_size", r.Get("page_size").value_or("50"), 1000);
  if (!size.ok()) return reply(Refusal(size.status()));
  list.set_page_size(static_cast<uint32_t>(*size));
  list.set_page_token(r.Get("page_token").value_or(""));
  UnaryCall<grid::v1::ListCasesResponse>(&calls_, GRID_ASYNC_CALL(query_.get(), ListCases), std::move(list), r.who,
                                         kCaller, ReplyJson<grid::v1::ListCasesResponse>(reply));
}

void DashboardGateway::Case(const Request& r, const std::string& id, HttpReply reply) {
  grid::v1::GetCaseRequest get;
  get.set_case_id(id);
  UnaryCall<grid::v1::GetCaseResponse>(&calls_, GRID_ASYNC_CALL(query_.get(), GetCase), std::move(get), r.who, kCaller,
                                       ReplyJson<grid::v1::GetCaseResponse>(reply));
}

// What a live stream's two sides share: the gRPC side (Watcher) and the HTTP
// side (the HttpStream and its on_close) may each outlive the other.
struct DashboardGateway::Link {
  Mutex mu;
  grpc::ClientContext* context ABSL_GUARDED_BY(mu) = nullptr;  // null once the Watch has ended
  std::shared_ptr<HttpStream> stream ABSL_GUARDED_BY(mu);      // set once the head is out
  std::string pending ABSL_GUARDED_BY(mu);                     // events before that
  bool end ABSL_GUARDED_BY(mu) = false;                        // end the stream once it opens

  void Cancel() ABSL_LOCKS_EXCLUDED(mu) {
    MutexLock lock(&mu);
    if (context != nullptr) context->TryCancel();
  }
  void Send(std::string events, bool last) ABSL_LOCKS_EXCLUDED(mu) {
    MutexLock lock(&mu);
    if (!stream) {
      pending += events;
      end = end || last;
      return;
    }
    if (!events.empty() && !stream->Send(std::move(events)) && context != nullptr) context->TryCancel();
    if (last) stream->End();
  }
  void Open(std::shared_ptr<HttpStream> s) ABSL_LOCKS_EXCLUDED(mu) {
    MutexLock lock(&mu);
    stream = std::move(s);
    if (!pending.empty()) stream->Send(std::move(pending));
    if (end) stream->End();
  }
};

// One EscalationFeed.Watch for one EventSource: the first response (or the
// refusal) decides the HTTP answer; then every response becomes events: one
// "entry" event per feed entry with its cursor as the event id, and a
// "cursor" event with the response's cursor (heartbeats move it too). The
// stream ends with an "end" event carrying the reason when the Watch ends.
class DashboardGateway::Watcher final : public grpc::ClientReadReactor<grid::v1::WatchResponse> {
 public:
  Watcher(DashboardGateway* gateway, grid::v1::WatchRequest request, const HttpCaller& who, HttpReply reply)
      : gateway_(gateway), request_(std::move(request)), reply_(std::move(reply)), link_(std::make_shared<Link>()) {
    PrepareContext(&context_, who, kCaller);
    MutexLock lock(&link_->mu);
    link_->context = &context_;
  }

  // REQUIRES: the gateway is not draining (checked under its mutex).
  void Start() {
    gateway_->calls_.Begin();
    gateway_->feed_->async()->Watch(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  std::shared_ptr<Link> link() const { return link_; }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    std::string events;
    for (const auto& e : response_.entries()) {
      events += "id: " + std::to_string(e.cursor()) + "\nevent: entry\ndata: " + ToJson(e) + "\n\n";
    }
    events += "id: " + std::to_string(response_.cursor()) + "\nevent: cursor\ndata: {\"cursor\":\"" +
              std::to_string(response_.cursor()) + "\",\"caughtUp\":" + (response_.caught_up() ? "true" : "false") +
              "}\n\n";
    if (!started_) {
      started_ = true;
      auto streaming = std::make_shared<HttpStreaming>();
      streaming->on_open = [link = link_](std::shared_ptr<HttpStream> s) { link->Open(std::move(s)); };
      streaming->on_close = [link = link_] { link->Cancel(); };
      // retry: how soon EventSource reconnects (with Last-Event-ID).
      reply_(HttpResponse{200, "text/event-stream; charset=utf-8", "retry: 2000\n\n", std::move(streaming)});
      reply_ = nullptr;
    }
    link_->Send(std::move(events), false);
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    const Status why = status.ok() ? Status::Ok() : StatusOfCall(status, context_);
    {
      MutexLock lock(&link_->mu);
      link_->context = nullptr;
    }
    if (!started_) {
      reply_(Refusal(why.ok() ? Error(reason::SERVER_STOPPING, "the feed ended") : why));
    } else {
      json end{{"reason", why.reason()}, {"message", why.message()}};
      link_->Send("event: end\ndata: " + end.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n", true);
    }
    DashboardGateway* gateway = gateway_;
    {
      MutexLock lock(&gateway->mu_);
      gateway->live_.erase(link_);
    }
    delete this;
    gateway->calls_.End();
  }

 private:
  DashboardGateway* gateway_;
  grpc::ClientContext context_;
  grid::v1::WatchRequest request_;
  grid::v1::WatchResponse response_;
  HttpReply reply_;       // until the first response
  bool started_ = false;  // reactions run one at a time
  std::shared_ptr<Link> link_;
};

void DashboardGateway::Escalations(const Request& r, HttpReply reply) {
  grid::v1::WatchRequest watch;
  watch.set_scope_unit_code(r.Get("unit").value_or(""));
  // The cursor to resume from: Last-Event-ID (EventSource reconnecting),
  // else ?cursor=; none: from now on.
  const std::string cursor = !r.last_event_id.empty() ? r.last_event_id : r.Get("cursor").value_or("");
  if (cursor.empty()) {
    watch.set_from_latest(true);
  } else {
    auto c = Number("cursor", cursor, UINT64_MAX);
    if (!c.ok()) return reply(Refusal(c.status()));
    watch.set_from_cursor(*c);
  }
  auto all = Flag("all", r.Get("all").value_or(""));
  if (!all.ok()) return reply(Refusal(all.status()));
  watch.set_all_changes(*all);
  auto* watcher = new Watcher(this, std::move(watch), r.who, reply);
  {
    MutexLock lock(&mu_);
    if (draining_) {
      delete watcher;
      return reply(ErrorResponse(503, Error(reason::SERVER_STOPPING, "the server is stopping")));
    }
    live_.insert(watcher->link());
  }
  watcher->Start();
}

void DashboardGateway::Drain() {
  std::set<std::shared_ptr<Link>> live;
  {
    MutexLock lock(&mu_);
    draining_ = true;
    live = live_;
  }
  for (const auto& link : live) link->Cancel();
  calls_.Drain();
}

// The web app's files: "/" and "/dashboard/" are its index.html; names are
// [A-Za-z0-9._-] path segments, no "..", below the web root.
void DashboardGateway::StaticFile(const HttpRequest& request, HttpReply reply) const {
  if (request.method != "GET" && request.method != "HEAD") {
    return reply(ErrorResponse(405, Error(reason::METHOD_NOT_ALLOWED, "the dashboard's files take GET only")));
  }
  std::string name = request.path == "/" || request.path == "/dashboard" ? "" : request.path.substr(11);
  if (name.empty()) name = "index.html";
  bool ok = name.find("..") == std::string::npos && name.front() != '/';
  for (char c : name)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '/');
  std::ifstream in;
  if (ok && !web_root_.empty()) in.open(web_root_ + "/" + name, std::ios::binary);
  if (!in.is_open() || !in) {
    return reply(ErrorResponse(
        404, Error(reason::UNKNOWN_PATH, web_root_.empty() ? "gridd serves no dashboard (--web-root)"
                                                           : "no dashboard file '" + name.substr(0, 100) + "'")));
  }
  std::ostringstream body;
  body << in.rdbuf();
  static const std::map<std::string, std::string> kTypes = {{"html", "text/html; charset=utf-8"},
                                                            {"js", "text/javascript; charset=utf-8"},
                                                            {"css", "text/css; charset=utf-8"},
                                                            {"json", kJson},
                                                            {"png", "image/png"},
                                                            {"svg", "image/svg+xml"},
                                                            {"map", "application/json; charset=utf-8"}};
  const auto dot = name.rfind('.');
  const auto type = kTypes.find(dot == std::string::npos ? "" : name.substr(dot + 1));
  reply(HttpResponse{200, type == kTypes.end() ? "application/octet-stream" : type->second, body.str()});
}

}  // namespace grid::services
