// The indexing kernels of every backend, written once: the nests they walk, the test of an
// index value and its error, and the index column of the kernel table (argument blocks:
// kernels/index.h).
//
// gather and index_select are one loop (GatherLoop), scatter another (ScatterLoop, adding or
// writing), each over a Nest: a shape whose positions carry every operand's offset, where
// the index value, not the position, supplies self's coordinate along `dim` (self's stride
// there is 0 in the nest; self_step is the step per index value). This header builds both
// loops from the argument blocks, skips empty ones and checks scatter's index in a pass
// before it writes anything, so a failed scatter_add_ leaves its tensor untouched. A backend
// supplies only the walks, as a type with the static members
//   template <class I> static void gather(const GatherLoop<I>&);
//   static void check_index(const IndexBound&, const Nest<1>& index_nest, const int64_t* index);
//   template <bool Accumulate, class T> static void scatter(const ScatterLoop<T>&);
// (the CPU's rows split across threads in kernels/cpu/index.cpp, CUDA's grid-stride loops in
// kernels/cuda/index.cu), all called with a non-empty nest. nonzero is not a walk of this
// kind (CUDA's is a compaction): each backend registers its own.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "graft/core/host_device.h"
#include "graft/kernels/dispatch.h"
#include "graft/kernels/index.h"

namespace graft::kernels {

// N operands walked together over `sizes` in row-major order (innermost dim last); operand
// k steps by strides[k].
template <int N>
struct Nest {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }
  int64_t inner_size() const { return sizes[ndim - 1]; }
  int64_t inner_stride(int k) const { return strides[k][ndim - 1]; }

  // offsets[k]: operand k's offset at row-major position `flat`; `coord`, when given,
  // receives the position's coordinates.
  GRAFT_HOST_DEVICE void offsets_at(int64_t flat, int64_t (&offsets)[N],
                                    int64_t* coord = nullptr) const {
    for (int k = 0; k < N; ++k) offsets[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t q = flat / sizes[d], c = flat - q * sizes[d];
      if (coord) coord[d] = c;
      for (int k = 0; k < N; ++k) offsets[k] += c * strides[k][d];
      flat = q;
    }
  }

  // The same elements walked with dim `d` innermost and the others in order.
  Nest with_innermost(int d) const {
    Nest moved = *this;
    for (int e = d; e < ndim; ++e) {
      const int from = e + 1 < ndim ? e + 1 : d;
      moved.sizes[e] = sizes[from];
      for (int k = 0; k < N; ++k) moved.strides[k][e] = strides[k][from];
    }
    return moved;
  }

  // The same positions in the same row-major order over fewer dims: dims of size 1 dropped,
  // and each dim merged into the one before it where every operand steps across the pair as
  // across one dim (stride[outer] == stride[inner] * size[inner]). A batch of 64 images
  // index_select'ed from Fashion-MNIST's (60000, 1, 28, 28) is then 64 rows of 784 floats, a
  // copy each, not 1792 rows of 28 with an odometer step each: 45-49 -> 22-24 us a batch (two
  // threads on the EPYC; a bare loop of 64 memcpys of such rows takes 27-30), where those
  // gathers had been a tenth of an MLP epoch's profile. At least one dim, of size 1 where every
  // dim had that.
  // The merging is make_elementwise_iter's (strided_index.h).
  Nest coalesced() const {
    Nest merged;
    for (int d = 0; d < ndim; ++d) {
      if (sizes[d] == 1) continue;
      merged.sizes[merged.ndim] = sizes[d];
      for (int k = 0; k < N; ++k) merged.strides[k][merged.ndim] = strides[k][d];
      ++merged.ndim;
    }
    int64_t* operand_strides[N];
    for (int k = 0; k < N; ++k) operand_strides[k] = merged.strides[k];
    merged.ndim = merge_contiguous_dims(merged.ndim, merged.sizes, operand_strides, N);
    if (merged.ndim == 0) {
      merged.ndim = 1;
      merged.sizes[0] = 1;
    }
    return merged;
  }

  // Its rows: the nest of every dim but the innermost.
  Nest rows() const {
    Nest outer = *this;
    --outer.ndim;
    return outer;
  }

  // Operand k alone.
  Nest<1> operand(int k) const {
    Nest<1> one;
    one.ndim = ndim;
    std::copy(sizes, sizes + ndim, one.sizes);
    std::copy(strides[k], strides[k] + ndim, one.strides[0]);
    return one;
  }
};

template <int N>
Nest<N> make_nest(int ndim, const int64_t* sizes, const std::array<const int64_t*, N>& strides) {
  Nest<N> nest;
  nest.ndim = ndim;
  std::copy(sizes, sizes + ndim, nest.sizes);
  for (int k = 0; k < N; ++k) std::copy(strides[k], strides[k] + ndim, nest.strides[k]);
  return nest;
}

// `strides` with a 0 at `dim`: self's strides in a nest, where the index value gives that offset.
inline std::array<int64_t, kMaxDims> without_dim(const int64_t* strides, int dim) {
  std::array<int64_t, kMaxDims> out{};
  std::copy(strides, strides + kMaxDims, out.begin());
  out[dim] = 0;
  return out;
}

