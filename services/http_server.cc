// HttpServer (see http_server.h): an acceptor and one Session per
// connection, each on its own strand; a session reads one request at a time
// (Beast's parser enforces the header and body limits), answers it or hands
// it to the handler, writes the answer and reads the next (keep-alive). A
// streamed answer turns the session into a writer of queued bytes that also
// reads, only to see the client leave.
#include "services/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <zlib.h>

#include "engine/reasons.h"

namespace grid::services {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// Open while the io_context exists: a stream's producer posts to a session
// only under it, so no post races the io_context's destruction.
struct Gate {
  std::mutex mu;
  bool open = true;
};

// What the sessions share with the server.
struct Core {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<size_t> connections{0};
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  HttpResponse ErrorResponse(int status, const std::string& path, const Status& why) const {
    if (options.render_error) return options.render_error(status, path, why);
    return HttpResponse{status, "text/plain; charset=utf-8", why.ToString() + "\n"};
  }
};

// Whether an Accept-Encoding value admits gzip (RFC 9110, 12.5.3): a "gzip"
// or "*" coding whose q is not 0.
bool AcceptsGzip(std::string_view accept) {
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
    if (!beast::iequals(beast::string_view(coding.data(), coding.size()), "gzip") && coding != "*") continue;
    bool zero = false;
    if (semi != std::string_view::npos) {
      std::string params(item.substr(semi + 1));
      params.erase(std::remove_if(params.begin(), params.end(), [](char c) { return c == ' ' || c == '\t'; }),
                   params.end());
      // q=0, q=0.0, q=0.000: refused.
      zero = params.size() >= 3 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=' &&
             params.find_first_not_of("0.", 2) == std::string::npos;
    }
    return !zero;
  }
  return false;
}

