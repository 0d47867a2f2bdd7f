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
#include "graft/core/host_device.h"
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

  // Offset in the input of the row-major flat index `flat` over these dims (no division for
  // the common single dim).
  GRAFT_HOST_DEVICE int64_t offset_of(int64_t flat) const {
    int64_t offset = 0;
    for (int d = ndim - 1; d > 0; --d) {
      const int64_t q = flat / sizes[d];
      offset += (flat - q * sizes[d]) * strides[d];
      flat = q;
    }
    return ndim > 0 ? offset + flat * strides[0] : 0;
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
  double p = 2;            // norm: the order (+-infinity: the largest or smallest |x|)
  bool root = true;        // norm: false leaves the sum of |x|^p, without its p-th root
};

// Whether a reduction runs across rows: the innermost kept dim is contiguous and the
// innermost reduced dim is not, as in `sum over dim 0 of (N, M)`. Both backends then have
// neighbouring threads or accumulators take neighbouring outputs and add whole rows in,
// reading memory in order instead of striding down columns.
inline bool reduces_across_rows(const ReduceDims& kept, const ReduceDims& reduced) {
  const bool inner_reduced_contiguous = reduced.ndim > 0 && reduced.strides[reduced.ndim - 1] == 1;
  return kept.ndim > 0 && kept.strides[kept.ndim - 1] == 1 && !inner_reduced_contiguous;
}

}  // namespace graft::kernels
