// prefetch_lines: asking for memory before a loop needs it, for the CPU loops whose work per
// load is more than the out-of-order window sees past (the 16-bit blocks of loops.h, the 16-bit
// leaves of reduce_run.h). A prefetch never faults, so the lines asked for may lie past the
// end of an operand; the address is formed as an integer, since a pointer formed past one
// beyond an array's end is undefined behaviour even unread.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// Asks for the cache lines of the `bytes` bytes `offset` bytes from p (for writing with
// kWrite; on x86-64-v3, which has no PREFETCHW, that is a read all the same).
template <bool kWrite = false>
inline void prefetch_lines(const void* p, int64_t offset, int64_t bytes) {
  const uintptr_t first = reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(offset);
  for (int64_t byte = 0; byte < bytes; byte += 64)
    __builtin_prefetch(reinterpret_cast<const void*>(first + static_cast<uintptr_t>(byte)),
                       kWrite ? 1 : 0);
}

}  // namespace graft::kernels::cpu
