// The grid.v1 gRPC services: see grid_services.h.
#include "services/grid_services.h"

#include <algorithm>

#include "engine/case_id.h"
#include "engine/text.h"
#include "services/errors.h"
#include "storage/case_index.h"
#include "services/wire.h"

namespace grid::services {
namespace {

grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context, const Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(Fail(context, status));
  return reactor;
}

const Status kQueueFull(StatusCode::kResourceExhausted, "QUEUE_FULL",
                        "the server is at capacity; retry with backoff (and the same idempotency key)");

// Authenticates and authorises; the principal on success.
StatusOr<Principal> Admit(const ServiceDeps& deps, const grpc::CallbackServerContext& context, Action action) {
  auto principal = deps.auth->Authenticate(context);
  if (!principal.ok()) return principal.status();
  GRID_RETURN_IF_ERROR(Authorize(*principal, action));
  return principal;
}

grid::v1::UnitSummary Summarise(const Directory& dir, UnitRef u) {
  grid::v1::UnitSummary s;
  s.set_code(u.code());
  s.set_level(u.level());
  s.set_name(u.name());
  s.set_child_count(static_cast<uint32_t>(dir.Children(u.code()).size()));
  s.set_member_count(static_cast<uint32_t>(dir.MembersOf(u.code()).size()));
  return s;
}

// Children of `code` after `after` (exclusive), at most `limit`; the next
// page token ("" when done).
std::string PageChildren(const Directory& dir, const std::string& code, const std::string& after, size_t limit,
                         google::protobuf::RepeatedPtrField<grid::v1::UnitSummary>* out) {
  const auto& kids = dir.Children(code);
  auto it = after.empty() ? kids.begin()
                          : std::upper_bound(kids.begin(), kids.end(), after,
                                             [](const std::string& a, UnitRef u) { return a < u->code(); });
  for (; it != kids.end() && static_cast<size_t>(out->size()) < limit; ++it) *out->Add() = Summarise(dir, **it);
  return it == kids.end() || out->empty() ? "" : out->rbegin()->code();
}

// The router's input from a request's fields; the caller's scope is the fallback.
template <typename Request>
RouteInput RouteInputOf(const Request& r, const Principal& principal) {
  RouteInput in;
  in.category = r.category();
  if (r.has_location()) in.location = geo::Point{r.location().lng(), r.location().lat()};
  in.address = r.address();
  in.unit_code = r.unit_code();
  in.fallback_unit = principal.scope;
  return in;
}

}  // namespace

// ---- CaseIntake -------------------------------------------------------------

grpc::ServerUnaryReactor* CaseIntakeService::SubmitCase(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* raw_request,
                                                        grpc::ByteBuffer* raw_response) {
  auto principal = Admit(*deps_, *context, Action::kSubmitCase);
  if (!principal.ok()) return Respond(context, principal.status());
  CaseWriter::Submission s;
  grid::v1::SubmitCaseRequest& request = s.request;
  if (Status st = ParseRequest(*raw_request, &request); !st.ok()) return Respond(context, st);
  auto dir = deps_->directory->Get();
  if (Status st = ValidateSubmit(request, *dir, deps_->limits); !st.ok()) return Respond(context, st);
  if (!request.unit_code().empty()) {
    if (Status st = CheckScope(*principal, *dir, request.unit_code()); !st.ok()) return Respond(context, st);
  }
  auto routing = deps_->router->Route(*dir, RouteInputOf(request, *principal));
  if (!routing.ok()) return Respond(context, routing.status());

  auto* reactor = context->DefaultReactor();
  s.actor = Actor{principal->id, RoleName(principal->role)};
  s.routing = std::move(routing).value();
  s.done = [reactor, context, raw_response](StatusOr<grid::v1::Case> result) {
    if (!result.ok()) {
      reactor->Finish(Fail(context, result.status()));
      return;
    }
    grid::v1::SubmitCaseResponse response;
    *response.mutable_case_() = std::move(result).value();
    SerializeResponse(response, raw_response);
    reactor->Finish(grpc::Status::OK);
  };
  if (!deps_->intake->Submit(std::move(s))) reactor->Finish(Fail(context, kQueueFull));
  return reactor;
}

// ---- CaseQuery --------------------------------------------------------------

