// DirectoryManager: see directory_manager.h.
//
// Thread-safety: changes are serialised by mu_ (directory_manager.h).
#include "services/directory_manager.h"

#include <malloc.h>

#include <chrono>

#include "engine/reasons.h"

namespace grid::services {

void DirectoryManager::SaveFiles(const Directory& d, bool index) {
  // The table names the index it was saved with: a crash between the two
  // leaves a pair that Restore refuses (and rebuilds), never a wrong one.
  if (saved_.files == nullptr) return;
  Status st = saved_.index.empty() || !index ? Status::Ok() : d.SaveIndex(*saved_.files, saved_.index);
  if (st.ok() && !saved_.table.empty()) st = d.SaveTable(*saved_.files, saved_.table);
  save_error_ = st.ok() ? std::string() : st.ToString();
}

StatusOr<uint64_t> DirectoryManager::LoadAtStart(const std::optional<grid::v1::DirectoryContent>& initial) {
  MutexLock lock(&mu_);
  // A stopwatch for the start-up report (how long loading took), not a time
  // anything acts on: it reads the monotonic clock, so the injected Clock
  // (which a drill may offset and a test may freeze) does not distort it.
  using Stopwatch = std::chrono::steady_clock;
  const auto t0 = Stopwatch::now();
  auto stored = store_->LoadDirectory(/*with_units=*/false);
  if (!stored.ok()) return stored.status();
  const auto t1 = Stopwatch::now();
  if (!stored->has_value()) {
    if (!initial) return uint64_t{0};
    auto built = Directory::Build(*initial, 1);
    if (!built.ok()) return built.status();
    GRID_RETURN_IF_ERROR(store_->SaveDirectory(*initial, 1, /*replace=*/true));
    report_ = RestoreReport{IndexOrigin::kBuilt, {}};
    SaveFiles(**built);
    handle_->Set(std::move(built).value());
    return uint64_t{1};
  }
  const storage::Store* store = store_;
  BoundarySource boundaries = [store](bool grids, const BoundaryVisitor& visit) {
    return store->ForEachBoundary(grids, visit);
  };
  UnitSource units = [store](const UnitVisitor& visit) { return store->ForEachUnit(visit); };
  auto built =
      Directory::Restore(std::move((*stored)->content), (*stored)->version, units, boundaries, saved_, &report_);
  report_.load_seconds = std::chrono::duration<double>(t1 - t0).count();
  report_.restore_seconds = std::chrono::duration<double>(Stopwatch::now() - t1).count();
  if (!built.ok()) {
    return Error(reason::STORED_DIRECTORY_INVALID,
                 "the stored directory does not validate: " + built.status().ToString());
  }
  if (report_.origin == IndexOrigin::kRebuilt || report_.table_origin == IndexOrigin::kRebuilt) {
    // An index loaded from its file is not written again (1.6 GB at
    // national scale): its label is the one the table records.
    SaveFiles(**built, /*index=*/report_.origin != IndexOrigin::kLoaded);
    // A rebuild frees hundreds of MB at national scale (the units staged
    // from the store, decoded boundaries) that malloc keeps: give it back.
    malloc_trim(0);
  }
  handle_->Set(std::move(built).value());
  return (*stored)->version;
}

StatusOr<uint64_t> DirectoryManager::Apply(const grid::v1::DirectoryContent& delta, bool replace) {
  MutexLock lock(&mu_);
  auto current = handle_->Get();
  const uint64_t version = current->version() + 1;
  auto built = Directory::Apply(*current, delta, replace, version);
  if (!built.ok()) return built.status();
  GRID_RETURN_IF_ERROR(store_->SaveDirectory(delta, version, replace));
  handle_->Set(built.value());
  // After the swap: the new version serves while its index is written.
  SaveFiles(**built);
  return version;
}

RestoreReport DirectoryManager::restore_report() const {
  MutexLock lock(&mu_);
  return report_;
}

std::string DirectoryManager::last_index_save_error() const {
  MutexLock lock(&mu_);
  return save_error_;
}

}  // namespace grid::services
