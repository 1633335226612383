// gridctl submit, get, unit and route: their flags, the call, and what they
// print. See case_commands.h.
#include "tools/gridctl/case_commands.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "grid/v1/service.grpc.pb.h"
#include "tools/gridctl/output.h"

namespace grid::tools::gridctl {
namespace {

namespace v1 = grid::v1;

v1::Priority ParsePriority(const std::string& s) {
  if (s == "urgent") return v1::PRIORITY_URGENT;
  if (s == "emergency") return v1::PRIORITY_EMERGENCY;
  return v1::PRIORITY_NORMAL;
}

v1::Channel ParseChannel(const std::string& s) {
  static const std::map<std::string, v1::Channel> m = {
      {"phone", v1::CHANNEL_PHONE},   {"web", v1::CHANNEL_WEB},         {"app", v1::CHANNEL_APP},
      {"wechat", v1::CHANNEL_WECHAT}, {"walk_in", v1::CHANNEL_WALK_IN}, {"grid_patrol", v1::CHANNEL_GRID_PATROL}};
  auto it = m.find(s);
  return it == m.end() ? v1::CHANNEL_PHONE : it->second;
}

// --crs: the coordinate system of --lat/--lon.
CLI::Option* AddCrsOption(CLI::App* cmd, std::string* crs) {
  return cmd
      ->add_option("--crs", *crs,
                   "coordinate system of --lat/--lon: wgs84 (GPS), gcj02 (AMap, Tencent, WeChat), bd09 (Baidu), "
                   "cgcs2000")
      ->capture_default_str()
      ->check(CLI::IsMember({"wgs84", "gcj02", "bd09", "cgcs2000"}));
}

v1::CoordinateSystem ParseCoordinateSystem(const std::string& crs) {
  if (crs == "gcj02") return v1::COORDINATE_SYSTEM_GCJ02;
  if (crs == "bd09") return v1::COORDINATE_SYSTEM_BD09;
  if (crs == "cgcs2000") return v1::COORDINATE_SYSTEM_CGCS2000;
  return v1::COORDINATE_SYSTEM_WGS84;
}

class Cases final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    sub_ = app.add_subcommand("submit", "submit a citizen case");
    sub_->add_option("--category", *submit_.mutable_category(), "category code")->required();
    sub_->add_option("--description", *submit_.mutable_description(), "what the citizen reported")->required();
    lat_opt_ = sub_->add_option("--lat", lat_, "latitude (WGS-84 unless --crs)");
    auto* lon_opt = sub_->add_option("--lon", lon_, "longitude (WGS-84 unless --crs)");
    lat_opt_->needs(lon_opt);
    lon_opt->needs(lat_opt_);
    AddCrsOption(sub_, &crs_)->needs(lat_opt_);
    sub_->add_option("--address", *submit_.mutable_address(), "address text");
    sub_->add_option("--unit", *submit_.mutable_unit_code(), "the responsible unit, if the operator knows it");
    sub_->add_option("--idempotency-key", *submit_.mutable_idempotency_key(),
                     "retry key: the same key returns the same case");
    sub_->add_option("--name", name_, "citizen's name");
    sub_->add_option("--phone", phone_, "citizen's phone");
    sub_->add_option("--priority", priority_, "normal, urgent or emergency")
        ->capture_default_str()
        ->check(CLI::IsMember({"normal", "urgent", "emergency"}));
    sub_->add_option("--channel", channel_, "phone, web, app, wechat, walk_in, grid_patrol")
        ->capture_default_str()
        ->check(CLI::IsMember({"phone", "web", "app", "wechat", "walk_in", "grid_patrol"}));
    sub_->add_option("--attachment", attachments_, "attachment URL (repeatable)");

    get_ = app.add_subcommand("get", "show a case and its history");
    get_->add_option("id", case_id_, "case id")->required();

    auto* case_group = app.add_subcommand("case", "audited actions on one case");
    case_group->require_subcommand(1);
    reveal_ = case_group->add_subcommand("reveal", "show the citizen's name and phone, recorded in the case's history");
    reveal_->add_option("id", *reveal_req_.mutable_case_id(), "case id")->required();
    reveal_->add_option("--reason", *reveal_req_.mutable_note(), "why the citizen's data is needed (recorded)")
        ->required();

    unit_ = app.add_subcommand("unit", "show a unit, its ancestors, children and members");
    unit_->add_option("code", unit_code_, "unit code")->required();

    route_cmd_ = app.add_subcommand("route", "where would a case go, and why (creates nothing)");
    route_cmd_->add_option("--category", *route_.mutable_category(), "category code")->required();
    rlat_opt_ = route_cmd_->add_option("--lat", rlat_, "latitude");
    auto* rlon_opt = route_cmd_->add_option("--lon", rlon_, "longitude");
    rlat_opt_->needs(rlon_opt);
    rlon_opt->needs(rlat_opt_);
    AddCrsOption(route_cmd_, &rcrs_)->needs(rlat_opt_);
    route_cmd_->add_option("--address", *route_.mutable_address(), "address text");
    route_cmd_->add_option("--unit", *route_.mutable_unit_code(), "explicit unit");
  }

  std::optional<int> Run(const Global& g) override {
    if (sub_->parsed()) return Submit(g);
    if (get_->parsed()) return Get(g);
    if (reveal_->parsed()) return Reveal(g);
    if (unit_->parsed()) return Unit(g);
    if (route_cmd_->parsed()) return Route(g);
    return std::nullopt;
  }

