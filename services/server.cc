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
  storage::StoreOptions store_options{
      .path = config.data_dir, .sync = config.sync, .max_log_bytes = config.max_log_bytes};
  store_options.min_free_bytes = config.min_free_bytes;
  store_options.file_system = config.file_system;
  auto store = storage::Store::Open(store_options);
  if (!store.ok()) return store.status();
  s->store_ = std::move(store).value();
  GridServer* self = s.get();
  s->store_->SetWriteStateListener([self](const Status& state) { self->OnWriteState(state); });
  s->resumer_ = std::thread([self, interval = config.store_resume_interval] { self->RunResumer(interval); });
  // The grid index and unit table files live in the data directory, beside
  // RocksDB's own files (which RocksDB leaves alone: it only touches names it
  // made).
  s->directory_manager_ = std::make_unique<DirectoryManager>(
      s->store_.get(), &s->directory_,
      SavedPaths{config.data_dir + "/" + kGridIndexFile, config.data_dir + "/" + kUnitTableFile,
                 config.side_files != nullptr ? config.side_files : &s->files_});
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
  {
    MutexLock lock(&s->health_mu_);
    s->health_ = s->server_->GetHealthCheckService();
  }
  s->OnWriteState(s->store_->WriteState());
  return s;
}

GridServer::~GridServer() { Shutdown(); }

void GridServer::OnWriteState(const Status& state) {
  MutexLock lock(&health_mu_);
  read_only_ = !state.ok();
  if (health_ != nullptr) {
    for (const char* name : {grid::v1::CaseIntake::service_full_name(), grid::v1::CaseWork::service_full_name()}) {
      health_->SetServingStatus(name, state.ok());
    }
  }
  health_cv_.SignalAll();
}

bool GridServer::writable() const {
  MutexLock lock(&health_mu_);
  return !read_only_;
}

bool GridServer::WaitWritable(bool writable, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&health_mu_);
  while (read_only_ == writable) {
    if (health_cv_.WaitUntil(&health_mu_, deadline) == std::cv_status::timeout) return read_only_ != writable;
  }
  return true;
}

void GridServer::RunResumer(std::chrono::milliseconds interval) {
  for (;;) {
    {
      MutexLock lock(&health_mu_);
      while (!stopping_ && !read_only_) health_cv_.Wait(&health_mu_);
      if (stopping_) return;
      // Give the disk a moment (and stop early on shutdown).
      const auto until = std::chrono::steady_clock::now() + interval;
      while (!stopping_ && health_cv_.WaitUntil(&health_mu_, until) != std::cv_status::timeout) {
      }
      if (stopping_) return;
    }
    if (Status resumed = store_->Resume(); !resumed.ok()) continue;  // still read-only: try again later
  }
}

void GridServer::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (feed_) feed_->Stop();  // streams end resumably instead of holding up the shutdown
    if (server_) {
      // Calls in flight get a few seconds to finish; their writes complete.
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    }
    {
      MutexLock lock(&health_mu_);
      stopping_ = true;
      health_ = nullptr;
    }
    health_cv_.SignalAll();
    if (resumer_.joinable()) resumer_.join();
    if (store_) store_->SetWriteStateListener(nullptr);
    if (scheduler_) scheduler_->Stop();
    if (intake_) intake_->Stop();
    if (executor_) executor_->Stop();
  });
}

void GridServer::Wait() {
  if (server_) server_->Wait();
}

}  // namespace grid::services
