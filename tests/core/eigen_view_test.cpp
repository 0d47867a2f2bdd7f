// Eigen <-> graft without copies: from_eigen(x) and Tensor::eigen<T>() share memory both ways,
// as torch.from_numpy and Tensor.numpy() do. Expected values are read from the Eigen side
// (the independent reference) or from raw buffers indexed by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
#include <utility>
#include <vector>

#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using testing::HasSubstr;

namespace {

// The tensor's logical values must be exactly x(i, j) of the Eigen object it views.
template <class Derived>
void expect_same_values(const g::Tensor& t, const Eigen::DenseBase<Derived>& x) {
  ASSERT_EQ(t.dim(), 2);
  ASSERT_EQ(t.size(0), x.rows());
  ASSERT_EQ(t.size(1), x.cols());
  const std::vector<double> v = t.to_vector<double>();
  for (int64_t i = 0; i < x.rows(); ++i)
    for (int64_t j = 0; j < x.cols(); ++j)
      EXPECT_EQ(v[i * x.cols() + j], static_cast<double>(x.derived()(i, j))) << i << ", " << j;
}

// The Eigen map must show the tensor's logical values at the same (i, j).
template <class T>
void expect_map_matches(const g::EigenMap<T>& v, const g::Tensor& t) {
  ASSERT_EQ(t.dim(), 2);
  ASSERT_EQ(v.rows(), t.size(0));
  ASSERT_EQ(v.cols(), t.size(1));
  const std::vector<double> values = t.to_vector<double>();
  for (int64_t i = 0; i < v.rows(); ++i)
    for (int64_t j = 0; j < v.cols(); ++j)
      EXPECT_EQ(static_cast<double>(v(i, j)), values[i * t.size(1) + j]) << i << ", " << j;
}

// 0, 1, 2, ... in memory order, so that a value tells its address.
Eigen::MatrixXf iota_matrix(int64_t rows, int64_t cols) {
  Eigen::MatrixXf m(rows, cols);
  std::iota(m.data(), m.data() + m.size(), 0.0f);
  return m;
}

}  // namespace

// ---- from_eigen: the layout comes from the storage order and Eigen's strides

TEST(FromEigen, ColumnMajorMatrixIsAStridedViewWithUnitRowStride) {
  Eigen::MatrixXf m = iota_matrix(2, 3);  // column-major: m(i, j) at i + 2 * j
  g::Tensor t = g::from_eigen(m);
  EXPECT_EQ(t.shape(), g::Shape({2, 3}));
  EXPECT_EQ(t.strides(), g::Shape({1, 2}));
  EXPECT_EQ(t.dtype(), g::kFloat32);
  EXPECT_TRUE(t.is_cpu());
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.data_ptr(), m.data());
  expect_same_values(t, m);
}

TEST(FromEigen, RowMajorMatrixIsContiguous) {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  g::Tensor t = g::from_eigen(m);
  EXPECT_EQ(t.strides(), g::Shape({3, 1}));
  EXPECT_EQ(t.dtype(), g::kFloat64);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(FromEigen, FixedSizeMatrix) {
  Eigen::Matrix3d m;
  m << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  g::Tensor t = g::from_eigen(m);
  EXPECT_EQ(t.strides(), g::Shape({1, 3}));
  expect_same_values(t, m);
}

TEST(FromEigen, WritesThroughEitherSideAreSeenByTheOther) {
  // The example of API.md "Host views".
  Eigen::MatrixXf m = Eigen::MatrixXf::Zero(2, 2);
  g::Tensor t = g::from_eigen(m);
  t.index_put_({0, 1}, 5.0);
  EXPECT_EQ(m(0, 1), 5.0f);
  m(1, 0) = 3;
  EXPECT_EQ(t.index({1, 0}).item<float>(), 3.0f);
  t.fill_(7);
  EXPECT_TRUE((m.array() == 7.0f).all());
}

TEST(FromEigen, MapWithRuntimeStrides) {
  // A 2 x 3 matrix picked out of a 20-float buffer: m(i, j) at 2 * i + 5 * j.
  std::vector<float> buffer(20);
  std::iota(buffer.begin(), buffer.end(), 0.0f);
  using Strided = Eigen::Map<Eigen::MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
  Strided m(buffer.data(), 2, 3, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(5, 2));
  g::Tensor t = g::from_eigen(m);
  EXPECT_EQ(t.strides(), g::Shape({2, 5}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 5, 10, 2, 7, 12}));
  t.index_put_({1, 2}, -1.0);
  EXPECT_EQ(buffer[2 * 1 + 5 * 2], -1.0f);
}

