// CUDA reductions (kernels/cuda/reduce.cu) against their CPU twin (kernels/cpu/reduce.cpp).
//
// Each case builds random CPU data (never zeros only), applies the same view (transpose,
// step slice, expand, permute) to it and to its copy on the GPU, runs an op on both and
// compares: integers, bools, indices and max/min exactly, floating sums and variances to a
// few ulps (both sides accumulate in double, only the order differs). Every
// op runs over every dtype where it is defined, with and without keepdim. The shapes are
// chosen to reach each CUDA kernel: short reductions (lane groups), long ones (a block per
// output, split over several blocks when outputs are few) and reductions over an outer dim
// (threads along the contiguous kept dim). A float32 sum is the exception to the few ulps:
// the CPU adds its pairwise leaves in float (see expect_sum_parity). Each GPU output is poisoned
// first: a block full of 0xFF bytes is left in the caching allocator where the op's output
// allocation finds it, so an element the kernel forgets shows up as NaN or -1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cuda_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::Dims;
using g::Shape;
using g::Slice;
using g::Tensor;
using g::testing::error_message;
using g::testing::expect_matches_cpu;
using ::testing::HasSubstr;

namespace {

const g::Device kCuda = g::Device::cuda();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<g::DType> kAllDTypes = {g::kBool,  g::kUInt8,   g::kInt32,
                                          g::kInt64, g::kFloat32, g::kFloat64};
const std::vector<g::DType> kNumeric = {g::kUInt8, g::kInt32, g::kInt64, g::kFloat32, g::kFloat64};
const std::vector<g::DType> kFloating = {g::kFloat32, g::kFloat64};

using Reduction = std::function<Tensor(const Tensor&, const Dims&, bool)>;

// argmax/argmin take at most one dim.
std::optional<int64_t> single_dim(const Dims& dims) {
  return dims.empty() ? std::nullopt : std::optional<int64_t>(dims[0]);
}

struct Op {
  const char* name;
  Reduction run;
  std::vector<g::DType> dtypes;  // where PyTorch defines the op
  bool single_dim_only = false;
};

const std::vector<Op>& ops() {
  static const std::vector<Op> list = {
      {"sum", [](const Tensor& x, const Dims& d, bool k) { return g::sum(x, d, k); }, kAllDTypes},
      {"prod", [](const Tensor& x, const Dims& d, bool k) { return g::prod(x, d, k); }, kAllDTypes},
      {"max", [](const Tensor& x, const Dims& d, bool k) { return g::max(x, d, k); }, kAllDTypes},
      {"min", [](const Tensor& x, const Dims& d, bool k) { return g::min(x, d, k); }, kAllDTypes},
      {"argmax",
       [](const Tensor& x, const Dims& d, bool k) { return g::argmax(x, single_dim(d), k); },
       kNumeric, true},
      {"argmin",
       [](const Tensor& x, const Dims& d, bool k) { return g::argmin(x, single_dim(d), k); },
       kNumeric, true},
      {"all", [](const Tensor& x, const Dims& d, bool k) { return g::all(x, d, k); }, kAllDTypes},
      {"any", [](const Tensor& x, const Dims& d, bool k) { return g::any(x, d, k); }, kAllDTypes},
      {"var", [](const Tensor& x, const Dims& d, bool k) { return g::var(x, d, 1, k); }, kFloating},
  };
  return list;
}

// Random CPU values of `dtype`: normal floats with some exact zeros (so all/any differ),
// small integers (ties for argmax/argmin, zeros for all/any), mostly-true bools.
Tensor sample(const Shape& shape, g::DType dtype) {
  switch (dtype) {
    case g::kBool:
      return g::rand(shape) > 0.1;
    case g::kUInt8:
      return g::randint(0, 7, shape, dtype);
    case g::kInt32:
    case g::kInt64:
      return g::randint(-3, 4, shape, dtype);
    default:
      return g::masked_fill(g::randn(shape, dtype), g::rand(shape) < 0.05, 0);
  }
}

// Leaves a block of the output's size class full of 0xFF bytes in the caching allocator,
// where the op's output allocation finds it.
void poison_next_output(const Tensor& like) {
  g::full({std::max<int64_t>(1, like.numel() * like.element_size())}, 255,
          g::TensorOptions(g::kUInt8).device(kCuda));
}

std::string describe(const Op& op, const Tensor& x, const Dims& dims, bool keepdim) {
  std::ostringstream s;
  s << op.name << " of " << x.dtype() << " " << x.shape() << " strides " << x.strides()
    << " over dims (";
  for (int64_t d : dims) s << d << ",";
  s << ") keepdim " << keepdim;
  return s.str();
}

// Floats agree to a few ulps of the result's dtype; everything else exactly.
void expect_parity(const Tensor& got, const Tensor& want) {
  if (want.dtype() == g::kFloat32)
    expect_matches_cpu(got, want, 1e-5, 1e-6);
  else if (want.dtype() == g::kFloat64)
    expect_matches_cpu(got, want, 1e-10, 1e-12);
  else
    expect_matches_cpu(got, want);
}

// A float32 sum on the CPU adds each pairwise leaf (up to 32 rows of an outer dim, or up to
// 1024 elements of a contiguous one in 16-lane vectors) in float and the leaves in double
// (kernels/reducers.h, as PyTorch's cascade sum); the CUDA kernels add everything in double.
// The CPU's error is then bounded by a leaf's few dozen roundings of the magnitudes it adds,
// not by ulps of the result, which cancellation can make far smaller: the two agree within
// 32 * 2^-24 * sum(|x|) over each output's elements (and 1e-5 of the result).
void expect_sum_parity(const Tensor& got, const Tensor& want, const Tensor& x, const Dims& dims,
                       bool keepdim) {
  ASSERT_TRUE(got.is_cuda());
  ASSERT_EQ(got.shape(), want.shape());
  const Tensor got64 = got.cpu().to(g::kFloat64).contiguous();
  const Tensor want64 = want.to(g::kFloat64).contiguous();
  const Tensor magnitude = g::sum(g::abs(x.to(g::kFloat64)), dims, keepdim).contiguous();
  const double *gv = got64.data_ptr<double>(), *wv = want64.data_ptr<double>();
  const double* mv = magnitude.data_ptr<double>();
  int64_t mismatches = 0;
  for (int64_t i = 0; i < want64.numel(); ++i) {
    // NaN where the CPU has NaN (a NaN the kernel left poisoned is off), infinities equal.
    const double bound = 32 * std::ldexp(1.0, -24) * mv[i];
    if (!g::testing::value_matches(gv[i], wv[i], 1e-5, bound) && ++mismatches <= 5)
      ADD_FAILURE() << "sum " << i << ": cuda " << gv[i] << ", cpu " << wv[i] << ", off by more "
                    << "than 1e-5 of it plus 32 * 2^-24 * sum(|x|) = " << bound;
  }
  EXPECT_EQ(mismatches, 0) << "of " << want64.numel() << " sums differ";
}

// The op on x_cuda gives the CPU's result on x, or the CPU's error.
void expect_op_matches(const Op& op, const Tensor& x, const Tensor& x_cuda, const Dims& dims,
                       bool keepdim) {
  SCOPED_TRACE(describe(op, x, dims, keepdim));
  std::optional<Tensor> want;
  std::string cpu_error;
  try {
    want = op.run(x, dims, keepdim);
  } catch (const g::Error& e) {
    cpu_error = e.what();
  }
  if (!want) {  // e.g. max over an empty dim: the same error on the GPU
    EXPECT_EQ(error_message([&] { op.run(x_cuda, dims, keepdim); }), cpu_error);
    return;
  }
  poison_next_output(*want);
  const Tensor got = op.run(x_cuda, dims, keepdim);
  if (std::string(op.name) == "sum" && x.dtype() == g::kFloat32)
    expect_sum_parity(got, *want, x, dims, keepdim);
  else
    expect_parity(got, *want);
}

using View = std::function<Tensor(const Tensor&)>;
const View kAsIs = [](const Tensor& t) { return t; };

// Every op defined for base's dtype, over each set of dims, with and without keepdim, on
// view(base) and view(base on the GPU).
void expect_all_ops_match(const Tensor& base, const std::vector<Dims>& dim_sets,
                          const View& view = kAsIs) {
  const Tensor x = view(base), x_cuda = view(base.to(kCuda));
  for (const Op& op : ops()) {
    if (std::find(op.dtypes.begin(), op.dtypes.end(), x.dtype()) == op.dtypes.end()) continue;
    for (const Dims& dims : dim_sets) {
      if (op.single_dim_only && dims.size() > 1) continue;
      for (bool keepdim : {false, true}) expect_op_matches(op, x, x_cuda, dims, keepdim);
    }
  }
}

TEST(CudaReduceTest, FullReductionsOfEveryLengthMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  for (int64_t n : {1, 7, 33, 1000, 4097, 1000003})
    for (g::DType dtype : kAllDTypes) expect_all_ops_match(sample({n}, dtype), {{}, {0}});
}

TEST(CudaReduceTest, MatrixOverEachDimAndBoth) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(2);
  for (g::DType dtype : kAllDTypes)
    expect_all_ops_match(sample({513, 257}, dtype), {{0}, {1}, {-1}, {0, 1}, {}});
}

