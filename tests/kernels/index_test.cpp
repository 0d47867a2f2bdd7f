// Joining and indexing ops (cat, stack, gather, index_select, scatter_add) against naive loops.
//
// Every op reads its inputs in each memory layout (contiguous, permuted, sliced with steps,
// expanded with stride 0) and several dtypes; the reference walks the logical values of the
// same inputs (to_vector) with plain coordinate arithmetic, so it shares no code with the
// kernels. Each error path is checked with its message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

const g::DType kAllDTypes[] = {g::kBool, g::kUInt8, g::kInt32, g::kInt64, g::kFloat32, g::kFloat64};

struct Layout {
  std::string name;
  g::Tensor tensor;
};

// Tensors of `shape` and `dtype` with values drawn from [lo, hi) (truncated for integer
// dtypes; from 0 for uint8, which cannot hold negatives), in every layout a kernel must read:
// contiguous, permuted (dims reversed in memory), sliced with step 2 in every dim, and
// expanded along dim 0 (stride 0).
std::vector<Layout> layouts(const g::Shape& shape, g::DType dtype, double lo, double hi,
                            uint32_t seed = 1) {
  if (dtype == g::kUInt8) lo = std::max(lo, 0.0);
  auto values = [&](const g::Shape& s) { return sample_values(s.numel(), lo, hi, seed); };
  std::vector<Layout> out;
  out.push_back({"contiguous", make_tensor(values(shape), shape, dtype)});
  g::Shape reversed, doubled;
  g::Dims back;
  std::vector<g::TensorIndex> odd_positions;
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    reversed.push_back(shape[d]);
    back.push_back(d);
  }
  for (int64_t d = 0; d < shape.size(); ++d) {
    doubled.push_back(2 * shape[d] + 1);
    odd_positions.push_back(g::Slice(1, g::None, 2));
  }
  out.push_back({"permuted", make_tensor(values(reversed), reversed, dtype).permute(back)});
  out.push_back({"sliced", make_tensor(values(doubled), doubled, dtype).index(odd_positions)});
  if (!shape.empty()) {
    g::Shape one = shape;
    one[0] = 1;
    out.push_back({"expanded", make_tensor(values(one), one, dtype).expand(shape)});
  }
  return out;
}

std::vector<int64_t> unravel(int64_t i, const g::Shape& shape) {
  std::vector<int64_t> c(static_cast<size_t>(shape.size()));
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    c[d] = i % shape[d];
    i /= shape[d];
  }
  return c;
}

int64_t ravel(const std::vector<int64_t>& c, const g::Shape& shape) {
  int64_t i = 0;
  for (int64_t d = 0; d < shape.size(); ++d) i = i * shape[d] + c[d];
  return i;
}

// out[c] = x[c with c[dim] = index[c]]
std::vector<double> naive_gather(const g::Tensor& x, int64_t dim, const g::Tensor& index) {
  const auto xv = x.to_vector<double>();
  const auto iv = index.to_vector<int64_t>();
  std::vector<double> out(iv.size());
  for (size_t i = 0; i < iv.size(); ++i) {
    auto c = unravel(i, index.shape());
    c[dim] = iv[i];
    out[i] = xv[ravel(c, x.shape())];
  }
  return out;
}

// out[c] = x[c with c[dim] = index[c[dim]]]
std::vector<double> naive_index_select(const g::Tensor& x, int64_t dim, const g::Tensor& index) {
  const auto xv = x.to_vector<double>();
  const auto iv = index.to_vector<int64_t>();
  g::Shape shape = x.shape();
  shape[dim] = static_cast<int64_t>(iv.size());
  std::vector<double> out(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    auto c = unravel(i, shape);
    c[dim] = iv[c[dim]];
    out[i] = xv[ravel(c, x.shape())];
  }
  return out;
}

// out = x; out[c with c[dim] = index[c]] += src[c]; for bool, += is a logical or.
std::vector<double> naive_scatter_add(const g::Tensor& x, int64_t dim, const g::Tensor& index,
                                      const g::Tensor& src) {
  auto out = x.to_vector<double>();
  const auto iv = index.to_vector<int64_t>();
  const auto sv = src.to_vector<double>();
  for (size_t i = 0; i < iv.size(); ++i) {
    auto c = unravel(i, index.shape());
    const double s = sv[ravel(c, src.shape())];
    c[dim] = iv[i];
    double& o = out[ravel(c, x.shape())];
    o = x.dtype() == g::kBool ? static_cast<double>(o != 0 || s != 0) : o + s;
  }
  return out;
}

