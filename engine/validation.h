// Validation of every field a client sends with a new case.
//
// Each rule has a stable reason code; the first failing rule is reported.
// Reasons: MESSAGE_TOO_LARGE, MISSING_CATEGORY, UNKNOWN_CATEGORY,
// MISSING_DESCRIPTION, DESCRIPTION_TOO_LONG, INVALID_UTF8, NON_FINITE_COORDINATE,
// LATITUDE_OUT_OF_RANGE, LONGITUDE_OUT_OF_RANGE, ADDRESS_TOO_LONG,
// INVALID_IDEMPOTENCY_KEY, INVALID_CHANNEL, INVALID_PRIORITY, NAME_TOO_LONG,
// INVALID_PHONE, TOO_MANY_ATTACHMENTS, INVALID_ATTACHMENT_URL, UNKNOWN_UNIT,
// INVALID_CHARACTERS (CheckCharacters). A description that is blank in any
// Unicode sense (text::IsBlank: ideographic or zero-width spaces only) is
// MISSING_DESCRIPTION.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include "engine/directory.h"
#include "engine/status.h"
#include "grid/v1/service.pb.h"

namespace grid {

struct IntakeLimits {
  size_t max_message_bytes = 64 * 1024;
  size_t max_description_chars = 4000;
  size_t max_address_chars = 500;
  size_t max_name_chars = 64;
  size_t max_attachments = 10;
  size_t max_url_bytes = 2048;
  size_t max_idempotency_key_bytes = 128;
};

// Checks a SubmitCaseRequest against the limits and the directory (category
// and unit must exist). INVALID_ARGUMENT with the reason on failure.
Status ValidateSubmit(const grid::v1::SubmitCaseRequest& request, const Directory& directory,
                      const IntakeLimits& limits = IntakeLimits());

// Checks every string field set in `message`, nested messages and repeated
// fields included, against text::FindRefusedCharacter: fields named
// "description" or "note" as free text, every other one (names, addresses,
// codes, ids) as a line. INVALID_ARGUMENT INVALID_CHARACTERS naming the
// field path ("citizen.name", "content.units[2].name") and the character.
// Fields that are not UTF-8 are left to INVALID_UTF8.
Status CheckCharacters(const google::protobuf::Message& message);

// Checks a location: finite, latitude in [-90, 90], longitude in [-180, 180].
Status ValidateLocation(const grid::v1::LatLng& location);

}  // namespace grid
