// The deterministic 澄迈县 demo directory (demo_directory.h).
//
// Thread-safety: stateless free functions; safe to call concurrently.
#include "tools/demo/demo_directory.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/reasons.h"
#include "import/divisions.h"

namespace grid {
namespace {

using grid::v1::AddressRange;
using grid::v1::Category;
using grid::v1::Contact;
using grid::v1::Department;
using grid::v1::DirectoryContent;
using grid::v1::Member;
using grid::v1::MemberRole;
using grid::v1::Unit;

// splitmix64 (Steele, Lea, Flood 2014): tiny, fixed-seed, the same on every
// platform.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double Fraction() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

constexpr uint64_t kGeometrySeed = 0x469023'0000'0001ull;
constexpr uint64_t kMemberNameSeed = 0x469023'0000'0002ull;
constexpr uint64_t kContactNameSeed = 0x469023'0000'0003ull;
constexpr uint64_t kAddressSeed = 0x469023'0000'0004ull;

// ---------------------------------------------------------------------------
// Layout.

// Town cells: a 4 x 3 lattice over the county extent, row 0 in the south.
// Positions follow the real map roughly: 桥头/福山/老城 on the northern coast,
// 金江 (county seat, ~19.74 N 110.01 E) in the middle of the southern half.
constexpr int kTownRows = 4;
constexpr int kTownCols = 3;
constexpr int kCellsPerTown = 12;  // lattice cells per town cell, each axis
constexpr int kRows = kTownRows * kCellsPerTown;
constexpr int kCols = kTownCols * kCellsPerTown;
constexpr double kJitter = 0.25;  // of a lattice cell, each axis: cells stay convex

struct TownPlace {
  std::string_view code;
  int row;  // 0 = south
  int col;  // 0 = west
};
constexpr std::array<TownPlace, 12> kTownPlaces{{
    {"469023109", 3, 0},  // 桥头镇: north-west coast
    {"469023108", 3, 1},  // 福山镇: north
    {"469023101", 3, 2},  // 老城镇: north-east coast (~19.95 N 110.12 E)
    {"469023405", 2, 0},  // 国营金安农场: west
    {"469023110", 2, 1},  // 大丰镇: between 金江 and 老城
    {"469023102", 2, 2},  // 瑞溪镇: east
    {"469023106", 1, 0},  // 中兴镇: south-west
    {"469023100", 1, 1},  // 金江镇: county seat (~19.74 N 110.01 E)
    {"469023103", 1, 2},  // 永发镇: south-east
    {"469023107", 0, 0},  // 仁兴镇: south-west
    {"469023104", 0, 1},  // 加乐镇: south
    {"469023105", 0, 2},  // 文儒镇: south-east
}};

constexpr std::string_view kSeatTownCode = "469023100";  // 金江镇: all its 社区 are seats

struct Vertex {
  double lat;
  double lng;
};

double Round7(double degrees) { return std::round(degrees * 1e7) / 1e7; }

// (kRows + 1) x (kCols + 1) vertices; interior ones jittered, those on the
// extent's edges only along the edge, the corners fixed.
std::vector<Vertex> BuildLattice() {
  const DemoExtent& e = kDemoCountyExtent;
  const double dlat = (e.north - e.south) / kRows;
  const double dlng = (e.east - e.west) / kCols;
  SplitMix64 rng(kGeometrySeed);
  std::vector<Vertex> v;
  v.reserve((kRows + 1) * (kCols + 1));
  for (int i = 0; i <= kRows; ++i) {
    for (int j = 0; j <= kCols; ++j) {
      const double ulat = rng.Fraction() - 0.5;
      const double ulng = rng.Fraction() - 0.5;
      double lat = e.south + i * dlat;
      double lng = e.west + j * dlng;
      if (i == kRows) lat = e.north;
      if (j == kCols) lng = e.east;
      if (i > 0 && i < kRows) lat += 2 * kJitter * ulat * dlat;
      if (j > 0 && j < kCols) lng += 2 * kJitter * ulng * dlng;
      v.push_back({Round7(lat), Round7(lng)});
    }
  }
  return v;
}

// A rectangle of lattice cells: rows [i0, i1), columns [j0, j1).
struct Block {
  int i0, i1, j0, j1;
};

// The block's outline through every lattice vertex on it, counter-clockwise
// (south edge west to east first), without the repeated closing point.
grid::v1::Polygon BlockPolygon(const std::vector<Vertex>& lattice, const Block& b) {
  grid::v1::Polygon polygon;
  grid::v1::Ring* ring = polygon.add_rings();
  auto push = [&](int i, int j) {
    const Vertex& p = lattice[static_cast<size_t>(i) * (kCols + 1) + j];
    ring->add_lng(p.lng);
    ring->add_lat(p.lat);
  };
  for (int j = b.j0; j < b.j1; ++j) push(b.i0, j);
  for (int i = b.i0; i < b.i1; ++i) push(i, b.j1);
  for (int j = b.j1; j > b.j0; --j) push(b.i1, j);
  for (int i = b.i1; i > b.i0; --i) push(i, b.j0);
  return polygon;
}

int RoundDiv(int a, int b) { return (2 * a + b) / (2 * b); }

// Cuts the h x w cells at (row0, col0) into n rectangles: s horizontal strips
// (north first), each cut into columns, in snake order so that consecutive
// blocks always share an edge. Empty when impossible.
std::vector<Block> PartitionTown(int row0, int col0, int h, int w, int n) {
  std::vector<Block> blocks;
  if (n <= 0 || n > h * w) return blocks;
  int s = 1;
  while (s * s * w < n * h) ++s;  // about sqrt(n h / w): blocks near square
  if (s > h) s = h;
  if (s > n) s = n;
  while (s < h && (n + s - 1) / s > w) ++s;
  if ((n + s - 1) / s > w) return blocks;
  for (int k = 0; k < s; ++k) {
    const int top = row0 + h - RoundDiv(h * k, s);
    const int bottom = row0 + h - RoundDiv(h * (k + 1), s);
    const int count = n / s + (k < n % s ? 1 : 0);
    std::vector<Block> strip;
    for (int c = 0; c < count; ++c) {
      strip.push_back({bottom, top, col0 + RoundDiv(w * c, count), col0 + RoundDiv(w * (c + 1), count)});
    }
    if (k % 2 == 1) std::reverse(strip.begin(), strip.end());
    blocks.insert(blocks.end(), strip.begin(), strip.end());
  }
  return blocks;
}

// ---------------------------------------------------------------------------
// Names.

constexpr std::array<std::string_view, 32> kSurnames{"王", "陈", "林", "李", "吴", "符", "黄", "周", "张", "冯", "曾",
                                                     "邢", "莫", "杨", "许", "梁", "何", "郑", "蔡", "钟", "羊", "邓",
                                                     "刘", "谢", "潘", "唐", "云", "洪", "文", "韩", "麦", "吉"};
constexpr std::array<std::string_view, 48> kGivenChars{
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "英", "华", "慧", "建", "国", "平", "海", "生", "文", "春", "红", "玲", "志", "光",
    "晓", "东", "云", "辉", "成", "德", "永", "兴", "福", "宝", "清", "雪", "梅", "兰", "婷", "琼"};

std::string PersonName(SplitMix64& rng) {
  std::string name(kSurnames[rng.Below(kSurnames.size())]);
  name += kGivenChars[rng.Below(kGivenChars.size())];
  if (rng.Below(3) != 0) name += kGivenChars[rng.Below(kGivenChars.size())];
  return name;
}

std::string Numbered(const char* format, int n) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, n);
  return buffer;
}

