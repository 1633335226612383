// EscalationFeed.Watch (proto/grid/v1/service.proto, "Streams"): one
// ServerWriteReactor per subscriber on top of the feed hub (feed_hub.h).
//
// A subscription replays from storage, then serves live entries from its
// bounded buffer; when the buffer overflows (a slow client) it drops what it
// holds and replays from storage again, from the last cursor it sent. The
// handoff between storage and the live feed (feed_service.cc) sends every
// matching entry exactly once.
//
// Thread-safety: the service holds only pointers to thread-safe parts.
#pragma once

#include "grid/v1/service.grpc.pb.h"
#include "services/feed_hub.h"
#include "services/service_deps.h"

namespace grid::services {

inline constexpr const char* kCursorMetadataKey = "grid-cursor";
inline constexpr const char* kOldestCursorMetadataKey = "grid-oldest-cursor";

// Raw bytes in and out: the request is parsed by wire.h (bad UTF-8 gets
// INVALID_UTF8), and responses splice stored FeedEntry bytes unparsed.
class FeedService final
    : public grid::v1::EscalationFeed::WithRawCallbackMethod_Watch<grid::v1::EscalationFeed::Service> {
 public:
  // REQUIRES: deps and hub outlive the service.
  FeedService(const ServiceDeps* deps, FeedHub* hub) : deps_(deps), hub_(hub) {}
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Watch(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* raw_request) override;

 private:
  const ServiceDeps* deps_;
  FeedHub* hub_;
};

}  // namespace grid::services
