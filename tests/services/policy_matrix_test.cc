// The authorization matrix (issue #14): every RPC of grid.v1 x every role x
// a subject within and outside the caller's reach, plus every kind of bad
// token, through a real server. The expected answer of each cell is the
// policy table's (engine/policy.h) for the facts of the subject as stored,
// so the test holds the server to the table rather than to a second copy of
// it; the cells issue #14 names are pinned in tests/engine/policy_test.cc.
//
// An admitted call may still fail on the state of the case (ILLEGAL_TRANSITION
// ...); it must not fail with PERMISSION_DENIED or UNAUTHENTICATED. A refused
// call answers PERMISSION_DENIED with the table's reason and leaves the case
// as it was (same version). Watch is opened, and an admitted one replays
// only entries of its scope.
//
// Token kinds are a list (BadTokens()): the fixed ones, plus a stored token
// that has expired on the server's clock and one that has been revoked; a
// new kind is one more row, with the answer it must get.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/directory.h"
#include "engine/policy.h"
#include "grid/v1/operations.pb.h"
#include "tests/support/server_fixture.h"
#include "tests/support/submit_request.h"

namespace grid {
namespace {

namespace v1 = grid::v1;
using policy::Role;
using policy::Rpc;

constexpr const char* kRootToken = "root-admin-token-0001";
constexpr const char* kTown1 = "100001";
constexpr const char* kTown2 = "100002";
constexpr const char* kGrid1 = "100001001001";
constexpr const char* kGrid1b = "100001001002";
constexpr const char* kGrid2 = "100002001001";

// Every role's token: scope town 1, except the department (dept.police,
// scope "*": its reach is the cases it handles or is summoned to).
struct RoleToken {
  Role role;
  std::string token;
  std::string id;
  std::string scope;  // as in the token file
};

std::vector<RoleToken> RoleTokens() {
  std::vector<RoleToken> out;
  for (const auto& r : policy::kRoles) {
    RoleToken t{r.role, std::string(r.name) + "-matrix-token-01", std::string(r.name) + "-1", kTown1};
    if (r.role == Role::kDepartment) {
      t.id = "dept.police";
      t.scope = "*";
    }
    out.push_back(t);
  }
  return out;
}

// A token that is not a valid one, and what it must get.
struct BadToken {
  std::string name;
  std::optional<std::string> metadata;  // the authorization header; nullopt: none
  std::string reason;
};

// The subject of a call: a case, or a unit.
struct Subject {
  std::string case_id;  // a case in reach or not
  std::string unit;     // the unit the request names (grid level)
  std::string town;     // the town of that unit (for scope fields)
  std::string community;
};

v1::DirectoryContent TwoTowns() {
  v1::DirectoryContent c = testing::TinyDirectory();
  testing::AddUnit(&c, kTown2, v1::UNIT_LEVEL_TOWN, "第二镇", "100");
  testing::AddUnit(&c, "100002001", v1::UNIT_LEVEL_COMMUNITY, "第二社区", kTown2);
  auto* g = testing::AddUnit(&c, kGrid2, v1::UNIT_LEVEL_GRID, "二镇第1网格", "100002001");
  testing::AddSquare(g, 110.05, 20.00, 110.06, 20.01);
  auto* m = c.add_members();
  m->set_id("M9");
  m->set_name("钱七");
  m->set_phone("13900009999");
  m->set_unit_code(kGrid2);
  m->set_on_duty(true);
  m->add_roles(v1::MEMBER_ROLE_GRID_WORKER);
  for (auto& member : *c.mutable_members()) {
    if (member.phone().empty()) member.set_phone("1370000" + std::to_string(1000 + c.members_size()));
  }
  return c;
}

// One call's outcome.
struct Outcome {
  grpc::Status status;
  std::string reason;
};

class PolicyMatrixTest : public testing::ServerFixture {
 protected:
  PolicyMatrixTest() { directory_ = TwoTowns(); }

