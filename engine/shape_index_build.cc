// ShapeIndex construction: encoding the shapes' polygons into records and
// building the first stage (the cell grid, or the comparison R-tree).
//
// Thread-safety: a Builder is used by one thread; the ShapeIndex it finishes
// is immutable.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "engine/geo.h"
#include "engine/shape_index_impl.h"

namespace grid::geo {
namespace {

class GridBuilder {
 public:
  GridBuilder(CellGrid& g, const FlatArray<Item>& items) : g_(g), items_(items) {}

  void Build() {
    const size_t n = items_.size();
    if (n == 0) return;
    int64_t x0 = std::numeric_limits<int64_t>::max(), y0 = x0;
    int64_t x1 = std::numeric_limits<int64_t>::min(), y1 = x1;
    for (const Item& it : items_) {
      x0 = std::min<int64_t>(x0, it.min_x);
      y0 = std::min<int64_t>(y0, it.min_y);
      x1 = std::max<int64_t>(x1, it.max_x);
      y1 = std::max<int64_t>(y1, it.max_y);
    }
    g_.x0 = x0, g_.y0 = y0, g_.x1 = x1, g_.y1 = y1;
    const double target = std::max<double>(static_cast<double>(n), 1.0);
    int s = kRelBits;
    auto ncols = [&](int sh) { return ((x1 - x0) >> sh) + 1; };
    auto nrows = [&](int sh) { return ((y1 - y0) >> sh) + 1; };
    while (static_cast<double>(ncols(s)) * static_cast<double>(nrows(s)) > target) ++s;
    g_.shift = s;
    g_.cols = static_cast<uint32_t>(ncols(s));
    g_.rows = static_cast<uint32_t>(nrows(s));
    const size_t ncells = static_cast<size_t>(g_.cols) * g_.rows;

    // Top-level lists (CSR of item indices).
    std::vector<uint32_t> start(ncells + 1, 0);
    std::vector<uint8_t> is_big(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Item& it = items_[i];
      const int64_t cx0 = (it.min_x - x0) >> s, cx1 = (it.max_x - x0) >> s;
      const int64_t cy0 = (it.min_y - y0) >> s, cy1 = (it.max_y - y0) >> s;
      if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > kBigCells) {
        is_big[i] = 1;
        g_.big.push_back(it.rec);
        continue;
      }
      for (int64_t cy = cy0; cy <= cy1; ++cy) {
        for (int64_t cx = cx0; cx <= cx1; ++cx) ++start[static_cast<size_t>(cy) * g_.cols + cx + 1];
      }
    }
    for (size_t c = 0; c < ncells; ++c) start[c + 1] += start[c];
    std::vector<uint32_t> list(start[ncells]);
    {
      std::vector<uint32_t> fill(start.begin(), start.end() - 1);
      for (size_t i = 0; i < n; ++i) {
        if (is_big[i]) continue;
        const Item& it = items_[i];
        const int64_t cx0 = (it.min_x - x0) >> s, cx1 = (it.max_x - x0) >> s;
        const int64_t cy0 = (it.min_y - y0) >> s, cy1 = (it.max_y - y0) >> s;
        for (int64_t cy = cy0; cy <= cy1; ++cy) {
          for (int64_t cx = cx0; cx <= cx1; ++cx) {
            list[fill[static_cast<size_t>(cy) * g_.cols + cx]++] = static_cast<uint32_t>(i);
          }
        }
      }
    }
    std::vector<uint8_t>().swap(is_big);
    g_.cells.resize(ncells);
    for (size_t c = 0; c < ncells; ++c) {
      const int64_t cx = static_cast<int64_t>(c % g_.cols), cy = static_cast<int64_t>(c / g_.cols);
      Emit(c, x0 + (cx << s), y0 + (cy << s), s, list.data() + start[c], start[c + 1] - start[c]);
    }
  }

 private:
  void Emit(size_t slot, int64_t ox, int64_t oy, int sh, const uint32_t* ids, size_t n) {
    if (n <= kLeafMax || sh - kSubBits < kRelBits) return Leaf(slot, ox, oy, sh, ids, n);
    const int csh = sh - kSubBits;
    constexpr int kChildren = 1 << (2 * kSubBits);
    constexpr int64_t kSide = 1 << kSubBits;
    size_t count[kChildren] = {};
    auto range = [&](const Item& it, int64_t& lx0, int64_t& lx1, int64_t& ly0, int64_t& ly1) {
      lx0 = std::clamp<int64_t>(it.min_x < ox ? -1 : (it.min_x - ox) >> csh, 0, kSide - 1);
      lx1 = std::clamp<int64_t>(it.max_x < ox ? -1 : (it.max_x - ox) >> csh, 0, kSide - 1);
      ly0 = std::clamp<int64_t>(it.min_y < oy ? -1 : (it.min_y - oy) >> csh, 0, kSide - 1);
      ly1 = std::clamp<int64_t>(it.max_y < oy ? -1 : (it.max_y - oy) >> csh, 0, kSide - 1);
    };
    for (size_t k = 0; k < n; ++k) {
      int64_t lx0, lx1, ly0, ly1;
      range(items_[ids[k]], lx0, lx1, ly0, ly1);
      for (int64_t ly = ly0; ly <= ly1; ++ly) {
        for (int64_t lx = lx0; lx <= lx1; ++lx) ++count[ly * kSide + lx];
      }
    }
    bool progress = false;
    for (size_t c : count) progress |= c < n;
    if (!progress) return Leaf(slot, ox, oy, sh, ids, n);
    size_t offset[kChildren + 1] = {};
    for (int c = 0; c < kChildren; ++c) offset[c + 1] = offset[c] + count[c];
    std::vector<uint32_t> buf(offset[kChildren]);
    size_t fill[kChildren];
    std::copy(offset, offset + kChildren, fill);
    for (size_t k = 0; k < n; ++k) {
      int64_t lx0, lx1, ly0, ly1;
      range(items_[ids[k]], lx0, lx1, ly0, ly1);
      for (int64_t ly = ly0; ly <= ly1; ++ly) {
        for (int64_t lx = lx0; lx <= lx1; ++lx) buf[fill[ly * kSide + lx]++] = ids[k];
      }
    }
    const size_t base = g_.cells.size();
    g_.cells.resize(base + kChildren);
    g_.cells[slot] = kSubgridFlag | base;
    for (int c = 0; c < kChildren; ++c) {
      const int64_t lx = c % kSide, ly = c / kSide;
      Emit(base + c, ox + (lx << csh), oy + (ly << csh), csh, buf.data() + offset[c], count[c]);
    }
  }

