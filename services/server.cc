// GridServer: see server.h.
//
// Thread-safety: as server.h.
#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/reasons.h"
#include "services/reflection_v1.h"

namespace grid::services {
namespace {

std::string HostOf(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.") || host.starts_with("ipv4:127.") ||
         host == "unix" || host.starts_with("unix:");
}

// The files gRPC watches, in config.tls_dir.
std::string ServedCert(const ServerConfig& c) { return c.tls_dir + "/server.crt"; }
std::string ServedKey(const ServerConfig& c) { return c.tls_dir + "/server.key"; }
std::string ServedClientCa(const ServerConfig& c) { return c.tls_dir + "/client-ca.crt"; }

StatusOr<std::string> ReadWhole(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in) return Error(reason::TLS_FILE_INVALID, std::string("cannot read the ") + what + " " + path);
  return out.str();
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
Bio MemBio(const std::string& pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free); }

// Checks that `cert` and `key` are PEM, that the key is the certificate's,
// and that `ca` (when given) holds at least one PEM certificate.
Status CheckTlsFiles(const std::string& cert, const std::string& key, const std::string& ca,
                     const ServerConfig& config) {
  auto bio = MemBio(cert);
  std::unique_ptr<X509, decltype(&X509_free)> x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!x509) return Error(reason::TLS_FILE_INVALID, config.tls_cert + " holds no PEM certificate");
  auto kbio = MemBio(key);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!pkey) return Error(reason::TLS_FILE_INVALID, config.tls_key + " holds no PEM private key (or it is encrypted)");
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    return Error(reason::TLS_FILE_INVALID, config.tls_key + " is not the key of " + config.tls_cert);
  }
  if (!config.tls_client_ca.empty()) {
    auto cbio = MemBio(ca);
    std::unique_ptr<X509, decltype(&X509_free)> root(PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr),
                                                     &X509_free);
    if (!root) return Error(reason::TLS_FILE_INVALID, config.tls_client_ca + " holds no PEM certificate");
  }
  return Status::Ok();
}

// Writes `bytes` to `path` (mode 0600) by way of a temporary file and a rename,
// so that gRPC's watcher never reads half a file.
Status Install(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error(reason::TLS_FILE_INVALID, "cannot write " + tmp);
  ::chmod(tmp.c_str(), 0600);
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error(reason::TLS_FILE_INVALID, "cannot write " + path);
  }
  return Status::Ok();
}

std::shared_ptr<grpc::ServerCredentials> TlsCredentials(const ServerConfig& c) {
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (c.tls_client_ca.empty()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(ServedKey(c), ServedCert(c),
                                                                                    c.tls_refresh_seconds);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        ServedKey(c), ServedCert(c), ServedClientCa(c), c.tls_refresh_seconds);
  }
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!c.tls_client_ca.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

