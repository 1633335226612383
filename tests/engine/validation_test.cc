// ValidateSubmit: which SubmitCaseRequest is refused, with which reason,
// against the tiny directory.
#include "engine/validation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/text.h"
#include "tests/support/submit_request.h"
#include "tests/support/tiny_directory.h"

namespace grid {
namespace {

class Validation : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = Directory::Build(testing::TinyDirectory(), 1);
    ASSERT_TRUE(d.ok());
    dir_ = *d;
  }
  grid::v1::SubmitCaseRequest Good() const {
    grid::v1::SubmitCaseRequest r =
        testing::Submission().Key("cc1-000123").At(20.005, 110.005).Citizen("陈女士", "138 0000 1234").Build();
    r.add_attachment_urls("https://img.example.org/a.jpg");
    return r;
  }
  std::string Reason(const grid::v1::SubmitCaseRequest& r) const {
    Status s = ValidateSubmit(r, *dir_);
    return s.ok() ? "OK" : s.reason();
  }
  std::shared_ptr<const Directory> dir_;
};

TEST_F(Validation, AcceptsAGoodRequest) { EXPECT_EQ(Reason(Good()), "OK"); }

TEST_F(Validation, EveryBadFieldHasItsReason) {
  auto r = Good();
  r.clear_category();
  EXPECT_EQ(Reason(r), "MISSING_CATEGORY");
  r = Good();
  r.set_category("no.such");
  EXPECT_EQ(Reason(r), "UNKNOWN_CATEGORY");
  r = Good();
  r.set_description("   \n");
  EXPECT_EQ(Reason(r), "MISSING_DESCRIPTION");
  r = Good();
  r.set_description(std::string(4001, 'x'));
  EXPECT_EQ(Reason(r), "DESCRIPTION_TOO_LONG");
  r = Good();
  std::string cjk;
  for (int i = 0; i < 4000; ++i) cjk += "垃";  // 4,000 characters, 12,000 bytes: allowed
  r.set_description(cjk);
  EXPECT_EQ(Reason(r), "OK");
  r = Good();
  r.set_description("bad \xC3\x28 utf8");
  EXPECT_EQ(Reason(r), "INVALID_UTF8");
  r = Good();
  r.set_address("\xED\xA0\x80");  // a UTF-16 surrogate
  EXPECT_EQ(Reason(r), "INVALID_UTF8");
  r = Good();
  r.mutable_location()->set_lat(NAN);
  EXPECT_EQ(Reason(r), "NON_FINITE_COORDINATE");
  r = Good();
  r.mutable_location()->set_lng(INFINITY);
  EXPECT_EQ(Reason(r), "NON_FINITE_COORDINATE");
  r = Good();
  r.mutable_location()->set_lat(90.5);
  EXPECT_EQ(Reason(r), "LATITUDE_OUT_OF_RANGE");
  r = Good();
  r.mutable_location()->set_lng(-180.01);
  EXPECT_EQ(Reason(r), "LONGITUDE_OUT_OF_RANGE");
  r = Good();
  r.set_address(std::string(501, 'a'));
  EXPECT_EQ(Reason(r), "ADDRESS_TOO_LONG");
  r = Good();
  r.set_idempotency_key("has space");
  EXPECT_EQ(Reason(r), "INVALID_IDEMPOTENCY_KEY");
  r = Good();
  r.set_idempotency_key(std::string(129, 'k'));
  EXPECT_EQ(Reason(r), "INVALID_IDEMPOTENCY_KEY");
  r = Good();
  r.set_channel(static_cast<grid::v1::Channel>(99));
  EXPECT_EQ(Reason(r), "INVALID_CHANNEL");
  r = Good();
  r.set_priority(static_cast<grid::v1::Priority>(-3));
  EXPECT_EQ(Reason(r), "INVALID_PRIORITY");
  r = Good();
  r.mutable_citizen()->set_name(std::string(65, 'n'));
  EXPECT_EQ(Reason(r), "NAME_TOO_LONG");
  r = Good();
  r.mutable_citizen()->set_phone("call me");
  EXPECT_EQ(Reason(r), "INVALID_PHONE");
  r = Good();
  for (int i = 0; i < 10; ++i) r.add_attachment_urls("https://x.org/" + std::to_string(i));
  EXPECT_EQ(Reason(r), "TOO_MANY_ATTACHMENTS");
  r = Good();
  r.add_attachment_urls("ftp://x.org/a");
  EXPECT_EQ(Reason(r), "INVALID_ATTACHMENT_URL");
  r = Good();
  r.add_attachment_urls("javascript:alert(1)");
  EXPECT_EQ(Reason(r), "INVALID_ATTACHMENT_URL");
  r = Good();
  r.set_unit_code("999999");
  EXPECT_EQ(Reason(r), "UNKNOWN_UNIT");
  r = Good();
  r.set_address(std::string(70000, 'a'));
  EXPECT_EQ(Reason(r), "MESSAGE_TOO_LARGE");
}

TEST_F(Validation, ErrorsAreInvalidArgumentWithAMessage) {
  auto r = Good();
  r.mutable_location()->set_lat(91);
  Status s = ValidateSubmit(r, *dir_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("91"), std::string::npos);
  EXPECT_EQ(s.ToString().rfind("LATITUDE_OUT_OF_RANGE: ", 0), 0u);
}

TEST(Text, Utf8Checks) {
  EXPECT_TRUE(text::IsValidUtf8("金江镇 abc"));
  EXPECT_FALSE(text::IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(text::IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(text::IsValidUtf8("\xE9\x87"));          // truncated
  EXPECT_EQ(text::CodePointCount("金江镇ab"), 5u);
}

TEST(Text, NormalisesWidthCaseAndPunctuation) {
  EXPECT_EQ(text::FoldWidthAndCase("ＡＢＣ１２３　x"), "abc123 x");
  EXPECT_EQ(text::NormaliseForMatch("文化北路（东段）１２号"), "文化北路东段12号");
  EXPECT_EQ(text::NormaliseForMatch("Main St., No. 5"), "mainstno5");
}

}  // namespace
}  // namespace grid
