// IntDivider: division by a fixed 32-bit divisor as a multiply-high, an add and a shift.
//
// A strided CUDA kernel turns each element's flat index into a multi-index, one division and
// one remainder per dim. Integer division is not a GPU instruction: a 64-bit one is a
// subroutine of some seventy instructions, a 32-bit one about twenty, and a memory-bound
// kernel has room for only a few dozen per element before it falls behind memory. Dividing
// by the same size for every element, though, can be done the way compilers divide by a
// constant (Granlund and Montgomery, "Division by invariant integers using multiplication",
// 1994; PyTorch's IntegerDivider.cuh is the same idea): with s = ceil(log2(d)) and
// magic = floor(2^32 * (2^s - d) / d) + 1,
//     n / d = (umulhi(n, magic) + n) >> s     for every 0 <= n < 2^31,
// computed once per divisor on the host. (umulhi(n, magic) + n must not overflow 32 bits,
// hence the bound on n: callers index up to INT32_MAX elements this way.)
#pragma once

#include <cstdint>

#include "graft/core/host_device.h"

namespace graft::kernels {

struct IntDivider {
  uint32_t divisor = 1, magic = 1, shift = 0;

  IntDivider() = default;
  // divisor >= 1.
  explicit IntDivider(uint32_t d) : divisor(d) {
    while (shift < 32 && (uint64_t{1} << shift) < d) ++shift;
    magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }

  // n / divisor, for 0 <= n < 2^31.
  GRAFT_HOST_DEVICE uint32_t div(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    const uint32_t high = __umulhi(n, magic);
#else
    const auto high = static_cast<uint32_t>((uint64_t{n} * magic) >> 32);
#endif
    return (high + n) >> shift;
  }
};

}  // namespace graft::kernels
