// Advanced indexing: index() and index_put_() with tensor indices, t[i], nonzero.
//
// The shapes follow PyTorch's rules (API.md, "Views share memory"): integers are applied
// first, as select; then the tensor indices broadcast together to one shape B, which takes
// the place of the indexed dims when they are adjacent and goes first when they are not.
// Each expected shape below is what libtorch gives for the same index (a NumPy shape is noted
// where it differs). Values are checked on tensors that hold their own coordinates, as in
// indexing_test.cpp; the registry rows (tests/ops/advanced_index_rows.cpp) check every
// dtype and layout against naive references.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace g = graft;
using g::Ellipsis;
using g::None;
using g::Shape;
using g::Slice;
using g::Tensor;
using g::testing::error_message;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

Tensor ints(const std::vector<double>& values, const Shape& shape) {
  return make_tensor(values, shape, g::kInt64);
}
Tensor bools(const std::vector<double>& values, const Shape& shape) {
  return make_tensor(values, shape, g::kBool);
}
std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// (3, 4, 5) with element (i, j, k) = 100 i + 10 j + k.
Tensor coded() {
  std::vector<double> v;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 5; ++k) v.push_back(100 * i + 10 * j + k);
  return make_tensor(v, {3, 4, 5}, g::kFloat64);
}

}  // namespace

