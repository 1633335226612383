// A deterministic demo directory for 澄迈县 (county 469023, Hainan), built from
// its real 12 towns and 202 communities (data/chengmai/*.csv) and sized to the
// county's published figures (data/divisions/README.md): 322 grids with
// boundaries and address coverage, grid workers, 1,321 party-member pioneer
// posts, 2,457 in-service party members from 134 organisations, 150 senior
// seasonal-resident talents (21 medical), mobile party members, cadres holding
// the 416 back streets, 12 county departments and 13 case categories.
//
// Grids, members and names are invented (the county publishes no grid map);
// towns and communities are facts. Geometry: the county extent
// kDemoCountyExtent is cut into a 4 x 3 lattice of town cells placed roughly
// where the towns really are; a finer jittered lattice (48 x 36 cells, interior
// vertices moved by a fixed-seed PRNG) is shared by all grids, so the grids
// tile the extent with no gap and no overlap and neighbours share edges
// vertex for vertex.
//
// Thread-safety: stateless free functions and constants; safe to call
// concurrently.
#pragma once

#include <string_view>

#include "engine/status.h"
#include "grid/v1/directory.pb.h"

namespace grid {

struct DemoPoint {
  double lat = 0;
  double lng = 0;
};

struct DemoExtent {
  double south = 0, north = 0, west = 0, east = 0;
};

// The rectangle that the demo's grids tile exactly (WGS-84 degrees).
inline constexpr DemoExtent kDemoCountyExtent{19.45, 20.05, 109.75, 110.25};

inline constexpr std::string_view kDemoCountyCode = "469023";

// A point inside exactly one demo grid of 金江镇 (the county seat, near its real
// centre): the area centroid, rounded to 1e-6 degree, of 光明社区第1网格, pinned by
// demo_directory_test. That grid also holds a seasonal talent with the
// "medical" skill, so a health.medical_help case at this point can find a
// skilled assignee.
inline constexpr DemoPoint kDemoJinjiangPoint{19.718341, 110.018842};
inline constexpr std::string_view kDemoJinjiangTownCode = "469023100";          // 金江镇
inline constexpr std::string_view kDemoJinjiangCommunityCode = "469023100008";  // 光明社区
inline constexpr std::string_view kDemoJinjiangGridCode = "469023100008001";    // 光明社区第1网格

// The figures the demo reproduces exactly.
inline constexpr int kDemoGridCount = 322;
inline constexpr int kDemoPioneerPostCount = 1321;
inline constexpr int kDemoInServiceCount = 2457;
inline constexpr int kDemoOrganisationCount = 134;
inline constexpr int kDemoBackStreetCount = 416;
inline constexpr int kDemoSeniorTalentCount = 150;
inline constexpr int kDemoMedicalTalentCount = 21;
inline constexpr int kDemoMobileMemberCount = 60;

// Builds the demo directory from the towns and communities CSV text (the
// streets and villages formats of ParseDivisionCsv; file names in messages are
// "towns.csv" and "communities.csv").
//
// Output order: the county unit (root, 469023 澄迈县), the towns and the
// communities in file order, then the grids in code order (community code +
// 3 digits, "469023100014001"); members with ids "M000001".. in a fixed order;
// departments (codes "dept.*", at unit 469023); categories.
//
// Deterministic: the same input gives byte-identical output (no clock, no
// random device, no hash-order iteration).
//
// Errors: any ParseDivisionCsv error; InvalidArgument "DEMO_INPUT" when the
// input is not 澄迈县's (a town outside the county or missing from the layout,
// a community whose town is unknown, or communities too few or too many to
// carry the figures above).
//
// Cost: a few milliseconds.
grid::StatusOr<grid::v1::DirectoryContent> BuildChengmaiDemo(std::string_view towns_csv,
                                                             std::string_view communities_csv);

}  // namespace grid
