// One line for a test that leaves a data directory behind: the store in it
// verifies clean (storage/verify.h), read-only, after gridd has stopped.
//
//   EXPECT_TRUE(testing::StoreVerifiesClean(data_dir));
//
// On failure the message holds the verifier's disagreements (or why it could
// not verify) and its summary line.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "storage/verify.h"

namespace grid::testing {

inline ::testing::AssertionResult StoreVerifiesClean(const std::string& data_dir) {
  auto report = storage::VerifyStore(data_dir);
  if (!report.ok()) return ::testing::AssertionFailure() << data_dir << ": " << report.status().ToString();
  if (!report->clean()) return ::testing::AssertionFailure() << data_dir << ":\n" << report->Text(50);
  return ::testing::AssertionSuccess() << report->Summary();
}

}  // namespace grid::testing
