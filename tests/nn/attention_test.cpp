// scaled_dot_product_attention and MultiheadAttention (nn/attention.h) against naive loops
// in double: every mask kind, causal with fewer and more keys than queries, broadcast batch
// dims, a custom scale, rows that may attend to nothing, gradients by finite differences,
// the module's parameters and PyTorch names, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "graft/core/random.h"
#include "graft/graft.h"
#include "peak_memory.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
namespace F = g::nn::functional;
using g::Tensor;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// May query i attend to key j, and what is added to its score: from the mask of one
// (batch, head) slice, or causal.
using MaskAt = std::function<double(int64_t i, int64_t j)>;  // -inf: may not attend

// Attention of one (L, E) x (S, E) x (S, Ev) slice in double, with mask(i, j) added, and
// each weight (i, j) times dropout[i * S + j] where a dropout mask is given.
std::vector<double> attention_slice(const std::vector<double>& q, const std::vector<double>& k,
                                    const std::vector<double>& v, int64_t L, int64_t S, int64_t E,
                                    int64_t Ev, double scale, const MaskAt& mask,
                                    const double* dropout = nullptr) {
  std::vector<double> out(static_cast<size_t>(L * Ev), 0.0);
  for (int64_t i = 0; i < L; ++i) {
    std::vector<double> scores(static_cast<size_t>(S));
    double max = -kInf;
    for (int64_t j = 0; j < S; ++j) {
      double dot = 0;
      for (int64_t e = 0; e < E; ++e) dot += q[i * E + e] * k[j * E + e];
      scores[j] = dot * scale + mask(i, j);
      max = std::max(max, scores[j]);
    }
    if (max == -kInf) continue;  // attends to nothing: zeros
    double total = 0;
    for (double& s : scores) total += (s = std::exp(s - max));
    for (int64_t j = 0; j < S; ++j) {
      const double weight = scores[j] / total * (dropout ? dropout[i * S + j] : 1.0);
      for (int64_t e = 0; e < Ev; ++e) out[i * Ev + e] += weight * v[j * Ev + e];
    }
  }
  return out;
}

// The values of slice `b` of a (B, rows, cols) tensor.
std::vector<double> slice_of(const Tensor& t, int64_t b) {
  return t.select(0, b).contiguous().to_vector<double>();
}

// query (B, L, E), key (B, S, E), value (B, S, Ev) in float64; mask_for(b) the mask of slice b.
Tensor reference(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                 const std::function<MaskAt(int64_t)>& mask_for) {
  const int64_t B = q.size(0), L = q.size(1), E = q.size(2), S = k.size(1), Ev = v.size(2);
  std::vector<double> all;
  for (int64_t b = 0; b < B; ++b) {
    const auto slice = attention_slice(slice_of(q, b), slice_of(k, b), slice_of(v, b), L, S, E, Ev,
                                       scale, mask_for(b));
    all.insert(all.end(), slice.begin(), slice.end());
  }
  return g::testing::make_tensor(all, {B, L, Ev});
}

const MaskAt kNoMask = [](int64_t, int64_t) { return 0.0; };

TEST(ScaledDotProductAttention, MatchesNaiveLoopsForEveryMaskKind) {
  g::manual_seed(1);
  const int64_t B = 2, H = 3, L = 4, S = 5, E = 6, Ev = 7;
  const Tensor q = g::randn({B, H, L, E}, g::kFloat64), k = g::randn({B, H, S, E}, g::kFloat64);
  const Tensor v = g::randn({B, H, S, Ev}, g::kFloat64);
  const auto flat = [&](const Tensor& t) { return t.reshape({B * H, t.size(2), t.size(3)}); };
  auto expect_matches = [&](const Tensor& got, const std::function<MaskAt(int64_t)>& mask_for,
                            double s = 1 / std::sqrt(6.0)) {
    const Tensor want = reference(flat(q), flat(k), flat(v), s, mask_for);
    EXPECT_TRUE(g::allclose(flat(got), want, 1e-12, 1e-12));
  };

  expect_matches(F::scaled_dot_product_attention(q, k, v), [](int64_t) { return kNoMask; });
  expect_matches(
      F::scaled_dot_product_attention(q, k, v, {}, 0.0, false, 0.5),
      [](int64_t) { return kNoMask; }, 0.5);
  // Causal, top-left aligned: query i sees keys 0..i (S > L here).
  expect_matches(F::scaled_dot_product_attention(q, k, v, {}, 0.0, true),
                 [](int64_t) { return [](int64_t i, int64_t j) { return j <= i ? 0.0 : -kInf; }; });
  // A bool mask (L, S) broadcast over batch and heads: true where attending is allowed.
  const Tensor allowed = g::rand({L, S}) > 0.3;
  const auto allowed_values = allowed.to(g::kFloat64).to_vector<double>();
  expect_matches(F::scaled_dot_product_attention(q, k, v, allowed), [&](int64_t) {
    return [&](int64_t i, int64_t j) { return allowed_values[i * S + j] != 0 ? 0.0 : -kInf; };
  });
  // A float mask per (batch, head), added to the scores.
  const Tensor bias = g::randn({B, H, L, S}, g::kFloat64);
  expect_matches(F::scaled_dot_product_attention(q, k, v, bias), [&](int64_t bh) {
    const auto values = bias.reshape({B * H, L, S}).select(0, bh).contiguous().to_vector<double>();
    return MaskAt([values, S](int64_t i, int64_t j) { return values[i * S + j]; });
  });
}

