// CPU max and average pooling (fixed and adaptive windows) and their backwards.
//
// Planes are independent, so the work is split over planes (parallel_for). The window
// arithmetic is kernels/pool.h's, shared with the CUDA kernels so that both pick the same
// max index and the same divisor (max pooling walks it a row at a time: max_pool_row). The
// backwards scatter: each output's gradient goes to the input it came from (max: its argmax;
// average: every element of its window, divided as the forward divided). Within one plane that runs
// on one thread, so overlapping windows add up in a fixed order, with no atomics.
#include <algorithm>
#include <type_traits>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GRAFT_POOL_AVX512 1
#endif

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/tap_range.h"
#include "graft/kernels/pool.h"

namespace graft::kernels::cpu {
namespace {

// Runs plane(x, y, p) for every plane p, split across threads: x is plane p of args.input
// (in_size elements), y of args.output (out_size); `work` is the elements one plane touches.
// float16 and bfloat16 planes are widened into the thread's float buffers first and the output
// narrowed after, so the float32 code serves them: max pooling's values and indices are those
// of the widened values, and each output is rounded once (as pooling widened copies of the
// whole tensors did, without their two passes over memory and their allocations).
template <class Plane>
void for_planes(const Pool2dArgs& args, int64_t in_size, int64_t out_size, int64_t work,
                const Plane& plane) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(work, 1));
  visit_floating_or_16_bit_dtype("pooling", args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.input);
    T* out = static_cast<T*>(args.output);
    if constexpr (std::is_floating_point_v<T>) {
      parallel_for(0, args.planes, grain, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) plane(in + p * in_size, out + p * out_size, p);
      });
    } else {
      parallel_for(0, args.planes, grain, [&](int64_t begin, int64_t end) {
        through_float_blocks(in, in_size, out, out_size, begin, end, 1,
                             [&](const float* x, float* y, int64_t p, int64_t) { plane(x, y, p); });
      });
    }
  });
}

// One output row of max pooling, tap by tap: for each tap (th, tw) of the window, in the
// window's order, every output of the row compares its tap's input with its best so far.
// The inner loop runs along the row over independent outputs, so it vectorises, where
// window_max (one output at a time, as the CUDA kernel runs it) is a chain of dependent
// compares; the same taps in the same order with the same test pick the same max and index.
template <class T>
void max_pool_row(const PoolAxis& rows, const PoolAxis& cols, const T* plane, int64_t oh,
                  T* __restrict best, int64_t* __restrict best_index) {
  std::fill(best, best + cols.out, empty_window_max<T>());
  std::fill(best_index, best_index + cols.out, int64_t{-1});
  for (int64_t th = 0; th < rows.kernel; ++th) {
    const int64_t ih = rows.first_tap(oh) + th * rows.dilation;
    if (ih < 0 || ih >= rows.in) continue;
    const T* row = plane + ih * cols.in;
    for (int64_t tw = 0; tw < cols.kernel; ++tw) {
      // Output ow reads input column ow * stride + offset: only [lo, hi) land inside.
      const int64_t offset = tw * cols.dilation - cols.pad;
      const auto [lo, hi] = outputs_reading_inside(offset, cols.stride, cols.in, cols.out);
      for (int64_t ow = lo; ow < hi; ++ow) {
        const int64_t iw = ow * cols.stride + offset;
        const T v = row[iw];
        const bool take = (best_index[ow] < 0) | takes_max(v, best[ow]);  // as window_max
        best[ow] = take ? v : best[ow];
        best_index[ow] = take ? ih * cols.in + iw : best_index[ow];
      }
    }
  }
}

// Whether an axis pools by 2 at stride 2 with every window inside the input: the usual
// downsampling, which max_pool_2x2_row serves.
bool halves(const PoolAxis& axis) {
  return axis.kernel == 2 && axis.stride == 2 && axis.pad == 0 && axis.dilation == 1 &&
         2 * axis.out <= axis.in;
}