TEST(CudaReduceTest, ThreeDimsWithTwoReduced) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(3);
  for (g::DType dtype : kAllDTypes)
    expect_all_ops_match(sample({17, 33, 65}, dtype), {{0, 2}, {0, 1}, {1, 2}, {1}});
}

TEST(CudaReduceTest, TransposedSlicedExpandedAndPermutedInputs) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(4);
  const std::vector<Dims> dims = {{0}, {1}, {}};
  for (g::DType dtype : kAllDTypes) {
    SCOPED_TRACE(dtype);
    expect_all_ops_match(sample({257, 513}, dtype), dims, [](const Tensor& t) { return t.t(); });
    expect_all_ops_match(sample({1026, 771}, dtype), dims, [](const Tensor& t) {
      return t.index({Slice(g::None, g::None, 2), Slice(1, g::None, 3)});
    });
    expect_all_ops_match(sample({1, 257}, dtype), dims, [](const Tensor& t) {
      return t.expand({513, 257});
    });
    expect_all_ops_match(sample({65, 17, 33}, dtype), {{0, 2}, {1}, {}}, [](const Tensor& t) {
      return t.permute({1, 2, 0});
    });
  }
}

// One shape for each way the CUDA kernel walks memory (see the file comment of reduce.cu).
TEST(CudaReduceTest, ShapesThatReachEachKernel) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(5);
  struct Case {
    Shape shape;
    Dims dims;
  };
  const std::vector<Case> cases = {
      {{100000, 7}, {1}},    // lane groups of 8, many outputs per warp
      {{300001, 2}, {1}},    // lane groups of 2
      {{4096, 1500}, {1}},   // a block per output
      {{3, 200003}, {1}},    // a block per output, split over many blocks
      {{200003, 3}, {0}},    // along the kept dim, tall blocks, split
      {{2, 300001}, {0}},    // along the kept dim, wide blocks
      {{64, 5000, 3}, {1}},  // along the kept dims, two of them
      {{5, 1, 7}, {1}},      // nothing left to reduce after dropping size-1 dims
  };
  for (const Case& c : cases)
    for (g::DType dtype : {g::kBool, g::kInt64, g::kFloat32, g::kFloat64})
      expect_all_ops_match(sample(c.shape, dtype), {c.dims});
}

