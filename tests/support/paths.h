// Where tests find the source tree, its fixtures and the built binaries: the
// paths CMake compiled in, overridable by the environment (GRID_SOURCE_DIR,
// GRID_BINARY_DIR) for runs outside ctest.
#pragma once

#include <cstdlib>
#include <string>

namespace grid::testing {

inline std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

inline std::string SourceDir() { return EnvOr("GRID_SOURCE_DIR", GRID_SOURCE_DIR_DEFAULT); }
inline std::string BinaryDir() { return EnvOr("GRID_BINARY_DIR", GRID_BINARY_DIR_DEFAULT); }
inline std::string TestDataDir() { return SourceDir() + "/tests/data"; }

}  // namespace grid::testing