TEST(FromEigen, RowMajorMapWithOuterStride) {
  // Rows of 3 floats padded to 4: a row-major Map with OuterStride keeps the padding.
  std::vector<int32_t> buffer(8);
  std::iota(buffer.begin(), buffer.end(), 0);
  Eigen::Map<Eigen::Matrix<int32_t, 2, 3, Eigen::RowMajor>, 0, Eigen::OuterStride<4>> m(
      buffer.data());
  g::Tensor t = g::from_eigen(m);
  EXPECT_EQ(t.dtype(), g::kInt32);
  EXPECT_EQ(t.strides(), g::Shape({4, 1}));
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2, 4, 5, 6}));
}

TEST(FromEigen, BlockOfAMatrixViewsTheBlockOnly) {
  Eigen::MatrixXf m = iota_matrix(4, 4);
  g::Tensor t = g::from_eigen(m.block(1, 1, 2, 3));  // rows 1-2, cols 1-3
  EXPECT_EQ(t.shape(), g::Shape({2, 3}));
  EXPECT_EQ(t.strides(), g::Shape({1, 4}));
  EXPECT_EQ(t.data_ptr(), &m(1, 1));
  expect_same_values(t, m.block(1, 1, 2, 3));
  t.fill_(-1);
  EXPECT_EQ((m.array() == -1.0f).count(), 6);
  EXPECT_EQ(m(0, 0), 0.0f);
  EXPECT_EQ(m(1, 1), -1.0f);
  EXPECT_EQ(m(2, 3), -1.0f);
  EXPECT_EQ(m(3, 3), 15.0f);
}

TEST(FromEigen, TransposeExpressionIsARowMajorView) {
  Eigen::MatrixXf m = iota_matrix(2, 3);
  g::Tensor t = g::from_eigen(m.transpose());  // (3, 2); t[i][j] = m(j, i) at j + 2 * i
  EXPECT_EQ(t.shape(), g::Shape({3, 2}));
  EXPECT_EQ(t.strides(), g::Shape({2, 1}));
  expect_same_values(t, m.transpose());
}

TEST(FromEigen, CompileTimeVectorsGiveOneDimensionalTensors) {
  Eigen::VectorXd column(3);
  column << 1, 2, 3;
  g::Tensor c = g::from_eigen(column);
  EXPECT_EQ(c.shape(), g::Shape({3}));
  EXPECT_EQ(c.strides(), g::Shape({1}));

  Eigen::RowVectorXf row(4);
  row << 4, 5, 6, 7;
  g::Tensor r = g::from_eigen(row);
  EXPECT_EQ(r.shape(), g::Shape({4}));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{4, 5, 6, 7}));

  // A dynamic 3 x 1 matrix is not a vector at compile time: it stays 2-D.
  Eigen::MatrixXd column_matrix = column;
  EXPECT_EQ(g::from_eigen(column_matrix).shape(), g::Shape({3, 1}));
}

