// conv2d and conv2d_backward against a naive double-precision convolution and against
// central finite differences.
//
// The reference is the definition written as loops (kernels/naive_conv_pool.h). The table of cases
// walks every parameter (stride, padding, dilation, groups up to depthwise, bias, 1x1 and
// non-square kernels, batch sizes); the backward is checked against the slope of
// L = sum(conv2d(x, w, b) * r) for a random r, one element of x, w and b at a time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "graft/kernels/cpu/bfloat16_conv.h"
#include "graft/kernels/cpu/direct_conv.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "kernels/finite_difference.h"
#include "kernels/naive_conv_pool.h"
#include "peak_memory.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::IntPair;
using g::Shape;
using g::Tensor;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::numeric_gradient;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

struct Case {
  const char* name;
  int64_t n, c, h, w, out_channels, kh, kw;
  IntPair stride, padding, dilation;
  int64_t groups;
  bool bias;
};

const Case kCases[] = {
    {"plain 3x3", 1, 1, 5, 5, 1, 3, 3, 1, 0, 1, 1, false},
    {"padding 1 with bias", 3, 2, 6, 5, 4, 3, 3, 1, 1, 1, 1, true},
    {"padding 2", 1, 2, 4, 4, 3, 3, 3, 1, 2, 1, 1, true},
    {"stride 2", 3, 3, 7, 8, 2, 3, 3, 2, 1, 1, 1, true},
    {"dilation 2", 1, 2, 7, 7, 3, 3, 3, 1, 2, 2, 1, false},
    {"groups 2", 3, 4, 5, 6, 6, 3, 3, 1, 1, 1, 2, true},
    {"depthwise", 1, 3, 5, 5, 3, 3, 3, 1, 1, 1, 3, true},
    {"depthwise multiplier 2", 3, 3, 6, 5, 6, 3, 2, 2, 1, 1, 3, false},
    {"pointwise 1x1", 3, 4, 5, 3, 5, 1, 1, 1, 0, 1, 1, true},
    {"1x1 stride 2 padded", 1, 3, 5, 6, 2, 1, 1, 2, 1, 1, 1, false},
    {"non-square everything", 3, 2, 9, 7, 4, 3, 2, {2, 1}, {1, 0}, {1, 2}, 2, true},
    {"kernel fills the padded input", 1, 1, 3, 2, 2, 5, 4, 1, 1, 1, 1, true},
};

Shape x_shape(const Case& k) { return {k.n, k.c, k.h, k.w}; }
Shape w_shape(const Case& k) { return {k.out_channels, k.c / k.groups, k.kh, k.kw}; }

int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  return g::testing::window_out_size(in, kernel, stride, pad, dilation);
}

std::vector<double> naive_conv2d(const Case& k, const std::vector<double>& x,
                                 const std::vector<double>& w, const std::vector<double>& b) {
  return g::testing::naive_conv2d(x_shape(k), w_shape(k), k.stride, k.padding, k.dilation, k.groups,
                                  x, w, b);
}

void expect_near_values(const Tensor& got, const std::vector<double>& want, double tol,
                        const std::string& what) {
  const std::vector<double> values = got.to_vector<double>();
  ASSERT_EQ(values.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(values[i], want[i], tol * (1 + std::abs(want[i]))) << what << ", element " << i;
}

struct Inputs {
  std::vector<double> x, w, b;
  Tensor tx, tw, tb;
};

Inputs make_inputs(const Case& k, g::DType dtype) {
  Inputs in;
  in.x = sample_values(x_shape(k).numel(), -2, 2, 1);
  in.w = sample_values(w_shape(k).numel(), -1, 1, 2);
  if (k.bias) in.b = sample_values(k.out_channels, -1, 1, 3);
  in.tx = make_tensor(in.x, x_shape(k), dtype);
  in.tw = make_tensor(in.w, w_shape(k), dtype);
  if (k.bias) in.tb = make_tensor(in.b, {k.out_channels}, dtype);
  return in;
}

TEST(Conv2d, MatchesNaiveLoopsOverTheCaseTable) {
  for (const Case& k : kCases) {
    for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
      const Inputs in = make_inputs(k, dtype);
      const Tensor out = g::conv2d(in.tx, in.tw, in.tb, k.stride, k.padding, k.dilation, k.groups);
      EXPECT_EQ(out.dtype(), dtype);
      EXPECT_EQ(out.shape(), Shape({k.n, k.out_channels,
                                    out_size(k.h, k.kh, k.stride.h, k.padding.h, k.dilation.h),
                                    out_size(k.w, k.kw, k.stride.w, k.padding.w, k.dilation.w)}))
          << k.name;
      expect_near_values(out, naive_conv2d(k, in.x, in.w, in.b),
                         dtype == g::kFloat32 ? 1e-5 : 1e-12,
                         std::string(k.name) + " " + g::dtype_name(dtype));
    }
  }
}

