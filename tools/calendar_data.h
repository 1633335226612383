// The working calendar shipped with gridd (data/calendar/cn-2026.txt, the 2026
// mainland China schedule with 调休), embedded in the binary: gridd's default
// when no --calendar is given.
//
// Thread-safety: pure functions over static text.
#pragma once

#include <string_view>

namespace grid::tools {

// The file the text was embedded from, for messages.
std::string_view ShippedCalendarName();
// Its text, for ParseWorkingCalendar.
std::string_view ShippedCalendarText();

}  // namespace grid::tools
