// How gridctl prints for people: cases, routing decisions, events, the
// lifecycle of a case and the short summary after a case-work command. Times
// are printed in the local time zone. (--json output is PrintJson, common.h.)
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "grid/v1/service.pb.h"

namespace grid::tools::gridctl {

// "2026-11-27 22:47:03", local time.
std::string FormatTime(const google::protobuf::Timestamp& ts);
// An enum value's name without its prefix: EnumShort("CASE_STATUS_ROUTED", "CASE_STATUS_") is "ROUTED".
std::string EnumShort(const std::string& full, const char* prefix);
// One history line: "#3 ACCEPTED by M3 (grid_worker): note".
std::string EventLine(const grid::v1::CaseEvent& e);

void PrintRouting(const grid::v1::RoutingDecision& r);
void PrintCase(const grid::v1::Case& c);
// The short block after a case-work command: status, unit, the clocks still
// running, the open sub-tasks.
void PrintWorkSummary(const grid::v1::Case& c);
// Every lifecycle field, for `get`.
void PrintLifecycle(const grid::v1::Case& c);

}  // namespace grid::tools::gridctl
