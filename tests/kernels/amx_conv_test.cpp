// The bfloat16 convolution on AMX tiles (kernels/cpu/amx_conv.h), through conv2d on bfloat16
// tensors, against the naive double-precision loops on the values bfloat16 holds: over input
// channels that fill the 32 a step takes, leave a partial step or an odd channel; output
// channels in whole and partial blocks of 32; images narrower and wider than a tile of 32 grid
// pixels; 1x1, 3x3, 5x5 and non-square kernels with symmetric and lopsided padding; batches
// larger and smaller than the threads (which cut an image's tiles among them); the same bits
// on any number of threads.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "graft/kernels/conv.h"
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

bool amx_runs() {
  return g::kernels::cpu::cpu_runs(g::kernels::cpu::PackedGemm::kAmxBFloat16);
}

}  // namespace

TEST(AmxConv2d, MatchesNaiveLoopsOnTheBFloat16Values) {
  if (!amx_runs()) GTEST_SKIP() << "this CPU (or OS) does not run AMX";
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.name);
    ASSERT_TRUE(g::kernels::cpu_conv2d_takes(g::kBFloat16, geometry_of(k)));
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

TEST(AmxConv2d, SameBitsWhateverTheThreads) {
  if (!amx_runs()) GTEST_SKIP() << "this CPU (or OS) does not run AMX";
  for (const Case& k : {kCases[0], kCases[6]}) {
    SCOPED_TRACE(k.name);
    const Inputs in = bfloat16_inputs(k);
    std::vector<Tensor> outs;
    for (const int threads : {1, 2, 3}) {
      const g::testing::SettingsScope scope(std::nullopt, threads);
      outs.push_back(g::conv2d(in.x, in.w, in.b, 1, k.padding));
    }
    EXPECT_TRUE(g::equal(outs[1], outs[0]));
    EXPECT_TRUE(g::equal(outs[2], outs[0]));
  }
}

TEST(AmxConv2d, TakesOnlyWhatItComputes) {
  if (!amx_runs()) GTEST_SKIP() << "this CPU (or OS) does not run AMX";
  g::kernels::Conv2dGeometry geometry = geometry_of(kCases[0]);
  EXPECT_TRUE(g::kernels::cpu_conv2d_takes(g::kBFloat16, geometry));
  EXPECT_FALSE(g::kernels::cpu_conv2d_takes(g::kFloat16, geometry));
  for (const auto change : {+[](g::kernels::Conv2dGeometry& c) { c.stride_w = 2; },
                            +[](g::kernels::Conv2dGeometry& c) { c.dilation_h = 2; },
                            +[](g::kernels::Conv2dGeometry& c) { c.groups = 2; },
                            +[](g::kernels::Conv2dGeometry& c) { c.in_channels = 15; }}) {
    g::kernels::Conv2dGeometry other = geometry;
    change(other);
    EXPECT_FALSE(g::kernels::cpu_conv2d_takes(g::kBFloat16, other));
  }
}
