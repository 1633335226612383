// Compiled in the engine's include context by the layering_probe tests,
// which expect it NOT to compile: engine/ cannot see storage/.
//
// Thread-safety: not code that runs.
#include "storage/store.h"
