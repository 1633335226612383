// The deadline scheduler: see deadline_scheduler.h.
#include "services/deadline_scheduler.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <limits>

#include "engine/case_id.h"
#include "engine/reasons.h"

namespace grid::services {
namespace {

constexpr Micros kNever = std::numeric_limits<Micros>::max();

}  // namespace

DeadlineScheduler::DeadlineScheduler(storage::Store* store, CaseWriter* writer, const Clock* clock, Options options)
    : store_(store),
      writer_(writer),
      clock_(clock),
      options_(options),
      work_(boost::asio::make_work_guard(io_)),
      timer_(io_) {}

DeadlineScheduler::~DeadlineScheduler() { Stop(); }

void DeadlineScheduler::Start() {
  thread_ = std::thread([this] { io_.run(); });
  boost::asio::post(io_, [this] {
    FireDue();
    Arm();
  });
}

void DeadlineScheduler::Stop() {
  if (stopped_.exchange(true)) return;
  boost::asio::post(io_, [this] { timer_.cancel(); });
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void DeadlineScheduler::Wake(Micros due) {
  if (stopped_.load()) return;
  boost::asio::post(io_, [this, due] {
    if (static_cast<uint64_t>(std::max<Micros>(due, 0)) <= floor_.due_micros) {
      floor_ = storage::DueKey{static_cast<uint64_t>(std::max<Micros>(due, 0)), 0, 0, 0, false};
    }
    if (due < armed_for_) Arm();
  });
}

size_t DeadlineScheduler::RunDueNow() {
  if (stopped_.load() || !thread_.joinable()) return 0;
  auto fired = std::make_shared<std::promise<size_t>>();
  auto result = fired->get_future();
  boost::asio::post(io_, [this, fired] {
    fired->set_value(FireDue());
    Arm();
  });
  // A Stop that races with this call may drop the posted work: do not wait forever.
  while (result.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (stopped_.load()) return 0;
  }
  return result.get();
}

size_t DeadlineScheduler::FireDue() {
  size_t total = 0;
  for (;;) {
    const Micros now = clock_->NowMicros();
    auto due = store_->DueUpTo(static_cast<uint64_t>(std::max<Micros>(now, 0)), options_.max_in_flight, floor_);
    if (!due.ok() || due->empty()) return total;
    // Hand them to the writer and wait until they are committed: the next
    // read of the index must not see them again.
    std::vector<std::future<Status>> results;
    results.reserve(due->size());
    bool queue_full = false;
    for (const auto& d : *due) {
      CaseWriter::Command c;
      auto* f = c.command.mutable_fire();
      f->set_case_id(CaseIdToString(d.case_id));
      f->set_kind(static_cast<grid::v1::DeadlineKind>(d.kind));
      f->set_due_micros(static_cast<int64_t>(d.due_micros));
      f->set_subtask_index(d.subtask);
      f->set_warning(d.warning);
      c.actor = WorkActor{"deadline", "system", ""};
      auto promise = std::make_shared<std::promise<Status>>();
      results.push_back(promise->get_future());
      c.done = [promise](StatusOr<CaseWriter::CommandResult> r) { promise->set_value(r.status()); };
      if (!writer_->Execute(std::move(c))) {
        results.pop_back();
        queue_full = true;
        break;
      }
    }
    size_t fired = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      Status s = results[i].get();
      if (s.ok()) {
        ++fired;
      } else if (s.reason() == reason::STALE_TIMER.name) {
        // The case no longer has this timer: a transition won the race, or
        // the entry was an orphan, which the writer deleted in its batch.
      } else {
        backoff_ = true;  // e.g. a storage error: do not spin on it
      }
    }
    total += fired;
    fired_ += fired;
    // Everything up to the last entry read was fired or found stale, unless
    // the round was cut short: then the floor stays where it was.
    if (!queue_full && !backoff_) floor_ = due->back();
    if (queue_full) {
      backoff_ = true;  // let intake drain; come back shortly
      return total;
    }
    if (backoff_) return total;
    if (due->size() < options_.max_in_flight) return total;
  }
}

void DeadlineScheduler::Arm() {
  if (stopped_.load()) return;
  auto next = store_->DueUpTo(std::numeric_limits<uint64_t>::max(), 1, floor_);
  const Micros now = clock_->NowMicros();
  Micros wait = options_.max_wait;
  armed_for_ = kNever;
  if (next.ok() && !next->empty()) {
    const Micros due = static_cast<Micros>(next->front().due_micros);
    armed_for_ = due;
    wait = std::clamp<Micros>(due - now, 0, options_.max_wait);
  }
  if (backoff_) {
    wait = std::max(wait, options_.retry_after);
    backoff_ = false;
  }
  timer_.expires_after(std::chrono::microseconds(wait));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: re-armed or stopping
    FireDue();
    Arm();
  });
}

}  // namespace grid::services
