// Directory's methods (see directory_service.h): GetUnit, ListChildren and
// RouteCase read the current directory snapshot on the gRPC thread (a
// boundary comes from the store, on the read executor); Import streams chunks
// into one DirectoryContent and UpsertUnit takes one unit, and both apply it
// as a new version on the read executor through the DirectoryManager.
//
// Thread-safety: the handlers keep no state of their own. An ImportReactor
// belongs to one call: gRPC runs its reactions one at a time, and its last
// step runs on the executor after the stream has ended.
#include "services/directory_service.h"

#include <algorithm>
#include <string>

#include "engine/reasons.h"
#include "engine/text.h"
#include "engine/validation.h"
#include "services/errors.h"
#include "services/parsed_call.h"
#include "services/wire.h"

namespace grid::services {
namespace {

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

// UpsertUnit's scope: the unit where it is now (if it exists) and the parent
// it is given must both lie within the caller's scope; a root needs scope "*".
Status AdmitUpsert(const Principal& p, const Directory& dir, const grid::v1::Unit& unit) {
  const policy::Caller caller = CallerOf(p);
  if (dir.FindUnit(unit.code()) != nullptr) {
    GRID_RETURN_IF_ERROR(AdmitUnit(p, dir, policy::Rpc::kUpsertUnit, unit.code()));
  }
  policy::Subject parent = policy::OfUnit(dir, caller, unit.parent_code());
  if (unit.parent_code().empty()) parent.in_scope = parent.whole_scope;
  return policy::Decide(caller.role, policy::Rpc::kUpsertUnit, parent, "the parent of unit " + unit.code());
}

}  // namespace

grpc::ServerUnaryReactor* DirectoryService::GetUnit(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* raw_request,
                                                    grpc::ByteBuffer* raw_response) {
  auto* call = new ParsedCall<grid::v1::GetUnitRequest, grid::v1::GetUnitResponse>(context, raw_response);
  auto principal = Admit(*deps_, *context, policy::Rpc::kGetUnit);
  if (!principal.ok()) return call->Reply(principal.status());
  if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
  const grid::v1::GetUnitRequest* request = &call->request;
  grid::v1::GetUnitResponse* response = &call->response;
  auto dir = deps_->directory->Get();
  std::string code = request->code();
  if (code.empty()) code = principal->scope;  // "who am I": the caller's scope unit
  if (code.empty()) {
    const auto roots = dir->Children("");
    if (roots.begin() != roots.end()) code = std::string((*roots.begin()).code());
  }
  const UnitRef u = dir->FindUnit(code);
  if (u == nullptr) return call->Reply(Error(reason::UNIT_NOT_FOUND, "no unit '" + code + "'"));
  if (Status s = AdmitUnit(*principal, *dir, policy::Rpc::kGetUnit, u->code()); !s.ok()) return call->Reply(s);
  *response->mutable_unit() = u->ToProto();
  for (const auto a : dir->Ancestors(u->code())) *response->add_ancestors() = Summarise(*dir, *a);
  response->set_next_page_token(PageChildren(*dir, u->code(), "", 100, response->mutable_children()));
  // Members only of units within the scope (not of those above it), with
  // their contacts masked for roles that do not dispatch.
  if (policy::OfUnit(*dir, CallerOf(*principal), u->code()).in_scope) {
    for (const auto* m : dir->MembersOf(u->code())) {
      auto* out = response->add_members();
      *out = *m;
      MaskMember(*principal, out);
    }
  }
  response->set_directory_version(dir->version());
  if (!dir->HasBoundary(u->code())) return call->Reply(Status::Ok());
  // The directory in memory keeps no boundaries: read it from the store, off
  // the gRPC thread. (A change applied meanwhile may already show.)
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, call] {
    auto boundary = deps->store->GetBoundary(call->response.unit().code());
    if (!boundary.ok()) return (void)call->Reply(boundary.status());
    if (boundary->has_value()) *call->response.mutable_unit()->mutable_boundary() = std::move(**boundary);
    call->Reply(Status::Ok());
  });
  if (!queued) return call->Reply(QueueFull());
  return call;
}

grpc::ServerUnaryReactor* DirectoryService::ListChildren(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* raw_request,
                                                         grpc::ByteBuffer* raw_response) {
  auto* call = new ParsedCall<grid::v1::ListChildrenRequest, grid::v1::ListChildrenResponse>(context, raw_response);
  auto principal = Admit(*deps_, *context, policy::Rpc::kListChildren);
  if (!principal.ok()) return call->Reply(principal.status());
  if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
  const grid::v1::ListChildrenRequest* request = &call->request;
  if (request->page_size() > 1000) {
    return call->Reply(Error(reason::INVALID_PAGE_SIZE, "page_size must be at most 1000"));
  }
  auto dir = deps_->directory->Get();
  if (!request->code().empty() && dir->FindUnit(request->code()) == nullptr) {
    return call->Reply(Error(reason::UNIT_NOT_FOUND, "no unit '" + request->code() + "'"));
  }
  if (Status s = AdmitUnit(*principal, *dir, policy::Rpc::kListChildren, request->code()); !s.ok()) {
    return call->Reply(s);
  }
  size_t limit = request->page_size() == 0 ? 100 : request->page_size();
  call->response.set_next_page_token(
      PageChildren(*dir, request->code(), request->page_token(), limit, call->response.mutable_children()));
  call->response.set_directory_version(dir->version());
  return call->Reply(Status::Ok());
}