TEST(CudaReduceTest, ZeroDimInputs) {
  GRAFT_REQUIRE_CUDA();
  for (g::DType dtype : kAllDTypes) expect_all_ops_match(g::full({}, 3, dtype), {{}, {0}, {-1}});
}

// max/min propagate NaN; argmax/argmin return the first NaN, and among equal extremes the
// first index, however the work is split between threads and blocks.
TEST(CudaReduceTest, NaNsAndTiesGiveTheCpuAnswer) {
  GRAFT_REQUIRE_CUDA();
  for (int64_t n : {33, 5000, 1000003}) {
    SCOPED_TRACE(n);
    for (g::DType dtype : kFloating) {
      const Tensor ones = g::ones({n}, dtype);
      EXPECT_EQ(g::argmax(ones.to(kCuda)).item<int64_t>(), 0);
      EXPECT_EQ(g::argmin(ones.to(kCuda)).item<int64_t>(), 0);
      Tensor x = g::arange(0, n, 1, dtype);
      x.index({n / 3}).fill_(kNaN);
      x.index({n - 1}).fill_(kNaN);
      expect_all_ops_match(x, {{}});
      expect_all_ops_match(x.reshape({1, n}).expand({3, n}), {{0}, {1}});
      EXPECT_EQ(g::argmax(x.to(kCuda)).item<int64_t>(), n / 3);
      EXPECT_TRUE(std::isnan(g::max(x.to(kCuda)).item<double>()));
    }
  }
}

