// Compiled in the storage's include context by the layering_probe tests,
// which expect it NOT to compile: storage/ cannot see services/.
//
// Thread-safety: not code that runs.
#include "services/server.h"