  void SetUp() override {
    std::ofstream out(tmp_.Sub("tokens"));
    out << kRootToken << " admin * root\n";
    for (const auto& t : RoleTokens()) {
      out << t.token << " " << policy::InfoOf(t.role).name << " " << t.scope << " " << t.id << "\n";
    }
    out.close();
    // Every bad token of the matrix comes from 127.0.0.1: the peer lock-out
    // (tested in auth_test) would answer them all TOO_MANY_AUTH_FAILURES.
    config_.auth_limits.max_auth_failures = 0;
    StartServer(tmp_.Sub("tokens"));
    auto d = Directory::Build(directory_, 1);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dir_ = *d;
    generic_ = std::make_unique<grpc::GenericStub>(clients_->channel);
  }

  // Every kind of token that must be refused. The stored ones are made here
  // as an admin would make them (Operations.CreateToken, a supervisor of
  // town 1: a role that could otherwise read the subject), then expired on
  // the server's clock or revoked.
  std::vector<BadToken> BadTokens() {
    std::vector<BadToken> out = {
        {"no token", std::nullopt, "MISSING_TOKEN"},
        {"wrong token", std::string("Bearer not-a-token-of-this-server"), "UNKNOWN_TOKEN"},
        {"not bearer", std::string("Basic cm9vdDpyb290"), "MISSING_TOKEN"},
    };
    auto ops = v1::Operations::NewStub(clients_->channel);
    auto create = [&](const std::string& name, uint64_t expires_s) {
      v1::CreateTokenRequest req;
      req.set_role("supervisor");
      req.set_scope_unit_code(kTown1);
      req.set_name(name);
      req.set_expires_in_seconds(expires_s);
      v1::CreateTokenResponse resp;
      auto ctx = testing::Context(kRootToken);
      EXPECT_TRUE(ops->CreateToken(ctx.get(), req, &resp).ok()) << name;
      return resp;
    };
    const v1::CreateTokenResponse expiring = create("matrix-expired", 60);
    const v1::CreateTokenResponse revoked = create("matrix-revoked", 0);
    v1::RevokeTokenRequest revoke;
    revoke.set_token_id(revoked.token().token_id());
    v1::RevokeTokenResponse revoke_resp;
    auto ctx = testing::Context(kRootToken);
    EXPECT_TRUE(ops->RevokeToken(ctx.get(), revoke, &revoke_resp).ok());
    clock_.Advance(61'000'000);
    out.push_back({"expired token", std::string("Bearer ") + expiring.secret(), "TOKEN_EXPIRED"});
    out.push_back({"revoked token", std::string("Bearer ") + revoked.secret(), "TOKEN_REVOKED"});
    return out;
  }

  // A fresh case, submitted by root: sanitation at a grid of town 1 or 2, or
  // a security case (handled by dept.police) in town 1.
  std::string NewCase(bool town1, const std::string& category = "sanitation") {
    v1::SubmitCaseResponse resp;
    auto sub = testing::Submission(category);
    if (town1) {
      sub.At(20.005, 110.005);
    } else {
      sub.At(20.005, 110.055);
    }
    auto r = testing::Submit(*clients_->intake, sub.Build(), &resp, kRootToken);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    return resp.case_().id();
  }

  v1::Case Stored(const std::string& id) {
    v1::GetCaseResponse resp;
    auto r = testing::GetCase(*clients_->query, id, &resp, kRootToken);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    return resp.case_();
  }

