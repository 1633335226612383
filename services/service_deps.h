// What the grid.v1 services share: ServiceDeps, the parts every handler may
// use, and the first steps of a handler (Admit: authenticate and authorise;
// RouteInputOf: a request's routing fields as the router's input).
//
// Handlers are thin: authenticate (auth.h) and authorise (policy.h), validate and route
// (engine/), then hand blocking work to the case writer (synced writes) or the
// read executor (RocksDB reads, directory changes). No reaction blocks a gRPC
// thread; a full queue answers RESOURCE_EXHAUSTED QUEUE_FULL (errors.h).
//
// Thread-safety: ServiceDeps holds pointers to thread-safe parts only; it is
// filled in before the server starts and never changes after.
#pragma once

#include <grpcpp/grpcpp.h>

#include "engine/clock.h"
#include "engine/directory.h"
#include "engine/lifecycle.h"
#include "engine/router.h"
#include "engine/validation.h"
#include "services/auth.h"
#include "services/call_observer.h"
#include "services/case_writer.h"
#include "services/directory_manager.h"
#include "services/executor.h"
#include "services/policy.h"
#include "storage/store.h"

namespace grid::services {

// Everything the handlers need; owned by the server, outlives the services.
struct ServiceDeps {
  storage::Store* store = nullptr;
  DirectoryHandle* directory = nullptr;
  DirectoryManager* directory_manager = nullptr;
  Authenticator* auth = nullptr;  // Operations creates and revokes tokens through it
  const Router* router = nullptr;
  CaseWriter* intake = nullptr;
  BoundedExecutor* executor = nullptr;
  const Lifecycle* lifecycle = nullptr;
  const Clock* clock = nullptr;  // "now" for ListCases' overdue filter
  CallNotes* notes = nullptr;    // the access log's caller and case per call; null: not noted
  IntakeLimits limits;
  size_t max_import_bytes = 1ull << 30;
};

// Authenticates the caller (auth.h) and notes it for the call's access log.
inline StatusOr<Principal> Identify(const ServiceDeps& deps, const grpc::CallbackServerContext& context) {
  auto principal = deps.auth->Authenticate(context);
  if (principal.ok() && deps.notes != nullptr) {
    deps.notes->NoteCaller(&context, principal->id, RoleName(principal->role));
  }
  return principal;
}

// Notes the case a call is about, for its access log line.
inline void NoteCase(const ServiceDeps& deps, const grpc::CallbackServerContext& context, std::string_view case_id) {
  if (deps.notes != nullptr) deps.notes->NoteCase(&context, case_id);
}

// Authenticates the caller and checks that its role may call `rpc` at all;
// the principal, or UNAUTHENTICATED (auth.h) / PERMISSION_DENIED
// ROLE_NOT_ALLOWED (policy.h). The handler then admits the unit or case the
// request is about (AdmitUnit, AdmitCase).
inline StatusOr<Principal> Admit(const ServiceDeps& deps, const grpc::CallbackServerContext& context, policy::Rpc rpc) {
  auto principal = Identify(deps, context);
  if (!principal.ok()) return principal.status();
  GRID_RETURN_IF_ERROR(AdmitRole(*principal, rpc));
  return principal;
}

// The router's input from a request's routing fields (category, location,
// address, unit_code); the caller's scope is the fallback unit.
template <typename Request>
RouteInput RouteInputOf(const Request& r, const Principal& principal) {
  RouteInput in;
  in.category = r.category();
  if (r.has_location()) {
    in.location = geo::Point{r.location().lng(), r.location().lat()};
    in.location_system = r.location().coordinate_system();
  }
  in.address = r.address();
  in.unit_code = r.unit_code();
  in.fallback_unit = principal.scope;
  return in;
}

}  // namespace grid::services
