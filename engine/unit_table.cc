// UnitTable: see unit_table.h.
//
// Thread-safety: immutable once built (unit_table.h).
#include "engine/unit_table.h"

#include "engine/party_organisation.h"
#include "engine/reasons.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <ostream>

namespace grid {
namespace {

// FNV-1a with a final mix: stable across builds and runs (tables are saved).
uint64_t HashCode(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 29);
}

// Slots for n codes: a power of two with a load factor of at most 3/4.
size_t SlotsFor(size_t n) {
  size_t slots = 16;
  while (slots * 3 < n * 4) slots *= 2;
  return slots;
}

}  // namespace

// Memory of a table built in this process.
struct UnitTable::Owned {
  std::vector<Record> recs;
  std::vector<uint32_t> kid_begin, kids, slots, extra_units;
  std::string arena;
};

UnitTable::UnitTable() = default;
UnitTable::~UnitTable() = default;
UnitTable::UnitTable(UnitTable&&) noexcept = default;
UnitTable& UnitTable::operator=(UnitTable&&) noexcept = default;

UnitInput UnitTable::InputOf(const grid::v1::Unit& u) {
  UnitInput in{u.code(), u.name(), u.parent_code(), u.level(), nullptr, false};
  bool more = u.on_duty_size() > 0 || u.address_coverage_size() > 0 || !u.GetReflection()->GetUnknownFields(u).empty();
  if (!more && u.has_party_organisation()) {
    const grid::v1::PartyOrganisation implied = PartyOrganisationFor(u.level(), u.name());
    in.derived_org =
        !implied.kind().empty() && implied.SerializeAsString() == u.party_organisation().SerializeAsString();
    more = !in.derived_org;
  }
  if (more) in.extra = &u;
  return in;
}

UnitInput UnitTable::InputOf(UnitRef u) {
  const uint8_t flags = u.table_->recs_[u.index_].level;
  return UnitInput{u.code(), u.name(), u.parent_code(), u.level(), u.extra(), (flags & kDerivedOrg) != 0};
}

void UnitTable::Point(const Owned& o) {
  n_ = o.recs.size();
  n_slots_ = o.slots.size();
  n_arena_ = o.arena.size();
  n_extras_ = o.extra_units.size();
  recs_ = o.recs.data();
  kid_begin_ = o.kid_begin.data();
  kids_ = o.kids.data();
  slots_ = o.slots.data();
  arena_ = o.arena.data();
  extra_units_ = o.extra_units.data();
}