// max_pool_row for 2x2 windows at stride 2, all inside: each output compares its four inputs
// straight from the two rows, in the window's order and by window_max's test, so it picks the
// same max and index. The general row walks each tap with its bounds over rows as short as 7
// outputs (the CNN's second pooling), at 8 ns an output; this loop is plain enough to vectorise.
template <class T>
void max_pool_2x2_row(const T* __restrict top, const T* __restrict bottom, int64_t top_index,
                      int64_t in_w, int64_t out_w, T* __restrict best,
                      int64_t* __restrict best_index) {
  for (int64_t ow = 0; ow < out_w; ++ow) {
    T max = top[2 * ow];
    int64_t at = 0;  // the winner's offset from the window's first input
    const auto take = [&](T v, int64_t offset) {
      const bool wins = takes_max(v, max);
      max = wins ? v : max;
      at = wins ? offset : at;
    };
    take(top[2 * ow + 1], 1);
    take(bottom[2 * ow], in_w);
    take(bottom[2 * ow + 1], in_w + 1);
    best[ow] = max;
    best_index[ow] = top_index + 2 * ow + at;
  }
}

#if GRAFT_POOL_AVX512

// GCC 12's false "may be used uninitialized" inside its own AVX-512 permute intrinsic (as in
// zmm_transpose.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// max_pool_2x2_row for float32 in AVX-512, 8 outputs a step where the compiler's AVX2 loop
// runs a 7-output row one output at a time: each input row's 16 floats are split into their
// even and odd columns by one permute, the four taps compared in the window's order with
// window_max's test, and the winners' offsets (int32) widened into int64 indices.
__attribute__((target("avx512f,avx512vl"))) void max_pool_2x2_row_avx512(
    const float* top, const float* bottom, int64_t top_index, int64_t in_w, int64_t out_w,
    float* best, int64_t* best_index) {
  const __m512i evens_then_odds =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m256i twice_lane = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  for (int64_t ow = 0; ow < out_w; ow += 8) {
    const int64_t count = std::min<int64_t>(8, out_w - ow);
    const auto inputs = static_cast<__mmask16>((uint32_t{1} << (2 * count)) - 1);
    const __m512 t =
        _mm512_permutexvar_ps(evens_then_odds, _mm512_maskz_loadu_ps(inputs, top + 2 * ow));
    const __m512 b =
        _mm512_permutexvar_ps(evens_then_odds, _mm512_maskz_loadu_ps(inputs, bottom + 2 * ow));
    // The taps after the first (top left): top right, bottom left, bottom right.
    const __m256 taps[3] = {_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1)),
                            _mm512_castps512_ps256(b),
                            _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(b), 1))};
    const int32_t offsets[3] = {1, static_cast<int32_t>(in_w), static_cast<int32_t>(in_w + 1)};
    __m256 max = _mm512_castps512_ps256(t);
    __m256i at = _mm256_setzero_si256();
    for (int tap = 0; tap < 3; ++tap) {
      const __mmask8 wins = _mm256_cmp_ps_mask(taps[tap], max, _CMP_GT_OQ) |
                            _mm256_cmp_ps_mask(taps[tap], taps[tap], _CMP_UNORD_Q);
      max = _mm256_mask_mov_ps(max, wins, taps[tap]);
      at = _mm256_mask_mov_epi32(at, wins, _mm256_set1_epi32(offsets[tap]));
    }
    const auto outputs = static_cast<__mmask8>((1u << count) - 1);
    _mm256_mask_storeu_ps(best + ow, outputs, max);
    const __m512i index = _mm512_add_epi64(_mm512_set1_epi64(top_index + 2 * ow),
                                           _mm512_cvtepi32_epi64(_mm256_add_epi32(twice_lane, at)));
    _mm512_mask_storeu_epi64(best_index + ow, outputs, index);
  }
}

#pragma GCC diagnostic pop

#endif

// One row of 2x2 windows: the AVX-512 loop for float32 where the CPU runs it and the offsets
// fit its int32 lanes, else the plain one.
template <class T>
void max_pool_2x2(const T* top, const T* bottom, int64_t top_index, int64_t in_w, int64_t out_w,
                  T* best, int64_t* best_index) {
#if GRAFT_POOL_AVX512
  if constexpr (std::is_same_v<T, float>) {
    if (cpu_runs_avx512() && in_w < (int64_t{1} << 30))
      return max_pool_2x2_row_avx512(top, bottom, top_index, in_w, out_w, best, best_index);
  }
#endif
  max_pool_2x2_row(top, bottom, top_index, in_w, out_w, best, best_index);
}