namespace {

// Client-streaming import: accumulates chunks, then applies them as one
// version on the executor. Chunks arrive as raw bytes, parsed by
// ParseRequest: a chunk that is not a valid ImportChunk (a code that is not
// UTF-8) ends the call with its own reason, not with IMPORT_INCOMPLETE.
class ImportReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  ImportReactor(const ServiceDeps* deps, grpc::CallbackServerContext* context, grpc::ByteBuffer* response)
      : deps_(deps), context_(context), response_(response) {
    auto principal = Admit(*deps_, *context_, policy::Rpc::kImport);
    if (!principal.ok()) {
      Finish(Fail(context_, principal.status()));
      return;
    }
    // An import may replace the whole directory: only with scope "*".
    if (Status s = AdmitUnit(*principal, *deps_->directory->Get(), policy::Rpc::kImport, ""); !s.ok()) {
      Finish(Fail(context_, s));
      return;
    }
    StartRead(&raw_chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client finished sending, or the call broke
      if (!last_seen_) {
        Finish(Fail(context_, Error(reason::IMPORT_INCOMPLETE,
                                    "the stream ended before the chunk marked last; nothing changed")));
        return;
      }
      Apply();
      return;
    }
    if (last_seen_) {
      Finish(Fail(context_, Error(reason::IMPORT_AFTER_LAST, "a chunk arrived after the one marked last")));
      return;
    }
    bytes_ += raw_chunk_.Length();
    if (bytes_ > deps_->max_import_bytes) {
      Finish(Fail(context_, Error(reason::IMPORT_TOO_LARGE,
                                  "the import exceeds " + std::to_string(deps_->max_import_bytes) + " bytes")));
      return;
    }
    if (Status s = ParseRequest(raw_chunk_, &chunk_); !s.ok()) {
      // The parse's own reason (INVALID_UTF8 with the field path), saying which chunk.
      Finish(Fail(context_, Status(s.code(), s.reason(),
                                   "chunk " + std::to_string(chunks_ + 1) + ": " + s.message() + "; nothing changed")));
      return;
    }
    raw_chunk_.Clear();
    ++chunks_;
    last_seen_ = chunk_.last();
    if (first_) {
      if (!grid::v1::ImportMode_IsValid(chunk_.mode())) {
        Finish(Fail(context_, Error(reason::INVALID_IMPORT_MODE, "mode is not a known value")));
        return;
      }
      replace_ = chunk_.mode() == grid::v1::IMPORT_MODE_REPLACE;
      confirm_removed_units_ = chunk_.confirm_removed_units();
      first_ = false;
    }
    content_.MergeFrom(chunk_.content());
    chunk_.Clear();
    StartRead(&raw_chunk_);
  }

  void OnDone() override { delete this; }

 private:
  void Apply() {
    bool queued = deps_->executor->TrySubmit([this] {
      auto applied = deps_->directory_manager->Apply(content_, replace_, confirm_removed_units_);
      if (!applied.ok()) return Finish(Fail(context_, applied.status()));
      grid::v1::ImportResponse response;
      response.set_directory_version(applied->version);
      response.set_units(static_cast<uint32_t>(content_.units_size()));
      response.set_members(static_cast<uint32_t>(content_.members_size()));
      response.set_departments(static_cast<uint32_t>(content_.departments_size()));
      response.set_categories(static_cast<uint32_t>(content_.categories_size()));
      response.set_category_rules(static_cast<uint32_t>(content_.category_rules_size()));
      response.set_removed_units(applied->removed_units);
      SerializeResponse(response, response_);
      Finish(grpc::Status::OK);
    });
    if (!queued) Finish(Fail(context_, QueueFull()));
  }

  const ServiceDeps* deps_;
  grpc::CallbackServerContext* context_;
  grpc::ByteBuffer* response_;
  grpc::ByteBuffer raw_chunk_;
  grid::v1::ImportChunk chunk_;
  grid::v1::DirectoryContent content_;
  size_t bytes_ = 0;
  uint32_t chunks_ = 0;
  uint32_t confirm_removed_units_ = 0;
  bool first_ = true;
  bool replace_ = false;
  bool last_seen_ = false;
};

}  // namespace

