// Status and StatusOr: the engine's one error channel.
//
// A Status is a code (mirroring the gRPC codes, so the services edge maps them
// one to one), a stable machine-readable reason (UPPER_SNAKE, each defined once
// in engine/reasons.h: Error(reason::LATITUDE_OUT_OF_RANGE, ...)) and a human-
// readable description. Both are [[nodiscard]] (-Werror=unused-result).
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace grid {

enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  // A hint for RESOURCE_EXHAUSTED refusals that clear by themselves (rate
  // limits): retry after this many milliseconds (0: no hint). The services
  // edge sends it as the trailing metadata "retry-after-ms".
  int64_t retry_after_ms() const { return retry_after_ms_; }
  Status& set_retry_after_ms(int64_t ms) {
    retry_after_ms_ = ms;
    return *this;
  }
  // "REASON: message", or "OK".
  std::string ToString() const {
    if (ok()) return "OK";
    return reason_ + ": " + message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string reason_;
  std::string message_;
  int64_t retry_after_ms_ = 0;
};

inline Status InvalidArgument(std::string reason, std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(reason), std::move(message));
}
inline Status NotFound(std::string reason, std::string message) {
  return Status(StatusCode::kNotFound, std::move(reason), std::move(message));
}
inline Status FailedPrecondition(std::string reason, std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(reason), std::move(message));
}
inline Status Internal(std::string reason, std::string message) {
  return Status(StatusCode::kInternal, std::move(reason), std::move(message));
}

// A value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace grid

// Returns early with the status if it is not OK.
#define GRID_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::grid::Status _grid_st = (expr);    \
    if (!_grid_st.ok()) return _grid_st; \
  } while (0)