TEST(Conv2d, FewerImagesThanThreadsShareEachImageAcrossTheThreads) {
  // A batch smaller than the team cuts each image's GEMM into column blocks (kernels/cpu/
  // conv.cpp): images large enough to be cut, with groups and a bias, on 1 and 3 threads.
  const Case cases[] = {
      {"one image", 1, 3, 40, 36, 8, 3, 3, 1, 1, 1, 1, true},
      {"two images, groups 2", 2, 4, 64, 60, 6, 3, 3, 1, 1, 1, 2, true},
  };
  for (const Case& k : cases) {
    const Inputs in = make_inputs(k, g::kFloat64);
    const std::vector<double> want = naive_conv2d(k, in.x, in.w, in.b);
    for (int threads : {1, 3}) {
      const g::testing::SettingsScope scope({}, threads);
      const Tensor out = g::conv2d(in.tx, in.tw, in.tb, k.stride, k.padding, k.dilation, k.groups);
      expect_near_values(out, want, 1e-12,
                         std::string(k.name) + ", threads " + std::to_string(threads));
    }
  }
}

// Stride-1 float32 convolutions wide enough for the direct path (kernels/cpu/direct_conv.h):
// whole 32-channel tiles and partial ones, "same" and "valid" padding, non-square kernels and
// dilation, groups, a one-row image, output rows of one tile and of several, pieces of every
// row count from 1 to 6 (AVX2's tiles), and batches above and below the thread count.
const Case kDirectCases[] = {
    {"same 3x3, 32 -> 32", 3, 32, 9, 11, 32, 3, 3, 1, 1, 1, 1, true},
    {"valid 3x3, 40 -> 40", 2, 40, 8, 7, 40, 3, 3, 1, 0, 1, 1, false},
    {"5x3 kernel, padding (2, 1), 33 -> 48", 3, 33, 7, 6, 48, 5, 3, 1, {2, 1}, 1, 1, true},
    {"dilation 2, groups 2, one image", 1, 64, 10, 10, 64, 3, 3, 1, 2, 2, 2, true},
    {"1x3 kernel over one row", 2, 32, 1, 20, 32, 1, 3, 1, {0, 1}, 1, 1, true},
    {"same 3x3 over 29 columns: rows in three tiles", 2, 32, 3, 29, 36, 3, 3, 1, 1, 1, 1, true},
    {"same 3x3 over 7 columns", 2, 32, 4, 7, 32, 3, 3, 1, 1, 1, 1, true},
    {"same 3x3 over 2 columns", 1, 32, 9, 2, 32, 3, 3, 1, 1, 1, 1, false},
    {"3x3 over one column, padding 1", 2, 32, 16, 1, 32, 3, 3, 1, 1, 1, 1, true},
};

