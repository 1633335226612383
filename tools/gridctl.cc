// gridctl: the command-line client of gridd.
//
//   gridctl [--server HOST:PORT] [--token T] [--caller ID] [--json] COMMAND ...
//     submit  --category C (--lat Y --lon X | --address A | --unit U) --description D [--idempotency-key K] ...
//     get     CASE_ID
//     unit    CODE
//     route   --category C [--lat Y --lon X] [--address A] [--unit U]
//     import  divisions DIR [--replace]      (the five national division files, .csv or .csv.gz)
//     import  json FILE [--replace]          (a DirectoryContent in protobuf JSON)
//     import  geojson FILE --code-prop P [--name-prop P] [--parent-prop P | --parent CODE] [--level L] [--slug]
//     cases   --scope U [--status S]... [--category C] [--overdue] [--from/--to T] [--all-pages] ...
//     stats   --scope U --from YYYY-MM-DD --to YYYY-MM-DD      (see tools/gridctl_queries.h)
//
// Output is for people by default; --json prints the response messages as
// protobuf JSON for scripts. Exit codes: 0 success, 1 the server answered
// with an error (code and reason on stderr), 2 bad usage, 3 a local error
// (unreadable file).
#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>

#include "engine/geojson.h"
#include "grid/v1/service.grpc.pb.h"
#include "tools/gridctl_queries.h"
#include "tools/loaders.h"

namespace {

namespace v1 = grid::v1;

struct Global {
  std::string server = "127.0.0.1:50051";
  std::string token;
  std::string caller;
  bool json = false;
  double timeout_s = 30;
};

std::unique_ptr<grpc::ClientContext> NewContext(const Global& g) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(g.timeout_s * 1000)));
  if (!g.token.empty()) ctx->AddMetadata("authorization", "Bearer " + g.token);
  if (!g.caller.empty()) ctx->AddMetadata("x-grid-caller", g.caller);
  return ctx;
}

const char* CodeName(grpc::StatusCode code) {
  static const char* names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                                "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? names[i] : "UNKNOWN";
}

int Report(const grpc::Status& status) {
  std::cerr << "gridctl: " << CodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return 1;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  std::cout << out;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  std::time_t t = ts.seconds();
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string EnumShort(const std::string& full, const char* prefix) {
  return full.rfind(prefix, 0) == 0 ? full.substr(std::string(prefix).size()) : full;
}

void PrintRouting(const v1::RoutingDecision& r) {
  std::printf("  routed to   %s (%s)\n", r.unit_name().c_str(), r.unit_code().c_str());
  std::printf("  path        %s\n", r.path().c_str());
  std::printf("  method      %s%s%s\n", EnumShort(v1::RoutingMethod_Name(r.method()), "ROUTING_METHOD_").c_str(),
              r.ambiguous() ? " (ambiguous)" : "", r.needs_manual_dispatch() ? " (manual dispatch)" : "");
  std::printf("  why         %s\n", r.explanation().c_str());
  for (const auto& s : r.steps()) {
    std::printf("    %-14s %-4s %s\n", EnumShort(v1::RoutingMethod_Name(s.method()), "ROUTING_METHOD_").c_str(),
                s.matched() ? "yes" : "no", s.detail().c_str());
  }
  if (!r.department_code().empty()) std::printf("  department  %s\n", r.department_code().c_str());
  if (r.summoned_department_codes_size() > 0) {
    std::string s;
    for (const auto& d : r.summoned_department_codes()) s += (s.empty() ? "" : ", ") + d;
    std::printf("  summoned    %s\n", s.c_str());
  }
  if (!r.assignee_member_id().empty() || !r.assignee_explanation().empty()) {
    std::printf("  assignee    %s\n", r.assignee_explanation().c_str());
  }
  std::printf("  directory   version %llu\n", static_cast<unsigned long long>(r.directory_version()));
}

void PrintCase(const v1::Case& c) {
  std::printf("case %s  %s\n", c.id().c_str(), EnumShort(v1::CaseStatus_Name(c.status()), "CASE_STATUS_").c_str());
  std::printf("  category    %s\n", c.category().c_str());
  std::printf("  description %s\n", c.description().c_str());
  if (c.has_location()) std::printf("  location    %.6f, %.6f\n", c.location().lat(), c.location().lng());
  if (!c.address().empty()) std::printf("  address     %s\n", c.address().c_str());
  if (!c.citizen().name().empty() || !c.citizen().phone().empty()) {
    std::printf("  citizen     %s %s\n", c.citizen().name().c_str(), c.citizen().phone().c_str());
  }
  std::printf("  priority    %s\n", EnumShort(v1::Priority_Name(c.priority()), "PRIORITY_").c_str());
  std::printf("  created     %s by %s\n", FormatTime(c.created_at()).c_str(), c.submitted_by().c_str());
  PrintRouting(c.routing());
}

std::shared_ptr<grpc::Channel> Connect(const Global& g) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(g.server, grpc::InsecureChannelCredentials(), args);
}

