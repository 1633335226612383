// The address normaliser (engine/address.h) and the text rules
// (engine/text.h): no crash, and the invariants the services rely on.
#include "engine/address.h"
#include "tests/fuzz/common.h"

using namespace grid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s = fuzz::Bytes(data, size);
  const bool valid = text::IsValidUtf8(s);
  if (valid) {  // what the services hand the normaliser: checked UTF-8
    (void)address::NormaliseStreet(s);
    (void)address::Parse(s);
    (void)text::FoldWidthAndCase(s);
    (void)text::NormaliseForMatch(s);
    if (text::FromCodePoints(text::ToCodePoints(s)) != s) std::abort();
    (void)text::CodePointCount(s);
  }
  (void)text::IsBlank(s);
  (void)text::FindRefusedCharacter(s, text::TextKind::kFreeText);
  const std::string capped = text::CapEchoes(s, 100, 256);
  if (capped.size() > 256 + 64) std::abort();
  if (!text::FindRefusedCharacter(capped, text::TextKind::kLine).empty()) std::abort();
  if (valid && !text::IsValidUtf8(capped)) std::abort();
  return 0;
}
