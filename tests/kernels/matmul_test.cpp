// matmul, mm and bmm against a naive double-precision product, on every memory layout.
//
// Operands are described by their logical values (row-major) and shape; the same values
// are laid out contiguously, transposed, with row steps and with row and column steps
// (neither stride 1, which matmul must copy), and the reference multiplies the logical
// values with plain loops following torch.matmul's documented rules.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

// A tensor's logical contents: row-major values of `shape`.
struct Dense {
  std::vector<double> values;
  std::vector<int64_t> shape;
};

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// Deterministic values of `shape`; whole numbers for integer dtypes so products are exact.
Dense sample(const std::vector<int64_t>& shape, g::DType dtype, uint32_t seed) {
  std::vector<double> v = sample_values(numel(shape), -2.0, 2.0, seed);
  if (!g::is_floating_point(dtype))
    for (double& x : v) x = std::round(2.5 * x);
  return {v, shape};
}

// Calls fn(index) for every multi-index of `shape` in row-major order.
template <class Fn>
void for_each_index(const std::vector<int64_t>& shape, const Fn& fn) {
  const int64_t n = numel(shape);
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    fn(index);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

int64_t flat_index(const std::vector<int64_t>& shape, const std::vector<int64_t>& index) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + index[d];
  return flat;
}

enum class Layout { kContiguous, kTransposed, kRowStep, kRowAndColumnSteps };
const Layout kLayouts[] = {Layout::kContiguous, Layout::kTransposed, Layout::kRowStep,
                           Layout::kRowAndColumnSteps};
const char* layout_name(Layout l) {
  switch (l) {
    case Layout::kContiguous:
      return "contiguous";
    case Layout::kTransposed:
      return "transposed";
    case Layout::kRowStep:
      return "row step";
    case Layout::kRowAndColumnSteps:
      return "row and column steps";
  }
  return "";
}

// `d` as a tensor in `layout`. Transposed: the last two dims are stored swapped and
// transpose()d back. Steps: every other row (and column) of a larger buffer whose other
// elements are poison, selected with a slice of step 2 (3 for columns).
g::Tensor in_layout(const Dense& d, Layout layout, g::DType dtype) {
  const int64_t nd = static_cast<int64_t>(d.shape.size());
  if (layout == Layout::kContiguous || nd == 0) return make_tensor(d.values, d.shape, dtype);
  if (layout == Layout::kTransposed) {
    if (nd < 2) return make_tensor(d.values, d.shape, dtype);
    std::vector<int64_t> swapped = d.shape;
    std::swap(swapped[nd - 1], swapped[nd - 2]);
    std::vector<double> stored(d.values.size());
    for_each_index(d.shape, [&](const std::vector<int64_t>& i) {
      std::vector<int64_t> j = i;
      std::swap(j[nd - 1], j[nd - 2]);
      stored[flat_index(swapped, j)] = d.values[flat_index(d.shape, i)];
    });
    return make_tensor(stored, swapped, dtype).transpose(-2, -1);
  }
  const int64_t row_step = nd >= 2 ? 2 : 1;
  const int64_t col_step = layout == Layout::kRowAndColumnSteps || nd == 1 ? 3 : 1;
  std::vector<int64_t> big = d.shape;
  big[nd - 1] *= col_step;
  if (nd >= 2) big[nd - 2] *= row_step;
  std::vector<double> stored(numel(big), 1e9);
  for_each_index(d.shape, [&](const std::vector<int64_t>& i) {
    std::vector<int64_t> j = i;
    j[nd - 1] *= col_step;
    if (nd >= 2) j[nd - 2] *= row_step;
    stored[flat_index(big, j)] = d.values[flat_index(d.shape, i)];
  });
  const g::Tensor buffer = make_tensor(stored, big, dtype);
  if (nd == 1) return buffer.index({g::Slice(g::None, g::None, col_step)});
  return buffer.index(
      {g::Ellipsis, g::Slice(g::None, g::None, row_step), g::Slice(g::None, g::None, col_step)});
}

