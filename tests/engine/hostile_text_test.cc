// The text rules for hostile input (issue #14, points 8 and 12): capping
// echoed values, Unicode blankness, refused characters, and CheckCharacters
// over whole requests.
#include <gtest/gtest.h>

#include <string>

#include "engine/reasons.h"
#include "engine/text.h"
#include "engine/validation.h"

namespace grid {
namespace {

TEST(CapEchoes, LeavesOrdinaryMessagesAlone) {
  const std::string m = "UNKNOWN_UNIT: unit '100001' is not in the directory";
  EXPECT_EQ(text::CapEchoes(m), m);
  EXPECT_EQ(text::CapEchoes(""), "");
  EXPECT_EQ(text::CapEchoes("a  b "), "a  b ");
}

TEST(CapEchoes, CutsALongRunAndSaysSo) {
  const std::string m = "UNKNOWN_UNIT: unit '" + std::string(100'000, '7') + "' is not in the directory";
  const std::string out = text::CapEchoes(m);
  EXPECT_EQ(out, "UNKNOWN_UNIT: unit '" + std::string(99, '7') + "...[cut, 100002 bytes] is not in the directory");
}

TEST(CapEchoes, CutsOnCharacterBoundaries) {
  std::string han;
  for (int i = 0; i < 300; ++i) han += "网";
  const std::string out = text::CapEchoes("x " + han);
  EXPECT_TRUE(text::IsValidUtf8(out)) << out;
  EXPECT_EQ(out.substr(0, 2 + 100 * 3), "x " + han.substr(0, 300));
  EXPECT_NE(out.find("[cut, 900 bytes]"), std::string::npos);
}

TEST(CapEchoes, CapsAMessageOfManyShortWords) {
  std::string m;
  for (int i = 0; i < 30'000; ++i) m += "ab ";
  const std::string out = text::CapEchoes(m);
  EXPECT_LE(out.size(), 1024u + 32u);
  EXPECT_NE(out.find("[cut, 90000 bytes]"), std::string::npos) << out;
}

TEST(CapEchoes, NeutralisesEscapesAndBidiOverrides) {
  EXPECT_EQ(text::CapEchoes("no unit 'a\x1b[31mb'"), "no unit 'a\\x1B[31mb'");
  EXPECT_EQ(text::CapEchoes("no unit 'a\u202Eb'"), "no unit 'a<U+202E>b'");
  EXPECT_EQ(text::CapEchoes(std::string("nul\0", 4)), "nul\\x00");
  EXPECT_EQ(text::CapEchoes("line\nnext"), "line\\x0Anext");
}

TEST(TextRules, BlankInEveryUnicodeSense) {
  EXPECT_TRUE(text::IsBlank(""));
  EXPECT_TRUE(text::IsBlank(" \t\r\n"));
  EXPECT_TRUE(text::IsBlank("\u3000\u3000"));
  EXPECT_TRUE(text::IsBlank("\u200B\u200C\u200D\u2060\uFEFF"));
  EXPECT_TRUE(text::IsBlank("\u00A0\u2002\u2009\u202F\u205F\u1680"));
  EXPECT_FALSE(text::IsBlank("\u3000a"));
  EXPECT_FALSE(text::IsBlank("\xff"));
  EXPECT_FALSE(text::IsBlank(std::string("\0", 1)));
}

TEST(TextRules, RefusedCharactersDependOnTheField) {
  using text::TextKind;
  EXPECT_EQ(text::FindRefusedCharacter("垃圾堆放\n三天\t无人清理\r\n", TextKind::kFreeText), "");
  EXPECT_EQ(text::FindRefusedCharacter("文化北路\n3号", TextKind::kLine), "U+000A");
  EXPECT_EQ(text::FindRefusedCharacter(std::string("a\0", 2), TextKind::kFreeText), "U+0000");
  EXPECT_EQ(text::FindRefusedCharacter("\x1b[2J", TextKind::kFreeText), "U+001B");
  EXPECT_EQ(text::FindRefusedCharacter("a\x7f", TextKind::kLine), "U+007F");
  EXPECT_EQ(text::FindRefusedCharacter("a\u0085", TextKind::kFreeText), "U+0085");
  EXPECT_EQ(text::FindRefusedCharacter("exe.\u202Etxt", TextKind::kFreeText), "U+202E");
  EXPECT_EQ(text::FindRefusedCharacter("\u2066x\u2069", TextKind::kLine), "U+2066");
  EXPECT_EQ(text::FindRefusedCharacter("a\u200Fb", TextKind::kLine), "U+200F");
  EXPECT_EQ(text::FindRefusedCharacter("a\u200Fb", TextKind::kFreeText), "");
  EXPECT_EQ(text::FindRefusedCharacter("\xff\xfe", TextKind::kLine), "");  // INVALID_UTF8's business
  EXPECT_EQ(text::FindRefusedCharacter("陈小梅 Zoë", TextKind::kLine), "");
}

TEST(TextRules, CheckCharactersNamesTheFieldPath) {
  grid::v1::DirectoryContent c;
  c.add_units()->set_name("ok");
  c.add_units()->set_name("bad\x1b");
  Status s = CheckCharacters(c);
  EXPECT_EQ(s.reason(), reason::INVALID_CHARACTERS.name);
  EXPECT_NE(s.message().find("units[1].name holds U+001B"), std::string::npos) << s.message();

  grid::v1::SubmitCaseRequest r;
  r.set_description("line one\nline two");
  r.mutable_citizen()->set_name("陈\u202E");
  s = CheckCharacters(r);
  EXPECT_NE(s.message().find("citizen.name holds U+202E"), std::string::npos) << s.message();
  r.mutable_citizen()->set_name("陈");
  EXPECT_TRUE(CheckCharacters(r).ok());
}

}  // namespace
}  // namespace grid
