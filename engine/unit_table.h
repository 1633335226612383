// The directory's units in compact form, for millions of them.
//
// One 12-byte record per unit (arena offset, parent index, lengths, level),
// codes and names in one byte arena, children as index ranges, and an
// open-addressed table from code to index: about 70 bytes a unit (69 for
// the national directory) instead of a protobuf message (~360 bytes) plus
// hash maps. Units are numbered in ascending code order, so children ranges
// are in code order too. Only the few units that carry more than code,
// level, name, parent and the party organisation these imply (on-duty
// contacts, address coverage, an organisation of their own) also keep their
// whole grid::v1::Unit, without boundary ("extras").
//
// A table is built in memory, or mapped from a file (see directory_saved.cc): its
// arrays are then the file's pages, resident only once touched.
//
// Thread-safety: immutable once built; safe to share. UnitRef and UnitRange
// are views, valid while their table lives.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid {

class UnitTable;

// A unit's code or name: a view into its table that also converts to
// std::string implicitly and concatenates with strings, so that code written
// against the message's `const std::string&` accessors (protobuf setters,
// "unit " + u->code()) reads the same.
class UnitText : public std::string_view {
 public:
  constexpr UnitText() = default;
  constexpr UnitText(std::string_view s) : std::string_view(s) {}       // NOLINT: implicit by design
  operator std::string() const { return std::string(data(), size()); }  // NOLINT
  friend std::string operator+(const std::string& a, UnitText b) { return std::string(a).append(b); }
  friend std::string operator+(std::string&& a, UnitText b) { return std::move(a.append(b)); }
  friend std::string operator+(const char* a, UnitText b) { return std::string(a).append(b); }
  friend std::string operator+(UnitText a, const std::string& b) { return std::string(a).append(b); }
  friend std::string operator+(UnitText a, const char* b) { return std::string(a).append(b); }
};

// One unit of a table, by value; reads like a `const grid::v1::Unit*` did
// (u->code(), *u, u == nullptr), except that strings are string_views.
// A default UnitRef is null.
class UnitRef {
 public:
  UnitRef() = default;
  UnitRef(const UnitTable* table, uint32_t index) : table_(table), index_(index) {}

  explicit operator bool() const { return table_ != nullptr; }
  friend bool operator==(UnitRef a, std::nullptr_t) { return a.table_ == nullptr; }
  friend bool operator==(UnitRef a, UnitRef b) { return a.table_ == b.table_ && a.index_ == b.index_; }
  const UnitRef* operator->() const { return this; }
  const UnitRef& operator*() const { return *this; }

  // REQUIRES for all below: not null.
  uint32_t index() const { return index_; }
  UnitText code() const;
  UnitText name() const;
  grid::v1::UnitLevel level() const;
  // Empty for a root.
  UnitText parent_code() const;
  UnitRef parent() const;  // null for a root

  // The whole unit (without boundary) when it carries more than the above
  // (and more than the party organisation its level and name imply); null
  // otherwise. The accessors below read it, or the defaults.
  const grid::v1::Unit* extra() const;
  bool has_party_organisation() const;
  // By value: an organisation that follows from the unit's level and name
  // (PartyOrganisationFor in party_organisation.h, the case of every division unit) is
  // not stored but made again here.
  grid::v1::PartyOrganisation party_organisation() const;
  const google::protobuf::RepeatedPtrField<grid::v1::Contact>& on_duty() const;
  const google::protobuf::RepeatedPtrField<grid::v1::AddressRange>& address_coverage() const;
  // Units in a directory never carry their boundary (see Directory).
  bool has_boundary() const { return false; }
  // The unit as a message (without boundary).
  grid::v1::Unit ToProto() const;

 private:
  friend class UnitTable;
  const UnitTable* table_ = nullptr;
  uint32_t index_ = 0;
};

std::ostream& operator<<(std::ostream& os, UnitRef u);

// A sequence of units (children, grids on a street): random access.
class UnitRange {
 public:
  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = UnitRef;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = UnitRef;
    iterator() = default;
    iterator(const UnitTable* t, const uint32_t* p) : t_(t), p_(p) {}
    UnitRef operator*() const { return UnitRef(t_, *p_); }
    UnitRef operator[](difference_type n) const { return UnitRef(t_, p_[n]); }
    iterator& operator++() { return ++p_, *this; }
    iterator operator++(int) { return iterator(t_, p_++); }
    iterator& operator--() { return --p_, *this; }
    iterator operator--(int) { return iterator(t_, p_--); }
    iterator& operator+=(difference_type n) { return p_ += n, *this; }
    iterator& operator-=(difference_type n) { return p_ -= n, *this; }
    friend iterator operator+(iterator a, difference_type n) { return a += n; }
    friend iterator operator+(difference_type n, iterator a) { return a += n; }
    friend iterator operator-(iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(iterator a, iterator b) { return a.p_ - b.p_; }
    friend bool operator==(iterator a, iterator b) { return a.p_ == b.p_; }
    friend auto operator<=>(iterator a, iterator b) { return a.p_ <=> b.p_; }

   private:
    const UnitTable* t_ = nullptr;
    const uint32_t* p_ = nullptr;
  };