// The inputs one after the other along `dim`.
std::vector<double> naive_cat(const std::vector<g::Tensor>& parts, int64_t dim) {
  g::Shape shape = parts[0].shape();
  shape[dim] = 0;
  for (const g::Tensor& t : parts) shape[dim] += t.size(dim);
  std::vector<std::vector<double>> values;
  for (const g::Tensor& t : parts) values.push_back(t.to_vector<double>());
  std::vector<double> out(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    auto c = unravel(i, shape);
    size_t k = 0;
    while (c[dim] >= parts[k].size(dim)) c[dim] -= parts[k++].size(dim);
    out[i] = values[k][ravel(c, parts[k].shape())];
  }
  return out;
}

// Exact for integer results and float copies; a relative tolerance for float sums.
void expect_values(const g::Tensor& t, const std::vector<double>& expected, double tol = 0) {
  const auto got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], expected[i], tol * (1 + std::abs(expected[i]))) << "element " << i;
}

// The index shape used against x of `shape` along `dim`: longer than x along dim (allowed),
// shorter than x along some other dims (allowed), so self's strides must be used.
g::Shape index_shape_for(const g::Shape& shape, int64_t dim) {
  g::Shape s = shape;
  for (int64_t d = 0; d < s.size(); ++d) s[d] = d == dim ? shape[d] + 3 : shape[d] - (d % 2);
  return s;
}

g::Tensor fake_cuda_tensor(float* storage) {
  return g::from_blob(storage, {1}, g::TensorOptions(g::kFloat32).device(g::Device::cuda()));
}

}  // namespace

// ---- gather

TEST(Gather, MatchesNaiveLoopsOnEveryLayoutDtypeAndDim) {
  const g::Shape shape{4, 5, 6};
  for (g::DType dtype : kAllDTypes)
    for (int64_t dim : {0, 1, 2, -1}) {
      const int64_t d = dim < 0 ? dim + 3 : dim;
      for (const Layout& x : layouts(shape, dtype, -4, 4))
        for (const Layout& index : layouts(index_shape_for(shape, d), g::kInt64, 0, shape[d], 7)) {
          SCOPED_TRACE(
              g::detail::make_message(dtype, " dim ", dim, " x ", x.name, " index ", index.name));
          const g::Tensor out = g::gather(x.tensor, dim, index.tensor);
          EXPECT_EQ(out.shape(), index.tensor.shape());
          EXPECT_EQ(out.dtype(), dtype);
          expect_values(out, naive_gather(x.tensor, d, index.tensor));
        }
    }
}

TEST(Gather, LargeInputsTakeTheThreadedPathWithTheSameResult) {
  const g::Tensor x = make_tensor(sample_values(512 * 300), {512, 300}, g::kFloat32);
  const g::Tensor index = make_tensor(sample_values(512 * 400, 0, 300, 3), {512, 400}, g::kInt64);
  expect_values(x.gather(1, index), naive_gather(x, 1, index));
}

TEST(Gather, ZeroDimAndEmptyInputs) {
  double value = 2.5;
  int64_t zero = 0;
  const g::Tensor x0 = g::from_blob(&value, {}, g::kFloat64);
  const g::Tensor i0 = g::from_blob(&zero, {}, g::kInt64);
  // A 0-d tensor takes part as a (1,) tensor, as in PyTorch.
  EXPECT_EQ(g::gather(x0, 0, i0).shape(), g::Shape{});
  EXPECT_EQ(g::gather(x0, -1, i0).item<double>(), 2.5);
  expect_values(g::gather(x0, 0, make_tensor({0, 0}, {2}, g::kInt64)), {2.5, 2.5});
  expect_values(g::gather(make_tensor({7, 8, 9}, {3}), 0, make_tensor({2}, {}, g::kInt64)), {9});
  // An empty index gives an empty result without reading x.
  const g::Tensor x = make_tensor(sample_values(6), {2, 3});
  EXPECT_EQ(g::gather(x, 1, g::empty({2, 0}, g::kInt64)).shape(), (g::Shape{2, 0}));
  EXPECT_EQ(g::gather(g::empty({0, 3}), 0, g::empty({0, 3}, g::kInt64)).shape(), (g::Shape{0, 3}));
}

