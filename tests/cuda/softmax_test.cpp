// CUDA softmax and log_softmax (kernels/cuda/softmax.cu) against their CPU twin
// (kernels/cpu/softmax.cpp), which tests/kernels/softmax_test.cpp checks against naive loops.
//
// The shapes reach each CUDA kernel and its edges: rows along the last dim of every length
// from 1 up (groups of 1 to 32 lanes up to 1024 elements, a block per row beyond, a single
// row of 1000003 elements; rows taking four elements an access and rows that cannot, in
// every floating dtype), and softmax over a non-last dim (threads across the inner
// index, block rows along the line; few lines with long ones, and many short ones). Inputs
// come contiguous, transposed, sliced with steps, expanded and permuted (the op layer
// copies them contiguous first), and each CUDA output lands in memory left full of 0xFF
// bytes (NaN), so an element the kernel forgets cannot pass. The reference is the CPU twin
// run in float64 and rounded to the input's dtype: the CPU's own float32 sum of a million
// exps drifts further (measured: 1.8e-4 relative in softmax, 1.9e-3 absolute in
// log_softmax) than the GPU's, whose threads each sum a few thousand. The edge values
// (-inf, all -inf rows, +inf, NaN, huge logits) must give the CPU's zeros, NaNs and
// infinities in the same places.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::Shape;
using g::Slice;
using g::Tensor;
using g::testing::error_message;
using g::testing::expect_matches_cpu;
using g::testing::poison_cuda_cache;

namespace {

const g::Device kCuda = g::Device::cuda();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr g::DType kFloating[] = {g::kFloat32, g::kFloat64};

using View = std::function<Tensor(const Tensor&)>;
const View kAsIs = [](const Tensor& t) { return t; };

struct Op {
  const char* name;
  Tensor (*run)(const Tensor&, int64_t);
};
const Op kOps[] = {{"softmax", &g::softmax}, {"log_softmax", &g::log_softmax}};

// Normal logits spread wide enough (sd 3) that probabilities span many orders of magnitude.
Tensor logits(const Shape& shape, g::DType dtype) { return g::randn(shape, dtype) * 3; }

// The GPU's sum of exps is off by a few float32 ulps per thousand terms a thread adds
// (relative 5e-5 allowed), or float64 ulps; log_softmax subtracts log(sum), so there the
// same error is absolute. A 16-bit result is computed in float and rounded once, as the
// reference is rounded from float64: one unit in the last place apart at most (float16's
// subnormals are 6e-8 apart, and log_softmax's float arithmetic is absolute near 0).
void expect_parity(const Tensor& got, const Tensor& want, bool log) {
  const g::DType dtype = want.dtype();
  if (dtype == g::kFloat16 || dtype == g::kBFloat16) {
    expect_matches_cpu(got, want, dtype == g::kFloat16 ? 1e-3 : 8e-3, log ? 1e-4 : 1e-7);
    return;
  }
  const bool f32 = dtype == g::kFloat32;
  if (log)
    expect_matches_cpu(got, want, f32 ? 1e-6 : 1e-14, f32 ? 5e-5 : 1e-12);
  else
    expect_matches_cpu(got, want, f32 ? 5e-5 : 1e-12, 1e-30);
}

// softmax and log_softmax along `dim` of view(x) on the GPU give the CPU's float64 result on
// view(x), rounded to x's dtype.
void expect_matches(const Tensor& x, int64_t dim, const View& view = kAsIs) {
  const Tensor on_cpu = view(x), on_cuda = view(x.to(kCuda));
  for (const Op& op : kOps) {
    SCOPED_TRACE(std::string(op.name) + " of " + g::dtype_name(x.dtype()) + " " +
                 ::testing::PrintToString(on_cpu.shape()) + " along dim " + std::to_string(dim));
    const Tensor want = op.run(on_cpu.to(g::kFloat64), dim).to(x.dtype());
    poison_cuda_cache(want.nbytes());
    expect_parity(op.run(on_cuda, dim), want, op.run == &g::log_softmax);
  }
}

TEST(CudaSoftmax, RowsOfEveryLengthAlongTheLastDim) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  for (g::DType dtype : kFloating) {
    // 1 to 1024: a group of lanes per row (1, 8, 32 lanes); 1025 up: a block per row.
    for (int64_t n : {1, 7, 33, 1000, 1024, 1025, 4097}) expect_matches(logits({37, n}, dtype), 1);
    for (int64_t n : {1, 7, 33, 1000003}) expect_matches(logits({n}, dtype), 0);
    expect_matches(logits({3, 300007}, dtype), -1);
  }
}

// Rows whose length is a multiple of four and whose start is aligned to four elements move
// four at an access (two half2 or bfloat162 pairs, a float4), in the group kernel (up to 1024)
// and the block kernel (beyond); other rows one at a time. Both forms in every floating
// dtype, and a contiguous view that starts one element past an aligned address, whose rows of
// 1000 cannot take the wide accesses.
TEST(CudaSoftmax, RowsTakeWideAccessesWhereAligned) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(6);
  const View one_element_in = [](const Tensor& t) {
    return t.index({Slice(1, g::None)}).view({37, 1000});
  };
  for (g::DType dtype : {g::kFloat32, g::kFloat64, g::kFloat16, g::kBFloat16}) {
    // Wide rows of a group's lanes taking 2 and 4 loads each (200, 400) and more, of a block
    // (1028 on), 16384 through its unrolled folds; rows one element an access likewise (201:
    // 4 or 8 loads a lane; 8191).
    for (int64_t n : {4, 64, 200, 400, 1000, 1028, 4096, 16384, 6, 201, 1026, 8191})
      expect_matches(logits({37, n}, dtype), 1);
    expect_matches(logits({37 * 1000 + 1}, dtype), 1, one_element_in);
  }
}

