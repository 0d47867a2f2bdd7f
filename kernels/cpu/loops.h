// cpu_elementwise_loop: the one loop every CPU elementwise kernel runs.
//
// It walks an ElementwiseIter in runs along the innermost dim, splitting the flat range
// across threads for large tensors. Within a run, when every operand is either contiguous
// (stride 1) or a broadcast scalar (stride 0), a loop specialised on that pattern lets the
// compiler vectorise: `x + y`, `x + 2` and `2 + x` each get their own tight loop; on 16-bit
// floats it runs in float32 blocks (float16's arithmetic in float16 where the CPU has it).
// Anything else takes the general strided loop. Where an operand is transposed against the
// output, the two innermost dims are walked in square tiles instead of whole rows
// (run_in_tiles), so that its cache lines are used up.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "graft/kernels/cpu/array_math.h"
#include "graft/kernels/cpu/half_arithmetic.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/prefetch.h"
#include "graft/kernels/cpu/transposed_strips.h"
#include "graft/kernels/functors.h"
#include "graft/kernels/strided_index.h"

namespace graft::kernels::cpu {

namespace detail {

// Element i of an input of type In at p. A bool is read as its byte and tested against 0:
// GCC 12 vectorises no loop that loads `bool` ("no vectype"), which left where() (the
// ReLU's backward among others) and every op on a mask one element at a time.
template <class In>
In load(const char* p, int64_t i) {
  if constexpr (std::is_same_v<In, bool>)
    return reinterpret_cast<const unsigned char*>(p)[i] != 0;
  else
    return reinterpret_cast<const In*>(p)[i];
}

// The functor behind an InFloat<Op> (elementwise_kernels.h), Op, for its array form; any
// other functor is its own.
template <class F, class = void>
struct FloatFunctor {
  using type = F;
};
template <class F>
struct FloatFunctor<F, std::void_t<typename F::Inner>> {
  using type = typename F::Inner;
};

// Dense runs that compute in float32 on 16-bit floats go through float blocks (below): the
// arithmetic ops (InFloat) and the casts to or from a 16-bit type. Not where() and
// same-type copies, which move 16-bit values bit for bit.
template <class R, class Op, class... In>
inline constexpr bool runs_in_float_blocks =
    sizeof...(In) > 0 && (is_float16_v<R> || (is_float16_v<In> || ...)) &&
    (!std::is_same_v<typename FloatFunctor<Op>::type, Op> ||
     (sizeof...(In) == 1 && !(std::is_same_v<R, In> && ...)));

// Elements per float block: the block's buffers (three inputs and the result) stay in L1.
inline constexpr int64_t kFloatBlock = 256;

// What a float block holds of an input of type In: float for a 16-bit float, a byte for a
// bool (see load), else In itself.
template <class In>
using BlockValue =
    std::conditional_t<is_float16_v<In>, float,
                       std::conditional_t<std::is_same_v<In, bool>, unsigned char, In>>;

// The block [start, start + n) of an input at p: widened into `buffer` when it is 16-bit,
// else read in place; a broadcast input (not Contiguous) is its one value, at index 0.
template <class In, bool Contiguous>
const BlockValue<In>* input_block(const char* p, int64_t start, int64_t n, BlockValue<In>* buffer) {
  const auto* in = reinterpret_cast<const In*>(p);
  if constexpr (is_float16_v<In>) {
    if (Contiguous)
      widen_block(in + start, buffer, n);
    else
      buffer[0] = static_cast<float>(in[0]);
    return buffer;
  } else {
    return reinterpret_cast<const BlockValue<In>*>(in) + (Contiguous ? start : 0);
  }
}

// How far ahead of the block it works on run_dense_in_float asks for its operands' lines, in
// blocks. Its three passes over a block (widen, op, narrow) are more instructions than the
// out-of-order window holds, so the loads of the next block wait for this one's to retire and
// each block pays the memory's latency: a float16 add of 16M elements on the 2-core Xeon, two
// threads, moved 0.78 of float32's GB/s, a bfloat16 add 0.87. Asking for the inputs' and the
// output's lines four blocks ahead: 1.00-1.01 and 0.94-0.96 (docs/performance.md, "16-bit
// elementwise ops and sums").
inline constexpr int64_t kPrefetchedBlocks = 4;

// Asks for the lines of the block at element `start` of a contiguous operand of type T at p
// (for writing with kWrite); a broadcast operand (not Contiguous) is one value, asked for by
// nothing.
template <class T, bool kContiguous, bool kWrite>
void prefetch_block(const char* p, int64_t start) {
  constexpr auto kSize = static_cast<int64_t>(sizeof(T));
  if constexpr (kContiguous) prefetch_lines<kWrite>(p, start * kSize, kFloatBlock * kSize);
}

// run_dense for 16-bit floats: each block of kFloatBlock elements widened into float
// buffers by the hardware's vector conversions (half_blocks.h), the op run on the buffers
// as on float32 (vectorised, and by its array form when it has one, as exp does), and the
// result narrowed back in one pass. Element by element, float16 converts one value an
// instruction and exp has no vectorised 16-bit form.
template <unsigned Mask, class R, class Op, class... In, size_t... I>
void run_dense_in_float(const Op& op, char* const* p, int64_t n, std::index_sequence<I...>) {
  constexpr bool kNarrowed = is_float16_v<R>;
  using Out = std::conditional_t<kNarrowed, float, R>;
  using Inner = typename FloatFunctor<Op>::type;
  R* out = reinterpret_cast<R*>(p[0]);
  // +, -, * and / in one pass: float16 in its own instructions where the CPU has AVX512-FP16,
  // or either type converted in registers, 16 lanes wide on AVX-512 (bfloat16 rounded by
  // AVX512-BF16's instruction where there is one), 8 on AVX2; the same bits, with no buffers
  // (half_arithmetic.h).
  if constexpr (kNarrowed && (std::is_same_v<In, R> && ...) &&
                half_arithmetic_of<Inner>.has_value()) {
    const auto* a = reinterpret_cast<const R*>(p[1]);
    const auto* b = reinterpret_cast<const R*>(p[2]);
    const bool a_is_scalar = (Mask & 1u) == 0, b_is_scalar = (Mask & 2u) == 0;
    if constexpr (std::is_same_v<R, Half>) {
      if (cpu_runs_avx512_fp16()) {
        half_arithmetic_avx512fp16(*half_arithmetic_of<Inner>, a, a_is_scalar, b, b_is_scalar, out,
                                   n);
        return;
      }
    } else {
      if (cpu_runs_avx512_bf16()) {
        half_arithmetic_avx512_bf16(*half_arithmetic_of<Inner>, a, a_is_scalar, b, b_is_scalar, out,
                                    n);
        return;
      }
    }
    if (cpu_runs_avx512()) {
      half_arithmetic_avx512(*half_arithmetic_of<Inner>, a, a_is_scalar, b, b_is_scalar, out, n);
      return;
    }
#if GRAFT_HALF_ARITHMETIC_V3
    half_arithmetic_v3(*half_arithmetic_of<Inner>, a, a_is_scalar, b, b_is_scalar, out, n);
    return;
#endif
  }
  std::tuple<std::array<BlockValue<In>, kFloatBlock>...> buffers;
  alignas(64) float narrowed[kFloatBlock];
  for (int64_t start = 0; start < n; start += kFloatBlock) {
    const int64_t len = std::min(kFloatBlock, n - start);
    if (start + kPrefetchedBlocks * kFloatBlock < n) {
      const int64_t ahead = start + kPrefetchedBlocks * kFloatBlock;
      (prefetch_block<In, ((Mask >> I) & 1u) != 0, false>(p[I + 1], ahead), ...);
      prefetch_block<R, true, true>(p[0], ahead);
    }
    const std::tuple<const BlockValue<In>*...> in{input_block<In, ((Mask >> I) & 1u) != 0>(
        p[I + 1], start, len, std::get<I>(buffers).data())...};
    Out* dst;
    if constexpr (kNarrowed)
      dst = narrowed;
    else
      dst = out + start;
    constexpr int kInputs = sizeof...(In);
    // A contiguous input and one scalar, for an op with a vectorised form for some scalars, as
    // in run_dense below: a bfloat16 pow(x, 2.5) took 3.2 ms element by element, PyTorch's 1.6.
    const auto by_scalar_form = [&] {
      if constexpr (kInputs == 2 && Mask == 1u && kNarrowed &&
                    has_scalar_array_form<Inner, float> &&
                    (std::is_same_v<BlockValue<In>, float> && ...))
        return ArrayForm<Inner>::apply_scalar(std::get<0>(in), std::get<1>(in)[0], dst, len);
      return false;
    };
    if constexpr (Mask == (1u << kInputs) - 1 && kNarrowed &&
                  has_array_form<Inner, float, kInputs>) {
      ArrayForm<Inner>::apply(std::get<I>(in)..., dst, len);
    } else if (!by_scalar_form()) {
      for (int64_t i = 0; i < len; ++i)
        dst[i] = static_cast<Out>(op(std::get<I>(in)[((Mask >> I) & 1u) ? i : 0]...));
    }
    if constexpr (kNarrowed) narrow_block(narrowed, out + start, len);
  }
}

// Operand I+1 is contiguous when bit I of Mask is set, a broadcast scalar otherwise.
template <unsigned Mask, class R, class Op, class... In, size_t... I>
void run_dense(const Op& op, char* const* p, int64_t n, std::index_sequence<I...> seq) {
  // neg and abs of a contiguous 16-bit float: its sign bit flipped or cleared, one pass over
  // the bits, where widening, the op and narrowing took three (a NaN keeps its payload, as
  // IEEE's negate and abs do, where narrowing made it quiet). abs of a (1024, 1024) bfloat16,
  // two threads on the EPYC: 151 -> 25 us, PyTorch's 29.
  using Inner = typename FloatFunctor<Op>::type;
  if constexpr (acts_on_sign_bit<Inner> && is_float16_v<R> && sizeof...(In) == 1 && Mask == 1u &&
                (std::is_same_v<In, R> && ...)) {
    const auto* in = reinterpret_cast<const uint16_t*>(p[1]);
    auto* out = reinterpret_cast<uint16_t*>(p[0]);
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<uint16_t>(Inner::kSignBit == SignBit::kFlip ? in[i] ^ 0x8000u
                                                                       : in[i] & 0x7fffu);
    return;
  }
  if constexpr (runs_in_float_blocks<R, Op, In...>) {
    run_dense_in_float<Mask, R, Op, In...>(op, p, n, seq);
    return;
  }
  R* out = reinterpret_cast<R*>(p[0]);
  // Contiguous inputs of the output's type, and an op the compiler cannot vectorise (exp):
  // its vectorised form (array_math.h) takes the whole run.
  constexpr int kInputs = sizeof...(In);
  if constexpr (Mask == (1u << kInputs) - 1 && (std::is_same_v<R, In> && ...) &&
                has_array_form<Op, R, kInputs>) {
    ArrayForm<Op>::apply(reinterpret_cast<const R*>(p[I + 1])..., out, n);
    return;
  }
  // A contiguous input and one scalar, for an op with a vectorised form for some scalars
  // (pow by 2: x * x).
  if constexpr (kInputs == 2 && Mask == 1u && (std::is_same_v<R, In> && ...) &&
                has_scalar_array_form<Op, R>) {
    const R* in = reinterpret_cast<const R*>(p[1]);
    if (ArrayForm<Op>::apply_scalar(in, *reinterpret_cast<const R*>(p[2]), out, n)) return;
  }
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<R>(op(load<In>(p[I + 1], ((Mask >> I) & 1u) ? i : 0)...));
}

template <class R, class... In, class Op, size_t... I>
void run_strided(const Op& op, char* const* p, const int64_t* s, int64_t n,
                 std::index_sequence<I...>) {
  R* out = reinterpret_cast<R*>(p[0]);
  for (int64_t i = 0; i < n; ++i)
    out[i * s[0]] = static_cast<R>(op(load<In>(p[I + 1], i * s[I + 1])...));
}

// A table of run_dense instantiations indexed by mask.
template <class R, class Op, class... In, unsigned... M>
constexpr auto dense_table(std::integer_sequence<unsigned, M...>) {
  using Fn = void (*)(const Op&, char* const*, int64_t, std::index_sequence_for<In...>);
  return std::array<Fn, sizeof...(M)>{&run_dense<M, R, Op, In...>...};
}

// One run of n elements starting at pointers p with element strides s.
template <class R, class... In, class Op>
void run(const Op& op, char* const* p, const int64_t* s, int64_t n) {
  constexpr size_t kInputs = sizeof...(In);
  using Seq = std::index_sequence_for<In...>;
  if (s[0] == 1) {
    unsigned mask = 0;
    bool dense = true;
    for (size_t i = 0; i < kInputs; ++i) {
      if (s[i + 1] == 1)
        mask |= 1u << i;
      else if (s[i + 1] != 0)
        dense = false;
    }
    if (dense) {
      static constexpr auto table =
          dense_table<R, Op, In...>(std::make_integer_sequence<unsigned, (1u << kInputs)>{});
      table[mask](op, p, n, Seq{});
      return;
    }
  }
  run_strided<R, In...>(op, p, s, n, Seq{});
}

// Side of the square tiles of the transposed walk (below): a tile's rows of each operand, and
// the lines of a transposed one, stay in L1 and L2 (64 x 64 floats: 16 KB an operand). On
// a.t() + b of (4096, 4096) float32, tiles of 64 took 17-18 ms, of 32 22-23 and of 128 20.5
// (2-core Xeon VM; asking for the next tile's lines ahead made 64 slower: 18.7-19.2).
inline constexpr int64_t kTransposeTile = 64;

// Whether an operand steps far along the innermost dim while its elements lie side by side
// along the one before (a.t() in a.t() + b, or a transposed copy): walked a whole row at a
// time, each of its elements costs a cache line that is gone before the next row comes back
// for its neighbour (a.t() + b of (1024, 1024): 15 times the time of a + b).
inline bool walks_across(const ElementwiseIter& it) {
  if (it.ndim < 2 || it.sizes[it.ndim - 1] < kTransposeTile ||
      it.sizes[it.ndim - 2] < kTransposeTile)
    return false;
  for (int k = 0; k < it.num_operands; ++k) {
    const int64_t along = it.operands[k].strides[it.ndim - 1];
    const int64_t before = it.operands[k].strides[it.ndim - 2];
    if ((along > 1 || along < -1) && (before == 1 || before == -1)) return true;
  }
  return false;
}

// The iteration in square tiles of its two innermost dims, each tile run row by row: the lines
// a transposed operand brings in serve the tile's next rows from L1. Where the CPU runs
// AVX-512, a transposed 4- or 2-byte input instead goes through a buffer 16 rows at a time
// (transposed_strips.h), and the tile's rows read it as a dense operand: a.t() + b of float32
// on the EPYC (Zen 4), in turns, (4096, 4096) 30.5 -> 12.0 ms and (1024, 1024) 1570 -> 223 us;
// a transposed copy, straight into the output, 29 -> 5-6 ms and 1510 -> 155 us; bfloat16's
// a.t() + b 33-34 -> 13-14 ms and 1000 -> 230-270 us, its copy 27 -> 3.5-4 ms and 1060 -> 97 us.
// Tiles are spread over the threads; each element is computed once, by the same op, so results
// do not change.
template <class R, class... In, class Op>
void run_in_tiles(const ElementwiseIter& it, const Op& op) {
  constexpr int kOperands = 1 + sizeof...(In);
  const int64_t elem_size[kOperands] = {sizeof(R), sizeof(In)...};
  const int last = it.ndim - 1;
  const int64_t rows = it.sizes[last - 1], cols = it.sizes[last];
  const int64_t row_tiles = (rows + kTransposeTile - 1) / kTransposeTile;
  const int64_t col_tiles = (cols + kTransposeTile - 1) / kTransposeTile;
  const int64_t planes = it.numel / (rows * cols);
  int64_t inner_strides[kOperands];
  for (int k = 0; k < kOperands; ++k) inner_strides[k] = it.operands[k].strides[last];
  // The inputs read through a strip buffer: ones whose elements lie side by side down a column
  // and far apart along a row (a.t()), of a size strips_take; only where the output's rows are
  // contiguous (it is not the transposed one).
  bool strip[kOperands] = {};
  if (inner_strides[0] == 1)
    for (int k = 1; k < kOperands; ++k)
      strip[k] = it.operands[k].strides[last - 1] == 1 && inner_strides[k] > 1 &&
                 strips_take(elem_size[k]);
  // A copy between tensors of one type moves bits: its strips need no buffer.
  constexpr bool kCopiesBits =
      std::is_same_v<Op, IdentityOp> && sizeof...(In) == 1 && (std::is_same_v<R, In> && ...);
  int64_t row_strides[kOperands];  // the strides a row runs with, 1 for a strip buffer's
  for (int k = 0; k < kOperands; ++k) row_strides[k] = strip[k] ? 1 : inner_strides[k];
  const int64_t tiles = planes * row_tiles * col_tiles;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / (kTransposeTile * kTransposeTile));
  parallel_for(0, tiles, grain, [&](int64_t first, int64_t end) {
    constexpr int64_t kStripRows = 16;
    alignas(64) uint32_t buffers[kOperands][kStripRows * kTransposeTile];  // 4 KB an operand
    for (int64_t t = first; t < end; ++t) {
      const int64_t plane = t / (row_tiles * col_tiles);
      const int64_t r0 = t / col_tiles % row_tiles * kTransposeTile;
      const int64_t c0 = t % col_tiles * kTransposeTile;
      // The plane's offset in each operand, from its index over the outer dims.
      int64_t base[kOperands] = {};
      for (int64_t rem = plane, d = last - 2; d >= 0; --d) {
        const int64_t i = rem % it.sizes[d];
        rem /= it.sizes[d];
        for (int k = 0; k < kOperands; ++k) base[k] += i * it.operands[k].strides[d];
      }
      const int64_t n = std::min(kTransposeTile, cols - c0);
      const auto at = [&](int k, int64_t r) {
        return it.operands[k].data +
               (base[k] + r * it.operands[k].strides[last - 1] + c0 * inner_strides[k]) *
                   elem_size[k];
      };
      const int64_t r_end = std::min(rows, r0 + kTransposeTile);
      for (int64_t r = r0; r < r_end; r += kStripRows) {
        const int64_t strip_rows = std::min(kStripRows, r_end - r);
        if constexpr (kCopiesBits) {
          if (strip[1]) {  // straight into the output's rows
            transpose_strip(elem_size[1], at(1, r), inner_strides[1], strip_rows, n, at(0, r),
                            it.operands[0].strides[last - 1]);
            continue;
          }
        }
        for (int k = 1; k < kOperands; ++k)
          if (strip[k])
            transpose_strip(elem_size[k], at(k, r), inner_strides[k], strip_rows, n, buffers[k],
                            kTransposeTile);
        for (int64_t i = 0; i < strip_rows; ++i) {
          char* p[kOperands];
          for (int k = 0; k < kOperands; ++k)
            p[k] = strip[k]
                       ? reinterpret_cast<char*>(buffers[k]) + i * kTransposeTile * elem_size[k]
                       : at(k, r + i);
          run<R, In...>(op, p, row_strides, n);
        }
      }
    }
  });
}

}  // namespace detail