StatusOr<UnitTable> UnitTable::Build(const std::vector<UnitInput>& units, std::vector<uint32_t>* index_of,
                                     uint32_t* first_duplicate) {
  const size_t n = units.size();
  if (n >= kNone) return Error(reason::TOO_MANY_UNITS, "more than 2^32 - 1 units");
  // Units are numbered in code order.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return units[a].code < units[b].code; });
  if (first_duplicate != nullptr) {
    *first_duplicate = kNone;
    for (size_t i = 1; i < n; ++i) {  // equal codes keep their input order
      if (units[order[i]].code == units[order[i - 1]].code &&
          (i < 2 || units[order[i - 2]].code != units[order[i]].code)) {
        *first_duplicate = std::min(*first_duplicate, order[i]);
      }
    }
  }
  auto o = std::make_shared<Owned>();
  o->recs.resize(n);
  size_t text = 0;
  for (const UnitInput& u : units) text += u.code.size() + u.name.size();
  if (text > 0xffffffffu) return Error(reason::TOO_MUCH_TEXT, "unit codes and names exceed 4 GiB");
  o->arena.reserve(text);
  std::vector<uint32_t> index(n);
  UnitTable t;
  for (uint32_t i = 0; i < n; ++i) {
    const UnitInput& u = units[order[i]];
    index[order[i]] = i;
    Record& r = o->recs[i];
    r.text = static_cast<uint32_t>(o->arena.size());
    r.code_len = static_cast<uint8_t>(std::min<size_t>(u.code.size(), 255));
    r.name_len = static_cast<uint16_t>(std::min<size_t>(u.name.size(), 65535));
    r.level = static_cast<uint8_t>((u.level & kLevelMask) | (u.derived_org && u.extra == nullptr ? kDerivedOrg : 0));
    r.parent = kNone;
    o->arena.append(u.code.substr(0, r.code_len));
    o->arena.append(u.name.substr(0, r.name_len));
    if (u.extra != nullptr) {
      r.level |= kHasExtra;
      o->extra_units.push_back(i);
      grid::v1::Unit& e = t.extras_.emplace_back(*u.extra);
      e.clear_boundary();
    }
  }
  // The code table, then parents through it.
  o->slots.assign(SlotsFor(n), kNone);
  const size_t mask = o->slots.size() - 1;
  for (uint32_t i = 0; i < n; ++i) {
    const Record& r = o->recs[i];
    size_t s = HashCode(std::string_view(o->arena.data() + r.text, r.code_len)) & mask;
    while (o->slots[s] != kNone) s = (s + 1) & mask;
    o->slots[s] = i;
  }
  t.Point(*o);
  for (uint32_t i = 0; i < n; ++i) {
    const UnitInput& u = units[order[i]];
    if (u.parent_code.empty()) continue;
    if (UnitRef p = t.Find(u.parent_code)) o->recs[i].parent = p.index();
  }
  // Children grouped by parent (roots last), each group in index order.
  o->kid_begin.assign(n + 2, 0);
  for (const Record& r : o->recs) ++o->kid_begin[(r.parent == kNone ? n : r.parent) + 1];
  std::partial_sum(o->kid_begin.begin(), o->kid_begin.end(), o->kid_begin.begin());
  o->kids.resize(n);
  std::vector<uint32_t> fill(o->kid_begin.begin(), o->kid_begin.end() - 1);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t p = o->recs[i].parent;
    o->kids[fill[p == kNone ? n : p]++] = i;
  }
  grid::v1::DirectoryContent extras;
  for (const auto& e : t.extras_) *extras.add_units() = e;
  t.extras_bytes_ = extras.SerializeAsString();
  t.Point(*o);
  t.owner_ = std::move(o);
  if (index_of != nullptr) *index_of = std::move(index);
  return t;
}

UnitRef UnitTable::Find(std::string_view code) const {
  if (n_slots_ == 0) return UnitRef();
  const size_t mask = n_slots_ - 1;
  for (size_t s = HashCode(code) & mask;; s = (s + 1) & mask) {
    const uint32_t i = slots_[s];
    if (i == kNone) return UnitRef();
    const Record& r = recs_[i];
    if (r.code_len == code.size() && std::memcmp(arena_ + r.text, code.data(), code.size()) == 0) {
      return UnitRef(this, i);
    }
  }
}

UnitRange UnitTable::Children(uint32_t index) const {
  if (n_ == 0) return UnitRange();
  const size_t k = index == kNone ? n_ : index;
  return UnitRange(this, kids_ + kid_begin_[k], kids_ + kid_begin_[k + 1]);
}

const grid::v1::Unit* UnitTable::ExtraOf(uint32_t index) const {
  if (!(recs_[index].level & kHasExtra)) return nullptr;
  const uint32_t* it = std::lower_bound(extra_units_, extra_units_ + n_extras_, index);
  return &extras_[static_cast<size_t>(it - extra_units_)];
}

UnitTable::Counts UnitTable::counts() const { return Counts{n_, n_slots_, n_arena_, n_extras_, extras_bytes_.size()}; }

std::vector<size_t> UnitTable::SectionBytes(const Counts& c) {
  return {c.units * sizeof(Record), (c.units + 2) * 4, c.units * 4, c.slots * 4, c.arena, c.extras * 4, c.extras_bytes};
}

std::vector<UnitTable::Image> UnitTable::Sections() const {
  const std::vector<size_t> bytes = SectionBytes(counts());
  const void* data[] = {recs_, kid_begin_, kids_, slots_, arena_, extra_units_, extras_bytes_.data()};
  std::vector<Image> out;
  for (size_t i = 0; i < bytes.size(); ++i) out.push_back(Image{data[i], bytes[i]});
  return out;
}

