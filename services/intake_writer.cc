// The intake writer: see intake_writer.h.
#include "services/intake_writer.h"

#include <unordered_map>
#include <vector>

#include "storage/keys.h"

namespace grid::services {

StatusOr<std::unique_ptr<IntakeWriter>> IntakeWriter::Start(storage::Store* store, const Clock* clock,
                                                            AssigneeLoad* load, size_t queue_capacity,
                                                            size_t max_batch) {
  auto last = store->MaxCaseId();
  if (!last.ok()) return last.status();
  return std::unique_ptr<IntakeWriter>(new IntakeWriter(store, clock, load, queue_capacity, max_batch, *last));
}

IntakeWriter::IntakeWriter(storage::Store* store, const Clock* clock, AssigneeLoad* load, size_t capacity,
                           size_t max_batch, uint64_t last_id)
    : store_(store), clock_(clock), load_(load), capacity_(capacity), max_batch_(max_batch), ids_(last_id) {
  thread_ = std::thread([this] { Run(); });
  completion_thread_ = std::thread([this] { RunCompletions(); });
}

IntakeWriter::~IntakeWriter() { Stop(); }

bool IntakeWriter::Submit(Submission&& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(s));
  }
  cv_.notify_one();
  return true;
}

void IntakeWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    writer_finished_ = true;
  }
  done_cv_.notify_all();
  if (completion_thread_.joinable()) completion_thread_.join();
}

void IntakeWriter::RunCompletions() {
  for (;;) {
    std::vector<std::function<void()>> batch;
    {
      std::unique_lock<std::mutex> lock(done_mu_);
      done_cv_.wait(lock, [this] { return writer_finished_ || !done_queue_.empty(); });
      if (done_queue_.empty()) return;  // the writer has stopped and everything is completed
      batch = std::move(done_queue_.front());
      done_queue_.pop_front();
    }
    for (auto& complete : batch) complete();
  }
}

void IntakeWriter::Run() {
  std::deque<Submission> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Process(batch);
    batch.clear();
  }
}

void IntakeWriter::Process(std::deque<Submission>& batch) {
  // What becomes of each submission: a new case (index into `fresh`), a case
  // already stored, or an error.
  struct Outcome {
    int fresh = -1;
    std::optional<grid::v1::Case> stored;
    Status error;
  };
  std::vector<Outcome> outcomes(batch.size());
  std::vector<NewCase> fresh;
  fresh.reserve(batch.size());
  std::vector<storage::CaseWrite> writes;
  std::vector<uint64_t> fingerprints(batch.size());
  std::unordered_map<std::string, size_t> pending;  // idempotency key -> index into fresh

  for (size_t i = 0; i < batch.size(); ++i) {
    Submission& s = batch[i];
    Outcome& out = outcomes[i];
    const std::string& key = s.request.idempotency_key();
    const uint64_t fingerprint = RequestFingerprint(s.request);
    const Status reused(StatusCode::kAlreadyExists, "IDEMPOTENCY_KEY_REUSED",
                        "idempotency key '" + key + "' was already used by this caller for a different request");
    std::string full_key;
    if (!key.empty()) {
      full_key = storage::IdempotencyKey(s.actor.id, key);
      if (auto it = pending.find(full_key); it != pending.end()) {
        if (writes[it->second].fingerprint == fingerprint) {
          out.fresh = static_cast<int>(it->second);
        } else {
          out.error = reused;
        }
        continue;
      }
      auto found = store_->FindIdempotency(s.actor.id, key);
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
          out.error = Status(StatusCode::kDataLoss, "CORRUPT_RECORD", "idempotency key names a missing case");
        } else {
          out.stored = std::move(**c);
        }
        continue;
      }
    }
    const Micros now = clock_->NowMicros();
    fresh.push_back(BuildNewCase(s.request, s.actor, std::move(s.routing), ids_.Next(now), now));
    writes.push_back(storage::CaseWrite{nullptr, s.actor.id, key, fingerprint});
    out.fresh = static_cast<int>(fresh.size() - 1);
    if (!key.empty()) pending.emplace(std::move(full_key), fresh.size() - 1);
  }
  for (size_t k = 0; k < writes.size(); ++k) writes[k].new_case = &fresh[k];

  Status committed = writes.empty() ? Status::Ok() : store_->CommitNewCases(writes);
  if (committed.ok() && load_ != nullptr) {
    for (const NewCase& c : fresh) {
      if (!c.record.routing().assignee_member_id().empty()) load_->Add(c.record.routing().assignee_member_id());
    }
  }
  std::vector<std::function<void()>> completions;
  completions.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    Outcome& out = outcomes[i];
    StatusOr<grid::v1::Case> result = !out.error.ok() ? StatusOr<grid::v1::Case>(out.error)
                                      : out.stored    ? StatusOr<grid::v1::Case>(std::move(*out.stored))
                                      : !committed.ok() ? StatusOr<grid::v1::Case>(committed)
                                                        : StatusOr<grid::v1::Case>(fresh[out.fresh].record);
    completions.push_back([done = std::move(batch[i].done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_queue_.push_back(std::move(completions));
  }
  done_cv_.notify_one();
}

}  // namespace grid::services
