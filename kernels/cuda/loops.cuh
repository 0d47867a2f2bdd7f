// cuda_elementwise_loop: the one launcher every CUDA elementwise kernel uses (the twin of
// kernels/cpu/loops.h).
//
// Three paths, picked per call from the coalesced ElementwiseIter:
//   - vectorized: every operand contiguous or a broadcast scalar (stride 0), the contiguous
//     ones aligned to 4 elements; each thread moves 4 elements of each contiguous operand
//     with one wide load/store (16 bytes for float32, 8 for 16-bit types, whose float results
//     are rounded a pair at a time: vector_access.cuh), so `x * 2` runs as fast as `x + y`;
//   - dense: the same operands where the alignment does not hold, an element at a time;
//   - strided: anything else; each element's offsets come from its multi-index, split off
//     the flat index by one IntDivider per dim (kernels/int_divider.h) in 32 bits, since
//     64-bit division would cost more than the memory traffic. An iteration of more than
//     INT32_MAX elements runs as pieces (split_elementwise_iter).
// All use grid-stride loops, so any size runs with a bounded grid.
#pragma once

#include <cuda/std/tuple>

#include <climits>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/vector_access.cuh"
#include "graft/kernels/int_divider.h"
#include "graft/kernels/strided_index.h"

namespace graft::kernels::cuda {

namespace detail {

// The inputs' base pointers; a __global__ template may have only one parameter pack, so
// they travel as an array and each kernel casts them back through a __device__ helper.
struct InputPointers {
  const void* ptr[kMaxOperands - 1];
};

// Vector v of an input: its elements 4v .. 4v + 3, or its one element four times.
template <class T>
__device__ Vec<T> load_vec(const void* ptr, int64_t v, bool contiguous) {
  if (contiguous) return static_cast<const Vec<T>*>(ptr)[v];
  Vec<T> broadcast;
  const T value = *static_cast<const T*>(ptr);
#pragma unroll
  for (int k = 0; k < kVec; ++k) broadcast.v[k] = value;
  return broadcast;
}

// Input k is contiguous when bit k of `mask` is set, a broadcast scalar otherwise.
template <class R, class... In, class Op, size_t... I>
__device__ void apply_vectorized(const Op& op, R* out, const InputPointers& in, int64_t v,
                                 unsigned mask, std::index_sequence<I...>) {
  const ::cuda::std::tuple<Vec<In>...> loaded(load_vec<In>(in.ptr[I], v, (mask >> I) & 1u)...);
  // The op's own results (float for 16-bit types), rounded to R by store_as: in pairs there.
  using Result = std::decay_t<decltype(op(::cuda::std::get<I>(loaded).v[0]...))>;
  Result results[kVec];
#pragma unroll
  for (int k = 0; k < kVec; ++k) results[k] = op(::cuda::std::get<I>(loaded).v[k]...);
  store_as<kVec>(out + v * kVec, results);
}

// Element i; the inputs as in apply_vectorized.
template <class R, class... In, class Op, size_t... I>
__device__ R apply_dense(const Op& op, const InputPointers& in, int64_t i, unsigned mask,
                         std::index_sequence<I...>) {
  return static_cast<R>(op(static_cast<const In*>(in.ptr[I])[((mask >> I) & 1u) ? i : 0]...));
}

template <class R, class... In, class Op, size_t... I>
__device__ R apply_strided(const Op& op, const ElementwiseIter& it, const int64_t* offset,
                           std::index_sequence<I...>) {
  return static_cast<R>(op(reinterpret_cast<const In*>(it.operands[I + 1].data)[offset[I + 1]]...));
}

template <class R, class Op, class... In>
__global__ void vectorized_kernel(Op op, R* out, int64_t n, unsigned mask, InputPointers in) {
  const int64_t vec_count = n / kVec;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  for (int64_t v = first; v < vec_count; v += stride)
    apply_vectorized<R, In...>(op, out, in, v, mask, std::index_sequence_for<In...>{});
  // The tail that does not fill a vector.
  for (int64_t i = vec_count * kVec + first; i < n; i += stride)
    out[i] = apply_dense<R, In...>(op, in, i, mask, std::index_sequence_for<In...>{});
}

template <class R, class Op, class... In>
__global__ void dense_kernel(Op op, R* out, int64_t n, unsigned mask, InputPointers in) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += stride)
    out[i] = apply_dense<R, In...>(op, in, i, mask, std::index_sequence_for<In...>{});
}

