// gridctl's commands on single cases and units, one call each:
//
//   submit  --category C (--lat Y --lon X | --address A | --unit U) --description D [--idempotency-key K] ...
//   get     CASE_ID
//   case reveal CASE_ID --reason R   (the citizen, unmasked; recorded in the history)
//   unit    CODE
//   route   --category C [--lat Y --lon X] [--address A] [--unit U]
#pragma once

#include <memory>

#include "tools/gridctl/common.h"

namespace grid::tools::gridctl {

std::unique_ptr<CommandGroup> CaseCommands();

}  // namespace grid::tools::gridctl
