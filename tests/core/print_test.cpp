// operator<< prints what PyTorch prints for the same tensor (torch/_tensor_str.py with the
// default print options), except that dtypes are spelled `int32`, not `torch.int32`. Each
// expected string is PyTorch's output; the comments give the rule that produces it.
#include <gtest/gtest.h>

#include <limits>
#include <numeric>
#include <sstream>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::testing::make_tensor;

namespace {

std::string str(const g::Tensor& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

// 0, 1, ..., n - 1 as a tensor of `shape`.
g::Tensor iota(const g::Shape& shape, g::DType dtype) {
  std::vector<double> values(static_cast<size_t>(shape.numel()));
  std::iota(values.begin(), values.end(), 0.0);
  return make_tensor(values, shape, dtype);
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST(Print, VectorsAndMatrices) {
  EXPECT_EQ(str(make_tensor({1, 2, 3}, {3}, g::kFloat32)), "tensor([1., 2., 3.])");
  // Rows are indented under the first bracket, columns aligned to the widest element.
  EXPECT_EQ(str(make_tensor({1, 2, 3, 4}, {2, 2}, g::kInt64)),
            "tensor([[1, 2],\n"
            "        [3, 4]])");
  EXPECT_EQ(str(make_tensor({1, -20, 300, 4}, {2, 2}, g::kInt64)),
            "tensor([[  1, -20],\n"
            "        [300,   4]])");
}

TEST(Print, ZeroDimTensors) {
  EXPECT_EQ(str(make_tensor({3.5}, {}, g::kFloat32)), "tensor(3.5000)");
  EXPECT_EQ(str(make_tensor({2}, {}, g::kFloat32)), "tensor(2.)");
  EXPECT_EQ(str(make_tensor({3}, {}, g::kInt64)), "tensor(3)");
  EXPECT_EQ(str(make_tensor({1}, {}, g::kBool)), "tensor(True)");
}

TEST(Print, ThreeDimsSeparateBlocksWithABlankLine) {
  EXPECT_EQ(str(iota({2, 2, 2}, g::kInt64)),
            "tensor([[[0, 1],\n"
            "         [2, 3]],\n"
            "\n"
            "        [[4, 5],\n"
            "         [6, 7]]])");
}

TEST(Print, FloatsShareOneFormat) {
  // Not all integers: 4 fixed decimals, padded to the widest.
  EXPECT_EQ(str(make_tensor({1.5, 100.25, -2}, {3}, g::kFloat32)),
            "tensor([  1.5000, 100.2500,  -2.0000])");
  // All integers: a trailing '.' marks them as floats.
  EXPECT_EQ(str(make_tensor({1, 100}, {2}, g::kFloat32)), "tensor([  1., 100.])");
  EXPECT_EQ(str(make_tensor({-1, 10}, {2}, g::kFloat32)), "tensor([-1., 10.])");
  // Scientific when the smallest magnitude is below 1e-4 ...
  EXPECT_EQ(str(make_tensor({1e-5, 1}, {2}, g::kFloat32)), "tensor([1.0000e-05, 1.0000e+00])");
  // ... when magnitudes span more than 1000x ...
  EXPECT_EQ(str(make_tensor({0.5, 1000.5}, {2}, g::kFloat32)), "tensor([5.0000e-01, 1.0005e+03])");
  // ... or exceed 1e8, integers or not.
  EXPECT_EQ(str(make_tensor({1, 1e9}, {2}, g::kFloat32)), "tensor([1.0000e+00, 1.0000e+09])");
  // Zeros do not count towards the range.
  EXPECT_EQ(str(make_tensor({0, 0.25}, {2}, g::kFloat32)), "tensor([0.0000, 0.2500])");
  EXPECT_EQ(str(make_tensor({0, 0}, {2}, g::kFloat32)), "tensor([0., 0.])");
}

TEST(Print, NonFiniteValues) {
  EXPECT_EQ(str(make_tensor({kNaN, 1}, {2}, g::kFloat32)), "tensor([nan, 1.])");
  EXPECT_EQ(str(make_tensor({kInf, -kInf, 1.5}, {3}, g::kFloat32)),
            "tensor([   inf,   -inf, 1.5000])");
  EXPECT_EQ(str(make_tensor({-kNaN}, {1}, g::kFloat32)), "tensor([nan])");
  EXPECT_EQ(str(make_tensor({1e-5, kNaN}, {2}, g::kFloat32)), "tensor([1.0000e-05,        nan])");
}

TEST(Print, BoolsAreTrueAndFalse) {
  EXPECT_EQ(str(make_tensor({1, 0}, {2}, g::kBool)), "tensor([ True, False])");
}

TEST(Print, DtypeSuffixForNonDefaultDtypes) {
  // float32, int64 and bool are what values print as by default: no suffix.
  EXPECT_EQ(str(make_tensor({1, 2}, {2}, g::kInt32)), "tensor([1, 2], dtype=int32)");
  EXPECT_EQ(str(make_tensor({0, 255}, {2}, g::kUInt8)), "tensor([  0, 255], dtype=uint8)");
  EXPECT_EQ(str(make_tensor({1.5, 2}, {2}, g::kFloat64)),
            "tensor([1.5000, 2.0000], dtype=float64)");
}

TEST(Print, SuffixMovesToANewLineWhenTheLastLineIsFull) {
  // 14 three-digit elements fill a 77-column line; ", dtype=int32)" would pass column 80.
  std::vector<double> values(14);
  std::iota(values.begin(), values.end(), 100.0);
  EXPECT_EQ(str(make_tensor(values, {14}, g::kInt32)),
            "tensor([100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113],\n"
            "       dtype=int32)");
}

TEST(Print, EmptyTensorsShowTheirSizeAndDtype) {
  EXPECT_EQ(str(g::empty({0})), "tensor([])");
  EXPECT_EQ(str(g::empty({0, 3})), "tensor([], size=(0, 3))");
  // With no values to tell, even int64 is named.
  EXPECT_EQ(str(g::empty({0}, g::kInt64)), "tensor([], dtype=int64)");
  EXPECT_EQ(str(g::empty({2, 0}, g::kInt32)), "tensor([], size=(2, 0), dtype=int32)");
}

TEST(Print, LongRowsWrapAtEightyColumns) {
  // Elements are 3 wide plus ", ": (80 - 7) / 5 = 14 per line.
  EXPECT_EQ(str(iota({30}, g::kFloat32)),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
            "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
            "        28., 29.])");
}

TEST(Print, ViewsPrintTheirLogicalValues) {
  g::Tensor t = make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, g::kInt64);
  EXPECT_EQ(str(t.t()),
            "tensor([[1, 4],\n"
            "        [2, 5],\n"
            "        [3, 6]])");
  EXPECT_EQ(str(iota({10}, g::kInt64).index({g::Slice(g::None, g::None, 3)})),
            "tensor([0, 3, 6, 9])");
  EXPECT_EQ(str(make_tensor({7}, {1}, g::kInt64).expand({2, 3})),
            "tensor([[7, 7, 7],\n"
            "        [7, 7, 7]])");
}

TEST(Print, MoreThanAThousandElementsAreSummarised) {
  // The width comes from the shown elements only (9999, not the hidden ones).
  EXPECT_EQ(str(iota({2000}, g::kInt64)), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  EXPECT_EQ(str(iota({100, 100}, g::kInt64)),
            "tensor([[   0,    1,    2,  ...,   97,   98,   99],\n"
            "        [ 100,  101,  102,  ...,  197,  198,  199],\n"
            "        [ 200,  201,  202,  ...,  297,  298,  299],\n"
            "        ...,\n"
            "        [9700, 9701, 9702,  ..., 9797, 9798, 9799],\n"
            "        [9800, 9801, 9802,  ..., 9897, 9898, 9899],\n"
            "        [9900, 9901, 9902,  ..., 9997, 9998, 9999]])");
  // Exactly 1000 elements are all printed.
  const std::string thousand = str(iota({1000}, g::kInt64));
  EXPECT_EQ(thousand.find("..."), std::string::npos);
  EXPECT_NE(thousand.find("998, 999])"), std::string::npos);
}

TEST(Print, DeviceSuffixComesFirst) {
  // An empty device tensor prints without touching its (absent) memory.
  const g::TensorOptions cuda = g::TensorOptions().device(g::Device::cuda(0));
  EXPECT_EQ(str(g::from_blob(nullptr, {0}, cuda)), "tensor([], device='cuda:0')");
  EXPECT_EQ(str(g::from_blob(nullptr, {0, 2}, cuda.dtype(g::kInt32))),
            "tensor([], device='cuda:0', size=(0, 2), dtype=int32)");
}

TEST(Print, DeviceTensorsPrintFromAHostCopy) {
  GRAFT_REQUIRE_CUDA();
  EXPECT_EQ(str(make_tensor({1, 2}, {2}, g::kFloat32).cuda()), "tensor([1., 2.], device='cuda:0')");
  EXPECT_EQ(str(make_tensor({1, 2}, {2}, g::kInt32).cuda()),
            "tensor([1, 2], device='cuda:0', dtype=int32)");
}

TEST(Print, UndefinedTensor) { EXPECT_EQ(str(g::Tensor()), "tensor(undefined)"); }
