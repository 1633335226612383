// What the harnesses share: a small directory to validate against, and the
// checks every refusal must pass on its way to a client.
#pragma once

#include <google/protobuf/stubs/logging.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "engine/directory.h"
#include "engine/status.h"
#include "engine/text.h"
#include "tests/support/tiny_directory.h"

namespace grid::fuzz {

inline std::string_view Bytes(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// The test directory of the service tests, built once.
inline const Directory& Tiny() {
  static const std::shared_ptr<const Directory> d = [] {
    auto built = Directory::Build(testing::TinyDirectory(), 1);
    if (!built.ok()) std::abort();
    return std::move(built).value();
  }();
  return *d;
}

// A refusal's message as the client gets it: bounded and printable.
inline void CheckRefusal(const Status& s) {
  if (s.ok()) return;
  if (s.reason().empty()) std::abort();
  const std::string m = text::CapEchoes(s.ToString());
  if (m.size() > 1024 + 64) std::abort();
  if (!text::FindRefusedCharacter(m, text::TextKind::kLine).empty()) std::abort();
}

// protobuf logs every invalid UTF-8 string it parses; the harnesses feed it
// nothing else.
inline void QuietProtobuf() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace grid::fuzz
