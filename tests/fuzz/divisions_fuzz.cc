// The national division CSV parser (import/divisions.h): the first byte
// picks the file kind, the rest is the file.
#include "import/divisions.h"
#include "tests/fuzz/common.h"

using namespace grid;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto kind = static_cast<DivisionFile>(data[0] % 5);
  auto units = ParseDivisionCsv("fuzz.csv", fuzz::Bytes(data + 1, size - 1), kind);
  fuzz::CheckRefusal(units.status());
  return 0;
}
