// Checks a parser's error: INVALID_ARGUMENT, its reason, a message that starts
// "<file> line <N>: " and mentions `what`.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "engine/status.h"

namespace grid::testing {

inline ::testing::AssertionResult IsParseError(const Status& status, const std::string& reason, const std::string& file,
                                               int line, const std::string& what) {
  if (status.ok()) return ::testing::AssertionFailure() << "parsed without error";
  if (status.code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "not INVALID_ARGUMENT: " << status.ToString();
  }
  if (status.reason() != reason)
    return ::testing::AssertionFailure() << "reason " << status.reason() << ", not " << reason;
  const std::string prefix = file + " line " + std::to_string(line) + ": ";
  if (status.message().rfind(prefix, 0) != 0) {
    return ::testing::AssertionFailure() << "message does not start with '" << prefix << "': " << status.message();
  }
  if (status.message().find(what) == std::string::npos) {
    return ::testing::AssertionFailure() << "message does not mention '" << what << "': " << status.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace grid::testing
