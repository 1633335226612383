// Reading input files for loaders: plain or gzip-compressed (by the .gz
// suffix), whole, into memory.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "engine/status.h"

namespace grid::tools {

// NOT_FOUND (FILE_UNREADABLE) when the file cannot be opened or inflated.
StatusOr<std::string> ReadFileMaybeGz(const std::string& path);

}  // namespace grid::tools
