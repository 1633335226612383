// What the crash test and the soak do to a case: the case-work steps, the
// seeded plan each case follows (some never accepted, some never resolved,
// so that their deadlines fire), and the submission both send.
//
// Thread-safety: pure functions and constants.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grid/v1/service.pb.h"

namespace grid::crashtest {

enum class Op { kAccept, kStartWork, kNote, kEscalate, kResolve, kCallback, kClose };

const char* OpName(Op op);

// The event each step appends with the caller's note.
grid::v1::EventType PrimaryEvent(Op op);

// The steps a case goes through, by a hash of it: a fifth is never accepted
// (its accept deadline escalates it up the chain), a fifth accepted and never
// resolved, a tenth escalated by hand and never resolved, the rest closed
// (a tenth after a manual escalation).
std::vector<Op> Plan(uint64_t h);

// A new sanitation case at a point inside the demo county given by the hash
// `h`, with idempotency key `key`.
void FillSubmit(const std::string& key, uint64_t h, grid::v1::SubmitCaseRequest* req);

}  // namespace grid::crashtest
