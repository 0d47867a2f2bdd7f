// The bfloat16 convolution on AMX tiles or AVX512-BF16 (kernels/cpu/bfloat16_conv.h; the CPU
// picks the engine: AMX where it has it), through conv2d on bfloat16
// tensors, against the naive double-precision loops on the values bfloat16 holds: input
// channels that fill the 32 a step takes, leave a partial step or an odd channel; output
// channels in whole and partial blocks of 32; images narrower and wider than a tile of 32 grid
// pixels; 1x1, 3x3, 5x5 and non-square kernels with symmetric and lopsided padding; batches
// larger and smaller than the threads (which cut an image's tiles among them); the same bits
// on any number of threads. The gradients likewise (bfloat16_conv_backward.cpp), where it takes
// them: the weight's summed over chunks of the images (of four, or fewer where the jobs are too
// few, as for a pointwise product).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "graft/kernels/conv.h"
#include "graft/kernels/cpu/bfloat16_conv.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "kernels/naive_conv_pool.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::IntPair;
using g::Shape;
using g::Tensor;

namespace {

struct Case {
  const char* name;
  int64_t n, c, h, w, out_channels, kh, kw;
  IntPair padding;
  bool bias;
};

const Case kCases[] = {
    {"the CNN's second convolution", 3, 32, 14, 14, 64, 3, 3, 1, true},
    {"odd channels, a partial output block", 2, 17, 5, 7, 33, 3, 3, 1, true},
    {"two steps, the second partial; wide rows", 2, 48, 9, 40, 16, 5, 5, 2, false},
    {"1x1", 3, 16, 6, 6, 40, 1, 1, 0, true},
    {"lopsided padding, a 2x3 kernel, one image", 1, 20, 7, 5, 5, 2, 3, {2, 0}, true},
    {"the kernel fills the padded input", 2, 16, 3, 2, 3, 5, 4, 1, true},
    {"one large image cut among the threads", 1, 16, 30, 30, 8, 3, 3, 1, false},
    {"lopsided padding, 20 output channels", 2, 16, 7, 9, 20, 2, 3, {1, 0}, true},
    {"channels in two whole steps", 2, 64, 6, 7, 32, 3, 3, 1, true},
    {"1x1 over a step and a partial one", 2, 40, 5, 6, 17, 1, 1, 0, false},
    {"a pointwise product of 32 channels: its weight gradient cut by images", 5, 32, 4, 5, 32, 1, 1,
     0, true},
    {"the weight gradient over chunks of four images, the last partial", 9, 32, 6, 5, 48, 3, 3, 1,
     true},
};

g::kernels::Conv2dGeometry geometry_of(const Case& k) {
  g::kernels::Conv2dGeometry geometry;
  geometry.batch = k.n;
  geometry.in_channels = k.c;
  geometry.in_h = k.h;
  geometry.in_w = k.w;
  geometry.out_channels = k.out_channels;
  geometry.kernel_h = k.kh;
  geometry.kernel_w = k.kw;
  geometry.pad_h = k.padding.h;
  geometry.pad_w = k.padding.w;
  geometry.out_h = k.h + 2 * k.padding.h - k.kh + 1;
  geometry.out_w = k.w + 2 * k.padding.w - k.kw + 1;
  return geometry;
}

struct Inputs {
  Tensor x, w, b;
};

Inputs bfloat16_inputs(const Case& k) {
  const Shape xs{k.n, k.c, k.h, k.w}, ws{k.out_channels, k.c, k.kh, k.kw};
  Inputs in;
  in.x = g::testing::make_tensor(g::testing::sample_values(xs.numel(), -2, 2, 1), xs, g::kBFloat16);
  in.w = g::testing::make_tensor(g::testing::sample_values(ws.numel(), -1, 1, 2), ws, g::kBFloat16);
  if (k.bias)
    in.b = g::testing::make_tensor(g::testing::sample_values(k.out_channels, -1, 1, 3),
                                   {k.out_channels}, g::kBFloat16);
  return in;
}

// The gradients of conv2d (stride 1, one group) by the definition, in double, from values
// as bfloat16 holds them, and for each element the sum of its terms' magnitudes (what the
// float32 sums' rounding scales with).
struct Gradients {
  std::vector<double> dx, dw, db, dx_scale, dw_scale;
};

Gradients naive_gradients(const Case& k, const std::vector<double>& x, const std::vector<double>& w,
                          const std::vector<double>& dy) {
  const int64_t oh_n = k.h + 2 * k.padding.h - k.kh + 1, ow_n = k.w + 2 * k.padding.w - k.kw + 1;
  Gradients r;
  r.dx.assign(x.size(), 0);
  r.dx_scale.assign(x.size(), 0);
  r.dw.assign(w.size(), 0);
  r.dw_scale.assign(w.size(), 0);
  r.db.assign(k.out_channels, 0);
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t o = 0; o < k.out_channels; ++o)
      for (int64_t oy = 0; oy < oh_n; ++oy)
        for (int64_t ox = 0; ox < ow_n; ++ox) {
          const double g = dy[((n * k.out_channels + o) * oh_n + oy) * ow_n + ox];
          r.db[o] += g;
          for (int64_t c = 0; c < k.c; ++c)
            for (int64_t i = 0; i < k.kh; ++i)
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t y = oy - k.padding.h + i, xx = ox - k.padding.w + j;
                if (y < 0 || y >= k.h || xx < 0 || xx >= k.w) continue;
                const int64_t xi = ((n * k.c + c) * k.h + y) * k.w + xx;
                const int64_t wi = ((o * k.c + c) * k.kh + i) * k.kw + j;
                r.dx[xi] += w[wi] * g;
                r.dx_scale[xi] += std::abs(w[wi] * g);
                r.dw[wi] += x[xi] * g;
                r.dw_scale[wi] += std::abs(x[xi] * g);
              }
        }
  return r;
}

