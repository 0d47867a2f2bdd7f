// Wide memory accesses: four consecutive elements moved by one load or store instruction.
//
// A warp whose lanes each load one 2-byte element asks for 64 bytes per instruction; with
// four elements a lane it asks for 256, so a kernel bound by memory issues a quarter of the
// loads (for float16 and bfloat16 a Vec is two half2 / bfloat162 pairs, 8 bytes; for float32,
// 16 bytes: the widest load there is). The elementwise loop (loops.cuh), softmax and layer
// norm move rows this way where the data allow: a wide access needs its address aligned to
// its size, so a row takes them only when its start is aligned and its length is a multiple
// of kVec; launchers check with aligned() and fall back to one element an access.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "graft/core/half.h"

namespace graft::kernels::cuda {

inline constexpr int kVec = 4;

template <class T>
struct alignas(sizeof(T) * kVec) Vec {
  T v[kVec];
};

inline bool aligned(const void* p, int64_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(bytes) == 0;
}

// Whether rows of `cols` elements of type T starting at each pointer can all be moved kVec
// elements an access.
template <class T, class... Pointers>
bool rows_take_vectors(int64_t cols, const Pointers*... rows) {
  return cols % kVec == 0 && (aligned(rows, sizeof(Vec<T>)) && ...);
}

// Calls f(std::integral_constant<int, kVec>{}) when `wide`, else f(std::integral_constant<int,
// 1>{}): a launcher's pick between its kernel compiled for wide accesses and for one element at
// a time (the integral constant is the kernel's kAccess).
template <class F>
void with_access_width(bool wide, const F& f) {
  if (wide)
    f(std::integral_constant<int, kVec>{});
  else
    f(std::integral_constant<int, 1>{});
}

// Where item i of a row of kAccess-element items starts: for Vecs, a step of Vec<T>* (as
// row + i * kAccess, nvcc 13.0 split the stores of softmax_group_kernel's items past its
// second into single-element stores: 48 STG.E and 4 STG.E.128 where 16 STG.E.128 do).
template <int kAccess, class T>
__device__ inline T* item_at(T* row, int64_t i) {
  if constexpr (kAccess == 1)
    return row + i;
  else
    return reinterpret_cast<T*>(reinterpret_cast<Vec<T>*>(row) + i);
}

// p[0 .. kAccess) converted to C: one access when kAccess is kVec (p aligned), else one
// element.
template <int kAccess, class C, class T>
__device__ inline void load_as(const T* __restrict__ p, C (&out)[kAccess]) {
  static_assert(kAccess == 1 || kAccess == kVec);
  if constexpr (kAccess == 1) {
    out[0] = static_cast<C>(*p);
  } else {
    const Vec<T> loaded = *reinterpret_cast<const Vec<T>*>(p);
#pragma unroll
    for (int e = 0; e < kVec; ++e) out[e] = static_cast<C>(loaded.v[e]);
  }
}

// c0 and c1 rounded to T, a 16-bit type (to nearest, ties to even), and packed, c0 in the
// low half: one cvt.rn.{bf16x2,f16x2}.f32 (sm_80 on; it takes its first source into the upper
// half) where there is one, two conversions elsewhere.
template <class T>
__device__ __forceinline__ uint32_t rounded_pair(float c0, float c1) {
  uint32_t packed;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (std::is_same_v<T, BFloat16>)
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(c1), "f"(c0));
  else
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(c1), "f"(c0));
#else
  packed = T(c0).bits() | uint32_t{T(c1).bits()} << 16;
#endif
  return packed;
}

// p[0 .. kAccess) = values, each rounded once to T, by one access when kAccess is kVec; float
// values bound for a 16-bit type are rounded a pair at a time.
template <int kAccess, class C, class T>
__device__ inline void store_as(T* __restrict__ p, const C (&values)[kAccess]) {
  static_assert(kAccess == 1 || kAccess == kVec);
  constexpr bool kPairs =
      std::is_same_v<C, float> && (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>);
  if constexpr (kAccess == 1) {
    *p = static_cast<T>(values[0]);
  } else if constexpr (kPairs) {
    static_assert(kVec == 4, "two pairs an access");
    *reinterpret_cast<uint2*>(p) =
        make_uint2(rounded_pair<T>(values[0], values[1]), rounded_pair<T>(values[2], values[3]));
  } else {
    Vec<T> stored;
#pragma unroll
    for (int e = 0; e < kVec; ++e) stored.v[e] = static_cast<T>(values[e]);
    *reinterpret_cast<Vec<T>*>(p) = stored;
  }
}

}  // namespace graft::kernels::cuda
