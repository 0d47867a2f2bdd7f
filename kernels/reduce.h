// ReduceArgs: what a reduction kernel needs to know, as plain sizes and strides.
//
// The op layer (autograd/ops_reduce.cpp) splits the input's dims into the *kept* dims (one
// output element per index) and the *reduced* dims (folded into each output element), drops
// dims of size 1 and merges neighbours that are contiguous with each other, so a full
// reduction of a contiguous tensor arrives as one reduced dim of stride 1 and `sum over dim
// 0 of (N, M)` as kept (M : 1), reduced (N : M). Kernels only walk these lists.
//
// The flat index over the reduced dims (row-major, outermost first) is what argmax/argmin
// return, so the op layer keeps them in the input's order for those ops; the others may be
// reordered for a better memory walk. Plain C++ (no Tensor, no Eigen) so .cu files share it.
#pragma once

#include <cstdint>

#include "graft/core/dtype.h"
#include "graft/core/shape.h"

namespace graft::kernels {

// Some dims of the input: their sizes and the input's strides (in elements), outermost first.
struct ReduceDims {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }
};

struct ReduceArgs {
  const void* in = nullptr;  // the input's first element
  DType in_dtype = kFloat32;
  void* out = nullptr;  // contiguous: one element per index of `kept`, row-major
  DType out_dtype = kFloat32;
  ReduceDims kept;
  ReduceDims reduced;
  int64_t correction = 1;  // var: divide by (count - correction)
};

}  // namespace graft::kernels
