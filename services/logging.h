// Log: gridd's one logger (spdlog), for the access log of every RPC and the
// server's own messages (start, listen addresses, reloads, shutdown, errors).
//
// Two formats (gridd --log-format): text, "<time> <level> <message>
// key=value ...", and json, one object per line:
//   {"time":"2026-11-18T17:33:20.123Z","level":"info","msg":"...","key":"value",...}
// Times are ISO-8601 UTC with milliseconds. The fields are what the caller
// gives, rendered here with JSON escaping (invalid UTF-8 replaced), so a
// line never breaks in two whatever a value holds. docs/observability.md
// lists the fields.
//
// Writes go through spdlog's asynchronous logger: a caller formats its line
// and queues it (kQueueLines at most; a caller waits only when the queue is
// full); one background thread writes the lines to the sink. Write flushes
// the sink after its line (server messages: rare, and wanted at once);
// WriteBuffered (the access log: one line per call) leaves the flush to a
// periodic one, every kFlushEvery, or to the next warning: one write(2) per
// second instead of one per call.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
namespace details {
class thread_pool;
}
}  // namespace spdlog

namespace grid::services {

enum class LogFormat { kText, kJson };

// "text" or "json"; false for anything else.
bool ParseLogFormat(std::string_view name, LogFormat* format);

// One field of a log line. A number is written bare in JSON.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, double v);
  LogField(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), number(true) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)), number(true) {}

  std::string_view key;
  std::string value;
  bool number = false;
};

class Log {
 public:
  static constexpr size_t kQueueLines = 8192;
  static constexpr std::chrono::seconds kFlushEvery{1};

  // A logger that writes to `sink` (e.g. spdlog's stdout sink; a test's
  // ostream sink) in `format`.
  static std::shared_ptr<Log> Start(LogFormat format, spdlog::sink_ptr sink);
  ~Log();  // writes every queued line, then stops the thread

  LogFormat format() const { return format_; }

  void Info(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Write(spdlog::level::info, message, fields);
  }
  void Warn(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Write(spdlog::level::warn, message, fields);
  }
  void Error(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Write(spdlog::level::err, message, fields);
  }
  void Write(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields);
  void WriteBuffered(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields);

 private:
  Log(LogFormat format, std::shared_ptr<spdlog::details::thread_pool> pool, std::shared_ptr<spdlog::logger> logger);

  const LogFormat format_;
  std::shared_ptr<spdlog::details::thread_pool> pool_;  // outlives logger_'s queued lines
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace grid::services
