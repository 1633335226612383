// Compiled in the engine's include context by the layering_probe tests,
// which expect it NOT to compile: engine/ cannot see services/.
//
// Thread-safety: not code that runs.
#include "services/server.h"
