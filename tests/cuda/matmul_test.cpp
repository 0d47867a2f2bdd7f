// CUDA matmul against its CPU twin, for every variant of kernels/cuda/matmul_variants.cuh,
// the tensor-core kernel of matmul_tensor_core.cuh, and cuBLAS.
//
// Each variant is selected with graft::cuda::set_matmul_variant and runs the same cases:
// sizes from 1x1x1 up to 513x257x129 that are no multiple of any tile (32, 64, 128; BK 8
// and 16), a 128x128x128 product that is a whole number of tiles, batches, broadcast batch
// dims (stride 0), operands read through their strides (transposed, every other row, a view
// one element in, so float4 loads must fall back; a row expanded to a matrix, stride 0,
// which cuBLAS cannot address), vector operands, empty dims (k == 0 must give zeros), and a
// batch past the 65535 blocks of a grid's z dim; and the 16-bit layouts the tensor-core kernel
// takes (aligned rows, each orientation of a and b, k cut mid-chunk). Every dtype matmul accepts:
// float32 (within a tolerance that grows with k, since the two sides sum in different orders),
// float64, float16 and bfloat16 (both sides sum in float; the rounding to 16 bits may then differ
// by one ulp), and int32 / int64, which must agree exactly. Outputs land in poisoned memory. The
// CPU kernel itself is checked against naive loops in tests/kernels/matmul_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"

namespace g = graft;
using g::testing::expect_matches_cpu;
using g::testing::poison_cuda_cache;
using ::testing::HasSubstr;

namespace {

const std::vector<std::string> kVariants = {
    "naive",      "coalesced",  "smem_tiled",  "register_tiled_2d",
    "vectorized", "warp_tiled", "tensor_core", "cublas"};
constexpr g::DType kDTypes[] = {g::kFloat32,  g::kFloat64, g::kFloat16,
                                g::kBFloat16, g::kInt32,   g::kInt64};

// Normals for floating types; small integers (products and sums stay far from overflow).
g::Tensor random_values(const g::Shape& shape, g::DType dtype) {
  return g::is_floating_point(dtype) ? g::randn(shape, dtype) : g::randint(-5, 6, shape, dtype);
}

// An operand: the contiguous tensor it is cut from, and the view that cuts it.
struct Operand {
  g::Shape base;
  std::function<g::Tensor(const g::Tensor&)> view = [](const g::Tensor& t) { return t; };
};

Operand transposed(int64_t rows, int64_t cols) {
  return {{cols, rows}, [](const g::Tensor& t) { return t.t(); }};
}
// Rows 0, 2, 4, ... of a (2 * rows, cols) matrix: a row stride of 2 * cols.
Operand every_other_row(int64_t rows, int64_t cols) {
  return {{2 * rows, cols},
          [](const g::Tensor& t) { return t.index({g::Slice(g::None, g::None, 2)}); }};
}
// Columns 1.. of a (rows, cols + 1) matrix: misaligned data and an odd row stride.
Operand one_element_in(int64_t rows, int64_t cols) {
  return {{rows, cols + 1}, [cols](const g::Tensor& t) { return t.narrow(1, 1, cols); }};
}
// The first `cols` columns of a (rows, padded) matrix: aligned rows (padded a multiple of 8),
// a width that need not be.
Operand narrowed(int64_t rows, int64_t cols, int64_t padded) {
  return {{rows, padded}, [cols](const g::Tensor& t) { return t.narrow(1, 0, cols); }};
}
// One row repeated: a row stride of 0.
Operand expanded_row(int64_t rows, int64_t cols) {
  return {{1, cols}, [rows, cols](const g::Tensor& t) { return t.expand({rows, cols}); }};
}

using BinaryOp = std::function<g::Tensor(const g::Tensor&, const g::Tensor&)>;
g::Tensor matmul_op(const g::Tensor& a, const g::Tensor& b) { return g::matmul(a, b); }

// Runs `op` on CPU operands and on CUDA twins with the same values, strides and offsets, and
// checks that the CUDA result, written into poisoned memory, is the CPU's.
void expect_cuda_matches_cpu(const Operand& a, const Operand& b, g::DType dtype,
                             const BinaryOp& op = matmul_op) {
  const g::Tensor a_base = random_values(a.base, dtype), b_base = random_values(b.base, dtype);
  const g::Tensor a_cpu = a.view(a_base), b_cpu = b.view(b_base);
  SCOPED_TRACE(::testing::Message() << g::cuda::matmul_variant() << ", " << dtype << ", "
                                    << a_cpu.shape() << " x " << b_cpu.shape());
  const g::Tensor want = op(a_cpu, b_cpu);
  poison_cuda_cache(want.nbytes());
  const g::Tensor got = op(a.view(a_base.cuda()), b.view(b_base.cuda()));
  const double k = static_cast<double>(a_cpu.shape()[a_cpu.dim() - 1]);
  // Integers exact; the 16-bit types within an ulp of their own.
  const double rtol = dtype == g::kFloat64    ? 1e-12
                      : dtype == g::kFloat32  ? 1e-5
                      : dtype == g::kFloat16  ? 1e-3
                      : dtype == g::kBFloat16 ? 8e-3
                                              : 0.0;
  const double atol = (dtype == g::kFloat64 ? 1e-14 : g::is_floating_point(dtype) ? 2e-6 : 0.0) * k;
  expect_matches_cpu(got, want, rtol, atol);
}

void expect_all_dtypes_match(const Operand& a, const Operand& b, const BinaryOp& op = matmul_op) {
  for (const g::DType dtype : kDTypes) expect_cuda_matches_cpu(a, b, dtype, op);
}

// Runs each test once per variant, with that variant selected; the previous one comes back
// after the test.
class CudaMatmul : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    GRAFT_REQUIRE_CUDA();
    previous_ = g::cuda::matmul_variant();
    g::cuda::set_matmul_variant(GetParam());
    g::manual_seed(7);
  }
  void TearDown() override {
    if (!previous_.empty()) g::cuda::set_matmul_variant(previous_);
  }

 private:
  std::string previous_;
};

