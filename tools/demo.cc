// The demo directory over the embedded rows: see demo_data.h.
#include "engine/demo_directory.h"
#include "tools/demo_data.h"

namespace grid::tools {

StatusOr<grid::v1::DirectoryContent> DemoDirectory() {
  return BuildChengmaiDemo(ChengmaiTownsCsv(), ChengmaiCommunitiesCsv());
}

}  // namespace grid::tools