// out[i] = op(in_1[i], ..., in_k[i]) over the whole iteration; R and In... are the C++
// types of operand 0 and operands 1..k.
template <class R, class... In, class Op>
void cpu_elementwise_loop(const ElementwiseIter& it, const Op& op) {
  constexpr int kOperands = 1 + sizeof...(In);
  if (it.numel == 0) return;
  const int64_t elem_size[kOperands] = {sizeof(R), sizeof(In)...};
  if (it.ndim == 0) {
    char* p[kOperands];
    int64_t s[kOperands] = {};
    for (int k = 0; k < kOperands; ++k) p[k] = it.operands[k].data;
    detail::run<R, In...>(op, p, s, 1);
    return;
  }
  if (detail::walks_across(it)) return detail::run_in_tiles<R, In...>(it, op);
  const int last = it.ndim - 1;
  const int64_t inner = it.sizes[last];
  int64_t inner_strides[kOperands];
  for (int k = 0; k < kOperands; ++k) inner_strides[k] = it.operands[k].strides[last];

  parallel_for(0, it.numel, kParallelGrain, [&](int64_t begin, int64_t end) {
    // The multi-index of `begin`, then runs along the innermost dim until `end`.
    int64_t idx[kMaxDims];
    int64_t rem = begin;
    for (int d = last; d >= 0; --d) {
      idx[d] = rem % it.sizes[d];
      rem /= it.sizes[d];
    }
    for (int64_t pos = begin; pos < end;) {
      char* p[kOperands];
      for (int k = 0; k < kOperands; ++k) {
        int64_t offset = 0;
        for (int d = 0; d <= last; ++d) offset += idx[d] * it.operands[k].strides[d];
        p[k] = it.operands[k].data + offset * elem_size[k];
      }
      const int64_t n = std::min(inner - idx[last], end - pos);
      detail::run<R, In...>(op, p, inner_strides, n);
      pos += n;
      idx[last] += n;
      for (int d = last; d > 0 && idx[d] == it.sizes[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
      }
    }
  });
}

}  // namespace graft::kernels::cpu