TEST(ScaledDotProductAttention, BatchDimsBroadcastAndCausalWithFewerKeys) {
  const Tensor q = g::randn({2, 3, 5, 4}, g::kFloat64);
  const Tensor k = g::randn({1, 3, 2, 4}, g::kFloat64), v = g::randn({1, 3, 2, 4}, g::kFloat64);
  const Tensor got = F::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
  ASSERT_EQ(got.shape(), g::Shape({2, 3, 5, 4}));
  const Tensor want = F::scaled_dot_product_attention(q, k.expand({2, 3, 2, 4}),
                                                      v.expand({2, 3, 2, 4}), {}, 0.0, true);
  EXPECT_TRUE(g::allclose(got, want, 1e-14, 1e-14));
  // Query 0 sees key 0 alone: its output is value row 0.
  EXPECT_TRUE(g::allclose(got.select(2, 0), v.expand({2, 3, 2, 4}).select(2, 0), 1e-14, 1e-14));
}

TEST(ScaledDotProductAttention, ARowThatMayAttendToNothingGivesZerosAndNoNaNGradient) {
  const Tensor q = g::randn({1, 3, 4}, g::kFloat64).requires_grad_();
  const Tensor k = g::randn({1, 2, 4}, g::kFloat64).requires_grad_();
  const Tensor v = g::randn({1, 2, 4}, g::kFloat64).requires_grad_();
  const Tensor allowed = g::testing::make_tensor({1, 1, 0, 0, 1, 0}, {3, 2}).to(g::kBool);
  const Tensor out = F::scaled_dot_product_attention(q, k, v, allowed);
  EXPECT_TRUE(g::equal(out.select(1, 1), g::zeros({1, 4}, g::kFloat64)));
  out.sum().backward();
  for (const Tensor* t : {&q, &k, &v})
    EXPECT_FALSE(g::any(t->grad() != t->grad()).item<bool>());  // NaN != NaN
  EXPECT_TRUE(g::equal(q.grad().select(1, 1), g::zeros({1, 4}, g::kFloat64)));
}

TEST(ScaledDotProductAttention, AnAdditiveMaskOfMinusInfOverARowGivesZerosAndNoNaNGradient) {
  // The additive form of the mask above: its gradient reaches the scores (and the mask) where
  // the bool mask's where stops it.
  const Tensor q = g::randn({1, 3, 4}, g::kFloat64).requires_grad_();
  const Tensor k = g::randn({1, 2, 4}, g::kFloat64).requires_grad_();
  const Tensor v = g::randn({1, 2, 4}, g::kFloat64).requires_grad_();
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor mask =
      g::testing::make_tensor({0.5, 0, -inf, -inf, 0, -1}, {3, 2}, g::kFloat64).requires_grad_();
  const Tensor out = F::scaled_dot_product_attention(q, k, v, mask);
  EXPECT_TRUE(g::equal(out.select(1, 1), g::zeros({1, 4}, g::kFloat64)));
  out.sum().backward();
  for (const Tensor* t : {&q, &k, &v, &mask})
    EXPECT_FALSE(g::any(t->grad() != t->grad()).item<bool>());  // NaN != NaN
  EXPECT_TRUE(g::equal(q.grad().select(1, 1), g::zeros({1, 4}, g::kFloat64)));
  EXPECT_TRUE(g::equal(mask.grad().select(0, 1), g::zeros({2}, g::kFloat64)));
}

