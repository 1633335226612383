// Request parsing and validation: the first byte picks a request type, the
// rest is its wire bytes. ParseRequestBytes (services/wire.h), then the
// checks its handler makes on the gRPC thread: ValidateSubmit,
// ValidateCommand, CheckCharacters, ValidateLocation, and a directory import
// applied to a small directory. Every refusal must carry a reason and a
// bounded, printable message.
#include "engine/lifecycle.h"
#include "engine/validation.h"
#include "grid/v1/service.pb.h"
#include "services/wire.h"
#include "tests/fuzz/common.h"

using namespace grid;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietProtobuf();
  fuzz::Tiny();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = fuzz::Bytes(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      grid::v1::SubmitCaseRequest r;
      const Status s = services::ParseRequestBytes(bytes, &r);
      fuzz::CheckRefusal(s);
      if (s.ok()) fuzz::CheckRefusal(ValidateSubmit(r, fuzz::Tiny()));
      break;
    }
    case 1: {
      grid::v1::CaseCommand c;
      const Status s = services::ParseRequestBytes(bytes, &c);
      fuzz::CheckRefusal(s);
      if (s.ok()) fuzz::CheckRefusal(ValidateCommand(c, LifecycleOptions()));
      break;
    }
    case 2: {
      grid::v1::ImportChunk chunk;
      const Status s = services::ParseRequestBytes(bytes, &chunk);
      fuzz::CheckRefusal(s);
      if (!s.ok()) break;
      const Status chars = CheckCharacters(chunk.content());
      fuzz::CheckRefusal(chars);
      if (!chars.ok()) break;
      auto next = Directory::Apply(fuzz::Tiny(), chunk.content(), chunk.mode() == grid::v1::IMPORT_MODE_REPLACE, 2);
      fuzz::CheckRefusal(next.status());
      break;
    }
    case 3: {
      grid::v1::RouteCaseRequest r;
      const Status s = services::ParseRequestBytes(bytes, &r);
      fuzz::CheckRefusal(s);
      if (!s.ok()) break;
      if (r.has_location()) fuzz::CheckRefusal(ValidateLocation(r.location()));
      fuzz::CheckRefusal(CheckCharacters(r));
      break;
    }
    case 4: {
      grid::v1::ListCasesRequest r;
      fuzz::CheckRefusal(services::ParseRequestBytes(bytes, &r));
      break;
    }
    default: {
      grid::v1::UpsertUnitRequest r;
      const Status s = services::ParseRequestBytes(bytes, &r);
      fuzz::CheckRefusal(s);
      if (s.ok()) fuzz::CheckRefusal(CheckCharacters(r));
      break;
    }
  }
  return 0;
}