// torch.matmul on logical values: 1-D operands become a row / a column, batch dims
// broadcast (a size-1 dim reads index 0), then a triple loop per batch.
Dense naive_matmul(const Dense& a, const Dense& b) {
  std::vector<int64_t> sa = a.shape, sb = b.shape;
  if (sa.size() == 1) sa.insert(sa.begin(), 1);
  if (sb.size() == 1) sb.push_back(1);
  const size_t nb = std::max(sa.size(), sb.size()) - 2;
  std::vector<int64_t> batch(nb);
  for (size_t d = 0; d < nb; ++d) {
    const int64_t da = static_cast<int64_t>(d + sa.size()) - static_cast<int64_t>(nb) - 2;
    const int64_t db = static_cast<int64_t>(d + sb.size()) - static_cast<int64_t>(nb) - 2;
    batch[d] = std::max(da >= 0 ? sa[da] : 1, db >= 0 ? sb[db] : 1);
  }
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  std::vector<int64_t> out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Dense out{{}, {}};
  for_each_index(out_shape, [&](const std::vector<int64_t>& idx) {
    // The operand's index of output batch idx, row r and column c.
    auto operand_index = [&](const std::vector<int64_t>& shape, int64_t r, int64_t c) {
      std::vector<int64_t> i(shape.size());
      for (size_t d = 0; d + 2 < shape.size(); ++d)
        i[d] = shape[d] == 1 ? 0 : idx[d + nb + 2 - shape.size()];
      i[shape.size() - 2] = r;
      i[shape.size() - 1] = c;
      return flat_index(shape, i);
    };
    const int64_t i = idx[nb], j = idx[nb + 1];
    double acc = 0;
    for (int64_t p = 0; p < k; ++p)
      acc += a.values[operand_index(sa, i, p)] * b.values[operand_index(sb, p, j)];
    out.values.push_back(acc);
  });
  out.shape = batch;
  if (a.shape.size() > 1) out.shape.push_back(m);
  if (b.shape.size() > 1) out.shape.push_back(n);
  return out;
}

// Relative to 1 + |expected|; integer products are exact. The float32 bound covers the
// rounding of up to ~200 summed terms of magnitude <= 4.
double tolerance(g::DType dtype) {
  return dtype == g::kFloat32 ? 1e-4 : (dtype == g::kFloat64 ? 1e-10 : 0.0);
}

void expect_matches(const g::Tensor& got, const Dense& expected, g::DType dtype,
                    const std::string& what) {
  EXPECT_EQ(got.shape(), g::Shape(expected.shape)) << what;
  EXPECT_EQ(got.dtype(), dtype) << what;
  EXPECT_TRUE(got.is_contiguous()) << what;
  const std::vector<double> values = got.to_vector<double>();
  ASSERT_EQ(values.size(), expected.values.size()) << what;
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_NEAR(values[i], expected.values[i],
                tolerance(dtype) * (1 + std::abs(expected.values[i])))
        << what << " at " << i;
}

// Multiplies a (shape_a) by b (shape_b) in every pair of layouts and dtype.
void check_matmul(const std::vector<int64_t>& shape_a, const std::vector<int64_t>& shape_b,
                  std::initializer_list<g::DType> dtypes = {g::kFloat32, g::kFloat64, g::kInt32,
                                                            g::kInt64}) {
  for (g::DType dtype : dtypes) {
    const Dense a = sample(shape_a, dtype, 1), b = sample(shape_b, dtype, 2);
    const Dense expected = naive_matmul(a, b);
    for (Layout la : kLayouts) {
      for (Layout lb : kLayouts) {
        const std::string what = g::Shape(shape_a).str() + " x " + g::Shape(shape_b).str() + " " +
                                 g::dtype_name(dtype) + " " + layout_name(la) + " x " +
                                 layout_name(lb);
        expect_matches(g::matmul(in_layout(a, la, dtype), in_layout(b, lb, dtype)), expected, dtype,
                       what);
      }
    }
  }
}

