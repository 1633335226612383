// An EscalationFeed.Watch stream for tests, read synchronously: the entries
// up to a cursor, the rest of the stream, its status and trailers.
//
//   WatchStream s(channel, token, request);
//   std::vector<FeedEntry> got;
//   ASSERT_TRUE(s.ReadUntil(last_cursor, &got));
//   s.Cancel();
//
// Thread-safety: one thread reads; Cancel may come from any.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "grid/v1/service.grpc.pb.h"

namespace grid::testing {

class WatchStream {
 public:
  WatchStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
              const grid::v1::WatchRequest& request, std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
    stub_ = grid::v1::EscalationFeed::NewStub(channel);
    ctx_.set_deadline(std::chrono::system_clock::now() + deadline);
    if (!token.empty()) ctx_.AddMetadata("authorization", "Bearer " + token);
    reader_ = stub_->Watch(&ctx_, request);
  }
  bool Read(grid::v1::WatchResponse* r) { return reader_->Read(r); }
  // Reads until the stream's cursor reaches `target`, appending entries;
  // false when the stream ends first.
  bool ReadUntil(uint64_t target, std::vector<grid::v1::FeedEntry>* out) {
    grid::v1::WatchResponse r;
    while (cursor_ < target) {
      if (!reader_->Read(&r)) return false;
      EXPECT_GE(r.cursor(), cursor_);
      cursor_ = r.cursor();
      for (auto& e : *r.mutable_entries()) out->push_back(std::move(e));
    }
    return true;
  }
  grpc::Status Finish() { return reader_->Finish(); }
  // Reads what is left, then Finish.
  grpc::Status Drain() {
    grid::v1::WatchResponse r;
    while (reader_->Read(&r)) {
    }
    return reader_->Finish();
  }
  void Cancel() { ctx_.TryCancel(); }
  std::string Trailer(const std::string& key) const {
    auto md = ctx_.GetServerTrailingMetadata();
    auto it = md.find(key);
    return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
  }
  uint64_t cursor() const { return cursor_; }

 private:
  std::unique_ptr<grid::v1::EscalationFeed::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<grid::v1::WatchResponse>> reader_;
  uint64_t cursor_ = 0;
};

}  // namespace grid::testing
