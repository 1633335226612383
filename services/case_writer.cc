// The case writer: see case_writer.h.
#include "services/case_writer.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>
#include <vector>

#include "engine/reasons.h"
#include "storage/case_index.h"
#include "storage/case_query.h"
#include "storage/keys.h"

namespace grid::services {
namespace {

// The assignee a case's open load counts against, if any.
std::string OpenAssignee(const grid::v1::Case& c) {
  if (!IsOpen(c.status())) return "";
  return c.unit_code().empty() ? c.routing().assignee_member_id() : c.assignee_member_id();
}

bool IsEscalation(grid::v1::EventType t) {
  return t == grid::v1::EVENT_TYPE_ESCALATED || t == grid::v1::EVENT_TYPE_SUBTASK_OVERDUE;
}

}  // namespace

StatusOr<std::unique_ptr<CaseWriter>> CaseWriter::Start(storage::Store* store, const Clock* clock,
                                                        const DirectoryHandle* directory, const Lifecycle* lifecycle,
                                                        AssigneeLoad* load, Options options) {
  auto last = store->MaxCaseId();
  if (!last.ok()) return last.status();
  auto cursor = store->LastFeedCursor();
  if (!cursor.ok()) return cursor.status();
  return std::unique_ptr<CaseWriter>(new CaseWriter(store, clock, directory, lifecycle, load, options, *last, *cursor));
}

CaseWriter::CaseWriter(storage::Store* store, const Clock* clock, const DirectoryHandle* directory,
                       const Lifecycle* lifecycle, AssigneeLoad* load, Options options, uint64_t last_id,
                       uint64_t last_cursor)
    : store_(store),
      clock_(clock),
      directory_(directory),
      lifecycle_(lifecycle),
      load_(load),
      options_(options),
      ids_(last_id),
      cursor_(last_cursor) {
  thread_ = std::thread([this] { Run(); });
  completion_thread_ = std::thread([this] { RunCompletions(); });
}

CaseWriter::~CaseWriter() { Stop(); }

bool CaseWriter::Enqueue(Item&& item) {
  const auto* cmd = std::get_if<Command>(&item);
  const bool timer = cmd != nullptr && cmd->command.has_fire();
  {
    MutexLock lock(&mu_);
    auto& q = timer ? timer_queue_ : queue_;
    if (stopping_ || q.size() >= options_.queue_capacity) return false;
    q.push_back(std::move(item));
  }
  cv_.Signal();
  return true;
}

bool CaseWriter::Submit(Submission&& s) { return Enqueue(Item(std::move(s))); }
bool CaseWriter::Execute(Command&& c) { return Enqueue(Item(std::move(c))); }

size_t CaseWriter::queued() const {
  MutexLock lock(&mu_);
  return queue_.size() + timer_queue_.size();
}

void CaseWriter::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  {
    MutexLock lock(&done_mu_);
    writer_finished_ = true;
  }
  done_cv_.SignalAll();
  if (completion_thread_.joinable()) completion_thread_.join();
}

void CaseWriter::RunCompletions() {
  for (;;) {
    std::vector<std::function<void()>> batch;
    {
      MutexLock lock(&done_mu_);
      completing_ = false;
      while (!writer_finished_ && done_queue_.empty()) done_cv_.Wait(&done_mu_);
      if (done_queue_.empty()) return;  // the writer has stopped and everything is completed
      batch = std::move(done_queue_.front());
      done_queue_.pop_front();
      completing_ = true;
    }
    for (auto& complete : batch) complete();
  }
}

void CaseWriter::Run() {
  std::deque<Item> batch;
  for (;;) {
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty() && timer_queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty() && timer_queue_.empty()) return;  // stopping and drained
      // Callers first; deadlines take a bounded share while callers wait.
      const size_t timers =
          std::min(timer_queue_.size(),
                   queue_.empty() ? options_.max_batch : std::min(options_.max_timer_share, options_.max_batch / 2));
      while (!queue_.empty() && batch.size() < options_.max_batch - timers) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      while (!timer_queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(timer_queue_.front()));
        timer_queue_.pop_front();
      }
    }
    if (batch_listener_) batch_listener_(batch.size());
    Process(batch);
    batch.clear();
  }
}