TEST(ScaledDotProductAttention, GradientsMatchFiniteDifferences) {
  const auto leaf = [](g::Shape shape) { return g::randn(shape, g::kFloat64).requires_grad_(); };
  const Tensor q = leaf({2, 3, 4}), k = leaf({2, 5, 4}), v = leaf({2, 5, 3});
  const Tensor bias = leaf({3, 5});
  EXPECT_TRUE(g::autograd::gradcheck(
      [](const g::autograd::TensorList& in) {
        return F::scaled_dot_product_attention(in[0], in[1], in[2], in[3]);
      },
      {q, k, v, bias}));
  EXPECT_TRUE(g::autograd::gradcheck(
      [](const g::autograd::TensorList& in) {
        return F::scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.0, true);
      },
      {q, k, v}));
  EXPECT_TRUE(g::autograd::gradgradcheck(
      [](const g::autograd::TensorList& in) {
        return F::scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.0, true);
      },
      {q, k, v}));
}

// The fused kernels' node in t's graph, down the first inputs (under the reshape to the batch
// shape, or MultiheadAttention's output projection), or null.
std::shared_ptr<g::autograd::Node> fused_node(const Tensor& t) {
  for (auto node = t.grad_fn(); node != nullptr;
       node = node->next_edges().empty() ? nullptr : node->next_edges()[0].node)
    if (node->name() == "ScaledDotProductAttentionBackward") return node;
  return nullptr;
}

bool made_by_fused_kernels(const Tensor& t) { return fused_node(t) != nullptr; }

// The math path, forced by a float mask of zeros (the fused kernels take no mask).
Tensor math_path(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const Tensor zeros = g::zeros({q.size(-2), k.size(-2)}, q.dtype());
  if (!causal) return F::scaled_dot_product_attention(q, k, v, zeros);
  const Tensor triangle =
      g::where(g::tril(g::ones({q.size(-2), k.size(-2)}, g::kBool)), zeros, -kInf);
  return F::scaled_dot_product_attention(q, k, v, triangle);
}

TEST(ScaledDotProductAttention, FusedKernelsMatchTheMathPathAcrossTileEdges) {
  // Lengths around the 64-row tiles, more or fewer keys than queries, odd widths, and widths
  // of 32 and more, whose float32 tiles take the CPU's packed GEMM.
  struct Case {
    int64_t batch, length, keys, features, value_features;
  };
  for (const Case c :
       {Case{2, 1, 1, 4, 4}, Case{1, 63, 65, 16, 8}, Case{3, 64, 64, 8, 8}, Case{1, 130, 70, 33, 5},
        Case{2, 70, 130, 4, 12}, Case{1, 5, 0, 4, 3}, Case{1, 100, 90, 32, 40}}) {
    for (const bool causal : {false, true}) {
      for (const g::DType dtype : {g::kFloat32, g::kFloat64}) {
        SCOPED_TRACE(std::to_string(c.length) + " queries, " + std::to_string(c.keys) +
                     " keys, width " + std::to_string(c.features) + (causal ? ", causal" : "") +
                     ", " + g::dtype_name(dtype));
        const double tol = dtype == g::kFloat32 ? 2e-5 : 1e-12;
        const auto leaf = [&](int64_t rows, int64_t cols) {
          return g::randn({c.batch, 2, rows, cols}, dtype).requires_grad_();
        };
        const Tensor q = leaf(c.length, c.features), k = leaf(c.keys, c.features),
                     v = leaf(c.keys, c.value_features);
        const Tensor dout = g::randn({c.batch, 2, c.length, c.value_features}, dtype);
        const Tensor fused = F::scaled_dot_product_attention(q, k, v, {}, 0.0, causal);
        EXPECT_TRUE(made_by_fused_kernels(fused));
        EXPECT_FALSE(made_by_fused_kernels(math_path(q, k, v, causal)));
        const Tensor math = math_path(q, k, v, causal);
        EXPECT_TRUE(g::allclose(fused, math, tol, tol));
        const auto fused_grads = g::autograd::grad({fused}, {q, k, v}, {.grad_outputs = {dout}});
        const auto math_grads = g::autograd::grad({math}, {q, k, v}, {.grad_outputs = {dout}});
        for (size_t i = 0; i < 3; ++i) {
          EXPECT_TRUE(g::allclose(fused_grads[i], math_grads[i], 10 * tol, 10 * tol)) << i;
          // Laid out as the (contiguous) input, so that a leaf takes it as it is.
          EXPECT_TRUE(fused_grads[i].is_contiguous()) << i;
        }
      }
    }
  }
}

