// A blocking HTTP/1.1 client for the tests (Boost.Beast): one request per
// connection, every wait bounded by a timeout, from 127.0.0.1 or another
// loopback address (HttpCallFrom: another client as the server sees it);
// and URL form encoding.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace grid::testing {

struct HttpResult {
  int status = 0;  // 0: no answer (error says why)
  std::string content_type;
  std::string body;
  std::string error;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// From `source` (a loopback address such as "127.0.0.2"; empty: the system's choice).
inline HttpResult HttpCallFrom(const std::string& source, int port, const std::string& method,
                               const std::string& target, const std::string& body = "",
                               const std::string& content_type = "", const Headers& headers = {}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  HttpResult result;
  beast::error_code ec;
  if (!source.empty()) {
    stream.socket().open(boost::asio::ip::tcp::v4(), ec);
    if (!ec) stream.socket().bind(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(source), 0), ec);
    if (ec) {
      result.error = "bind " + source + ": " + ec.message();
      return result;
    }
  }
  stream.expires_after(std::chrono::seconds(20));
  stream.connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      ec);
  if (ec) {
    result.error = "connect: " + ec.message();
    return result;
  }
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  // A server that refuses early may close before reading everything: still read its answer.
  http::read(stream, buffer, res, ec);
  if (ec) {
    result.error = "read: " + ec.message();
    return result;
  }
  result.status = static_cast<int>(res.result_int());
  result.content_type = std::string(res[http::field::content_type]);
  result.body = std::move(res.body());
  return result;
}

inline HttpResult HttpCall(int port, const std::string& method, const std::string& target, const std::string& body = "",
                           const std::string& content_type = "", const Headers& headers = {}) {
  return HttpCallFrom("", port, method, target, body, content_type, headers);
}

// application/x-www-form-urlencoded of `fields`.
inline std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    for (const std::string* s : {&k, &v}) {
      for (unsigned char c : *s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += static_cast<char>(c);
        } else if (c == ' ') {
          out += '+';
        } else {
          out += '%';
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
      }
      if (s == &k) out += '=';
    }
  }
  return out;
}

}  // namespace grid::testing