TEST(FromEigen, RowsAndColumnsAcrossTheStorageOrderAreStridedVectors) {
  Eigen::MatrixXf col_major = iota_matrix(3, 4);
  g::Tensor row1 = g::from_eigen(col_major.row(1));  // elements 3 apart
  EXPECT_EQ(row1.shape(), g::Shape({4}));
  EXPECT_EQ(row1.strides(), g::Shape({3}));
  EXPECT_EQ(row1.to_vector<float>(), (std::vector<float>{1, 4, 7, 10}));

  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = col_major;
  g::Tensor col2 = g::from_eigen(row_major.col(2));  // elements 4 apart
  EXPECT_EQ(col2.strides(), g::Shape({4}));
  EXPECT_EQ(col2.to_vector<float>(), (std::vector<float>{6, 7, 8}));
  col2.index_put_({0}, 100.0);
  EXPECT_EQ(row_major(0, 2), 100.0f);
}

TEST(FromEigen, ArraysOfEveryScalarType) {
  Eigen::Array<int64_t, 2, 2> i64;
  i64 << (int64_t{1} << 40), 2, 3, 4;  // a value beyond int32
  EXPECT_EQ(g::from_eigen(i64).dtype(), g::kInt64);
  expect_same_values(g::from_eigen(i64), i64);

  Eigen::Array<uint8_t, Eigen::Dynamic, 1> u8(3);
  u8 << 0, 128, 255;
  EXPECT_EQ(g::from_eigen(u8).dtype(), g::kUInt8);
  EXPECT_EQ(g::from_eigen(u8).to_vector<int>(), (std::vector<int>{0, 128, 255}));

  Eigen::Array<bool, 1, 3> flags;
  flags << true, false, true;
  EXPECT_EQ(g::from_eigen(flags).dtype(), g::kBool);
  EXPECT_EQ(g::from_eigen(flags).to_vector<int>(), (std::vector<int>{1, 0, 1}));

  Eigen::ArrayXXi i32 = Eigen::ArrayXXi::Constant(2, 3, 9);
  EXPECT_EQ(g::from_eigen(i32).dtype(), g::kInt32);
  expect_same_values(g::from_eigen(i32), i32);
}

TEST(FromEigen, RefAndConstObjects) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(3, 3);
  Eigen::Ref<Eigen::MatrixXd> ref = m.topRightCorner(2, 2);
  g::Tensor r = g::from_eigen(ref);
  EXPECT_EQ(r.data_ptr(), &m(0, 1));
  expect_same_values(r, m.topRightCorner(2, 2));

  // A const object still gives a tensor; not writing through it is the caller's part.
  const Eigen::MatrixXd& constant = m;
  g::Tensor c = g::from_eigen(constant);
  EXPECT_EQ(c.data_ptr(), m.data());
  expect_same_values(c, m);
}

TEST(FromEigen, EmptyMatrix) {
  Eigen::MatrixXf m(0, 3);
  g::Tensor t = g::from_eigen(m);
  EXPECT_EQ(t.shape(), g::Shape({0, 3}));
  EXPECT_EQ(t.numel(), 0);
}

TEST(FromEigen, NegativeStridesAreRefused) {
  // Eigen maps may walk memory backwards; graft strides cannot.
  std::vector<float> buffer(4);
  Eigen::Map<Eigen::VectorXf, 0, Eigen::InnerStride<Eigen::Dynamic>> reversed(
      buffer.data() + 3, 4, Eigen::InnerStride<Eigen::Dynamic>(-1));
  EXPECT_THAT(error_message([&] { g::from_eigen(reversed); }),
              HasSubstr("from_eigen(): the Eigen object has negative strides"));
}

// Whether from_eigen(x) compiles for an argument of type T (T& for an lvalue).
template <class T>
concept FromEigenAccepts = requires(T&& x) {
  g::from_eigen(std::forward<T>(x));
};

TEST(FromEigen, TemporariesDoNotCompile) {
  // A Matrix about to die would leave the tensor dangling; `m * 2` has no memory at all
  // (that one fails a static_assert with a message, which a concept cannot see).
  static_assert(!FromEigenAccepts<Eigen::MatrixXf>);
  static_assert(!FromEigenAccepts<Eigen::ArrayXXd>);
  static_assert(!FromEigenAccepts<const Eigen::MatrixXf>);  // what (m * 2).eval() returns
  static_assert(FromEigenAccepts<Eigen::MatrixXf&>);
  static_assert(FromEigenAccepts<const Eigen::MatrixXf&>);
  // A temporary Block or Map is fine: the memory it points to outlives it.
  static_assert(FromEigenAccepts<Eigen::Block<Eigen::MatrixXf>>);
  static_assert(FromEigenAccepts<Eigen::Map<Eigen::VectorXf>>);
}