TEST(GatherErrors, NameTheOpTheShapesAndTheBadValue) {
  const g::Tensor x = make_tensor(sample_values(6), {3, 2});
  EXPECT_EQ(error_message([&] {
              g::gather(x, 0, make_tensor({0, 7}, {1, 2}, g::kInt64));
            }),
            "gather(): index 7 is out of bounds for dimension 0 with size 3");
  EXPECT_EQ(error_message([&] {
              g::gather(x, 1, make_tensor({-1}, {1, 1}, g::kInt64));
            }),
            "gather(): index -1 is out of bounds for dimension 1 with size 2");
  EXPECT_THAT(error_message([&] {
                g::gather(x, 0, make_tensor({0}, {1, 1}, g::kInt32));
              }),
              HasSubstr("gather(): Expected dtype int64 for index, got int32"));
  EXPECT_THAT(error_message([&] { g::gather(x, 0, make_tensor({0}, {1}, g::kInt64)); }),
              HasSubstr("gather(): Index tensor must have the same number of dimensions as input "
                        "tensor (index shape (1,), input shape (3, 2))"));
  EXPECT_THAT(error_message([&] {
                g::gather(x, 0, make_tensor({0, 0, 0}, {1, 3}, g::kInt64));
              }),
              HasSubstr("gather(): Size does not match at dimension 1 expected index (1, 3) to be "
                        "no larger than self (3, 2) apart from dimension 0"));
  EXPECT_THAT(error_message([&] {
                g::gather(x, 2, make_tensor({0}, {1, 1}, g::kInt64));
              }),
              HasSubstr("gather(): dimension out of range (expected to be in range of [-2, 1], "
                        "but got 2)"));
  float on_device = 0;
  EXPECT_THAT(error_message([&] { g::gather(x, 0, fake_cuda_tensor(&on_device)); }),
              HasSubstr("gather(): Expected all tensors to be on the same device"));
}

// ---- index_select

TEST(IndexSelect, MatchesNaiveLoopsOnEveryLayoutDtypeAndDim) {
  const g::Shape shape{4, 5, 6};
  for (g::DType dtype : kAllDTypes)
    for (g::DType index_dtype : {g::kInt64, g::kInt32})
      for (int64_t dim : {0, 1, 2, -2}) {
        const int64_t d = dim < 0 ? dim + 3 : dim;
        for (const Layout& x : layouts(shape, dtype, -4, 4))
          for (const Layout& index : layouts({7}, index_dtype, 0, shape[d], 5)) {
            SCOPED_TRACE(g::detail::make_message(dtype, " index ", index_dtype, " dim ", dim, " x ",
                                                 x.name, " index ", index.name));
            const g::Tensor out = x.tensor.index_select(dim, index.tensor);
            g::Shape expected_shape = shape;
            expected_shape[d] = 7;
            EXPECT_EQ(out.shape(), expected_shape);
            expect_values(out, naive_index_select(x.tensor, d, index.tensor));
          }
      }
}

TEST(IndexSelect, LargeInputsTakeTheThreadedPathWithTheSameResult) {
  // An embedding lookup: rows of a (1000, 64) table picked by 3000 ids.
  const g::Tensor table = make_tensor(sample_values(1000 * 64), {1000, 64}, g::kFloat32);
  const g::Tensor ids = make_tensor(sample_values(3000, 0, 1000, 9), {3000}, g::kInt64);
  expect_values(g::index_select(table, 0, ids), naive_index_select(table, 0, ids));
}