void CaseWriter::Process(std::deque<Item>& batch) {
  const auto dir = directory_->Get();

  // Every case this batch touches: its stored state (null for a new case)
  // and its latest state, with the events appended, in order of first touch.
  struct Touched {
    std::optional<grid::v1::Case> before;
    grid::v1::Case after;
    std::vector<grid::v1::CaseEvent> events;
    std::string caller, idempotency_key;
    uint64_t fingerprint = 0;
  };
  std::vector<Touched> touched;
  std::unordered_map<uint64_t, size_t> by_id;            // case id -> index into touched
  std::unordered_map<std::string, size_t> pending_keys;  // idempotency key -> index into touched

  // Loads a case into `touched` (from the batch or from storage).
  auto touch = [&](uint64_t id) -> StatusOr<size_t> {
    if (auto it = by_id.find(id); it != by_id.end()) return it->second;
    auto c = store_->GetCase(id);
    if (!c.ok()) return c.status();
    if (!c->has_value()) return Error(reason::CASE_NOT_FOUND, "no case " + CaseIdToString(id));
    Touched t;
    t.before = **c;
    t.after = std::move(**c);
    touched.push_back(std::move(t));
    by_id.emplace(id, touched.size() - 1);
    return touched.size() - 1;
  };

  // What becomes of each item: a case (index into touched) and the events
  // this item appended, a case already stored, or an error.
  struct Outcome {
    int index = -1;
    std::vector<grid::v1::CaseEvent> events;
    std::optional<grid::v1::Case> stored;  // submissions: the case a retry gets; commands: the case after it
    Status error;
  };
  std::vector<Outcome> outcomes(batch.size());
  std::vector<storage::DueKey> orphans;  // due-time entries no record asks for

  for (size_t i = 0; i < batch.size(); ++i) {
    Outcome& out = outcomes[i];
    const Micros now = clock_->NowMicros();
    if (auto* s = std::get_if<Submission>(&batch[i])) {
      const std::string& key = s->request.idempotency_key();
      const uint64_t fingerprint = RequestFingerprint(s->request);
      const Status reused =
          Error(reason::IDEMPOTENCY_KEY_REUSED,
                "idempotency key '" + key + "' was already used by this caller for a different request");
      std::string full_key;
      if (!key.empty()) {
        full_key = storage::IdempotencyKey(s->actor.id, key);
        if (auto it = pending_keys.find(full_key); it != pending_keys.end()) {
          if (touched[it->second].fingerprint == fingerprint) {
            out.index = static_cast<int>(it->second);
          } else {
            out.error = reused;
          }
          continue;
        }
        auto found = store_->FindIdempotency(s->actor.id, key);
        if (!found.ok()) {
          out.error = found.status();
          continue;
        }
        if (found->has_value()) {
          if ((*found)->fingerprint != fingerprint) {
            out.error = reused;
            continue;
          }
          auto c = store_->GetCase((*found)->case_id);
          if (!c.ok()) {
            out.error = c.status();
          } else if (!c->has_value()) {
            out.error = Error(reason::CORRUPT_RECORD, "idempotency key names a missing case");
          } else {
            out.stored = std::move(**c);
          }
          continue;
        }
      }
      const uint64_t id = ids_.Next(now);
      NewCase fresh = BuildNewCase(s->request, s->actor, std::move(s->routing), id, now);
      if (lifecycle_ != nullptr) lifecycle_->StartClocks(*dir, &fresh.record, now);
      storage::SetUnitPath(*dir, &fresh.record);
      Touched t;
      t.after = std::move(fresh.record);
      t.events = std::move(fresh.events);
      t.caller = s->actor.id;
      t.idempotency_key = key;
      t.fingerprint = fingerprint;
      touched.push_back(std::move(t));
      by_id.emplace(id, touched.size() - 1);
      out.index = static_cast<int>(touched.size() - 1);
      if (!key.empty()) pending_keys.emplace(std::move(full_key), touched.size() - 1);
      continue;
    }

    auto& cmd = std::get<Command>(batch[i]);
    if (lifecycle_ == nullptr) {
      out.error = Error(reason::NO_LIFECYCLE, "this writer takes no commands");
      continue;
    }
    // Field checks first, so that a malformed id is INVALID_ARGUMENT, not NOT_FOUND.
    if (Status v = ValidateCommand(cmd.command, lifecycle_->options()); !v.ok()) {
      out.error = v;
      continue;
    }
    auto id = ParseCaseId(CommandCaseId(cmd.command));
    auto at = touch(*id);
    if (!at.ok()) {
      out.error = at.status();
      continue;
    }
    std::optional<size_t> master_at;
    if (cmd.command.has_merge()) {
      auto m = touch(*ParseCaseId(cmd.command.merge().master_case_id()));
      if (!m.ok() && m.status().code() != StatusCode::kNotFound) {
        out.error = m.status();
        continue;
      }
      if (m.ok()) master_at = *m;
    }
    if (master_at && *master_at == *at) {
      out.error = Error(reason::SELF_MERGE, "a case cannot be merged into itself");
      continue;
    }
    const grid::v1::Case* master = master_at ? &touched[*master_at].after : nullptr;
    auto tr = lifecycle_->Apply(*dir, touched[*at].after, master, cmd.command, cmd.actor, now);
    if (!tr.ok()) {
      out.error = tr.status();
      // A timer that the stored record does not ask for is an orphan: its
      // entry goes in this batch. (One that an earlier command of this batch
      // removed goes anyway, with that command's index difference.)
      if (cmd.command.has_fire() && tr.status().reason() == reason::STALE_TIMER.name && touched[*at].before) {
        const auto& f = cmd.command.fire();
        const PendingTimer timer{f.due_micros(), f.kind(), f.subtask_index(), f.warning()};
        const auto stored = PendingTimers(*touched[*at].before);
        if (std::find(stored.begin(), stored.end(), timer) == stored.end()) {
          orphans.push_back(storage::DueKey{static_cast<uint64_t>(f.due_micros()), *id, static_cast<int>(f.kind()),
                                            f.subtask_index(), f.warning()});
        }
      }
      continue;
    }
    Touched& t = touched[*at];
    t.after = std::move(tr->next);
    storage::SetUnitPath(*dir, &t.after);
    for (const auto& e : tr->events) t.events.push_back(e);
    out.index = static_cast<int>(*at);
    out.events = std::move(tr->events);
    out.stored = t.after;
    if (tr->master) {
      Touched& m = touched[*master_at];
      m.after = std::move(*tr->master);
      storage::SetUnitPath(*dir, &m.after);
      for (auto& e : tr->master_events) m.events.push_back(std::move(e));
    }
  }

  // Only cases that changed are written; feed entries follow commit order.
  std::vector<storage::CaseChange> changes;
  std::vector<grid::v1::FeedEntry> feed;
  uint64_t cursor = cursor_;
  Micros earliest_due = std::numeric_limits<Micros>::max();
  for (const Touched& t : touched) {
    if (t.events.empty()) continue;
    changes.push_back(storage::CaseChange{t.before ? &*t.before : nullptr, &t.after, &t.events, t.caller,
                                          t.idempotency_key, t.fingerprint});
    // The chain SetUnitPath already put on the record (root first), then the
    // units of the chain before the change that it left (a case transferred
    // or re-routed to another town): the town it left sees it go.
    std::vector<std::string> path = storage::IndexedPath(t.after);
    if (t.before) {
      for (auto& code : storage::IndexedPath(*t.before)) {
        if (std::find(path.begin(), path.end(), code) == path.end()) path.push_back(std::move(code));
      }
    }
    for (const auto& e : t.events) {
      grid::v1::FeedEntry entry;
      entry.set_cursor(++cursor);
      *entry.mutable_event() = e;
      for (const auto& code : path) entry.add_unit_path(code);
      entry.set_escalation(IsEscalation(e.type()));
      feed.push_back(std::move(entry));
    }
    const auto timers = PendingTimers(t.after);
    if (!timers.empty()) earliest_due = std::min(earliest_due, timers.front().due);
  }
  Status committed = changes.empty() && orphans.empty() ? Status::Ok() : store_->Commit(changes, feed, orphans);
  if (committed.ok()) {
    cursor_ = cursor;
    if (load_ != nullptr) {
      for (const Touched& t : touched) {
        if (t.events.empty()) continue;
        const std::string was = t.before ? OpenAssignee(*t.before) : "";
        const std::string now_on = OpenAssignee(t.after);
        if (was == now_on) continue;
        if (!was.empty()) load_->Remove(was);
        if (!now_on.empty()) load_->Add(now_on);
      }
    }
  }

  std::vector<std::function<void()>> completions;
  completions.reserve(batch.size() + 1);
  // The feed first: by the time a caller (or a deadline's waiter) hears of
  // its change, the change's entries have been published and counted.
  if (committed.ok() && !feed.empty() && feed_listener_) {
    completions.push_back([this, feed = std::move(feed)] { feed_listener_(feed); });
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Outcome& out = outcomes[i];
    if (auto* s = std::get_if<Submission>(&batch[i])) {
      StatusOr<grid::v1::Case> result = !out.error.ok()   ? StatusOr<grid::v1::Case>(out.error)
                                        : out.stored      ? StatusOr<grid::v1::Case>(std::move(*out.stored))
                                        : !committed.ok() ? StatusOr<grid::v1::Case>(committed)
                                                          : StatusOr<grid::v1::Case>(touched[out.index].after);
      completions.push_back(
          [done = std::move(s->done), result = std::move(result)]() mutable { done(std::move(result)); });
      continue;
    }
    auto& cmd = std::get<Command>(batch[i]);
    StatusOr<CommandResult> result =
        !out.error.ok()   ? StatusOr<CommandResult>(out.error)
        : !committed.ok() ? StatusOr<CommandResult>(committed)
                          : StatusOr<CommandResult>(CommandResult{std::move(*out.stored), std::move(out.events)});
    completions.push_back(
        [done = std::move(cmd.done), result = std::move(result)]() mutable { done(std::move(result)); });
  }
  if (committed.ok() && earliest_due != std::numeric_limits<Micros>::max() && due_listener_) {
    due_listener_(earliest_due);
  }
  bool writer_idle;
  {
    MutexLock lock(&mu_);
    writer_idle = queue_.empty() && timer_queue_.empty();
  }
  bool handed_over;
  {
    // Only this thread queues completions, so with the queue empty and the
    // completion thread idle, running them here keeps commit order.
    MutexLock lock(&done_mu_);
    handed_over = !writer_idle || completing_ || !done_queue_.empty();
    if (handed_over) done_queue_.push_back(std::move(completions));
  }
  if (handed_over) {
    done_cv_.Signal();
    return;
  }
  for (auto& complete : completions) complete();
}

}  // namespace grid::services
