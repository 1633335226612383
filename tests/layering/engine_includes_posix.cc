// Checked as if it were in engine/ by the layering_grep_negative test, which
// expects the check to refuse it (POSIX file I/O belongs to storage/).
//
// Thread-safety: not code that runs.
#include <fcntl.h>
