// Intake validation: see validation.h.
#include "engine/validation.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/reasons.h"
#include "engine/text.h"

namespace grid {
namespace {

Status CheckText(std::string_view field, std::string_view value, size_t max_chars, const Reason& too_long) {
  if (!text::IsValidUtf8(value)) return Error(reason::INVALID_UTF8, std::string(field) + " is not valid UTF-8");
  size_t n = text::CodePointCount(value);
  if (n > max_chars) {
    return Error(too_long, std::string(field) + " has " + std::to_string(n) + " characters; at most " +
                               std::to_string(max_chars) + " are allowed");
  }
  return Status::Ok();
}

bool IsPrintableAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// Digits with an optional leading '+', and '-' or ' ' between groups: 3-20 long.
bool IsPhone(std::string_view s) {
  if (s.size() < 3 || s.size() > 20) return false;
  int digits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '+' && i == 0) {
    } else if ((c == '-' || c == ' ') && i > 0) {
    } else {
      return false;
    }
  }
  return digits >= 3;
}

bool IsHttpUrl(std::string_view s) {
  auto rest = s.starts_with("https://") ? s.substr(8) : s.starts_with("http://") ? s.substr(7) : std::string_view();
  return !rest.empty() && rest[0] != '/' && IsPrintableAscii(s);
}

Status CheckFields(const google::protobuf::Message& m, const std::string& prefix) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  std::string scratch;
  for (const FieldDescriptor* f : fields) {
    const std::string name = prefix + f->name();
    const bool repeated = f->is_repeated();
    const int n = repeated ? reflection->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      auto path = [&] { return repeated ? name + "[" + std::to_string(i) + "]" : name; };
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        // Geometry holds numbers only; a national directory has millions of vertices.
        if (f->message_type() == grid::v1::Boundary::descriptor()) break;
        const auto& inner = repeated ? reflection->GetRepeatedMessage(m, f, i) : reflection->GetMessage(m, f);
        GRID_RETURN_IF_ERROR(CheckFields(inner, path() + "."));
      } else if (f->type() == FieldDescriptor::TYPE_STRING) {
        const std::string& v = repeated ? reflection->GetRepeatedStringReference(m, f, i, &scratch)
                                        : reflection->GetStringReference(m, f, &scratch);
        const bool free_text = f->name() == "description" || f->name() == "note";
        const std::string bad =
            text::FindRefusedCharacter(v, free_text ? text::TextKind::kFreeText : text::TextKind::kLine);
        if (!bad.empty()) {
          return Error(
              reason::INVALID_CHARACTERS,
              path() + " holds " + bad + " (control characters, escapes and bidirectional overrides are refused)");
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckCharacters(const google::protobuf::Message& message) { return CheckFields(message, ""); }

Status ValidateLocation(const grid::v1::LatLng& location) {
  if (!grid::v1::CoordinateSystem_IsValid(location.coordinate_system())) {
    return Error(reason::UNKNOWN_COORDINATE_SYSTEM, "location.coordinate_system " +
                                                        std::to_string(location.coordinate_system()) +
                                                        " is not one of WGS84, GCJ02, BD09, CGCS2000");
  }
  if (!std::isfinite(location.lat()) || !std::isfinite(location.lng())) {
    return Error(reason::NON_FINITE_COORDINATE, "location has a NaN or infinite coordinate");
  }
  if (location.lat() < -90 || location.lat() > 90) {
    return Error(reason::LATITUDE_OUT_OF_RANGE, "latitude " + std::to_string(location.lat()) + " is outside [-90, 90]");
  }
  if (location.lng() < -180 || location.lng() > 180) {
    return Error(reason::LONGITUDE_OUT_OF_RANGE,
                 "longitude " + std::to_string(location.lng()) + " is outside [-180, 180]");
  }
  return Status::Ok();
}

Status ValidateSubmit(const grid::v1::SubmitCaseRequest& r, const Directory& directory, const IntakeLimits& limits) {
  if (size_t n = r.ByteSizeLong(); n > limits.max_message_bytes) {
    return Error(reason::MESSAGE_TOO_LARGE, "the request has " + std::to_string(n) + " bytes; at most " +
                                                std::to_string(limits.max_message_bytes) + " are allowed");
  }
  if (r.idempotency_key().size() > limits.max_idempotency_key_bytes || !IsPrintableAscii(r.idempotency_key())) {
    return Error(reason::INVALID_IDEMPOTENCY_KEY, "idempotency_key must be at most " +
                                                      std::to_string(limits.max_idempotency_key_bytes) +
                                                      " printable ASCII characters without spaces");
  }
  if (r.category().empty()) return Error(reason::MISSING_CATEGORY, "category is required");
  if (!text::IsValidUtf8(r.category())) return Error(reason::INVALID_UTF8, "category is not valid UTF-8");
  GRID_RETURN_IF_ERROR(CheckCharacters(r));
  if (directory.FindCategory(r.category()) == nullptr) {
    return Error(reason::UNKNOWN_CATEGORY, "category '" + r.category() + "' is not in the directory");
  }
  if (!grid::v1::Channel_IsValid(r.channel())) return Error(reason::INVALID_CHANNEL, "channel is not a known value");
  if (!grid::v1::Priority_IsValid(r.priority())) {
    return Error(reason::INVALID_PRIORITY, "priority is not a known value");
  }
  GRID_RETURN_IF_ERROR(
      CheckText("description", r.description(), limits.max_description_chars, reason::DESCRIPTION_TOO_LONG));
  if (text::IsBlank(r.description())) {
    return Error(reason::MISSING_DESCRIPTION, "description is required (white space alone does not count)");
  }
  if (r.has_location()) GRID_RETURN_IF_ERROR(ValidateLocation(r.location()));
  GRID_RETURN_IF_ERROR(CheckText("address", r.address(), limits.max_address_chars, reason::ADDRESS_TOO_LONG));
  GRID_RETURN_IF_ERROR(CheckText("citizen.name", r.citizen().name(), limits.max_name_chars, reason::NAME_TOO_LONG));
  if (!r.citizen().phone().empty() && !IsPhone(r.citizen().phone())) {
    return Error(reason::INVALID_PHONE,
                 "citizen.phone must be 3-20 digits, optionally with a leading + and - or spaces");
  }
  if (static_cast<size_t>(r.attachment_urls_size()) > limits.max_attachments) {
    return Error(reason::TOO_MANY_ATTACHMENTS, std::to_string(r.attachment_urls_size()) + " attachments; at most " +
                                                   std::to_string(limits.max_attachments) + " are allowed");
  }
  for (int i = 0; i < r.attachment_urls_size(); ++i) {
    const auto& url = r.attachment_urls(i);
    if (url.size() > limits.max_url_bytes || !IsHttpUrl(url)) {
      return Error(reason::INVALID_ATTACHMENT_URL, "attachment_urls[" + std::to_string(i) +
                                                       "] is not an http(s) URL of at most " +
                                                       std::to_string(limits.max_url_bytes) + " bytes");
    }
  }
  if (!r.unit_code().empty() && directory.FindUnit(r.unit_code()) == nullptr) {
    if (!text::IsValidUtf8(r.unit_code())) return Error(reason::INVALID_UTF8, "unit_code is not valid UTF-8");
    return Error(reason::UNKNOWN_UNIT, "unit '" + r.unit_code() + "' is not in the directory");
  }
  return Status::Ok();
}

}  // namespace grid
