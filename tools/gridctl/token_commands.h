// gridctl's tokens (Operations, admins only): bearer tokens kept in the
// server's store (docs/security.md "Tokens").
//
//   token create --role R --scope UNIT|* --name N [--expires 90d] [--client-cn CN]
//                 (prints the token once: the server keeps only its hash)
//   token list    (every token, revoked ones too; never a secret)
//   token revoke ID
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tools/gridctl/common.h"

namespace grid::tools::gridctl {

std::unique_ptr<CommandGroup> TokenCommands();

// "90d", "12h", "30m", "45s" or plain seconds -> seconds; "0" or "never": 0
// (never expires); nullopt when malformed or beyond ten years.
std::optional<uint64_t> ParseExpiry(const std::string& text);

}  // namespace grid::tools::gridctl
