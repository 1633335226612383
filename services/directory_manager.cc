// DirectoryManager: see directory_manager.h.
//
// Thread-safety: changes are serialised by mu_ (directory_manager.h).
#include "services/directory_manager.h"

#include <malloc.h>

#include <chrono>

#include "engine/reasons.h"
#include "engine/validation.h"
#include "storage/case_query.h"

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

StatusOr<DirectoryManager::Applied> DirectoryManager::Apply(const grid::v1::DirectoryContent& delta, bool replace,
                                                            uint32_t confirm_removed_units) {
  MutexLock lock(&mu_);
  auto current = handle_->Get();
  return ReplaceOrMerge(*current, delta, replace, confirm_removed_units);
}

StatusOr<DirectoryManager::Applied> DirectoryManager::RestorePrevious(uint32_t confirm_removed_units,
                                                                      uint64_t* restored) {
  MutexLock lock(&mu_);
  auto previous = store_->LoadPreviousDirectory();
  if (!previous.ok()) return previous.status();
  if (!previous->has_value()) {
    return Error(reason::NO_PREVIOUS_DIRECTORY, "no directory replaced by a REPLACE import is kept to restore");
  }
  *restored = (*previous)->version;
  auto current = handle_->Get();
  return ReplaceOrMerge(*current, (*previous)->content, /*replace=*/true, confirm_removed_units);
}

StatusOr<DirectoryManager::Applied> DirectoryManager::ReplaceOrMerge(const Directory& current,
                                                                     const grid::v1::DirectoryContent& delta,
                                                                     bool replace, uint32_t confirm_removed_units) {
  GRID_RETURN_IF_ERROR(CheckCharacters(delta));
  const uint64_t version = current.version() + 1;
  auto built = Directory::Apply(current, delta, replace, version);
  if (!built.ok()) return built.status();
  Applied applied;
  applied.version = version;
  if (replace) GRID_RETURN_IF_ERROR(CheckRemovals(current, **built, confirm_removed_units, &applied.removed_units));
  GRID_RETURN_IF_ERROR(store_->SaveDirectory(delta, version, replace));
  handle_->Set(built.value());
  // After the swap: the new version serves while its index is written.
  SaveFiles(**built);
  return applied;
}

Status DirectoryManager::CheckRemovals(const Directory& current, const Directory& next, uint32_t confirm,
                                       uint32_t* removed) const {
  // The removed units whose parent stays (or that are roots): the tops of
  // the removed subtrees. A unit's cases are indexed under its whole chain,
  // so one query per top finds an open case anywhere below it.
  std::vector<std::string> tops;
  std::string root;
  uint32_t count = 0;
  const UnitTable& units = current.units();
  for (uint32_t i = 0; i < units.size(); ++i) {
    const UnitRef u = units.at(i);
    if (next.FindUnit(u->code()) != nullptr) continue;
    ++count;
    const UnitRef parent = u->parent();
    if (parent == nullptr) root = u->code();
    if (parent == nullptr || next.FindUnit(parent->code()) != nullptr) tops.emplace_back(u->code());
  }
  *removed = count;
  auto refuse = [&](const std::string& why) {
    return Error(reason::REPLACE_REMOVES_UNITS,
                 "this REPLACE removes " + std::to_string(count) + " units, " + why +
                     "; to proceed, send confirm_removed_units = " + std::to_string(count));
  };
  if (confirm != 0 && confirm != count) {
    return refuse("not the " + std::to_string(confirm) + " confirmed");
  }
  if (count == 0 || confirm == count) return Status::Ok();
  if (!root.empty()) return refuse("among them the root " + root);
  for (const std::string& top : tops) {
    storage::CaseListQuery q;
    q.scope = top;
    q.statuses = {grid::v1::CASE_STATUS_SUBMITTED,   grid::v1::CASE_STATUS_ROUTED,   grid::v1::CASE_STATUS_ACCEPTED,
                  grid::v1::CASE_STATUS_IN_PROGRESS, grid::v1::CASE_STATUS_RESOLVED, grid::v1::CASE_STATUS_CALLED_BACK,
                  grid::v1::CASE_STATUS_WAITING};
    q.page_size = 1;
    q.raw = true;
    auto page = store_->ListCases(q);
    if (!page.ok()) return page.status();
    // A page cut short by the examination bound may hide one: count it as open.
    if (!page->raw.empty() || !page->done) return refuse("among them " + top + " with open cases");
  }
  return Status::Ok();
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