INSTANTIATE_TEST_SUITE_P(Variants, CudaMatmul, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(CudaMatmul, MatchesCpuOnSizesThatAreNoMultipleOfATile) {
  struct Mkn {
    int64_t m, k, n;
  };
  for (const Mkn s : {Mkn{1, 1, 1}, Mkn{7, 5, 3}, Mkn{33, 17, 65}, Mkn{513, 257, 129},
                      Mkn{128, 128, 128}, Mkn{1, 300, 1}, Mkn{130, 3, 1}})
    expect_all_dtypes_match({{s.m, s.k}}, {{s.k, s.n}});
}

TEST_P(CudaMatmul, ReadsOperandsThroughTheirStrides) {
  for (const g::DType dtype : kDTypes) {
    expect_cuda_matches_cpu(transposed(33, 17), {{17, 65}}, dtype);
    expect_cuda_matches_cpu({{33, 17}}, transposed(17, 65), dtype);
    expect_cuda_matches_cpu(transposed(130, 70), transposed(70, 129), dtype);
    expect_cuda_matches_cpu(every_other_row(33, 20), every_other_row(20, 36), dtype);
    expect_cuda_matches_cpu(one_element_in(131, 40), one_element_in(40, 132), dtype);
    expect_cuda_matches_cpu(expanded_row(65, 24), {{24, 130}}, dtype);
  }
}

// The 16-bit layouts the tensor_core variant runs on the tensor cores (each operand contiguous
// along one dim, 16-byte aligned rows): all four orientations of a and b; sizes that are no
// multiple of its 128x256x32 tiles; k and n cut inside a 16-byte chunk (its in-bounds bytes
// copied, the rest zero-filled); many k-tiles (the ring of stages wraps around); more row
// tiles than a group of 8; batches and broadcast batches. Other variants take them too.
TEST_P(CudaMatmul, MatchesCpuOnAlignedHalfOperands) {
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    expect_cuda_matches_cpu({{136, 72}}, {{72, 264}}, dtype);
    expect_cuda_matches_cpu(transposed(136, 72), {{72, 264}}, dtype);
    expect_cuda_matches_cpu({{136, 72}}, transposed(72, 264), dtype);
    expect_cuda_matches_cpu(transposed(136, 72), transposed(72, 264), dtype);
    expect_cuda_matches_cpu(narrowed(300, 45, 48), narrowed(45, 100, 104), dtype);
    expect_cuda_matches_cpu(transposed(56, 45), narrowed(45, 101, 104), dtype);
    expect_cuda_matches_cpu({{200, 520}}, {{520, 300}}, dtype);
    expect_cuda_matches_cpu({{1100, 16}}, transposed(16, 40), dtype);
    expect_cuda_matches_cpu({{3, 1, 40, 64}}, {{1, 2, 64, 24}}, dtype);
    expect_cuda_matches_cpu({{1, 520}}, {{520, 8}}, dtype);
  }
}