v1::Priority ParsePriority(const std::string& s) {
  if (s == "urgent") return v1::PRIORITY_URGENT;
  if (s == "emergency") return v1::PRIORITY_EMERGENCY;
  return v1::PRIORITY_NORMAL;
}

v1::Channel ParseChannel(const std::string& s) {
  static const std::map<std::string, v1::Channel> m = {
      {"phone", v1::CHANNEL_PHONE},     {"web", v1::CHANNEL_WEB},         {"app", v1::CHANNEL_APP},
      {"wechat", v1::CHANNEL_WECHAT},   {"walk_in", v1::CHANNEL_WALK_IN}, {"grid_patrol", v1::CHANNEL_GRID_PATROL}};
  auto it = m.find(s);
  return it == m.end() ? v1::CHANNEL_PHONE : it->second;
}

// Streams `content` in chunks of at most `per_chunk` entries of each kind.
int SendImport(const Global& g, const v1::DirectoryContent& content, bool replace, const std::string& source) {
  auto stub = v1::Directory::NewStub(Connect(g));
  auto ctx = NewContext(g);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  v1::ImportResponse response;
  auto writer = stub->Import(ctx.get(), &response);
  constexpr int kPerChunk = 5000;
  int u = 0, m = 0, d = 0, c = 0, r = 0;
  bool first = true;
  while (first || u < content.units_size() || m < content.members_size() || d < content.departments_size() ||
         c < content.categories_size() || r < content.category_rules_size()) {
    v1::ImportChunk chunk;
    if (first) {
      chunk.set_mode(replace ? v1::IMPORT_MODE_REPLACE : v1::IMPORT_MODE_MERGE);
      chunk.set_source(source);
      first = false;
    }
    auto* out = chunk.mutable_content();
    for (int n = 0; n < kPerChunk && u < content.units_size(); ++n) *out->add_units() = content.units(u++);
    for (int n = 0; n < kPerChunk && m < content.members_size(); ++n) *out->add_members() = content.members(m++);
    for (int n = 0; n < kPerChunk && d < content.departments_size(); ++n) *out->add_departments() = content.departments(d++);
    for (int n = 0; n < kPerChunk && c < content.categories_size(); ++n) *out->add_categories() = content.categories(c++);
    for (int n = 0; n < kPerChunk && r < content.category_rules_size(); ++n) {
      *out->add_category_rules() = content.category_rules(r++);
    }
    chunk.set_last(u == content.units_size() && m == content.members_size() && d == content.departments_size() &&
                   c == content.categories_size() && r == content.category_rules_size());
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return Report(status);
  if (g.json) {
    PrintJson(response);
  } else {
    std::printf("imported %u units, %u members, %u departments, %u categories, %u category rules: directory version %llu\n",
                response.units(), response.members(), response.departments(), response.categories(),
                response.category_rules(),
                static_cast<unsigned long long>(response.directory_version()));
  }
  return 0;
}

// Loads content locally, then streams it to the server.
int ImportLoaded(const Global& g, grid::StatusOr<v1::DirectoryContent> content, bool replace,
                 const std::string& source) {
  if (!content.ok()) {
    std::cerr << "gridctl: " << content.status().ToString() << "\n";
    return 3;
  }
  return SendImport(g, *content, replace, source);
}

}  // namespace

