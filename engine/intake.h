// Intake: turns a validated SubmitCaseRequest and its routing decision into
// a new case record and its first events (SUBMITTED, then ROUTED).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "grid/v1/service.pb.h"

namespace grid {

struct Actor {
  std::string id;    // the authenticated caller, e.g. "callcenter-01"
  std::string role;  // e.g. "call_center"
};

struct NewCase {
  grid::v1::Case record;
  std::vector<grid::v1::CaseEvent> events;
};

// REQUIRES: ValidateSubmit(request) passed; `routing` came from the Router.
NewCase BuildNewCase(const grid::v1::SubmitCaseRequest& request, const Actor& actor, grid::v1::RoutingDecision routing,
                     uint64_t id, Micros now);

// A fingerprint of the request's content, to tell a retry from a different
// request that reuses an idempotency key. Stable across processes: it hashes
// the fields one by one, not protobuf bytes.
uint64_t RequestFingerprint(const grid::v1::SubmitCaseRequest& request);

}  // namespace grid