TEST(ScaledDotProductAttention, FusedKernelsReadStridedHeadsAndLayTheirOutputsHeadsInner) {
  // Multi-head attention's q, k and v are transposes of (B, T, H, D) projections, here cut
  // from one (B, T, 3 H D) tensor (row stride 3 H D); a 5-d batch folds into one stride; a
  // batch transposed out of order cannot fold and is copied. All against the math path.
  const int64_t B = 2, T = 37, H = 3, D = 8;
  const Tensor qkv = g::randn({B, T, 3 * H * D}, g::kFloat64).requires_grad_();
  const auto heads = [&](int64_t which) {
    return qkv.narrow(2, which * H * D, H * D).view({B, T, H, D}).transpose(1, 2);
  };
  const Tensor five = g::randn({2, 2, H, T, D}, g::kFloat64).requires_grad_();
  const Tensor unfoldable = g::randn({2, 2, H, T, D}, g::kFloat64).transpose(0, 1).requires_grad_();
  struct Case {
    const char* name;
    Tensor q, k, v, leaf;
  };
  for (const Case& c : {Case{"heads of one projection", heads(0), heads(1), heads(2), qkv},
                        Case{"5-d batch", five, five * 0.5, five + 1, five},
                        Case{"unfoldable batch", unfoldable, unfoldable, unfoldable, unfoldable}}) {
    for (const bool causal : {false, true}) {
      SCOPED_TRACE(std::string(c.name) + (causal ? ", causal" : ""));
      const Tensor fused = F::scaled_dot_product_attention(c.q, c.k, c.v, {}, 0.0, causal);
      ASSERT_TRUE(made_by_fused_kernels(fused));
      // Heads innermost in memory: the merge of the heads is a view.
      EXPECT_TRUE(fused.transpose(-3, -2).is_contiguous());
      const Tensor math = math_path(c.q, c.k, c.v, causal);
      EXPECT_TRUE(g::allclose(fused, math, 1e-12, 1e-12));
      const Tensor dout = g::randn(fused.shape(), g::kFloat64);
      // Every graph here starts from the same views of the leaf: each keeps them.
      const auto grad = [&](const Tensor& out) {
        return g::autograd::grad({out}, {c.leaf},
                                 {.grad_outputs = {dout}, .retain_graph = true})[0];
      };
      const Tensor fused_grad = grad(fused), math_grad = grad(math);
      EXPECT_TRUE(g::allclose(fused_grad, math_grad, 1e-11, 1e-11));
    }
  }
}

TEST(ScaledDotProductAttention, FusedKernelsGiveTheSameBitsWhateverTheThreads) {
  const Tensor q = g::randn({4, 3, 100, 16}).requires_grad_();
  const Tensor k = g::randn({4, 3, 100, 16}).requires_grad_();
  const Tensor v = g::randn({4, 3, 100, 16}).requires_grad_();
  const Tensor dout = g::randn({4, 3, 100, 16});
  std::vector<std::vector<Tensor>> results;
  for (const int threads : {1, 3}) {
    const g::testing::SettingsScope scope(std::nullopt, threads);
    const Tensor out = F::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
    auto grads = g::autograd::grad({out}, {q, k, v}, {.grad_outputs = {dout}});
    grads.push_back(out.detach());
    results.push_back(grads);
  }
  for (size_t i = 0; i < results[0].size(); ++i)
    EXPECT_TRUE(g::equal(results[0][i], results[1][i])) << i;
}

// The fused kernels' dropout mask over `count` elements of the (bh, L, S) weights, times
// 1 / (1 - p), drawn as kernels/attention.h says: element e kept when the top 24 bits of word
// e % 4 of the Philox block `offset + e / 4` of `seed`, times 2^-24, are at least p.
std::vector<double> fused_dropout_mask(uint64_t seed, uint64_t offset, int64_t count, double p) {
  std::vector<double> mask(static_cast<size_t>(count));
  for (int64_t e = 0; e < count; ++e) {
    const g::PhiloxBlock block = g::philox_block(seed, offset + static_cast<uint64_t>(e / 4));
    mask[e] = (block.words[e % 4] >> 8) / 16777216.0 >= p ? 1 / (1 - p) : 0.0;
  }
  return mask;
}