// got within a bfloat16 rounding of want, and float32's rounding of the terms' magnitudes.
void expect_gradient(const Tensor& got, const std::vector<double>& want,
                     const std::vector<double>& scale, const std::string& what) {
  const std::vector<double> values = got.to_vector<double>();
  ASSERT_EQ(values.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(values[i], want[i], std::abs(want[i]) / 256 + 1e-5 * scale[i] + 1e-6)
        << what << ", element " << i;
}

bool engine_runs() {
  namespace cpu = g::kernels::cpu;
  return cpu::cpu_runs(cpu::PackedGemm::kAmxBFloat16) ||
         cpu::cpu_runs(cpu::PackedGemm::kAvx512BFloat16);
}

}  // namespace

TEST(BFloat16Conv2d, MatchesNaiveLoopsOnTheBFloat16Values) {
  if (!engine_runs()) GTEST_SKIP() << "this CPU (or OS) runs neither AMX nor AVX512-BF16";
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.name);
    ASSERT_TRUE(g::kernels::cpu::bfloat16_conv2d_takes(geometry_of(k)));
    const Inputs in = bfloat16_inputs(k);
    const Tensor out = g::conv2d(in.x, in.w, in.b, 1, k.padding);
    ASSERT_EQ(out.dtype(), g::kBFloat16);
    const Shape xs = in.x.shape(), ws = in.w.shape();
    const std::vector<double> want = g::testing::naive_conv2d(
        xs, ws, 1, k.padding, 1, 1, in.x.to_vector<double>(), in.w.to_vector<double>(),
        k.bias ? in.b.to_vector<double>() : std::vector<double>{});
    const std::vector<double> got = out.to_vector<double>();
    ASSERT_EQ(got.size(), want.size());
    // Sums in float32, rounded once to bfloat16: within half a bfloat16 step of the value, and
    // a little for the float sums' own rounding.
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], std::abs(want[i]) / 256 + 1e-4) << "element " << i;
  }
}

TEST(BFloat16Conv2d, GradientsMatchNaiveLoopsOnTheBFloat16Values) {
  if (!engine_runs()) GTEST_SKIP() << "this CPU (or OS) runs neither AMX nor AVX512-BF16";
  int checked = 0;
  for (const Case& k : kCases) {
    if (!g::kernels::cpu::bfloat16_conv2d_backward_takes(geometry_of(k))) continue;
    SCOPED_TRACE(k.name);
    ++checked;
    const Inputs in = bfloat16_inputs(k);
    const Tensor x = in.x.detach().requires_grad_(), w = in.w.detach().requires_grad_();
    const Tensor b = k.bias ? in.b.detach().requires_grad_() : Tensor();
    const Tensor out = g::conv2d(x, w, b, 1, k.padding);
    const Tensor dy = g::testing::make_tensor(g::testing::sample_values(out.numel(), -1, 1, 4),
                                              out.shape(), g::kBFloat16);
    out.backward(dy);
    const Gradients want = naive_gradients(k, in.x.to_vector<double>(), in.w.to_vector<double>(),
                                           dy.to_vector<double>());
    ASSERT_EQ(x.grad().dtype(), g::kBFloat16);
    expect_gradient(x.grad(), want.dx, want.dx_scale, "input gradient");
    expect_gradient(w.grad(), want.dw, want.dw_scale, "weight gradient");
    if (k.bias) {
      // Each image's sum in float: within its rounding and bfloat16's.
      const std::vector<double> scale(want.db.size(), static_cast<double>(out.numel()));
      expect_gradient(b.grad(), want.db, scale, "bias gradient");
    }
  }
  // Every case with 16 output channels or more, and padding below the kernel's size.
  EXPECT_EQ(checked, std::count_if(std::begin(kCases), std::end(kCases), [](const Case& k) {
              return k.out_channels >= 16 && k.padding.h < k.kh && k.padding.w < k.kw;
            }));
}