TEST_P(CudaMatmul, MatchesCpuOnVectorOperands) {
  expect_all_dtypes_match({{17}}, {{17, 33}});
  expect_all_dtypes_match({{33, 17}}, {{17}});
  expect_all_dtypes_match({{130}}, {{130}});
  expect_all_dtypes_match({{4, 33, 17}}, {{17}});
}

TEST_P(CudaMatmul, MatchesCpuOnBatches) {
  expect_all_dtypes_match({{4, 33, 17}}, {{4, 17, 9}});
  expect_all_dtypes_match({{4, 33, 17}}, {{4, 17, 9}},
                          [](const g::Tensor& a, const g::Tensor& b) { return g::bmm(a, b); });
  // Batch dims of size 1 broadcast (stride 0): (2, 1, 3, 4) x (5, 4, 6) -> (2, 5, 3, 6).
  expect_all_dtypes_match({{2, 1, 3, 4}}, {{5, 4, 6}});
  expect_all_dtypes_match({{3, 1, 70, 40}}, {{1, 2, 40, 66}});
  // A batch times one matrix: folded into one tall product, or not when the batch is
  // transposed out of order.
  expect_all_dtypes_match({{3, 5, 7}}, {{7, 4}});
  expect_all_dtypes_match({{3, 7, 5}, [](const g::Tensor& t) { return t.transpose(1, 2); }},
                          {{7, 4}});
}

TEST_P(CudaMatmul, CoversBatchesPastTheGridLimit) {
  // 70000 matrices: more than the 65535 blocks a grid has along z.
  expect_cuda_matches_cpu({{70000, 2, 3}}, {{70000, 3, 2}}, g::kFloat32);
  expect_cuda_matches_cpu({{70000, 2, 3}}, {{70000, 3, 2}}, g::kInt64);
}

TEST_P(CudaMatmul, HandlesEmptyDims) {
  for (const g::DType dtype : kDTypes) {
    expect_cuda_matches_cpu({{0, 5}}, {{5, 3}}, dtype);
    expect_cuda_matches_cpu({{3, 5}}, {{5, 0}}, dtype);
    expect_cuda_matches_cpu({{0, 3, 4}}, {{0, 4, 5}}, dtype);
    // k == 0: every output is an empty sum, 0, and must be written over the poison.
    expect_cuda_matches_cpu({{4, 0}}, {{0, 3}}, dtype);
    expect_cuda_matches_cpu({{2, 33, 0}}, {{2, 0, 65}}, dtype);
  }
}

TEST(CudaMatmulVariant, NamesTheProgressionAndCublas) {
#if defined(GRAFT_HAS_CUDA)
  EXPECT_EQ(g::cuda::matmul_variants(), kVariants);
  // The default: the last step of the progression (warp_tiled for what tensor cores can't take).
  const std::string previous = g::cuda::matmul_variant();
  EXPECT_EQ(previous, "tensor_core");
  for (const std::string& name : kVariants) {
    g::cuda::set_matmul_variant(name);
    EXPECT_EQ(g::cuda::matmul_variant(), name);
  }
  g::cuda::set_matmul_variant(previous);
#else
  EXPECT_TRUE(g::cuda::matmul_variants().empty());
  EXPECT_EQ(g::cuda::matmul_variant(), "");
#endif
}

TEST(CudaMatmulVariant, RejectsAnUnknownNameListingTheValidOnes) {
  try {
    g::cuda::set_matmul_variant("fastest");
    FAIL() << "expected a graft::Error";
  } catch (const g::Error& e) {
#if defined(GRAFT_HAS_CUDA)
    EXPECT_THAT(e.what(), HasSubstr("unknown matmul variant 'fastest'"));
    EXPECT_THAT(e.what(), HasSubstr("naive, coalesced, smem_tiled, register_tiled_2d, "
                                    "vectorized, warp_tiled, tensor_core, cublas"));
#else
    EXPECT_THAT(e.what(), HasSubstr("this build of graft has no CUDA backend"));
#endif
  }
}

}  // namespace
