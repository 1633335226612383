// Tests for engine/saved_file: the section writer's order of writes, sync
// and rename, and the one header check every saved file goes through
// (OpenSavedFile, CheckSavedBody), on the in-memory FileAccess.
//
// Thread-safety: single-threaded tests.
#include "engine/saved_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/geo.h"
#include "engine/reasons.h"
#include "tests/support/memory_files.h"

namespace grid {
namespace {

using testing::MemoryFiles;

constexpr char kMagic[8] = {'T', 'E', 'S', 'T', 'F', 'I', 'L', 'E'};
constexpr SavedFormat kFormat{kMagic, 2, "a test file", &reason::CORRUPT_TABLE};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t count;
  uint64_t checksum;
};

// A header and one section of `count` bytes.
Status WriteTestFile(FileAccess& files, const std::string& path, uint32_t version, uint32_t count) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = version;
  h.count = count;
  SectionWriter w(files, path);
  GRID_RETURN_IF_ERROR(w.Open());
  GRID_RETURN_IF_ERROR(w.Section(&h, sizeof h));
  const std::string body(count, 'x');
  GRID_RETURN_IF_ERROR(w.Section(body.data(), body.size()));
  h.checksum = w.checksum();
  GRID_RETURN_IF_ERROR(w.Rewrite(&h, sizeof h));
  return w.Commit();
}

Status ReadTestFile(FileAccess& files, const std::string& path) {
  Header h;
  auto f = OpenSavedFile(files, path, kFormat, &h, sizeof h);
  if (!f.ok()) return f.status();
  return CheckSavedBody(**f, kFormat, path, sizeof h, AlignUp(sizeof h) + AlignUp(h.count), h.checksum);
}

TEST(SavedFile, WritesThenSyncsThenRenames) {
  MemoryFiles files;
  ASSERT_TRUE(WriteTestFile(files, "t.bin", 2, 100).ok());
  ASSERT_GE(files.log.size(), 4u);
  EXPECT_EQ(files.log.front(), "create t.bin");
  const size_t n = files.log.size();
  EXPECT_EQ(files.log[n - 3], "write_at");  // the header, with its checksum
  EXPECT_EQ(files.log[n - 2], "sync");
  EXPECT_EQ(files.log[n - 1], "rename t.bin");
  EXPECT_EQ(files.files.at("t.bin").size(), AlignUp(sizeof(Header)) + AlignUp(100));
  EXPECT_TRUE(ReadTestFile(files, "t.bin").ok());
}

TEST(SavedFile, OneHeaderCheckRefusesEveryDamage) {
  MemoryFiles files;
  EXPECT_EQ(ReadTestFile(files, "missing.bin").code(), StatusCode::kNotFound);

  ASSERT_TRUE(WriteTestFile(files, "t.bin", 2, 100).ok());
  const std::string good = files.files.at("t.bin");
  auto refused = [&](const std::string& bytes, const std::string& why) {
    files.files["t.bin"] = bytes;
    const Status st = ReadTestFile(files, "t.bin");
    EXPECT_EQ(st.reason(), reason::CORRUPT_TABLE.name) << why;
    EXPECT_NE(st.message().find(why), std::string::npos) << st.ToString();
  };
  refused(good.substr(0, 10), "truncated");
  std::string bad = good;
  bad[0] = 'X';
  refused(bad, "not a test file");
  bad = good;
  bad[8] = 3;
  refused(bad, "file version 3, not 2");
  refused(good + std::string(64, '\0'), "inconsistent sizes");
  bad = good;
  bad[good.size() - 1] ^= 1;  // padding is covered too
  refused(bad, "checksum mismatch");
}

TEST(SavedFile, AShapeIndexRoundTripsThroughAnyFileAccess) {
  geo::MultiPolygon square;
  geo::Polygon p;
  p.rings.push_back(geo::Ring{{{116.0, 39.0}, {116.1, 39.0}, {116.1, 39.1}, {116.0, 39.1}}});
  p.bbox = geo::Box{116.0, 39.0, 116.1, 39.1};
  square.polygons.push_back(p);
  square.bbox = p.bbox;
  const geo::ShapeIndex built = geo::ShapeIndex::Build({square});
  MemoryFiles files;
  ASSERT_TRUE(built.Save(files, "grid-index.bin", "label").ok());
  EXPECT_EQ(files.log.back(), "rename grid-index.bin");
  std::string label;
  auto loaded = geo::ShapeIndex::Load(files, "grid-index.bin", &label);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(label, "label");
  EXPECT_EQ(loaded->Locate(geo::Point{116.05, 39.05}).size(), 1u);
  EXPECT_TRUE(loaded->Locate(geo::Point{116.2, 39.05}).empty());
}

}  // namespace
}  // namespace grid