TEST(IndexSelect, ZeroDimAndEmptyInputs) {
  double value = 4.0;
  const g::Tensor x0 = g::from_blob(&value, {}, g::kFloat64);
  const g::Tensor picked = g::index_select(x0, 0, make_tensor({0}, {1}, g::kInt64));
  EXPECT_EQ(picked.shape(), g::Shape{});  // a 0-d input gives a 0-d result, as in PyTorch
  EXPECT_EQ(picked.item<double>(), 4.0);
  const g::Tensor x = make_tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_values(g::index_select(x, 1, make_tensor({2}, {}, g::kInt32)), {3, 6});
  EXPECT_EQ(g::index_select(x, 0, g::empty({0}, g::kInt64)).shape(), (g::Shape{0, 3}));
  EXPECT_EQ(g::index_select(g::empty({0, 3}), 1, make_tensor({1, 1}, {2}, g::kInt64)).shape(),
            (g::Shape{0, 2}));
}

TEST(IndexSelectErrors, NameTheOpTheShapesAndTheBadValue) {
  const g::Tensor x = make_tensor(sample_values(8), {2, 4});
  EXPECT_EQ(error_message([&] {
              g::index_select(x, 1, make_tensor({1, 5}, {2}, g::kInt64));
            }),
            "index_select(): index 5 is out of bounds for dimension 1 with size 4");
  EXPECT_EQ(error_message([&] { g::index_select(x, 0, make_tensor({-1}, {1}, g::kInt32)); }),
            "index_select(): index -1 is out of bounds for dimension 0 with size 2");
  EXPECT_THAT(error_message([&] { g::index_select(x, 0, make_tensor({0}, {1}, g::kFloat32)); }),
              HasSubstr("index_select(): Expected dtype int32 or int64 for index, got float32"));
  EXPECT_THAT(error_message([&] {
                g::index_select(x, 0, make_tensor({0, 1}, {1, 2}, g::kInt64));
              }),
              HasSubstr("index_select(): Index is supposed to be a vector (0-d or 1-D), got shape "
                        "(1, 2)"));
  double value = 1;
  EXPECT_THAT(error_message([&] {
                g::index_select(g::from_blob(&value, {}, g::kFloat64), 0,
                                make_tensor({0, 0}, {2}, g::kInt64));
              }),
              HasSubstr("index_select(): Index to scalar can have only 1 value, got 2 value(s)"));
  EXPECT_THAT(error_message([&] { g::index_select(x, -3, make_tensor({0}, {1}, g::kInt64)); }),
              HasSubstr("index_select(): dimension out of range"));
  float on_device = 0;
  EXPECT_THAT(error_message([&] { g::index_select(fake_cuda_tensor(&on_device), 0, x); }),
              HasSubstr("index_select(): Expected all tensors to be on the same device"));
}

// ---- scatter_add

TEST(ScatterAdd, MatchesNaiveLoopsOnEveryLayoutDtypeAndDim) {
  // Indices repeat (9 sources into 3 to 6 slots), so sums of several sources are covered.
  const g::Shape shape{3, 4, 6};
  for (g::DType dtype : kAllDTypes)
    for (int64_t dim : {0, 1, 2, -3}) {
      const int64_t d = dim < 0 ? dim + 3 : dim;
      g::Shape index_shape = index_shape_for(shape, d);
      index_shape[d] = 9;
      g::Shape src_shape = index_shape;
      src_shape[(d + 1) % 3] += 1;  // src may be larger than index along any dim
      for (const Layout& x : layouts(shape, dtype, -4, 4))
        for (const Layout& index : layouts(index_shape, g::kInt64, 0, shape[d], 11))
          for (const Layout& src : layouts(src_shape, dtype, -4, 4, 13)) {
            SCOPED_TRACE(g::detail::make_message(dtype, " dim ", dim, " x ", x.name, " index ",
                                                 index.name, " src ", src.name));
            const auto before = x.tensor.to_vector<double>();
            const g::Tensor out = g::scatter_add(x.tensor, dim, index.tensor, src.tensor);
            EXPECT_EQ(out.shape(), shape);
            EXPECT_EQ(out.dtype(), dtype);
            expect_values(out, naive_scatter_add(x.tensor, d, index.tensor, src.tensor), 1e-6);
            EXPECT_EQ(x.tensor.to_vector<double>(), before);  // the out-of-place form copies
          }
    }
}

TEST(ScatterAdd, OnBoolIsALogicalOrAsInPyTorch) {
  const g::Tensor x = make_tensor({0, 1, 0}, {3}, g::kBool);
  const g::Tensor index = make_tensor({0, 0, 1, 2}, {4}, g::kInt64);
  const g::Tensor src = make_tensor({1, 1, 1, 0}, {4}, g::kBool);
  expect_values(g::scatter_add(x, 0, index, src), {1, 1, 0});
}

