// gridctl's case-work commands, one per CaseWork RPC, each
// `COMMAND CASE_ID [--note N] [--expected-version V]` plus:
//
//   accept | start | close | resume                  (no more flags)
//   note | resolve | reopen | cancel | escalate | wait  --note is required
//   reject    --reason wrong-location|other-unit|wrong-category|not-our-duty
//             [--lat Y --lon X] [--address A] [--unit U] [--category C]
//   transfer  --unit U
//   callback  --satisfied | --dissatisfied
//   merge     --into MASTER_ID
//   summon    --dept CODE [--dept CODE]... [--arrive-within-minutes M]
//   report-in --dept CODE [--done]
//   helper    --member ID
//   extend    --hours N --note N
//
// Each prints the case's work summary and the events the command added.
#pragma once

#include <memory>

#include "tools/gridctl/common.h"

namespace grid::tools::gridctl {

std::unique_ptr<CommandGroup> WorkCommands();

}  // namespace grid::tools::gridctl