TEST(ScaledDotProductAttention, FusedDropoutWeighsVWithTheMaskItDraws) {
  // Lengths across the 64-row tiles, so that each tile's draws must come from their own place
  // in the mask; causal and not; float64 to the last bits and float32 within its rounding.
  const int64_t B = 2, L = 70, S = 67, E = 5, Ev = 3;
  const double p = 0.3;
  const Tensor q = g::randn({B, L, E}, g::kFloat64), k = g::randn({B, S, E}, g::kFloat64),
               v = g::randn({B, S, Ev}, g::kFloat64);
  const std::vector<double> mask = fused_dropout_mask(11, 0, B * L * S, p);
  const auto dropped = std::count(mask.begin(), mask.end(), 0.0);
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(mask.size()), p, 0.02);
  for (const bool causal : {false, true}) {
    std::vector<double> want;
    for (int64_t b = 0; b < B; ++b) {
      const MaskAt mask_at = [causal](int64_t i, int64_t j) { return causal && j > i ? -kInf : 0; };
      const auto slice =
          attention_slice(slice_of(q, b), slice_of(k, b), slice_of(v, b), L, S, E, Ev,
                          1 / std::sqrt(double(E)), mask_at, mask.data() + b * L * S);
      want.insert(want.end(), slice.begin(), slice.end());
    }
    for (const g::DType dtype : {g::kFloat64, g::kFloat32}) {
      SCOPED_TRACE(std::string(causal ? "causal, " : "") + g::dtype_name(dtype));
      const Tensor qd = q.to(dtype).requires_grad_(), kd = k.to(dtype), vd = v.to(dtype);
      g::manual_seed(11);  // the generator's first blocks: the mask above
      const Tensor out = F::scaled_dot_product_attention(qd, kd, vd, {}, p, causal);
      EXPECT_TRUE(made_by_fused_kernels(out));
      const double tol = dtype == g::kFloat64 ? 1e-12 : 1e-5;
      EXPECT_TRUE(
          g::allclose(out.to(g::kFloat64), g::testing::make_tensor(want, {B, L, Ev}), tol, tol));
    }
  }
}

TEST(ScaledDotProductAttention, FusedDropoutGradientsMatchFiniteDifferences) {
  // Every evaluation reseeds, so that each draws the same mask; gradgradcheck runs the
  // create_graph backward, which rebuilds the mask as a tensor.
  const auto leaf = [](g::Shape shape) { return g::randn(shape, g::kFloat64).requires_grad_(); };
  const Tensor q = leaf({2, 6, 4}), k = leaf({2, 7, 4}), v = leaf({2, 7, 3});
  for (const bool causal : {false, true}) {
    SCOPED_TRACE(causal ? "causal" : "not causal");
    const auto attention = [causal](const g::autograd::TensorList& in) {
      g::manual_seed(3);
      return F::scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.4, causal);
    };
    const Tensor out = attention({q, k, v});
    EXPECT_TRUE(made_by_fused_kernels(out));
    EXPECT_TRUE(g::autograd::gradcheck(attention, {q, k, v}));
    EXPECT_TRUE(g::autograd::gradgradcheck(attention, {q, k, v}));
    // The create_graph backward's first gradients are the kernels'.
    const Tensor dout = g::randn(out.shape(), g::kFloat64);
    const auto kernels =
        g::autograd::grad({out}, {q, k, v}, {.grad_outputs = {dout}, .retain_graph = true});
    const auto composed = g::autograd::grad(
        {out}, {q, k, v}, {.grad_outputs = {dout}, .retain_graph = true, .create_graph = true});
    for (size_t i = 0; i < 3; ++i)
      EXPECT_TRUE(g::allclose(kernels[i], composed[i], 1e-12, 1e-12)) << i;
  }
}

TEST(ScaledDotProductAttention, FusedKernelsTakeFloat16AndBFloat16OnTheCpuInFloat32) {
  // The 16-bit kernels widen a head's rows, run the float32 kernels and round once: the
  // output is the float32 kernels' output on the widened inputs, rounded, to the bit, with
  // dropout too (the same draws, numbered by batch-head) and on strided heads (a transposed
  // (B, L, H, E) projection, as multi-head attention reads it). Rows across two query tiles.
  // The gradients go through the rounded output (D_i = dout_i . out_i), so they are within
  // the 16-bit type's steps of float32's, in the inputs' dtype.
  for (const g::DType dtype : {g::kBFloat16, g::kFloat16}) {
    for (const bool causal : {false, true}) {
      for (const double dropout : {0.0, 0.25}) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + (causal ? ", causal" : "") +
                     (dropout > 0 ? ", dropout" : ""));
        const auto leaf = [&](int64_t rows) {
          return g::randn({2, rows, 3, 16}).to(dtype).transpose(1, 2).requires_grad_();
        };
        const Tensor q = leaf(70), k = leaf(70), v = leaf(70);
        const Tensor dout = g::randn({2, 3, 70, 16}).to(dtype);
        g::manual_seed(5);
        const Tensor out = F::scaled_dot_product_attention(q, k, v, {}, dropout, causal);
        EXPECT_EQ(out.dtype(), dtype);
        EXPECT_TRUE(made_by_fused_kernels(out));
        const auto wide = [](const Tensor& t) {
          return t.detach().to(g::kFloat32).requires_grad_();
        };
        const Tensor q32 = wide(q), k32 = wide(k), v32 = wide(v);
        g::manual_seed(5);
        const Tensor out32 = F::scaled_dot_product_attention(q32, k32, v32, {}, dropout, causal);
        EXPECT_TRUE(g::equal(out, out32.to(dtype)));
        const double tol = dtype == g::kBFloat16 ? 1e-2 : 2e-3;
        const auto grads = g::autograd::grad({out}, {q, k, v}, {.grad_outputs = {dout}});
        const auto grads32 =
            g::autograd::grad({out32}, {q32, k32, v32}, {.grad_outputs = {dout.to(g::kFloat32)}});
        for (size_t i = 0; i < 3; ++i) {
          EXPECT_EQ(grads[i].dtype(), dtype) << i;
          EXPECT_TRUE(g::allclose(grads[i].to(g::kFloat32), grads32[i], 4 * tol, 4 * tol)) << i;
        }
      }
    }
  }
}

