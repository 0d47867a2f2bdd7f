// NumPy-style indexing views: index() with integers, Slice, None and Ellipsis; index_put_;
// select, narrow and diagonal.
//
// The tensor under test holds its own coordinates: element (i, j, k) of the (3, 4, 5) tensor
// is 100 i + 10 j + k, so every expected value below spells out which element it is, and
// the expected slices are what Python's list slicing gives for the same bounds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

// 100 i + 10 j + k for every (i, j, k) of the product of the three lists, row-major.
std::vector<double> codes(const std::vector<int>& is, const std::vector<int>& js,
                          const std::vector<int>& ks) {
  std::vector<double> out;
  for (int i : is)
    for (int j : js)
      for (int k : ks) out.push_back(100 * i + 10 * j + k);
  return out;
}

// The (3, 4, 5) tensor whose elements are their own codes.
g::Tensor coded(g::DType dtype = g::kFloat64) {
  return make_tensor(codes({0, 1, 2}, {0, 1, 2, 3}, {0, 1, 2, 3, 4}), {3, 4, 5}, dtype);
}

std::vector<double> values(const g::Tensor& t) { return t.to_vector<double>(); }

const std::vector<int> kAllI{0, 1, 2}, kAllJ{0, 1, 2, 3}, kAllK{0, 1, 2, 3, 4};

}  // namespace

TEST(Index, IntegersSelectAndDropDims) {
  const g::Tensor t = coded();
  EXPECT_EQ(t.index({1}).shape(), (g::Shape{4, 5}));
  EXPECT_EQ(values(t.index({1})), codes({1}, kAllJ, kAllK));
  EXPECT_EQ(values(t.index({-1, 2})), codes({2}, {2}, kAllK));  // negatives count from the end
  const g::Tensor element = t.index({1, -2, 4});
  EXPECT_EQ(element.shape(), g::Shape{});
  EXPECT_EQ(element.item<double>(), 124);
}

TEST(Index, SlicesFollowPythonBoundsAndSteps) {
  const g::Tensor t = coded();
  struct Case {
    g::Slice slice;
    std::vector<int> ks;  // list(range(5))[slice] in Python
  };
  const Case cases[] = {
      {g::Slice(), {0, 1, 2, 3, 4}},
      {g::Slice(1, g::None, 2), {1, 3}},
      {g::Slice(-3), {2, 3, 4}},
      {g::Slice(g::None, -1), {0, 1, 2, 3}},
      {g::Slice(-100, 100), {0, 1, 2, 3, 4}},
      {g::Slice(-2, -1), {3}},
      {g::Slice(g::None, g::None, 3), {0, 3}},
      {g::Slice(3, g::None, 10), {3}},
      {g::Slice(4, 1), {}},
      {g::Slice(5), {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.ks));
    const g::Tensor v = t.index({g::Slice(), 2, c.slice});
    EXPECT_EQ(v.shape(), (g::Shape{3, static_cast<int64_t>(c.ks.size())}));
    EXPECT_EQ(values(v), codes(kAllI, {2}, c.ks));
  }
  // A slice of a slice composes offsets and steps.
  EXPECT_EQ(values(t.index({g::Slice(1), g::Slice(g::None, g::None, 2), g::Slice(1, g::None, 2)})
                       .index({g::Slice(), g::Slice(1), g::Slice(1)})),
            codes({1, 2}, {2}, {3}));
}

TEST(Index, SlicesAreViewsThatSeeAndMakeWrites) {
  const g::Tensor t = coded();
  const g::Tensor v = t.index({g::Slice(g::None, g::None, 2), 1, g::Slice(1, 4, 2)});
  EXPECT_TRUE(v.storage() == t.storage());
  EXPECT_EQ(v.strides(), (g::Shape{40, 2}));
  v.fill_(-1);
  EXPECT_EQ(t.index({2, 1, 3}).item<double>(), -1);
  EXPECT_EQ(t.index({2, 1, 2}).item<double>(), 212);  // skipped by the step
  t.index_put_({0, 1, 1}, 7.0);
  EXPECT_EQ(v.index({0, 0}).item<double>(), 7);
}

TEST(Index, NoneInsertsDimsAndEllipsisFillsTheRest) {
  const g::Tensor t = coded();
  EXPECT_EQ(t.index({g::None}).shape(), (g::Shape{1, 3, 4, 5}));
  EXPECT_EQ(t.index({g::Ellipsis, g::None}).shape(), (g::Shape{3, 4, 5, 1}));
  EXPECT_EQ(t.index({g::Slice(), g::None, 1}).shape(), (g::Shape{3, 1, 5}));
  EXPECT_EQ(values(t.index({g::Ellipsis, 1})), codes(kAllI, kAllJ, {1}));
  EXPECT_EQ(values(t.index({0, g::Ellipsis, 2})), codes({0}, kAllJ, {2}));
  const g::Tensor mixed = t.index({g::None, 0, g::None, g::Slice(1, 3)});
  EXPECT_EQ(mixed.shape(), (g::Shape{1, 1, 2, 5}));
  EXPECT_EQ(values(mixed), codes({0}, {1, 2}, kAllK));
  // An Ellipsis may stand for no dim at all.
  EXPECT_EQ(t.index({1, 2, 3, g::Ellipsis}).item<double>(), 123);
  EXPECT_EQ(t.index({}).shape(), t.shape());
}

