// ShapeIndex options for benchmarks and tests only (tools/geobench,
// tests/engine/geo_test.cc), kept out of the public geo.h the way leveldb
// keeps its TEST_ hooks apart: the comparison R-tree first stage, the
// single-point lookup strategies, and copying a saved index into memory
// instead of mapping it. Production code uses geo.h alone.
//
// Thread-safety: as geo.h.
#pragma once

#include <string>
#include <vector>

#include "engine/file_access.h"
#include "engine/geo.h"
#include "engine/status.h"

namespace grid::geo::internal {

// The first stage: the hierarchical cell grid (ShapeIndex's), or a packed
// Boost.Geometry R-tree over the same records, for comparison. An R-tree
// index cannot be saved.
enum class FirstStage { kCellGrid, kRTree };

// Single-point strategies (same answers): kSerial tests each candidate
// record as the first stage finds it; kPrefetched (Locate's) first collects
// the candidates, prefetching each record, then tests them, so that their
// memory misses overlap.
enum class SingleLookup { kSerial, kPrefetched };

// kMap (Load's) keeps the file as opened (mapped read-only: nothing is
// copied). kRead copies it into the process's own memory (transparent huge
// pages where the kernel gives them: fewer TLB misses on random lookups, at
// the cost of a copy of the whole file and of its size in anonymous RSS).
enum class LoadMode { kMap, kRead };

struct ShapeIndexAccess {
  static ShapeIndex::Builder NewBuilder(FirstStage stage) { return ShapeIndex::Builder(stage); }
  static ShapeIndex Build(const std::vector<MultiPolygon>& shapes, FirstStage stage) {
    return ShapeIndex::Build(shapes, stage);
  }
  static std::vector<ShapeIndex::Hit> Locate(const ShapeIndex& index, Point p, SingleLookup how) {
    return index.Locate(p, how);
  }
  static StatusOr<ShapeIndex> Load(FileAccess& files, const std::string& path, std::string* label, LoadMode mode) {
    return ShapeIndex::Load(files, path, label, mode);
  }
};

}  // namespace grid::geo::internal