// The kernels' description of case k.
g::kernels::Conv2dGeometry geometry_of(const Case& k) {
  g::kernels::Conv2dGeometry geometry;
  geometry.batch = k.n, geometry.in_channels = k.c, geometry.in_h = k.h, geometry.in_w = k.w;
  geometry.out_channels = k.out_channels, geometry.kernel_h = k.kh, geometry.kernel_w = k.kw;
  geometry.out_h = out_size(k.h, k.kh, k.stride.h, k.padding.h, k.dilation.h);
  geometry.out_w = out_size(k.w, k.kw, k.stride.w, k.padding.w, k.dilation.w);
  geometry.stride_h = k.stride.h, geometry.stride_w = k.stride.w;
  geometry.pad_h = k.padding.h, geometry.pad_w = k.padding.w;
  geometry.dilation_h = k.dilation.h, geometry.dilation_w = k.dilation.w;
  geometry.groups = k.groups;
  return geometry;
}

TEST(Conv2d, DirectPathMatchesNaiveLoopsAndFloat64Gradients) {
  namespace cpu = g::kernels::cpu;
  // The direct path serves every x86-64-v3 CPU (AVX2's tiles without AVX-512, or under
  // GRAFT_CPU_CAPABILITY=avx2); builds for other targets take the im2col path.
  const bool direct = cpu::best_packed_gemm(g::kFloat32) != cpu::PackedGemm::kNone;
  for (const Case& k : kDirectCases) {
    if (direct) {
      // The cases must reach the path they test, for all three products.
      using Product = cpu::DirectConv::Product;
      for (Product product : {Product::kOutput, Product::kGradInput, Product::kGradWeight})
        EXPECT_TRUE(cpu::DirectConv::serves(geometry_of(k), product)) << k.name;
    }
    const Inputs in = make_inputs(k, g::kFloat32), in64 = make_inputs(k, g::kFloat64);
    const auto conv = [&](const Inputs& i) {
      return g::conv2d(i.tx, i.tw, i.tb, k.stride, k.padding, k.dilation, k.groups);
    };
    const Tensor out = conv(in);
    // A float32 sum of K products drifts by about K units of rounding of a term (its partial
    // sums grow as sqrt(K), each step's error with them): 1e-7 K is some three times what a
    // plain GEMM's sums reach over these terms (495 of them, with the 5x3 kernel).
    const int64_t terms = k.c / k.groups * k.kh * k.kw;
    expect_near_values(out, naive_conv2d(k, in.x, in.w, in.b), 1e-7 * static_cast<double>(terms),
                       k.name);
    if (direct) {
      // The direct path's bits do not depend on the threads (im2col's GEMM blocks its columns
      // by them, as settings.h allows unless deterministic algorithms are on).
      const g::testing::SettingsScope scope({}, 3);
      EXPECT_TRUE(g::equal(conv(in), out)) << k.name;
    }
    const Tensor r = make_tensor(sample_values(out.numel(), -1, 1, 4), out.shape(), g::kFloat64);
    const auto want = g::conv2d_backward(r, in64.tx, in64.tw, k.stride, k.padding, k.dilation,
                                         k.groups, {true, true, k.bias});
    const auto got = g::conv2d_backward(r.to(g::kFloat32), in.tx, in.tw, k.stride, k.padding,
                                        k.dilation, k.groups, {true, true, k.bias});
    EXPECT_TRUE(g::allclose(std::get<0>(got).to(g::kFloat64), std::get<0>(want), 1e-5, 1e-5))
        << k.name << " grad_x";
    EXPECT_TRUE(g::allclose(std::get<1>(got).to(g::kFloat64), std::get<1>(want), 1e-5, 1e-5))
        << k.name << " grad_w";
  }
}