TEST(ScaledDotProductAttention, FusedMemoryGrowsLinearlyInTheLength) {
  // One head of width 64 and 2048 positions: the math path's scores and weights alone are
  // 32 MB (its forward + backward peaks near 100 MB); the fused path's own buffers (output,
  // log-sum-exp, three gradients) are under 3 MB, plus a few 64 x 64 tiles. The bound leaves
  // room for AddressSanitizer, which holds freed memory back (about 11 MB here).
  const Tensor q = g::randn({1, 1, 2048, 64}).requires_grad_();
  const Tensor k = g::randn({1, 1, 2048, 64}).requires_grad_();
  const Tensor v = g::randn({1, 1, 2048, 64}).requires_grad_();
  const Tensor dout = g::randn({1, 1, 2048, 64});
  for (const double dropout : {0.0, 0.1}) {
    const auto growth = g::testing::peak_memory_growth(
        [&] { F::scaled_dot_product_attention(q, k, v, {}, dropout, true).backward(dout); });
    if (!growth) GTEST_SKIP() << "this system does not report peak memory";
    EXPECT_LT(*growth, 24 << 20) << "dropout " << dropout << ": peak memory grew by " << *growth
                                 << " bytes";
  }
}

TEST(ScaledDotProductAttention, DropoutOfEveryWeightLeavesZeros) {
  const Tensor q = g::randn({2, 3, 4}), k = g::randn({2, 3, 4}), v = g::randn({2, 3, 4});
  EXPECT_TRUE(g::equal(F::scaled_dot_product_attention(q, k, v, {}, 1.0), g::zeros({2, 3, 4})));
  g::manual_seed(7);
  const Tensor a = F::scaled_dot_product_attention(q, k, v, {}, 0.5);
  g::manual_seed(7);
  EXPECT_TRUE(g::equal(a, F::scaled_dot_product_attention(q, k, v, {}, 0.5)));
}

TEST(ScaledDotProductAttention, BadInputsAreClearErrors) {
  const Tensor q = g::randn({2, 3, 4}), k = g::randn({2, 5, 4}), v = g::randn({2, 5, 6});
  EXPECT_THAT(error_message([&] {
                F::scaled_dot_product_attention(q, g::randn({2, 5, 3}), v);
              }),
              HasSubstr("scaled_dot_product_attention(): query of shape (2, 3, 4) and key of "
                        "shape (2, 5, 3) must have the same last dim"));
  EXPECT_THAT(error_message([&] {
                F::scaled_dot_product_attention(q, k, g::randn({2, 4, 6}));
              }),
              HasSubstr("must have the same length (dim -2): one value per key"));
  EXPECT_THAT(error_message([&] {
                F::scaled_dot_product_attention(q, k, v, g::ones({3, 5}, g::kBool), 0.0, true);
              }),
              HasSubstr("an explicit attn_mask cannot be combined with is_causal = true"));
  EXPECT_THAT(error_message([&] { F::scaled_dot_product_attention(q, k, v, {}, 1.5); }),
              HasSubstr("dropout_p has to be between 0 and 1, but got 1.5"));
  EXPECT_THAT(error_message([&] {
                F::scaled_dot_product_attention(q, k, v, g::ones({3, 5}, g::kInt64));
              }),
              HasSubstr("expected attn_mask of dtype bool, float32 or the query's float32, but "
                        "got int64"));
  EXPECT_THAT(error_message([&] {
                F::scaled_dot_product_attention(q, k, v, g::zeros({3, 5}, g::kFloat64));
              }),
              HasSubstr("but got float64"));
  EXPECT_THAT(error_message([&] { F::scaled_dot_product_attention(g::ones({3}), k, v); }),
              HasSubstr("expected query of at least 2 dims"));
}

