// What every CUDA test shares: the skip when no GPU is visible, poisoned output memory,
// and the parity check of a CUDA result against its CPU twin.
//
// CUDA tests are host C++ (compiled by the host compiler, never including .cuh files): they
// call graft's public API with Device::cuda() and compare with the same call on the CPU.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "graft/graft.h"
#include "graft/kernels/cuda/runtime.h"

// Skips the test, with the reason, on a machine (or build) without a CUDA device.
#define GRAFT_REQUIRE_CUDA()                                                  \
  do {                                                                        \
    if (!::graft::cuda::is_available())                                       \
      GTEST_SKIP() << "no CUDA device: graft::cuda::is_available() is false"; \
  } while (false)

namespace graft::testing {

// Leaves `count` freed blocks of `nbytes` in the CUDA caching allocator, filled with 0xFF
// bytes (NaN for floating types, -1 for integers, an invalid bool). The allocator hands a
// freed block of the same size class out again, so the next CUDA tensors of that size
// (an op's output, and its temporaries) start poisoned: an element a kernel forgets to
// write cannot pass for a right one.
inline void poison_cuda_cache(int64_t nbytes, int count = 4) {
  std::vector<Tensor> blocks;
  for (int i = 0; i < count; ++i)
    blocks.push_back(full({nbytes}, 255, TensorOptions(kUInt8).device(Device::cuda())));
}

// A new leaf that requires grad, holding t's values on `device`. to() returns t itself when
// it is already there, so without the detach a CPU run would make the caller's t a leaf that
// requires grad, and the CUDA run's copy of it a non-leaf whose grad() stays undefined.
inline Tensor leaf_on(const Tensor& t, Device device) {
  return t.to(device).detach().requires_grad_();
}

// One value of expect_matches_cpu: within tolerance for floating types, exact otherwise.
template <class T>
bool value_matches(T got, T want, double rtol, double atol) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(want)) return std::isnan(got);
    if (std::isinf(want)) return got == want;
    return std::abs(got - want) <= atol + rtol * std::abs(want);
  } else {
    return got == want;
  }
}

// Checks that `cuda_result` lives on a CUDA device and equals `cpu_result` (a CPU tensor)
// in shape, dtype and every value. Floating values: |cuda - cpu| <= atol + rtol * |cpu|,
// NaNs in the same places, infinities equal; rtol = atol = 0 asks for identical values.
// Integer and bool values are compared exactly (as int64, so no bits are lost).
inline void expect_matches_cpu(const Tensor& cuda_result, const Tensor& cpu_result,
                               double rtol = 0.0, double atol = 0.0) {
  ASSERT_TRUE(cuda_result.device().is_cuda()) << "result is on " << cuda_result.device();
  ASSERT_TRUE(cpu_result.device().is_cpu()) << "reference is on " << cpu_result.device();
  ASSERT_EQ(cuda_result.shape(), cpu_result.shape());
  ASSERT_EQ(cuda_result.dtype(), cpu_result.dtype());
  const DType wide = is_floating_point(cpu_result.dtype()) ? kFloat64 : kInt64;
  const Tensor got = cuda_result.cpu().to(wide).contiguous();
  const Tensor want = cpu_result.to(wide).contiguous();
  visit_dtype(wide, [&](auto tag) {
    using T = decltype(tag);
    const T* g = static_cast<const T*>(got.data_ptr());
    const T* w = static_cast<const T*>(want.data_ptr());
    int64_t mismatches = 0;
    for (int64_t i = 0; i < want.numel(); ++i) {
      if (!value_matches(g[i], w[i], rtol, atol) && ++mismatches <= 5)
        ADD_FAILURE() << "element " << i << " (row-major): cuda " << g[i] << ", cpu " << w[i]
                      << " (rtol " << rtol << ", atol " << atol << ")";
    }
    EXPECT_EQ(mismatches, 0) << "of " << want.numel() << " elements differ";
  });
}

}  // namespace graft::testing
