#include "tools/crashtest/checker.h"

#include <algorithm>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "engine/lifecycle.h"
#include "engine/timestamp.h"
#include "grid/v1/service.grpc.pb.h"
#include "tools/crashtest/rpc.h"

namespace grid::crashtest {

namespace v1 = grid::v1;

namespace {

constexpr size_t kMaxProblems = 20;
// Two escalations of one stage must be at least its time apart, less this
// much for the scheduler's rounding.
constexpr int64_t kDueSlackMicros = 2'000'000;

std::unique_ptr<grpc::ClientContext> Context(std::chrono::seconds timeout = kCallTimeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

// Every case of `root`'s subtree, records only, by ListCases.
bool ListAll(v1::CaseQuery::Stub& stub, const std::string& root, std::vector<v1::Case>* out, std::string* error) {
  out->clear();
  v1::ListCasesRequest req;
  req.set_scope_unit_code(root);
  req.set_page_size(1000);
  do {
    v1::ListCasesResponse resp;
    auto ctx = Context();
    const grpc::Status st = stub.ListCases(ctx.get(), req, &resp);
    if (!st.ok()) {
      *error = "ListCases: " + st.error_message();
      return false;
    }
    for (auto& c : *resp.mutable_cases()) out->push_back(std::move(c));
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return true;
}

bool DueBy(const v1::Case& c, int64_t server_start) {
  for (const PendingTimer& t : PendingTimers(c)) {
    if (t.due <= server_start) return true;
  }
  return false;
}

std::string Key(const std::string& case_id, uint64_t seq) { return case_id + "#" + std::to_string(seq); }

}  // namespace

void Figures::Problem(std::string what) {
  if (problems.size() < kMaxProblems) problems.push_back(std::move(what));
}

bool SettleDeadlines(const std::shared_ptr<grpc::Channel>& channel, const std::string& root, int64_t server_start,
                     std::chrono::seconds timeout, uint64_t* still_due, std::string* error) {
  auto query = v1::CaseQuery::NewStub(channel);
  auto feed = v1::EscalationFeed::NewStub(channel);
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() + timeout + std::chrono::seconds(30));
  v1::WatchRequest every_change;
  every_change.set_all_changes(true);
  every_change.set_from_latest(true);
  auto changes = feed->Watch(&watch_ctx, every_change);
  bool ok = true;
  while (true) {
    std::vector<v1::Case> cases;
    if (!ListAll(*query, root, &cases, error)) {
      ok = false;
      break;
    }
    *still_due = static_cast<uint64_t>(
        std::count_if(cases.begin(), cases.end(), [&](const v1::Case& c) { return DueBy(c, server_start); }));
    if (*still_due == 0 || std::chrono::steady_clock::now() >= give_up) break;
    v1::WatchResponse change;
    if (!changes->Read(&change)) {
      *error = "the feed ended while waiting for deadlines to fire";
      ok = false;
      break;
    }
  }
  watch_ctx.TryCancel();
  (void)changes->Finish();
  return ok;
}

bool ReadFeed(const std::shared_ptr<grpc::Channel>& channel, std::vector<v1::FeedEntry>* feed, uint64_t* head,
              std::string* error) {
  auto stub = v1::EscalationFeed::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  v1::WatchRequest req;
  req.set_all_changes(true);
  auto reader = stub->Watch(&ctx, req);
  v1::WatchResponse r;
  bool caught_up = false;
  while (!caught_up && reader->Read(&r)) {
    for (auto& e : *r.mutable_entries()) feed->push_back(std::move(e));
    *head = r.cursor();
    caught_up = r.caught_up();
  }
  ctx.TryCancel();
  const grpc::Status st = reader->Finish();
  if (!caught_up) *error = "the feed replay ended before it caught up: " + st.error_message();
  return caught_up;
}

Figures Check(const std::shared_ptr<grpc::Channel>& channel, const std::string& root, const LogContents& log,
              const std::vector<v1::FeedEntry>& feed, int64_t server_start, uint64_t still_due) {
  Figures f;
  auto query = v1::CaseQuery::NewStub(channel);
  std::vector<v1::Case> records;
  std::string error;
  if (!ListAll(*query, root, &records, &error)) {
    f.read_failed = true;
    f.Problem(error);
    return f;
  }
  f.cases_in_store = records.size();

  // Every history, read with a few threads.
  std::vector<v1::GetCaseResponse> got(records.size());
  std::vector<std::string> read_errors(4);
  {
    std::vector<std::thread> readers;
    for (size_t t = 0; t < read_errors.size(); ++t) {
      readers.emplace_back([&, t] {
        auto stub = v1::CaseQuery::NewStub(channel);
        for (size_t i = t; i < records.size(); i += read_errors.size()) {
          v1::GetCaseRequest req;
          req.set_case_id(records[i].id());
          auto ctx = Context();
          const grpc::Status st = stub->GetCase(ctx.get(), req, &got[i]);
          if (!st.ok()) {
            read_errors[t] = "GetCase " + records[i].id() + ": " + st.error_message();
            return;
          }
        }
      });
    }
    for (auto& r : readers) r.join();
  }
  for (const auto& e : read_errors) {
    if (!e.empty()) {
      f.read_failed = true;
      f.Problem(e);
    }
  }
  if (f.read_failed) return f;
  std::unordered_map<std::string, const v1::GetCaseResponse*> by_id;
  std::map<std::string, std::vector<std::string>> ids_by_key;
  for (const auto& g : got) {
    by_id[g.case_().id()] = &g;
    if (!g.case_().idempotency_key().empty()) ids_by_key[g.case_().idempotency_key()].push_back(g.case_().id());
  }

  // Cases: every acknowledged one is there under its key; no key made two.
  for (const auto& [key, ids] : ids_by_key) {
    if (ids.size() > 1) {
      f.duplicated.cases += ids.size() - 1;
      f.Problem("idempotency key " + key + " made " + std::to_string(ids.size()) + " cases: " + ids[0] + ", " + ids[1]);
    }
  }
  std::map<std::string, std::string> acked_key_id;
  for (const SubmitAck& a : log.submits) {
    ++f.acknowledged_cases;
    auto [it, fresh] = acked_key_id.emplace(a.key, a.case_id);
    if (!fresh && it->second != a.case_id) {
      ++f.duplicated.cases;
      f.Problem("idempotency key " + a.key + " was answered with two cases: " + it->second + ", " + a.case_id);
    }
    const auto found = by_id.find(a.case_id);
    if (found == by_id.end()) {
      ++f.lost.cases;
      f.Problem("acknowledged case " + a.case_id + " (key " + a.key + ") is not in the store");
    } else if (found->second->case_().idempotency_key() != a.key) {
      ++f.lost.cases;
      f.Problem("case " + a.case_id + " has key '" + found->second->case_().idempotency_key() + "', acknowledged for " +
                a.key);
    }
  }

  // Transitions: each acknowledged event at its sequence number, and the
  // call's note on no more events than it appended.
  for (const WorkAck& w : log.works) {
    ++f.acknowledged_transitions;
    const auto found = by_id.find(w.case_id);
    if (found == by_id.end()) {
      ++f.lost.transitions;
      f.Problem("acknowledged " + w.op + " of case " + w.case_id + ": the case is not in the store");
      continue;
    }
    const auto& events = found->second->events();
    bool all = true;
    std::map<int, int> acked_types;
    for (const auto& [seq, type] : w.events) {
      ++acked_types[type];
      const bool there = seq >= 1 && seq <= static_cast<uint64_t>(events.size()) &&
                         events[static_cast<int>(seq - 1)].seq() == seq &&
                         static_cast<int>(events[static_cast<int>(seq - 1)].type()) == type;
      all = all && there;
    }
    if (!all) {
      ++f.lost.transitions;
      f.Problem("acknowledged " + w.op + " of case " + w.case_id + " (version " + std::to_string(w.version) +
                ") is not in its history");
    }
    std::map<int, int> stored_types;
    for (const auto& e : events) {
      if (e.note() == w.note) ++stored_types[static_cast<int>(e.type())];
    }
    for (const auto& [type, n] : acked_types) {
      if (stored_types[type] > n) {
        ++f.duplicated.transitions;
        f.Problem(w.op + " of case " + w.case_id + " is in its history " + std::to_string(stored_types[type]) +
                  " times");
      }
    }
  }

  // Deadlines: no stage escalated twice for one due, none left pending.
  const int64_t stage_micros[] = {0, log.accept_s * 1'000'000, log.resolve_s * 1'000'000};
  for (const auto& g : got) {
    int64_t last[3] = {0, 0, 0};
    uint64_t fired = 0;
    for (const auto& e : g.events()) {
      if (e.type() != v1::EVENT_TYPE_ESCALATED || !e.automatic()) continue;
      const int kind = static_cast<int>(e.deadline_kind());
      if (kind < 1 || kind > 2) continue;
      ++fired;
      const int64_t at = FromTimestamp(e.at());
      if (last[kind] != 0 && stage_micros[kind] > 0 && at - last[kind] < stage_micros[kind] - kDueSlackMicros) {
        ++f.duplicated.deadlines;
        f.Problem("case " + g.case_().id() + ": " + v1::DeadlineKind_Name(e.deadline_kind()) + " escalated again " +
                  std::to_string((at - last[kind]) / 1'000'000) + " s after the last one (event #" +
                  std::to_string(e.seq()) + ")");
      }
      last[kind] = at;
    }
    f.deadline_escalations += fired;
    if (fired > 0) ++f.cases_escalated;
    f.max_escalations_per_case = std::max(f.max_escalations_per_case, fired);
    if (DueBy(g.case_(), server_start))
      f.Problem("case " + g.case_().id() + " has a timer that fell due and never fired");
  }
  f.lost.deadlines += still_due;

  // The feed: cursors without a gap; each event of each history once.
  f.feed_entries = feed.size();
  std::unordered_map<std::string, int> feed_count;
  std::unordered_map<uint64_t, const v1::FeedEntry*> by_cursor;
  for (size_t i = 0; i < feed.size(); ++i) {
    const auto& e = feed[i];
    by_cursor[e.cursor()] = &e;
    ++feed_count[Key(e.event().case_id(), e.event().seq())];
    const uint64_t expected = i == 0 ? 1 : feed[i - 1].cursor() + 1;
    if (e.cursor() != expected) {
      f.lost.feed += e.cursor() > expected ? e.cursor() - expected : 1;
      f.Problem("feed cursor " + std::to_string(e.cursor()) + " follows " +
                (i == 0 ? std::string("the start") : std::to_string(feed[i - 1].cursor())));
    }
    const auto c = by_id.find(e.event().case_id());
    if (c == by_id.end() || e.event().seq() < 1 || e.event().seq() > static_cast<uint64_t>(c->second->events_size())) {
      ++f.lost.feed;
      f.Problem("feed entry " + std::to_string(e.cursor()) + " names event #" + std::to_string(e.event().seq()) +
                " of case " + e.event().case_id() + ", which its history does not hold");
    }
  }
  for (const auto& g : got) {
    for (const auto& e : g.events()) {
      const int n = feed_count[Key(g.case_().id(), e.seq())];
      if (n == 0) {
        ++f.lost.feed;
        f.Problem("event #" + std::to_string(e.seq()) + " of case " + g.case_().id() + " is not in the feed");
      } else if (n > 1) {
        f.duplicated.feed += static_cast<uint64_t>(n - 1);
        f.Problem("event #" + std::to_string(e.seq()) + " of case " + g.case_().id() + " is in the feed " +
                  std::to_string(n) + " times");
      }
    }
  }

  // Subscribers: every escalation of the scope up to the confirmed cursor,
  // each under one cursor only.
  for (const auto& [scope, sub] : log.subscribers) {
    std::set<uint64_t> seen_cursors;
    std::map<std::string, std::set<uint64_t>> cursors_by_event;
    for (const FeedSeen& s : sub.seen) {
      seen_cursors.insert(s.cursor);
      cursors_by_event[Key(s.case_id, s.seq)].insert(s.cursor);
      const auto it = by_cursor.find(s.cursor);
      if (it == by_cursor.end() || it->second->event().case_id() != s.case_id || it->second->event().seq() != s.seq) {
        ++f.lost.watch;
        f.Problem("subscriber " + scope + " received cursor " + std::to_string(s.cursor) + " as event #" +
                  std::to_string(s.seq) + " of case " + s.case_id + ", which the feed does not hold there");
      }
    }
    for (const auto& [event, cursors] : cursors_by_event) {
      if (cursors.size() > 1) {
        f.duplicated.watch += cursors.size() - 1;
        f.Problem("subscriber " + scope + " received " + event + " under " + std::to_string(cursors.size()) +
                  " cursors");
      }
    }
    uint64_t checked = 0;
    for (const auto& e : feed) {
      if (e.cursor() > sub.confirmed || !e.escalation()) continue;
      if (std::find(e.unit_path().begin(), e.unit_path().end(), scope) == e.unit_path().end()) continue;
      ++checked;
      if (!seen_cursors.contains(e.cursor())) {
        ++f.lost.watch;
        f.Problem("subscriber " + scope + " never received escalation cursor " + std::to_string(e.cursor()) +
                  " (event #" + std::to_string(e.event().seq()) + " of case " + e.event().case_id() + ")");
      }
    }
    f.subscriber_escalations[scope] = checked;
  }
  return f;
}

}  // namespace grid::crashtest