// A float32 additive mask next to 16-bit inputs, as PyTorch takes it: the mask in the inputs'
// dtype, the result theirs.
TEST(ScaledDotProductAttention, AFloat32MaskServesSixteenBitInputs) {
  const Tensor q = g::randn({2, 3, 4}), k = g::randn({2, 5, 4}), v = g::randn({2, 5, 6});
  const Tensor mask = g::randn({3, 5});
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    const Tensor out = F::scaled_dot_product_attention(q.to(dtype), k.to(dtype), v.to(dtype), mask);
    EXPECT_EQ(out.dtype(), dtype);
    const Tensor same =
        F::scaled_dot_product_attention(q.to(dtype), k.to(dtype), v.to(dtype), mask.to(dtype));
    EXPECT_TRUE(g::equal(out, same));
  }
}

TEST(MultiheadAttention, ParametersHavePyTorchNamesAndInit) {
  g::nn::MultiheadAttention attn(8, 2);
  std::vector<std::string> names;
  for (const auto& [name, p] : attn.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                             "out_proj.bias"}));
  EXPECT_EQ(attn.in_proj_weight.shape(), g::Shape({24, 8}));
  EXPECT_TRUE(g::equal(attn.in_proj_bias, g::zeros({24})));
  EXPECT_TRUE(g::equal(attn.out_proj->bias, g::zeros({8})));
  const double bound = std::sqrt(6.0 / (24 + 8));  // xavier_uniform over (3E, E)
  EXPECT_LE(attn.in_proj_weight.abs().max().item<double>(), bound);
  EXPECT_EQ(g::nn::MultiheadAttention(8, 2, 0.0, false).parameters().size(), 2u);
}

TEST(MultiheadAttention, ForwardIsProjectionsAroundAttentionPerHead) {
  g::manual_seed(3);
  const int64_t N = 2, L = 3, S = 4, E = 6, H = 2, D = 3;
  g::nn::MultiheadAttention attn(E, H);
  attn.to(g::kFloat64);
  const Tensor q = g::randn({N, L, E}, g::kFloat64), k = g::randn({N, S, E}, g::kFloat64);
  const Tensor v = g::randn({N, S, E}, g::kFloat64);
  const Tensor mask = g::rand({L, S}) > 0.2;
  const Tensor got = attn.forward(q, k, v, mask);
  ASSERT_EQ(got.shape(), g::Shape({N, L, E}));
  // By hand: each head h attends with rows h*D..h*D+D of each projection.
  const Tensor w = attn.in_proj_weight, b = attn.in_proj_bias;
  const auto project = [&](const Tensor& x, int64_t which) {
    return F::linear(x, w.narrow(0, which * E, E), b.narrow(0, which * E, E));
  };
  const Tensor pq = project(q, 0), pk = project(k, 1), pv = project(v, 2);
  std::vector<Tensor> heads;
  for (int64_t h = 0; h < H; ++h)
    heads.push_back(F::scaled_dot_product_attention(pq.narrow(2, h * D, D), pk.narrow(2, h * D, D),
                                                    pv.narrow(2, h * D, D), mask));
  const Tensor want = (*attn.out_proj)(g::cat(heads, 2));
  EXPECT_TRUE(g::allclose(got, want, 1e-12, 1e-12));
  // Self-attention is forward(x, x, x); an unbatched input drops the batch dim.
  EXPECT_TRUE(g::allclose(attn(q), attn.forward(q, q, q), 0, 0));
  EXPECT_TRUE(g::allclose(attn.forward(q[0], k[0], v[0], mask), got[0], 1e-12, 1e-12));
  // A (N * H, L, S) mask, PyTorch's 3-D form, is one mask per (batch, head).
  const Tensor per_head = mask.expand({N * H, L, S});
  EXPECT_TRUE(g::allclose(attn.forward(q, k, v, per_head), got, 1e-12, 1e-12));
}

TEST(MultiheadAttention, CausalSelfAttentionTrainsItsParameters) {
  g::nn::MultiheadAttention attn(4, 2);
  const Tensor x = g::randn({2, 5, 4});
  attn.forward(x, x, x, {}, true).square().sum().backward();
  for (const Tensor& p : attn.parameters()) ASSERT_TRUE(p.grad().defined());
  // Query 0 sees only itself, so perturbing the last position leaves its output alone.
  const Tensor y = attn.forward(x, x, x, {}, true);
  Tensor x2 = x.clone();
  x2.select(1, 4).fill_(3.0);
  EXPECT_TRUE(
      g::allclose(attn.forward(x2, x2, x2, {}, true).select(1, 0), y.select(1, 0), 1e-6, 1e-6));
}

