// CPU fused attention and its backward (kernels/attention.h), tile by tile.
//
// Forward: a task per (batch-head, tile of kQueryTile query rows). It walks the key tiles the
// rows may see (for causal attention, none past the tile's last row), each one an Eigen GEMM
// of (rows, E) x (E, keys) into a score tile, and folds it into the running max, sum and
// (rows, Ev) accumulator of the online softmax. Memory per task is a few tiles, whatever the
// sequence length.
// Backward: a task per batch-head, so that dq (summed over key tiles) and dk, dv (summed over
// query tiles) each have one writer and the sums one order whatever the threads. For each
// key tile it walks the query tiles that see it, recomputes the probabilities from the saved
// log-sum-exp, and adds the tile's share of the three gradients (five GEMMs a tile pair).
// The GEMMs are graft's AVX-512 ones for float32 where the CPU has them (multiply()).
// float16 and bfloat16 run the float32 code a head at a time on rows widened into a thread's
// buffer, their results narrowed back (forward_16_bit, backward_16_bit).
//
// Masked scores are -inf, and their probabilities exactly 0 (Eigen's exp gives a tiny
// positive number for -inf): the causal mask's columns are zeroed by position.
//
// Dropout multiplies each tile's probabilities by its mask (dropout_tile) after they are
// summed into the softmax's denominator and before they weigh v; the backward draws the same
// tile of the mask again from the Philox stream (kernels/attention.h has the formulas).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "graft/kernels/attention.h"
#include "graft/kernels/cpu/array_math.h"
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/philox_blocks.h"
#include "graft/kernels/cpu/thread_buffer.h"
#include "graft/kernels/dispatch.h"

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kQueryTile = 64;
constexpr int64_t kKeyTile = 64;

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// A buffer's rows as AttentionLayout places them: `row_stride` elements apart.
template <class T>
using ConstMap = Eigen::Map<const Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using Map = Eigen::Map<Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using Column = Eigen::Array<T, Eigen::Dynamic, 1>;

template <class T>
constexpr T kMinusInf = -std::numeric_limits<T>::infinity();

// One batch-head's rows [first, first + rows) of a buffer, `cols` wide, as a matrix.
template <class T>
ConstMap<T> rows_of(const void* data, const AttentionLayout& layout, int64_t bh, int64_t first,
                    int64_t rows, int64_t cols) {
  return {static_cast<const T*>(data) + layout.row(bh, first), rows, cols,
          Eigen::OuterStride<>(layout.row_stride)};
}
template <class T>
Map<T> rows_of(void* data, const AttentionLayout& layout, int64_t bh, int64_t first, int64_t rows,
               int64_t cols) {
  return {static_cast<T*>(data) + layout.row(bh, first), rows, cols,
          Eigen::OuterStride<>(layout.row_stride)};
}

// A row-major Eigen map or block (rows `outerStride()` apart), or the transpose of one, as
// the packed GEMM reads an operand.
template <class X>
StridedMatrix<float> strided(const X& x) {
  return {x.data(), x.outerStride(), 1};
}
template <class X>
StridedMatrix<float> strided(const Eigen::Transpose<X>& x) {
  return {x.nestedExpression().data(), 1, x.nestedExpression().outerStride()};
}

// out = a x b, or out += a x b with accumulate: graft's AVX-512 GEMM for float32 where the
// CPU runs it and the tile holds a whole 14 x 32 one (16 lanes to the 8 of Eigen's GEMM in
// graft's x86-64-v3 build), Eigen's otherwise. Inside a task, so on its thread alone.
template <class Out, class A, class B>
void multiply(Out&& out, const A& a, const B& b, bool accumulate) {
  if constexpr (std::is_same_v<typename std::decay_t<Out>::Scalar, float>) {
    if (packed_gemm_if_it_pays(strided(a), strided(b), out.data(), out.rows(), a.cols(), out.cols(),
                               accumulate, out.outerStride()))
      return;
  }
  if (accumulate)
    out.noalias() += a * b;
  else
    out.noalias() = a * b;
}