Status GridServer::ReloadTls() const {
  if (!tls()) return Status::Ok();
  const ServerConfig& c = config_;
  auto cert = ReadWhole(c.tls_cert, "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadWhole(c.tls_key, "TLS key");
  if (!key.ok()) return key.status();
  std::string ca;
  if (!c.tls_client_ca.empty()) {
    auto read = ReadWhole(c.tls_client_ca, "client CA");
    if (!read.ok()) return read.status();
    ca = std::move(read).value();
  }
  GRID_RETURN_IF_ERROR(CheckTlsFiles(*cert, *key, ca, c));
  std::error_code ec;
  std::filesystem::create_directories(c.tls_dir, ec);
  ::chmod(c.tls_dir.c_str(), 0700);
  // Each file is renamed into place whole. A watcher that looks between the
  // two renames may read a key and a certificate that do not match; its next
  // look, tls_refresh_seconds on, reads the matching pair.
  GRID_RETURN_IF_ERROR(Install(ServedKey(c), *key));
  GRID_RETURN_IF_ERROR(Install(ServedCert(c), *cert));
  if (!c.tls_client_ca.empty()) GRID_RETURN_IF_ERROR(Install(ServedClientCa(c), ca));
  return Status::Ok();
}

Micros SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::unique_ptr<GridServer>> GridServer::Start(const ServerConfig& config, const Clock* clock,
                                                        const std::optional<grid::v1::DirectoryContent>& initial) {
  std::unique_ptr<GridServer> s(new GridServer());
  s->config_ = config;
  for (const std::string* listen : {&config.listen, &config.http.listen}) {
    if (config.tokens_file.empty() && !listen->empty() && !IsLoopback(HostOf(*listen))) {
      return Error(reason::OPEN_MODE_NOT_LOOPBACK,
                   "without --tokens every caller is an admin, so gridd listens only on a loopback address "
                   "(127.0.0.1, ::1, localhost), not " +
                       *listen + "; give it a token file");
    }
  }
  if (!config.tokens_file.empty()) {
    auto auth = Authenticator::FromFile(config.tokens_file, config.allow_shared_token_file);
    if (!auth.ok()) return auth.status();
    s->auth_ = std::move(auth).value();
  }
  if (config.tls_cert.empty() != config.tls_key.empty() || (!config.tls_client_ca.empty() && config.tls_cert.empty())) {
    return Error(reason::TLS_FILE_INVALID, "TLS needs both a certificate and a key (and a client CA only with them)");
  }
  if (s->config_.tls_dir.empty()) s->config_.tls_dir = config.data_dir + "/tls";
  storage::StoreOptions store_options{
      .path = config.data_dir, .sync = config.sync, .max_log_bytes = config.max_log_bytes};
  store_options.min_free_bytes = config.min_free_bytes;
  store_options.block_cache_bytes = config.block_cache_bytes;
  store_options.file_system = config.file_system;
  store_options.log = config.batch_log;
  auto store = storage::Store::Open(store_options);
  if (!store.ok()) return store.status();
  s->store_ = std::move(store).value();
  GridServer* self = s.get();
  Metrics* metrics = &s->metrics_;
  s->store_->SetWriteObserver([metrics](double seconds, size_t) { metrics->ObserveSyncedWrite(seconds); });
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
  s->intake_->set_feed_listener([hub, metrics](const std::vector<grid::v1::FeedEntry>& entries) {
    metrics->CountFeed(entries);
    hub->Publish(entries);
  });
  s->intake_->set_batch_listener([metrics](size_t items) { metrics->ObserveBatch(items); });
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
  s->deps_.notes = &s->notes_;
  s->intake_service_ = std::make_unique<CaseIntakeService>(&s->deps_);
  s->query_service_ = std::make_unique<CaseQueryService>(&s->deps_);
  s->directory_service_ = std::make_unique<DirectoryService>(&s->deps_);
  s->work_service_ = std::make_unique<CaseWorkService>(&s->deps_);
  s->feed_service_ = std::make_unique<FeedService>(&s->deps_, s->feed_.get());
  s->operations_service_ = std::make_unique<OperationsService>(&s->deps_, config.data_dir);
  BoundedExecutor* executor = s->executor_.get();
  GRID_RETURN_IF_ERROR(s->auth_.Attach(
      s->store_.get(), clock, [executor](std::function<void()> task) { return executor->TrySubmit(std::move(task)); },
      config.auth_limits));

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (s->tls()) {
    GRID_RETURN_IF_ERROR(s->ReloadTls());
    credentials = TlsCredentials(s->config_);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  AddReflectionV1(builder);  // v1 beside the plugin's v1alpha (reflection_v1.h says why)
  builder.AddListeningPort(config.listen, credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(config.max_receive_bytes);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeCallObserverFactory(&s->notes_, &s->metrics_, config.log));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
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
    // Every grid.v1 service answers health checks by name; OnWriteState
    // below turns the write services NOT_SERVING while the store is read-only.
    for (const char* name :
         {grid::v1::CaseIntake::service_full_name(), grid::v1::CaseQuery::service_full_name(),
          grid::v1::Directory::service_full_name(), grid::v1::CaseWork::service_full_name(),
          grid::v1::EscalationFeed::service_full_name(), grid::v1::Operations::service_full_name()}) {
      s->health_->SetServingStatus(name, true);
    }
  }
  s->OnWriteState(s->store_->WriteState());
  if (!config.http.listen.empty()) GRID_RETURN_IF_ERROR(s->StartHttp(clock));
  return s;
}

Status GridServer::StartHttp(const Clock* clock) {
  gateway_ = std::make_unique<Open311Gateway>(server_->InProcessChannel(grpc::ChannelArguments()), &directory_, clock);
  HttpServerOptions options = config_.http;
  // Ready means what the health of the write services says (OnWriteState).
  if (!options.ready) options.ready = [this] { return writable(); };
  options.render_error = [](int status, const std::string& path, const Status& why) {
    return DashboardGateway::Serves(path) ? DashboardGateway::ErrorResponse(status, why)
                                          : Open311Gateway::ErrorResponse(status, path, why);
  };
  if (!options.metrics_text) options.metrics_text = [this] { return MetricsText(); };
  if (!options.observe) {
    options.observe = [this](const std::string& method, const std::string& path, int status) {
      metrics_.CountHttp(method, path, status);
    };
  }
  Open311Gateway* gateway = gateway_.get();
  dashboard_ = std::make_unique<DashboardGateway>(server_->InProcessChannel(grpc::ChannelArguments()), &directory_,
                                                  clock, config_.web_root);
  DashboardGateway* dashboard = dashboard_.get();
  auto http = HttpServer::Start(std::move(options), [gateway, dashboard](HttpRequest request, HttpReply reply) {
    if (DashboardGateway::Serves(request.path)) return dashboard->Handle(std::move(request), std::move(reply));
    gateway->Handle(std::move(request), std::move(reply));
  });
  if (!http.ok()) return http.status();
  http_ = std::move(http).value();
  return Status::Ok();
}

GridServer::~GridServer() { Shutdown(); }

std::string GridServer::MetricsText() {
  Metrics::Snapshot snap;
  snap.writer_queued = intake_->queued();
  // A scan of the due-time index's keys: proportional to the open cases'
  // timers, paid once per scrape.
  auto pending = store_->CountDue();
  snap.deadlines_pending = pending.ok() ? *pending : 0;
  snap.deadlines_fired = scheduler_->fired();
  snap.feed = feed_->stats();
  snap.store = store_->Figures();
  snap.read_only = !writable();
  const auto directory = directory_.Get();
  snap.directory_version = directory->version();
  snap.directory_units = directory->unit_count();
  return metrics_.Text(snap);
}

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
    if (http_) http_->Stop();  // no new HTTP requests; those in flight end with the gRPC calls below
    if (server_) {
      // Calls in flight get a few seconds to finish; their writes complete.
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    }
    if (gateway_) gateway_->Drain();
    if (dashboard_) dashboard_->Drain();  // its live streams end here
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