TEST(ScatterAdd, InPlaceWritesThroughAViewAndReturnsSelf) {
  const g::Tensor base = make_tensor({0, 0, 0, 0, 0, 0}, {2, 3});
  const g::Tensor column_view = base.t();  // (3, 2), strides (1, 3)
  const g::Tensor& result = column_view.scatter_add_(
      0, make_tensor({2, 2, 0}, {1, 3}, g::kInt64).t(), make_tensor({1, 2, 4}, {3, 1}));
  EXPECT_TRUE(result.is_same(column_view));
  // column 0 of the view is row 0 of base: slot 2 gets 1 + 2, slot 0 gets 4.
  expect_values(base, {4, 0, 3, 0, 0, 0});
}

TEST(ScatterAdd, LargeFloatSumsAreDeterministicAndAddInIndexOrder) {
  // 4096 sources per element into 64 slots along dim 0: many threads, many collisions per slot.
  // The other dims, (512) or (5, 103), are the kernel's rows, walked in runs of consecutive
  // ones: in the second shape a run crosses from one row of 103 to the next.
  const int64_t rows = 4096, slots = 64;
  for (const g::Shape& others : {g::Shape{512}, g::Shape{5, 103}}) {
    SCOPED_TRACE(::testing::PrintToString(others));
    const int64_t cols = others.numel();
    g::Shape x_shape = others, shape = others;
    x_shape.insert(0, slots);
    shape.insert(0, rows);
    const g::Tensor x = make_tensor(sample_values(slots * cols), x_shape, g::kFloat32);
    const g::Tensor index = make_tensor(sample_values(rows * cols, 0, slots, 5), shape, g::kInt64);
    const g::Tensor src = make_tensor(sample_values(rows * cols, -1, 1, 6), shape, g::kFloat32);
    const auto first = g::scatter_add(x, 0, index, src).to_vector<float>();
    EXPECT_EQ(g::scatter_add(x, 0, index, src).to_vector<float>(), first);
    // A float loop over the sources in order of their row gives the very same bits.
    auto expected = x.to_vector<float>();
    const auto iv = index.to_vector<int64_t>();
    const auto sv = src.to_vector<float>();
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) expected[iv[i * cols + j] * cols + j] += sv[i * cols + j];
    EXPECT_EQ(first, expected);
  }
}

TEST(ScatterAdd, ZeroDimAndEmptyInputs) {
  double value = 1.5, add = 2.0;
  int64_t zero = 0;
  const g::Tensor x0 = g::from_blob(&value, {}, g::kFloat64);
  const g::Tensor out = g::scatter_add(x0, 0, g::from_blob(&zero, {}, g::kInt64),
                                       g::from_blob(&add, {}, g::kFloat64));
  EXPECT_EQ(out.shape(), g::Shape{});
  EXPECT_EQ(out.item<double>(), 3.5);
  const g::Tensor x = make_tensor({1, 2, 3, 4}, {2, 2});
  expect_values(g::scatter_add(x, 1, g::empty({2, 0}, g::kInt64), g::empty({2, 0}, g::kFloat64)),
                {1, 2, 3, 4});
}

