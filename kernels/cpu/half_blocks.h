// Blocks of 16-bit floats to float32 and back, at the speed of the hardware's vector
// conversions: what lets the CPU loops run a 16-bit op as a float32 one on a block at a time.
//
// Element by element, bfloat16 converts in a shift, which GCC vectorises; float16 converts
// through _Float16 and F16C, which GCC 12 leaves scalar (one vcvtph2ps per element): a
// float16 add ran at a third of bfloat16's speed. So the x86-64-v3 forms take F16C's
// eight-wide instructions explicitly for float16, vcvtph2ps to widen and vcvtps2ph with
// round-to-nearest-even to narrow: the same bits as graft::Half's own conversions (the
// instructions behind them). Where the CPU has AVX-512 (chosen at run time, as
// math_avx512.h's functions are), the AVX-512 forms do 16 lanes an instruction, bfloat16's
// rounding included, with the same bits: 16M-element bfloat16 adds on the 2-core Xeon, two
// threads, moved 0.94-0.96 of float32's GB/s through the 8-lane forms and 1.05-1.07 through
// these, and float16 exp 0.83 and 0.92 (benchmarks/half_bench.cpp). Where it also has
// AVX512-BF16, bfloat16 narrows by that extension's instruction (a vector holding a subnormal
// float by the integer steps): bfloat16 add 1.04-1.05 -> 1.08-1.10 of float32's GB/s, multiply
// by a scalar 1.00 -> 1.06-1.08, exp 0.74-0.76 -> 0.79-0.85.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "graft/core/half.h"
#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/thread_buffer.h"

namespace graft::kernels::cpu {

// The AVX-512 forms (half_blocks_avx512.cpp). Only where cpu_runs_avx512().
void widen_block_avx512(const Half* in, float* out, int64_t n);
void widen_block_avx512(const BFloat16* in, float* out, int64_t n);
void narrow_block_avx512(const float* in, Half* out, int64_t n);
void narrow_block_avx512(const float* in, BFloat16* out, int64_t n);
// bfloat16 by AVX512-BF16's vcvtneps2bf16: only where cpu_runs_avx512_bf16().
void narrow_block_avx512_bf16(const float* in, BFloat16* out, int64_t n);

// The forms of graft's build target, x86-64-v3 (F16C and AVX2), or of any other: the scalar
// conversions where F16C is missing.
// out[i] = float(in[i]) for i < n.
template <class H>
void widen_block_v3(const H* in, float* out, int64_t n) {
  int64_t i = 0;
#if GRAFT_F16C_CONVERSIONS
  if constexpr (std::is_same_v<H, Half>) {
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(out + i,
                       _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  }
#endif
  for (; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

// out[i] = H(in[i]) for i < n, rounded to nearest, ties to even.
template <class H>
void narrow_block_v3(const float* in, H* out, int64_t n) {
  int64_t i = 0;
#if GRAFT_F16C_CONVERSIONS
  if constexpr (std::is_same_v<H, Half>) {
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  }
#endif
  for (; i < n; ++i) out[i] = H(in[i]);
}

// out[i] = float(in[i]) for i < n, by the widest form this CPU runs.
template <class H>
void widen_block(const H* in, float* out, int64_t n) {
  if (cpu_runs_avx512()) return widen_block_avx512(in, out, n);
  widen_block_v3(in, out, n);
}

// out[i] = H(in[i]) for i < n, rounded to nearest, ties to even, by the widest form this CPU
// runs.
template <class H>
void narrow_block(const float* in, H* out, int64_t n) {
  if constexpr (std::is_same_v<H, BFloat16>) {
    if (cpu_runs_avx512_bf16()) return narrow_block_avx512_bf16(in, out, n);
  }
  if (cpu_runs_avx512()) return narrow_block_avx512(in, out, n);
  narrow_block_v3(in, out, n);
}

// For the kernels whose items fit no through_float_blocks (conv's backward reads two inputs
// an image; a weight, a layer norm's vectors): `count` values of storage type S at p as the
// compute type T (compute_type_t<S>): p itself where S is T (float32, float64), float16 and
// bfloat16 widened into `buffer`.
template <class T, class S>
const T* as_compute(const S* p, int64_t count, std::vector<T>& buffer) {
  if constexpr (std::is_same_v<S, T>) {
    return p;
  } else {
    buffer.resize(static_cast<size_t>(count));
    widen_block(p, buffer.data(), count);
    return buffer.data();
  }
}

// Where a result of `count` values of S at p is computed: p itself where S is T, else `buffer`,
// rounded into p by store_computed afterwards.
template <class T, class S>
T* computed_at(S* p, int64_t count, std::vector<T>& buffer) {
  if constexpr (std::is_same_v<S, T>) {
    return p;
  } else {
    buffer.resize(static_cast<size_t>(count));
    return buffer.data();
  }
}
template <class T, class S>
void store_computed(const T* computed, S* p, int64_t count) {
  if constexpr (!std::is_same_v<S, T>) narrow_block(computed, p, count);
}

struct WidenedBlockIn {};
struct WidenedBlockOut {};

// Items [begin, end) of a 16-bit input `in` (in_size elements an item) and output `out`
// (out_size an item), `step` items at a time: each step's items widened into the thread's
// float buffer, fn(x, y, first, count) run on them as float32 (x the widened input, y the
// float output of items [first, first + count)), and y narrowed into out. So the CPU kernels
// that take float16 and bfloat16 (pooling a plane at a time, layer norm a few rows) run their
// float32 code with a widened copy's arithmetic, without the copy's passes over memory.
template <class H, class Fn>
void through_float_blocks(const H* in, int64_t in_size, H* out, int64_t out_size, int64_t begin,
                          int64_t end, int64_t step, const Fn& fn) {
  ThreadBuffer<float, WidenedBlockIn> in_space;
  ThreadBuffer<float, WidenedBlockOut> out_space;
  float* const x = in_space.data(step * in_size);
  float* const y = out_space.data(step * out_size);
  for (int64_t first = begin; first < end; first += step) {
    const int64_t count = std::min(step, end - first);
    widen_block(in + first * in_size, x, count * in_size);
    fn(static_cast<const float*>(x), y, first, count);
    narrow_block(y, out + first * out_size, count * out_size);
  }
}

}  // namespace graft::kernels::cpu