// One batch-head's q, k, v and out rows, and its lse.
template <class T>
struct Head {
  Head(const AttentionArgs& a, int64_t bh) : args(a), bh(bh) {}
  ConstMap<T> q(int64_t first, int64_t rows) const {
    return rows_of<T>(args.q, args.q_layout, bh, first, rows, args.features);
  }
  ConstMap<T> k(int64_t first, int64_t rows) const {
    return rows_of<T>(args.k, args.k_layout, bh, first, rows, args.features);
  }
  ConstMap<T> v(int64_t first, int64_t rows) const {
    return rows_of<T>(args.v, args.v_layout, bh, first, rows, args.value_features);
  }
  Map<T> out(int64_t first, int64_t rows) const {
    return rows_of<T>(args.out, args.out_layout, bh, first, rows, args.value_features);
  }
  T* lse() const { return static_cast<T*>(args.lse) + bh * args.length; }
  const AttentionArgs& args;
  int64_t bh;
};

// The keys that rows [q0, q0 + rows) may see: all, or (causal) up to the last row.
int64_t visible_keys(const AttentionArgs& a, int64_t q0, int64_t rows) {
  return a.causal ? std::min(a.keys, q0 + rows) : a.keys;
}

// The first column of row r of the (q0, k0) score tile, n wide, that causal attention masks
// (n when none is).
int64_t first_masked(const AttentionArgs& a, int64_t q0, int64_t r, int64_t k0, int64_t n) {
  return a.causal ? std::clamp<int64_t>(q0 + r - k0 + 1, 0, n) : n;
}

// scores (rows, n) = scale * q[q0 .. q0 + rows) k[k0 .. k0 + n)^T, the causal triangle -inf.
template <class T, class Block>
void score_tile(const AttentionArgs& a, const Head<T>& h, int64_t q0, int64_t rows, int64_t k0,
                int64_t n, Block&& scores) {
  multiply(scores, h.q(q0, rows), h.k(k0, n).transpose(), false);
  scores *= static_cast<T>(a.scale);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t masked = first_masked(a, q0, r, k0, n);
    scores.row(r).tail(n - masked).setConstant(kMinusInf<T>);
  }
}

// x[i] = exp(x[i]) for i < n: float32 through array_math.h's exp, 16 lanes wide with masked
// tails where the CPU has AVX-512 (Eigen's 8-lane exp took two thirds of the forward's own
// time at (12, 4, 64, 32), and the C library's expf took each row's last few elements: a
// causal row's visible run is rarely a multiple of 8); float64 through Eigen's.
template <class T>
void exp_in_place(T* x, int64_t n) {
  if constexpr (std::is_same_v<T, float>)
    ArrayForm<ExpOp>::apply(x, x, n);
  else
    Eigen::Map<Column<T>>(x, n) = Eigen::Map<Column<T>>(x, n).exp();
}

// The probabilities of a score tile: s(r, c) = exp(s(r, c) - shift(r)) on the visible
// columns of each row, exactly 0 on the masked ones, whose positions are known: no
// comparisons, and each row's visible run is contiguous for a vectorised exp. (Through the
// whole block with exact_exp's former select(), which Eigen runs an element at a time with
// the C library's expf, this was 2-9% of a GPT step.)
template <class Block, class Shift>
void probabilities(const AttentionArgs& a, int64_t q0, int64_t k0, Block&& s, const Shift& shift) {
  const int64_t n = s.cols();
  for (int64_t r = 0; r < s.rows(); ++r) {
    const int64_t visible = first_masked(a, q0, r, k0, n);
    auto row = s.row(r).array();
    row.head(visible) -= shift(r);
    exp_in_place(row.data(), visible);
    row.tail(n - visible).setZero();
  }
}

// m = the dropout mask times 1 / (1 - p) over rows [q0, q0 + m.rows()) and keys [k0, k0 +
// m.cols()) of batch-head bh (attention_keeps): a row's Philox blocks drawn together, one per
// four keys.
template <class Block>
void dropout_tile(const AttentionArgs& a, int64_t bh, int64_t q0, int64_t k0, Block&& m) {
  using T = typename std::decay_t<Block>::Scalar;
  const T kept = static_cast<T>(attention_keep_scale(a.dropout_p));
  const uint32_t threshold = attention_keep_threshold(a.dropout_p);
  PhiloxBlock blocks[kKeyTile / 4 + 2];
  for (int64_t r = 0; r < m.rows(); ++r) {
    const int64_t first = (bh * a.length + q0 + r) * a.keys + k0;
    const int64_t first_block = first / 4, last_block = (first + m.cols() - 1) / 4;
    philox_blocks(a.dropout_rng.seed, a.dropout_rng.offset + static_cast<uint64_t>(first_block),
                  last_block - first_block + 1, blocks);
    for (int64_t c = 0; c < m.cols(); ++c) {
      const int64_t e = first + c;
      m(r, c) = attention_keeps(blocks[e / 4 - first_block], e, threshold) ? kept : T(0);
    }
  }
}

