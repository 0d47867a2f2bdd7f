// Coalescing of elementwise iteration; see strided_index.h.
#include "graft/kernels/strided_index.h"

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

  // 1. Keep dims of size != 1, ordered outer to inner by the output's stride magnitude,
  //    by insertion: stable (ties, such as broadcast dims, keep their logical order) and,
  //    unlike std::stable_sort, which takes a heap buffer, free of allocation.
  int dims[kMaxDims];
  int n = 0;
  const Shape& out_strides = operands[0].strides;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    int k = n++;
    for (; k > 0 && std::llabs(out_strides[dims[k - 1]]) < std::llabs(out_strides[d]); --k)
      dims[k] = dims[k - 1];
    dims[k] = d;
  }

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