// ---- Tensor::eigen<T>(): a strided Eigen::Map over the tensor's memory

TEST(TensorEigen, MapWritesAreSeenInTheTensor) {
  // The example of API.md "Host views", continued from the other direction.
  Eigen::MatrixXf m = Eigen::MatrixXf::Zero(2, 2);
  g::Tensor t = g::from_eigen(m);
  auto v = t.eigen<float>();
  v(1, 0) = 3;
  EXPECT_EQ(t.index({1, 0}).item<float>(), 3.0f);
  EXPECT_EQ(m(1, 0), 3.0f);
  t.index_put_({0, 1}, 4.0);
  EXPECT_EQ(v(0, 1), 4.0f);
}

TEST(TensorEigen, ContiguousTensorRoundTrips) {
  g::Tensor t = g::testing::make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, g::kFloat64);
  g::EigenMap<double> v = t.eigen<double>();
  EXPECT_EQ(v.data(), t.data_ptr());
  EXPECT_EQ(v.outerStride(), 3);
  EXPECT_EQ(v.innerStride(), 1);
  expect_map_matches(v, t);
  // Eigen arithmetic on the map reads the tensor: the row sums are 6 and 15.
  Eigen::VectorXd sums = v.rowwise().sum();
  EXPECT_EQ(sums(0), 6.0);
  EXPECT_EQ(sums(1), 15.0);
}

TEST(TensorEigen, TransposedViewMapsToTheTransposedMatrix) {
  Eigen::MatrixXf m = iota_matrix(2, 3);
  g::Tensor t = g::from_eigen(m).t();  // (3, 2) with strides (2, 1)
  auto v = t.eigen<float>();
  ASSERT_EQ(v.rows(), 3);
  ASSERT_EQ(v.cols(), 2);
  EXPECT_TRUE(v.isApprox(m.transpose()));
  expect_map_matches(v, t);

  g::Tensor contiguous = g::testing::make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, g::kInt32);
  auto vt = contiguous.t().eigen<int32_t>();  // (3, 2) with strides (1, 3)
  EXPECT_EQ(vt(2, 1), 6);
  EXPECT_EQ(vt(0, 1), 4);
  vt(1, 0) = -2;
  EXPECT_EQ(contiguous.index({0, 1}).item<int>(), -2);
}

TEST(TensorEigen, SlicedTensorWithStepsKeepsItsStrides) {
  using g::Slice;
  std::vector<double> values(30);
  std::iota(values.begin(), values.end(), 0.0);
  g::Tensor base = g::testing::make_tensor(values, {5, 6}, g::kFloat64);
  g::Tensor s = base.index({Slice(1, g::None, 2), Slice(0, 5, 2)});  // rows 1, 3; cols 0, 2, 4
  auto v = s.eigen<double>();
  ASSERT_EQ(v.rows(), 2);
  ASSERT_EQ(v.cols(), 3);
  EXPECT_EQ(v.outerStride(), 12);
  EXPECT_EQ(v.innerStride(), 2);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(v(i, j), values[(1 + 2 * i) * 6 + 2 * j]);
  v(1, 2) = -7;
  EXPECT_EQ(base.index({3, 4}).item<double>(), -7.0);
}

TEST(TensorEigen, OneDimensionalTensorIsAColumn) {
  std::vector<double> values = {0, 1, 2, 3, 4, 5, 6};
  g::Tensor every_third = g::testing::make_tensor(values, {7}, g::kFloat32)
                              .index({g::Slice(g::None, g::None, 3)});  // 0, 3, 6
  auto v = every_third.eigen<float>();
  ASSERT_EQ(v.rows(), 3);
  ASSERT_EQ(v.cols(), 1);
  EXPECT_EQ(v(1, 0), 3.0f);
  EXPECT_EQ(v.col(0)(2), 6.0f);
  v(2, 0) = 60;
  EXPECT_EQ(every_third.index({2}).item<float>(), 60.0f);
}