TEST(Matmul, ResultShapesFollowTorchMatmul) {
  struct Case {
    g::Shape a, b, result;
  };
  const Case cases[] = {
      {{3}, {3}, {}},                           // dot product: 0-d
      {{3}, {3, 4}, {4}},                       // 1 prepended, then removed
      {{2, 3}, {3}, {2}},                       // 1 appended, then removed
      {{2, 3}, {3, 4}, {2, 4}},                 // mm
      {{4}, {2, 4, 5}, {2, 5}},                 // vector times a batch of matrices
      {{2, 3, 4}, {4}, {2, 3}},                 // batch of matrices times a vector
      {{2, 3, 4}, {4, 5}, {2, 3, 5}},           // matrix broadcast over the batch
      {{3, 4}, {2, 4, 5}, {2, 3, 5}},           // and the other way round
      {{2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}},  // batch dims broadcast both ways
  };
  for (const Case& c : cases) {
    const g::Tensor out = g::matmul(make_tensor(sample_values(c.a.numel()), c.a),
                                    make_tensor(sample_values(c.b.numel()), c.b));
    EXPECT_EQ(out.shape(), c.result) << c.a << " x " << c.b;
  }
}

TEST(Matmul, MatchesNaiveProductForEveryRankDtypeAndLayout) {
  check_matmul({1}, {1});
  check_matmul({7}, {7});
  check_matmul({5}, {5, 3});
  check_matmul({4, 5}, {5});
  check_matmul({1, 1}, {1, 1});
  check_matmul({33, 17}, {17, 65});
  check_matmul({4}, {3, 4, 5});
  check_matmul({3, 4, 5}, {5});
  check_matmul({3, 5, 7}, {3, 7, 4});
  check_matmul({3, 5, 7}, {7, 4});  // folded into one (15, 7) x (7, 4) product
  check_matmul({5, 7}, {3, 7, 4});
  check_matmul({2, 1, 3, 4}, {5, 4, 6});
  check_matmul({2, 3, 1, 6}, {3, 6, 2});
}

TEST(Matmul, ReadsTransposedViewsWithoutTheirContiguousCopy) {
  // x.t() is a column-major view; the product with it equals the one with its copy.
  const g::Tensor x = make_tensor(sample_values(12), {3, 4});
  const g::Tensor w = make_tensor(sample_values(20, -1, 1, 7), {5, 4});
  const Dense expected =
      naive_matmul({sample_values(12), {3, 4}}, {w.t().contiguous().to_vector<double>(), {4, 5}});
  expect_matches(g::matmul(x, w.t()), expected, g::kFloat64, "x @ w.t()");
  expect_matches(x.mm(w.t()), expected, g::kFloat64, "x.mm(w.t())");
}

TEST(Matmul, BroadcastBatchDimsReadTheSameMatrixThroughStrideZero) {
  // (4, 3, 5) expanded from one (3, 5) matrix: batch stride 0.
  const Dense one = sample({3, 5}, g::kFloat64, 3);
  const g::Tensor a = make_tensor(one.values, {3, 5}).unsqueeze(0).expand({4, 3, 5});
  ASSERT_EQ(a.stride(0), 0);
  const Dense b = sample({4, 5, 2}, g::kFloat64, 4);
  std::vector<double> repeated;
  for (int i = 0; i < 4; ++i) repeated.insert(repeated.end(), one.values.begin(), one.values.end());
  const Dense expected = naive_matmul({repeated, {4, 3, 5}}, b);
  expect_matches(g::matmul(a, make_tensor(b.values, {4, 5, 2})), expected, g::kFloat64,
                 "expanded matmul");
  expect_matches(g::bmm(a, make_tensor(b.values, {4, 5, 2})), expected, g::kFloat64,
                 "expanded bmm");
  // Rows expanded from one row (row stride 0), also through the folded (batch * m) path.
  const Dense row = sample({1, 5}, g::kFloat64, 5);
  std::vector<double> rows;
  for (int i = 0; i < 6; ++i) rows.insert(rows.end(), row.values.begin(), row.values.end());
  const Dense w = sample({5, 3}, g::kFloat64, 6);
  expect_matches(
      g::matmul(make_tensor(row.values, {1, 5}).expand({6, 5}), make_tensor(w.values, {5, 3})),
      naive_matmul({rows, {6, 5}}, w), g::kFloat64, "expanded rows");
  expect_matches(g::matmul(make_tensor(row.values, {1, 1, 5}).expand({2, 3, 5}),
                           make_tensor(w.values, {5, 3})),
                 naive_matmul({rows, {2, 3, 5}}, w), g::kFloat64, "expanded rows, batched");
}

