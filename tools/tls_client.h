// Client-side TLS for the tools (gridctl, submit_load, crashtest): channel
// credentials from --tls-ca, --cert and --key (PEM files). Without any of
// them the channel is plaintext, as gridd is without --tls-cert.
//
// Thread-safety: pure functions (they read the files).
#pragma once

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace grid::tools {

struct ClientTls {
  std::string ca;    // PEM CA that signed the server's certificate (empty: the system's roots)
  std::string cert;  // PEM client certificate, for mutual TLS
  std::string key;   // its PEM private key
  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

// Credentials for `tls`; null with `error` set when a file cannot be read or
// --cert comes without --key (or the other way round).
inline std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const ClientTls& tls, std::string* error) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  if (tls.cert.empty() != tls.key.empty()) {
    *error = "--cert and --key go together";
    return nullptr;
  }
  auto read = [error](const std::string& path, std::string* out) {
    if (path.empty()) return true;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!in) {
      *error = "cannot read " + path;
      return false;
    }
    *out = s.str();
    return true;
  };
  grpc::SslCredentialsOptions options;
  if (!read(tls.ca, &options.pem_root_certs) || !read(tls.cert, &options.pem_cert_chain) ||
      !read(tls.key, &options.pem_private_key)) {
    return nullptr;
  }
  return grpc::SslCredentials(options);
}

}  // namespace grid::tools