// float16 and bfloat16 convolutions compute in float32 an image at a time (kernels/cpu/conv.cpp):
// the forward and each gradient are the float32 convolution's of the widened operands, rounded
// once, to the bit; over the case table and the direct path's cases. (bfloat16 computes on AMX
// or AVX512-BF16 where they take the geometry: bfloat16_conv_test.cpp.)
TEST(Conv2d, SixteenBitIsTheFloat32ConvolutionOfTheWidenedOperandsRoundedOnce) {
  namespace cpu = g::kernels::cpu;
  std::vector<Case> cases(std::begin(kCases), std::end(kCases));
  cases.insert(cases.end(), std::begin(kDirectCases), std::end(kDirectCases));
  const auto widened = [](const Tensor& t) { return t.defined() ? t.to(g::kFloat32) : t; };
  for (const Case& k : cases) {
    for (g::DType dtype : {g::kFloat16, g::kBFloat16}) {
      const std::string what = std::string(k.name) + " " + g::dtype_name(dtype);
      const bool own_kernel = dtype == g::kBFloat16;
      const Inputs in = make_inputs(k, dtype);
      const Tensor want = g::conv2d(widened(in.tx), widened(in.tw), widened(in.tb), k.stride,
                                    k.padding, k.dilation, k.groups);
      if (!(own_kernel && cpu::bfloat16_conv2d_takes(geometry_of(k)))) {
        const Tensor out =
            g::conv2d(in.tx, in.tw, in.tb, k.stride, k.padding, k.dilation, k.groups);
        EXPECT_EQ(out.dtype(), dtype) << what;
        EXPECT_TRUE(g::equal(out, want.to(dtype))) << what;
      }
      if (own_kernel && cpu::bfloat16_conv2d_backward_takes(geometry_of(k))) continue;
      const Tensor r = make_tensor(sample_values(want.numel(), -1, 1, 4), want.shape(), dtype);
      const std::array<bool, 3> mask = {true, true, k.bias};
      const auto [dx, dw, db] =
          g::conv2d_backward(r, in.tx, in.tw, k.stride, k.padding, k.dilation, k.groups, mask);
      const auto [want_dx, want_dw, want_db] =
          g::conv2d_backward(widened(r), widened(in.tx), widened(in.tw), k.stride, k.padding,
                             k.dilation, k.groups, mask);
      EXPECT_TRUE(g::equal(dx, want_dx.to(dtype))) << what << " grad_x";
      EXPECT_TRUE(g::equal(dw, want_dw.to(dtype))) << what << " grad_w";
      if (k.bias) {
        EXPECT_TRUE(g::equal(db, want_db.to(dtype))) << what << " grad_b";
      }
    }
  }
}

TEST(Conv2d, SixteenBitHoldsNoFloat32CopyOfItsTensors) {
  // 32 float16 images of (32, 64, 64): 8 MB, 16 MB as float32, and an output as large.
  // Widened whole, as the op layer did before, input and output took 32 MB beside the 8 of
  // the result; an image at a time, each thread's buffers hold about 2 MB.
  const Tensor x = g::randn({32, 32, 64, 64}).to(g::kFloat16);
  const Tensor w = (g::randn({32, 32, 3, 3}) * 0.1).to(g::kFloat16);
#if defined(__SANITIZE_ADDRESS__)
  // Where the direct path does not serve, the convolution runs im2col and Eigen's GEMM, which
  // allocates its packing space at each call: AddressSanitizer's quarantine keeps every freed
  // block resident, and its shadow adds to the rest (75 MB of peak here, 25 without the
  // quarantine), so the resident peak is not the program's.
  const Case k = {"", 32, 32, 64, 64, 32, 3, 3, 1, 1, 1, 1, false};
  if (!g::kernels::cpu::DirectConv::serves(geometry_of(k),
                                           g::kernels::cpu::DirectConv::Product::kOutput))
    GTEST_SKIP() << "AddressSanitizer's quarantine holds the GEMM's freed buffers";
#endif
  const auto growth = g::testing::peak_memory_growth([&] { g::conv2d(x, w, {}, 1, 1); });
  if (!growth) GTEST_SKIP() << "this system does not report peak memory";
  EXPECT_LT(*growth, 20 << 20) << "peak memory grew by " << *growth << " bytes";
}