TEST(BFloat16Conv2d, EmptyBatchGivesZeroWeightAndBiasGradients) {
  if (!engine_runs()) GTEST_SKIP() << "this CPU (or OS) runs neither AMX nor AVX512-BF16";
  const Tensor x = g::zeros({0, 16, 5, 5}, g::kBFloat16).requires_grad_();
  const Tensor w = g::ones({16, 16, 3, 3}, g::kBFloat16).requires_grad_();
  const Tensor b = g::ones({16}, g::kBFloat16).requires_grad_();
  g::conv2d(x, w, b, 1, 1).sum().backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_TRUE(g::equal(w.grad(), g::zeros_like(w)));
  EXPECT_TRUE(g::equal(b.grad(), g::zeros_like(b)));
}

TEST(BFloat16Conv2d, SameBitsWhateverTheThreads) {
  if (!engine_runs()) GTEST_SKIP() << "this CPU (or OS) runs neither AMX nor AVX512-BF16";
  // kCases[10] and [11]: images cut into chunks.
  for (const Case& k : {kCases[0], kCases[6], kCases[10], kCases[11]}) {
    SCOPED_TRACE(k.name);
    const Inputs in = bfloat16_inputs(k);
    std::vector<Tensor> outs;
    for (const int threads : {1, 2, 3}) {
      const g::testing::SettingsScope scope(std::nullopt, threads);
      const Tensor x = in.x.detach().requires_grad_(), w = in.w.detach().requires_grad_();
      const Tensor out = g::conv2d(x, w, in.b, 1, k.padding);
      out.backward(g::ones_like(out));
      outs.insert(outs.end(), {out.detach(), x.grad(), w.grad()});
    }
    for (size_t i = 3; i < outs.size(); ++i) EXPECT_TRUE(g::equal(outs[i], outs[i % 3])) << i;
  }
}

TEST(BFloat16Conv2d, TakesOnlyWhatItComputes) {
  if (!engine_runs()) GTEST_SKIP() << "this CPU (or OS) runs neither AMX nor AVX512-BF16";
  g::kernels::Conv2dGeometry geometry = geometry_of(kCases[0]);
  EXPECT_TRUE(g::kernels::cpu::bfloat16_conv2d_takes(geometry));
  for (const auto change : {+[](g::kernels::Conv2dGeometry& c) { c.stride_w = 2; },
                            +[](g::kernels::Conv2dGeometry& c) { c.dilation_h = 2; },
                            +[](g::kernels::Conv2dGeometry& c) { c.groups = 2; },
                            +[](g::kernels::Conv2dGeometry& c) { c.in_channels = 15; }}) {
    g::kernels::Conv2dGeometry other = geometry;
    change(other);
    EXPECT_FALSE(g::kernels::cpu::bfloat16_conv2d_takes(other));
    EXPECT_FALSE(g::kernels::cpu::bfloat16_conv2d_backward_takes(other));
  }
  // The backward also needs 16 output channels, and padding below the kernel's size.
  EXPECT_TRUE(g::kernels::cpu::bfloat16_conv2d_backward_takes(geometry));
  for (const auto change : {+[](g::kernels::Conv2dGeometry& c) { c.out_channels = 15; },
                            +[](g::kernels::Conv2dGeometry& c) { c.pad_w = 3; }}) {
    g::kernels::Conv2dGeometry other = geometry;
    change(other);
    EXPECT_TRUE(g::kernels::cpu::bfloat16_conv2d_takes(other));
    EXPECT_FALSE(g::kernels::cpu::bfloat16_conv2d_backward_takes(other));
  }
}
