// SubmitCaseRequest builder for tests: the case most tests submit (a
// sanitation complaint with a citizen, in grid 2 of the tiny directory) and
// the few changes they make to it, so a test states only what it cares about.
//
//   Submission().Key("k1").Build()                      // grid 2 at (20.005, 110.015)
//   Submission("water.burst").At(20.005, 110.005).NoCitizen().Build()
//   Submission().In("100001001001").Description("x").Build()
#pragma once

#include <string>

#include "grid/v1/service.pb.h"

namespace grid::testing {

class Submission {
 public:
  explicit Submission(const std::string& category = "sanitation") {
    r_.set_category(category);
    r_.set_description("垃圾堆放三天无人清理");
    r_.mutable_location()->set_lat(20.005);
    r_.mutable_location()->set_lng(110.015);
    r_.mutable_citizen()->set_name("陈小梅");
    r_.mutable_citizen()->set_phone("13800001234");
  }
  Submission& Key(const std::string& key) {
    r_.set_idempotency_key(key);
    return *this;
  }
  Submission& Description(const std::string& d) {
    r_.set_description(d);
    return *this;
  }
  // A point instead of the default one.
  Submission& At(double lat, double lng) {
    r_.mutable_location()->set_lat(lat);
    r_.mutable_location()->set_lng(lng);
    return *this;
  }
  Submission& NoLocation() {
    r_.clear_location();
    return *this;
  }
  // A unit code instead of a location.
  Submission& In(const std::string& unit) {
    r_.clear_location();
    r_.set_unit_code(unit);
    return *this;
  }
  Submission& Citizen(const std::string& name, const std::string& phone = "") {
    r_.mutable_citizen()->set_name(name);
    r_.mutable_citizen()->set_phone(phone);
    return *this;
  }
  Submission& NoCitizen() {
    r_.clear_citizen();
    return *this;
  }
  Submission& Priority(grid::v1::Priority p) {
    r_.set_priority(p);
    return *this;
  }
  const grid::v1::SubmitCaseRequest& Build() const { return r_; }

 private:
  grid::v1::SubmitCaseRequest r_;
};

}  // namespace grid::testing