// 1..99 in Chinese numerals: 一, 十, 十一, 二十, 二十一.
std::string ChineseNumber(int n) {
  static constexpr std::array<std::string_view, 10> kDigits{"", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  std::string out;
  if (n >= 10) {
    if (n >= 20) out += kDigits[n / 10];
    out += "十";
  }
  out += kDigits[n % 10];
  return out;
}

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// County-level organisations with party members in service (双报到); the
// towns add their government, health centre and school.
constexpr std::array<std::string_view, 98> kCountyOrganisations{
    "中共澄迈县委办公室",
    "中共澄迈县委组织部",
    "中共澄迈县委宣传部",
    "中共澄迈县委统战部",
    "中共澄迈县委政法委员会",
    "中共澄迈县委党校",
    "澄迈县纪委监委",
    "澄迈县人大常委会机关",
    "澄迈县政协机关",
    "澄迈县人民政府办公室",
    "澄迈县人民法院",
    "澄迈县人民检察院",
    "澄迈县发展和改革委员会",
    "澄迈县教育局",
    "澄迈县科学技术和工业信息化局",
    "澄迈县公安局",
    "澄迈县民政局",
    "澄迈县司法局",
    "澄迈县财政局",
    "澄迈县人力资源和社会保障局",
    "澄迈县自然资源和规划局",
    "澄迈县生态环境局",
    "澄迈县住房和城乡建设局",
    "澄迈县交通运输局",
    "澄迈县水务局",
    "澄迈县农业农村局",
    "澄迈县商务局",
    "澄迈县旅游和文化广电体育局",
    "澄迈县卫生健康委员会",
    "澄迈县退役军人事务局",
    "澄迈县应急管理局",
    "澄迈县审计局",
    "澄迈县市场监督管理局",
    "澄迈县统计局",
    "澄迈县医疗保障局",
    "澄迈县综合行政执法局",
    "澄迈县乡村振兴局",
    "澄迈县林业局",
    "澄迈县信访局",
    "澄迈县机关事务管理局",
    "澄迈县行政审批服务局",
    "澄迈县总工会",
    "共青团澄迈县委员会",
    "澄迈县妇女联合会",
    "澄迈县残疾人联合会",
    "澄迈县工商业联合会",
    "澄迈县科学技术协会",
    "澄迈县档案馆",
    "澄迈县融媒体中心",
    "澄迈县气象局",
    "国家税务总局澄迈县税务局",
    "澄迈县消防救援大队",
    "澄迈县人民武装部",
    "澄迈县疾病预防控制中心",
    "澄迈县人民医院",
    "澄迈县中医院",
    "澄迈县妇幼保健院",
    "澄迈县第二人民医院",
    "澄迈中学",
    "澄迈县第二中学",
    "澄迈县第三中学",
    "澄迈思源实验学校",
    "澄迈县实验小学",
    "澄迈县第二小学",
    "澄迈县职业中等专业学校",
    "澄迈县实验幼儿园",
    "海南电网澄迈供电局",
    "澄迈县自来水公司",
    "中国邮政集团澄迈县分公司",
    "中国电信澄迈分公司",
    "中国移动澄迈分公司",
    "中国联通澄迈分公司",
    "澄迈县农村信用合作联社",
    "中国农业银行澄迈支行",
    "中国工商银行澄迈支行",
    "中国建设银行澄迈支行",
    "中国银行澄迈支行",
    "海南老城经济开发区管理委员会",
    "海南生态软件园",
    "澄迈县城市投资建设有限公司",
    "澄迈县交通建设投资有限公司",
    "澄迈县公共交通有限公司",
    "澄迈县供销合作联社",
    "澄迈县烟草专卖局",
    "澄迈县粮食储备库",
    "海南省住房公积金管理局澄迈县办事处",
    "澄迈县不动产登记中心",
    "澄迈县社会保险服务中心",
    "澄迈县公共资源交易中心",
    "澄迈县政务服务中心",
    "澄迈县图书馆",
    "澄迈县文化馆",
    "澄迈县博物馆",
    "澄迈县规划设计院",
    "澄迈县动物疫病预防控制中心",
    "澄迈县农业技术推广中心",
    "澄迈县水文水资源勘测站",
    "澄迈县殡葬管理所",
};

// The 134 organisations whose party members report to communities (双报到).
std::vector<std::string> Organisations(const std::vector<const Unit*>& towns) {
  std::vector<std::string> out(kCountyOrganisations.begin(), kCountyOrganisations.end());
  for (const Unit* town : towns) {
    const std::string& name = town->name();
    const bool is_town = EndsWith(name, "镇");
    out.push_back(name + (is_town ? "人民政府" : "公司"));
    out.push_back(name + (is_town ? "卫生院" : "医院"));
    out.push_back(name + (is_town ? "中心学校" : "学校"));
  }
  return out;
}

struct DepartmentSpec {
  std::string_view code;
  std::string_view name;
};
constexpr std::array<DepartmentSpec, 12> kDepartments{{
    {"dept.housing", "澄迈县住房和城乡建设局"},
    {"dept.city_management", "澄迈县综合行政执法局"},
    {"dept.police", "澄迈县公安局"},
    {"dept.health", "澄迈县卫生健康委员会"},
    {"dept.water", "澄迈县水务局"},
    {"dept.power", "澄迈供电局"},
    {"dept.natural_resources", "澄迈县自然资源和规划局"},
    {"dept.ecology", "澄迈县生态环境局"},
    {"dept.transport", "澄迈县交通运输局"},
    {"dept.market", "澄迈县市场监督管理局"},
    {"dept.emergency", "澄迈县应急管理局"},
    {"dept.civil_affairs", "澄迈县民政局"},
}};

struct CategorySpec {
  std::string_view code;
  std::string_view name;
  grid::v1::Handling handling;
  std::array<std::string_view, 2> departments;  // empty entries unused
  std::string_view skill;
  std::string_view deadline_class;
};
constexpr std::array<CategorySpec, 13> kCategories{{
    {"sanitation.garbage", "环境卫生（垃圾清运）", grid::v1::HANDLING_GRID, {}, "", "general"},
    {"road.damage", "道路破损", grid::v1::HANDLING_GRID_WITH_SUMMONS, {"dept.transport"}, "", "general"},
    {"water.main_burst", "供水管道爆裂", grid::v1::HANDLING_GRID_WITH_SUMMONS, {"dept.water"}, "", "utilities"},
    {"power.outage", "停电", grid::v1::HANDLING_DEPARTMENT, {"dept.power"}, "", "utilities"},
    {"illegal_construction",
     "违法建设",
     grid::v1::HANDLING_GRID_WITH_SUMMONS,
     {"dept.housing", "dept.city_management"},
     "",
     "complex"},
    {"noise", "噪声扰民", grid::v1::HANDLING_GRID, {}, "", "general"},
    {"environment.pollution", "环境污染", grid::v1::HANDLING_DEPARTMENT, {"dept.ecology"}, "", "general"},
    {"public_security", "治安问题", grid::v1::HANDLING_DEPARTMENT, {"dept.police"}, "", "emergency"},
    {"health.medical_help", "紧急医疗求助", grid::v1::HANDLING_GRID, {}, "medical", "emergency"},
    {"neighbour.dispute", "邻里纠纷", grid::v1::HANDLING_GRID, {}, "legal", "general"},
    {"elderly.care", "养老服务", grid::v1::HANDLING_GRID, {}, "elderly_care", "general"},
    {"market.food_safety", "食品安全", grid::v1::HANDLING_DEPARTMENT, {"dept.market"}, "", "general"},
    {"other", "其他", grid::v1::HANDLING_GRID, {}, "", "general"},
}};

constexpr std::array<std::string_view, 5> kTalentSkills{"legal", "education", "agriculture", "elderly_care", "medical"};

// ---------------------------------------------------------------------------
// The build.

struct CommunityInfo {
  const Unit* unit = nullptr;
  size_t town = 0;
  std::string short_name;
  bool shequ = false;  // 社区 (README's count of 37): more grids
  bool urban = false;  // 社区 or 居: streets rather than village lanes
  int grids = 1;
  std::string road;        // main road of the community
  std::string alley_stem;  // alleys: alley_stem + 一 + 巷
  int next_alley = 1;
};

struct AlleyInfo {
  std::string name;
  int to_number = 0;
  std::string member_id;
};

struct GridInfo {
  size_t community = 0;
  int number = 0;  // 1-based within the community
  Block block{};
  std::string code;
  std::string worker_id, worker_name, worker_phone;
  std::vector<AlleyInfo> alleys;
};

grid::Status DemoInput(const std::string& what) { return grid::Error(reason::DEMO_INPUT, what); }

// Street names of a community: 社区 / 居 get "<stem>路" and "<stem>路一巷";
// villages "<name>主街" and "<name>一巷"; farm residential areas
// (国营金安农场潭烈作业生活区) "潭烈路".
void NameStreets(CommunityInfo& c) {
  std::string stem = c.short_name;
  auto strip_prefix = [&](std::string_view p) {
    if (stem.compare(0, p.size(), p) == 0) stem.erase(0, p.size());
  };
  auto strip_suffix = [&](std::string_view s) {
    if (EndsWith(stem, s)) stem.erase(stem.size() - s.size());
  };
  strip_prefix("国营");
  if (const size_t farm = stem.find("农场"); farm != std::string::npos) {
    stem.erase(0, farm + std::string_view("农场").size());
  }
  if (c.urban) {
    strip_suffix("社区");
    strip_suffix("居");
    c.road = stem + "路";
    c.alley_stem = c.road;
  } else if (EndsWith(stem, "村")) {
    c.road = stem + "主街";
    c.alley_stem = stem;
  } else {
    strip_suffix("作业生活区");
    strip_suffix("生活区");
    c.road = stem + "路";
    c.alley_stem = c.road;
  }
}

}  // namespace