TEST(ScatterAddErrors, NameTheOpTheShapesAndTheBadValue) {
  const g::Tensor x = make_tensor({1, 2, 3, 4, 5, 6}, {3, 2});
  const g::Tensor src = make_tensor({1, 1, 1, 1}, {2, 2});
  EXPECT_EQ(error_message([&] {
              g::scatter_add(x, 0, make_tensor({0, 7, 1, 1}, {2, 2}, g::kInt64), src);
            }),
            "scatter_add(): index 7 is out of bounds for dimension 0 with size 3");
  // A failed in-place call leaves self untouched: the index is checked before any write.
  EXPECT_THAT(error_message([&] {
                x.scatter_add_(0, make_tensor({0, 0, 1, 3}, {2, 2}, g::kInt64), src);
              }),
              HasSubstr("index 3 is out of bounds"));
  expect_values(x, {1, 2, 3, 4, 5, 6});
  const g::Tensor index = make_tensor({0, 0, 0, 0}, {2, 2}, g::kInt64);
  EXPECT_THAT(error_message([&] { g::scatter_add(x, 0, index, src.to(g::kFloat32)); }),
              HasSubstr("scatter_add(): Expected self.dtype to be equal to src.dtype (float64 and "
                        "float32)"));
  EXPECT_THAT(error_message([&] { g::scatter_add(x, 0, index.to(g::kInt32), src); }),
              HasSubstr("scatter_add(): Expected dtype int64 for index, got int32"));
  EXPECT_THAT(error_message([&] { g::scatter_add(x, 0, index.view({4}), src); }),
              HasSubstr("scatter_add(): Index tensor must have the same number of dimensions as "
                        "self tensor"));
  EXPECT_THAT(error_message([&] { g::scatter_add(x, 0, index, src.view({4})); }),
              HasSubstr("Index tensor must have the same number of dimensions as src tensor"));
  EXPECT_THAT(error_message([&] { g::scatter_add(x, 0, index, src.narrow(0, 0, 1)); }),
              HasSubstr("scatter_add(): Expected index (2, 2) to be no larger than self (3, 2) "
                        "apart from dimension 0 and to be no larger than src (1, 2)"));
  EXPECT_THAT(error_message([&] {
                g::scatter_add(x, 1, make_tensor({0, 0, 0, 0, 0, 0, 0, 0}, {4, 2}, g::kInt64),
                               make_tensor(sample_values(8), {4, 2}));
              }),
              HasSubstr("to be no larger than self (3, 2) apart from dimension 1"));
  EXPECT_THAT(error_message([&] {
                x.narrow(0, 0, 1).expand({3, 2}).scatter_add_(0, index, src);
              }),
              HasSubstr("scatter_add_(): unsupported operation: more than one element of the "
                        "written-to tensor refers to a single memory location"));
  float on_device = 0;
  EXPECT_THAT(error_message([&] { g::scatter_add(x, 0, index, fake_cuda_tensor(&on_device)); }),
              HasSubstr("scatter_add(): Expected all tensors to be on the same device"));
}

// ---- cat and stack

TEST(Cat, MatchesNaiveLoopsOnEveryLayoutAndDim) {
  for (int64_t dim : {0, 1, 2, -1}) {
    const int64_t d = dim < 0 ? dim + 3 : dim;
    g::Shape a_shape{2, 3, 4}, b_shape{2, 3, 4};
    b_shape[d] = 5;
    for (const Layout& a : layouts(a_shape, g::kFloat32, -4, 4))
      for (const Layout& b : layouts(b_shape, g::kFloat32, -4, 4, 3)) {
        SCOPED_TRACE(g::detail::make_message("dim ", dim, " a ", a.name, " b ", b.name));
        const g::Tensor out = g::cat({a.tensor, b.tensor, a.tensor}, dim);
        g::Shape expected_shape = a_shape;
        expected_shape[d] = 2 * a_shape[d] + b_shape[d];
        EXPECT_EQ(out.shape(), expected_shape);
        EXPECT_TRUE(out.is_contiguous());
        expect_values(out, naive_cat({a.tensor, b.tensor, a.tensor}, d));
      }
  }
}

TEST(Cat, PromotesDtypesAsPyTorch) {
  const g::Tensor ints = make_tensor({1, 2}, {2}, g::kInt32);
  const g::Tensor floats = make_tensor({0.5}, {1}, g::kFloat32);
  const g::Tensor flags = make_tensor({1, 0}, {2}, g::kBool);
  const g::Tensor bytes = make_tensor({200}, {1}, g::kUInt8);
  EXPECT_EQ(g::cat({ints, floats}).dtype(), g::kFloat32);
  expect_values(g::cat({ints, floats}), {1, 2, 0.5});
  EXPECT_EQ(g::cat({flags, bytes}).dtype(), g::kUInt8);
  expect_values(g::cat({flags, bytes}), {1, 0, 200});
  EXPECT_EQ(g::cat({flags, flags}).dtype(), g::kBool);
}

