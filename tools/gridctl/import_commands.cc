// gridctl import divisions|json|geojson: flags, local loading and the
// chunked Import stream. See import_commands.h.
#include "tools/gridctl/import_commands.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "grid/v1/service.grpc.pb.h"
#include "import/boundaries.h"
#include "import/geojson.h"
#include "tools/loaders.h"

namespace grid::tools::gridctl {
namespace {

namespace v1 = grid::v1;

constexpr const char* kConfirmHelp =
    "the number of units a REPLACE removes, required when they include the root or units with open cases";

// Streams `content` in chunks of at most `per_chunk` entries of each kind.
int SendImport(const Global& g, const v1::DirectoryContent& content, bool replace, const std::string& source,
               uint32_t confirm_removed_units) {
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
      chunk.set_confirm_removed_units(confirm_removed_units);
      first = false;
    }
    auto* out = chunk.mutable_content();
    for (int n = 0; n < kPerChunk && u < content.units_size(); ++n) *out->add_units() = content.units(u++);
    for (int n = 0; n < kPerChunk && m < content.members_size(); ++n) *out->add_members() = content.members(m++);
    for (int n = 0; n < kPerChunk && d < content.departments_size(); ++n)
      *out->add_departments() = content.departments(d++);
    for (int n = 0; n < kPerChunk && c < content.categories_size(); ++n)
      *out->add_categories() = content.categories(c++);
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
    std::printf(
        "imported %u units, %u members, %u departments, %u categories, %u category rules: directory version %llu\n",
        response.units(), response.members(), response.departments(), response.categories(), response.category_rules(),
        static_cast<unsigned long long>(response.directory_version()));
    if (replace) std::printf("removed %u units of the previous version\n", response.removed_units());
  }
  return 0;
}

// Loads content locally, then streams it to the server.
int ImportLoaded(const Global& g, grid::StatusOr<v1::DirectoryContent> content, bool replace, const std::string& source,
                 uint32_t confirm_removed_units = 0) {
  if (!content.ok()) {
    std::cerr << "gridctl: " << content.status().ToString() << "\n";
    return 3;
  }
  return SendImport(g, *content, replace, source, confirm_removed_units);
}