template <class T>
void forward_tile(const AttentionArgs& a, int64_t bh, int64_t q0) {
  const Head<T> h(a, bh);
  const int64_t rows = std::min(kQueryTile, a.length - q0);
  Matrix<T> scores(rows, kKeyTile), acc = Matrix<T>::Zero(rows, a.value_features);
  Matrix<T> mask(a.dropout_p > 0 ? rows : 0, kKeyTile);
  Column<T> max = Column<T>::Constant(rows, kMinusInf<T>), sum = Column<T>::Zero(rows);
  Column<T> new_max(rows), rescale(rows);
  const int64_t end = visible_keys(a, q0, rows);
  for (int64_t k0 = 0; k0 < end; k0 += kKeyTile) {
    const int64_t n = std::min(kKeyTile, end - k0);
    auto s = scores.leftCols(n);
    score_tile(a, h, q0, rows, k0, n, s);
    // Every row sees key 0 in the first tile, so new_max is finite from there on, and what
    // came before is rescaled to it (exp(-inf) = 0 on the first tile). No temporaries in
    // this loop: each would be a heap allocation per tile.
    new_max = max.max(s.rowwise().maxCoeff().array());
    exact_exp(rescale, max - new_max);
    probabilities(a, q0, k0, s, new_max);
    sum = sum * rescale + s.rowwise().sum().array();
    acc = (acc.array().colwise() * rescale).matrix();
    if (a.dropout_p > 0) {
      auto m = mask.leftCols(n);
      dropout_tile(a, bh, q0, k0, m);
      s.array() *= m.array();
    }
    multiply(acc, s, h.v(k0, n), true);
    max = new_max;
  }
  // A row that saw no key (keys == 0) has sum 0: zeros, and lse -inf.
  const Column<T> inverse = (sum > T(0)).select(T(1) / sum, T(0));
  h.out(q0, rows) = (acc.array().colwise() * inverse).matrix();
  Eigen::Map<Column<T>>(h.lse() + q0, rows) = max + sum.log();
}

template <class T>
void forward(const AttentionArgs& a) {
  const int64_t tiles = (a.length + kQueryTile - 1) / kQueryTile;
  // A task is a tile's GEMMs over every visible key: worth a thread from a few tiles on.
  parallel_for(0, a.batch_heads * tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) forward_tile<T>(a, t / tiles, t % tiles * kQueryTile);
  });
}

