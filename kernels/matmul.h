// MatmulArgs: a batch of GEMMs, out[b] = a[b] x b[b], as the op layer hands it to a kernel.
//
// Each operand is a stack of (rows, cols) matrices addressed by strides, so transposed,
// sliced and broadcast operands reach the kernel without a copy: the op layer only
// guarantees that one of each matrix's two strides is 1 (what a BLAS-style GEMM needs to
// read it as row- or column-major; dims of size 1 are given stride 1). Batch dims keep
// their own sizes and strides (stride 0 where an operand is broadcast), so
// (2, 1, 3, 4) x (5, 4, 6) needs no materialised expansion. The output is always a
// contiguous (batch..., m, n) buffer. Plain C++ (no Eigen, no Tensor) so that the CUDA
// backend fills the same struct.
#pragma once

#include <cstdint>

#include "graft/core/dtype.h"
#include "graft/core/shape.h"

namespace graft::kernels {

// One operand: matrix b of the batch starts at data + batch_offset(b) elements, and its
// element (i, j) sits at i * row_stride + j * col_stride further on.
struct MatmulOperand {
  const void* data = nullptr;
  int64_t row_stride = 0;
  int64_t col_stride = 0;
  int64_t batch_strides[kMaxDims] = {};  // in elements; 0 along broadcast batch dims
};

struct MatmulArgs {
  DType dtype = kFloat32;       // of a, b and out alike
  int64_t m = 0, k = 0, n = 0;  // out (m, n) = a (m, k) x b (k, n)
  int batch_ndim = 0;
  int64_t batch_sizes[kMaxDims] = {};
  MatmulOperand a, b;
  void* out = nullptr;  // contiguous (batch..., m, n)

  int64_t batch_count() const {
    int64_t count = 1;
    for (int d = 0; d < batch_ndim; ++d) count *= batch_sizes[d];
    return count;
  }

  // Element offset of matrix `index` (row-major over the batch dims) within `operand`.
  int64_t batch_offset(const MatmulOperand& operand, int64_t index) const {
    int64_t offset = 0;
    for (int d = batch_ndim - 1; d >= 0; --d) {
      offset += (index % batch_sizes[d]) * operand.batch_strides[d];
      index /= batch_sizes[d];
    }
    return offset;
  }
};

// Whether the CPU's matmul kernel computes in `dtype` (one that matmul accepts) itself.
// float16 on a CPU without AVX-512, and bfloat16 on one without bfloat16 arithmetic, it does
// not: the op layer multiplies float32 copies and rounds the product back.
bool cpu_matmul_takes(DType dtype);

}  // namespace graft::kernels