TEST(Conv2d, UnbatchedInputGivesTheBatchedResultWithoutTheBatchDim) {
  const Case& k = kCases[3];  // stride 2, padding 1, bias
  const Inputs in = make_inputs(k, g::kFloat64);
  const Tensor out = g::conv2d(in.tx.select(0, 1), in.tw, in.tb, k.stride, k.padding);
  const Tensor want = g::conv2d(in.tx, in.tw, in.tb, k.stride, k.padding).select(0, 1);
  EXPECT_EQ(out.shape(), want.shape());
  EXPECT_TRUE(g::equal(out, want));
}

TEST(Conv2d, ReadsTransposedAndSlicedOperands) {
  const Case& k = kCases[10];  // non-square everything, groups 2
  const Inputs in = make_inputs(k, g::kFloat64);
  const std::vector<double> want = naive_conv2d(k, in.x, in.w, in.b);
  // x stored as (N, C, W, H) and transposed back; the weight as a slice of a wider tensor.
  const Tensor x_t = in.tx.transpose(2, 3).contiguous().transpose(2, 3);
  const Tensor wide = g::zeros({k.out_channels, 3, k.kh + 1, k.kw}, g::kFloat64);
  const Tensor w_s = wide.narrow(1, 1, 1).narrow(2, 1, k.kh);
  w_s.copy_(in.tw);
  ASSERT_FALSE(x_t.is_contiguous());
  ASSERT_FALSE(w_s.is_contiguous());
  expect_near_values(g::conv2d(x_t, w_s, in.tb, k.stride, k.padding, k.dilation, k.groups), want,
                     1e-12, "transposed x, sliced weight");
}

TEST(Conv2d, EmptyBatchGivesAnEmptyOutputAndZeroWeightGradients) {
  const Tensor x = g::zeros({0, 2, 5, 5}, g::kFloat32), w = g::ones({3, 2, 3, 3}, g::kFloat32);
  const Tensor b = g::ones({3}, g::kFloat32);
  const Tensor out = g::conv2d(x, w, b, 1, 1);
  EXPECT_EQ(out.shape(), Shape({0, 3, 5, 5}));
  const auto [dx, dw, db] = g::conv2d_backward(out, x, w, 1, 1, 1, 1);
  EXPECT_EQ(dx.shape(), x.shape());
  EXPECT_TRUE(g::equal(dw, g::zeros(w.shape())));
  EXPECT_TRUE(g::equal(db, g::zeros({3})));
}

TEST(Conv2dBackward, MatchesFiniteDifferencesOverTheCaseTable) {
  for (const Case& k : kCases) {
    const Inputs in = make_inputs(k, g::kFloat64);
    const auto conv = [&] {
      return g::conv2d(in.tx, in.tw, in.tb, k.stride, k.padding, k.dilation, k.groups);
    };
    // L = sum(conv2d(x, w, b) * r): dL/d(output) = r.
    const Tensor r = make_tensor(sample_values(conv().numel(), -1, 1, 4), conv().shape());
    const auto loss = [&] { return g::sum(conv() * r).item<double>(); };
    const auto [dx, dw, db] = g::conv2d_backward(r, in.tx, in.tw, k.stride, k.padding, k.dilation,
                                                 k.groups, {true, true, k.bias});
    expect_near_values(dx, numeric_gradient(in.tx, loss), 1e-6, std::string(k.name) + " grad_x");
    expect_near_values(dw, numeric_gradient(in.tw, loss), 1e-6, std::string(k.name) + " grad_w");
    if (k.bias)
      expect_near_values(db, numeric_gradient(in.tb, loss), 1e-6, std::string(k.name) + " grad_b");
    else
      EXPECT_FALSE(db.defined());
  }
}

