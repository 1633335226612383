// Loaders: see loaders.h. zlib's gz* functions read plain files as well.
//
// Thread-safety: as loaders.h.
#include "tools/loaders.h"

#include <google/protobuf/util/json_util.h>
#include <zlib.h>

#include "engine/reasons.h"
#include "import/divisions.h"

namespace grid::tools {

StatusOr<std::string> ReadFileMaybeGz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return Error(reason::FILE_UNREADABLE, "cannot open " + path);
  gzbuffer(f, 1 << 20);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      return Error(reason::FILE_UNREADABLE, "cannot read " + path + ": " + msg);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  gzclose(f);
  return out;
}

StatusOr<grid::v1::DirectoryContent> LoadDivisionsDir(const std::string& dir) {
  struct FileSpec {
    const char* name;
    DivisionFile kind;
  };
  const FileSpec files[] = {{"provinces", DivisionFile::kProvinces},
                            {"cities", DivisionFile::kCities},
                            {"areas", DivisionFile::kAreas},
                            {"streets", DivisionFile::kStreets},
                            {"villages", DivisionFile::kVillages}};
  grid::v1::DirectoryContent content;
  for (const auto& f : files) {
    std::string path = dir + "/" + f.name + ".csv.gz";
    auto text = ReadFileMaybeGz(path);
    if (!text.ok()) {
      path = dir + "/" + f.name + ".csv";
      text = ReadFileMaybeGz(path);
    }
    if (!text.ok()) {
      return Error(reason::FILE_UNREADABLE, text.status().message() + " (looked for " + f.name + ".csv.gz and .csv)");
    }
    auto units = ParseDivisionCsv(path, *text, f.kind);
    if (!units.ok()) return units.status();
    content.mutable_units()->Reserve(content.units_size() + static_cast<int>(units->size()));
    for (auto& u : *units) *content.add_units() = std::move(u);
  }
  return content;
}

StatusOr<grid::v1::DirectoryContent> LoadDirectoryJson(const std::string& path) {
  auto text = ReadFileMaybeGz(path);
  if (!text.ok()) return text.status();
  grid::v1::DirectoryContent content;
  auto st = google::protobuf::util::JsonStringToMessage(*text, &content);
  if (!st.ok()) return Error(reason::INVALID_JSON, path + ": " + st.ToString());
  return content;
}

}  // namespace grid::tools
