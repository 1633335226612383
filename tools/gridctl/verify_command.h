// gridctl verify: checks a data directory here, without a server, with the
// store verifier (storage/verify.h); the same check as `gridd --verify`.
//
//   verify --data DIR [--max-lines N]
//
// The store is opened read-only: nothing in DIR is created or written. Prints
// each disagreement (at most --max-lines, then how many more) and a summary
// line. Exit codes: 0 clean, 1 disagreements, 2 bad usage, 3 no store to
// check (a missing or empty directory, not a store of ours, unreadable).
#pragma once

#include <memory>

#include "tools/gridctl/common.h"

namespace grid::tools::gridctl {

std::unique_ptr<CommandGroup> VerifyCommand();

}  // namespace grid::tools::gridctl