class Import final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    auto* imp = app.add_subcommand("import", "import directory data");
    imp->require_subcommand(1);
    div_ =
        imp->add_subcommand("divisions", "the national division files (provinces, cities, areas, streets, villages)");
    div_->add_option("dir", dir_, "folder holding the five .csv or .csv.gz files")->required();
    div_->add_flag("--replace", replace_, "replace the whole directory instead of merging");
    div_->add_option("--confirm-removed-units", confirm_, kConfirmHelp);
    geo_ = imp->add_subcommand("geojson",
                               "units with boundaries from a boundary file (GeoJSON, TopoJSON, Shapefile, "
                               "GeoPackage)");
    geo_->alias("boundaries");
    geo_->add_option("file", geojson_file_,
                     "boundary file: .geojson/.json (optionally .gz), .topojson, .shp (with .dbf, .shx, .prj), .gpkg")
        ->required();
    geo_->add_option("--format", format_, "geojson, topojson, shapefile or gpkg (default: from the extension)")
        ->check(CLI::IsMember({"geojson", "topojson", "shapefile", "shp", "gpkg", "geopackage"}));
    geo_->add_flag("--no-repair", no_repair_,
                   "refuse the file at the first invalid polygon instead of repairing it with GEOS make-valid");
    geo_->add_option("--crs", crs_,
                     "coordinate system of the longitudes/latitudes (after reprojection from the file's own CRS): "
                     "wgs84, gcj02 (DataV outlines), bd09")
        ->capture_default_str()
        ->check(CLI::IsMember({"wgs84", "gcj02", "bd09", "cgcs2000"}));
    geo_->add_option("--code-prop", mapping_.code_prop, "feature property holding the unit code")->required();
    geo_->add_option("--name-prop", mapping_.name_prop, "feature property holding the name (default: the code)");
    geo_->add_option("--parent-prop", mapping_.parent_prop, "feature property holding the parent's code");
    geo_->add_option("--parent", mapping_.parent_code, "the parent of every unit, when there is no --parent-prop");
    geo_->add_option("--level", level_name_, "level of the units")
        ->capture_default_str()
        ->check(CLI::IsMember({"county", "town", "community", "grid"}));
    geo_->add_option("--code-prefix", mapping_.code_prefix, "prepended to every code");
    geo_->add_option("--parent-prefix", mapping_.parent_prefix, "prepended to every parent code");
    geo_->add_flag("--slug", mapping_.slug_values, "turn code and parent values into codes (\"REGION 8\" -> region-8)");
    json_ = imp->add_subcommand("json", "a DirectoryContent message in protobuf JSON");
    json_->add_option("file", json_file_, "file")->required();
    json_->add_flag("--replace", replace_, "replace the whole directory instead of merging");
    json_->add_option("--confirm-removed-units", confirm_, kConfirmHelp);
  }

  std::optional<int> Run(const Global& g) override {
    if (div_->parsed()) return ImportLoaded(g, LoadDivisionsDir(dir_), replace_, dir_, confirm_);
    if (json_->parsed()) return ImportLoaded(g, LoadDirectoryJson(json_file_), replace_, json_file_, confirm_);
    if (geo_->parsed()) {
      static const std::map<std::string, v1::UnitLevel> levels = {{"county", v1::UNIT_LEVEL_COUNTY},
                                                                  {"town", v1::UNIT_LEVEL_TOWN},
                                                                  {"community", v1::UNIT_LEVEL_COMMUNITY},
                                                                  {"grid", v1::UNIT_LEVEL_GRID}};
      mapping_.level = levels.at(level_name_);
      const std::string name = std::filesystem::path(geojson_file_).filename().string();
      auto format = grid::BoundaryFormatOf(geojson_file_, format_);
      if (!format.ok()) return ImportLoaded(g, format.status(), false, geojson_file_);
      grid::BoundaryOptions options;
      options.mapping = mapping_;
      options.repair = !no_repair_;
      options.coordinate_system = crs_ == "gcj02"  ? v1::COORDINATE_SYSTEM_GCJ02
                                  : crs_ == "bd09" ? v1::COORDINATE_SYSTEM_BD09
                                                   : v1::COORDINATE_SYSTEM_WGS84;
      auto loaded = [&]() -> grid::StatusOr<grid::LoadedBoundaries> {
        if (*format != grid::BoundaryFormat::kGeoJson) {
          return grid::ReadOgrBoundaries(geojson_file_, *format, options, name);
        }
        auto text = ReadFileMaybeGz(geojson_file_);
        if (!text.ok()) return text.status();
        return grid::ParseGeoJsonBoundaries(*text, options, name);
      }();
      if (!loaded.ok()) return ImportLoaded(g, loaded.status(), false, geojson_file_);
      // The report goes to stderr with --json (stdout holds the response).
      for (const auto& line : loaded->report.Lines()) std::fprintf(g.json ? stderr : stdout, "%s\n", line.c_str());
      return ImportLoaded(g, std::move(loaded->units), false, geojson_file_);
    }
    return std::nullopt;
  }

 private:
  CLI::App* div_ = nullptr;
  CLI::App* geo_ = nullptr;
  CLI::App* json_ = nullptr;
  std::string dir_, json_file_, geojson_file_, level_name_ = "grid", format_, crs_ = "wgs84";
  bool replace_ = false, no_repair_ = false;
  uint32_t confirm_ = 0;
  grid::GeoJsonMapping mapping_;
};

// gridctl directory restore-previous: Directory.RestorePreviousVersion.
class DirectoryGroup final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    auto* dir = app.add_subcommand("directory", "directory versions");
    dir->require_subcommand(1);
    restore_ = dir->add_subcommand("restore-previous", "bring back the directory the last REPLACE import replaced");
    restore_->add_option("--confirm-removed-units", confirm_, kConfirmHelp);
  }

  std::optional<int> Run(const Global& g) override {
    if (!restore_->parsed()) return std::nullopt;
    auto stub = v1::Directory::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::RestorePreviousVersionRequest request;
    request.set_confirm_removed_units(confirm_);
    v1::RestorePreviousVersionResponse response;
    grpc::Status status = stub->RestorePreviousVersion(ctx.get(), request, &response);
    if (!status.ok()) return Report(status);
    if (g.json) {
      PrintJson(response);
    } else {
      std::printf("restored the content of version %llu as directory version %llu: %u units, %u removed\n",
                  static_cast<unsigned long long>(response.restored_version()),
                  static_cast<unsigned long long>(response.directory_version()), response.units(),
                  response.removed_units());
    }
    return 0;
  }

 private:
  CLI::App* restore_ = nullptr;
  uint32_t confirm_ = 0;
};

}  // namespace

std::unique_ptr<CommandGroup> ImportCommands() { return std::make_unique<Import>(); }
std::unique_ptr<CommandGroup> DirectoryCommands() { return std::make_unique<DirectoryGroup>(); }

}  // namespace grid::tools::gridctl