TEST(Conv2dBackward, Float32AgreesWithFloat64) {
  const Case& k = kCases[5];  // groups 2, bias
  const Inputs in64 = make_inputs(k, g::kFloat64), in32 = make_inputs(k, g::kFloat32);
  const Tensor r = g::conv2d(in64.tx, in64.tw, {}, k.stride, k.padding, 1, k.groups);
  const auto [dx, dw, db] =
      g::conv2d_backward(r, in64.tx, in64.tw, k.stride, k.padding, 1, k.groups);
  const auto [dx32, dw32, db32] =
      g::conv2d_backward(r.to(g::kFloat32), in32.tx, in32.tw, k.stride, k.padding, 1, k.groups);
  EXPECT_EQ(dx32.dtype(), g::kFloat32);
  EXPECT_TRUE(g::allclose(dx32.to(g::kFloat64), dx, 1e-5, 1e-5));
  EXPECT_TRUE(g::allclose(dw32.to(g::kFloat64), dw, 1e-5, 1e-5));
  EXPECT_TRUE(g::allclose(db32.to(g::kFloat64), db, 1e-5, 1e-5));
}

// A first layer's weight gradient, (8, 1 x 3 x 3): its 9 columns too few for the GEMM's tiles,
// so each image's product is added onto its chunk's sum by other code (the dot products, on
// AVX-512); 24 images make several a chunk on one thread or two.
TEST(Conv2dBackward, Float32NarrowWeightGradientAddsUpEveryImageOfAChunk) {
  const Case k{"first layer", 24, 1, 10, 10, 8, 3, 3, 1, 1, 1, 1, true};
  const Inputs in64 = make_inputs(k, g::kFloat64), in32 = make_inputs(k, g::kFloat32);
  const Tensor r = g::conv2d(in64.tx, in64.tw, {}, k.stride, k.padding);
  const auto [dx, dw, db] = g::conv2d_backward(r, in64.tx, in64.tw, k.stride, k.padding, 1, 1);
  for (const int threads : {1, 2}) {
    const g::testing::SettingsScope scope(std::nullopt, threads);
    const auto [dx32, dw32, db32] =
        g::conv2d_backward(r.to(g::kFloat32), in32.tx, in32.tw, k.stride, k.padding, 1, 1);
    EXPECT_TRUE(g::allclose(dw32.to(g::kFloat64), dw, 1e-5, 1e-4)) << threads << " threads";
    EXPECT_TRUE(g::allclose(db32.to(g::kFloat64), db, 1e-5, 1e-4)) << threads << " threads";
  }
}

TEST(Conv2dBackward, ComputesOnlyTheMaskedGradientsAndAcceptsUnbatchedOrStridedGrads) {
  const Case& k = kCases[1];  // padding 1, bias
  const Inputs in = make_inputs(k, g::kFloat64);
  const Tensor out = g::conv2d(in.tx, in.tw, in.tb, 1, 1);
  const auto [dx, dw, db] = g::conv2d_backward(out, in.tx, in.tw, 1, 1, 1, 1);
  const auto [only_dx, no_dw, no_db] =
      g::conv2d_backward(out, in.tx, in.tw, 1, 1, 1, 1, {true, false, false});
  EXPECT_TRUE(g::equal(only_dx, dx));
  EXPECT_FALSE(no_dw.defined());
  EXPECT_FALSE(no_db.defined());

  // Unbatched: the gradients of image 0 alone (grad_x) and its share of the sums.
  const Tensor dy0 = out.select(0, 0).transpose(1, 2).contiguous().transpose(1, 2);
  const auto [dx0, dw0, db0] = g::conv2d_backward(dy0, in.tx.select(0, 0), in.tw, 1, 1, 1, 1);
  EXPECT_TRUE(g::allclose(dx0, dx.select(0, 0), 1e-12, 1e-12));
  const auto [dw_single, db_single] = [&] {
    const auto grads = g::conv2d_backward(out.narrow(0, 0, 1), in.tx.narrow(0, 0, 1), in.tw, 1, 1,
                                          1, 1, {false, true, true});
    return std::make_pair(std::get<1>(grads), std::get<2>(grads));
  }();
  EXPECT_TRUE(g::allclose(dw0, dw_single, 1e-12, 1e-12));
  EXPECT_TRUE(g::allclose(db0, db_single, 1e-12, 1e-12));
}