  void Leaf(size_t slot, int64_t ox, int64_t oy, int sh, const uint32_t* ids, size_t n) {
    const size_t begin = g_.entries.size();
    if (begin + n > std::numeric_limits<uint32_t>::max()) throw std::length_error("ShapeIndex: too many entries");
    const int r = sh - kRelBits;
    auto rel = [r](int64_t v, int64_t o) {
      return static_cast<uint8_t>(std::clamp<int64_t>(v < o ? -1 : (v - o) >> r, 0, 255));
    };
    for (size_t k = 0; k < n; ++k) {
      const Item& it = items_[ids[k]];
      g_.entries.push_back(
          LeafEntry{it.rec, rel(it.min_x, ox), rel(it.min_y, oy), rel(it.max_x, ox), rel(it.max_y, oy)});
    }
    g_.cells[slot] = static_cast<uint64_t>(begin) | (static_cast<uint64_t>(n) << 32);
  }

  CellGrid& g_;
  const FlatArray<Item>& items_;
};

}  // namespace

struct ShapeIndex::Builder::State {
  FirstStage stage;
  std::unique_ptr<Impl> impl = std::make_unique<Impl>();
  FlatArray<Item> items;
};

ShapeIndex::Builder::Builder() : Builder(FirstStage::kCellGrid) {}

ShapeIndex::Builder::Builder(FirstStage stage) : state_(std::make_unique<State>()) {
  state_->stage = stage;
  state_->impl->stage = stage;
}
ShapeIndex::Builder::~Builder() = default;
ShapeIndex::Builder::Builder(Builder&&) noexcept = default;
ShapeIndex::Builder& ShapeIndex::Builder::operator=(Builder&&) noexcept = default;

uint32_t ShapeIndex::Builder::Add(const MultiPolygon& shape) {
  Impl& impl = *state_->impl;
  if (impl.shape_recs.size() >= std::numeric_limits<uint32_t>::max() - 1) {
    throw std::length_error("ShapeIndex: too many shapes");
  }
  const uint32_t id = static_cast<uint32_t>(impl.shape_recs.size());
  impl.shape_recs.push_back(static_cast<uint32_t>(impl.words.size()));
  for (size_t k = 0; k < shape.polygons.size(); ++k) {
    if (auto item = impl.Append(shape.polygons[k], id, static_cast<uint32_t>(k))) state_->items.push_back(*item);
  }
  return id;
}

ShapeIndex ShapeIndex::Builder::Finish() {
  ShapeIndex index;
  index.impl_ = std::move(state_->impl);
  Impl& impl = *index.impl_;
  impl.shape_recs.push_back(static_cast<uint32_t>(impl.words.size()));
  const FlatArray<Item>& items = state_->items;
  if (impl.stage == FirstStage::kCellGrid) {
    GridBuilder(impl.grid, items).Build();
  } else {
    std::vector<TreeEntry> entries;
    entries.reserve(items.size());
    for (const Item& it : items) {
      entries.emplace_back(IBox(IPoint(it.min_x, it.min_y), IPoint(it.max_x, it.max_y)), it.rec);
    }
    // The range constructor bulk-loads (packs) the tree.
    impl.tree = std::make_unique<Tree>(entries.begin(), entries.end());
  }
  const FirstStage stage = state_->stage;
  state_ = std::make_unique<State>();
  state_->stage = stage;
  state_->impl->stage = stage;
  return index;
}

ShapeIndex::ShapeIndex() : impl_(std::make_unique<Impl>()) {}
ShapeIndex::~ShapeIndex() = default;
ShapeIndex::ShapeIndex(ShapeIndex&&) noexcept = default;
ShapeIndex& ShapeIndex::operator=(ShapeIndex&&) noexcept = default;

ShapeIndex ShapeIndex::Build(const std::vector<MultiPolygon>& shapes) { return Build(shapes, FirstStage::kCellGrid); }

ShapeIndex ShapeIndex::Build(const std::vector<MultiPolygon>& shapes, FirstStage stage) {
  assert(shapes.size() <= std::numeric_limits<uint32_t>::max());
  Builder builder(stage);
  for (const MultiPolygon& s : shapes) builder.Add(s);
  return builder.Finish();
}

}  // namespace grid::geo
