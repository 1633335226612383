// File reading: see files.h. zlib's gz* functions read plain files as well.
#include "tools/files.h"

#include <zlib.h>


namespace grid::tools {

StatusOr<std::string> ReadFileMaybeGz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return NotFound("FILE_UNREADABLE", "cannot open " + path);
  gzbuffer(f, 1 << 20);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      return NotFound("FILE_UNREADABLE", "cannot read " + path + ": " + msg);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  gzclose(f);
  return out;
}

}  // namespace grid::tools