TEST(AdvancedIndex, ShapesFollowPyTorchsRules) {
  const Tensor x = g::zeros({5, 6, 7, 8});
  const Tensor i = ints({0, 1}, {2});             // (2,)
  const Tensor j = ints({0, 1, 2}, {3, 1});       // (3, 1): broadcasts with i to (3, 2)
  const Tensor m56 = g::zeros({5, 6}, g::kBool);  // a mask of dims 0 and 1, 3 true
  m56.index_put_({0, 0}, true);
  m56.index_put_({4, 5}, true);
  m56.index_put_({2, 3}, true);
  const Tensor m5 = bools({0, 1, 0, 1, 0}, {5});  // 2 true: broadcasts with i
  struct Case {
    std::string what;
    std::vector<g::TensorIndex> index;
    Shape shape;
  };
  const std::vector<Case> cases = {
      {"x[i]", {i}, {2, 6, 7, 8}},
      {"x[:, i]", {Slice(), i}, {5, 2, 7, 8}},
      {"x[i, i]", {i, i}, {2, 7, 8}},
      {"x[:, i, i]", {Slice(), i, i}, {5, 2, 8}},
      {"x[i, :, i] (separated: B first)", {i, Slice(), i}, {2, 6, 8}},
      {"x[0, :, i]", {0, Slice(), i}, {6, 2, 8}},
      {"x[0, :, :, i] (NumPy: (2, 6, 7))", {0, Slice(), Slice(), i}, {6, 7, 2}},
      {"x[i, 0, i]", {i, 0, i}, {2, 8}},
      {"x[i, :, 0, i]", {i, Slice(), 0, i}, {2, 6}},
      {"x[j, i] (broadcast)", {j, i}, {3, 2, 7, 8}},
      {"x[:, j, :, i]", {Slice(), j, Slice(), i}, {3, 2, 5, 7}},
      {"x[..., i]", {Ellipsis, i}, {5, 6, 7, 2}},
      {"x[None, i]", {None, i}, {1, 2, 6, 7, 8}},
      {"x[i, None]", {i, None}, {2, 1, 6, 7, 8}},
      {"x[m56]", {m56}, {3, 7, 8}},
      {"x[:, m67] (an all-false mask of dims 1 and 2)",
       {Slice(), g::zeros({6, 7}, g::kBool)},
       {5, 0, 8}},
      {"x[m5, :, i] (a mask is its nonzero columns)", {m5, Slice(), i}, {2, 6, 8}},
      {"x[True]", {make_tensor({1}, {}, g::kBool)}, {1, 5, 6, 7, 8}},
      {"x[False]", {make_tensor({0}, {}, g::kBool)}, {0, 5, 6, 7, 8}},
      {"x[..., True, 0]", {Ellipsis, make_tensor({1}, {}, g::kBool), 0}, {5, 6, 7, 1}},
      {"x[empty]", {ints({}, {0})}, {0, 6, 7, 8}},
      {"x[tensor(3)] (a 0-d integer tensor is an integer)", {ints({3}, {})}, {6, 7, 8}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(x.index(c.index).shape(), c.shape);
  }
}

TEST(AdvancedIndex, PicksTheRightElements) {
  const Tensor x = coded();
  // x[[2, -3], 1]: rows 2 and 0 (from the end), column 1
  EXPECT_EQ(values(x.index({ints({2, -3}, {2}), 1})),
            (std::vector<double>{210, 211, 212, 213, 214, 10, 11, 12, 13, 14}));
  // x[0, :, [4, 0]]: (4, 2), the tensor's dim where it stands
  EXPECT_EQ(values(x.index({0, Slice(), ints({4, 0}, {2})})),
            (std::vector<double>{4, 0, 14, 10, 24, 20, 34, 30}));
  // x[[[0], [2]], 3, [1, 4]]: B = (2, 2), elements (0, 3, 1) (0, 3, 4) (2, 3, 1) (2, 3, 4)
  EXPECT_EQ(values(x.index({ints({0, 2}, {2, 1}), 3, ints({1, 4}, {2})})),
            (std::vector<double>{31, 34, 231, 234}));
  // x[mask] with a mask of dims 0 and 1 true at (1, 2) and (2, 0): rows in row-major order
  const Tensor mask = g::zeros({3, 4}, g::kBool);
  mask.index_put_({2, 0}, true);
  mask.index_put_({1, 2}, true);
  EXPECT_EQ(values(x.index({mask, 3})), (std::vector<double>{123, 203}));
  // A transposed x: the same elements whatever the strides.
  EXPECT_EQ(values(x.permute({2, 0, 1}).index({ints({1}, {1}), Slice(), 2})),
            (std::vector<double>{21, 121, 221}));
}

TEST(AdvancedIndex, IsACopyWhileSubscriptIsAView) {
  const Tensor x = coded();
  const Tensor picked = x.index({ints({1}, {1})});
  EXPECT_FALSE(picked.storage() == x.storage());
  picked.fill_(-1);
  EXPECT_EQ(x.index({1, 0, 0}).item<double>(), 100);
  const Tensor row = x[1];  // select(0, 1)
  EXPECT_TRUE(row.storage() == x.storage());
  EXPECT_EQ(row.shape(), (Shape{4, 5}));
  row[2][3].fill_(-7);
  EXPECT_EQ(x.index({1, 2, 3}).item<double>(), -7);
  EXPECT_EQ(x[-1][0][4].item<double>(), 204);
  const Tensor rows = x[ints({2, 0}, {2})];  // advanced indexing on dim 0: a copy
  EXPECT_FALSE(rows.storage() == x.storage());
  EXPECT_EQ(rows.shape(), (Shape{2, 4, 5}));
  EXPECT_EQ(rows[1][3][4].item<double>(), 34);
  // A 0-d integer tensor is an integer, so this one is a view.
  EXPECT_TRUE(x.index({ints({1}, {})}).storage() == x.storage());
}

TEST(AdvancedIndexErrors, SayWhatIsWrong) {
  const Tensor x = coded();
  EXPECT_THAT(error_message([&] {
                x.index({Slice(), ints({1, 4}, {2})});
              }),
              HasSubstr("index(): index 4 is out of bounds for dimension 1 with size 4"));
  EXPECT_THAT(error_message([&] {
                x.index({ints({0, -4}, {2})});
              }),
              HasSubstr("index(): index -4 is out of bounds for dimension 0 with size 3"));
  EXPECT_THAT(error_message([&] {
                g::zeros({0, 2}).index({ints({0}, {1})});
              }),
              HasSubstr("index 0 is out of bounds for dimension 0 with size 0"));
  EXPECT_THAT(error_message([&] {
                x.index({bools({1, 0, 1, 0}, {2, 2})});
              }),
              HasSubstr("index(): the shape of the mask (2, 2) does not match the shape (3, 4) "
                        "of dims 0 to 1 of the indexed tensor (shape (3, 4, 5))"));
  EXPECT_THAT(error_message([&] {
                x.index({make_tensor({0.0, 1.0}, {2}, g::kFloat32)});
              }),
              HasSubstr("index(): tensors used as indices must be int64, int32, bool or uint8 "
                        "tensors, got float32"));
  EXPECT_THAT(error_message([&] {
                x.index({ints({0, 1}, {2}), ints({0, 1, 2}, {3})});
              }),
              HasSubstr("shapes (2,) and (3,) cannot be broadcast together"));
  EXPECT_THAT(error_message([&] {
                x.index({g::zeros({3, 4}, g::kBool), 0, 0});
              }),
              HasSubstr("index(): too many indices for tensor of dimension 3"));
  EXPECT_THAT(error_message([&] { x.index({Tensor()}); }),
              HasSubstr("index(): an undefined Tensor is not an index"));
}

TEST(IndexPutAdvanced, WritesAndAccumulates) {
  const Tensor x = g::zeros({5});
  x.index_put_({ints({1, 3}, {2})}, make_tensor({7, 8}, {2}, g::kFloat32));
  EXPECT_EQ(values(x), (std::vector<double>{0, 7, 0, 8, 0}));
  // Repeated positions with accumulate: every value adds, in index order on the CPU.
  x.index_put_({ints({0, 0, -1, 0}, {4})}, make_tensor({1, 2, 3, 4}, {4}), true);
  EXPECT_EQ(values(x), (std::vector<double>{7, 7, 0, 8, 3}));
  // Without accumulate, the CPU keeps the last value written to a position (CUDA: any one).
  x.index_put_({ints({2, 2, 2}, {3})}, make_tensor({5, 6, 9}, {3}));
  EXPECT_EQ(x.index({2}).item<double>(), 9);
  // A Scalar, through a mask, with accumulate.
  x.index_put_({x > 6}, 1.0, true);
  EXPECT_EQ(values(x), (std::vector<double>{8, 8, 10, 9, 3}));
}

TEST(IndexPutAdvanced, BroadcastsValuesIntoAStridedTensorInPlace) {
  const Tensor base = coded();
  const Tensor t = base.transpose(0, 2);  // (5, 4, 3), strided
  const uint64_t version = base._version();
  // t[[0, 4], :, 1] = [-1, -2, -3, -4]: the 1 selects first, so the indexed shape is (2, 4)
  // and the values broadcast over its rows: base[1, :, 0] and base[1, :, 4] are written.
  t.index_put_({ints({0, 4}, {2}), Slice(), 1}, make_tensor({-1, -2, -3, -4}, {4}));
  EXPECT_GT(base._version(), version);
  EXPECT_EQ(values(base.index({1, Slice(), 0})), (std::vector<double>{-1, -2, -3, -4}));
  EXPECT_EQ(values(base.index({1, Slice(), 4})), (std::vector<double>{-1, -2, -3, -4}));
  EXPECT_EQ(values(base.index({1, Slice(), 2})), (std::vector<double>{102, 112, 122, 132}));
  // Values read from the tensor being written are copied before the write.
  const Tensor r = coded().select(0, 0).select(0, 0).clone();  // [0, 1, 2, 3, 4]
  r.index_put_({ints({1, 2, 3, 4}, {4})}, r.narrow(0, 0, 4));
  EXPECT_EQ(values(r), (std::vector<double>{0, 0, 1, 2, 3}));
  // Integer values into a float tensor are converted, as copy_ converts.
  base.index_put_({bools({1, 0, 0}, {3})}, ints({5}, {}));
  EXPECT_EQ(values(base.index({0})), std::vector<double>(20, 5));
}

TEST(IndexPutAdvanced, ErrorsLeaveTheTensorUntouched) {
  const Tensor x = coded();
  const std::vector<double> before = values(x);
  EXPECT_THAT(error_message([&] {
                x.index_put_({Slice(), ints({0, 4}, {2})}, 1.0);
              }),
              HasSubstr("index_put_(): index 4 is out of bounds for dimension 1 with size 4"));
  EXPECT_THAT(error_message([&] {
                x.index_put_({ints({0, 1}, {2})}, make_tensor({1, 2, 3}, {3}));
              }),
              HasSubstr("index_put_(): shape mismatch: value tensor of shape (3,) cannot be "
                        "broadcast to indexing result of shape (2, 4, 5)"));
  EXPECT_EQ(values(x), before);
  const Tensor expanded = make_tensor({1, 2}, {2, 1}).expand({2, 3});
  EXPECT_THAT(error_message([&] { expanded.index_put_({ints({0}, {1})}, 5.0); }),
              HasSubstr("index_put_(): unsupported operation: more than one element of the "
                        "written-to tensor refers to a single memory location"));
  const Tensor leaf = g::zeros({3}).requires_grad_();
  EXPECT_THAT(error_message([&] { leaf.index_put_({ints({0}, {1})}, 5.0); }),
              HasSubstr("index_put_"));
}

TEST(Nonzero, MatchesAPlainWalkAcrossChunksRanksAndDensities) {
  // Many chunks of the CPU kernel's 65536 flags (kernels/cpu/index.cpp), ranks 1 to 8, flags
  // none, some, all, and only the last; each against the coordinates of a plain walk.
  const Shape shapes[] = {
      {1000003}, {1001, 1003}, {3, 70001}, {2, 3, 40000, 2}, {5, 4, 4, 4, 4, 4, 4, 4}};
  for (const Shape& shape : shapes) {
    for (const double density : {0.0, 0.3, 1.0, -1.0}) {
      SCOPED_TRACE(shape.str() + " density " + std::to_string(density));
      Tensor flags = density >= 0 ? g::rand(shape) < density : g::zeros(shape, g::kBool);
      if (density < 0) flags.view({shape.numel()}).index_put_({shape.numel() - 1}, true);
      const std::vector<int64_t> got = g::nonzero(flags).to_vector<int64_t>();
      const std::vector<uint8_t> bits = flags.to(g::kUInt8).to_vector<uint8_t>();
      std::vector<int64_t> want;
      for (int64_t p = 0; p < shape.numel(); ++p) {
        if (!bits[p]) continue;
        std::vector<int64_t> coord(shape.size());
        int64_t rest = p;
        for (int64_t d = shape.size() - 1; d >= 0; --d) {
          coord[d] = rest % shape[d];
          rest /= shape[d];
        }
        want.insert(want.end(), coord.begin(), coord.end());
      }
      EXPECT_EQ(got, want);
    }
  }
}

TEST(Nonzero, GivesCoordinatesInRowMajorOrder) {
  const Tensor m = make_tensor({0, 1.5, 0, -2, 0, 3}, {2, 3});
  const Tensor nz = g::nonzero(m);
  EXPECT_EQ(nz.dtype(), g::kInt64);
  EXPECT_EQ(nz.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(nz), (std::vector<double>{0, 1, 1, 0, 1, 2}));
  EXPECT_EQ(values(m.t().nonzero()), (std::vector<double>{0, 1, 1, 0, 2, 1}));
  EXPECT_EQ(values(bools({1, 0, 1}, {3}).nonzero()), (std::vector<double>{0, 2}));
  EXPECT_EQ(g::nonzero(g::zeros({2, 0})).shape(), (Shape{0, 2}));
  EXPECT_EQ(g::nonzero(make_tensor({4}, {})).shape(), (Shape{1, 0}));
  EXPECT_EQ(g::nonzero(make_tensor({0}, {})).shape(), (Shape{0, 0}));
}
