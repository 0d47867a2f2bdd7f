// AttentionArgs, AttentionBackwardArgs: scaled dot-product attention fused into one pass
// over key tiles per query tile, never materialising the (L, S) scores (FlashAttention's
// scheme, Dao et al. 2022 and FlashAttention-2), and its backward.
//
// The op layer (nn/attention.cpp) flattens the batch dims: q (bh, L, E), k (bh, S, E),
// v (bh, S, Ev), each read through an AttentionLayout, so multi-head attention's heads
// (a transposed view of its projections) need no copy. For each row i of q, over the keys
// j it may see (all, or j <= i when causal):
//   s_ij = scale * q_i . k_j,   out_i = sum_j softmax_j(s_ij) v_j
// computed tile by tile with a running max m_i and sum l_i (the online softmax): a new tile
// rescales what came before by exp(m_old - m_new). The forward saves lse_i = m_i + log l_i,
// from which the backward recomputes each probability p_ij = exp(s_ij - lse_i) tile by tile:
//   D_i = dout_i . out_i,   ds_ij = p_ij (dout_i . v_j - D_i)
//   dq_i = scale sum_j ds_ij k_j,   dk_j = scale sum_i ds_ij q_i,   dv_j = sum_i p_ij dout_i
// A row that sees no key (S = 0) gets zeros and lse = -inf. Plain C++ (no Tensor), so a
// CUDA backend can fill the same structs.
//
// Dropout (both devices' kernels draw the same mask from the same seed): out_i = sum_j p_ij
// m_ij v_j, where m_ij is 1 / (1 - dropout_p) for a kept probability and 0 for a dropped one
// (dropout(softmax(s)) @ v, as PyTorch's SDPA). The backward draws the same mask again
// (attention_keeps) and, since out already holds it, keeps D_i = dout_i . out_i:
//   dv_j = sum_i p_ij m_ij dout_i,   ds_ij = p_ij (m_ij dout_i . v_j - D_i)
#pragma once

#include <cmath>
#include <cstdint>

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/host_device.h"
#include "graft/core/random.h"

namespace graft::kernels {

// The largest head dims (E and Ev) the CUDA kernels take: their tiles live in shared memory
// (at 128, up to 66 KB a block in float32 and 132 KB in float64, more than some GPUs grant a
// block: the table's attention_fits asks). The op layer takes the math path beyond.
inline constexpr int64_t kCudaAttentionMaxFeatures = 128;

// Where a (bh, rows, features) buffer's rows lie: batch-head bh is head bh % heads of batch
// bh / heads, and its row r starts `row(bh, r)` elements in; features are contiguous. A
// (B, H, T, E) tensor that is a transpose of (B, T, H, E) memory has row stride H * E and
// head stride E; a contiguous one T * E and E * T.
struct AttentionLayout {
  int64_t heads = 1, batch_stride = 0, head_stride = 0, row_stride = 0;

  GRAFT_HOST_DEVICE int64_t row(int64_t bh, int64_t r) const {
    return bh / heads * batch_stride + bh % heads * head_stride + r * row_stride;
  }
};

struct AttentionArgs {
  DType dtype = kFloat32;   // of every buffer but lse: float32, float64, float16 or bfloat16
                            // (the 16-bit types computed in float32, their lse float32)
  Device device;            // where every buffer lives
  const void* q = nullptr;  // (bh, L, E)
  const void* k = nullptr;  // (bh, S, E)
  const void* v = nullptr;  // (bh, S, Ev)
  void* out = nullptr;      // (bh, L, Ev)
  void* lse = nullptr;      // (bh, L), contiguous: log of each row's softmax denominator
  AttentionLayout q_layout, k_layout, v_layout, out_layout;
  int64_t batch_heads = 0, length = 0, keys = 0, features = 0, value_features = 0;
  double scale = 1.0;
  bool causal = false;              // query i sees keys 0..i
  double dropout_p = 0;             // the probability that a p_ij is dropped
  PhiloxPosition dropout_rng = {};  // where its draws start: attention_dropout_blocks of them
};

// The Philox blocks a dropout mask over (bh, L, S) reads: one uniform float a 32-bit word,
// four a block.
GRAFT_HOST_DEVICE inline uint64_t attention_dropout_blocks(int64_t batch_heads, int64_t length,
                                                           int64_t keys) {
  return (static_cast<uint64_t>(batch_heads * length * keys) + 3) / 4;
}

// Dropout keeps p_ij, element e = (bh L + i) S + j of the (bh, L, S) mask, when its uniform
// float32 in [0, 1) (the top 24 bits of word e % 4 of block e / 4 from `dropout_rng`, times
// 2^-24, as rand() draws float32) is at least p: when those 24 bits are at least
// attention_keep_threshold(p) (p 2^24 is exact in double, and the bits are an integer).
GRAFT_HOST_DEVICE inline uint32_t attention_keep_threshold(double p) {
  return p <= 0 ? 0u : p >= 1 ? (1u << 24) : static_cast<uint32_t>(std::ceil(p * 16777216.0));
}

// Whether element e is kept; `block` holds block e / 4 of the stream. The word is picked by
// comparisons, not by indexing with e % 4: a CUDA thread's array indexed at run time lives in
// local memory, not in registers.
GRAFT_HOST_DEVICE inline bool attention_keeps(const PhiloxBlock& block, int64_t e,
                                              uint32_t threshold) {
  const int64_t word = e % 4;
  const uint32_t bits = word == 0   ? block.words[0]
                        : word == 1 ? block.words[1]
                        : word == 2 ? block.words[2]
                                    : block.words[3];
  return bits >> 8 >= threshold;
}

// attention_keeps for element e of the mask whose draws start at `rng`, its block drawn alone
// (the CPU's tiles draw a row's blocks together, by vectors: philox_blocks.h).
GRAFT_HOST_DEVICE inline bool attention_keeps_element(const PhiloxPosition& rng, int64_t e,
                                                      uint32_t threshold) {
  return attention_keeps(philox_block(rng.seed, rng.offset + static_cast<uint64_t>(e / 4)), e,
                         threshold);
}

// What a kept probability is multiplied by: 1 / (1 - p), or 0 when every one is dropped.
GRAFT_HOST_DEVICE inline double attention_keep_scale(double p) { return p < 1 ? 1 / (1 - p) : 0; }

struct AttentionBackwardArgs {
  AttentionArgs forward;           // its out and lse as the forward left them (read only)
  const void* grad_out = nullptr;  // (bh, L, Ev)
  void* grad_q = nullptr;          // (bh, L, E)
  void* grad_k = nullptr;          // (bh, S, E)
  void* grad_v = nullptr;          // (bh, S, Ev)
  AttentionLayout grad_out_layout, grad_q_layout, grad_k_layout, grad_v_layout;
};

}  // namespace graft::kernels
