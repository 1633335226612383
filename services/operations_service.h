// Operations (proto/grid/v1/operations.proto): the running server's upkeep,
// for admins only. CreateBackup backs the store up with RocksDB's
// BackupEngine while intake goes on (storage/backup.h) and ListBackups lists
// a backup directory; both run on the read executor, never on a gRPC thread.
//
// Thread-safety: backups and listings run one at a time (backup_mu_), since
// two BackupEngines on one directory would race; the handlers keep no other
// state.
#pragma once

#include <absl/base/thread_annotations.h>

#include <string>

#include "grid/v1/operations.grpc.pb.h"
#include "port/mutex.h"
#include "services/service_deps.h"

namespace grid::services {

// Every method takes raw bytes (services/parsed_call.h): a request that does
// not parse gets a reason (INVALID_UTF8 naming the field, MALFORMED_REQUEST),
// not a bare UNIMPLEMENTED.
using OperationsRaw =
    grid::v1::Operations::WithRawCallbackMethod_CreateBackup<grid::v1::Operations::WithRawCallbackMethod_ListBackups<
        grid::v1::Operations::WithRawCallbackMethod_CreateToken<grid::v1::Operations::WithRawCallbackMethod_ListTokens<
            grid::v1::Operations::WithRawCallbackMethod_RevokeToken<grid::v1::Operations::Service>>>>>;

class OperationsService final : public OperationsRaw {
 public:
  // REQUIRES: deps outlives the service; data_dir is the store's directory.
  OperationsService(const ServiceDeps* deps, std::string data_dir) : deps_(deps), data_dir_(std::move(data_dir)) {}
  grpc::ServerUnaryReactor* CreateBackup(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                         grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* ListBackups(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                        grpc::ByteBuffer* raw_response) override;
  // Tokens (docs/security.md "Tokens"): admins only; creation and revocation
  // write the store synced, on the read executor.
  grpc::ServerUnaryReactor* CreateToken(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                        grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* ListTokens(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                       grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                        grpc::ByteBuffer* raw_response) override;

 private:
  const ServiceDeps* deps_;
  const std::string data_dir_;
  Mutex backup_mu_;  // held while a backup directory is in use
};

}  // namespace grid::services
