// Coalescing of elementwise iteration; see strided_index.h.
#include "graft/kernels/strided_index.h"

#include <algorithm>
#include <cstdlib>

namespace graft::kernels {

ElementwiseIter make_elementwise_iter(const Shape& shape, const OperandView* operands,
                                      int num_operands) {
  ElementwiseIter it;
  it.num_operands = num_operands;
  it.numel = shape.numel();
  for (int i = 0; i < num_operands; ++i) {
    it.operands[i].data = static_cast<char*>(operands[i].data);
    it.operands[i].dtype = operands[i].dtype;
  }

  // 1. Keep dims of size != 1, ordered outer to inner by the output's stride magnitude
  //    (a stable sort keeps the logical order among ties, such as broadcast dims).
  int dims[kMaxDims];
  int n = 0;
  for (int d = 0; d < shape.size(); ++d)
    if (shape[d] != 1) dims[n++] = d;
  const Shape& out_strides = operands[0].strides;
  std::stable_sort(dims, dims + n, [&](int a, int b) {
    return std::llabs(out_strides[a]) > std::llabs(out_strides[b]);
  });

  // 2. Merge dim `d` into the previous (outer) one when, for every operand,
  //    stride[outer] == stride[d] * size[d]: the two dims then walk memory as one.
  for (int k = 0; k < n; ++k) {
    const int d = dims[k];
    bool merge = it.ndim > 0;
    for (int i = 0; merge && i < num_operands; ++i)
      merge = it.operands[i].strides[it.ndim - 1] == operands[i].strides[d] * shape[d];
    if (merge) {
      it.sizes[it.ndim - 1] *= shape[d];
      for (int i = 0; i < num_operands; ++i)
        it.operands[i].strides[it.ndim - 1] = operands[i].strides[d];
    } else {
      it.sizes[it.ndim] = shape[d];
      for (int i = 0; i < num_operands; ++i)
        it.operands[i].strides[it.ndim] = operands[i].strides[d];
      ++it.ndim;
    }
  }
  return it;
}

}  // namespace graft::kernels