grid::StatusOr<DirectoryContent> BuildChengmaiDemo(std::string_view towns_csv, std::string_view communities_csv) {
  auto towns_or = ParseDivisionCsv("towns.csv", towns_csv, DivisionFile::kStreets);
  if (!towns_or.ok()) return towns_or.status();
  auto communities_or = ParseDivisionCsv("communities.csv", communities_csv, DivisionFile::kVillages);
  if (!communities_or.ok()) return communities_or.status();
  const std::vector<Unit>& town_units = *towns_or;
  const std::vector<Unit>& community_units = *communities_or;

  // Towns and their places.
  std::vector<const Unit*> towns;
  std::vector<const TownPlace*> places;
  std::map<std::string, size_t> town_index;
  for (const Unit& t : town_units) {
    if (t.parent_code() != kDemoCountyCode) {
      return DemoInput("town " + t.code() + " is not in county " + std::string(kDemoCountyCode));
    }
    const TownPlace* place = nullptr;
    for (const TownPlace& p : kTownPlaces) {
      if (p.code == t.code()) place = &p;
    }
    if (place == nullptr) return DemoInput("town " + t.code() + " has no place in the layout");
    town_index[t.code()] = towns.size();
    towns.push_back(&t);
    places.push_back(place);
  }
  if (towns.size() != kTownPlaces.size()) {
    return DemoInput("expected " + std::to_string(kTownPlaces.size()) + " towns, got " + std::to_string(towns.size()));
  }

  // Communities, their classes and street names.
  std::vector<CommunityInfo> communities;
  std::vector<std::vector<size_t>> town_communities(towns.size());
  for (const Unit& u : community_units) {
    auto it = town_index.find(u.parent_code());
    if (it == town_index.end()) {
      return DemoInput("community " + u.code() + " is in unknown town " + u.parent_code());
    }
    CommunityInfo& c = communities.emplace_back();
    c.unit = &u;
    c.town = it->second;
    c.short_name = CommunityShortName(u.name());
    c.shequ = Contains(c.short_name, "社区");
    c.urban = c.shequ || EndsWith(c.short_name, "居");
    NameStreets(c);
    town_communities[c.town].push_back(communities.size() - 1);
  }
  {
    // Two communities with the same street names (村头村 in 金江 and 文儒):
    // write the town in front, as addresses do.
    std::map<std::string, int> uses;
    for (const CommunityInfo& c : communities) ++uses[c.road];
    for (CommunityInfo& c : communities) {
      if (uses[c.road] > 1) {
        c.road = towns[c.town]->name() + c.road;
        c.alley_stem = towns[c.town]->name() + c.alley_stem;
      }
    }
  }

  // Grids per community: 1 each; then 社区 2; seats (every 社区 of the county
  // seat, the first 社区 of other towns) 3, then 4; other 社区 3; then villages 2,
  // one per town in turn; until kDemoGridCount.
  int budget = kDemoGridCount - static_cast<int>(communities.size());
  if (budget < 0) return DemoInput("too many communities for " + std::to_string(kDemoGridCount) + " grids");
  auto raise = [&](size_t index, int target) {
    if (budget > 0 && communities[index].grids < target) {
      ++communities[index].grids;
      --budget;
    }
  };
  std::vector<size_t> seats, other_shequ;
  for (size_t t = 0; t < towns.size(); ++t) {
    bool first = true;
    for (size_t index : town_communities[t]) {
      if (!communities[index].shequ) continue;
      if (towns[t]->code() == kSeatTownCode || first) {
        seats.push_back(index);
      } else {
        other_shequ.push_back(index);
      }
      first = false;
    }
  }
  for (size_t i = 0; i < communities.size(); ++i) {
    if (communities[i].shequ) raise(i, 2);
  }
  for (int target : {3, 4}) {
    for (size_t index : seats) raise(index, target);
  }
  for (size_t index : other_shequ) raise(index, 3);
  for (size_t round = 0; budget > 0; ++round) {
    bool any = false;
    for (size_t t = 0; t < towns.size(); ++t) {
      size_t seen = 0;
      for (size_t index : town_communities[t]) {
        if (communities[index].shequ) continue;
        if (seen++ == round) {
          raise(index, 2);
          any = true;
        }
      }
    }
    if (!any) break;
  }
  if (budget > 0) {
    return DemoInput("too few communities for " + std::to_string(kDemoGridCount) + " grids");
  }

  // Geometry: each town's cell cut into its grids, in community order.
  const std::vector<Vertex> lattice = BuildLattice();
  std::vector<GridInfo> grids;
  grids.reserve(kDemoGridCount);
  for (size_t t = 0; t < towns.size(); ++t) {
    int n = 0;
    for (size_t index : town_communities[t]) n += communities[index].grids;
    const std::vector<Block> blocks =
        PartitionTown(places[t]->row * kCellsPerTown, places[t]->col * kCellsPerTown, kCellsPerTown, kCellsPerTown, n);
    if (blocks.empty()) {
      return DemoInput("town " + towns[t]->code() + " cannot hold " + std::to_string(n) + " grids");
    }
    size_t next = 0;
    for (size_t index : town_communities[t]) {
      for (int k = 1; k <= communities[index].grids; ++k) {
        GridInfo& g = grids.emplace_back();
        g.community = index;
        g.number = k;
        g.block = blocks[next++];
        g.code = communities[index].unit->code() + Numbered("%03d", k);
      }
    }
  }
  // Grids in code order (towns are laid out in layout order above).
  std::sort(grids.begin(), grids.end(), [](const GridInfo& a, const GridInfo& b) { return a.code < b.code; });

  // Back streets: one alley per grid, a second one for urban grids spread
  // evenly, kDemoBackStreetCount in all.
  {
    std::vector<size_t> urban;
    for (size_t i = 0; i < grids.size(); ++i) {
      if (communities[grids[i].community].urban) urban.push_back(i);
    }
    const int extra = kDemoBackStreetCount - static_cast<int>(grids.size());
    if (extra < 0 || extra > static_cast<int>(urban.size())) {
      return DemoInput("cannot place " + std::to_string(kDemoBackStreetCount) + " back streets");
    }
    std::vector<int> alley_count(grids.size(), 1);
    for (size_t k = 0; k < urban.size(); ++k) {
      const size_t e = static_cast<size_t>(extra);
      const size_t share = (k + 1) * e / urban.size() - k * e / urban.size();
      alley_count[urban[k]] += static_cast<int>(share);
    }
    SplitMix64 rng(kAddressSeed);
    for (size_t i = 0; i < grids.size(); ++i) {
      CommunityInfo& c = communities[grids[i].community];
      for (int a = 0; a < alley_count[i]; ++a) {
        AlleyInfo alley;
        alley.name = c.alley_stem + ChineseNumber(c.next_alley++) + "巷";
        alley.to_number = 12 + 2 * static_cast<int>(rng.Below(30));
        grids[i].alleys.push_back(std::move(alley));
      }
    }
  }

  DirectoryContent content;
  SplitMix64 member_names(kMemberNameSeed);
  SplitMix64 contact_names(kContactNameSeed);
  int member_seq = 0;
  int contact_seq = 0;
  auto add_member = [&](MemberRole role, const std::string& unit_code, bool party_member) {
    Member* m = content.add_members();
    ++member_seq;
    m->set_id(Numbered("M%06d", member_seq));
    m->set_name(PersonName(member_names));
    m->set_phone(Numbered("1380000%04d", member_seq));
    m->add_roles(role);
    m->set_unit_code(unit_code);
    m->set_party_member(party_member);
    return m;
  };
  auto contact = [&](std::string_view duty) {
    Contact c;
    ++contact_seq;
    c.set_name(PersonName(contact_names));
    c.set_phone(Numbered("1390000%04d", contact_seq));
    c.set_duty(std::string(duty));
    return c;
  };

  // Members. Grid workers and pioneer posts, grid by grid.
  for (size_t i = 0; i < grids.size(); ++i) {
    GridInfo& g = grids[i];
    Member* worker = add_member(grid::v1::MEMBER_ROLE_GRID_WORKER, g.code, true);
    worker->set_on_duty(true);
    g.worker_id = worker->id();
    g.worker_name = worker->name();
    g.worker_phone = worker->phone();
    const size_t n = grids.size();
    const size_t posts = (i + 1) * kDemoPioneerPostCount / n - i * kDemoPioneerPostCount / n;
    for (size_t p = 0; p < posts; ++p) {
      add_member(grid::v1::MEMBER_ROLE_PIONEER_POST, g.code, true);
    }
  }
  // In-service party members: 社区 weigh three, villages one, round robin;
  // employers cycle through the organisations.
  {
    const std::vector<std::string> organisations = Organisations(towns);
    if (organisations.size() != static_cast<size_t>(kDemoOrganisationCount)) {
      return grid::Error(reason::DEMO_ORGANISATIONS, std::to_string(organisations.size()) + " organisations");
    }
    std::vector<size_t> slots;
    for (size_t i = 0; i < communities.size(); ++i) {
      for (int s = 0; s < (communities[i].shequ ? 3 : 1); ++s) slots.push_back(i);
    }
    for (int i = 0; i < kDemoInServiceCount; ++i) {
      Member* m = add_member(grid::v1::MEMBER_ROLE_IN_SERVICE, communities[slots[i % slots.size()]].unit->code(), true);
      m->set_employer(organisations[i % organisations.size()]);
    }
  }
  // Senior seasonal-resident talents, spread over urban grids; every seventh
  // is medical (21 of 150).
  {
    std::vector<size_t> urban;
    for (size_t i = 0; i < grids.size(); ++i) {
      if (communities[grids[i].community].urban) urban.push_back(i);
    }
    for (int i = 0; i < kDemoSeniorTalentCount; ++i) {
      const GridInfo& g = grids[urban[static_cast<size_t>(i) * urban.size() / kDemoSeniorTalentCount]];
      Member* m = add_member(grid::v1::MEMBER_ROLE_SEASONAL_TALENT, g.code, i % 3 == 0);
      m->set_on_duty(true);
      const bool medical = i % 7 == 6 && i / 7 < kDemoMedicalTalentCount;
      m->add_skills(std::string(medical ? kTalentSkills[4] : kTalentSkills[(i % 7) % 4]));
    }
  }
  // Mobile party members, spread over communities.
  for (int i = 0; i < kDemoMobileMemberCount; ++i) {
    add_member(grid::v1::MEMBER_ROLE_MOBILE,
               communities[static_cast<size_t>(i) * communities.size() / kDemoMobileMemberCount].unit->code(), true);
  }
  // Cadres: each holds up to two back streets of one community as 包点.
  {
    std::vector<std::vector<AlleyInfo*>> by_community(communities.size());
    for (GridInfo& g : grids) {
      for (AlleyInfo& a : g.alleys) by_community[g.community].push_back(&a);
    }
    for (size_t c = 0; c < communities.size(); ++c) {
      const std::vector<AlleyInfo*>& alleys = by_community[c];
      for (size_t k = 0; k < alleys.size(); k += 2) {
        Member* m = add_member(grid::v1::MEMBER_ROLE_CADRE, communities[c].unit->code(), true);
        for (size_t a = k; a < alleys.size() && a < k + 2; ++a) {
          alleys[a]->member_id = m->id();
          m->add_responsibility_points(alleys[a]->name);
        }
      }
    }
  }
  if (member_seq > 9999) return grid::Error(reason::DEMO_PHONES, "more than 9999 members");

  // Units: the county, towns, communities, grids.
  {
    Unit* county = content.add_units();
    county->set_code(std::string(kDemoCountyCode));
    county->set_level(grid::v1::UNIT_LEVEL_COUNTY);
    county->set_name("澄迈县");
    *county->mutable_party_organisation() = PartyOrganisationFor(grid::v1::UNIT_LEVEL_COUNTY, county->name());
    *county->add_on_duty() = contact("值班");
  }
  for (const Unit* t : towns) {
    Unit* u = content.add_units();
    *u = *t;
    *u->add_on_duty() = contact("值班");
  }
  for (const CommunityInfo& c : communities) {
    Unit* u = content.add_units();
    *u = *c.unit;
    *u->add_on_duty() = contact("值班");
  }
  for (const GridInfo& g : grids) {
    const CommunityInfo& c = communities[g.community];
    Unit* u = content.add_units();
    u->set_code(g.code);
    u->set_level(grid::v1::UNIT_LEVEL_GRID);
    u->set_name(c.short_name + "第" + std::to_string(g.number) + "网格");
    u->set_parent_code(c.unit->code());
    grid::v1::PartyOrganisation* org = u->mutable_party_organisation();
    org->set_name(u->name() + "党小组");
    org->set_kind("网格党小组");
    org->set_secretary_member_id(g.worker_id);
    Contact* on_duty = u->add_on_duty();
    on_duty->set_name(g.worker_name);
    on_duty->set_phone(g.worker_phone);
    on_duty->set_duty("网格员");
    *u->mutable_boundary()->add_polygons() = BlockPolygon(lattice, g.block);
    AddressRange* road = u->add_address_coverage();
    road->set_street(c.road);
    road->set_from_number((g.number - 1) * 100 + 1);
    road->set_to_number(g.number * 100);
    for (const AlleyInfo& a : g.alleys) {
      AddressRange* alley = u->add_address_coverage();
      alley->set_street(a.name);
      alley->set_from_number(1);
      alley->set_to_number(a.to_number);
      alley->set_member_id(a.member_id);
    }
  }

  for (const DepartmentSpec& spec : kDepartments) {
    Department* d = content.add_departments();
    d->set_code(std::string(spec.code));
    d->set_name(std::string(spec.name));
    d->set_unit_code(std::string(kDemoCountyCode));
    *d->add_on_duty() = contact("值班");
  }
  for (const CategorySpec& spec : kCategories) {
    Category* c = content.add_categories();
    c->set_code(std::string(spec.code));
    c->set_name(std::string(spec.name));
    c->set_handling(spec.handling);
    for (std::string_view d : spec.departments) {
      if (!d.empty()) c->add_department_codes(std::string(d));
    }
    if (!spec.skill.empty()) c->add_required_skills(std::string(spec.skill));
    c->set_deadline_class(std::string(spec.deadline_class));
  }
  return content;
}

}  // namespace grid