// One unsigned compare tests both k < 0 and k >= size.
GRAFT_HOST_DEVICE inline bool out_of_range(int64_t k, int64_t size) {
  return static_cast<uint64_t>(k) >= static_cast<uint64_t>(size);
}

// What index values are checked against, and the error for one that fails.
struct IndexBound {
  const char* op;
  int dim;
  int64_t size;  // self's size along dim: values must lie in [0, size)

  [[noreturn]] void fail(int64_t value) const { detail::fail_index(op, value, dim, size); }
};

// gather and index_select: out[p] = self[p with p[dim] = index[p]] for every position p of
// `nest`, whose operands are out (0), self (1, stride 0 along dim) and index (2).
// index_select's 1-D index is broadcast over the other dims (stride 0 there). Index values
// are checked as they are read: the output is a fresh tensor, so a half-written one on error
// harms nobody, and a separate checking pass would read the index twice.
template <class I>
struct GatherLoop {
  IndexBound bound;
  int64_t self_step;
  Nest<3> nest;
  DType dtype;  // out's and self's
  char* out;
  const char* self;
  const I* index;  // int64, or int32 for index_select
};

// scatter: self[p with p[dim] = index[p]] += src[p] (or = src[p]) for every position p of
// `nest`, whose operands are self (0, stride 0 along dim), index (1) and src (2).
template <class T>
struct ScatterLoop {
  int dim;
  int64_t self_step;
  Nest<3> nest;
  T* self;
  const int64_t* index;
  const T* src;
};

// One element of scatter: an addition, or a write. The sum in the promoted int is cast
// back: for bool that is a logical or, as PyTorch's CPU scatter_add does.
template <bool Accumulate, class T>
GRAFT_HOST_DEVICE void scatter_one(T& dst, T v) {
  if constexpr (Accumulate)
    dst = static_cast<T>(dst + v);
  else
    dst = v;
}

// ---- kernels: the loops over the backend's walks

template <class Loops, class I>
void gather_or_index_select(const char* op, int ndim, int dim, const int64_t* sizes,
                            int64_t self_dim_size, const StridedOperand& out,
                            const StridedOperand& self, const I* index,
                            const int64_t* index_strides) {
  const auto self_loop = without_dim(self.strides, dim);
  const GatherLoop<I> loop{
      {op, dim, self_dim_size},
      self.strides[dim],
      make_nest<3>(ndim, sizes, {out.strides, self_loop.data(), index_strides}).coalesced(),
      out.dtype,
      out.data,
      self.data,
      index};
  if (loop.nest.numel() > 0) Loops::gather(loop);
}

template <class Loops>
void gather_kernel(const GatherArgs& args) {
  gather_or_index_select<Loops>(
      "gather", args.ndim, args.dim, args.sizes, args.self_dim_size, args.out, args.self,
      reinterpret_cast<const int64_t*>(args.index.data), args.index.strides);
}

template <class Loops>
void index_select_kernel(const IndexSelectArgs& args) {
  int64_t index_strides[kMaxDims] = {};  // the 1-D index broadcast over every other dim
  index_strides[args.dim] = args.index_stride;
  auto run = [&](const auto* index) {
    gather_or_index_select<Loops>("index_select", args.ndim, args.dim, args.sizes,
                                  args.self_dim_size, args.out, args.self, index, index_strides);
  };
  if (args.index_dtype == kInt32) {
    run(static_cast<const int32_t*>(args.index));
  } else {
    GRAFT_CHECK(args.index_dtype == kInt64,
                "index_select(): the kernel takes an int32 or int64 index, got ", args.index_dtype);
    run(static_cast<const int64_t*>(args.index));
  }
}

template <class Loops>
void scatter_kernel(const ScatterArgs& args) {
  const auto* index = reinterpret_cast<const int64_t*>(args.index.data);
  const auto self_loop = without_dim(args.self.strides, args.dim);
  const auto nest =
      make_nest<3>(args.ndim, args.sizes, {self_loop.data(), args.index.strides, args.src.strides});
  if (nest.numel() == 0) return;
  Loops::check_index({args.accumulate ? "scatter_add" : "scatter", args.dim, args.self_dim_size},
                     nest.operand(1), index);
  visit_dtype(args.self.dtype, [&](auto tag) {
    using T = decltype(tag);
    const ScatterLoop<T> loop{args.dim, args.self.strides[args.dim],
                              nest,     reinterpret_cast<T*>(args.self.data),
                              index,    reinterpret_cast<const T*>(args.src.data)};
    if (args.accumulate)
      Loops::template scatter<true>(loop);
    else
      Loops::template scatter<false>(loop);
  });
}

// Fills `device`'s column of the table with the loops over `Loops`.
template <class Loops>
void register_index_kernels(KernelTable& table, DeviceType device) {
  const int d = static_cast<int>(device);
  table.gather[d] = &gather_kernel<Loops>;
  table.index_select[d] = &index_select_kernel<Loops>;
  table.scatter[d] = &scatter_kernel<Loops>;
}

}  // namespace graft::kernels