TEST(CudaSoftmax, MatrixAlongEachDim) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(2);
  for (g::DType dtype : kFloating)
    for (int64_t dim : {0, 1, -1}) expect_matches(logits({513, 257}, dtype), dim);
}

// A non-last dim: the lines are `inner` elements apart.
TEST(CudaSoftmax, AlongANonLastDim) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(3);
  for (g::DType dtype : kFloating) {
    expect_matches(logits({3, 33, 7}, dtype), 0);
    expect_matches(logits({3, 33, 7}, dtype), 1);
    expect_matches(logits({2, 100003, 3}, dtype), 1);  // few long lines: tall block rows
    expect_matches(logits({7, 2, 513}, dtype), 1);     // many short lines: wide block rows
    expect_matches(logits({4, 1000, 65}, dtype), 1);
    expect_matches(logits({1, 5, 300001}, dtype), 1);
    expect_matches(logits({5, 1, 9}, dtype), 1);  // lines of one element
  }
}

TEST(CudaSoftmax, NonContiguousInputs) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(4);
  for (g::DType dtype : kFloating) {
    const View transposed = [](const Tensor& t) { return t.t(); };
    const View stepped = [](const Tensor& t) {
      return t.index({Slice(g::None, g::None, 2), Slice(1, g::None, 3)});
    };
    const View expanded = [](const Tensor& t) { return t.expand({513, 257}); };
    const View permuted = [](const Tensor& t) { return t.permute({2, 0, 1}); };
    for (int64_t dim : {0, 1}) {
      expect_matches(logits({257, 513}, dtype), dim, transposed);
      expect_matches(logits({1026, 771}, dtype), dim, stepped);
      expect_matches(logits({1, 257}, dtype), dim, expanded);
    }
    for (int64_t dim : {0, 1, 2}) expect_matches(logits({33, 7, 65}, dtype), dim, permuted);
  }
}

// Huge logits, -inf (probability exactly 0), an all -inf row (NaN), +inf and NaN entries
// (NaN rows, as the CPU gives), placed in short rows, long rows and columns.
TEST(CudaSoftmax, EdgeValuesMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const std::vector<std::vector<double>> rows = {
      {1e4, -1e4, 0, -kInf},  {-kInf, 3, -kInf, -kInf}, {-kInf, -kInf, -kInf, -kInf},
      {1e4, 1e4, -1e4, -1e4}, {3e38, -3e38, 0, 1},      {0, kInf, 1, -kInf},
      {0, kNaN, 1, 2},
  };
  for (g::DType dtype : kFloating) {
    for (int64_t n : {4, 1000, 5000}) {  // group, group of a full warp, block
      std::vector<double> values;
      for (const auto& row : rows)
        for (int64_t i = 0; i < n; ++i) values.push_back(row[i % 4]);
      const auto count = static_cast<int64_t>(rows.size());
      const Tensor x = g::testing::make_tensor(values, {count, n}, dtype);
      expect_matches(x, 1);
      expect_matches(x.t().contiguous(), 0);  // the same lines as columns
      for (const Op& op : kOps) {
        const std::vector<double> got = op.run(x.to(kCuda), 1).cpu().to_vector<double>();
        for (int64_t i = 0; i < n; ++i) {
          EXPECT_TRUE(std::isfinite(got[i]) || i % 4 == 3) << op.name << " " << i;
          EXPECT_TRUE(std::isnan(got[2 * n + i])) << op.name << " all -inf row, " << i;
        }
        if (op.run == &g::softmax) {
          EXPECT_EQ(got[3], 0.0) << "-inf gives exactly 0";
        }
      }
    }
  }
}

TEST(CudaSoftmax, ZeroDimAndEmptyInputs) {
  GRAFT_REQUIRE_CUDA();
  for (g::DType dtype : kFloating) {
    const Tensor s = g::full({}, 3.5, dtype);
    expect_matches(s, 0);
    expect_matches(s, -1);
    for (const Shape& shape : {Shape{0, 3}, Shape{3, 0}, Shape{2, 0, 4}})
      for (int64_t dim : {0, 1}) expect_matches(g::zeros(shape, dtype), dim);
  }
}

TEST(CudaSoftmax, IntegerInputsFailAsOnTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const Tensor x = g::ones({2, 3}, g::kInt64);
  EXPECT_EQ(error_message([&] { g::softmax(x.to(kCuda), 1); }),
            error_message([&] { g::softmax(x, 1); }));
  EXPECT_EQ(error_message([&] { g::log_softmax(x.to(kCuda), 2); }),
            error_message([&] { g::log_softmax(x, 2); }));
}

}  // namespace
