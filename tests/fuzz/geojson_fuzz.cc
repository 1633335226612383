// The GeoJSON importer (import/geojson.h): the first byte picks the mapping
// (parent property or fixed parent, level, slugs, and whether to go on and
// import into a small directory), the rest is the file.
#include "import/geojson.h"
#include "tests/fuzz/common.h"

using namespace grid;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietProtobuf();
  fuzz::Tiny();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view text = fuzz::Bytes(data + 1, size - 1);
  GeoJsonMapping m;
  m.code_prop = "code";
  m.name_prop = (mode & 1) ? "name" : "";
  m.parent_prop = (mode & 2) ? "parent" : "";
  m.parent_code = "100001001";
  m.level = (mode & 4) ? grid::v1::UNIT_LEVEL_GRID : grid::v1::UNIT_LEVEL_COMMUNITY;
  m.slug_values = (mode & 8) != 0;
  auto units = ParseGeoJsonUnits(text, m, "fuzz.geojson");
  fuzz::CheckRefusal(units.status());
  if (units.ok() && (mode & 16)) fuzz::CheckRefusal(ImportGeoJson(fuzz::Tiny(), text, m, "fuzz.geojson").status());
  (void)CodeSlug(text);
  return 0;
}