TEST(TensorEigen, ZeroDimTensorIsOneByOne) {
  g::Tensor t = g::testing::make_tensor({1, 2, 3, 4}, {2, 2}, g::kInt64);
  g::Tensor element = t.select(0, 1).select(0, 0);  // t[1][0], a 0-d view
  auto v = element.eigen<int64_t>();
  ASSERT_EQ(v.rows(), 1);
  ASSERT_EQ(v.cols(), 1);
  EXPECT_EQ(v(0, 0), 3);
  v(0, 0) = 30;
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 30, 4}));
}

TEST(TensorEigen, ExpandedTensorReadsItsRepeatedElements) {
  g::Tensor row = g::testing::make_tensor({1, 2, 3}, {3}, g::kFloat32);
  auto v = row.expand({2, 3}).eigen<float>();  // outer stride 0: both rows are `row`
  EXPECT_EQ(v.outerStride(), 0);
  EXPECT_EQ(v(1, 2), 3.0f);
  EXPECT_EQ(v(0, 2), 3.0f);
}

TEST(TensorEigen, WrongDtypeNamesBothTypesAndTheFix) {
  g::Tensor t = g::testing::make_tensor({1, 2}, {2}, g::kFloat32);
  EXPECT_EQ(error_message([&] { t.eigen<double>(); }),
            "eigen<double>(): the tensor's dtype is float32; call .to(graft::kFloat64) first or "
            "use eigen<float>()");
  g::Tensor i = g::testing::make_tensor({1, 2}, {2}, g::kUInt8);
  EXPECT_THAT(error_message([&] { i.eigen<int32_t>(); }),
              HasSubstr("call .to(graft::kInt32) first or use eigen<uint8_t>()"));
}

TEST(TensorEigen, HalfTensorsSayEigenCannotMapThemAndHowToCopy) {
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    g::Tensor t = g::ones({2, 2}, dtype);
    EXPECT_EQ(error_message([&] { t.eigen<float>(); }),
              std::string("eigen<float>(): the tensor's dtype is ") + g::dtype_name(dtype) +
                  ", which Eigen cannot map (Eigen views hold float, double, int32_t, int64_t, "
                  "uint8_t or bool); call .to(graft::kFloat32) first, a copy");
    EXPECT_EQ(t.to(g::kFloat32).eigen<float>()(1, 1), 1.0f);
  }
}

TEST(TensorEigen, MoreThanTwoDimsMustBeReshapedFirst) {
  g::Tensor t = g::empty({2, 3, 4});
  EXPECT_EQ(error_message([&] { t.eigen<float>(); }),
            "eigen(): only 0-, 1- and 2-D tensors can be viewed as Eigen matrices; this one has "
            "shape (2, 3, 4); reshape it first");
  EXPECT_EQ(t.reshape({6, 4}).eigen<float>().rows(), 6);
}

TEST(TensorEigen, DeviceTensorCannotBeViewed) {
  // from_blob allocates nothing, so a "cuda:0" tensor can be made without a GPU.
  float data[4] = {};
  g::Tensor t =
      g::from_blob(data, {2, 2}, g::TensorOptions(g::kFloat32).device(g::Device::cuda(0)));
  const std::string message = error_message([&] { t.eigen<float>(); });
  EXPECT_THAT(message, HasSubstr("can't view a cuda:0 tensor as an Eigen matrix"));
  EXPECT_THAT(message, HasSubstr("Call .cpu() first"));
  // The device is reported before a dtype mismatch, whose fix would not help.
  EXPECT_THAT(error_message([&] { t.eigen<double>(); }), HasSubstr("cuda:0"));
}