  // A valid request of `rpc` about `s`, for caller `t`.
  std::unique_ptr<google::protobuf::Message> RequestOf(Rpc rpc, const Subject& s, const RoleToken& t) {
    auto work = [&](auto* r) {
      r->set_case_id(s.case_id);
      r->set_note("矩阵测试");
      return std::unique_ptr<google::protobuf::Message>(r);
    };
    switch (rpc) {
      case Rpc::kSubmitCase: {
        auto r = std::make_unique<v1::SubmitCaseRequest>(testing::Submission().In(s.unit).Build());
        r->set_idempotency_key("matrix-" + std::to_string(++keys_));
        return r;
      }
      case Rpc::kGetCase: {
        auto r = std::make_unique<v1::GetCaseRequest>();
        r->set_case_id(s.case_id);
        return r;
      }
      case Rpc::kListCases: {
        auto r = std::make_unique<v1::ListCasesRequest>();
        r->set_scope_unit_code(s.town);
        return r;
      }
      case Rpc::kGetStats: {
        auto r = std::make_unique<v1::GetStatsRequest>();
        r->set_scope_unit_code(s.town);
        r->set_from_date("2026-11-01");
        r->set_to_date("2026-11-30");
        return r;
      }
      case Rpc::kRevealCitizen: return work(new v1::RevealCitizenRequest);
      case Rpc::kAccept: return work(new v1::AcceptRequest);
      case Rpc::kReject: {
        auto r = work(new v1::RejectRequest);
        static_cast<v1::RejectRequest*>(r.get())->set_reason(v1::REJECT_REASON_NOT_OUR_DUTY);
        return r;
      }
      case Rpc::kTransfer: {
        auto r = work(new v1::TransferRequest);
        static_cast<v1::TransferRequest*>(r.get())->set_unit_code(kGrid1b);
        return r;
      }
      case Rpc::kAddNote: return work(new v1::AddNoteRequest);
      case Rpc::kStartWork: return work(new v1::StartWorkRequest);
      case Rpc::kResolve: return work(new v1::ResolveRequest);
      case Rpc::kRecordCallback: return work(new v1::RecordCallbackRequest);
      case Rpc::kClose: return work(new v1::CloseRequest);
      case Rpc::kReopen: return work(new v1::ReopenRequest);
      case Rpc::kMerge: {
        auto r = work(new v1::MergeRequest);
        static_cast<v1::MergeRequest*>(r.get())->set_master_case_id(master_);
        return r;
      }
      case Rpc::kCancel: return work(new v1::CancelRequest);
      case Rpc::kEscalate: return work(new v1::EscalateRequest);
      case Rpc::kSummonDepartments: {
        auto r = work(new v1::SummonDepartmentsRequest);
        static_cast<v1::SummonDepartmentsRequest*>(r.get())->add_department_codes("dept.water");
        return r;
      }
      case Rpc::kReportIn: {
        auto r = work(new v1::ReportInRequest);
        static_cast<v1::ReportInRequest*>(r.get())->set_department_code(t.role == Role::kDepartment ? t.id
                                                                                                    : "dept.police");
        return r;
      }
      case Rpc::kAssignHelper: {
        auto r = work(new v1::AssignHelperRequest);
        static_cast<v1::AssignHelperRequest*>(r.get())->set_member_id("M1");
        return r;
      }
      case Rpc::kWait: return work(new v1::WaitRequest);
      case Rpc::kResume: return work(new v1::ResumeRequest);
      case Rpc::kExtend: {
        auto r = work(new v1::ExtendRequest);
        static_cast<v1::ExtendRequest*>(r.get())->set_hours(2);
        return r;
      }
      case Rpc::kGetUnit: {
        auto r = std::make_unique<v1::GetUnitRequest>();
        r->set_code(s.unit);
        return r;
      }
      case Rpc::kListChildren: {
        auto r = std::make_unique<v1::ListChildrenRequest>();
        r->set_code(s.community);
        return r;
      }
      case Rpc::kUpsertUnit: {
        auto r = std::make_unique<v1::UpsertUnitRequest>();
        for (const auto& u : directory_.units()) {
          if (u.code() == s.unit) *r->mutable_unit() = u;
        }
        return r;
      }
      case Rpc::kRestorePreviousVersion: return std::make_unique<v1::RestorePreviousVersionRequest>();
      case Rpc::kRouteCase: {
        auto r = std::make_unique<v1::RouteCaseRequest>();
        r->set_category("sanitation");
        r->set_unit_code(s.unit);
        return r;
      }
      case Rpc::kCreateBackup: {
        auto r = std::make_unique<v1::CreateBackupRequest>();
        r->set_directory(tmp_.Sub("backups"));
        return r;
      }
      case Rpc::kListBackups: {
        auto r = std::make_unique<v1::ListBackupsRequest>();
        r->set_directory(tmp_.Sub("backups"));
        return r;
      }
      case Rpc::kCreateToken: {
        auto r = std::make_unique<v1::CreateTokenRequest>();
        r->set_role("call_center");
        r->set_scope_unit_code(s.town);
        r->set_name("matrix");
        return r;
      }
      case Rpc::kListTokens: return std::make_unique<v1::ListTokensRequest>();
      case Rpc::kRevokeToken: {
        auto r = std::make_unique<v1::RevokeTokenRequest>();
        r->set_token_id("0123456789abcdef");
        return r;
      }
      case Rpc::kWatch:
      case Rpc::kImport: break;  // streams: see Call
    }
    return nullptr;
  }

