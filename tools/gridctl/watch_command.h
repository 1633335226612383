// gridctl watch: a live stream of a subtree's escalations (or, with --all,
// every case event), printed as it comes.
//
//   watch [--scope CODE] [--from CURSOR] [--all] [--cursor-file F]
//
// It reconnects by itself from the last cursor it printed, with backoff up to
// 10 s, until interrupted or refused for good (the exit code of that error).
#pragma once

#include <memory>

#include "tools/gridctl/common.h"

namespace grid::tools::gridctl {

std::unique_ptr<CommandGroup> WatchCommand();

}  // namespace grid::tools::gridctl
