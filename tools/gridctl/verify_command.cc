// gridctl verify: see verify_command.h.
#include "tools/gridctl/verify_command.h"

#include <cstdio>
#include <iostream>
#include <string>

#include "storage/verify.h"

namespace grid::tools::gridctl {
namespace {

class VerifyGroup final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    cmd_ = app.add_subcommand("verify", "check a stopped server's data directory (or a copy) here, read-only");
    cmd_->add_option("--data", data_, "the data directory")->required();
    cmd_->add_option("--max-lines", max_lines_, "disagreements printed at most")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
  }
  std::optional<int> Run(const Global&) override {
    if (!cmd_->parsed()) return std::nullopt;
    storage::VerifyOptions options;
    options.max_problems = max_lines_;
    auto report = storage::VerifyStore(data_, options);
    if (!report.ok()) {
      std::cerr << "gridctl: verify: " << report.status().ToString() << "\n";
      return 3;
    }
    std::cout << report->Text(max_lines_) << std::flush;
    return report->clean() ? 0 : 1;
  }

 private:
  CLI::App* cmd_ = nullptr;
  std::string data_;
  size_t max_lines_ = 50;
};

}  // namespace

std::unique_ptr<CommandGroup> VerifyCommand() { return std::make_unique<VerifyGroup>(); }

}  // namespace grid::tools::gridctl