TEST(Index, WorksOnNonContiguousAndZeroDimTensors) {
  const g::Tensor p = coded().permute({2, 0, 1});  // p[k][i][j] = 100 i + 10 j + k
  EXPECT_EQ(values(p.index({3, g::Slice(1), -1})), codes({1, 2}, {3}, {3}));
  double value = 5;
  const g::Tensor s = g::from_blob(&value, {}, g::kFloat64);
  EXPECT_EQ(s.index({g::None}).shape(), g::Shape{1});
  EXPECT_EQ(s.index({g::Ellipsis}).item<double>(), 5);
  EXPECT_EQ(s.index({g::None, g::None, g::Ellipsis}).shape(), (g::Shape{1, 1}));
  // ... and views of it as one-element shapes, which the indexing ops rely on.
  EXPECT_EQ(s.view({1}).item<double>(), 5);
  EXPECT_EQ(s.reshape({1, 1}).shape(), (g::Shape{1, 1}));
  EXPECT_EQ(s.flatten().shape(), g::Shape{1});
  // Slicing an empty dim gives an empty dim.
  EXPECT_EQ(g::empty({0, 3}).index({g::Slice(1), 1}).shape(), g::Shape{0});
}

TEST(IndexErrors, SayWhatIsWrong) {
  const g::Tensor t = coded();
  EXPECT_THAT(error_message([&] {
                t.index({0, 0, 0, 0});
              }),
              HasSubstr("index(): too many indices for tensor of dimension 3 (shape (3, 4, 5), got "
                        "4 indices)"));
  EXPECT_THAT(error_message([&] {
                t.index({g::Ellipsis, 0, g::Ellipsis});
              }),
              HasSubstr("index(): an index can only have a single ellipsis"));
  EXPECT_THAT(error_message([&] { t.index({g::Slice(g::None, g::None, 0)}); }),
              HasSubstr("index(): slice step must be positive, got 0"));
  EXPECT_THAT(error_message([&] { t.index({g::Slice(g::None, g::None, -1)}); }),
              HasSubstr("slice step must be positive, got -1"));
  EXPECT_THAT(error_message([&] { t.index({3}); }),
              HasSubstr("index 3 is out of bounds for dimension 0 with size 3"));
  EXPECT_THAT(error_message([&] {
                t.index({0, -5});
              }),
              HasSubstr("index -5 is out of bounds for dimension 0 with size 4"));
  EXPECT_THAT(error_message([&] { g::empty({0}).index({0}); }),
              HasSubstr("index 0 is out of bounds for dimension 0 with size 0"));
}

TEST(IndexPut, CopiesABroadcastTensorIntoTheIndexedView) {
  const g::Tensor t = coded();
  const g::Tensor row = make_tensor({-1, -2, -3, -4, -5}, {5}, g::kInt32);  // converted
  t.index_put_({g::Slice(1), 2}, row);  // t[1:, 2] = row, broadcast over dim 0
  EXPECT_EQ(values(t.index({g::Slice(1), 2})), (std::vector<double>{-1, -2, -3, -4, -5,  //
                                                                    -1, -2, -3, -4, -5}));
  EXPECT_EQ(values(t.index({0, 2})), codes({0}, {2}, kAllK));  // untouched
  const g::Tensor& same = t.index_put_({0, 0, 0}, make_tensor({9}, {}));
  EXPECT_TRUE(same.is_same(t));
  EXPECT_EQ(t.index({0, 0, 0}).item<double>(), 9);
}

TEST(IndexPut, FillsWithAScalarThroughStepsAndEllipsis) {
  const g::Tensor t = coded(g::kInt64);
  t.index_put_({g::Ellipsis, g::Slice(g::None, g::None, 2)}, 0);
  for (int k = 0; k < 5; ++k)
    EXPECT_EQ(values(t.index({g::Ellipsis, k})),
              k % 2 == 0 ? std::vector<double>(12, 0) : codes(kAllI, kAllJ, {k}));
  t.index_put_({1, 1, 1}, 2.75);  // converted to the tensor's int64
  EXPECT_EQ(t.index({1, 1, 1}).item<int64_t>(), 2);
}

TEST(IndexPut, ErrorsNameTheShapes) {
  const g::Tensor t = coded();
  EXPECT_THAT(error_message([&] {
                t.index_put_({0}, make_tensor({1, 2, 3}, {3}));
              }),
              HasSubstr("copy_(): the source of shape (3,) cannot be broadcast to the "
                        "destination's shape (4, 5)"));
  const g::Tensor expanded = make_tensor({1, 2}, {2, 1}).expand({2, 3});
  EXPECT_THAT(error_message([&] { expanded.index_put_({0}, 5.0); }),
              HasSubstr("fill_(): unsupported operation: more than one element of the written-to "
                        "tensor refers to a single memory location"));
}

