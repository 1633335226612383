// Parsing of the national administrative division CSV files (divisions.h).
//
// Thread-safety: stateless free functions; safe to call concurrently.
#include "import/divisions.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/party_organisation.h"
#include "engine/reasons.h"

namespace grid {
namespace {

using grid::v1::Unit;
using grid::v1::UnitLevel;

constexpr int kMaxFields = 6;

// One file kind: its header, its level, and for every column the length of the
// code it holds (0 for the name column).
struct Layout {
  int fields;
  std::array<std::string_view, kMaxFields> header;
  std::array<int, kMaxFields> code_length;
  UnitLevel level;
};

const Layout& LayoutFor(DivisionFile kind) {
  static const Layout kProvinces{2, {"code", "name"}, {2, 0}, grid::v1::UNIT_LEVEL_PROVINCE};
  static const Layout kCities{3, {"code", "name", "provinceCode"}, {4, 0, 2}, grid::v1::UNIT_LEVEL_CITY};
  static const Layout kAreas{
      4, {"code", "name", "cityCode", "provinceCode"}, {6, 0, 4, 2}, grid::v1::UNIT_LEVEL_COUNTY};
  static const Layout kStreets{
      5, {"code", "name", "areaCode", "provinceCode", "cityCode"}, {9, 0, 6, 2, 4}, grid::v1::UNIT_LEVEL_TOWN};
  static const Layout kVillages{6,
                                {"code", "name", "streetCode", "provinceCode", "cityCode", "areaCode"},
                                {12, 0, 9, 2, 4, 6},
                                grid::v1::UNIT_LEVEL_COMMUNITY};
  switch (kind) {
    case DivisionFile::kProvinces: return kProvinces;
    case DivisionFile::kCities: return kCities;
    case DivisionFile::kAreas: return kAreas;
    case DivisionFile::kStreets: return kStreets;
    case DivisionFile::kVillages: return kVillages;
  }
  return kProvinces;  // unreachable: every enumerator is handled above
}

std::string JoinHeader(const Layout& layout) {
  std::string out;
  for (int i = 0; i < layout.fields; ++i) {
    if (i > 0) out += ',';
    out += layout.header[i];
  }
  return out;
}

// The fields of one line. Views point into the line, or into `unescaped` for
// quoted fields that contained "".
struct Fields {
  int count = 0;  // all fields seen, even beyond kMaxFields
  std::array<std::string_view, kMaxFields> value;
  std::array<std::string, kMaxFields> unescaped;
};

// Splits one line (without its line end). Returns an empty string on success,
// else what is wrong.
std::string SplitLine(std::string_view line, Fields& out) {
  out.count = 0;
  size_t i = 0;
  const size_t len = line.size();
  while (true) {
    std::string_view value;
    const int index = out.count;
    if (i < len && line[i] == '"') {
      const size_t start = ++i;
      bool escaped = false;
      size_t end = 0;
      while (true) {
        const size_t q = line.find('"', i);
        if (q == std::string_view::npos) {
          return "unclosed quote in field " + std::to_string(index + 1);
        }
        if (q + 1 < len && line[q + 1] == '"') {
          escaped = true;
          i = q + 2;
          continue;
        }
        end = q;
        i = q + 1;
        break;
      }
      value = line.substr(start, end - start);
      if (i < len && line[i] != ',') {
        return "unexpected character after the closing quote of field " + std::to_string(index + 1);
      }
      if (escaped && index < kMaxFields) {
        std::string& buffer = out.unescaped[index];
        buffer.clear();
        for (size_t k = 0; k < value.size(); ++k) {
          buffer += value[k];
          if (value[k] == '"') ++k;  // skip the second quote of ""
        }
        value = buffer;
      }
    } else {
      size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = len;
      value = line.substr(i, end - i);
      if (value.find('"') != std::string_view::npos) {
        return "quote inside unquoted field " + std::to_string(index + 1);
      }
      i = end;
    }
    if (index < kMaxFields) out.value[index] = value;
    ++out.count;
    if (i >= len) break;
    ++i;  // the comma; a trailing comma yields a final empty field
  }
  return std::string();
}

// Lines in text (memchr: several times faster than std::count at -O2).
size_t CountLines(std::string_view text) {
  size_t lines = 1;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (nl == nullptr) break;
    ++lines;
    p = static_cast<const char*>(nl) + 1;
  }
  return lines;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

uint64_t ToNumber(std::string_view digits) {
  uint64_t n = 0;
  for (char c : digits) n = n * 10 + static_cast<uint64_t>(c - '0');
  return n;
}

// The codes of one file seen so far, with the line of each: open addressing
// over two flat arrays, no allocation per row (a node-based map dominated the
// parse time of the villages file).
class CodeSet {
 public:
  explicit CodeSet(size_t expected) {
    size_t capacity = 16;
    while (capacity < 2 * expected) capacity *= 2;
    codes_.assign(capacity, kEmpty);
    lines_.assign(capacity, 0);
  }

