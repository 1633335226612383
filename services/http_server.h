// HttpServer: a small HTTP/1.1 server (Boost.Beast) on its own io_context
// threads, for the Open311 gateway and the health and metrics endpoints.
//
// It serves /healthz (the process answers), /readyz (Options::ready: 200, or
// 503 while the store is read-only) and /metrics (Options::metrics_text; 404
// when there is none) itself, and hands every other request to the handler,
// which answers through the reply it is given, once, from any thread.
//
// Limits, each refused with an answer from Options::render_error and the
// connection closed: a header block over max_header_bytes (431), a body over
// max_body_bytes (413), a connection beyond max_connections (503
// TOO_MANY_CONNECTIONS). A connection that sends nothing for idle_timeout is
// closed (also half-way through a request); while the handler works on a
// request the timer does not run.
//
// Streamed answers (Server-Sent Events): a response with `stream` set sends
// its head at once and then what the producer sends through the HttpStream,
// until either side ends it; the connection then closes (no keep-alive). A
// stream counts against max_connections like any connection; a client that
// leaves a write unread for idle_timeout, or lets more than
// max_stream_buffer_bytes queue up, is cut off (it reconnects and resumes).
//
// Compression: a non-streamed answer whose body is at least gzip_min_bytes
// goes out gzip-compressed (Content-Encoding: gzip) when the request's
// Accept-Encoding admits gzip; every non-streamed answer says Vary:
// Accept-Encoding. Streamed answers are never compressed (each event must
// reach the client as it is sent).
//
// Thread-safety: Start, port and Stop may be called from any thread; Stop is
// idempotent and the destructor calls it. Sessions run on strands of the
// io_context; replies are posted to their session's strand.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "engine/status.h"

namespace grid::services {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without the query
  std::string query;   // after '?', undecoded
  std::string content_type;
  std::string authorization;  // the Authorization header, as sent
  std::string host;           // the Host header
  std::string last_event_id;  // the Last-Event-ID header (an EventSource resuming)
  std::string peer;           // the client's address, without its port ("10.0.0.7", "::1")
  std::string body;
};

// The producer's side of a streamed answer. Thread-safe; every call may come
// from any thread, also after the connection is gone (then it does nothing).
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Queues bytes after the head; false when the stream has closed.
  virtual bool Send(std::string bytes) = 0;
  // Closes the stream once what is queued has been written.
  virtual void End() = 0;
};

struct HttpStreaming {
  // Called once the head is queued, with the stream to send through.
  std::function<void(std::shared_ptr<HttpStream>)> on_open;
  // Called once when the stream closes while the server runs (the client
  // left, a limit cut it, End); after HttpServer::Stop it is not called, so a
  // producer stops its streams itself when the server stops.
  std::function<void()> on_close;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Set: a streamed answer; `body` goes out right after the head.
  std::shared_ptr<HttpStreaming> stream;
};

// Answers one request; call exactly once, from any thread.
using HttpReply = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest, HttpReply)>;

struct HttpServerOptions {
  std::string listen;  // host:port; port 0 picks a free one
  size_t threads = 1;
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 64 * 1024;
  size_t max_connections = 256;
  std::chrono::milliseconds idle_timeout{30'000};
  // A streamed answer's bytes waiting for a slow client, at most.
  size_t max_stream_buffer_bytes = 1024 * 1024;
  // Smallest body compressed for a client that accepts gzip; SIZE_MAX: never.
  size_t gzip_min_bytes = 1024;
  // /readyz: whether the server takes writes. Unset: always ready.
  std::function<bool()> ready;
  // /metrics: the text exposition (Prometheus). Unset: /metrics is 404.
  std::function<std::string()> metrics_text;
  // Called once per answer written, with the request's method and path (empty
  // when the request could not be read) and the HTTP status; from the
  // session's thread, so it must not block. Unset: nothing.
  std::function<void(const std::string& method, const std::string& path, int status)> observe;
  // The answer to a refusal the server makes itself (limits): `status` the
  // HTTP status, `path` the request's path when known. Unset: plain text.
  std::function<HttpResponse(int status, const std::string& path, const Status& why)> render_error;
};

class HttpServer {
 public:
  // Binds and starts serving. LISTEN_FAILED when the address cannot be
  // bound. REQUIRES: handler outlives the server (or its Stop).
  static StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();

  int port() const;
  // Connections open now.
  size_t connections() const;
  // Stops accepting, closes the connections and joins the threads. Replies
  // that come later are dropped.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace grid::services
