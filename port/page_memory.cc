// Page-granular anonymous memory (page_memory.h) with mmap / mremap.
//
// Thread-safety: stateless; see page_memory.h.
#include "port/page_memory.h"

#include <sys/mman.h>

#include <new>

namespace grid::port {

void* AllocatePages(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void* ReallocatePages(void* block, size_t old_bytes, size_t new_bytes) {
  void* p = ::mremap(block, old_bytes, new_bytes, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void AdviseHugePages(void* block, size_t bytes) { (void)::madvise(block, bytes, MADV_HUGEPAGE); }

void FreePages(void* block, size_t bytes) { ::munmap(block, bytes); }

}  // namespace grid::port
