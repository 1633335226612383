// gridctl's backups (Operations, admins only): the server backs its own
// store up, into a directory on its machine.
//
//   backup create DIR [--keep N]   (a new backup; then keep only the newest N)
//   backup list DIR                (the backups in DIR, oldest first)
//
// Restoring is gridd's: gridd --restore-from DIR [--backup-id N] --data NEW_DIR.
#pragma once

#include <memory>

#include "tools/gridctl/common.h"

namespace grid::tools::gridctl {

std::unique_ptr<CommandGroup> BackupCommands();

}  // namespace grid::tools::gridctl
