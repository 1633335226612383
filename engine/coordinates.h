// Chinese coordinate systems and their published transforms: GCJ-02 (国测局
// 02, used by AMap/高德, Tencent maps and WeChat) and Baidu's BD-09, to and
// from WGS-84 (GPS). CGCS2000 (official maps) is taken as WGS-84: the two
// frames differ by centimetres, far below routing's precision.
//
// GCJ-02 is WGS-84 plus an offset of a few hundred metres defined by the
// published formula, inside a rectangle around China (OutsideChina below);
// outside it the transform is the identity, as the formula defines. Its
// inverse has no closed form: Gcj02ToWgs84 iterates the forward transform
// until the round trip agrees to 1e-9 degrees (about 0.1 mm), so
// Wgs84ToGcj02(Gcj02ToWgs84(p)) == p to that tolerance. BD-09 is GCJ-02 with
// Baidu's further published rotation and shift, applied everywhere; its
// inverse is refined the same way. Against points converted by Baidu's own
// service the public BD-09 formula agrees to about 10 m.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "engine/geo.h"
#include "grid/v1/directory.pb.h"

namespace grid::coords {

// The rectangle in which GCJ-02 differs from WGS-84 (lng 72.004..137.8347,
// lat 0.8293..55.8271), as the published transform defines it.
bool OutsideChina(geo::Point p);

geo::Point Wgs84ToGcj02(geo::Point wgs);
geo::Point Gcj02ToWgs84(geo::Point gcj);
geo::Point Gcj02ToBd09(geo::Point gcj);
geo::Point Bd09ToGcj02(geo::Point bd);

// A point in `system` converted to WGS-84 (the identity for WGS-84 and
// CGCS2000). An unknown enum value is treated as WGS-84; callers validate it
// first (validation.h: ValidateLocation).
geo::Point ToWgs84(geo::Point p, grid::v1::CoordinateSystem system);
geo::Point FromWgs84(geo::Point wgs, grid::v1::CoordinateSystem system);

// "WGS-84", "GCJ-02", "BD-09", "CGCS2000".
std::string_view SystemName(grid::v1::CoordinateSystem system);

}  // namespace grid::coords
