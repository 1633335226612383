// A tiny hand-made directory for tests: county 100 → town 100001 → community
// 100001001 → two square grids side by side, with members, departments and
// categories covering every handling.
//
//   grid 100001001001: lng [110.00, 110.01] x lat [20.00, 20.01]
//   grid 100001001002: lng [110.01, 110.02] x lat [20.00, 20.01] (shares an edge)
//
// AddUnit and AddSquare build further units for tests that extend it.
#pragma once

#include <string>

#include "grid/v1/directory.pb.h"

namespace grid::testing {

inline void AddSquare(grid::v1::Unit* u, double w, double s, double e, double n) {
  auto* ring = u->mutable_boundary()->add_polygons()->add_rings();
  for (auto [x, y] : {std::pair{w, s}, {e, s}, {e, n}, {w, n}}) {
    ring->add_lng(x);
    ring->add_lat(y);
  }
}

// Appends a unit to `c`; the unit, to add a boundary or coverage to.
inline grid::v1::Unit* AddUnit(grid::v1::DirectoryContent* c, const std::string& code, grid::v1::UnitLevel level,
                               const std::string& name, const std::string& parent) {
  auto* u = c->add_units();
  u->set_code(code);
  u->set_level(level);
  u->set_name(name);
  u->set_parent_code(parent);
  return u;
}

inline grid::v1::DirectoryContent TinyDirectory() {
  grid::v1::DirectoryContent c;
  auto unit = [&](const char* code, grid::v1::UnitLevel level, const char* name, const char* parent) {
    return AddUnit(&c, code, level, name, parent);
  };
  unit("100", grid::v1::UNIT_LEVEL_COUNTY, "测试县", "");
  unit("100001", grid::v1::UNIT_LEVEL_TOWN, "测试镇", "100");
  unit("100001001", grid::v1::UNIT_LEVEL_COMMUNITY, "测试社区", "100001");
  auto* g1 = unit("100001001001", grid::v1::UNIT_LEVEL_GRID, "第1网格", "100001001");
  AddSquare(g1, 110.00, 20.00, 110.01, 20.01);
  auto* a1 = g1->add_address_coverage();
  a1->set_street("文化北路");
  a1->set_from_number(1);
  a1->set_to_number(99);
  a1->set_parity(grid::v1::NUMBER_PARITY_ODD);
  auto* g2 = unit("100001001002", grid::v1::UNIT_LEVEL_GRID, "第2网格", "100001001");
  AddSquare(g2, 110.01, 20.00, 110.02, 20.01);
  auto* a2 = g2->add_address_coverage();
  a2->set_street("文化北路");
  a2->set_from_number(2);
  a2->set_to_number(98);
  a2->set_parity(grid::v1::NUMBER_PARITY_EVEN);
  auto* a3 = g2->add_address_coverage();
  a3->set_street("幸福巷");

  auto member = [&](const char* id, const char* name, const char* unit_code, bool on_duty,
                    std::initializer_list<const char*> skills) {
    auto* m = c.add_members();
    m->set_id(id);
    m->set_name(name);
    m->set_unit_code(unit_code);
    m->set_on_duty(on_duty);
    m->add_roles(grid::v1::MEMBER_ROLE_GRID_WORKER);
    for (const char* s : skills) m->add_skills(s);
  };
  member("M1", "张三", "100001001001", true, {});
  member("M2", "李四", "100001001001", false, {"medical"});
  member("M3", "王五", "100001001002", true, {});
  member("M4", "赵六", "100001001", true, {"medical"});

  auto dept = [&](const char* code, const char* name) {
    auto* d = c.add_departments();
    d->set_code(code);
    d->set_name(name);
    d->set_unit_code("100");
  };
  dept("dept.water", "水务局");
  dept("dept.police", "公安局");
  auto category = [&](const char* code, const char* name, grid::v1::Handling h,
                      std::initializer_list<const char*> depts, std::initializer_list<const char*> skills) {
    auto* k = c.add_categories();
    k->set_code(code);
    k->set_name(name);
    k->set_handling(h);
    for (const char* d : depts) k->add_department_codes(d);
    for (const char* s : skills) k->add_required_skills(s);
  };
  category("sanitation", "环境卫生", grid::v1::HANDLING_GRID, {}, {});
  category("water.burst", "水管爆裂", grid::v1::HANDLING_GRID_WITH_SUMMONS, {"dept.water"}, {});
  category("security", "治安", grid::v1::HANDLING_DEPARTMENT, {"dept.police"}, {});
  category("medical", "医疗帮助", grid::v1::HANDLING_GRID, {}, {"medical"});
  return c;
}

}  // namespace grid::testing