// Self-attention (query, key and value one tensor) projects once and runs the fused kernels
// on the projection's thirds, their backward writing its gradient whole; cross-attention
// projects three times. Given one tensor and two copies of it, the two paths must agree:
// outputs, every gradient, and the dropout mask they draw from one seed.
TEST(MultiheadAttention, SelfAttentionsOneProjectionMatchesThreeProjections) {
  const int64_t N = 2, L = 5, E = 6, H = 2;
  for (const bool causal : {false, true}) {
    for (const double dropout : {0.0, 0.3}) {
      g::manual_seed(11);
      g::nn::MultiheadAttention attn(E, H, dropout);
      attn.to(g::kFloat64);
      g::nn::init::normal_(attn.in_proj_bias, 0.0, 0.5);  // zero biases would hide a mix-up
      const Tensor x = g::randn({N, L, E}, g::kFloat64).requires_grad_();
      const Tensor seen = g::randn({N, L, E}, g::kFloat64);  // weighs each output differently
      const auto run = [&](bool one_tensor) {
        attn.zero_grad();
        x.mutable_grad() = Tensor();
        const Tensor key = one_tensor ? x : x.clone(), value = one_tensor ? x : x.clone();
        g::manual_seed(5);
        const Tensor out = attn.forward(x, key, value, {}, causal);
        (out * seen).sum().backward();
        std::vector<Tensor> got{out.detach(), x.grad()};
        for (const Tensor& p : attn.parameters()) got.push_back(p.grad());
        return got;
      };
      const std::vector<Tensor> packed = run(true), separate = run(false);
      // One fused node over the one projection, and one over the three.
      for (const bool one_tensor : {true, false}) {
        const Tensor key = one_tensor ? x : x.clone();
        const auto node = fused_node(attn.forward(x, key, one_tensor ? x : key, {}, causal));
        ASSERT_NE(node, nullptr);
        EXPECT_EQ(node->next_edges().size(), one_tensor ? 1u : 3u);
      }
      ASSERT_EQ(packed.size(), separate.size());
      for (size_t i = 0; i < packed.size(); ++i)
        EXPECT_TRUE(g::allclose(packed[i], separate[i], 1e-12, 1e-12))
            << "causal " << causal << ", dropout " << dropout << ", tensor " << i;
    }
  }
}

TEST(MultiheadAttention, SelfAttentionGradientsMatchFiniteDifferences) {
  g::manual_seed(2);
  g::nn::MultiheadAttention attn(4, 2);
  attn.to(g::kFloat64);
  const Tensor x = g::randn({2, 3, 4}, g::kFloat64).requires_grad_();
  const auto self_attention = [&](const g::autograd::TensorList& in) {
    return attn.forward(in[0], in[0], in[0], {}, true);
  };
  // x's gradient is the projection's times the random weight: every third of it counts.
  EXPECT_TRUE(g::autograd::gradcheck(self_attention, {x}));
  EXPECT_TRUE(g::autograd::gradgradcheck(self_attention, {x}));
  // gradgradcheck differentiates the create_graph gradient, which it takes as given: that
  // gradient (the math path's formulas) must also be the fused kernels' one.
  const Tensor out = self_attention({x}), weights = g::randn(out.shape(), g::kFloat64);
  const Tensor fused =
      g::autograd::grad({out}, {x}, {.grad_outputs = {weights}, .retain_graph = true})[0];
  const Tensor recorded =
      g::autograd::grad({out}, {x}, {.grad_outputs = {weights}, .create_graph = true})[0];
  EXPECT_TRUE(recorded.requires_grad());
  EXPECT_TRUE(g::allclose(recorded, fused, 1e-12, 1e-12));
}

TEST(MultiheadAttention, BadShapesAreClearErrors) {
  EXPECT_THAT(error_message([] { g::nn::MultiheadAttention(10, 3); }),
              HasSubstr("MultiheadAttention: embed_dim (10) must be divisible by num_heads (3)"));
  g::nn::MultiheadAttention attn(4, 2);
  EXPECT_THAT(error_message([&] {
                attn(g::randn({2, 3, 5}));
              }),
              HasSubstr("expected query, key and value with embed_dim 4 features"));
  EXPECT_THAT(error_message([&] {
                attn.forward(g::randn({2, 3, 4}), g::randn({5, 4}), g::randn({5, 4}));
              }),
              HasSubstr("all batched (N, L, E) or all unbatched (L, E)"));
}

}  // namespace
