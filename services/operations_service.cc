// Operations' methods (see operations_service.h): admit an admin, then do
// the work on the read executor, one backup directory operation at a time.
//
// Thread-safety: as operations_service.h.
#include "services/operations_service.h"

#include <google/protobuf/util/time_util.h>

#include "services/errors.h"
#include "services/parsed_call.h"
#include "services/policy.h"
#include "storage/backup.h"

namespace grid::services {
namespace {

void ToProto(const storage::BackupSummary& b, grid::v1::BackupInfo* out) {
  out->set_backup_id(b.id);
  *out->mutable_created_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(b.created_unix_seconds);
  out->set_size_bytes(b.size_bytes);
  out->set_new_bytes(b.new_bytes);
  out->set_files(b.files);
}

// Admits an admin whose scope is everything (backups and tokens span every
// unit), then parses the request into `call`.
template <typename Call>
Status AdmitAndParse(const ServiceDeps& deps, grpc::CallbackServerContext* context, const grpc::ByteBuffer& raw,
                     policy::Rpc rpc, Call* call) {
  auto principal = Admit(deps, *context, rpc);
  if (!principal.ok()) return principal.status();
  if (Status s = AdmitUnit(*principal, *deps.directory->Get(), rpc, ""); !s.ok()) return s;
  return call->Parse(raw);
}

// Runs `work` (which replies) on the read executor, or answers QUEUE_FULL.
template <typename Call, typename Work>
grpc::ServerUnaryReactor* OnExecutor(const ServiceDeps& deps, Call* call, Work work) {
  if (!deps.executor->TrySubmit([call, work = std::move(work)]() mutable { work(call); })) {
    return call->Reply(QueueFull());
  }
  return call;
}

}  // namespace

grpc::ServerUnaryReactor* OperationsService::CreateBackup(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* raw_request,
                                                          grpc::ByteBuffer* raw_response) {
  using Call = ParsedCall<grid::v1::CreateBackupRequest, grid::v1::CreateBackupResponse>;
  auto* call = new Call(context, raw_response);
  if (Status s = AdmitAndParse(*deps_, context, *raw_request, policy::Rpc::kCreateBackup, call); !s.ok())
    return call->Reply(s);
  return OnExecutor(*deps_, call, [this](Call* call) {
    MutexLock lock(&backup_mu_);
    auto backup = storage::CreateBackup(deps_->store, data_dir_, call->request.directory(), call->request.keep_last());
    if (!backup.ok()) return (void)call->Reply(backup.status());
    ToProto(*backup, call->response.mutable_backup());
    auto kept = storage::ListBackups(call->request.directory());
    if (!kept.ok()) return (void)call->Reply(kept.status());
    call->response.set_backups_kept(static_cast<uint32_t>(kept->size()));
    call->Reply(Status::Ok());
  });
}

grpc::ServerUnaryReactor* OperationsService::ListBackups(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* raw_request,
                                                         grpc::ByteBuffer* raw_response) {
  using Call = ParsedCall<grid::v1::ListBackupsRequest, grid::v1::ListBackupsResponse>;
  auto* call = new Call(context, raw_response);
  if (Status s = AdmitAndParse(*deps_, context, *raw_request, policy::Rpc::kListBackups, call); !s.ok())
    return call->Reply(s);
  return OnExecutor(*deps_, call, [this](Call* call) {
    MutexLock lock(&backup_mu_);
    auto backups = storage::ListBackups(call->request.directory());
    if (!backups.ok()) return (void)call->Reply(backups.status());
    for (const auto& b : *backups) ToProto(b, call->response.add_backups());
    call->Reply(Status::Ok());
  });
}

grpc::ServerUnaryReactor* OperationsService::CreateToken(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* raw_request,
                                                         grpc::ByteBuffer* raw_response) {
  using Call = ParsedCall<grid::v1::CreateTokenRequest, grid::v1::CreateTokenResponse>;
  auto* call = new Call(context, raw_response);
  if (Status s = AdmitAndParse(*deps_, context, *raw_request, policy::Rpc::kCreateToken, call); !s.ok())
    return call->Reply(s);
  return OnExecutor(*deps_, call, [deps = deps_](Call* call) {
    auto created = deps->auth->CreateToken(call->request, *deps->directory->Get());
    if (!created.ok()) return (void)call->Reply(created.status());
    call->response = std::move(created).value();
    call->Reply(Status::Ok());
  });
}

grpc::ServerUnaryReactor* OperationsService::ListTokens(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* raw_request,
                                                        grpc::ByteBuffer* raw_response) {
  using Call = ParsedCall<grid::v1::ListTokensRequest, grid::v1::ListTokensResponse>;
  auto* call = new Call(context, raw_response);
  if (Status s = AdmitAndParse(*deps_, context, *raw_request, policy::Rpc::kListTokens, call); !s.ok())
    return call->Reply(s);
  for (auto& t : deps_->auth->ListTokens()) *call->response.add_tokens() = std::move(t);  // from memory: no store read
  return call->Reply(Status::Ok());
}

grpc::ServerUnaryReactor* OperationsService::RevokeToken(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* raw_request,
                                                         grpc::ByteBuffer* raw_response) {
  using Call = ParsedCall<grid::v1::RevokeTokenRequest, grid::v1::RevokeTokenResponse>;
  auto* call = new Call(context, raw_response);
  if (Status s = AdmitAndParse(*deps_, context, *raw_request, policy::Rpc::kRevokeToken, call); !s.ok())
    return call->Reply(s);
  return OnExecutor(*deps_, call, [deps = deps_](Call* call) {
    auto revoked = deps->auth->RevokeToken(call->request.token_id());
    if (!revoked.ok()) return (void)call->Reply(revoked.status());
    *call->response.mutable_token() = std::move(revoked).value();
    call->Reply(Status::Ok());
  });
}

}  // namespace grid::services
