// Certificates made in the test, with the openssl command line: a CA, server
// certificates for 127.0.0.1 and localhost, client certificates with a given
// common name. EC P-256 keys, valid two days, unencrypted PEM.
//
//   TestCa ca(tmp_.Sub("ca"), "grid test CA");
//   Pem server = ca.Issue("server", "localhost", /*server=*/true);
//   Pem client = ca.Issue("alice", "alice", /*server=*/false);
//
// Thread-safety: none; used from the test's thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace grid::testing {

struct Pem {
  std::string cert;  // paths
  std::string key;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class TestCa {
 public:
  TestCa(std::string dir, const std::string& name) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj '/CN=" + name +
        "' -keyout " + key() + " -out " + cert());
  }
  std::string cert() const { return dir_ + "/ca.crt"; }
  std::string key() const { return dir_ + "/ca.key"; }

  // A certificate signed by this CA, in <dir>/<file>.crt and .key. Server
  // certificates name 127.0.0.1 and localhost.
  Pem Issue(const std::string& file, const std::string& cn, bool server) const {
    const std::string base = dir_ + "/" + file;
    const std::string ext = base + ".ext";
    std::ofstream(ext) << (server ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                                  : "extendedKeyUsage=clientAuth\n");
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=" + cn + "' -keyout " + base +
        ".key -out " + base + ".csr");
    Run("openssl x509 -req -in " + base + ".csr -CA " + cert() + " -CAkey " + key() + " -CAcreateserial -days 2 -out " +
        base + ".crt -extfile " + ext);
    ::chmod((base + ".key").c_str(), 0600);
    return Pem{base + ".crt", base + ".key"};
  }

 private:
  static void Run(const std::string& cmd) {
    const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
    ASSERT_EQ(rc, 0) << cmd;
  }
  std::string dir_;
};

}  // namespace grid::testing
