// WatchResponse built without protobuf messages: serialised FeedEntry bytes
// (as stored, or as the hub serialised them once) spliced behind their field
// tag, and the two fields a replay filters on read without parsing the rest.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace grid::services {

// Appends one serialised FeedEntry as a WatchResponse.entries element.
void AppendFeedEntry(std::string* response, std::string_view entry);
// Appends WatchResponse.cursor (always, even 0) and caught_up (when true).
void AppendFeedTail(std::string* response, uint64_t cursor, bool caught_up);

// Reads a serialised FeedEntry's escalation flag and whether `scope` is one
// of its unit_path elements (always true for the empty scope), skipping the
// event unparsed. False when the bytes are not a well-formed message.
bool PeekFeedEntry(std::string_view entry, const std::string& scope, bool* escalation, bool* in_scope);

}  // namespace grid::services