StatusOr<UnitTable> UnitTable::FromSections(const Counts& c, const std::vector<const char*>& sections,
                                            std::shared_ptr<const void> owner) {
  auto bad = [](const std::string& why) { return Error(reason::CORRUPT_TABLE, why); };
  if (sections.size() != 7) return bad("wrong number of sections");
  if (c.units >= kNone || c.slots < 16 || (c.slots & (c.slots - 1)) != 0 || c.slots * 3 < c.units * 4 ||
      c.arena > 0xffffffffu || c.extras > c.units) {
    return bad("inconsistent counts");
  }
  UnitTable t;
  t.n_ = c.units, t.n_slots_ = c.slots, t.n_arena_ = c.arena, t.n_extras_ = c.extras;
  t.recs_ = reinterpret_cast<const Record*>(sections[0]);
  t.kid_begin_ = reinterpret_cast<const uint32_t*>(sections[1]);
  t.kids_ = reinterpret_cast<const uint32_t*>(sections[2]);
  t.slots_ = reinterpret_cast<const uint32_t*>(sections[3]);
  t.arena_ = sections[4];
  t.extra_units_ = reinterpret_cast<const uint32_t*>(sections[5]);
  t.extras_bytes_.assign(sections[6], c.extras_bytes);
  // The checks a lookup relies on not to leave the arrays. They touch the
  // small arrays only: records and the arena are covered by the checksum.
  if (t.kid_begin_[0] != 0 || t.kid_begin_[t.n_ + 1] != t.n_) return bad("inconsistent children");
  grid::v1::DirectoryContent extras;
  if (!extras.ParseFromString(t.extras_bytes_) || static_cast<uint64_t>(extras.units_size()) != c.extras) {
    return bad("extras do not parse");
  }
  for (uint64_t i = 0; i < c.extras; ++i) {
    if (t.extra_units_[i] >= t.n_ || (i > 0 && t.extra_units_[i] <= t.extra_units_[i - 1])) {
      return bad("inconsistent extras");
    }
  }
  t.extras_.assign(std::make_move_iterator(extras.mutable_units()->begin()),
                   std::make_move_iterator(extras.mutable_units()->end()));
  t.owner_ = std::move(owner);
  return t;
}

UnitText UnitRef::code() const {
  const auto& r = table_->recs_[index_];
  return std::string_view(table_->arena_ + r.text, r.code_len);
}

UnitText UnitRef::name() const {
  const auto& r = table_->recs_[index_];
  return std::string_view(table_->arena_ + r.text + r.code_len, r.name_len);
}

grid::v1::UnitLevel UnitRef::level() const {
  return static_cast<grid::v1::UnitLevel>(table_->recs_[index_].level & UnitTable::kLevelMask);
}

UnitRef UnitRef::parent() const {
  const uint32_t p = table_->recs_[index_].parent;
  return p == UnitTable::kNone ? UnitRef() : UnitRef(table_, p);
}

UnitText UnitRef::parent_code() const {
  const UnitRef p = parent();
  return p ? p.code() : UnitText();
}

const grid::v1::Unit* UnitRef::extra() const { return table_->ExtraOf(index_); }

bool UnitRef::has_party_organisation() const {
  if (table_->recs_[index_].level & UnitTable::kDerivedOrg) return true;
  const auto* e = extra();
  return e != nullptr && e->has_party_organisation();
}

grid::v1::PartyOrganisation UnitRef::party_organisation() const {
  if (table_->recs_[index_].level & UnitTable::kDerivedOrg) return PartyOrganisationFor(level(), name());
  const auto* e = extra();
  return e ? e->party_organisation() : grid::v1::PartyOrganisation();
}

const google::protobuf::RepeatedPtrField<grid::v1::Contact>& UnitRef::on_duty() const {
  const auto* e = extra();
  return (e ? *e : grid::v1::Unit::default_instance()).on_duty();
}

const google::protobuf::RepeatedPtrField<grid::v1::AddressRange>& UnitRef::address_coverage() const {
  const auto* e = extra();
  return (e ? *e : grid::v1::Unit::default_instance()).address_coverage();
}

grid::v1::Unit UnitRef::ToProto() const {
  grid::v1::Unit u;
  if (const auto* e = extra()) u = *e;
  if (table_->recs_[index_].level & UnitTable::kDerivedOrg) *u.mutable_party_organisation() = party_organisation();
  u.set_code(std::string(code()));
  u.set_level(level());
  u.set_name(std::string(name()));
  u.set_parent_code(std::string(parent_code()));
  return u;
}

std::ostream& operator<<(std::ostream& os, UnitRef u) {
  if (!u) return os << "(no unit)";
  return os << u.code();
}

}  // namespace grid