TEST(Select, PicksOneSliceAlongAnyDim) {
  const g::Tensor t = coded();
  EXPECT_EQ(values(t.select(1, 3)), codes(kAllI, {3}, kAllK));
  EXPECT_EQ(values(t.select(-1, -5)), codes(kAllI, kAllJ, {0}));
  EXPECT_THAT(error_message([&] { t.select(2, 5); }),
              HasSubstr("select(): index 5 is out of bounds for dimension 2 with size 5"));
  EXPECT_THAT(error_message([&] { t.select(3, 0); }),
              HasSubstr("select(): dimension out of range"));
  EXPECT_THAT(error_message([&] { t.select(0, 0).select(0, 0).select(0, 0).select(0, 0); }),
              HasSubstr("select(): cannot be applied to a 0-dim tensor"));
}

// An index past a dimension's end throws graft::IndexError (a graft::Error), whatever the
// op: Python turns it into an IndexError, which `for x in t` relies on.
TEST(Select, AnIndexPastTheEndIsAnIndexError) {
  const g::Tensor t = coded();
  EXPECT_THROW(t.select(2, 5), g::IndexError);
  EXPECT_THROW(t.index({0, 0, -6}), g::IndexError);
  EXPECT_THROW(t.index({make_tensor({0, 4}, {2}, g::kInt64)}), g::IndexError);
  EXPECT_THROW(g::gather(t, 0, g::full({1, 1, 1}, 9, g::kInt64)), g::IndexError);
  EXPECT_THROW(g::index_select(t, 1, make_tensor({-7}, {1}, g::kInt64)), g::IndexError);
  try {
    t.select(0, 4);
  } catch (const g::Error& e) {  // still a graft::Error
    EXPECT_THAT(e.what(), HasSubstr("select(): index 4 is out of bounds for dimension 0"));
  }
  // Other bad input stays a plain graft::Error.
  EXPECT_THROW(
      {
        try {
          t.select(3, 0);
        } catch (const g::IndexError&) {
          ADD_FAILURE() << "a bad dim is not an index past the end";
        }
      },
      g::Error);
}

TEST(Narrow, KeepsARangeOfOneDim) {
  const g::Tensor t = coded();
  EXPECT_EQ(values(t.narrow(2, 1, 3)), codes(kAllI, kAllJ, {1, 2, 3}));
  EXPECT_EQ(values(t.narrow(-2, -2, 2)), codes(kAllI, {2, 3}, kAllK));  // start from the end
  EXPECT_EQ(t.narrow(0, 3, 0).shape(), (g::Shape{0, 4, 5}));            // empty at the end
  EXPECT_THAT(error_message([&] { t.narrow(1, 2, 3); }),
              HasSubstr("narrow(): start (2) + length (3) exceeds dimension size (4) of dim 1"));
  EXPECT_THAT(error_message([&] { t.narrow(1, 0, -1); }),
              HasSubstr("narrow(): length must be non-negative, got -1"));
  EXPECT_THAT(error_message([&] {
                t.index({0, 0, 0}).narrow(0, 0, 1);
              }),
              HasSubstr("narrow(): cannot be applied to a 0-dim tensor"));
}

TEST(Diagonal, OffsetsAndDimPairs) {
  const g::Tensor m = coded().select(0, 1);  // (4, 5): m[j][k] = 100 + 10 j + k
  EXPECT_EQ(values(m.diagonal()), (std::vector<double>{100, 111, 122, 133}));
  EXPECT_EQ(values(m.diagonal(2)), (std::vector<double>{102, 113, 124}));
  EXPECT_EQ(values(m.diagonal(-1)), (std::vector<double>{110, 121, 132}));
  EXPECT_EQ(m.diagonal(5).shape(), g::Shape{0});  // past the last column: empty
  EXPECT_EQ(m.diagonal(-4).shape(), g::Shape{0});
  // Swapping dim1 and dim2 moves the offset to the other side: rows now advance with it.
  EXPECT_EQ(values(m.diagonal(1, 1, 0)), (std::vector<double>{110, 121, 132}));
  // On 3-D, the kept dims come first and the diagonal last: d[k][n] = t[n][n][k].
  const g::Tensor d = coded().diagonal(0, 0, 1);
  EXPECT_EQ(d.shape(), (g::Shape{5, 3}));
  EXPECT_EQ(values(d.select(0, 4)), (std::vector<double>{4, 114, 224}));
  EXPECT_THAT(error_message([&] { m.diagonal(0, 1, -1); }),
              HasSubstr("diagonal(): dim1 and dim2 cannot be identical, got 1"));
  EXPECT_THAT(error_message([&] { m.select(0, 0).diagonal(); }),
              HasSubstr("diagonal(): expects a tensor with at least 2 dims, got shape (5,)"));
}
