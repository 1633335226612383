// GridServer: see server.h.
//
// Thread-safety: as server.h.
#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>

#include "engine/reasons.h"

namespace grid::services {

Micros SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::unique_ptr<GridServer>> GridServer::Start(const ServerConfig& config, const Clock* clock,
                                                        const std::optional<grid::v1::DirectoryContent>& initial) {
  std::unique_ptr<GridServer> s(new GridServer());
  if (!config.tokens_file.empty()) {
    auto auth = Authenticator::FromFile(config.tokens_file);
    if (!auth.ok()) return auth.status();
    s->auth_ = std::move(auth).value();
  }
  auto store = storage::Store::Open(
      storage::StoreOptions{.path = config.data_dir, .sync = config.sync, .max_log_bytes = config.max_log_bytes});
  if (!store.ok()) return store.status();
  s->store_ = std::move(store).value();
  // The grid index and unit table files live in the data directory, beside
  // RocksDB's own files (which RocksDB leaves alone: it only touches names it
  // made).
  s->directory_manager_ = std::make_unique<DirectoryManager>(
      s->store_.get(), &s->directory_,
      SavedPaths{config.data_dir + "/" + kGridIndexFile, config.data_dir + "/" + kUnitTableFile, &s->files_});
  auto version = s->directory_manager_->LoadAtStart(initial);
  if (!version.ok()) return version.status();
  // Cases stored before the query indexes existed get them, once.
  if (auto indexed = s->store_->BackfillQueryIndexes(*s->directory_.Get()); !indexed.ok()) return indexed.status();
  auto loads = s->store_->OpenCasesPerAssignee();
  if (!loads.ok()) return loads.status();
  s->load_.Reset(std::move(loads).value());
  AssigneeLoad* load = &s->load_;
  s->router_ = std::make_unique<Router>(config.router, [load](std::string_view id) { return load->Get(id); });
  s->lifecycle_ =
      std::make_unique<Lifecycle>(config.deadline_policy, config.calendar, s->router_.get(), config.lifecycle);
  auto intake = CaseWriter::Start(
      s->store_.get(), clock, &s->directory_, s->lifecycle_.get(), &s->load_,
      CaseWriter::Options{config.intake_queue, config.intake_max_batch, config.intake_max_timer_share});
  if (!intake.ok()) return intake.status();
  s->intake_ = std::move(intake).value();
  auto feed = FeedHub::Start(s->store_.get(), clock, config.feed);
  if (!feed.ok()) return feed.status();
  s->feed_ = std::move(feed).value();
  FeedHub* hub = s->feed_.get();
  s->intake_->set_feed_listener([hub](const std::vector<grid::v1::FeedEntry>& entries) { hub->Publish(entries); });
  s->scheduler_ = std::make_unique<DeadlineScheduler>(s->store_.get(), s->intake_.get(), clock, config.scheduler);
  DeadlineScheduler* scheduler = s->scheduler_.get();
  s->intake_->set_due_listener([scheduler](Micros due) { scheduler->Wake(due); });
  s->scheduler_->Start();
  s->executor_ = std::make_unique<BoundedExecutor>(config.executor_threads, config.executor_queue);

  s->deps_.store = s->store_.get();
  s->deps_.directory = &s->directory_;
  s->deps_.directory_manager = s->directory_manager_.get();
  s->deps_.auth = &s->auth_;
  s->deps_.router = s->router_.get();
  s->deps_.intake = s->intake_.get();
  s->deps_.executor = s->executor_.get();
  s->deps_.lifecycle = s->lifecycle_.get();
  s->deps_.clock = clock;
  s->intake_service_ = std::make_unique<CaseIntakeService>(&s->deps_);
  s->query_service_ = std::make_unique<CaseQueryService>(&s->deps_);
  s->directory_service_ = std::make_unique<DirectoryService>(&s->deps_);
  s->work_service_ = std::make_unique<CaseWorkService>(&s->deps_);
  s->feed_service_ = std::make_unique<FeedService>(&s->deps_, s->feed_.get());
  s->operations_service_ = std::make_unique<OperationsService>(&s->deps_, config.data_dir);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, grpc::InsecureServerCredentials(), &s->port_);
  builder.SetMaxReceiveMessageSize(config.max_receive_bytes);
  builder.RegisterService(s->intake_service_.get());
  builder.RegisterService(s->query_service_.get());
  builder.RegisterService(s->directory_service_.get());
  builder.RegisterService(s->work_service_.get());
  builder.RegisterService(s->feed_service_.get());
  builder.RegisterService(s->operations_service_.get());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0) {
    return Error(reason::LISTEN_FAILED, "cannot listen on " + config.listen);
  }
  return s;
}

GridServer::~GridServer() { Shutdown(); }

void GridServer::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (feed_) feed_->Stop();  // streams end resumably instead of holding up the shutdown
    if (server_) {
      // Calls in flight get a few seconds to finish; their writes complete.
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    }
    if (scheduler_) scheduler_->Stop();
    if (intake_) intake_->Stop();
    if (executor_) executor_->Stop();
  });
}

void GridServer::Wait() {
  if (server_) server_->Wait();
}

}  // namespace grid::services
