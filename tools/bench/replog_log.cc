// replog_log.cc: the records and the timeline of replog_bench (replog_log.h).
#include "tools/bench/replog_log.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>

namespace grid::replog {

std::string RunNonce() {
  std::random_device device;
  const uint64_t nonce = (static_cast<uint64_t>(device()) << 32) ^ device();
  char hex[24];
  std::snprintf(hex, sizeof hex, "%012" PRIx64, static_cast<uint64_t>(nonce & 0xffffffffffffULL));
  return hex;
}

RecordMaker::RecordMaker(size_t bytes, uint64_t seed) : buffer_(std::max<size_t>(bytes, sizeof(uint64_t)), '\0') {
  // Random bytes, so that no engine gains from compressing them (a
  // WriteBatch of protobuf records compresses somewhat; this is the worst case).
  std::mt19937_64 random(seed);
  for (size_t i = 0; i < buffer_.size(); i += sizeof(uint64_t)) {
    const uint64_t word = random();
    std::memcpy(buffer_.data() + i, &word, std::min(sizeof word, buffer_.size() - i));
  }
}

std::string_view RecordMaker::Make(uint64_t seq) {
  std::memcpy(buffer_.data(), &seq, sizeof seq);
  return buffer_;
}

Timeline::Entry& Timeline::At(uint64_t seq) {
  if (seq > entries_.size()) entries_.resize(std::max<size_t>(seq, entries_.size() * 2));
  return entries_[seq - 1];
}

void Timeline::Started(uint64_t seq, int64_t ns) {
  MutexLock lock(&mu_);
  At(seq).started_ns = ns;
}

void Timeline::Acked(uint64_t seq, int64_t ns) {
  MutexLock lock(&mu_);
  Entry& e = At(seq);
  if (e.acked_ns == 0) ++acked_;
  e.acked_ns = ns;
}

void Timeline::Seen(uint64_t seq, int64_t ns) {
  if (seq == 0) return;
  MutexLock lock(&mu_);
  Entry& e = At(seq);
  if (e.seen_ns != 0) {
    ++follower_.duplicates;
    return;
  }
  e.seen_ns = ns;
  ++follower_.seen;
  if (seq < highest_seen_) ++follower_.out_of_order;
  highest_seen_ = std::max(highest_seen_, seq);
  seen_cv_.SignalAll();
}

bool Timeline::CaughtUp() const {
  if (follower_.seen < acked_) return false;
  for (const Entry& e : entries_) {
    if (e.acked_ns != 0 && e.seen_ns == 0) return false;
  }
  return true;
}

bool Timeline::WaitFollowerCaughtUp(SteadyClock::time_point deadline) {
  MutexLock lock(&mu_);
  while (!CaughtUp()) {
    if (seen_cv_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) return CaughtUp();
  }
  return true;
}

std::vector<Timeline::Entry> Timeline::Entries() const {
  MutexLock lock(&mu_);
  std::vector<Entry> out = entries_;
  while (!out.empty() && out.back().started_ns == 0 && out.back().seen_ns == 0) out.pop_back();
  return out;
}

Timeline::FollowerCounts Timeline::Follower() const {
  MutexLock lock(&mu_);
  return follower_;
}

}  // namespace grid::replog
