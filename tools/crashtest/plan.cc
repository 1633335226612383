#include "tools/crashtest/plan.h"

#include <iterator>

#include "tools/crashtest/rpc.h"
#include "tools/demo/demo_directory.h"

namespace grid::crashtest {

namespace v1 = grid::v1;

const char* OpName(Op op) {
  switch (op) {
    case Op::kAccept: return "accept";
    case Op::kStartWork: return "start_work";
    case Op::kNote: return "note";
    case Op::kEscalate: return "escalate";
    case Op::kResolve: return "resolve";
    case Op::kCallback: return "callback";
    case Op::kClose: return "close";
  }
  return "?";
}

v1::EventType PrimaryEvent(Op op) {
  switch (op) {
    case Op::kAccept: return v1::EVENT_TYPE_ACCEPTED;
    case Op::kStartWork: return v1::EVENT_TYPE_WORK_STARTED;
    case Op::kNote: return v1::EVENT_TYPE_NOTE;
    case Op::kEscalate: return v1::EVENT_TYPE_ESCALATED;
    case Op::kResolve: return v1::EVENT_TYPE_RESOLVED;
    case Op::kCallback: return v1::EVENT_TYPE_CALLED_BACK;
    case Op::kClose: return v1::EVENT_TYPE_CLOSED;
  }
  return v1::EVENT_TYPE_UNSPECIFIED;
}

std::vector<Op> Plan(uint64_t h) {
  using enum Op;
  switch (h % 10) {
    case 0:
    case 1: return {};
    case 2:
    case 3: return {kAccept};
    case 4: return {kAccept, kEscalate, kStartWork};
    case 5: return {kAccept, kStartWork, kNote, kEscalate, kResolve, kCallback, kClose};
    default: return {kAccept, kStartWork, kNote, kResolve, kCallback, kClose};
  }
}

namespace {

const char* kDescriptions[] = {"小区门口垃圾桶满溢，已两天未清运", "路边堆放建筑垃圾，影响通行",
                               "菜市场后巷垃圾无人清理，气味很大", "村道边有人乱倒生活垃圾"};

}  // namespace

void FillSubmit(const std::string& key, uint64_t h, v1::SubmitCaseRequest* req) {
  const grid::DemoExtent& e = grid::kDemoCountyExtent;
  req->set_idempotency_key(key);
  req->set_channel(v1::CHANNEL_PHONE);
  req->set_category("sanitation.garbage");
  req->set_description(kDescriptions[h % std::size(kDescriptions)]);
  req->mutable_location()->set_lat(e.south + 1e-6 + Unit(Mix(h ^ 1)) * (e.north - e.south - 2e-6));
  req->mutable_location()->set_lng(e.west + 1e-6 + Unit(Mix(h ^ 2)) * (e.east - e.west - 2e-6));
  req->mutable_citizen()->set_name("王女士");
  req->mutable_citizen()->set_phone("138" + std::to_string(10000000 + Mix(h ^ 3) % 90000000));
  req->set_priority(v1::PRIORITY_NORMAL);
}

}  // namespace grid::crashtest