// Float32 sums accumulate in double: ten million 0.1f (each 0.100000001490116...) sum to
// 1000000.0149, which a float accumulator walking them in order would miss by far.
TEST(CudaReduceTest, LongFloatSumsStayAccurate) {
  GRAFT_REQUIRE_CUDA();
  const Tensor tenths = g::full({10000000}, 0.1f, g::TensorOptions(g::kFloat32).device(kCuda));
  EXPECT_NEAR(g::sum(tenths).item<double>(), 1000000.0149, 1.0);
  EXPECT_NEAR(g::mean(tenths).item<double>(), 0.1, 1e-6);
  const Tensor rows = tenths.reshape({10000, 1000});
  EXPECT_NEAR(g::sum(rows, {0}).cpu().to_vector<double>()[999], 1000.000015, 1e-3);
  EXPECT_NEAR(g::var(rows).item<double>(), 0.0, 1e-9);
}

TEST(CudaReduceTest, VarCorrectionAndTooFewElements) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(6);
  const Tensor x = g::randn({7, 1000}, g::kFloat64);
  for (int64_t correction : {0, 1, 2, 7, 1000, 1001}) {
    SCOPED_TRACE(correction);
    for (const Dims& dims : std::vector<Dims>{{0}, {1}, {}}) {
      const Tensor want = g::var(x, dims, correction);
      poison_next_output(want);
      expect_parity(g::var(x.to(kCuda), dims, correction), want);
    }
  }
}

// mean, std and logsumexp compose the kernels with elementwise ops.
TEST(CudaReduceTest, ComposedReductionsMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(7);
  for (g::DType dtype : kFloating) {
    const Tensor x = g::randn({300, 411}, dtype);
    for (const Dims& dims : std::vector<Dims>{{0}, {1}, {}}) {
      expect_parity(g::mean(x.to(kCuda), dims), g::mean(x, dims));
      expect_parity(g::std(x.to(kCuda), dims), g::std(x, dims));
      expect_parity(g::logsumexp(x.to(kCuda), dims), g::logsumexp(x, dims));
    }
  }
}

// Reductions over no elements give the identity (sum 0, prod 1, all true, any false, var
// NaN); max/min/argmax/argmin have none and fail with the CPU's message.
TEST(CudaReduceTest, EmptyReductions) {
  GRAFT_REQUIRE_CUDA();
  for (g::DType dtype : kAllDTypes) {
    SCOPED_TRACE(dtype);
    const Tensor empty = g::zeros({0}, dtype);
    expect_parity(g::sum(empty.to(kCuda)), g::sum(empty));
    expect_parity(g::prod(empty.to(kCuda)), g::prod(empty));
    expect_parity(g::all(empty.to(kCuda)), g::all(empty));
    expect_parity(g::any(empty.to(kCuda)), g::any(empty));
    for (const Shape& shape : {Shape{3, 0}, Shape{0, 5}, Shape{2, 0, 3}})
      expect_all_ops_match(g::zeros(shape, dtype), {{1}, {0}});
  }
  EXPECT_EQ(
      g::sum(g::zeros({3, 0}, g::TensorOptions().device(kCuda)), {1}).cpu().to_vector<float>(),
      (std::vector<float>{0, 0, 0}));
  EXPECT_TRUE(std::isnan(g::var(g::zeros({0}, g::TensorOptions().device(kCuda))).item<double>()));

  const Tensor empty = g::zeros({0}, g::TensorOptions().device(kCuda));
  for (const auto& [name, fn] : std::vector<std::pair<const char*, std::function<void()>>>{
           {"max", [&] { g::max(empty); }},
           {"min", [&] { g::min(empty); }},
           {"argmax", [&] { g::argmax(empty); }},
           {"argmin", [&] { g::argmin(empty); }}}) {
    const std::string message = error_message(fn);
    EXPECT_THAT(message,
                HasSubstr(std::string(name) + "(): Expected reduction dim to be specified"));
    EXPECT_THAT(message, HasSubstr("does not have an identity"));
  }
  const Tensor columns = g::zeros({3, 0}, g::TensorOptions().device(kCuda));
  EXPECT_THAT(error_message([&] { g::max(columns, {1}); }),
              HasSubstr("max(): Expected reduction dim 1 to have non-zero size"));
  EXPECT_EQ(error_message([&] { g::argmin(columns, 1); }),
            error_message([&] { g::argmin(columns.cpu(), 1); }));
}

}  // namespace