int main(int argc, char** argv) {
  Global g;
  if (const char* s = std::getenv("GRID_SERVER")) g.server = s;
  if (const char* t = std::getenv("GRID_TOKEN")) g.token = t;

  CLI::App app{"gridctl: client of the grid case routing server"};
  app.require_subcommand(1);
  app.add_option("--server", g.server, "gridd address (env GRID_SERVER)")->capture_default_str();
  app.add_option("--token", g.token, "bearer token (env GRID_TOKEN)");
  app.add_option("--caller", g.caller, "caller id in open mode (x-grid-caller)");
  app.add_flag("--json", g.json, "print protobuf JSON");
  app.add_option("--timeout", g.timeout_s, "seconds per call")->capture_default_str();

  v1::SubmitCaseRequest submit;
  double lat = 0, lon = 0;
  std::string priority = "normal", channel = "phone", name, phone;
  auto* sub = app.add_subcommand("submit", "submit a citizen case");
  sub->add_option("--category", *submit.mutable_category(), "category code")->required();
  sub->add_option("--description", *submit.mutable_description(), "what the citizen reported")->required();
  auto* lat_opt = sub->add_option("--lat", lat, "latitude (WGS-84)");
  auto* lon_opt = sub->add_option("--lon", lon, "longitude (WGS-84)");
  lat_opt->needs(lon_opt);
  lon_opt->needs(lat_opt);
  sub->add_option("--address", *submit.mutable_address(), "address text");
  sub->add_option("--unit", *submit.mutable_unit_code(), "the responsible unit, if the operator knows it");
  sub->add_option("--idempotency-key", *submit.mutable_idempotency_key(), "retry key: the same key returns the same case");
  sub->add_option("--name", name, "citizen's name");
  sub->add_option("--phone", phone, "citizen's phone");
  sub->add_option("--priority", priority, "normal, urgent or emergency")->capture_default_str()
      ->check(CLI::IsMember({"normal", "urgent", "emergency"}));
  sub->add_option("--channel", channel, "phone, web, app, wechat, walk_in, grid_patrol")->capture_default_str()
      ->check(CLI::IsMember({"phone", "web", "app", "wechat", "walk_in", "grid_patrol"}));
  std::vector<std::string> attachments;
  sub->add_option("--attachment", attachments, "attachment URL (repeatable)");

  std::string case_id;
  auto* get = app.add_subcommand("get", "show a case and its history");
  get->add_option("id", case_id, "case id")->required();

  std::string unit_code;
  auto* unit = app.add_subcommand("unit", "show a unit, its ancestors, children and members");
  unit->add_option("code", unit_code, "unit code")->required();

  v1::RouteCaseRequest route;
  double rlat = 0, rlon = 0;
  auto* rt = app.add_subcommand("route", "where would a case go, and why (creates nothing)");
  rt->add_option("--category", *route.mutable_category(), "category code")->required();
  auto* rlat_opt = rt->add_option("--lat", rlat, "latitude");
  auto* rlon_opt = rt->add_option("--lon", rlon, "longitude");
  rlat_opt->needs(rlon_opt);
  rlon_opt->needs(rlat_opt);
  rt->add_option("--address", *route.mutable_address(), "address text");
  rt->add_option("--unit", *route.mutable_unit_code(), "explicit unit");

  auto* imp = app.add_subcommand("import", "import directory data");
  imp->require_subcommand(1);
  std::string import_dir, import_json;
  bool replace = false;
  auto* imp_div = imp->add_subcommand("divisions", "the national division files (provinces, cities, areas, streets, villages)");
  imp_div->add_option("dir", import_dir, "folder holding the five .csv or .csv.gz files")->required();
  imp_div->add_flag("--replace", replace, "replace the whole directory instead of merging");
  grid::GeoJsonMapping mapping;
  std::string geojson_file, level_name = "grid";
  auto* imp_geo = imp->add_subcommand("geojson", "units with boundaries from a GeoJSON FeatureCollection");
  imp_geo->add_option("file", geojson_file, "GeoJSON file (.geojson, optionally .gz)")->required();
  imp_geo->add_option("--code-prop", mapping.code_prop, "feature property holding the unit code")->required();
  imp_geo->add_option("--name-prop", mapping.name_prop, "feature property holding the name (default: the code)");
  imp_geo->add_option("--parent-prop", mapping.parent_prop, "feature property holding the parent's code");
  imp_geo->add_option("--parent", mapping.parent_code, "the parent of every unit, when there is no --parent-prop");
  imp_geo->add_option("--level", level_name, "level of the units")
      ->capture_default_str()
      ->check(CLI::IsMember({"county", "town", "community", "grid"}));
  imp_geo->add_option("--code-prefix", mapping.code_prefix, "prepended to every code");
  imp_geo->add_option("--parent-prefix", mapping.parent_prefix, "prepended to every parent code");
  imp_geo->add_flag("--slug", mapping.slug_values, "turn code and parent values into codes (\"REGION 8\" -> region-8)");
  auto* imp_json = imp->add_subcommand("json", "a DirectoryContent message in protobuf JSON");
  imp_json->add_option("file", import_json, "file")->required();
  imp_json->add_flag("--replace", replace, "replace the whole directory instead of merging");

  grid::tools::QueryCommands queries(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }

  if (queries.parsed()) {
    return queries.Run(Connect(g), {[&g] { return NewContext(g); }, Report, PrintJson, g.json});
  }
  if (sub->parsed()) {
    if (lat_opt->count() > 0) {
      submit.mutable_location()->set_lat(lat);
      submit.mutable_location()->set_lng(lon);
    }
    submit.set_priority(ParsePriority(priority));
    submit.set_channel(ParseChannel(channel));
    submit.mutable_citizen()->set_name(name);
    submit.mutable_citizen()->set_phone(phone);
    for (auto& a : attachments) submit.add_attachment_urls(a);
    auto stub = v1::CaseIntake::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::SubmitCaseResponse resp;
    grpc::Status st = stub->SubmitCase(ctx.get(), submit, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintCase(resp.case_());
    }
    return 0;
  }
  if (get->parsed()) {
    auto stub = v1::CaseQuery::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::GetCaseRequest req;
    req.set_case_id(case_id);
    v1::GetCaseResponse resp;
    grpc::Status st = stub->GetCase(ctx.get(), req, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    PrintCase(resp.case_());
    std::printf("history\n");
    for (const auto& e : resp.events()) {
      std::printf("  %s  #%llu %-10s by %s (%s)%s%s\n", FormatTime(e.at()).c_str(),
                  static_cast<unsigned long long>(e.seq()),
                  EnumShort(v1::EventType_Name(e.type()), "EVENT_TYPE_").c_str(), e.actor().c_str(),
                  e.actor_role().c_str(), e.note().empty() ? "" : ": ", e.note().c_str());
    }
    return 0;
  }
  if (unit->parsed()) {
    auto stub = v1::Directory::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::GetUnitRequest req;
    req.set_code(unit_code);
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
    if (!u.party_organisation().name().empty()) std::printf("  party org   %s\n", u.party_organisation().name().c_str());
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
        roles += (roles.empty() ? "" : ",") + EnumShort(v1::MemberRole_Name(static_cast<v1::MemberRole>(r)), "MEMBER_ROLE_");
      }
      std::string skills;
      for (const auto& s : m.skills()) skills += (skills.empty() ? " skills: " : ",") + s;
      std::printf("  %-8s %-8s %s%s%s\n", m.id().c_str(), m.name().c_str(), roles.c_str(), m.on_duty() ? " on-duty" : "",
                  skills.c_str());
    }
    return 0;
  }
  if (rt->parsed()) {
    if (rlat_opt->count() > 0) {
      route.mutable_location()->set_lat(rlat);
      route.mutable_location()->set_lng(rlon);
    }
    auto stub = v1::Directory::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::RouteCaseResponse resp;
    grpc::Status st = stub->RouteCase(ctx.get(), route, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintRouting(resp.routing());
    }
    return 0;
  }
  if (imp_div->parsed()) return ImportLoaded(g, grid::tools::LoadDivisionsDir(import_dir), replace, import_dir);
  if (imp_json->parsed()) return ImportLoaded(g, grid::tools::LoadDirectoryJson(import_json), replace, import_json);
  if (imp_geo->parsed()) {
    static const std::map<std::string, v1::UnitLevel> levels = {{"county", v1::UNIT_LEVEL_COUNTY},
                                                                {"town", v1::UNIT_LEVEL_TOWN},
                                                                {"community", v1::UNIT_LEVEL_COMMUNITY},
                                                                {"grid", v1::UNIT_LEVEL_GRID}};
    mapping.level = levels.at(level_name);
    auto text = grid::tools::ReadFileMaybeGz(geojson_file);
    if (!text.ok()) return ImportLoaded(g, text.status(), false, geojson_file);
    const std::string name = std::filesystem::path(geojson_file).filename().string();
    return ImportLoaded(g, grid::ParseGeoJsonUnits(*text, mapping, name), false, geojson_file);
  }
  return 2;
}
