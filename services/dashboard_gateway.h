// DashboardGateway: the supervisor's web dashboard (docs/dashboard.md) on the
// HTTP server: its static files from a web root, and a JSON API under
// /dashboard/api/ that calls this process's grid.v1 services over the
// in-process channel with the caller's bearer token (inprocess_call.h), so
// authentication, authorization, scope and citizen masking are those of the
// gRPC API; nothing here decides who may see what. The map's shapes come from
// the directory snapshot, after GetStats on the same unit has admitted the
// caller. Live escalations are Server-Sent Events fed by EscalationFeed.Watch,
// the event id being the feed cursor, so a reconnecting EventSource resumes
// (Last-Event-ID) with no gap and no duplicate.
//
// Errors are JSON: {"error": {"status", "reason", "message"}}, with 400 for a
// malformed parameter, 401 for a missing or bad token, 403 out of scope.
//
// Thread-safety: Handle may be called from any thread. Drain ends the live
// streams and waits until no call is in flight; the destructor drains.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "engine/clock.h"
#include "engine/directory.h"
#include "grid/v1/service.grpc.pb.h"
#include "port/mutex.h"
#include "services/http_server.h"
#include "services/inprocess_call.h"

namespace grid::services {

class DashboardGateway {
 public:
  // REQUIRES: `channel` reaches this process's grid.v1 services; directory
  // and clock outlive the gateway. web_root: the directory of the built web
  // app (empty: no static files, the API only).
  DashboardGateway(std::shared_ptr<grpc::Channel> channel, const DirectoryHandle* directory, const Clock* clock,
                   std::string web_root);
  ~DashboardGateway();

  // Whether the path is the dashboard's ("/", "/dashboard" and below).
  static bool Serves(const std::string& path);
  void Handle(HttpRequest request, HttpReply reply);
  // A JSON error answer.
  static HttpResponse ErrorResponse(int status, const Status& why);
  // Ends the live streams, then waits for every call.
  void Drain() ABSL_LOCKS_EXCLUDED(mu_);

  // Shapes cached (per directory version, unit and zoom) at most; beyond,
  // the cache starts again.
  static constexpr size_t kMaxCachedShapes = 256;

 private:
  struct Link;
  class Watcher;
  struct Request;

  void Session(const Request& r, HttpReply reply);
  void Unit(const Request& r, HttpReply reply);
  void Shapes(const Request& r, HttpReply reply);
  void Figures(const Request& r, HttpReply reply);
  void Counts(const Request& r, HttpReply reply);
  void Cases(const Request& r, HttpReply reply);
  void Case(const Request& r, const std::string& id, HttpReply reply);
  void Escalations(const Request& r, HttpReply reply);
  void StaticFile(const HttpRequest& request, HttpReply reply) const;
  // outline: 0 the map's choice, 1 grids, 2 children.
  std::shared_ptr<const std::string> CachedShapes(const Directory& directory, const std::string& unit, int zoom,
                                                  int outline) ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<grid::v1::CaseQuery::Stub> query_;
  std::unique_ptr<grid::v1::Directory::Stub> units_;
  std::unique_ptr<grid::v1::EscalationFeed::Stub> feed_;
  const DirectoryHandle* directory_;
  const Clock* clock_;
  std::string web_root_;
  CallTracker calls_;
  Mutex mu_;
  std::set<std::shared_ptr<Link>> live_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::tuple<uint64_t, std::string, int, int>, std::shared_ptr<const std::string>> shapes_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace grid::services