  // Calls `rpc` with `authorization` metadata (nullptr: none).
  Outcome Call(Rpc rpc, const Subject& s, const RoleToken& t, const std::optional<std::string>& authorization) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (authorization.has_value()) ctx.AddMetadata("authorization", *authorization);
    Outcome out;
    if (rpc == Rpc::kWatch) {
      auto stub = v1::EscalationFeed::NewStub(clients_->channel);
      v1::WatchRequest req;
      req.set_scope_unit_code(s.town);
      req.set_all_changes(true);
      auto reader = stub->Watch(&ctx, req);
      v1::WatchResponse resp;
      bool caught_up = false;
      while (!caught_up && reader->Read(&resp)) {
        for (const auto& e : resp.entries()) {
          bool in = false;
          for (const auto& u : e.unit_path()) in = in || u == s.town;
          EXPECT_TRUE(in) << "Watch of " << s.town << " replayed an entry of another scope";
        }
        caught_up = resp.caught_up();
      }
      if (caught_up) {
        ctx.TryCancel();
        reader->Finish().IgnoreError();
        out.status = grpc::Status::OK;
        return out;
      }
      out.status = reader->Finish();
    } else if (rpc == Rpc::kImport) {
      auto stub = v1::Directory::NewStub(clients_->channel);
      v1::ImportResponse resp;
      auto writer = stub->Import(&ctx, &resp);
      v1::ImportChunk chunk;
      chunk.set_last(true);
      chunk.set_source("matrix");
      writer->Write(chunk);
      writer->WritesDone();
      out.status = writer->Finish();
    } else {
      auto req = RequestOf(rpc, s, t);
      const policy::PolicyRow& row = policy::RowOf(rpc);
      const std::string method = "/grid.v1." + std::string(row.service) + "/" + std::string(row.method);
      grpc::Slice slice(req->SerializeAsString());
      grpc::ByteBuffer request(&slice, 1), response;
      std::promise<grpc::Status> done;
      generic_->UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                          [&done](grpc::Status st) { done.set_value(std::move(st)); });
      out.status = done.get_future().get();
    }
    auto md = ctx.GetServerTrailingMetadata();
    auto it = md.find("grid-reason");
    if (it != md.end()) out.reason = std::string(it->second.data(), it->second.size());
    return out;
  }

  std::shared_ptr<const Directory> dir_;
  std::unique_ptr<grpc::GenericStub> generic_;
  std::string master_;
  int keys_ = 0;
};

bool IsCaseRpc(Rpc rpc) {
  switch (rpc) {
    case Rpc::kGetCase:
    case Rpc::kRevealCitizen: return true;
    default: break;
  }
  return rpc >= Rpc::kAccept && rpc <= Rpc::kExtend;
}

