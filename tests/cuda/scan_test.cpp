// CUDA cumsum and cumprod (kernels/cuda/scan.cu) against their CPU twin
// (kernels/cpu/scan.cpp), which tests/kernels/scan_test.cpp checks against double loops.
//
// The op registry's CUDA rows (tests/ops/scan_rows.cpp) cover small shapes only, which the
// serial kernel takes whole; the shapes here reach every kernel and its edges: lines along
// memory from 1 element to several tiles of the block kernel (4096 elements) and a line of
// 5M that recurses into a second level, lines side by side cut into chunks (or not, when
// there are enough of them), strided, expanded and reversed (cumsum's gradient) views, and
// every dtype the kernels see. Each CUDA output lands in memory left full of 0xFF bytes, so
// an element a kernel forgets cannot pass. Both backends accumulate in double, so float32
// results agree to the rounding of the last step; float64 ones to the order of additions.
#include <gtest/gtest.h>

#include <string>

#include "cuda/cuda_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::Shape;
using g::Tensor;
using g::testing::expect_matches_cpu;
using g::testing::poison_cuda_cache;

namespace {

const g::Device kCuda = g::Device::cuda();

// Values a long running product neither overflows nor flushes to zero on.
Tensor near_one(const Shape& shape, g::DType dtype) {
  return (g::randn(shape, g::kFloat64) * 0.001 + 1).to(dtype);
}

void expect_parity(const Tensor& got, const Tensor& want) {
  if (want.dtype() == g::kFloat32)
    expect_matches_cpu(got, want, 1e-6, 1e-9);
  else if (want.dtype() == g::kFloat64)
    expect_matches_cpu(got, want, 1e-12, 1e-9);
  else
    expect_matches_cpu(got, want);
}

// cumsum of x and cumprod of values near one along `dim`, on the GPU against the CPU.
void expect_matches(const Tensor& x, int64_t dim) {
  SCOPED_TRACE(std::string(g::dtype_name(x.dtype())) + " " + ::testing::PrintToString(x.shape()) +
               " along dim " + std::to_string(dim));
  const Tensor want = g::cumsum(x, dim);
  poison_cuda_cache(want.nbytes());
  expect_parity(g::cumsum(x.to(kCuda), dim), want);
  if (!g::is_floating_point(x.dtype())) return;
  const Tensor factors = near_one(x.shape(), x.dtype());
  const Tensor products = g::cumprod(factors, dim);
  poison_cuda_cache(products.nbytes());
  expect_parity(g::cumprod(factors.to(kCuda), dim), products);
}

TEST(CudaScan, LinesAlongMemoryOfEveryLength) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  // Serial up to 64, one tile up to 4096, then three phases over several tiles.
  for (const int64_t n : {1, 2, 63, 64, 65, 255, 1000, 4095, 4096, 4097, 3 * 4096 + 123})
    for (const int64_t lines : {1, 3, 7})
      for (const g::DType dtype : {g::kFloat32, g::kFloat64})
        expect_matches(g::randn({lines, n}, dtype), 1);
}

// 5M elements: 1221 tiles, whose totals are scanned by a second level of the block kernel.
TEST(CudaScan, OneVeryLongLine) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(2);
  expect_matches(g::randn({5000003}), 0);
  const int64_t n = int64_t{1} << 24;  // float32 counts 2^24 ones exactly in a double sum
  EXPECT_TRUE(
      g::equal(g::cumsum(g::ones({n}, kCuda), 0).cpu(), g::arange(1, n + 1, 1, g::kFloat32)));
}

// Lines side by side (a scan over dim 0): one thread per line, cut into chunks when there
// are fewer lines than the GPU has threads to give them, whole when there are many.
TEST(CudaScan, LinesSideBySide) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(3);
  for (const Shape& shape :
       {Shape{5000, 100}, Shape{100000, 3}, Shape{3, 70000}, Shape{7, 5, 33}, Shape{4097, 1}})
    for (const g::DType dtype : {g::kFloat32, g::kFloat64})
      expect_matches(g::randn(shape, dtype), 0);
  expect_matches(g::randn({6, 300, 5}), 1);  // a middle dim: lines over the outer and inner dims
}

// Strided views go to the kernels as they lie: transposed, stepped, expanded (a stride-0
// line, and stride-0 lines).
TEST(CudaScan, StridedAndExpandedViews) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(4);
  const Tensor x = g::randn({300, 500});
  for (const int64_t dim : {0, 1}) {
    expect_matches(x.t(), dim);
    expect_matches(x.index({g::Slice(), g::Slice(g::None, g::None, 3)}), dim);
    expect_matches(g::randn({1, 9000}).expand({4, 9000}), dim);
    expect_matches(g::randn({9000, 1}).expand({9000, 4}), dim);
  }
}

// cumsum's gradient is the reverse scan: the kernels walk the lines backwards.
TEST(CudaScan, ReverseScansOfTheGradient) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(5);
  for (const Shape& shape : {Shape{3, 20000}, Shape{20000, 3}, Shape{40}}) {
    for (const int64_t dim : {0, -1}) {
      SCOPED_TRACE(::testing::PrintToString(shape) + " along dim " + std::to_string(dim));
      const Tensor x = g::randn(shape, g::kFloat64), dy = g::randn(shape, g::kFloat64);
      const Tensor on_cpu = x.clone().requires_grad_(), on_cuda = x.to(kCuda).requires_grad_();
      g::cumsum(on_cpu, dim).backward(dy);
      g::cumsum(on_cuda, dim).backward(dy.to(kCuda));
      expect_parity(on_cuda.grad(), on_cpu.grad());
    }
  }
}

// Integers and bools accumulate in int64 on both backends, exactly.
TEST(CudaScan, IntegerBoolZeroDimAndEmptyInputs) {
  GRAFT_REQUIRE_CUDA();
  const Tensor ints = g::randint(-3, 4, {7, 5000});
  for (const g::DType dtype : {g::kInt64, g::kInt32, g::kBool, g::kUInt8})
    for (const int64_t dim : {0, 1}) expect_matches(ints.to(dtype), dim);
  const Tensor small = g::randint(1, 3, {3, 40});  // products of 1s and 2s, exact in int64
  expect_parity(g::cumprod(small.to(kCuda), 1), g::cumprod(small, 1));
  expect_matches(g::full({}, 2.5), 0);
  expect_parity(g::cumsum(g::ones({0, 5}, kCuda), 1), g::cumsum(g::ones({0, 5}), 1));
}

}  // namespace