// One IntDivider per dim of an iteration of at most INT32_MAX elements.
struct DimDividers {
  IntDivider size[kMaxDims];
};

template <class R, class Op, class... In>
__global__ void strided_kernel(Op op, ElementwiseIter it, DimDividers dims) {
  constexpr int kOperands = 1 + sizeof...(In);
  // numel <= INT32_MAX and the grid's stride is far below 2^31, so i never wraps.
  const auto n = static_cast<uint32_t>(it.numel);
  const uint32_t stride = gridDim.x * blockDim.x;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t offset[kOperands] = {};
    uint32_t rem = i;
    for (int d = it.ndim - 1; d >= 0; --d) {
      const uint32_t outer = dims.size[d].div(rem);
      const int64_t coord = rem - outer * dims.size[d].divisor;
      rem = outer;
#pragma unroll
      for (int k = 0; k < kOperands; ++k) offset[k] += coord * it.operands[k].strides[d];
    }
    reinterpret_cast<R*>(it.operands[0].data)[offset[0]] =
        apply_strided<R, In...>(op, it, offset, std::index_sequence_for<In...>{});
  }
}

// Runs the strided kernel over `it` in pieces of at most INT32_MAX elements.
template <class R, class... In, class Op>
void launch_strided(const ElementwiseIter& it, const Op& op) {
  const auto launch = [&](const ElementwiseIter& piece) {
    DimDividers dims;
    for (int d = 0; d < piece.ndim; ++d)
      dims.size[d] = IntDivider(static_cast<uint32_t>(piece.sizes[d]));
    strided_kernel<R, Op, In...><<<grid_for(piece.numel), kBlockSize>>>(op, piece, dims);
    GRAFT_CUDA_CHECK_LAUNCH();
  };
  if (it.numel <= INT32_MAX) return launch(it);
  for (const ElementwiseIter& piece : split_elementwise_iter(it, INT32_MAX)) launch(piece);
}

// Launches the vectorized or dense kernel; input k is read as in apply_dense.
template <class R, class... In, class Op>
void launch_dense(const ElementwiseIter& it, const Op& op, unsigned mask) {
  const int64_t n = it.numel;
  R* out = reinterpret_cast<R*>(it.operands[0].data);
  InputPointers in{};
  // A broadcast scalar is read once per vector, so only the contiguous operands need the
  // vector's alignment.
  bool vectorizable = aligned(out, sizeof(R) * kVec);
  constexpr int kInputs = sizeof...(In);
  const int64_t input_bytes[] = {static_cast<int64_t>(sizeof(In))..., 0};
  for (int k = 0; k < kInputs; ++k) {
    in.ptr[k] = it.operands[k + 1].data;
    const bool contiguous = (mask >> k) & 1u;
    vectorizable = vectorizable && (!contiguous || aligned(in.ptr[k], input_bytes[k] * kVec));
  }
  if (vectorizable)
    vectorized_kernel<R, Op, In...><<<grid_for(n / kVec + 1), kBlockSize>>>(op, out, n, mask, in);
  else
    dense_kernel<R, Op, In...><<<grid_for(n), kBlockSize>>>(op, out, n, mask, in);
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace detail

// out[i] = op(in_1[i], ..., in_k[i]) over the whole iteration; R and In... are the C++ types
// of operand 0 and operands 1..k. Op must be callable on the device.
template <class R, class... In, class Op>
void cuda_elementwise_loop(const ElementwiseIter& it, const Op& op) {
  constexpr int kInputs = sizeof...(In);
  if (it.numel == 0) return;
  // After coalescing, a 0-d or 1-D iteration with unit/zero strides is dense.
  bool dense = it.ndim <= 1 && (it.ndim == 0 || it.operands[0].strides[0] == 1);
  unsigned mask = 0;
  for (int k = 0; dense && k < kInputs; ++k) {
    const int64_t s = it.ndim == 0 ? 1 : it.operands[k + 1].strides[0];
    if (s == 1)
      mask |= 1u << k;
    else if (s != 0)
      dense = false;
  }
  if (dense) {
    detail::launch_dense<R, In...>(it, op, mask);
    return;
  }
  detail::launch_strided<R, In...>(it, op);
}

}  // namespace graft::kernels::cuda
