// Intake: see intake.h.
#include "engine/intake.h"

#include <cstring>

#include "engine/case_id.h"
#include "engine/timestamp.h"

namespace grid {
namespace {

// FNV-1a, 64 bit, over length-prefixed fields.
class Fnv {
 public:
  void Add(std::string_view s) {
    AddInt(s.size());
    for (unsigned char c : s) Byte(c);
  }
  void AddInt(uint64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<unsigned char>(v >> (8 * i)));
  }
  void AddDouble(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    AddInt(bits);
  }
  uint64_t value() const { return h_; }

 private:
  void Byte(unsigned char c) {
    h_ ^= c;
    h_ *= 1099511628211ULL;
  }
  uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace

NewCase BuildNewCase(const grid::v1::SubmitCaseRequest& r, const Actor& actor, grid::v1::RoutingDecision routing,
                     uint64_t id, Micros now) {
  NewCase out;
  grid::v1::Case& c = out.record;
  c.set_id(CaseIdToString(id));
  c.set_idempotency_key(r.idempotency_key());
  c.set_submitted_by(actor.id);
  c.set_channel(r.channel());
  c.set_category(r.category());
  c.set_description(r.description());
  if (r.has_location()) *c.mutable_location() = r.location();
  c.set_address(r.address());
  *c.mutable_citizen() = r.citizen();
  c.set_priority(r.priority() == grid::v1::PRIORITY_UNSPECIFIED ? grid::v1::PRIORITY_NORMAL : r.priority());
  *c.mutable_attachment_urls() = r.attachment_urls();
  *c.mutable_created_at() = ToTimestamp(now);
  *c.mutable_updated_at() = ToTimestamp(now);
  c.set_explicit_unit_code(r.unit_code());
  c.set_status(grid::v1::CASE_STATUS_ROUTED);
  c.set_version(2);

  grid::v1::CaseEvent submitted;
  submitted.set_case_id(c.id());
  submitted.set_seq(1);
  submitted.set_type(grid::v1::EVENT_TYPE_SUBMITTED);
  *submitted.mutable_at() = ToTimestamp(now);
  submitted.set_actor(actor.id);
  submitted.set_actor_role(actor.role);
  submitted.set_from_status(grid::v1::CASE_STATUS_UNSPECIFIED);
  submitted.set_to_status(grid::v1::CASE_STATUS_SUBMITTED);
  submitted.set_case_version(1);

  grid::v1::CaseEvent routed = submitted;
  routed.set_seq(2);
  routed.set_case_version(2);
  routed.set_type(grid::v1::EVENT_TYPE_ROUTED);
  routed.set_actor("router");
  routed.set_actor_role("system");
  routed.set_from_status(grid::v1::CASE_STATUS_SUBMITTED);
  routed.set_to_status(grid::v1::CASE_STATUS_ROUTED);
  routed.set_note(routing.explanation());
  *routed.mutable_routing() = routing;

  *c.mutable_routing() = std::move(routing);
  out.events.push_back(std::move(submitted));
  out.events.push_back(std::move(routed));
  return out;
}

uint64_t RequestFingerprint(const grid::v1::SubmitCaseRequest& r) {
  Fnv h;
  h.Add(r.idempotency_key());
  h.AddInt(static_cast<uint64_t>(r.channel()));
  h.Add(r.category());
  h.Add(r.description());
  h.AddInt(r.has_location());
  h.AddDouble(r.location().lat());
  h.AddDouble(r.location().lng());
  // Only when set, so that the fingerprints stored before the field existed
  // still match their retries.
  if (r.location().coordinate_system() != grid::v1::COORDINATE_SYSTEM_WGS84) {
    h.AddInt(static_cast<uint64_t>(r.location().coordinate_system()));
  }
  h.Add(r.address());
  h.Add(r.citizen().name());
  h.Add(r.citizen().phone());
  h.AddInt(static_cast<uint64_t>(r.priority()));
  h.AddInt(static_cast<uint64_t>(r.attachment_urls_size()));
  for (const auto& u : r.attachment_urls()) h.Add(u);
  h.Add(r.unit_code());
  return h.value();
}

}  // namespace grid
