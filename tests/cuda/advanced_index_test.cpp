// CUDA advanced indexing and nonzero (kernels/cuda/index.cu) against their CPU twins.
//
// nonzero is a three-launch compaction over tiles of 2048 flags: sizes around a tile (1,
// 2047, 2048, 2049) and past many tiles (1000003), every dtype, contiguous and transposed,
// all true and all false, must give the CPU's rows exactly, into memory left full of 0xFF.
// index and index_put_ run on the gather and scatter kernels with offsets for all the
// indexed dims at once: values must match the CPU's exactly (accumulate: to rounding, since
// atomics add in any order; exactly, and the CPU's last write among repeats, under
// use_deterministic_algorithms(true)). Bad index values give the CPU's message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "cuda/cuda_test_util.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::Ellipsis;
using g::Shape;
using g::Slice;
using g::Tensor;
using g::testing::error_message;
using g::testing::expect_matches_cpu;
using g::testing::poison_cuda_cache;
using ::testing::HasSubstr;

namespace {

const g::Device kCuda = g::Device::cuda();

// A (rows, cols) tensor of `dtype` with about a `density` of nonzero elements.
Tensor sparse(int64_t rows, int64_t cols, double density, g::DType dtype) {
  return ((g::rand({rows, cols}) < density) * g::randint(1, 100, {rows, cols})).to(dtype);
}

}  // namespace

TEST(CudaNonzero, MatchesTheCpuAroundAndAcrossTiles) {
  GRAFT_REQUIRE_CUDA();
  for (const int64_t n :
       {int64_t{1}, int64_t{2047}, int64_t{2048}, int64_t{2049}, int64_t{1000003}})
    for (const double density : {0.0, 0.3, 1.0})
      for (const g::DType dtype :
           {g::kBool, g::kUInt8, g::kInt32, g::kInt64, g::kFloat32, g::kFloat64}) {
        SCOPED_TRACE(std::to_string(n) + " elements, density " + std::to_string(density) + ", " +
                     g::dtype_name(dtype));
        const Tensor x = sparse(1, n, density, dtype);
        const Tensor want = g::nonzero(x.view({n}));
        poison_cuda_cache(want.nbytes());
        expect_matches_cpu(g::nonzero(x.view({n}).to(kCuda)), want);
      }
  // 2-D and transposed: coordinates in the row-major order of the logical shape.
  const Tensor m = sparse(1001, 1003, 0.5, g::kFloat32);
  expect_matches_cpu(g::nonzero(m.to(kCuda)), g::nonzero(m));
  expect_matches_cpu(g::nonzero(m.to(kCuda).t()), g::nonzero(m.t()));
  expect_matches_cpu(g::nonzero(g::zeros({0, 3}, kCuda)), g::nonzero(g::zeros({0, 3})));
}

TEST(CudaAdvancedIndex, ReadsMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const Tensor x = g::randn({33, 257, 5});
  const Tensor xc = x.to(kCuda);
  const Tensor rows = g::randint(-33, 33, {7, 1});
  const Tensor cols = g::randint(0, 5, {300});
  const Tensor mask = g::rand({33, 257}) < 0.4;
  expect_matches_cpu(xc.index({rows, Slice(), cols}), x.index({rows, Slice(), cols}));
  expect_matches_cpu(xc.index({Slice(), Slice(1, g::None), cols.narrow(0, 0, 256)}),
                     x.index({Slice(), Slice(1, g::None), cols.narrow(0, 0, 256)}));
  expect_matches_cpu(xc.index({mask}), x.index({mask}));
  expect_matches_cpu(xc.index({mask.to(kCuda)}), x.index({mask}));  // either device
  expect_matches_cpu(xc.transpose(0, 2).index({Ellipsis, rows.view({7})}),
                     x.transpose(0, 2).index({Ellipsis, rows.view({7})}));
}

TEST(CudaAdvancedIndex, WritesMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const Tensor x = g::randn({33, 257, 5});
  const Tensor rows = g::randint(0, 33, {1000});  // many repeats
  const Tensor values = g::randn({1000, 257, 5});
  const Tensor distinct = g::arange(32, -1, -3);
  auto put = [&](const Tensor& self, const Tensor& index, const Tensor& v, bool accumulate) {
    const Tensor out = self.clone();
    out.index_put_({index}, v, accumulate);
    return out;
  };
  const Tensor want_sum = put(x, rows, values, true);
  expect_matches_cpu(put(x.to(kCuda), rows, values.to(kCuda), true), want_sum, 1e-5, 1e-5);
  expect_matches_cpu(put(x.to(kCuda), distinct, values.narrow(0, 0, 11).to(kCuda), false),
                     put(x, distinct, values.narrow(0, 0, 11), false));
  expect_matches_cpu(put(x.to(kCuda), x.to(kCuda) > 1, g::full({}, 7.0, kCuda), false),
                     put(x, x > 1, g::full({}, 7.0), false));
  const g::testing::SettingsScope deterministic(true);
  expect_matches_cpu(put(x.to(kCuda), rows, values.to(kCuda), true), want_sum);
  expect_matches_cpu(put(x.to(kCuda), rows, values.to(kCuda), false), put(x, rows, values, false));
}

TEST(CudaAdvancedIndex, BadValuesGiveTheCpuMessage) {
  GRAFT_REQUIRE_CUDA();
  const Tensor x = g::zeros({4, 6}, kCuda);
  const std::string want = "index(): index 6 is out of bounds for dimension 1 with size 6";
  EXPECT_THAT(error_message([&] { x.index({Slice(), g::arange(7).to(kCuda)}); }), HasSubstr(want));
  EXPECT_THAT(error_message([&] { x.cpu().index({Slice(), g::arange(7)}); }), HasSubstr(want));
  EXPECT_THAT(error_message([&] {
                x.index({g::zeros({4, 5}, g::kBool)});
              }),
              HasSubstr("does not match the shape (4, 6)"));
}
