// The shipped 2026 mainland China working calendar, for tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "engine/calendar.h"
#include "tests/support/paths.h"

namespace grid::testing {

inline WorkingCalendar LoadCn2026() {
  const std::string path = SourceDir() + "/data/calendar/cn-2026.txt";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto cal = ParseWorkingCalendar("cn-2026.txt", buffer.str());
  EXPECT_TRUE(cal.ok()) << cal.status().ToString();
  return cal.ok() ? *cal : WorkingCalendar();
}

}  // namespace grid::testing