TEST_F(PolicyMatrixTest, EveryRpcEveryRoleInAndOutOfReach) {
  master_ = NewCase(true);
  const std::string far_case = NewCase(false);
  const Subject near_unit{"", kGrid1, kTown1, "100001001"};
  const Subject far_unit{"", kGrid2, kTown2, "100002001"};
  int admitted = 0, refused_role = 0, refused_scope = 0;
  for (const auto& row : policy::kPolicy) {
    for (const auto& t : RoleTokens()) {
      const policy::Caller caller{t.id, t.role, t.scope};
      for (const bool in_reach : {true, false}) {
        Subject s = in_reach ? near_unit : far_unit;
        v1::Case before;
        policy::Subject facts;
        if (IsCaseRpc(row.rpc)) {
          // A fresh case per cell: the calls before it do not change it.
          s.case_id = in_reach ? NewCase(true, t.role == Role::kDepartment ? "security" : "sanitation") : far_case;
          before = Stored(s.case_id);
          facts = policy::OfCase(*dir_, caller, before);
        } else {
          const std::string unit = row.rpc == Rpc::kListCases || row.rpc == Rpc::kGetStats || row.rpc == Rpc::kWatch
                                       ? s.town
                                   : row.rpc == Rpc::kListChildren ? s.community
                                   : row.rpc == Rpc::kImport || row.rpc == Rpc::kRestorePreviousVersion ||
                                           row.rpc == Rpc::kCreateBackup || row.rpc == Rpc::kListBackups
                                       ? ""
                                       : s.unit;
          facts = policy::OfUnit(*dir_, caller, unit);
        }
        const Status want = policy::Decide(t.role, row.rpc, facts);
        const std::string cell = policy::RpcName(row.rpc) + " as " + std::string(policy::InfoOf(t.role).name) +
                                 (in_reach ? ", in reach" : ", out of reach");
        const Outcome got = Call(row.rpc, s, t, "Bearer " + t.token);
        if (want.ok()) {
          ++admitted;
          EXPECT_NE(got.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
              << cell << ": " << got.status.error_message();
          EXPECT_NE(got.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << cell;
        } else {
          ++(want.reason() == "ROLE_NOT_ALLOWED" ? refused_role : refused_scope);
          EXPECT_EQ(got.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
              << cell << ": " << got.status.error_message();
          EXPECT_EQ(got.reason, want.reason()) << cell << ": " << got.status.error_message();
          if (IsCaseRpc(row.rpc)) {
            EXPECT_EQ(Stored(s.case_id).version(), before.version()) << cell << ": a refused call changed the case";
          }
        }
      }
    }
  }
  // The matrix is not vacuous: every kind of answer occurs.
  EXPECT_GT(admitted, 50);
  EXPECT_GT(refused_role, 50);
  EXPECT_GT(refused_scope, 50);
}

TEST_F(PolicyMatrixTest, EveryRpcRefusesEveryBadToken) {
  const std::string id = NewCase(true);
  const Subject s{id, kGrid1, kTown1, "100001001"};
  const RoleToken nobody{Role::kAdmin, "", "", ""};
  const std::vector<BadToken> bad_tokens = BadTokens();
  ASSERT_EQ(bad_tokens.size(), 5u);
  for (const auto& row : policy::kPolicy) {
    for (const auto& bad : bad_tokens) {
      const v1::Case before = Stored(id);
      const Outcome got = Call(row.rpc, s, nobody, bad.metadata);
      EXPECT_EQ(got.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << policy::RpcName(row.rpc) << ", " << bad.name;
      EXPECT_EQ(got.reason, bad.reason) << policy::RpcName(row.rpc) << ", " << bad.name;
      EXPECT_EQ(Stored(id).version(), before.version()) << policy::RpcName(row.rpc) << ", " << bad.name;
    }
  }
}

}  // namespace
}  // namespace grid