TEST(Matmul, BatchedTimesMatrixWhoseRowsCannotFoldStillMatches) {
  // A permuted batch (batch stride smaller than the row stride) cannot be one tall matrix.
  const Dense stored = sample({3, 2, 4}, g::kFloat64, 8);
  const g::Tensor a = make_tensor(stored.values, {3, 2, 4}).permute({1, 0, 2});  // (2, 3, 4)
  const Dense logical{a.contiguous().to_vector<double>(), {2, 3, 4}};
  const Dense w = sample({4, 5}, g::kFloat64, 9);
  expect_matches(g::matmul(a, make_tensor(w.values, {4, 5})), naive_matmul(logical, w), g::kFloat64,
                 "permuted batch");
  // Single rows (m = 1) with a column step: folding them would leave no unit stride.
  const Dense wide = sample({3, 1, 8}, g::kFloat64, 10);
  const g::Tensor stepped =
      make_tensor(wide.values, {3, 1, 8}).index({g::Ellipsis, g::Slice(0, g::None, 2)});
  const Dense stepped_logical{stepped.contiguous().to_vector<double>(), {3, 1, 4}};
  expect_matches(g::matmul(stepped, make_tensor(w.values, {4, 5})),
                 naive_matmul(stepped_logical, w), g::kFloat64, "stepped single rows");
}

TEST(Matmul, ManySmallMatricesAndLargeTiledProducts) {
  // On 3 threads: 200 batches of (6, 6) split across them; large products cut into (256, 64)
  // output tiles that the threads share, with partial tiles on both edges, every layout and
  // a batch; and the same on one thread, where a large product runs whole.
  for (int threads : {3, 1}) {
    const g::testing::SettingsScope scope(false, threads);
    check_matmul({200, 6, 6}, {200, 6, 6}, {g::kFloat64, g::kInt64});
    check_matmul({2, 300, 70}, {2, 70, 130}, {g::kFloat32, g::kFloat64});
    const Dense a = sample({150, 130}, g::kFloat64, 11), b = sample({130, 170}, g::kFloat64, 12);
    expect_matches(g::matmul(make_tensor(a.values, {150, 130}), make_tensor(b.values, {130, 170})),
                   naive_matmul(a, b), g::kFloat64, "large product");
  }
}

TEST(Matmul, EmptyDims) {
  // k = 0 sums nothing: zeros of shape (m, n).
  const g::Tensor zeros = g::matmul(g::empty({2, 0}), g::empty({0, 3}));
  EXPECT_EQ(zeros.shape(), g::Shape({2, 3}));
  EXPECT_EQ(zeros.to_vector<double>(), std::vector<double>(6, 0.0));
  EXPECT_EQ(g::matmul(g::empty({0}), g::empty({0})).item<double>(), 0.0);
  EXPECT_EQ(g::matmul(g::empty({2, 0, 3}), g::empty({2, 3, 0})).to_vector<double>(),
            std::vector<double>());
  // m, n or a batch dim of 0: an empty result of the right shape.
  EXPECT_EQ(g::matmul(g::empty({0, 3}), g::empty({3, 4})).shape(), g::Shape({0, 4}));
  EXPECT_EQ(g::matmul(g::empty({2, 3}), g::empty({3, 0})).shape(), g::Shape({2, 0}));
  EXPECT_EQ(g::matmul(g::empty({0, 2, 3}), g::empty({3, 4})).shape(), g::Shape({0, 2, 4}));
  EXPECT_EQ(g::bmm(g::empty({0, 2, 3}), g::empty({0, 3, 4})).shape(), g::Shape({0, 2, 4}));
  EXPECT_EQ(g::matmul(g::empty({2, 1, 0, 3}), g::empty({5, 3, 4})).shape(), g::Shape({2, 5, 0, 4}));
}

