// A case that the demo directory routes to its Jinjiang grid, for the tests
// that run a real gridd on the demo data.
#pragma once

#include <string>

#include "grid/v1/service.pb.h"
#include "tests/support/submit_request.h"
#include "tools/demo/demo_directory.h"

namespace grid::testing {

inline grid::v1::SubmitCaseRequest JinjiangCase(const std::string& key) {
  return Submission("sanitation.garbage")
      .Key(key)
      .Description("小区门口垃圾堆积")
      .At(grid::kDemoJinjiangPoint.lat, grid::kDemoJinjiangPoint.lng)
      .NoCitizen()
      .Build();
}

}  // namespace grid::testing
