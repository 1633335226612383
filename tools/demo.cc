// The demo directory over the embedded rows: see demo_data.h.
//
// Thread-safety: pure functions.
#include "tools/demo/demo_directory.h"
#include "tools/demo_data.h"

namespace grid::tools {

StatusOr<grid::v1::DirectoryContent> DemoDirectory() {
  return BuildChengmaiDemo(ChengmaiTownsCsv(), ChengmaiCommunitiesCsv());
}

}  // namespace grid::tools
