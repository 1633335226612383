// Server reflection v1: see reflection_v1.h.
#include "services/reflection_v1.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace grid::services {
namespace {

namespace rv1 = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

class ReflectionV1Service final : public rv1::ServerReflection::CallbackService {
 public:
  // REQUIRES: before the server starts. `services` (gRPC's live list of
  // registered service names) lives as long as the server and does not
  // change once it serves.
  void SetServiceList(const std::vector<std::string>* services) { services_ = services; }

  grpc::ServerBidiReactor<rv1::ServerReflectionRequest, rv1::ServerReflectionResponse>* ServerReflectionInfo(
      grpc::CallbackServerContext* /*context*/) override {
    return new Stream(services_);
  }

 private:
  class Stream final : public grpc::ServerBidiReactor<rv1::ServerReflectionRequest, rv1::ServerReflectionResponse> {
   public:
    explicit Stream(const std::vector<std::string>* services) : services_(services) { StartRead(&request_); }

    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);  // the client is done asking
        return;
      }
      response_.Clear();
      Answer(request_, &response_);
      StartWrite(&response_);
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "reflection stream broken"));
        return;
      }
      StartRead(&request_);
    }
    void OnDone() override { delete this; }

   private:
    void Answer(const rv1::ServerReflectionRequest& request, rv1::ServerReflectionResponse* response) {
      response->set_valid_host(request.host());
      *response->mutable_original_request() = request;
      const DescriptorPool* pool = DescriptorPool::generated_pool();
      switch (request.message_request_case()) {
        case rv1::ServerReflectionRequest::kListServices:
          if (services_ != nullptr) {
            for (const std::string& name : *services_)
              response->mutable_list_services_response()->add_service()->set_name(name);
          }
          return;
        case rv1::ServerReflectionRequest::kFileByFilename:
          return SendFile(pool->FindFileByName(request.file_by_filename()), "file not found", response);
        case rv1::ServerReflectionRequest::kFileContainingSymbol:
          return SendFile(pool->FindFileContainingSymbol(request.file_containing_symbol()), "symbol not found",
                          response);
        case rv1::ServerReflectionRequest::kFileContainingExtension: {
          const auto* type = pool->FindMessageTypeByName(request.file_containing_extension().containing_type());
          const auto* extension = type == nullptr ? nullptr
                                                  : pool->FindExtensionByNumber(
                                                        type, request.file_containing_extension().extension_number());
          return SendFile(extension == nullptr ? nullptr : extension->file(), "extension not found", response);
        }
        case rv1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
          const auto* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
          if (type == nullptr) return Error(grpc::StatusCode::NOT_FOUND, "type not found", response);
          std::vector<const google::protobuf::FieldDescriptor*> extensions;
          pool->FindAllExtensions(type, &extensions);
          auto* numbers = response->mutable_all_extension_numbers_response();
          numbers->set_base_type_name(type->full_name());
          for (const auto* e : extensions) numbers->add_extension_number(e->number());
          return;
        }
        case rv1::ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET: break;
      }
      Error(grpc::StatusCode::UNIMPLEMENTED, "the request holds no known message_request", response);
    }

    static void Error(grpc::StatusCode code, const std::string& message, rv1::ServerReflectionResponse* response) {
      response->mutable_error_response()->set_error_code(code);
      response->mutable_error_response()->set_error_message(message);
    }

    // The file and, depth first, those of its dependencies not yet sent on
    // this stream (as the v1alpha service does).
    void SendFile(const FileDescriptor* file, const char* not_found, rv1::ServerReflectionResponse* response) {
      if (file == nullptr) return Error(grpc::StatusCode::NOT_FOUND, not_found, response);
      auto* files = response->mutable_file_descriptor_response();
      std::vector<const FileDescriptor*> pending = {file};
      while (!pending.empty()) {
        const FileDescriptor* f = pending.back();
        pending.pop_back();
        if (!sent_.insert(f->name()).second) continue;
        google::protobuf::FileDescriptorProto proto;
        f->CopyTo(&proto);
        files->add_file_descriptor_proto(proto.SerializeAsString());
        for (int i = 0; i < f->dependency_count(); ++i) pending.push_back(f->dependency(i));
      }
    }

    const std::vector<std::string>* services_;
    std::set<std::string> sent_;  // files sent on this stream
    rv1::ServerReflectionRequest request_;
    rv1::ServerReflectionResponse response_;
  };

  const std::vector<std::string>* services_ = nullptr;
};

// Registers the service when the server is built and hands it the server's
// service list; the builder owns the plugin, the plugin the service.
class ReflectionV1Plugin final : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "grid_reflection_v1"; }
  // Before the server starts: no stream can read the list while it is set.
  void InitServer(grpc::ServerInitializer* si) override {
    service_->SetServiceList(si->GetServiceList());
    si->RegisterService(service_);
  }
  void Finish(grpc::ServerInitializer* /*si*/) override {}
  void ChangeArguments(const std::string& /*name*/, void* /*value*/) override {}

 private:
  std::shared_ptr<ReflectionV1Service> service_ = std::make_shared<ReflectionV1Service>();
};

class ReflectionV1Option final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ReflectionV1Plugin>());
  }
};

}  // namespace

void AddReflectionV1(grpc::ServerBuilder& builder) { builder.SetOption(std::make_unique<ReflectionV1Option>()); }

}  // namespace grid::services
