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

  // 2. Lay the kept dims out in that order and merge each into the previous (outer) one when,
  //    for every operand, stride[outer] == stride[d] * size[d]: the two dims then walk memory
  //    as one (merge_contiguous_dims).
  int64_t* strides[kMaxOperands];
  for (int i = 0; i < num_operands; ++i) strides[i] = it.operands[i].strides;
  for (int k = 0; k < n; ++k) {
    it.sizes[k] = shape[dims[k]];
    for (int i = 0; i < num_operands; ++i) strides[i][k] = operands[i].strides[dims[k]];
  }
  it.ndim = merge_contiguous_dims(n, it.sizes, strides, num_operands);
  return it;
}

int merge_contiguous_dims(int ndim, int64_t* sizes, int64_t* const* strides, int count) {
  int merged = 0;
  for (int d = 0; d < ndim; ++d) {
    bool merge = merged > 0;
    for (int k = 0; merge && k < count; ++k)
      merge = strides[k][merged - 1] == strides[k][d] * sizes[d];
    // Dim d lands at or before its own place, so reading it first is safe.
    const int to = merge ? merged - 1 : merged++;
    sizes[to] = merge ? sizes[to] * sizes[d] : sizes[d];
    for (int k = 0; k < count; ++k) strides[k][to] = strides[k][d];
  }
  return merged;
}

namespace {

// it with its outermost dim narrowed to [start, start + size).
ElementwiseIter outer_range(const ElementwiseIter& it, int64_t start, int64_t size) {
  ElementwiseIter piece = it;
  piece.sizes[0] = size;
  piece.numel = it.numel / it.sizes[0] * size;
  for (int k = 0; k < it.num_operands; ++k) {
    StridedOperand& operand = piece.operands[k];
    operand.data += start * operand.strides[0] * element_size(operand.dtype);
  }
  return piece;
}

// it at index `index` of its outermost dim, that dim dropped.
ElementwiseIter outer_index(const ElementwiseIter& it, int64_t index) {
  const ElementwiseIter at = outer_range(it, index, 1);
  ElementwiseIter rest = at;
  rest.ndim = it.ndim - 1;
  for (int d = 0; d < rest.ndim; ++d) {
    rest.sizes[d] = at.sizes[d + 1];
    for (int k = 0; k < it.num_operands; ++k)
      rest.operands[k].strides[d] = at.operands[k].strides[d + 1];
  }
  return rest;
}

void split_into(const ElementwiseIter& it, int64_t max_numel,
                std::vector<ElementwiseIter>& pieces) {
  if (it.numel <= max_numel) {
    pieces.push_back(it);
    return;
  }
  // numel > max_numel >= 1, so ndim >= 1 and every size is at least 1.
  const int64_t outer = it.sizes[0], inner = it.numel / outer;
  if (inner <= max_numel) {
    const int64_t step = max_numel / inner;
    for (int64_t start = 0; start < outer; start += step)
      pieces.push_back(outer_range(it, start, std::min(step, outer - start)));
    return;
  }
  for (int64_t index = 0; index < outer; ++index)
    split_into(outer_index(it, index), max_numel, pieces);
}

}  // namespace

std::vector<ElementwiseIter> split_elementwise_iter(const ElementwiseIter& it, int64_t max_numel) {
  std::vector<ElementwiseIter> pieces;
  split_into(it, max_numel, pieces);
  return pieces;
}

}  // namespace graft::kernels