void max_pool2d_cpu(const Pool2dArgs& a) {
  const int64_t in_plane = a.rows.in * a.cols.in, out_plane = a.rows.out * a.cols.out;
  const bool by_halves = halves(a.rows) && halves(a.cols);
  for_planes(a, in_plane, out_plane, out_plane * a.rows.kernel * a.cols.kernel,
             [&](const auto* x, auto* y, int64_t p) {
               int64_t* indices = a.indices + p * out_plane;
               for (int64_t oh = 0; oh < a.rows.out; ++oh) {
                 auto* best = y + oh * a.cols.out;
                 int64_t* best_index = indices + oh * a.cols.out;
                 if (by_halves) {
                   const int64_t top = 2 * oh * a.cols.in;
                   max_pool_2x2(x + top, x + top + a.cols.in, top, a.cols.in, a.cols.out, best,
                                best_index);
                 } else {
                   max_pool_row(a.rows, a.cols, x, oh, best, best_index);
                 }
               }
             });
}

void max_pool2d_backward_cpu(const Pool2dArgs& a) {
  const int64_t in_plane = a.rows.in * a.cols.in, out_plane = a.rows.out * a.cols.out;
  for_planes(a, out_plane, in_plane, in_plane + out_plane,
             [&](const auto* dy, auto* dx, int64_t p) {
               using T = std::remove_cvref_t<decltype(*dy)>;
               const int64_t* indices = a.indices + p * out_plane;
               std::fill(dx, dx + in_plane, T(0));
               for (int64_t o = 0; o < out_plane; ++o)
                 if (indices[o] >= 0) dx[indices[o]] += dy[o];  // -1: no tap in the input
             });
}

// Forward (backward = false): y[o] = sum of x over o's window / divisor.
// Backward: dx[i] = sum over the windows o holding i of dy[o] / divisor(o).
void avg_pool2d_cpu_impl(const Pool2dArgs& a, bool backward) {
  const int64_t in_plane = a.rows.in * a.cols.in, out_plane = a.rows.out * a.cols.out;
  // An adaptive window can be as large as the input; a fixed one is kernel-sized.
  const int64_t window = a.rows.adaptive ? in_plane / std::max<int64_t>(out_plane, 1) + 1
                                         : a.rows.kernel * a.cols.kernel;
  for_planes(a, backward ? out_plane : in_plane, backward ? in_plane : out_plane,
             in_plane + out_plane * window, [&](const auto* src, auto* dst, int64_t) {
               using T = std::remove_cvref_t<decltype(*src)>;
               if (backward) std::fill(dst, dst + in_plane, T(0));
               for (int64_t oh = 0; oh < a.rows.out; ++oh) {
                 const PoolSpan rs = a.rows.avg_span(oh);
                 for (int64_t ow = 0; ow < a.cols.out; ++ow) {
                   const PoolSpan cs = a.cols.avg_span(ow);
                   const T divisor = static_cast<T>(avg_divisor(rs, cs, a.count_include_pad));
                   const int64_t o = oh * a.cols.out + ow;
                   if (backward) {
                     const T share = src[o] / divisor;
                     for (int64_t ih = rs.begin; ih < rs.end; ++ih)
                       for (int64_t iw = cs.begin; iw < cs.end; ++iw)
                         dst[ih * a.cols.in + iw] += share;
                   } else {
                     T total = 0;
                     for (int64_t ih = rs.begin; ih < rs.end; ++ih)
                       for (int64_t iw = cs.begin; iw < cs.end; ++iw)
                         total += src[ih * a.cols.in + iw];
                     dst[o] = total / divisor;
                   }
                 }
               }
             });
}

void avg_pool2d_cpu(const Pool2dArgs& a) { avg_pool2d_cpu_impl(a, false); }
void avg_pool2d_backward_cpu(const Pool2dArgs& a) { avg_pool2d_cpu_impl(a, true); }

}  // namespace

void register_pool(KernelTable& table) {
  const int cpu = static_cast<int>(kCPU);
  table.max_pool2d[cpu] = &max_pool2d_cpu;
  table.max_pool2d_backward[cpu] = &max_pool2d_backward_cpu;
  table.avg_pool2d[cpu] = &avg_pool2d_cpu;
  table.avg_pool2d_backward[cpu] = &avg_pool2d_backward_cpu;
}

}  // namespace graft::kernels::cpu
