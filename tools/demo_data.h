// The demo directory's source rows (澄迈县's towns and communities from the
// national division data), embedded in the binaries, and the demo built
// from them.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid::tools {

std::string_view ChengmaiTownsCsv();
std::string_view ChengmaiCommunitiesCsv();

// BuildChengmaiDemo over the embedded rows.
StatusOr<grid::v1::DirectoryContent> DemoDirectory();

}  // namespace grid::tools
