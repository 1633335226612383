// gridctl token create, list and revoke: see token_commands.h.
#include "tools/gridctl/token_commands.h"

#include <cstdio>
#include <iostream>
#include <string>

#include "grid/v1/operations.grpc.pb.h"
#include "tools/gridctl/output.h"

namespace grid::tools::gridctl {
namespace {

namespace v1 = grid::v1;

constexpr uint64_t kMaxExpirySeconds = 10ull * 366 * 24 * 3600;

void PrintToken(const v1::TokenInfo& t) {
  std::printf("%s  %-20s %-12s scope %-14s created %s", t.token_id().c_str(), t.name().c_str(), t.role().c_str(),
              t.scope_unit_code().empty() ? "*" : t.scope_unit_code().c_str(), FormatTime(t.created_at()).c_str());
  if (t.has_expires_at()) std::printf("  expires %s", FormatTime(t.expires_at()).c_str());
  if (t.has_last_used_at()) std::printf("  last used %s", FormatTime(t.last_used_at()).c_str());
  if (!t.client_cn().empty()) std::printf("  client CN %s", t.client_cn().c_str());
  if (t.has_revoked_at()) std::printf("  REVOKED %s", FormatTime(t.revoked_at()).c_str());
  std::printf("\n");
}

class Tokens final : public CommandGroup {
 public:
  void Add(CLI::App& app) override {
    auto* token = app.add_subcommand("token", "create, list and revoke bearer tokens (admins only)");
    token->require_subcommand(1);
    create_ = token->add_subcommand("create", "make a token; prints it once (the server keeps only its hash)");
    create_
        ->add_option("--role", *create_req_.mutable_role(),
                     "call_center, grid_worker, department, supervisor, town_office or admin")
        ->required();
    create_->add_option("--scope", *create_req_.mutable_scope_unit_code(), "unit code of its scope, or * for all")
        ->required();
    create_->add_option("--name", *create_req_.mutable_name(), "the caller id its calls act as ([0-9A-Za-z._@-])")
        ->required();
    create_->add_option("--expires", expires_, "lifetime: 90d, 12h, 30m, 45s or seconds; 'never' (default)")
        ->capture_default_str();
    create_->add_option("--client-cn", *create_req_.mutable_client_cn(),
                        "bind to mutual-TLS client certificates with this common name");
    list_ = token->add_subcommand("list", "list every token (revoked ones too), never a secret");
    revoke_ = token->add_subcommand("revoke", "revoke a token at once (and for good)");
    revoke_->add_option("id", *revoke_req_.mutable_token_id(), "token id (16 hex digits; as token list shows)")
        ->required();
  }

  std::optional<int> Run(const Global& g) override {
    if (create_->parsed()) return Create(g);
    if (list_->parsed()) return List(g);
    if (revoke_->parsed()) return Revoke(g);
    return std::nullopt;
  }

 private:
  int Create(const Global& g) {
    auto seconds = ParseExpiry(expires_);
    if (!seconds) {
      std::cerr << "gridctl: --expires: expected 90d, 12h, 30m, 45s, seconds or never (ten years at most), not '"
                << expires_ << "'\n";
      return 2;
    }
    create_req_.set_expires_in_seconds(*seconds);
    auto stub = v1::Operations::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::CreateTokenResponse resp;
    grpc::Status st = stub->CreateToken(ctx.get(), create_req_, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    PrintToken(resp.token());
    std::printf("token (shown once; keep it secret): %s\n", resp.secret().c_str());
    return 0;
  }

  int List(const Global& g) {
    auto stub = v1::Operations::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::ListTokensResponse resp;
    grpc::Status st = stub->ListTokens(ctx.get(), v1::ListTokensRequest(), &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    for (const auto& t : resp.tokens()) PrintToken(t);
    return 0;
  }

  int Revoke(const Global& g) {
    auto stub = v1::Operations::NewStub(Connect(g));
    auto ctx = NewContext(g);
    v1::RevokeTokenResponse resp;
    grpc::Status st = stub->RevokeToken(ctx.get(), revoke_req_, &resp);
    if (!st.ok()) return Report(st);
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    PrintToken(resp.token());
    return 0;
  }

  CLI::App* create_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* revoke_ = nullptr;
  v1::CreateTokenRequest create_req_;
  v1::RevokeTokenRequest revoke_req_;
  std::string expires_ = "never";
};

}  // namespace

std::optional<uint64_t> ParseExpiry(const std::string& text) {
  if (text == "never" || text == "0") return 0;
  if (text.empty() || text.size() > 12) return std::nullopt;
  uint64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: digits += ' '; break;  // plain seconds
  }
  digits.pop_back();
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const uint64_t n = std::stoull(digits);
  if (n > kMaxExpirySeconds / unit) return std::nullopt;
  return n * unit;
}

std::unique_ptr<CommandGroup> TokenCommands() { return std::make_unique<Tokens>(); }

}  // namespace grid::tools::gridctl