  // Records code on line; returns 0, or the line where code was first seen.
  size_t Insert(uint64_t code, size_t line) {
    if (2 * (size_ + 1) > codes_.size()) Grow();
    const size_t mask = codes_.size() - 1;
    for (size_t i = Hash(code) & mask;; i = (i + 1) & mask) {
      if (codes_[i] == kEmpty) {
        codes_[i] = code;
        lines_[i] = line;
        ++size_;
        return 0;
      }
      if (codes_[i] == code) return lines_[i];
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // codes have at most 12 digits

  static size_t Hash(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }

  void Grow() {
    std::vector<uint64_t> codes = std::move(codes_);
    std::vector<size_t> lines = std::move(lines_);
    codes_.assign(codes.size() * 2, kEmpty);
    lines_.assign(codes.size() * 2, 0);
    size_ = 0;
    for (size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] != kEmpty) static_cast<void>(Insert(codes[i], lines[i]));
    }
  }

  std::vector<uint64_t> codes_;
  std::vector<size_t> lines_;
  size_t size_ = 0;
};

// Duplicate detection that costs almost nothing on the usual, ascending
// input: codes are appended to a list while they ascend (no duplicate is
// possible then); the first code out of order moves everything into a CodeSet.
class DuplicateCheck {
 public:
  explicit DuplicateCheck(size_t expected) : expected_(expected) { ascending_.reserve(expected); }

  // Records code on line; returns 0, or the line where code was first seen.
  size_t Insert(uint64_t code, size_t line) {
    if (set_ == nullptr) {
      if (ascending_.empty() || code > ascending_.back().first) {
        ascending_.emplace_back(code, line);
        return 0;
      }
      set_ = std::make_unique<CodeSet>(expected_);
      for (const auto& [c, l] : ascending_) static_cast<void>(set_->Insert(c, l));
      ascending_ = {};
    }
    return set_->Insert(code, line);
  }

 private:
  size_t expected_;
  std::vector<std::pair<uint64_t, size_t>> ascending_;
  std::unique_ptr<CodeSet> set_;
};

}  // namespace

grid::StatusOr<std::vector<Unit>> ParseDivisionCsv(std::string_view file_name, std::string_view text,
                                                   DivisionFile kind) {
  const Layout& layout = LayoutFor(kind);
  auto fail = [&](const Reason& reason, size_t line_no, const std::string& what) {
    return Error(reason, std::string(file_name) + " line " + std::to_string(line_no) + ": " + what);
  };

  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  const size_t line_estimate = CountLines(text);

  std::vector<Unit> units;
  units.reserve(line_estimate > 0 ? line_estimate - 1 : 0);
  DuplicateCheck seen(line_estimate);

  Fields fields;
  size_t pos = 0;
  size_t line_no = 0;
  bool header_seen = false;
  while (pos < text.size()) {
    ++line_no;
    const char* start = text.data() + pos;
    const void* nl = std::memchr(start, '\n', text.size() - pos);
    const size_t line_len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : text.size() - pos;
    std::string_view line(start, line_len);
    pos += line_len + 1;  // past the '\n' (or past the end on the last line)
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    std::string problem = SplitLine(line, fields);
    if (!problem.empty()) return fail(reason::MALFORMED_CSV, line_no, problem);

    if (!header_seen) {
      header_seen = true;
      bool good = fields.count == layout.fields;
      for (int i = 0; good && i < layout.fields; ++i) {
        good = fields.value[i] == layout.header[i];
      }
      if (!good) {
        return fail(reason::MALFORMED_CSV, line_no,
                    "bad header \"" + std::string(line) + "\", expected \"" + JoinHeader(layout) + "\"");
      }
      continue;
    }

    if (fields.count != layout.fields) {
      return fail(reason::MALFORMED_CSV, line_no,
                  "expected " + std::to_string(layout.fields) + " fields, got " + std::to_string(fields.count));
    }
    const std::string_view code = fields.value[0];
    const std::string_view name = fields.value[1];
    if (name.empty()) return fail(reason::MALFORMED_CSV, line_no, "empty name");
    for (int i = 0; i < layout.fields; ++i) {
      const int want = layout.code_length[i];
      if (want == 0) continue;
      const std::string_view value = fields.value[i];
      const std::string_view column = layout.header[i];
      if (value.empty() || !AllDigits(value)) {
        return fail(reason::INVALID_CODE, line_no,
                    std::string(column) + " \"" + std::string(value) + "\" is not all digits");
      }
      if (static_cast<int>(value.size()) != want) {
        return fail(reason::INVALID_CODE, line_no,
                    std::string(column) + " \"" + std::string(value) + "\" has " + std::to_string(value.size()) +
                        " digits, expected " + std::to_string(want));
      }
      if (i > 0 && code.substr(0, value.size()) != value) {
        return fail(
            reason::INVALID_CODE, line_no,
            "code " + std::string(code) + " is not under its " + std::string(column) + " " + std::string(value));
      }
    }
    if (const size_t first = seen.Insert(ToNumber(code), line_no); first != 0) {
      return fail(reason::INVALID_CODE, line_no,
                  "duplicate code " + std::string(code) + " (first on line " + std::to_string(first) + ")");
    }

    Unit& unit = units.emplace_back();
    unit.set_code(code.data(), code.size());
    unit.set_level(layout.level);
    unit.set_name(name.data(), name.size());
    if (layout.fields > 2) unit.set_parent_code(fields.value[2].data(), fields.value[2].size());
    SetImpliedPartyOrganisation(&unit);
  }
  if (!header_seen) {
    return fail(reason::MALFORMED_CSV, 1, "missing header, expected \"" + JoinHeader(layout) + "\"");
  }
  return units;
}

}  // namespace grid
