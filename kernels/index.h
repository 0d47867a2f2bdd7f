// Argument blocks of the indexing kernels: gather, scatter (adding or writing),
// index_select, nonzero.
//
// gather, scatter and index_select move elements along one dim `dim` picked by an index
// tensor, and are the same loop underneath: walk a shape (`sizes`), and at each coordinate c
// read the index value k, then touch `self` at c with c[dim] replaced by k. The op layer has
// already checked shapes, dtypes and devices and views 0-d tensors as (1,), so ndim >= 1
// here. Strides are in elements; `self.strides[dim]` is the step per index value, never a
// loop step. (Advanced indexing, autograd/ops_advanced_index.cpp, makes `dim` stand for all
// the indexed dims at once: the index values are element offsets and the step is 1.)
//
// Index values outside [0, self_dim_size) are a graft::Error naming the op, the value, the
// dim and its size. The kernels check them (the op layer cannot without reading the index
// back): gather and index_select as they read them, scatter in a pass before it writes
// anything, so a failed scatter_add_ leaves its tensor untouched. Plain C++ (no Eigen, no
// Tensor): the CUDA backend fills the same blocks.
#pragma once

#include <cstdint>

#include "graft/kernels/strided_index.h"

namespace graft::kernels {

// out[c] = self[c with c[dim] = index[c]], as torch.gather. `sizes` is index's shape (and
// out's); self's size may be larger than index's along every dim but `dim`.
struct GatherArgs {
  int ndim = 0;
  int dim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t self_dim_size = 0;  // the bound of the index values
  StridedOperand out;         // strides over `sizes`
  StridedOperand self;        // same dtype as out
  StridedOperand index;       // int64, strides over `sizes`
};

// self[c with c[dim] = index[c]] += src[c] for every c in `sizes` (index's shape), as
// torch.Tensor.scatter_add_; without `accumulate`, = instead of +=, as torch.Tensor.scatter_.
// Several c may hit one element of self: the CPU kernel visits them in order of c[dim], so
// sums are deterministic and a write leaves the last one's value.
struct ScatterArgs {
  int ndim = 0;
  int dim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t self_dim_size = 0;
  StridedOperand self;   // written in place; no two of its elements share memory
  StridedOperand index;  // int64, strides over `sizes`
  StridedOperand src;    // same dtype as self, strides over `sizes`
  bool accumulate = true;
};

// out[c] = self[c with c[dim] = index[c[dim]]], as torch.index_select. `sizes` is out's
// shape: self's with sizes[dim] = index's length.
struct IndexSelectArgs {
  int ndim = 0;
  int dim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t self_dim_size = 0;
  StridedOperand out;   // strides over `sizes`
  StridedOperand self;  // same dtype as out
  const void* index = nullptr;
  DType index_dtype = kInt64;  // int32 or int64
  int64_t index_stride = 0;    // between consecutive values of the 1-D index
};

// The coordinates of the nonzero elements of a tensor of shape `sizes`, row-major, as
// torch.nonzero: out[j][d] is coordinate d of the j-th true flag. The op layer has counted
// the flags (out has that many rows) and made them contiguous.
struct NonzeroArgs {
  int ndim = 0;  // >= 1
  int64_t sizes[kMaxDims] = {};
  int64_t numel = 0;
  const bool* flags = nullptr;  // numel of them, contiguous
  int64_t* out = nullptr;       // (count, ndim), contiguous
};

}  // namespace graft::kernels
