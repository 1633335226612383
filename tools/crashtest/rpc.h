// Small helpers the crash test's clients share: the reason of an answer,
// which statuses mean "no answer" (send again), hashing for seeded choices.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace grid::crashtest {

inline constexpr std::chrono::seconds kCallTimeout{15};

// The trailing "grid-reason" of a finished call.
inline std::string ReasonOf(const grpc::ClientContext& ctx) {
  const auto md = ctx.GetServerTrailingMetadata();
  const auto it = md.find("grid-reason");
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

inline std::string ReasonOrCode(const grpc::Status& st, const std::string& reason) {
  return reason.empty() ? "code " + std::to_string(static_cast<int>(st.error_code())) : reason;
}

// The call may or may not have been applied, or was refused before anything
// was stored (overload): either way it is sent again, unchanged.
inline bool NoAnswer(const grpc::Status& st) {
  switch (st.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return true;
    default: return false;
  }
}

// splitmix64's finaliser: a well-mixed 64-bit hash.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from a hash.
inline double Unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

}  // namespace grid::crashtest