grpc::ServerUnaryReactor* CaseQueryService::GetCase(grpc::CallbackServerContext* context,
                                                    const grid::v1::GetCaseRequest* request,
                                                    grid::v1::GetCaseResponse* response) {
  auto principal = Admit(*deps_, *context, Action::kReadCase);
  if (!principal.ok()) return Respond(context, principal.status());
  auto id = ParseCaseId(request->case_id());
  if (!id) {
    return Respond(context, InvalidArgument("INVALID_CASE_ID", "case_id must be the 16-digit id of a case"));
  }
  auto* reactor = context->DefaultReactor();
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, reactor, context, response, id = *id, p = *principal] {
    auto c = deps->store->GetCase(id);
    if (!c.ok()) return reactor->Finish(Fail(context, c.status()));
    if (!c->has_value()) {
      return reactor->Finish(Fail(context, NotFound("CASE_NOT_FOUND", "no case " + CaseIdToString(id))));
    }
    auto dir = deps->directory->Get();
    if (Status s = CheckScope(p, *dir, storage::IndexedUnit(**c)); !s.ok()) {
      return reactor->Finish(Fail(context, s));
    }
    auto events = deps->store->GetEvents(id);
    if (!events.ok()) return reactor->Finish(Fail(context, events.status()));
    MaskCitizen(p, &**c);
    *response->mutable_case_() = std::move(**c);
    for (auto& e : *events) *response->add_events() = std::move(e);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(Fail(context, kQueueFull));
  return reactor;
}

// ---- CaseWork ---------------------------------------------------------------

template <typename Request>
grpc::ServerUnaryReactor* CaseWorkService::Handle(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* raw_request, grpc::ByteBuffer* raw_response,
                                                  Request* (grid::v1::CaseCommand::*mutable_action)()) {
  auto principal = deps_->auth->Authenticate(*context);
  if (!principal.ok()) return Respond(context, principal.status());
  CaseWriter::Command c;
  if (Status st = ParseRequest(*raw_request, (c.command.*mutable_action)()); !st.ok()) return Respond(context, st);
  // Field errors answer here, without queueing; the writer checks them again.
  if (Status st = ValidateCommand(c.command, deps_->lifecycle->options()); !st.ok()) return Respond(context, st);
  c.actor = WorkActor{principal->id, RoleName(principal->role), principal->scope};
  auto* reactor = context->DefaultReactor();
  c.done = [reactor, context, raw_response, p = *principal](StatusOr<CaseWriter::CommandResult> result) {
    if (!result.ok()) {
      reactor->Finish(Fail(context, result.status()));
      return;
    }
    grid::v1::CaseWorkResponse response;
    *response.mutable_case_() = std::move(result->after);
    MaskCitizen(p, response.mutable_case_());
    for (auto& e : result->events) *response.add_events() = std::move(e);
    SerializeResponse(response, raw_response);
    reactor->Finish(grpc::Status::OK);
  };
  if (!deps_->intake->Execute(std::move(c))) reactor->Finish(Fail(context, kQueueFull));
  return reactor;
}