  UnitRange() = default;
  UnitRange(const UnitTable* t, const uint32_t* begin, const uint32_t* end) : t_(t), begin_(begin), end_(end) {}
  iterator begin() const { return iterator(t_, begin_); }
  iterator end() const { return iterator(t_, end_); }
  size_t size() const { return static_cast<size_t>(end_ - begin_); }
  bool empty() const { return begin_ == end_; }
  UnitRef operator[](size_t i) const { return UnitRef(t_, begin_[i]); }
  UnitRef front() const { return (*this)[0]; }

 private:
  const UnitTable* t_ = nullptr;
  const uint32_t* begin_ = nullptr;
  const uint32_t* end_ = nullptr;
};

// One unit as a table is built from it: views into the caller's strings.
struct UnitInput {
  std::string_view code, name, parent_code;
  grid::v1::UnitLevel level = grid::v1::UNIT_LEVEL_UNSPECIFIED;
  // The whole unit when it carries more than the fields above (copied into
  // the table without its boundary); else null. See UnitTable::InputOf.
  const grid::v1::Unit* extra = nullptr;
  // Without extra: the unit has the party organisation its level and name
  // imply (PartyOrganisationFor).
  bool derived_org = false;
};

class UnitTable {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;

  // A unit as the table keeps it: whole (extra) when it carries anything
  // beyond code, level, name, parent, boundary and the party organisation
  // its level and name imply. Views into `u`.
  static UnitInput InputOf(const grid::v1::Unit& u);
  // A unit of a table, as it was given (views into that table).
  static UnitInput InputOf(UnitRef u);

  UnitTable();
  ~UnitTable();
  UnitTable(UnitTable&&) noexcept;
  UnitTable& operator=(UnitTable&&) noexcept;

  // Builds the table (validation is the caller's). A parent code that
  // names no unit leaves the unit a root. `index_of` (if given) receives
  // each input's index; `first_duplicate` (if given) the position of the
  // first input whose code an earlier input has, or kNone: with duplicates
  // the table must not be used. RESOURCE_EXHAUSTED when the units' text
  // exceeds 4 GiB.
  static StatusOr<UnitTable> Build(const std::vector<UnitInput>& units, std::vector<uint32_t>* index_of = nullptr,
                                   uint32_t* first_duplicate = nullptr);

  size_t size() const { return n_; }
  UnitRef at(uint32_t index) const { return UnitRef(this, index); }
  // Null when no unit has this code.
  UnitRef Find(std::string_view code) const;
  // Children in code order; the roots for kNone.
  UnitRange Children(uint32_t index) const;
  // The units kept whole (UnitRef::extra), in code order.
  UnitRange WithExtras() const { return UnitRange(this, extra_units_, extra_units_ + n_extras_); }

  // Saving and mapping: the table is a fixed list of arrays (see
  // directory_saved.cc for the file around them).
  struct Image {
    const void* data;
    size_t bytes;
  };
  std::vector<Image> Sections() const;  // the extras serialised as one DirectoryContent
  struct Counts {
    uint64_t units, slots, arena, extras, extras_bytes;
  };
  Counts counts() const;
  // Section sizes for these counts, in Sections() order.
  static std::vector<size_t> SectionBytes(const Counts& c);
  // A table over `sections` (laid out as SectionBytes says), kept alive by
  // `owner`. INVALID_ARGUMENT (CORRUPT_TABLE) when they do not hold
  // together (indices out of range); beyond that they are trusted.
  static StatusOr<UnitTable> FromSections(const Counts& c, const std::vector<const char*>& sections,
                                          std::shared_ptr<const void> owner);

 private:
  friend class UnitRef;
  struct Record {
    uint32_t text;    // arena offset: code, then name
    uint32_t parent;  // index, or kNone for a root
    uint8_t code_len;
    uint8_t level;  // grid::v1::UnitLevel | kHasExtra | kDerivedOrg
    uint16_t name_len;
  };
  static_assert(sizeof(Record) == 12);
  static constexpr uint8_t kHasExtra = 0x80, kDerivedOrg = 0x40, kLevelMask = 0x3f;
  struct Owned;

  const grid::v1::Unit* ExtraOf(uint32_t index) const;
  void Point(const Owned& o);

  size_t n_ = 0, n_slots_ = 0, n_arena_ = 0, n_extras_ = 0;
  const Record* recs_ = nullptr;
  const uint32_t* kid_begin_ = nullptr;  // n_ + 2: children of i, then of the roots (index n_)
  const uint32_t* kids_ = nullptr;       // n_
  const uint32_t* slots_ = nullptr;      // n_slots_ (a power of two), kNone when free
  const char* arena_ = nullptr;
  const uint32_t* extra_units_ = nullptr;  // n_extras_, ascending
  std::vector<grid::v1::Unit> extras_;     // parallel to extra_units_
  std::string extras_bytes_;               // extras_ serialised, for saving
  std::shared_ptr<const void> owner_;      // the memory the pointers above point into
};

}  // namespace grid
