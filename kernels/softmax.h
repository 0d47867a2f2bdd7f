// SoftmaxArgs: softmax or log_softmax along one dim of a contiguous tensor.
//
// The op layer makes the input contiguous and views it as (outer, dim_size, inner): the
// softmax runs along the middle dim, over outer * inner independent lines whose elements
// are `inner` apart. The last dim is inner == 1, contiguous rows. Plain C++ (no Eigen,
// no Tensor) so that the CUDA backend fills the same struct.
#pragma once

#include <cstdint>

#include "graft/core/dtype.h"

namespace graft::kernels {

struct SoftmaxArgs {
  DType dtype = kFloat32;       // a floating dtype, of input and output alike; float16 and
                                // bfloat16 computed in float32
  const void* input = nullptr;  // contiguous (outer, dim_size, inner)
  void* output = nullptr;       // contiguous, the input's shape
  int64_t outer = 0, dim_size = 0, inner = 0;
  bool log = false;  // log_softmax instead of softmax
};

}  // namespace graft::kernels