TEST(Conv2d, RejectsBadInputsWithMessagesThatNameTheShapes) {
  const Tensor x = g::zeros({2, 3, 5, 5}), w = g::zeros({4, 3, 3, 3});
  EXPECT_THAT(error_message([&] {
                g::conv2d(x, g::zeros({4, 2, 3, 3}));
              }),
              HasSubstr("conv2d(): given groups=1, weight of shape (4, 2, 3, 3) expects input of "
                        "shape (2, 3, 5, 5) to have 2 channels (weight's dim 1 x groups), but got "
                        "3 channels instead"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(g::zeros({1, 4, 5, 5}), w, {}, 1, 0, 1, 2);
              }),
              HasSubstr("expects input of shape (1, 4, 5, 5) to have 6 channels"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(x, g::zeros({5, 1, 3, 3}), {}, 1, 0, 1, 3);
              }),
              HasSubstr("out_channels (5, weight's dim 0) must be divisible by groups=3"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(g::zeros({1, 3, 2, 2}), w);
              }),
              HasSubstr("conv2d(): the padded input (2 x 2 per channel, from input of shape (1, "
                        "3, 2, 2) and padding=(0, 0)) is smaller than the dilated kernel (3 x 3"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(x, w, {}, 1, 0, {2, 3});
              }),
              HasSubstr("smaller than the dilated kernel (5 x 7"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(x, w, {}, {0, 1});
              }),
              HasSubstr("conv2d(): stride must be positive, but got stride=(0, 1)"));
  EXPECT_THAT(error_message([&] { g::conv2d(x, w, {}, 1, 0, -1); }),
              HasSubstr("conv2d(): dilation must be positive, but got dilation=(-1, -1)"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(x, w, {}, 1, {0, -1});
              }),
              HasSubstr("conv2d(): padding must be non-negative, but got padding=(0, -1)"));
  EXPECT_THAT(error_message([&] { g::conv2d(x, w, {}, 1, 0, 1, 0); }),
              HasSubstr("conv2d(): groups must be positive, but got groups=0"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(g::zeros({5, 5}), w);
              }),
              HasSubstr("conv2d(): expected a 3-D (unbatched C, H, W) or 4-D (batched N, C, H, W) "
                        "input, but got input of shape (5, 5)"));
  EXPECT_THAT(error_message([&] {
                g::conv2d(x, g::zeros({4, 3, 3}));
              }),
              HasSubstr("expected a 4-D weight (out_channels, in_channels / groups, kernel_h, "
                        "kernel_w), but got weight of shape (4, 3, 3)"));
  EXPECT_THAT(error_message([&] { g::conv2d(x, w.to(g::kFloat64)); }),
              HasSubstr("conv2d(): expected input, weight and bias to have the same dtype, but "
                        "got input float32, weight float64"));
  EXPECT_THAT(error_message([&] { g::conv2d(x, w, g::zeros({4}, g::kFloat64)); }),
              HasSubstr("but got input float32, weight float32, bias float64"));
  EXPECT_THAT(error_message([&] { g::conv2d(x.to(g::kInt64), w.to(g::kInt64)); }),
              HasSubstr("conv2d(): expected a floating-point input, but got input of dtype int64"));
  EXPECT_THAT(error_message([&] { g::conv2d(x, w, g::zeros({3})); }),
              HasSubstr("conv2d(): expected bias of shape (4,) (one value per output channel), "
                        "but got bias of shape (3,)"));
  EXPECT_THAT(error_message([&] {
                g::conv2d_backward(g::zeros({2, 4, 5, 5}), x, w, 1, 0, 1, 1);
              }),
              HasSubstr("conv2d_backward(): expected grad_out of shape (2, 4, 3, 3) and dtype "
                        "float32 (conv2d's output for input of shape (2, 3, 5, 5) and weight of "
                        "shape (4, 3, 3, 3)), but got shape (2, 4, 5, 5) and dtype float32"));
}

}  // namespace
