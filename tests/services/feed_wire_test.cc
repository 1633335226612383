// Spliced responses (services/feed_wire.h, services/wire.h) against
// protobuf's own parser and serialiser.
#include "services/feed_wire.h"
#include "services/wire.h"

#include <gtest/gtest.h>

#include "grid/v1/service.pb.h"

namespace grid::services {
namespace {

namespace v1 = grid::v1;

v1::FeedEntry Entry(uint64_t cursor, bool escalation, std::initializer_list<const char*> path) {
  v1::FeedEntry e;
  e.set_cursor(cursor);
  e.set_escalation(escalation);
  for (const char* p : path) e.add_unit_path(p);
  auto* ev = e.mutable_event();
  ev->set_case_id("1795819623114001");
  ev->set_type(v1::EVENT_TYPE_ESCALATED);
  ev->set_note("受理超时，自动上报");
  ev->set_from_unit("469023100");  // a unit code inside the event must not count as the path
  return e;
}

TEST(FeedWire, SplicedResponseParsesAsTheSameEntries) {
  const auto a = Entry(7, true, {"469023", "469023100"});
  const auto b = Entry(300, false, {"469023"});
  std::string out;
  AppendFeedEntry(&out, a.SerializeAsString());
  AppendFeedEntry(&out, b.SerializeAsString());
  AppendFeedTail(&out, 300, true);
  v1::WatchResponse r;
  ASSERT_TRUE(r.ParseFromString(out));
  ASSERT_EQ(r.entries_size(), 2);
  EXPECT_EQ(r.entries(0).SerializeAsString(), a.SerializeAsString());
  EXPECT_EQ(r.entries(1).SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(r.cursor(), 300u);
  EXPECT_TRUE(r.caught_up());

  // A heartbeat: no entries, the cursor, not caught up. The bytes are what
  // protobuf itself writes.
  std::string hb;
  AppendFeedTail(&hb, 1ULL << 40, false);
  v1::WatchResponse want;
  want.set_cursor(1ULL << 40);
  EXPECT_EQ(hb, want.SerializeAsString());
}

TEST(FeedWire, PeekReadsTheEscalationFlagAndExactPathElements) {
  bool esc = false, in = false;
  const std::string e = Entry(1, true, {"469023", "469023100"}).SerializeAsString();
  ASSERT_TRUE(PeekFeedEntry(e, "469023100", &esc, &in));
  EXPECT_TRUE(esc);
  EXPECT_TRUE(in);
  ASSERT_TRUE(PeekFeedEntry(e, "", &esc, &in));
  EXPECT_TRUE(in);
  // Prefixes, extensions and codes that only the event names are not on the path.
  for (const char* other : {"46902310", "4690231000", "469023101", "46"}) {
    ASSERT_TRUE(PeekFeedEntry(e, other, &esc, &in));
    EXPECT_FALSE(in) << other;
  }
  const std::string quiet = Entry(2, false, {"469023"}).SerializeAsString();
  ASSERT_TRUE(PeekFeedEntry(quiet, "469023", &esc, &in));
  EXPECT_FALSE(esc);
  EXPECT_TRUE(in);
  // Fields this reader does not know (a newer writer) are skipped.
  const std::string newer = Entry(3, true, {"469023"}).SerializeAsString() +
                            std::string("\xa8\x06\x05", 3) +                      // field 101, varint 5
                            std::string("\xad\x06\x01\x02\x03\x04", 6) +          // field 101, fixed32
                            std::string("\xa9\x06", 2) + std::string(8, '\x07');  // field 101, fixed64
  ASSERT_TRUE(PeekFeedEntry(newer, "469023", &esc, &in));
  EXPECT_TRUE(esc);
  EXPECT_TRUE(in);
}

TEST(FeedWire, PeekRefusesMalformedBytes) {
  bool esc = false, in = false;
  const std::string e = Entry(1, true, {"469023"}).SerializeAsString();
  EXPECT_FALSE(PeekFeedEntry(e.substr(0, e.size() - 3), "469023", &esc, &in));  // cut short
  EXPECT_FALSE(PeekFeedEntry(std::string("\xff\xff\xff", 3), "", &esc, &in));   // a bad tag
  EXPECT_FALSE(PeekFeedEntry(std::string("\x1a\x05"
                                         "ab",
                                         4),
                             "ab", &esc, &in));                            // path longer than the bytes
  EXPECT_FALSE(PeekFeedEntry(std::string("\x0b\x0c", 2), "", &esc, &in));  // a group
  EXPECT_TRUE(PeekFeedEntry("", "", &esc, &in));                           // empty: a default entry
}

}  // namespace
}  // namespace grid::services

namespace grid::services {
namespace {

// services/wire.h: the unit a stored case is filed under, read unparsed.
TEST(CaseWire, PeekCaseUnitReadsTheUnitOrTheRoutedUnit) {
  grid::v1::Case c;
  c.set_id("1795819623114001");
  c.set_description("路灯不亮");
  c.mutable_routing()->set_unit_code("469023100001001");
  c.mutable_routing()->set_explanation("point lies in 金马东社区第1网格");
  c.add_unit_path("469023");
  std::string unit;
  ASSERT_TRUE(PeekCaseUnit(c.SerializeAsString(), &unit));
  EXPECT_EQ(unit, "469023100001001");  // no unit_code yet: the routed unit
  c.set_unit_code("469023100");        // transferred up to the town
  ASSERT_TRUE(PeekCaseUnit(c.SerializeAsString(), &unit));
  EXPECT_EQ(unit, "469023100");
  ASSERT_TRUE(PeekCaseUnit("", &unit));
  EXPECT_EQ(unit, "");
  const std::string bytes = c.SerializeAsString();
  EXPECT_FALSE(PeekCaseUnit(bytes.substr(0, bytes.size() - 2), &unit));
  // A routing field whose inside is not a message.
  std::string broken;
  AppendLengthDelimited(&broken, 14, std::string("\x0a\x09short", 7));
  EXPECT_FALSE(PeekCaseUnit(broken, &unit));
}

TEST(CaseWire, AppendLengthDelimitedSplicesAMessage) {
  grid::v1::Case c;
  c.set_id("1795819623114001");
  std::string out;
  AppendLengthDelimited(&out, 1, c.SerializeAsString());
  grid::v1::ListCasesResponse r;
  ASSERT_TRUE(r.ParseFromString(out));
  ASSERT_EQ(r.cases_size(), 1);
  EXPECT_EQ(r.cases(0).id(), c.id());
}

}  // namespace
}  // namespace grid::services
