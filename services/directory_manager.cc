// DirectoryManager: see directory_manager.h.
#include "services/directory_manager.h"

namespace grid::services {

StatusOr<uint64_t> DirectoryManager::LoadAtStart(const std::optional<grid::v1::DirectoryContent>& initial) {
  std::lock_guard<std::mutex> lock(mu_);
  auto stored = store_->LoadDirectory();
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    if (!initial) return uint64_t{0};
    auto built = Directory::Build(*initial, 1);
    if (!built.ok()) return built.status();
    GRID_RETURN_IF_ERROR(store_->SaveDirectory(*initial, 1, /*replace=*/true));
    handle_->Set(std::move(built).value());
    return uint64_t{1};
  }
  auto built = Directory::Build(std::move((*stored)->content), (*stored)->version);
  if (!built.ok()) {
    return Status(StatusCode::kDataLoss, "STORED_DIRECTORY_INVALID",
                  "the stored directory does not validate: " + built.status().ToString());
  }
  handle_->Set(std::move(built).value());
  return (*stored)->version;
}

StatusOr<uint64_t> DirectoryManager::Apply(const grid::v1::DirectoryContent& delta, bool replace) {
  std::lock_guard<std::mutex> lock(mu_);
  auto current = handle_->Get();
  const uint64_t version = current->version() + 1;
  auto built = Directory::Build(MergeContent(current->content(), delta, replace), version);
  if (!built.ok()) return built.status();
  GRID_RETURN_IF_ERROR(store_->SaveDirectory(delta, version, replace));
  handle_->Set(std::move(built).value());
  return version;
}

}  // namespace grid::services
