// gridctl backup create and backup list: see backup_commands.h.
#include "tools/gridctl/backup_commands.h"

#include <cstdio>
#include <string>

#include "grid/v1/operations.grpc.pb.h"
#include "tools/gridctl/output.h"

namespace grid::tools::gridctl {
namespace {

namespace v1 = grid::v1;

void PrintBackup(const v1::BackupInfo& b) {
  std::printf("backup %u  %s  %llu bytes in %u files, %llu new\n", b.backup_id(), FormatTime(b.created_at()).c_str(),
              static_cast<unsigned long long>(b.size_bytes()), b.files(),
              static_cast<unsigned long long>(b.new_bytes()));
}

class Backups final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    auto* backup = app.add_subcommand("backup", "back the server's store up (admins only)");
    backup->require_subcommand(1);
    create_ = backup->add_subcommand("create", "make a backup in DIR, on the server's machine, while intake goes on");
    create_->add_option("dir", *create_req_.mutable_directory(), "absolute backup directory on the server")->required();
    create_->add_option("--keep", keep_, "then keep only the newest N backups (0: all)")
        ->capture_default_str()
        ->check(CLI::Range(0u, 1000000u));
    list_ = backup->add_subcommand("list", "list the backups in DIR, oldest first");
    list_->add_option("dir", *list_req_.mutable_directory(), "absolute backup directory on the server")->required();
  }

  std::optional<int> Run(const Global& g) override {
    if (create_->parsed()) return Create(g);
    if (list_->parsed()) return List(g);
    return std::nullopt;
  }

 private:
  int Create(const Global& g) {
    create_req_.set_keep_last(keep_);
    auto stub = v1::Operations::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::CreateBackupResponse resp;
    grpc::Status st = stub->CreateBackup(ctx.get(), create_req_, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    PrintBackup(resp.backup());
    std::printf("%u backup(s) kept in %s\n", resp.backups_kept(), create_req_.directory().c_str());
    return 0;
  }

  int List(const Global& g) {
    auto stub = v1::Operations::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::ListBackupsResponse resp;
    grpc::Status st = stub->ListBackups(ctx.get(), list_req_, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    for (const auto& b : resp.backups()) PrintBackup(b);
    return 0;
  }

  CLI::App* create_ = nullptr;
  CLI::App* list_ = nullptr;
  v1::CreateBackupRequest create_req_;
  v1::ListBackupsRequest list_req_;
  uint32_t keep_ = 0;
};

}  // namespace

std::unique_ptr<CommandGroup> BackupCommands() { return std::make_unique<Backups>(); }

}  // namespace grid::tools::gridctl
