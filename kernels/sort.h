// SortArgs: sort and top-k along one dim of a contiguous tensor.
//
// As for softmax (kernels/softmax.h), the op layer makes the input contiguous and views it
// as (outer, n, inner): the kernels work on outer * inner independent lines whose n
// elements are `inner` apart (inner == 1 for the last dim). Each line keeps k of its
// elements, in the order the key order of kernels/sort_keys.h gives: values are the input's
// elements themselves (so -0.0 and NaN payloads survive), indices their positions along the
// dim. Plain C++ (no Eigen, no Tensor) so that the CUDA backend fills the same struct.
#pragma once

#include <cstdint>

#include "graft/core/dtype.h"

namespace graft::kernels {

struct SortArgs {
  DType dtype = kFloat32;       // of input and values alike; every dtype
  const void* input = nullptr;  // contiguous (outer, n, inner)
  void* values = nullptr;       // contiguous (outer, k, inner)
  int64_t* indices = nullptr;   // contiguous (outer, k, inner): positions in [0, n)
  int64_t outer = 0, n = 0, inner = 0;
  int64_t k = 0;            // sort: n; topk: 0 <= k <= n
  bool descending = false;  // sort: descending; topk: largest
  // topk only: true gives the k winners in key order, false in order of their index.
  bool sorted = true;
};

}  // namespace graft::kernels