TEST(MmBmm, MatchTheirMatmulEquivalents) {
  for (g::DType dtype : {g::kFloat32, g::kFloat64, g::kInt64}) {
    const Dense a = sample({9, 13}, dtype, 13), b = sample({13, 6}, dtype, 14);
    for (Layout la : kLayouts)
      expect_matches(g::mm(in_layout(a, la, dtype), in_layout(b, Layout::kTransposed, dtype)),
                     naive_matmul(a, b), dtype, std::string("mm ") + layout_name(la));
    const Dense p = sample({4, 9, 13}, dtype, 15), q = sample({4, 13, 6}, dtype, 16);
    for (Layout lp : kLayouts)
      expect_matches(g::bmm(in_layout(p, lp, dtype), in_layout(q, Layout::kRowStep, dtype)),
                     naive_matmul(p, q), dtype, std::string("bmm ") + layout_name(lp));
  }
}

TEST(MatmulErrors, NameBothShapes) {
  const g::Tensor m23 = g::empty({2, 3}), m45 = g::empty({4, 5}), v4 = g::empty({4});
  EXPECT_THAT(error_message([&] { g::matmul(m23, m45); }),
              HasSubstr("matmul(): mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"));
  EXPECT_THAT(error_message([&] { g::mm(m23, m45); }),
              HasSubstr("mm(): mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"));
  EXPECT_THAT(error_message([&] { g::matmul(m23, v4); }),
              HasSubstr("mat1 and mat2 shapes cannot be multiplied (2x3 and 4)"));
  EXPECT_THAT(error_message([&] { g::matmul(g::empty({3}), v4); }),
              HasSubstr("shapes cannot be multiplied (3 and 4)"));
  EXPECT_THAT(error_message([&] {
                g::bmm(g::empty({2, 2, 3}), g::empty({2, 4, 5}));
              }),
              HasSubstr("bmm(): batch1 and batch2 shapes cannot be multiplied (2x2x3 and 2x4x5)"));
  EXPECT_THAT(error_message([&] {
                g::bmm(g::empty({2, 2, 3}), g::empty({3, 3, 5}));
              }),
              HasSubstr("bmm(): batch1 and batch2 must have the same batch size, but got shapes "
                        "(2, 2, 3) and (3, 3, 5)"));
  EXPECT_THAT(error_message([&] {
                g::matmul(g::empty({2, 3, 4}), g::empty({5, 4, 6}));
              }),
              HasSubstr("matmul(): the batch dims of shapes (2, 3, 4) and (5, 4, 6) cannot be "
                        "broadcast"));
}

TEST(MatmulErrors, RanksDtypesAndDevices) {
  const g::Tensor m = g::empty({2, 2}), scalar = g::empty({});
  EXPECT_THAT(error_message([&] { g::matmul(scalar, m); }),
              HasSubstr("both arguments to matmul need to be at least 1D, but they are 0D and 2D"));
  EXPECT_THAT(error_message([&] {
                g::mm(g::empty({2, 2, 2}), m);
              }),
              HasSubstr("mm(): expected 2-D tensors, got 3-D and 2-D"));
  EXPECT_THAT(error_message([&] {
                g::bmm(m, g::empty({2, 2, 2}));
              }),
              HasSubstr("bmm(): expected 3-D tensors, got 2-D and 3-D"));
  EXPECT_THAT(error_message([&] {
                g::matmul(m, g::empty({2, 2}, g::kFloat64));
              }),
              HasSubstr("expected both operands to have the same dtype, but got float32 and "
                        "float64"));
  EXPECT_THAT(error_message([&] {
                g::matmul(g::empty({2, 2}, g::kBool), g::empty({2, 2}, g::kBool));
              }),
              HasSubstr("matmul(): bool tensors are not supported"));
  EXPECT_THAT(error_message([&] {
                g::mm(g::empty({2, 2}, g::kUInt8), g::empty({2, 2}, g::kUInt8));
              }),
              HasSubstr("mm(): uint8 tensors are not supported"));
  float fake_device[4] = {};
  const g::Tensor on_cuda =
      g::from_blob(fake_device, {2, 2}, g::TensorOptions(g::kFloat32).device(g::Device::cuda()));
  EXPECT_THAT(error_message([&] { g::matmul(m, on_cuda); }),
              HasSubstr("Expected all tensors to be on the same device, but found at least two "
                        "devices, cpu and cuda:0"));
}

}  // namespace
