// The crash test's checker: reads the store back over gRPC (ListCases,
// GetCase, a full EscalationFeed replay) and holds it to the AckLog:
//   - every acknowledged case is there, under its idempotency key, and no
//     key made two cases;
//   - every acknowledged transition is in its case's history with the
//     sequence numbers and event types the answer gave, and only once;
//   - no deadline fired twice (two automatic escalations of one stage closer
//     than the stage's time: each escalation sets the next due that far
//     ahead) and none was lost (a timer due before gridd last started and
//     still pending once it has had time to fire);
//   - the feed holds every event of every history exactly once, with no gap
//     in its cursors;
//   - each Watch subscriber received every escalation of its scope up to its
//     last confirmed cursor, and none under two cursors (the same cursor sent
//     twice is de-duplicated, not counted).
//
// Thread-safety: functions of their arguments; Check reads with a few threads
// of its own.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grid/v1/case.pb.h"
#include "tools/crashtest/ack_log.h"

namespace grid::crashtest {

struct Figures {
  uint64_t cases_in_store = 0;
  uint64_t acknowledged_cases = 0;
  uint64_t acknowledged_transitions = 0;
  uint64_t deadline_escalations = 0;  // automatic ESCALATED events in the store
  uint64_t cases_escalated = 0;       // cases with at least one
  uint64_t max_escalations_per_case = 0;
  uint64_t feed_entries = 0;
  std::map<std::string, uint64_t> subscriber_escalations;  // scope -> escalations checked

  struct Count {
    uint64_t cases = 0, transitions = 0, deadlines = 0, feed = 0, watch = 0;
    uint64_t total() const { return cases + transitions + deadlines + feed + watch; }
  };
  Count lost;
  Count duplicated;
  std::vector<std::string> problems;  // the first few, in words
  bool read_failed = false;           // the store could not be read back

  void Problem(std::string what);
};

// Waits until no case of `root`'s subtree has a timer due at or before
// `server_start` (micros on gridd's clock): those fell due before gridd
// started and must fire now. Between two looks it waits for the next feed
// message (entries or a heartbeat), not for time. Sets *still_due to the
// cases left with such a timer when `timeout` passed. False, with `error`,
// when gridd cannot be read.
bool SettleDeadlines(const std::shared_ptr<grpc::Channel>& channel, const std::string& root, int64_t server_start,
                     std::chrono::seconds timeout, uint64_t* still_due, std::string* error);

// The whole feed, every change, from the oldest entry to the live end.
bool ReadFeed(const std::shared_ptr<grpc::Channel>& channel, std::vector<grid::v1::FeedEntry>* feed, uint64_t* head,
              std::string* error);

// REQUIRES: SettleDeadlines returned with *still_due == 0 or its count is
// passed as `still_due`; `feed` from ReadFeed after it.
Figures Check(const std::shared_ptr<grpc::Channel>& channel, const std::string& root, const LogContents& log,
              const std::vector<grid::v1::FeedEntry>& feed, int64_t server_start, uint64_t still_due);

}  // namespace grid::crashtest
