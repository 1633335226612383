// The crash test's log: one line per answer gridd gave (a submitted case, a
// case-work transition) and per feed entry a Watch subscriber received,
// appended and flushed as it happens. The checker (checker.h) holds the store
// to every line after the run, or later from the file alone
// (crashtest --check-log).
//
// Lines, fields separated by one tab:
//   P <accept_s> <resolve_s>                      the run's deadline policy (calendar seconds)
//   O <offset_hours>                              gridd started with this clock offset
//   S <key> <case_id> <version>                   SubmitCase acknowledged
//   W <case_id> <op> <expected> <version> <note> <seq>:<type>[,...]
//                                                 a CaseWork call acknowledged, with its events
//   F <scope> <cursor> <case_id> <seq> <type>     a subscriber of `scope` received a feed entry
//   C <scope> <cursor>                            ... and everything of its scope up to `cursor`
//
// Thread-safety: AckLog's methods may be called from any thread: each line is
// one fwrite, which stdio performs under the stream's own lock.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace grid::crashtest {

class AckLog {
 public:
  // Appends to `path` (created when missing). ok() is false when it cannot.
  explicit AckLog(const std::string& path);
  ~AckLog();
  AckLog(const AckLog&) = delete;
  AckLog& operator=(const AckLog&) = delete;

  bool ok() const { return file_ != nullptr; }

  // Writes one line (fields joined by tabs) and flushes it.
  void Write(const std::vector<std::string>& fields);

 private:
  std::FILE* const file_;
};

struct SubmitAck {
  std::string key;
  std::string case_id;
  uint64_t version = 0;
};

struct WorkAck {
  std::string case_id;
  std::string op;
  uint64_t expected = 0;
  uint64_t version = 0;
  std::string note;
  std::vector<std::pair<uint64_t, int>> events;  // (seq, EventType)
};

struct FeedSeen {
  uint64_t cursor = 0;
  std::string case_id;
  uint64_t seq = 0;
  int type = 0;
};

struct SubscriberLog {
  std::vector<FeedSeen> seen;
  uint64_t confirmed = 0;  // the highest cursor the server said it had sent everything up to
};

struct LogContents {
  int64_t accept_s = 0;
  int64_t resolve_s = 0;
  std::vector<double> offsets;  // one per gridd start, in order
  std::vector<SubmitAck> submits;
  std::vector<WorkAck> works;
  std::map<std::string, SubscriberLog> subscribers;  // by scope
};

// Reads a log written by AckLog. False, with `error` naming the line, on a
// line that does not parse.
bool ReadLog(const std::string& path, LogContents* out, std::string* error);

}  // namespace grid::crashtest
