// Open311Gateway (see open311_gateway.h): path -> endpoint, HTTP fields ->
// a grid.v1 request, one or more calls on the in-process channel, the
// answer rendered as Open311 JSON or XML.
#include "services/open311_gateway.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "engine/reasons.h"
#include "services/auth.h"
#include "services/errors.h"
#include "services/inprocess_call.h"

namespace grid::services {
namespace {

using open311::Format;

HttpResponse Ok(Format format, std::string body) {
  return HttpResponse{200, open311::ContentType(format), std::move(body)};
}

HttpResponse Refusal(Format format, const Status& why) {
  const int code = open311::HttpStatusOf(why);
  const std::string description = why.reason().empty() ? why.message() : why.ToString();
  return HttpResponse{code, open311::ContentType(format), open311::RenderErrors(format, {{code, description}})};
}

// The token: api_key (query or body), else "Authorization: Bearer ...".
std::string ApiKey(const HttpRequest& request, const open311::Fields& query, const open311::Fields* body) {
  if (auto k = open311::Field(query, "api_key")) return *k;
  if (body != nullptr) {
    if (auto k = open311::Field(*body, "api_key")) return *k;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (request.authorization.rfind(kBearer, 0) == 0) return request.authorization.substr(kBearer.size());
  return "";
}

}  // namespace

HttpCaller Open311Gateway::CallerOf(const HttpRequest& request, const open311::Fields& query) {
  return HttpCaller{ApiKey(request, query, nullptr), request.peer};
}

Open311Gateway::Open311Gateway(std::shared_ptr<grpc::Channel> channel, const DirectoryHandle* directory,
                               const Clock* clock)
    : intake_(grid::v1::CaseIntake::NewStub(channel)),
      query_(grid::v1::CaseQuery::NewStub(channel)),
      directory_(directory),
      clock_(clock) {}

Open311Gateway::~Open311Gateway() { Drain(); }

void Open311Gateway::Drain() { calls_.Drain(); }

template <typename Response, typename Request, typename Method>
void Open311Gateway::Unary(Method method, Request request, const HttpCaller& caller,
                           std::function<void(StatusOr<Response>)> done) {
  UnaryCall<Response>(&calls_, std::move(method), std::move(request), caller, "open311", std::move(done));
}

HttpResponse Open311Gateway::ErrorResponse(int status, const std::string& path, const Status& why) {
  const Format format = open311::FormatOfPath(path);
  return HttpResponse{status, open311::ContentType(format), open311::RenderErrors(format, {{status, why.ToString()}})};
}

open311::Names Open311Gateway::NamesOf(std::shared_ptr<const Directory> directory) const {
  open311::Names names;
  names.service_name = [directory](std::string_view code) {
    const auto* c = directory->FindCategory(code);
    return c != nullptr ? c->name() : std::string(code);
  };
  names.unit_name = [directory](std::string_view code) {
    const UnitRef u = directory->FindUnit(code);
    return u ? std::string(u.name()) : std::string();
  };
  return names;
}

void Open311Gateway::Handle(HttpRequest request, HttpReply reply) {
  const Format path_format = open311::FormatOfPath(request.path);
  auto route = open311::ParseRoute(request.method, request.path);
  if (!route.ok()) return reply(Refusal(path_format, route.status()));
  const Format format = route->format;
  auto query = open311::ParseForm(request.query);
  if (!query.ok()) return reply(Refusal(format, query.status()));
  auto directory = directory_->Get();
  switch (route->endpoint) {
    case open311::Endpoint::kDiscovery:
      return reply(
          Ok(format, open311::RenderDiscovery(
                         format, "http://" + (request.host.empty() ? "localhost" : request.host) + "/open311/v2")));
    case open311::Endpoint::kServices: {
      std::vector<const grid::v1::Category*> categories;
      for (const auto& c : directory->content().categories()) categories.push_back(&c);
      std::sort(categories.begin(), categories.end(), [](auto* a, auto* b) { return a->code() < b->code(); });
      return reply(Ok(format, open311::RenderServices(format, categories)));
    }
    case open311::Endpoint::kServiceDefinition: {
      const auto* c = directory->FindCategory(route->id);
      if (c == nullptr) {
        return reply(Refusal(format, ErrorWithCode(StatusCode::kNotFound, reason::UNKNOWN_CATEGORY,
                                                   "no service_code '" + route->id.substr(0, 100) + "'")));
      }
      return reply(Ok(format, open311::RenderServiceDefinition(format, *c)));
    }
    case open311::Endpoint::kRequests:
      if (request.method == "POST") return SubmitRequest(request, format, CallerOf(request, *query), reply);
      return ListRequests(*query, format, CallerOf(request, *query), reply);
    case open311::Endpoint::kRequest:
      return GetRequests({route->id}, /*single=*/true, format, CallerOf(request, *query), reply);
  }
}

void Open311Gateway::SubmitRequest(const HttpRequest& request, Format format, HttpCaller caller, HttpReply reply) {
  auto fields = open311::ParseBody(request.content_type, request.body);
  if (!fields.ok()) return reply(Refusal(format, fields.status()));
  if (caller.token.empty()) caller.token = ApiKey(request, {}, &*fields);
  auto submit = open311::ToSubmitCaseRequest(*fields);
  if (!submit.ok()) return reply(Refusal(format, submit.status()));
  auto* stub = intake_.get();
  Unary<grid::v1::SubmitCaseResponse>(
      [stub](auto* c, auto* q, auto* p, auto cb) { stub->async()->SubmitCase(c, q, p, std::move(cb)); },
      std::move(submit).value(), caller,
      [format, reply](StatusOr<grid::v1::SubmitCaseResponse> r) {
        if (!r.ok()) return reply(Refusal(format, r.status()));
        reply(Ok(format, open311::RenderSubmitted(format, r->case_())));
      });
}

void Open311Gateway::ListRequests(const open311::Fields& query, Format format, const HttpCaller& caller,
                                  HttpReply reply) {
  auto q = open311::ParseRequestsQuery(query, clock_->NowMicros());
  if (!q.ok()) return reply(Refusal(format, q.status()));
  if (!q->ids.empty()) return GetRequests(std::move(q->ids), /*single=*/false, format, caller, reply);
  auto directory = directory_->Get();
  grid::v1::ListCasesRequest list;
  // jurisdiction_id is the unit whose subtree is asked for; by default the
  // directory's root.
  std::string scope = open311::Field(query, "jurisdiction_id").value_or("");
  if (scope.empty()) {
    const auto roots = directory->Children("");
    if (roots.begin() != roots.end()) scope = std::string((*roots.begin()).code());
  }
  list.set_scope_unit_code(scope);
  list.set_category(q->service_code);
  for (auto s : q->statuses) list.add_statuses(s);
  auto stamp = [](Micros m, google::protobuf::Timestamp* t) {
    t->set_seconds(m / open311::kMicrosPerSecond);
    t->set_nanos(static_cast<int32_t>(m % open311::kMicrosPerSecond) * 1000);
  };
  stamp(q->start, list.mutable_created_from());
  // ListCases' window is [from, to) by the case id's millisecond; end_date is inclusive.
  stamp(q->end + 1000, list.mutable_created_to());
  list.set_page_size(open311::kMaxRequests);
  auto* stub = query_.get();
  Unary<grid::v1::ListCasesResponse>(
      [stub](auto* c, auto* r, auto* p, auto cb) { stub->async()->ListCases(c, r, p, std::move(cb)); }, std::move(list),
      caller,
      [this, format, reply, directory](StatusOr<grid::v1::ListCasesResponse> r) {
        if (!r.ok()) return reply(Refusal(format, r.status()));
        std::vector<grid::v1::Case> cases(r->cases().begin(), r->cases().end());
        reply(Ok(format, open311::RenderRequests(format, cases, NamesOf(directory))));
      });
}

void Open311Gateway::GetRequests(std::vector<std::string> ids, bool single, Format format, const HttpCaller& caller,
                                 HttpReply reply) {
  struct Gather {
    Mutex mu;
    size_t left ABSL_GUARDED_BY(mu) = 0;
    std::vector<std::optional<grid::v1::GetCaseResponse>> found ABSL_GUARDED_BY(mu);
    std::optional<Status> error ABSL_GUARDED_BY(mu);
  };
  auto gather = std::make_shared<Gather>();
  {
    MutexLock lock(&gather->mu);
    gather->left = ids.size();
    gather->found.resize(ids.size());
  }
  auto directory = directory_->Get();
  auto* stub = query_.get();
  for (size_t i = 0; i < ids.size(); ++i) {
    grid::v1::GetCaseRequest get;
    get.set_case_id(ids[i]);
    Unary<grid::v1::GetCaseResponse>(
        [stub](auto* c, auto* r, auto* p, auto cb) { stub->async()->GetCase(c, r, p, std::move(cb)); }, std::move(get),
        caller,
        [this, i, single, format, reply, gather, directory](StatusOr<grid::v1::GetCaseResponse> r) {
          std::vector<grid::v1::Case> cases;
          std::vector<std::vector<grid::v1::CaseEvent>> events;
          std::optional<Status> error;
          {
            MutexLock lock(&gather->mu);
            if (r.ok()) {
              gather->found[i] = std::move(r).value();
            } else if (single || r.status().code() != StatusCode::kNotFound) {
              // In a list, an id that does not exist is left out; any other
              // refusal (authentication, scope) answers for the request.
              if (!gather->error) gather->error = r.status();
            }
            if (--gather->left > 0) return;
            error = gather->error;
            for (auto& f : gather->found) {
              if (!f) continue;
              cases.push_back(f->case_());
              events.emplace_back(f->events().begin(), f->events().end());
            }
          }
          if (error) return reply(Refusal(format, *error));
          reply(Ok(format, open311::RenderRequests(format, cases, NamesOf(directory), events)));
        });
  }
}

}  // namespace grid::services