#define GRID_CASE_WORK_METHOD(Method, action)                                                                  \
  grpc::ServerUnaryReactor* CaseWorkService::Method(grpc::CallbackServerContext* context,                      \
                                                    const grpc::ByteBuffer* request, grpc::ByteBuffer* response) { \
    return Handle(context, request, response, &grid::v1::CaseCommand::mutable_##action);                      \
  }
GRID_CASE_WORK_METHOD(Accept, accept)
GRID_CASE_WORK_METHOD(Reject, reject)
GRID_CASE_WORK_METHOD(Transfer, transfer)
GRID_CASE_WORK_METHOD(AddNote, add_note)
GRID_CASE_WORK_METHOD(StartWork, start_work)
GRID_CASE_WORK_METHOD(Resolve, resolve)
GRID_CASE_WORK_METHOD(RecordCallback, record_callback)
GRID_CASE_WORK_METHOD(Close, close)
GRID_CASE_WORK_METHOD(Reopen, reopen)
GRID_CASE_WORK_METHOD(Merge, merge)
GRID_CASE_WORK_METHOD(Cancel, cancel)
GRID_CASE_WORK_METHOD(Escalate, escalate)
GRID_CASE_WORK_METHOD(SummonDepartments, summon)
GRID_CASE_WORK_METHOD(ReportIn, report_in)
GRID_CASE_WORK_METHOD(AssignHelper, assign_helper)
GRID_CASE_WORK_METHOD(Wait, wait)
GRID_CASE_WORK_METHOD(Resume, resume)
GRID_CASE_WORK_METHOD(Extend, extend)
#undef GRID_CASE_WORK_METHOD

// ---- Directory --------------------------------------------------------------

grpc::ServerUnaryReactor* DirectoryService::GetUnit(grpc::CallbackServerContext* context,
                                                    const grid::v1::GetUnitRequest* request,
                                                    grid::v1::GetUnitResponse* response) {
  auto principal = Admit(*deps_, *context, Action::kReadDirectory);
  if (!principal.ok()) return Respond(context, principal.status());
  auto dir = deps_->directory->Get();
  const UnitRef u = dir->FindUnit(request->code());
  if (u == nullptr) return Respond(context, NotFound("UNIT_NOT_FOUND", "no unit '" + request->code() + "'"));
  *response->mutable_unit() = u->ToProto();
  for (const auto a : dir->Ancestors(u->code())) *response->add_ancestors() = Summarise(*dir, *a);
  response->set_next_page_token(PageChildren(*dir, u->code(), "", 100, response->mutable_children()));
  for (const auto* m : dir->MembersOf(u->code())) *response->add_members() = *m;
  response->set_directory_version(dir->version());
  if (!dir->HasBoundary(u->code())) return Respond(context, Status::Ok());
  // The directory in memory keeps no boundaries: read it from the store, off
  // the gRPC thread. (A change applied meanwhile may already show.)
  auto* reactor = context->DefaultReactor();
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, reactor, context, response] {
    auto boundary = deps->store->GetBoundary(response->unit().code());
    if (!boundary.ok()) return reactor->Finish(Fail(context, boundary.status()));
    if (boundary->has_value()) *response->mutable_unit()->mutable_boundary() = std::move(**boundary);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(Fail(context, kQueueFull));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::ListChildren(grpc::CallbackServerContext* context,
                                                         const grid::v1::ListChildrenRequest* request,
                                                         grid::v1::ListChildrenResponse* response) {
  auto principal = Admit(*deps_, *context, Action::kReadDirectory);
  if (!principal.ok()) return Respond(context, principal.status());
  if (request->page_size() > 1000) {
    return Respond(context, InvalidArgument("INVALID_PAGE_SIZE", "page_size must be at most 1000"));
  }
  auto dir = deps_->directory->Get();
  if (!request->code().empty() && dir->FindUnit(request->code()) == nullptr) {
    return Respond(context, NotFound("UNIT_NOT_FOUND", "no unit '" + request->code() + "'"));
  }
  size_t limit = request->page_size() == 0 ? 100 : request->page_size();
  response->set_next_page_token(
      PageChildren(*dir, request->code(), request->page_token(), limit, response->mutable_children()));
  response->set_directory_version(dir->version());
  return Respond(context, Status::Ok());
}

namespace {

// Client-streaming import: accumulates chunks, then applies them as one
// version on the executor.
class ImportReactor final : public grpc::ServerReadReactor<grid::v1::ImportChunk> {
 public:
  ImportReactor(const ServiceDeps* deps, grpc::CallbackServerContext* context, grid::v1::ImportResponse* response)
      : deps_(deps), context_(context), response_(response) {
    auto principal = Admit(*deps_, *context_, Action::kChangeDirectory);
    if (!principal.ok()) {
      Finish(Fail(context_, principal.status()));
      return;
    }
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client finished sending, or the call broke
      if (!last_seen_) {
        Finish(Fail(context_, FailedPrecondition("IMPORT_INCOMPLETE",
                                                 "the stream ended before the chunk marked last; nothing changed")));
        return;
      }
      Apply();
      return;
    }
    if (last_seen_) {
      Finish(Fail(context_, InvalidArgument("IMPORT_AFTER_LAST", "a chunk arrived after the one marked last")));
      return;
    }
    last_seen_ = chunk_.last();
    if (first_) {
      if (!grid::v1::ImportMode_IsValid(chunk_.mode())) {
        Finish(Fail(context_, InvalidArgument("INVALID_IMPORT_MODE", "mode is not a known value")));
        return;
      }
      replace_ = chunk_.mode() == grid::v1::IMPORT_MODE_REPLACE;
      first_ = false;
    }
    bytes_ += chunk_.ByteSizeLong();
    if (bytes_ > deps_->max_import_bytes) {
      Finish(Fail(context_, Status(StatusCode::kResourceExhausted, "IMPORT_TOO_LARGE",
                                   "the import exceeds " + std::to_string(deps_->max_import_bytes) + " bytes")));
      return;
    }
    content_.MergeFrom(chunk_.content());
    chunk_.Clear();
    StartRead(&chunk_);
  }

  void OnDone() override { delete this; }

 private:
  void Apply() {
    bool queued = deps_->executor->TrySubmit([this] {
      auto version = deps_->directory_manager->Apply(content_, replace_);
      if (!version.ok()) return Finish(Fail(context_, version.status()));
      response_->set_directory_version(*version);
      response_->set_units(static_cast<uint32_t>(content_.units_size()));
      response_->set_members(static_cast<uint32_t>(content_.members_size()));
      response_->set_departments(static_cast<uint32_t>(content_.departments_size()));
      response_->set_categories(static_cast<uint32_t>(content_.categories_size()));
      response_->set_category_rules(static_cast<uint32_t>(content_.category_rules_size()));
      Finish(grpc::Status::OK);
    });
    if (!queued) Finish(Fail(context_, kQueueFull));
  }

  const ServiceDeps* deps_;
  grpc::CallbackServerContext* context_;
  grid::v1::ImportResponse* response_;
  grid::v1::ImportChunk chunk_;
  grid::v1::DirectoryContent content_;
  size_t bytes_ = 0;
  bool first_ = true;
  bool replace_ = false;
  bool last_seen_ = false;
};

}  // namespace

grpc::ServerReadReactor<grid::v1::ImportChunk>* DirectoryService::Import(grpc::CallbackServerContext* context,
                                                                         grid::v1::ImportResponse* response) {
  return new ImportReactor(deps_, context, response);
}

grpc::ServerUnaryReactor* DirectoryService::UpsertUnit(grpc::CallbackServerContext* context,
                                                       const grid::v1::UpsertUnitRequest* request,
                                                       grid::v1::UpsertUnitResponse* response) {
  auto principal = Admit(*deps_, *context, Action::kChangeDirectory);
  if (!principal.ok()) return Respond(context, principal.status());
  if (!request->has_unit()) return Respond(context, InvalidArgument("MISSING_UNIT", "unit is required"));
  auto* reactor = context->DefaultReactor();
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, reactor, context, request, response] {
    grid::v1::DirectoryContent delta;
    *delta.add_units() = request->unit();
    auto version = deps->directory_manager->Apply(delta, /*replace=*/false);
    if (!version.ok()) return reactor->Finish(Fail(context, version.status()));
    response->set_directory_version(*version);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(Fail(context, kQueueFull));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::RouteCase(grpc::CallbackServerContext* context,
                                                      const grid::v1::RouteCaseRequest* request,
                                                      grid::v1::RouteCaseResponse* response) {
  auto principal = Admit(*deps_, *context, Action::kReadDirectory);
  if (!principal.ok()) return Respond(context, principal.status());
  if (request->category().empty()) return Respond(context, InvalidArgument("MISSING_CATEGORY", "category is required"));
  if (request->has_location()) {
    if (Status s = ValidateLocation(request->location()); !s.ok()) return Respond(context, s);
  }
  if (!text::IsValidUtf8(request->address())) {
    return Respond(context, InvalidArgument("INVALID_UTF8", "address is not valid UTF-8"));
  }
  if (text::CodePointCount(request->address()) > deps_->limits.max_address_chars) {
    return Respond(context, InvalidArgument("ADDRESS_TOO_LONG", "address is too long"));
  }
  auto dir = deps_->directory->Get();
  auto routing = deps_->router->Route(*dir, RouteInputOf(*request, *principal));
  if (!routing.ok()) return Respond(context, routing.status());
  *response->mutable_routing() = std::move(routing).value();
  return Respond(context, Status::Ok());
}

}  // namespace grid::services