template <class T>
void backward_head(const AttentionBackwardArgs& b, int64_t bh) {
  const AttentionArgs& a = b.forward;
  const Head<T> h(a, bh);
  const int64_t E = a.features, Ev = a.value_features, L = a.length;
  const ConstMap<T> dout = rows_of<T>(b.grad_out, b.grad_out_layout, bh, 0, L, Ev);
  Map<T> dq = rows_of<T>(b.grad_q, b.grad_q_layout, bh, 0, L, E);
  Map<T> dk = rows_of<T>(b.grad_k, b.grad_k_layout, bh, 0, a.keys, E);
  Map<T> dv = rows_of<T>(b.grad_v, b.grad_v_layout, bh, 0, a.keys, Ev);
  dq.setZero();
  dk.setZero();
  dv.setZero();
  // D_i = dout_i . out_i
  const Column<T> d = (dout.array() * h.out(0, L).array()).rowwise().sum().eval();
  const Eigen::Map<const Column<T>> lse(h.lse(), L);
  Matrix<T> p(kQueryTile, kKeyTile), dp(kQueryTile, kKeyTile);
  const bool dropout = a.dropout_p > 0;
  Matrix<T> mask(dropout ? kQueryTile : 0, kKeyTile), kept(dropout ? kQueryTile : 0, kKeyTile);
  for (int64_t k0 = 0; k0 < a.keys; k0 += kKeyTile) {
    const int64_t n = std::min(kKeyTile, a.keys - k0);
    const ConstMap<T> k = h.k(k0, n), v = h.v(k0, n);
    // Causal: the first query tile holding a row >= k0.
    const int64_t first = a.causal ? k0 / kQueryTile * kQueryTile : 0;
    for (int64_t q0 = first; q0 < L; q0 += kQueryTile) {
      const int64_t rows = std::min(kQueryTile, L - q0);
      auto s = p.topLeftCorner(rows, n);
      score_tile(a, h, q0, rows, k0, n, s);
      probabilities(a, q0, k0, s, lse.segment(q0, rows));
      const auto dout_i = dout.middleRows(q0, rows);
      // dv takes the probabilities as the forward weighed v with them: dropped, if so.
      if (dropout) {
        auto m = mask.topLeftCorner(rows, n);
        dropout_tile(a, bh, q0, k0, m);
        auto dropped = kept.topLeftCorner(rows, n);
        dropped = (s.array() * m.array()).matrix();
        multiply(dv.middleRows(k0, n), dropped.transpose(), dout_i, true);
      } else {
        multiply(dv.middleRows(k0, n), s.transpose(), dout_i, true);
      }
      auto ds = dp.topLeftCorner(rows, n);
      multiply(ds, dout_i, v.transpose(), false);
      if (dropout) ds.array() *= mask.topLeftCorner(rows, n).array();
      ds = (s.array() * (ds.array().colwise() - d.segment(q0, rows))).matrix();
      ds *= static_cast<T>(a.scale);
      multiply(dq.middleRows(q0, rows), ds, k, true);
      multiply(dk.middleRows(k0, n), ds.transpose(), h.q(q0, rows), true);
    }
  }
}

template <class T>
void backward(const AttentionBackwardArgs& b) {
  parallel_for(0, b.forward.batch_heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t bh = begin; bh < end; ++bh) backward_head<T>(b, bh);
  });
}

// float16 and bfloat16: a batch-head at a time, its rows widened into the thread's float
// buffer, the float32 kernels run there, and what they wrote narrowed back; the lse stays
// float32. The op layer had made whole float32 copies of q, k and v and narrowed the output
// and the gradients through casts: each a pass over memory that this skips.
// A task is a whole head here, not a query tile: the head's k and v are widened once for all
// of its query tiles.
struct WidenedHead {};

// A layout under which every batch-head's rows are the same buffer's, `cols` floats apart:
// the float32 kernels keep each head's own index (the dropout draws are numbered by it) and
// find its widened rows at the start of the buffer.
AttentionLayout one_head(int64_t cols) {
  AttentionLayout layout;  // one head a batch, no batch stride: row(bh, r) = r * cols
  layout.row_stride = cols;
  return layout;
}

template <class H>
void widen_rows(const void* data, const AttentionLayout& layout, int64_t bh, int64_t rows,
                int64_t cols, float* out) {
  for (int64_t r = 0; r < rows; ++r)
    widen_block(static_cast<const H*>(data) + layout.row(bh, r), out + r * cols, cols);
}

template <class H>
void narrow_rows(const float* in, int64_t rows, int64_t cols, void* data,
                 const AttentionLayout& layout, int64_t bh) {
  for (int64_t r = 0; r < rows; ++r)
    narrow_block(in + r * cols, static_cast<H*>(data) + layout.row(bh, r), cols);
}

// One head's float32 rows in a thread's buffer: q, k, v and out, and for the backward the
// gradients too.
struct HeadBuffers {
  float *q, *k, *v, *out;
  float *grad_out = nullptr, *grad_q = nullptr, *grad_k = nullptr, *grad_v = nullptr;

  HeadBuffers(const AttentionArgs& a, bool backward, ThreadBuffer<float, WidenedHead>& buffer) {
    const int64_t L = a.length, S = a.keys, E = a.features, Ev = a.value_features;
    const int64_t size = (L + S) * (E + Ev);  // the gradients take as much again
    float* next = buffer.data(backward ? 2 * size : size);
    const auto take = [&next](int64_t size) { return std::exchange(next, next + size); };
    q = take(L * E);
    k = take(S * E);
    v = take(S * Ev);
    out = take(L * Ev);
    if (!backward) return;
    grad_out = take(L * Ev);
    grad_q = take(L * E);
    grad_k = take(S * E);
    grad_v = take(S * Ev);
  }
};

