#include "cli/huge_pages.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace syndic::cli {

void prepare_heap_for(std::size_t input_bytes) {
  constexpr std::size_t huge = 2u << 20;
  // Input copy, model, tree and output: about six times the input, measured on RSS and Atom.
  std::size_t pad = std::clamp<std::size_t>(input_bytes * 6, 8u << 20, 1u << 30);
  // glibc caps the mmap threshold at 32 MiB; anything below it now comes from the heap.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(pad * 2, 1u << 30)));
  mallopt(M_TOP_PAD, static_cast<int>(pad));
  auto* before = static_cast<char*>(sbrk(0));
  // Larger than what is left at the top of the heap, so the heap grows now, by `pad` more.
  void* probe = std::malloc(1u << 20);
  // An opaque use, or the compiler may drop the malloc/free pair and the growth with it.
  asm volatile("" : : "r"(probe) : "memory");
  auto* after = static_cast<char*>(sbrk(0));
  auto first = (reinterpret_cast<std::uintptr_t>(before) + huge - 1) & ~(huge - 1);
  auto last = reinterpret_cast<std::uintptr_t>(after) & ~(huge - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  std::free(probe);
}

}  // namespace syndic::cli