// `body` gzip-compressed; nullopt if zlib fails (the answer then goes plain).
std::optional<std::string> Gzip(const std::string& body) {
  z_stream z{};
  // 15 window bits + 16: a gzip wrapper; level 5: most of level 9's ratio on
  // JSON at a third of its time.
  if (deflateInit2(&z, 5, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out(deflateBound(&z, body.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

// Bodies not worth compressing again.
bool Compressible(const std::string& content_type) {
  return content_type.rfind("image/", 0) != 0 || content_type.rfind("image/svg", 0) == 0;
}

class Session;

// HttpStream over a session: each call is posted to the session's strand.
class StreamHandle final : public HttpStream {
 public:
  StreamHandle(std::shared_ptr<Gate> gate, std::weak_ptr<Session> session)
      : gate_(std::move(gate)), session_(std::move(session)) {}
  bool Send(std::string bytes) override;
  void End() override;

 private:
  template <typename F>
  bool Post(F f);
  std::shared_ptr<Gate> gate_;
  std::weak_ptr<Session> session_;
};

class Session : public std::enable_shared_from_this<Session> {
  friend class StreamHandle;

 public:
  Session(tcp::socket socket, Core* server) : stream_(std::move(socket)), server_(server) { ++server_->connections; }
  ~Session() { --server_->connections; }

  net::any_io_executor executor() { return stream_.get_executor(); }

  void Run(bool over_limit) {
    if (over_limit) {
      keep_alive_ = false;
      const size_t max = server_->options.max_connections;
      Write(server_->ErrorResponse(
          503, "", Error(reason::TOO_MANY_CONNECTIONS, std::to_string(max) + " connections are open; retry later")));
      return;
    }
    Read();
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    stream_.expires_after(server_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    method_.clear();
    path_.clear();
    gzip_ = false;
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      keep_alive_ = false;
      const bool body = ec == http::error::body_limit;
      const std::string path(parser_->get().target().substr(0, parser_->get().target().find('?')));
      method_ = std::string(parser_->get().method_string());
      path_ = path;
      const std::string what = body ? "body is over " + std::to_string(server_->options.max_body_bytes)
                                    : "header block is over " + std::to_string(server_->options.max_header_bytes);
      Write(server_->ErrorResponse(body ? 413 : 431, path,
                                   Error(reason::MESSAGE_TOO_LARGE, "the request's " + what + " bytes")));
      return;
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted) {
      Close();
      return;
    }
    if (ec) {
      keep_alive_ = false;
      Write(server_->ErrorResponse(400, "",
                                   Error(reason::MALFORMED_REQUEST, "not an HTTP/1.1 request: " + ec.message())));
      return;
    }
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    HttpRequest r;
    r.method = std::string(req.method_string());
    const std::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    r.content_type = std::string(req[http::field::content_type]);
    r.authorization = std::string(req[http::field::authorization]);
    r.host = std::string(req[http::field::host]);
    r.last_event_id = std::string(req["Last-Event-ID"]);
    const auto accept = req[http::field::accept_encoding];
    gzip_ = AcceptsGzip(std::string_view(accept.data(), accept.size()));
    beast::error_code peer_ec;
    const auto remote = stream_.socket().remote_endpoint(peer_ec);
    if (!peer_ec) r.peer = remote.address().to_string();
    method_ = r.method;
    path_ = r.path;
    r.body = std::move(req.body());
    head_ = r.method == "HEAD";
    if (HandleBuiltIn(r)) return;
    // No idle timer while the handler works: the client waits for us.
    stream_.expires_never();
    auto self = shared_from_this();
    server_->handler(std::move(r), [self](HttpResponse response) {
      net::post(self->stream_.get_executor(),
                [self, response = std::move(response)]() mutable { self->Write(std::move(response)); });
    });
  }

  // /healthz, /readyz and /metrics; false for any other path.
  bool HandleBuiltIn(const HttpRequest& r) {
    const auto& o = server_->options;
    if (r.path != "/healthz" && r.path != "/readyz" && r.path != "/metrics") return false;
    if (r.method != "GET" && r.method != "HEAD") {
      Write(server_->ErrorResponse(405, r.path, Error(reason::METHOD_NOT_ALLOWED, r.path + " takes GET only")));
    } else if (r.path == "/healthz") {
      Write(HttpResponse{200, "text/plain; charset=utf-8", "ok\n"});
    } else if (r.path == "/readyz") {
      const bool ready = !o.ready || o.ready();
      Write(ready ? HttpResponse{200, "text/plain; charset=utf-8", "ready\n"}
                  : HttpResponse{503, "text/plain; charset=utf-8", "not ready: the store is read-only\n"});
    } else if (o.metrics_text) {
      Write(HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", o.metrics_text()});
    } else {
      Write(server_->ErrorResponse(404, r.path, Error(reason::UNKNOWN_PATH, "no metrics are served here")));
    }
    return true;
  }

  // ---- a streamed answer (StreamHandle posts these to the strand) ----

  // Queues bytes; cuts the stream off when the client lets too much wait.
  void StreamSend(std::string bytes) {
    if (stream_closed_) return;
    if (queued_bytes_ + bytes.size() > server_->options.max_stream_buffer_bytes) return CloseStream();
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (!writing_) WriteNext();
  }

  void StreamEnd() {
    ending_ = true;
    if (!writing_) CloseStream();
  }

  // Readable from any thread.
  bool stream_gone() const { return stream_gone_.load(std::memory_order_relaxed); }

  void StartStream(HttpResponse r) {
    keep_alive_ = false;
    streaming_ = std::move(r.stream);
    const auto status = http::int_to_status(static_cast<unsigned>(r.status));
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(http::obsolete_reason(status)) +
                       "\r\nServer: gridd\r\nContent-Type: " + r.content_type +
                       "\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n" + r.body;
    StreamSend(std::move(head));
    // Reads only to see the client leave; writes keep their own timeout.
    ReadUntilGone();
    if (streaming_->on_open) streaming_->on_open(std::make_shared<StreamHandle>(server_->gate, weak_from_this()));
  }

  void ReadUntilGone() {
    stream_.socket().async_read_some(net::buffer(sink_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->stream_closed_) return self->CloseStream();
      self->ReadUntilGone();
    });
  }

  void WriteNext() {
    if (stream_closed_) return;
    if (queue_.empty()) {
      writing_ = false;
      if (ending_) CloseStream();
      return;
    }
    writing_ = true;
    // A client that reads nothing for idle_timeout is cut off.
    stream_.expires_after(server_->options.idle_timeout);
    net::async_write(stream_, net::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->CloseStream();
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      self->WriteNext();
    });
  }

  // Once; the queue stays until the session goes (a write may still use it).
  void CloseStream() {
    if (stream_closed_) return;
    stream_closed_ = true;
    stream_gone_ = true;
    Close();
    if (auto on_close = std::move(streaming_->on_close)) on_close();
  }

  void Write(HttpResponse r) {
    if (server_->options.observe) server_->options.observe(method_, path_, r.status);
    if (r.stream) return StartStream(std::move(r));
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "gridd");
    res->set(http::field::content_type, r.content_type);
    res->keep_alive(keep_alive_);
    res->set(http::field::vary, "Accept-Encoding");
    if (gzip_ && r.body.size() >= server_->options.gzip_min_bytes && r.body.size() <= UINT32_MAX &&
        Compressible(r.content_type)) {
      if (auto z = Gzip(r.body)) {
        r.body = std::move(*z);
        res->set(http::field::content_encoding, "gzip");
      }
    }
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head_) res->body().clear();  // Content-Length stays that of the body
    stream_.expires_after(server_->options.idle_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) {
        self->Close();
        return;
      }
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Core* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  bool head_ = false;
  bool gzip_ = false;          // the request being answered accepts gzip
  std::string method_, path_;  // the request being answered, for Options::observe
  // A streamed answer (StartStream), on the strand.
  std::shared_ptr<HttpStreaming> streaming_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool ending_ = false;
  bool stream_closed_ = false;
  std::atomic<bool> stream_gone_{false};
  std::array<char, 256> sink_{};
};

template <typename F>
bool StreamHandle::Post(F f) {
  std::lock_guard<std::mutex> lock(gate_->mu);
  if (!gate_->open) return false;
  auto session = session_.lock();
  if (!session || session->stream_gone()) return false;
  net::post(session->executor(), [session, f = std::move(f)]() mutable { f(*session); });
  return true;
}

bool StreamHandle::Send(std::string bytes) {
  return Post([bytes = std::move(bytes)](Session& s) mutable { s.StreamSend(std::move(bytes)); });
}

void StreamHandle::End() {
  Post([](Session& s) { s.StreamEnd(); });
}

}  // namespace

struct HttpServer::Impl {
  Core core;
  int port = 0;
  std::once_flag stop_once;
  // The io_context goes before the members above (reset in ~HttpServer), so
  // the sessions still queued in it are destroyed while `core` exists.
  std::unique_ptr<net::io_context> io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;

  void Accept() {
    acceptor->async_accept(net::make_strand(*io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        const bool over = core.connections.load() >= core.options.max_connections;
        std::make_shared<Session>(std::move(socket), &core)->Run(over);
      }
      Accept();
    });
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
  {
    std::lock_guard<std::mutex> lock(impl_->core.gate->mu);
    impl_->core.gate->open = false;
  }
  impl_->acceptor.reset();
  impl_->io.reset();  // destroys the sessions still queued
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->core.options = std::move(options);
  impl->core.handler = std::move(handler);
  const size_t threads = std::max<size_t>(1, impl->core.options.threads);
  impl->io = std::make_unique<net::io_context>(static_cast<int>(threads));
  const std::string& listen = impl->core.options.listen;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return Error(reason::LISTEN_FAILED, "--http-listen '" + listen + "' is not HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1));
  } catch (const std::exception&) {
    ec = net::error::invalid_argument;
  }
  if (ec || port > 65535) return Error(reason::LISTEN_FAILED, "--http-listen '" + listen + "' is not HOST:PORT");
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  impl->acceptor = std::make_unique<tcp::acceptor>(*impl->io);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error(reason::LISTEN_FAILED, "cannot listen on " + listen + " (HTTP): " + ec.message());
  impl->port = impl->acceptor->local_endpoint().port();
  impl->Accept();
  Impl* raw = impl.get();
  for (size_t i = 0; i < threads; ++i) {
    raw->threads.emplace_back([raw] { raw->io->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }

size_t HttpServer::connections() const { return impl_->core.connections.load(); }

void HttpServer::Stop() {
  std::call_once(impl_->stop_once, [this] {
    impl_->io->stop();
    for (auto& t : impl_->threads) t.join();
  });
}

}  // namespace grid::services
