// Loaders: directory content from files. Files may be plain or
// gzip-compressed; they are read whole into memory.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid::tools {

// NOT_FOUND (FILE_UNREADABLE) when the file cannot be opened or inflated.
StatusOr<std::string> ReadFileMaybeGz(const std::string& path);

// The five national division files (provinces, cities, areas, streets,
// villages; each NAME.csv.gz or NAME.csv) in `dir`, as units. Errors name the
// file and line.
StatusOr<grid::v1::DirectoryContent> LoadDivisionsDir(const std::string& dir);

// A DirectoryContent message in protobuf JSON (as `gridctl import json` takes).
StatusOr<grid::v1::DirectoryContent> LoadDirectoryJson(const std::string& path);

}  // namespace grid::tools
