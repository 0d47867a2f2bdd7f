// ElementwiseIter: how an elementwise kernel walks its operands (PyTorch's TensorIterator
// in miniature). Shape logic lives here, once, so kernels only compute.
//
// The op layer hands over the output and its inputs already broadcast to the output's
// shape (a broadcast dim has stride 0). make_elementwise_iter() then
//   1. drops dims of size 1,
//   2. orders dims so the output's smallest stride is innermost,
//   3. merges neighbouring dims that are contiguous with each other in *every* operand,
// so a contiguous op becomes a single 1-D loop and `x + bias` a 2-D one. Kernels see
// sizes/strides in elements, innermost dim last. This header is plain C++ usable from
// .cu files (no Eigen, no Tensor).
#pragma once

#include <cstdint>
#include <vector>

#include "graft/core/dtype.h"
#include "graft/core/shape.h"

namespace graft::kernels {

inline constexpr int kMaxOperands = 4;

struct StridedOperand {
  char* data = nullptr;  // points at the operand's first element
  DType dtype = kFloat32;
  int64_t strides[kMaxDims] = {};  // in elements
};

struct ElementwiseIter {
  int ndim = 0;          // after coalescing; 0 means a single element
  int num_operands = 0;  // operand 0 is the output
  int64_t numel = 0;
  int64_t sizes[kMaxDims] = {};
  StridedOperand operands[kMaxOperands];
};

// One operand as the op layer sees it: its data, dtype and strides broadcast to `shape`.
struct OperandView {
  void* data;
  DType dtype;
  Shape strides;
};

// Builds the iteration for `shape`; operands[0] is the output.
ElementwiseIter make_elementwise_iter(const Shape& shape, const OperandView* operands,
                                      int num_operands);

// Step 3 above, shared with the index kernels' nests (index_kernels.h): over dims [0, ndim),
// outer first, each dim merged into the one before it where each of the `count` operands'
// strides steps across the pair as across one dim (strides[k][outer] == strides[k][inner] *
// sizes[inner]), in place, the order kept; returns how many dims remain.
int merge_contiguous_dims(int ndim, int64_t* sizes, int64_t* const* strides, int count);

// Pieces of `it` of at most max_numel elements each that together visit each of its
// elements once: the outermost dim is cut into ranges (each operand's data moved to its
// range's start); where one index of it alone spans more than max_numel elements, each index
// becomes an iteration over the remaining dims, cut in turn. The CUDA strided kernel indexes
// in 32 bits and runs an iteration of more than INT32_MAX elements as such pieces.
std::vector<ElementwiseIter> split_elementwise_iter(const ElementwiseIter& it, int64_t max_numel);

}  // namespace graft::kernels
