// HttpServer on its own (no gRPC): gzip for clients that accept it, and the
// two limits that cut a streamed answer off a client that does not read:
// the bytes left waiting (max_stream_buffer_bytes) and the write timeout
// (idle_timeout). The limits are made small so that the tests do not depend
// on how much the kernel's socket buffers hold: the producer sends until the
// server says the stream is gone.
#include "services/http_server.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace grid {
namespace {

using services::HttpRequest;
using services::HttpResponse;
using services::HttpServer;
using services::HttpServerOptions;
using services::HttpStream;
using services::HttpStreaming;
using Clock = std::chrono::steady_clock;
namespace net = boost::asio;

// The streamed answer's producer side, as the handler hands it out.
struct Producer {
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<HttpStream> stream;
  bool closed = false;

  std::shared_ptr<HttpStream> WaitOpen() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return stream != nullptr; });
    return stream;
  }
  bool WaitClosed(std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, [&] { return closed; });
  }
};

// "/stream": a streamed answer fed by `producer`; "/big": 8 KiB of text;
// anything else: a short text.
std::unique_ptr<HttpServer> Start(HttpServerOptions options, Producer* producer) {
  options.listen = "127.0.0.1:0";
  auto server = HttpServer::Start(std::move(options), [producer](HttpRequest r, services::HttpReply reply) {
    if (r.path == "/stream") {
      auto streaming = std::make_shared<HttpStreaming>();
      streaming->on_open = [producer](std::shared_ptr<HttpStream> s) {
        std::lock_guard<std::mutex> lock(producer->mu);
        producer->stream = std::move(s);
        producer->cv.notify_all();
      };
      streaming->on_close = [producer] {
        std::lock_guard<std::mutex> lock(producer->mu);
        producer->closed = true;
        producer->cv.notify_all();
      };
      return reply(HttpResponse{200, "text/event-stream", "retry: 2000\n\n" + std::string(2000, ':') + "\n\n",
                                std::move(streaming)});
    }
    std::string body;
    for (int i = 0; body.size() < (r.path == "/big" ? 8192u : 100u); ++i)
      body += "{\"grid\":" + std::to_string(i) + "},";
    reply(HttpResponse{200, "application/json", body});
  });
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

// A client that sends one request and then reads nothing, with a small
// receive buffer so that the server's writes stall soon.
class DeafClient {
 public:
  DeafClient(int port, const std::string& target) : socket_(io_) {
    socket_.open(net::ip::tcp::v4());
    socket_.set_option(net::socket_base::receive_buffer_size(4096));
    socket_.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    net::write(socket_, net::buffer("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  }

 private:
  net::io_context io_;
  net::ip::tcp::socket socket_;
};

struct RawAnswer {
  std::string head;
  std::string body;
};

// One request with `headers`, read to the end (Connection: close).
RawAnswer Fetch(int port, const std::string& target, const std::string& headers, size_t at_most = SIZE_MAX) {
  net::io_context io;
  net::ip::tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  net::write(socket, net::buffer("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n"));
  std::string all;
  boost::system::error_code ec;
  while (!ec && all.size() < at_most) {
    char buf[4096];
    all.append(buf, socket.read_some(net::buffer(buf), ec));
  }
  const size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos) return {all, ""};
  return {all.substr(0, end + 2), all.substr(end + 4)};
}

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

bool Has(const std::string& head, const std::string& line) { return head.find(line + "\r\n") != std::string::npos; }

TEST(HttpServerTest, GzipForClientsThatAcceptItAndBodiesOverTheThreshold) {
  Producer producer;
  auto server = Start({}, &producer);
  ASSERT_TRUE(server);
  const RawAnswer plain = Fetch(server->port(), "/big", "");
  ASSERT_TRUE(Has(plain.head, "HTTP/1.1 200 OK")) << plain.head;
  EXPECT_FALSE(Has(plain.head, "Content-Encoding: gzip")) << plain.head;
  EXPECT_TRUE(Has(plain.head, "Vary: Accept-Encoding")) << plain.head;
  EXPECT_GE(plain.body.size(), 8192u);

  for (const std::string accept : {"gzip", "gzip, deflate, br", "br;q=1.0, GZIP;q=0.5", "*"}) {
    const RawAnswer z = Fetch(server->port(), "/big", "Accept-Encoding: " + accept + "\r\n");
    EXPECT_TRUE(Has(z.head, "Content-Encoding: gzip")) << accept << ": " << z.head;
    EXPECT_TRUE(Has(z.head, "Vary: Accept-Encoding")) << z.head;
    EXPECT_LT(z.body.size(), plain.body.size() / 3) << accept;
    EXPECT_TRUE(Has(z.head, "Content-Length: " + std::to_string(z.body.size()))) << z.head;
    EXPECT_EQ(Gunzip(z.body), plain.body) << accept;
  }
  // Refused or not offered: plain.
  for (const std::string accept : {"gzip;q=0", "gzip; q=0.000", "deflate", "identity", "gzipx"}) {
    const RawAnswer r = Fetch(server->port(), "/big", "Accept-Encoding: " + accept + "\r\n");
    EXPECT_FALSE(Has(r.head, "Content-Encoding: gzip")) << accept << ": " << r.head;
    EXPECT_EQ(r.body, plain.body) << accept;
  }
  // Under the threshold: plain, even when accepted.
  const RawAnswer small = Fetch(server->port(), "/small", "Accept-Encoding: gzip\r\n");
  EXPECT_FALSE(Has(small.head, "Content-Encoding: gzip")) << small.head;
  EXPECT_LT(small.body.size(), 1024u);
  // A stream is never compressed, whatever the client accepts.
  const RawAnswer sse = Fetch(server->port(), "/stream", "Accept-Encoding: gzip\r\n", 2000);
  EXPECT_TRUE(Has(sse.head, "Content-Type: text/event-stream")) << sse.head;
  EXPECT_FALSE(Has(sse.head, "Content-Encoding: gzip")) << sse.head;
  EXPECT_EQ(sse.body.rfind("retry: 2000\n\n", 0), 0u);
}

TEST(HttpServerTest, AStreamIsCutOffWhenTooMuchWaitsForAClientThatDoesNotRead) {
  Producer producer;
  HttpServerOptions options;
  options.max_stream_buffer_bytes = 64 * 1024;
  options.idle_timeout = std::chrono::seconds(120);  // far beyond the test: only the buffer limit can cut
  auto server = Start(options, &producer);
  ASSERT_TRUE(server);
  DeafClient client(server->port(), "/stream");
  auto stream = producer.WaitOpen();
  ASSERT_TRUE(stream);
  // Sends until the server says the stream is gone; the kernel's buffers
  // take some megabytes first, then the queue passes 64 KiB.
  const std::string chunk(16 * 1024, 'x');
  size_t sent = 0;
  const auto start = Clock::now();
  while (stream->Send(chunk) && sent < (512u << 20)) {
    sent += chunk.size();
    if (sent % (1u << 20) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_LT(sent, 512u << 20) << "never cut off";
  EXPECT_TRUE(producer.WaitClosed(std::chrono::seconds(20)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(60));
  EXPECT_FALSE(stream->Send("more")) << "a stream cut off takes nothing more";
  // The connection is closed and freed.
  for (int i = 0; i < 200 && server->connections() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(server->connections(), 0u);
}

TEST(HttpServerTest, AStreamIsCutOffWhenAWriteWaitsLongerThanTheIdleTimeout) {
  Producer producer;
  HttpServerOptions options;
  options.max_stream_buffer_bytes = size_t{1} << 30;  // never reached: only the timeout can cut
  options.idle_timeout = std::chrono::milliseconds(300);
  auto server = Start(options, &producer);
  ASSERT_TRUE(server);
  DeafClient client(server->port(), "/stream");
  auto stream = producer.WaitOpen();
  ASSERT_TRUE(stream);
  // More than the kernel's send and receive buffers hold: the write stalls.
  const auto start = Clock::now();
  ASSERT_TRUE(stream->Send(std::string(64u << 20, 'x')));
  EXPECT_TRUE(producer.WaitClosed(std::chrono::seconds(20)));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300)) << "cut before the timeout";
  EXPECT_FALSE(stream->Send("more"));
  for (int i = 0; i < 200 && server->connections() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(server->connections(), 0u);
}

}  // namespace
}  // namespace grid