 private:
  int Submit(const Global& g) {
    if (lat_opt_->count() > 0) {
      submit_.mutable_location()->set_lat(lat_);
      submit_.mutable_location()->set_lng(lon_);
      submit_.mutable_location()->set_coordinate_system(ParseCoordinateSystem(crs_));
    }
    submit_.set_priority(ParsePriority(priority_));
    submit_.set_channel(ParseChannel(channel_));
    submit_.mutable_citizen()->set_name(name_);
    submit_.mutable_citizen()->set_phone(phone_);
    for (auto& a : attachments_) submit_.add_attachment_urls(a);
    auto stub = v1::CaseIntake::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::SubmitCaseResponse resp;
    grpc::Status st = stub->SubmitCase(ctx.get(), submit_, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintCase(resp.case_());
    }
    return 0;
  }

  int Get(const Global& g) {
    auto stub = v1::CaseQuery::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::GetCaseRequest req;
    req.set_case_id(case_id_);
    v1::GetCaseResponse resp;
    grpc::Status st = stub->GetCase(ctx.get(), req, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    PrintCase(resp.case_());
    PrintLifecycle(resp.case_());
    std::printf("history\n");
    for (const auto& e : resp.events()) std::printf("  %s  %s\n", FormatTime(e.at()).c_str(), EventLine(e).c_str());
    return 0;
  }

  int Reveal(const Global& g) {
    auto stub = v1::CaseQuery::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::RevealCitizenResponse resp;
    grpc::Status st = stub->RevealCitizen(ctx.get(), reveal_req_, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("citizen     %s  %s\n", resp.citizen().name().c_str(), resp.citizen().phone().c_str());
    std::printf("recorded    %s  %s\n", FormatTime(resp.event().at()).c_str(), EventLine(resp.event()).c_str());
    return 0;
  }

  int Unit(const Global& g) {
    auto stub = v1::Directory::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::GetUnitRequest req;
    req.set_code(unit_code_);
    v1::GetUnitResponse resp;
    grpc::Status st = stub->GetUnit(ctx.get(), req, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    const auto& u = resp.unit();
    std::printf("%s %s (%s)\n", u.code().c_str(), u.name().c_str(),
                EnumShort(v1::UnitLevel_Name(u.level()), "UNIT_LEVEL_").c_str());
    std::string path;
    for (const auto& a : resp.ancestors()) path += a.name() + " / ";
    std::printf("  path        %s%s\n", path.c_str(), u.name().c_str());
    if (!u.party_organisation().name().empty())
      std::printf("  party org   %s\n", u.party_organisation().name().c_str());
    if (u.boundary().polygons_size() > 0) {
      std::printf("  boundary    %d polygon(s)\n", u.boundary().polygons_size());
    }
    for (const auto& a : u.address_coverage()) {
      if (a.from_number() || a.to_number()) {
        std::printf("  covers      %s %d-%d号\n", a.street().c_str(), a.from_number(), a.to_number());
      } else {
        std::printf("  covers      %s\n", a.street().c_str());
      }
    }
    std::printf("  directory   version %llu\n", static_cast<unsigned long long>(resp.directory_version()));
    if (resp.children_size() > 0) std::printf("children (%d shown)\n", resp.children_size());
    for (const auto& c : resp.children()) {
      std::printf("  %-16s %-24s %4u children %5u members\n", c.code().c_str(), c.name().c_str(), c.child_count(),
                  c.member_count());
    }
    if (!resp.next_page_token().empty()) std::printf("  ... more children after %s\n", resp.next_page_token().c_str());
    if (resp.members_size() > 0) std::printf("members (%d)\n", resp.members_size());
    for (const auto& m : resp.members()) {
      std::string roles;
      for (int r : m.roles()) {
        roles +=
            (roles.empty() ? "" : ",") + EnumShort(v1::MemberRole_Name(static_cast<v1::MemberRole>(r)), "MEMBER_ROLE_");
      }
      std::string skills;
      for (const auto& s : m.skills()) skills += (skills.empty() ? " skills: " : ",") + s;
      std::printf("  %-8s %-8s %s%s%s\n", m.id().c_str(), m.name().c_str(), roles.c_str(),
                  m.on_duty() ? " on-duty" : "", skills.c_str());
    }
    return 0;
  }

  int Route(const Global& g) {
    if (rlat_opt_->count() > 0) {
      route_.mutable_location()->set_lat(rlat_);
      route_.mutable_location()->set_lng(rlon_);
      route_.mutable_location()->set_coordinate_system(ParseCoordinateSystem(rcrs_));
    }
    auto stub = v1::Directory::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::RouteCaseResponse resp;
    grpc::Status st = stub->RouteCase(ctx.get(), route_, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintRouting(resp.routing());
    }
    return 0;
  }

  // submit
  CLI::App* sub_ = nullptr;
  v1::SubmitCaseRequest submit_;
  double lat_ = 0, lon_ = 0;
  CLI::Option* lat_opt_ = nullptr;
  std::string crs_ = "wgs84";
  std::string priority_ = "normal", channel_ = "phone", name_, phone_;
  std::vector<std::string> attachments_;
  // get
  CLI::App* get_ = nullptr;
  std::string case_id_;
  CLI::App* reveal_ = nullptr;
  v1::RevealCitizenRequest reveal_req_;
  // unit
  CLI::App* unit_ = nullptr;
  std::string unit_code_;
  // route
  CLI::App* route_cmd_ = nullptr;
  v1::RouteCaseRequest route_;
  double rlat_ = 0, rlon_ = 0;
  CLI::Option* rlat_opt_ = nullptr;
  std::string rcrs_ = "wgs84";
};

}  // namespace

std::unique_ptr<CommandGroup> CaseCommands() { return std::make_unique<Cases>(); }

}  // namespace grid::tools::gridctl
