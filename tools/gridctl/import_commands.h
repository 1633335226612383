// gridctl's directory imports: files are read and parsed locally, then
// streamed to Directory.Import in chunks.
//
//   import divisions DIR [--replace]      (the five national division files, .csv or .csv.gz)
//   import json FILE [--replace]          (a DirectoryContent in protobuf JSON)
//   import geojson FILE --code-prop P [--name-prop P] [--parent-prop P | --parent CODE] [--level L] [--slug]
#pragma once

#include <memory>

#include "tools/gridctl/common.h"

namespace grid::tools::gridctl {

std::unique_ptr<CommandGroup> ImportCommands();
// directory restore-previous
std::unique_ptr<CommandGroup> DirectoryCommands();

}  // namespace grid::tools::gridctl
