// Page-granular anonymous memory for large flat arrays (the grid index's
// records and cells): blocks that grow in place without a copy where the
// kernel can, and ask for transparent huge pages when large. The only
// operating-system calls the engine makes; no file I/O here.
//
// Thread-safety: stateless free functions; safe to call concurrently on
// different blocks.
#pragma once

#include <cstddef>

namespace grid::port {

// A new block of `bytes` (a multiple of the page size), readable and
// writable, zero-filled by the kernel. Throws std::bad_alloc on failure.
void* AllocatePages(size_t bytes);
// Grows a block from AllocatePages to `new_bytes`, moving it if need be;
// the contents are kept. Throws std::bad_alloc on failure (the block is then
// unchanged).
void* ReallocatePages(void* block, size_t old_bytes, size_t new_bytes);
// Asks the kernel to back the block with transparent huge pages (a hint:
// nothing happens where it cannot).
void AdviseHugePages(void* block, size_t bytes);
// Returns a block to the kernel. REQUIRES: `bytes` is its current size.
void FreePages(void* block, size_t bytes);

}  // namespace grid::port
