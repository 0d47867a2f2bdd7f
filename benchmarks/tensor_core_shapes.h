// The tensor-core matmul kernel (kernels/cuda/matmul_tensor_core.cuh) in several block shapes,
// for cuda_bench to time side by side against cublasGemmEx in one run. Which shape is fastest
// depends on the GPU (shared memory per SM, registers, how many blocks fit at once), and
// graft's machines lend a GPU rarely: one run of cuda_bench measures every candidate, and the
// library's shape (TensorCoreTiles) follows the measurement.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "graft/core/dtype.h"

namespace graft::bench {

// The shapes' names, "BMxBNxBK_sS_wMxN" (block tile, k per stage, stages, the warps' grid),
// "_hoisted" for the kernel's hoisted-copy form; the first is the library's own.
std::vector<std::string> tensor_core_shapes();

// Thrown by tensor_core_product for a shape this GPU cannot run (an older GPU, a build
// without sm_80 code, more shared memory than a block may have), saying why.
struct ShapeUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// out = a b for row-major (n, n) device matrices of dtype (float16 or bfloat16), by shape
// `shape`'s kernel on the default stream; n a multiple of 8 (16-byte rows). ShapeUnavailable
// where this GPU does not run the shape.
void tensor_core_product(size_t shape, DType dtype, const void* a, const void* b, void* out,
                         int64_t n);

}  // namespace graft::bench