// `a` (16-bit) rewritten to read q, k and v from h and write out there; the lse (float32)
// where it was.
AttentionArgs on_buffers(const AttentionArgs& a, const HeadBuffers& h) {
  AttentionArgs f = a;
  f.dtype = kFloat32;
  f.q = h.q;
  f.k = h.k;
  f.v = h.v;
  f.out = h.out;
  f.q_layout = f.k_layout = one_head(a.features);
  f.v_layout = f.out_layout = one_head(a.value_features);
  return f;
}

// Head bh's q, k and v (and, for the backward, out) widened into h.
template <class H>
void widen_head(const AttentionArgs& a, const HeadBuffers& h, int64_t bh, bool with_out) {
  widen_rows<H>(a.q, a.q_layout, bh, a.length, a.features, h.q);
  widen_rows<H>(a.k, a.k_layout, bh, a.keys, a.features, h.k);
  widen_rows<H>(a.v, a.v_layout, bh, a.keys, a.value_features, h.v);
  if (with_out) widen_rows<H>(a.out, a.out_layout, bh, a.length, a.value_features, h.out);
}

template <class H>
void forward_16_bit(const AttentionArgs& a) {
  const int64_t tiles = (a.length + kQueryTile - 1) / kQueryTile;
  parallel_for(0, a.batch_heads, 1, [&](int64_t begin, int64_t end) {
    ThreadBuffer<float, WidenedHead> buffer;
    const HeadBuffers h(a, false, buffer);
    const AttentionArgs f = on_buffers(a, h);
    for (int64_t bh = begin; bh < end; ++bh) {
      widen_head<H>(a, h, bh, false);
      for (int64_t t = 0; t < tiles; ++t) forward_tile<float>(f, bh, t * kQueryTile);
      narrow_rows<H>(h.out, a.length, a.value_features, a.out, a.out_layout, bh);
    }
  });
}

template <class H>
void backward_16_bit(const AttentionBackwardArgs& b) {
  const AttentionArgs& a = b.forward;
  const int64_t L = a.length, S = a.keys, E = a.features, Ev = a.value_features;
  parallel_for(0, a.batch_heads, 1, [&](int64_t begin, int64_t end) {
    ThreadBuffer<float, WidenedHead> buffer;
    const HeadBuffers h(a, true, buffer);
    AttentionBackwardArgs f = b;
    f.forward = on_buffers(a, h);
    f.grad_out = h.grad_out;
    f.grad_q = h.grad_q;
    f.grad_k = h.grad_k;
    f.grad_v = h.grad_v;
    f.grad_out_layout = f.grad_v_layout = one_head(Ev);
    f.grad_q_layout = f.grad_k_layout = one_head(E);
    for (int64_t bh = begin; bh < end; ++bh) {
      widen_head<H>(a, h, bh, true);
      widen_rows<H>(b.grad_out, b.grad_out_layout, bh, L, Ev, h.grad_out);
      backward_head<float>(f, bh);
      narrow_rows<H>(h.grad_q, L, E, b.grad_q, b.grad_q_layout, bh);
      narrow_rows<H>(h.grad_k, S, E, b.grad_k, b.grad_k_layout, bh);
      narrow_rows<H>(h.grad_v, S, Ev, b.grad_v, b.grad_v_layout, bh);
    }
  });
}

void attention_kernel(const AttentionArgs& args) {
  visit_floating_or_16_bit_dtype("scaled_dot_product_attention", args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float16_v<T>)
      forward_16_bit<T>(args);
    else
      forward<T>(args);
  });
}

void attention_backward_kernel(const AttentionBackwardArgs& args) {
  visit_floating_or_16_bit_dtype("scaled_dot_product_attention_backward", args.forward.dtype,
                                 [&](auto tag) {
                                   using T = decltype(tag);
                                   if constexpr (is_float16_v<T>)
                                     backward_16_bit<T>(args);
                                   else
                                     backward<T>(args);
                                 });
}

}  // namespace

void register_attention(KernelTable& table) {
  table.attention[static_cast<int>(kCPU)] = attention_kernel;
  table.attention_backward[static_cast<int>(kCPU)] = attention_backward_kernel;
}

}  // namespace graft::kernels::cpu
