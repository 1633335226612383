// Log (see logging.h): the line is rendered here, as a JSON fragment or as
// text, and the formatters put the time and the level around it.
#include "services/logging.h"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace grid::services {
namespace {

// A JSON string literal of `text`, invalid UTF-8 replaced. Plain ASCII
// (most values: codes, ids, addresses) is copied as it is.
std::string Quoted(std::string_view text) {
  bool plain = true;
  for (unsigned char c : text) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) return "\"" + std::string(text) + "\"";
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::atomic<uint64_t> log_count{0};  // for unique logger names in spdlog's registry

// "2026-11-18T17:33:20.123Z"
void AppendTime(spdlog::log_clock::time_point time, spdlog::memory_buf_t& dest) {
  const auto since = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds).count();
  const std::time_t t = seconds.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  dest.append(buf, buf + n);
}

void Append(std::string_view s, spdlog::memory_buf_t& dest) { dest.append(s.data(), s.data() + s.size()); }

std::string_view LevelName(spdlog::level::level_enum level) {
  const auto& name = spdlog::level::to_string_view(level);
  return std::string_view(name.data(), name.size());
}

// Puts the time and the level around the rendered line (the payload):
//   json: {"time":...,"level":...,<payload>}
//   text: <time> <level> <payload>
class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const bool json = format_ == LogFormat::kJson;
    Append(json ? "{\"time\":\"" : "", dest);
    AppendTime(msg.time, dest);
    Append(json ? "\",\"level\":\"" : " ", dest);
    Append(LevelName(msg.level), dest);
    Append(json ? "\"," : " ", dest);
    Append(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    Append(json ? "}\n" : "\n", dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(format_); }

 private:
  const LogFormat format_;
};

// A text value: bare when it is a plain word, else quoted as in JSON.
std::string TextValue(std::string_view v) {
  const bool plain = !v.empty() && v.find_first_of(" \t\r\n\"=\\") == std::string_view::npos;
  return plain ? std::string(v) : Quoted(v);
}

}  // namespace

bool ParseLogFormat(std::string_view name, LogFormat* format) {
  if (name == "text") {
    *format = LogFormat::kText;
  } else if (name == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

LogField::LogField(std::string_view k, double v) : key(k), number(true) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.3f", v);
  value.assign(buf, n);
}

std::shared_ptr<Log> Log::Start(LogFormat format, spdlog::sink_ptr sink) {
  auto pool = std::make_shared<spdlog::details::thread_pool>(kQueueLines, 1);
  auto logger =
      std::make_shared<spdlog::async_logger>("gridd", std::move(sink), pool, spdlog::async_overflow_policy::block);
  logger->set_formatter(std::make_unique<LineFormatter>(format));
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::warn);
  // Buffered lines (WriteBuffered) are flushed by spdlog's periodic worker,
  // which flushes the registered loggers.
  spdlog::register_logger(logger);
  static std::once_flag periodic;
  std::call_once(periodic, [] { spdlog::flush_every(kFlushEvery); });
  return std::shared_ptr<Log>(new Log(format, std::move(pool), std::move(logger)));
}

Log::Log(LogFormat format, std::shared_ptr<spdlog::details::thread_pool> pool, std::shared_ptr<spdlog::logger> logger)
    : format_(format), pool_(std::move(pool)), logger_(std::move(logger)) {}

Log::~Log() {
  spdlog::drop(logger_->name());
  logger_.reset();
  pool_.reset();  // joins the thread once the queued lines are written
}

void Log::Write(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields) {
  WriteBuffered(level, message, fields);
  logger_->flush();
}

void Log::WriteBuffered(spdlog::level::level_enum level, std::string_view message,
                        std::initializer_list<LogField> fields) {
  if (!logger_->should_log(level)) return;
  std::string line;
  if (format_ == LogFormat::kJson) {
    line = "\"msg\":" + Quoted(message);
    for (const LogField& f : fields) {
      line += ',';
      line += Quoted(f.key);
      line += ':';
      line += f.number ? f.value : Quoted(f.value);
    }
  } else {
    line = std::string(message);
    for (const LogField& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      line += f.number ? f.value : TextValue(f.value);
    }
  }
  logger_->log(level, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace grid::services