TEST(Cat, SkipsLegacyEmptyVectorsAndKeepsEmptySlices) {
  const g::Tensor x = make_tensor({1, 2, 3, 4}, {2, 2});
  const g::Tensor legacy = g::empty({0}, g::kFloat64);  // shape (0,) takes no part
  const g::Tensor out = g::cat({legacy, x, legacy, x}, 1);
  EXPECT_EQ(out.shape(), (g::Shape{2, 4}));
  expect_values(out, {1, 2, 1, 2, 3, 4, 3, 4});
  // ... but it still takes part in promotion, as in PyTorch.
  EXPECT_EQ(g::cat({g::empty({0}, g::kFloat64), make_tensor({1}, {1, 1}, g::kFloat32)}).dtype(),
            g::kFloat64);
  EXPECT_EQ(g::cat({legacy, legacy}).shape(), g::Shape{0});
  EXPECT_EQ(g::cat({x, g::empty({2, 0}, g::kFloat64)}, 1).shape(), (g::Shape{2, 2}));
  EXPECT_EQ(g::cat({x}, -2).shape(), (g::Shape{2, 2}));
}

TEST(CatErrors, NameTheOpTheShapesAndThePosition) {
  const g::Tensor a = make_tensor(sample_values(6), {2, 3});
  EXPECT_EQ(error_message([] { g::cat({}); }), "cat(): expected a non-empty list of Tensors");
  EXPECT_THAT(error_message([&] {
                g::cat({a, a.select(0, 0).select(0, 0)});
              }),
              HasSubstr("cat(): zero-dimensional tensor (at position 1) cannot be concatenated"));
  EXPECT_THAT(error_message([&] {
                g::cat({a, a.view({6})});
              }),
              HasSubstr("cat(): Tensors must have same number of dimensions: got 2 and 1"));
  EXPECT_THAT(error_message([&] {
                g::cat({a, a, a.narrow(1, 0, 2)}, 0);
              }),
              HasSubstr("cat(): Sizes of tensors must match except in dimension 0. Expected size 3 "
                        "but got size 2 for tensor number 2 in the list"));
  EXPECT_THAT(error_message([&] {
                g::cat({a, a}, 2);
              }),
              HasSubstr("cat(): dimension out of range (expected to be in range of [-2, 1], but "
                        "got 2)"));
  EXPECT_THAT(error_message([&] {
                g::cat({a, g::Tensor()});
              }),
              HasSubstr("cat(): the tensor at position 1 is undefined"));
  float on_device = 0;
  EXPECT_THAT(error_message([&] {
                g::cat({a.view({6}), fake_cuda_tensor(&on_device)});
              }),
              HasSubstr("cat(): Expected all tensors to be on the same device"));
}

TEST(Stack, InsertsANewDimAtEveryPosition) {
  const g::Tensor a = make_tensor(sample_values(6, -4, 4, 1), {2, 3});
  const g::Tensor b = make_tensor(sample_values(6, -4, 4, 2), {3, 2}).t();  // non-contiguous
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    SCOPED_TRACE(dim);
    const int64_t d = dim < 0 ? dim + 3 : dim;
    const g::Tensor out = g::stack({a, b}, dim);
    g::Shape expected_shape{2, 3};
    expected_shape.insert(d, 2);
    EXPECT_EQ(out.shape(), expected_shape);
    expect_values(out, naive_cat({a.unsqueeze(d), b.unsqueeze(d)}, d));
  }
  double one = 1, two = 2;  // 0-d tensors stack into a vector
  expect_values(
      g::stack({g::from_blob(&one, {}, g::kFloat64), g::from_blob(&two, {}, g::kFloat64)}), {1, 2});
}

TEST(StackErrors, NameBothShapesAndTheEntry) {
  const g::Tensor a = make_tensor(sample_values(6), {2, 3});
  EXPECT_EQ(error_message([] { g::stack({}); }), "stack(): expected a non-empty list of Tensors");
  EXPECT_EQ(error_message([&] {
              g::stack({a, a, a.t()});
            }),
            "stack(): expects each tensor to be equal size, but got (2, 3) at entry 0 and (3, 2) "
            "at entry 2");
  EXPECT_THAT(error_message([&] {
                g::stack({a, a}, 3);
              }),
              HasSubstr("stack(): dimension out of range (expected to be in range of [-3, 2], but "
                        "got 3)"));
}