grpc::ServerReadReactor<grpc::ByteBuffer>* DirectoryService::Import(grpc::CallbackServerContext* context,
                                                                    grpc::ByteBuffer* response) {
  return new ImportReactor(deps_, context, response);
}

grpc::ServerUnaryReactor* DirectoryService::UpsertUnit(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* raw_request,
                                                       grpc::ByteBuffer* raw_response) {
  auto* call = new ParsedCall<grid::v1::UpsertUnitRequest, grid::v1::UpsertUnitResponse>(context, raw_response);
  auto principal = Admit(*deps_, *context, policy::Rpc::kUpsertUnit);
  if (!principal.ok()) return call->Reply(principal.status());
  if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
  if (!call->request.has_unit()) return call->Reply(Error(reason::MISSING_UNIT, "unit is required"));
  if (Status s = AdmitUpsert(*principal, *deps_->directory->Get(), call->request.unit()); !s.ok()) {
    return call->Reply(s);
  }
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, call] {
    grid::v1::DirectoryContent delta;
    *delta.add_units() = call->request.unit();
    auto applied = deps->directory_manager->Apply(delta, /*replace=*/false);
    if (!applied.ok()) return (void)call->Reply(applied.status());
    call->response.set_directory_version(applied->version);
    call->Reply(Status::Ok());
  });
  if (!queued) return call->Reply(QueueFull());
  return call;
}

grpc::ServerUnaryReactor* DirectoryService::RestorePreviousVersion(grpc::CallbackServerContext* context,
                                                                   const grpc::ByteBuffer* raw_request,
                                                                   grpc::ByteBuffer* raw_response) {
  auto* call = new ParsedCall<grid::v1::RestorePreviousVersionRequest, grid::v1::RestorePreviousVersionResponse>(
      context, raw_response);
  auto principal = Admit(*deps_, *context, policy::Rpc::kRestorePreviousVersion);
  if (!principal.ok()) return call->Reply(principal.status());
  if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
  // A restore may replace the whole directory: only with scope "*".
  if (Status s = AdmitUnit(*principal, *deps_->directory->Get(), policy::Rpc::kRestorePreviousVersion, ""); !s.ok()) {
    return call->Reply(s);
  }
  const ServiceDeps* deps = deps_;
  bool queued = deps_->executor->TrySubmit([deps, call] {
    uint64_t restored = 0;
    auto applied = deps->directory_manager->RestorePrevious(call->request.confirm_removed_units(), &restored);
    if (!applied.ok()) return (void)call->Reply(applied.status());
    call->response.set_directory_version(applied->version);
    call->response.set_restored_version(restored);
    call->response.set_units(static_cast<uint32_t>(deps->directory->Get()->unit_count()));
    call->response.set_removed_units(applied->removed_units);
    call->Reply(Status::Ok());
  });
  if (!queued) return call->Reply(QueueFull());
  return call;
}

grpc::ServerUnaryReactor* DirectoryService::RouteCase(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* raw_request,
                                                      grpc::ByteBuffer* raw_response) {
  auto* call = new ParsedCall<grid::v1::RouteCaseRequest, grid::v1::RouteCaseResponse>(context, raw_response);
  auto principal = Admit(*deps_, *context, policy::Rpc::kRouteCase);
  if (!principal.ok()) return call->Reply(principal.status());
  if (Status s = call->Parse(*raw_request); !s.ok()) return call->Reply(s);
  const grid::v1::RouteCaseRequest* request = &call->request;
  if (request->category().empty()) return call->Reply(Error(reason::MISSING_CATEGORY, "category is required"));
  if (request->has_location()) {
    if (Status s = ValidateLocation(request->location()); !s.ok()) return call->Reply(s);
  }
  if (!text::IsValidUtf8(request->address())) {
    return call->Reply(Error(reason::INVALID_UTF8, "address is not valid UTF-8"));
  }
  if (text::CodePointCount(request->address()) > deps_->limits.max_address_chars) {
    return call->Reply(Error(reason::ADDRESS_TOO_LONG, "address is too long"));
  }
  if (Status s = CheckCharacters(*request); !s.ok()) return call->Reply(s);
  auto dir = deps_->directory->Get();
  if (Status s = AdmitUnit(*principal, *dir, policy::Rpc::kRouteCase, request->unit_code()); !s.ok()) {
    return call->Reply(s);
  }
  auto routing = deps_->router->Route(*dir, RouteInputOf(*request, *principal));
  if (!routing.ok()) return call->Reply(routing.status());
  *call->response.mutable_routing() = std::move(routing).value();
  // Where a case would go is anyone's to know; who there would take it is
  // not, outside the caller's scope.
  if (!policy::OfUnit(*dir, CallerOf(*principal), call->response.routing().unit_code()).in_scope) {
    call->response.mutable_routing()->clear_assignee_member_id();
    call->response.mutable_routing()->clear_assignee_explanation();
  }
  return call->Reply(Status::Ok());
}

}  // namespace grid::services
