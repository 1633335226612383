// Operations' methods (see operations_service.h): admit an admin, then do
// the work on the read executor, one backup directory operation at a time.
//
// Thread-safety: as operations_service.h.
#include "services/operations_service.h"

#include <google/protobuf/util/time_util.h>

#include "services/errors.h"
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

}  // namespace

grpc::ServerUnaryReactor* OperationsService::CreateBackup(grpc::CallbackServerContext* context,
                                                          const grid::v1::CreateBackupRequest* request,
                                                          grid::v1::CreateBackupResponse* response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kCreateBackup);
  if (!principal.ok()) return Respond(context, principal.status());
  // The whole store: only an admin whose scope is everything.
  if (Status s = AdmitUnit(*principal, *deps_->directory->Get(), policy::Rpc::kCreateBackup, ""); !s.ok()) {
    return Respond(context, s);
  }
  auto* reactor = context->DefaultReactor();
  bool queued = deps_->executor->TrySubmit([this, reactor, context, request, response] {
    MutexLock lock(&backup_mu_);
    auto backup = storage::CreateBackup(deps_->store, data_dir_, request->directory(), request->keep_last());
    if (!backup.ok()) return reactor->Finish(Fail(context, backup.status()));
    ToProto(*backup, response->mutable_backup());
    auto kept = storage::ListBackups(request->directory());
    if (!kept.ok()) return reactor->Finish(Fail(context, kept.status()));
    response->set_backups_kept(static_cast<uint32_t>(kept->size()));
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::ListBackups(grpc::CallbackServerContext* context,
                                                         const grid::v1::ListBackupsRequest* request,
                                                         grid::v1::ListBackupsResponse* response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kListBackups);
  if (!principal.ok()) return Respond(context, principal.status());
  // The whole store: only an admin whose scope is everything.
  if (Status s = AdmitUnit(*principal, *deps_->directory->Get(), policy::Rpc::kListBackups, ""); !s.ok()) {
    return Respond(context, s);
  }
  auto* reactor = context->DefaultReactor();
  bool queued = deps_->executor->TrySubmit([this, reactor, context, request, response] {
    MutexLock lock(&backup_mu_);
    auto backups = storage::ListBackups(request->directory());
    if (!backups.ok()) return reactor->Finish(Fail(context, backups.status()));
    for (const auto& b : *backups) ToProto(b, response->add_backups());
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::CreateToken(grpc::CallbackServerContext* context,
                                                         const grid::v1::CreateTokenRequest* request,
                                                         grid::v1::CreateTokenResponse* response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kCreateToken);
  if (!principal.ok()) return Respond(context, principal.status());
  // Tokens of any scope: only an admin whose scope is everything.
  if (Status s = AdmitUnit(*principal, *deps_->directory->Get(), policy::Rpc::kCreateToken, ""); !s.ok()) {
    return Respond(context, s);
  }
  auto* reactor = context->DefaultReactor();
  bool queued = deps_->executor->TrySubmit([this, reactor, context, request, response] {
    auto created = deps_->auth->CreateToken(*request, *deps_->directory->Get());
    if (!created.ok()) return reactor->Finish(Fail(context, created.status()));
    *response = std::move(created).value();
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::ListTokens(grpc::CallbackServerContext* context,
                                                        const grid::v1::ListTokensRequest* /*request*/,
                                                        grid::v1::ListTokensResponse* response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kListTokens);
  if (!principal.ok()) return Respond(context, principal.status());
  // Tokens of any scope: only an admin whose scope is everything.
  if (Status s = AdmitUnit(*principal, *deps_->directory->Get(), policy::Rpc::kListTokens, ""); !s.ok()) {
    return Respond(context, s);
  }
  for (auto& t : deps_->auth->ListTokens()) *response->add_tokens() = std::move(t);  // from memory: no store read
  return Respond(context, Status::Ok());
}

grpc::ServerUnaryReactor* OperationsService::RevokeToken(grpc::CallbackServerContext* context,
                                                         const grid::v1::RevokeTokenRequest* request,
                                                         grid::v1::RevokeTokenResponse* response) {
  auto principal = Admit(*deps_, *context, policy::Rpc::kRevokeToken);
  if (!principal.ok()) return Respond(context, principal.status());
  // Tokens of any scope: only an admin whose scope is everything.
  if (Status s = AdmitUnit(*principal, *deps_->directory->Get(), policy::Rpc::kRevokeToken, ""); !s.ok()) {
    return Respond(context, s);
  }
  auto* reactor = context->DefaultReactor();
  bool queued = deps_->executor->TrySubmit([this, reactor, context, request, response] {
    auto revoked = deps_->auth->RevokeToken(request->token_id());
    if (!revoked.ok()) return reactor->Finish(Fail(context, revoked.status()));
    *response->mutable_token() = std::move(revoked).value();
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) reactor->Finish(Fail(context, QueueFull()));
  return reactor;
}

}  // namespace grid::services
