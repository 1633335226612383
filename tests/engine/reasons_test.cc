// The reason catalogue (engine/reasons.h) against its two mirrors: the table
// in docs/reasons.md, and the reasons the sources in engine/, storage/,
// cluster/ and services/ still write as quoted literals.
//
// After adding or changing a reason, rewrite the docs' table with
//   GRID_WRITE_REASONS_DOC=1 build/tests/engine_test --gtest_filter='ReasonCatalogue.*'
#include "engine/reasons.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/paths.h"

namespace grid {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The docs' table row of a reason.
std::string RowOf(const Reason& r) {
  return "| `" + std::string(r.name) + "` | " + std::string(StatusCodeName(r.code)) + " | " + std::string(r.meaning) +
         " |";
}

bool IsReasonRow(const std::string& line) { return line.starts_with("| `"); }

TEST(ReasonCatalogue, SortedAndUpperSnake) {
  const std::regex upper_snake("[A-Z][A-Z0-9]*(_[A-Z0-9]+)*");
  for (size_t i = 0; i < std::size(reason::kAll); ++i) {
    const Reason& r = reason::kAll[i];
    EXPECT_TRUE(std::regex_match(std::string(r.name), upper_snake)) << r.name;
    EXPECT_NE(r.code, StatusCode::kOk) << r.name;
    EXPECT_FALSE(r.meaning.empty()) << r.name;
    EXPECT_EQ(r.meaning.find('|'), std::string_view::npos) << r.name << ": a '|' breaks the docs' table";
    if (i > 0) {
      EXPECT_LT(reason::kAll[i - 1].name, r.name) << "keep GRID_REASONS sorted";
    }
  }
}

TEST(ReasonCatalogue, ErrorCarriesTheCataloguedCode) {
  const Status s = Error(reason::QUEUE_FULL, "the server is at capacity");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.reason(), "QUEUE_FULL");
  EXPECT_EQ(s.ToString(), "QUEUE_FULL: the server is at capacity");
  ASSERT_NE(FindReason("QUEUE_FULL"), nullptr);
  EXPECT_EQ(FindReason("QUEUE_FULL")->code, StatusCode::kResourceExhausted);
  EXPECT_EQ(FindReason("NO_SUCH_REASON"), nullptr);
}

// docs/reasons.md holds one table row per reason, in catalogue order; the
// prose around the table is free.
TEST(ReasonCatalogue, DocsListEveryReason) {
  const fs::path doc = fs::path(testing::SourceDir()) / "docs" / "reasons.md";
  const std::string text = ReadFile(doc);
  ASSERT_FALSE(text.empty()) << "cannot read " << doc;

  std::vector<std::string> want;
  for (const Reason& r : reason::kAll) want.push_back(RowOf(r));

  std::vector<std::string> have;
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (IsReasonRow(line)) have.push_back(line);
  }

  if (have != want && std::getenv("GRID_WRITE_REASONS_DOC") != nullptr) {
    // Replace the rows in place (they form one table), keep everything else.
    std::ofstream out(doc, std::ios::binary | std::ios::trunc);
    bool written = false;
    for (const std::string& line : lines) {
      if (!IsReasonRow(line)) {
        out << line << "\n";
      } else if (!written) {
        for (const std::string& row : want) out << row << "\n";
        written = true;
      }
    }
    ASSERT_TRUE(written) << doc << " has no reason table to rewrite";
    GTEST_SKIP() << "rewrote the table in " << doc;
  }

  std::set<std::string> have_set(have.begin(), have.end());
  std::set<std::string> want_set(want.begin(), want.end());
  for (const std::string& row : want) {
    EXPECT_TRUE(have_set.count(row)) << "docs/reasons.md lacks or differs from: " << row;
  }
  for (const std::string& row : have) {
    EXPECT_TRUE(want_set.count(row)) << "docs/reasons.md lists what engine/reasons.h does not: " << row;
  }
  EXPECT_EQ(have, want) << "docs/reasons.md is out of order; rewrite it (see the top of this file)";
}

// Every reason is written as its catalogue constant (reason::X), never as a
// literal: a quoted UPPER_SNAKE string given as the reason of a Status (or to
// one of the local helpers that build one), or compared with a status'
// reason, fails here; so does any other quoted UPPER_SNAKE word that is not a
// catalogued reason.
TEST(ReasonCatalogue, SourcesUseOnlyCataloguedReasons) {
  const std::regex reason_literal(
      // InvalidArgument("X", ...), Status(StatusCode::kFoo, "X", ...), Bad("X", ...), GeometryError{"X", ...}
      R"re((?:\b[A-Z]\w*|\bfail)\s*[({]\s*(?:[\w:]+\s*,\s*)?"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)")re"
      // reason() == "X"
      R"re(|reason\(\)\s*==\s*"([A-Z][A-Z0-9_]*)")re");
  const std::regex snake_literal(R"re("([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)")re");
  const fs::path root = testing::SourceDir();
  size_t files = 0;
  for (const char* dir : {"port", "engine", "import", "storage", "cluster", "services", "tools/demo"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
      if (entry.path().filename() == "reasons.h") continue;
      ++files;
      const std::string text = ReadFile(entry.path());
      const std::string where = fs::relative(entry.path(), root).string();
      for (auto it = std::sregex_iterator(text.begin(), text.end(), reason_literal); it != std::sregex_iterator();
           ++it) {
        const std::string name = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
        ADD_FAILURE() << where << ": reason \"" << name << "\" is written as a literal; use reason::" << name
                      << (FindReason(name) == nullptr ? " (and add it to engine/reasons.h)" : "");
      }
      // Any quoted UPPER_SNAKE word with an underscore is taken for a reason.
      for (auto it = std::sregex_iterator(text.begin(), text.end(), snake_literal); it != std::sregex_iterator();
           ++it) {
        EXPECT_NE(FindReason((*it)[1].str()), nullptr)
            << where << ": \"" << (*it)[1].str() << "\" looks like a reason but is not in engine/reasons.h";
      }
    }
  }
  EXPECT_GT(files, 20u) << "the sources were not found under " << root;
}

}  // namespace
}  // namespace grid
