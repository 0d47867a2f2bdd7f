// Reductions against naive double-precision references, on every memory layout.
//
// The reference groups a tensor's logical values by output element (each group in
// row-major order, which is the order argmax/argmin index) and folds each group with a
// plain loop in double. Every op runs on contiguous, transposed, permuted, step-sliced,
// expanded (stride 0), 0-d and empty inputs, over every combination of dims, with and
// without keepdim, in each dtype where PyTorch defines it. Large cases at the end go
// through the kernel's threaded paths (row blocks, pieces merged in order).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- references

using Group = std::vector<double>;

double ref_sum(const Group& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
double ref_prod(const Group& v) {
  return std::accumulate(v.begin(), v.end(), 1.0, std::multiplies<>());
}
double ref_mean(const Group& v) { return ref_sum(v) / static_cast<double>(v.size()); }
// max/min propagate NaN.
double ref_max(const Group& v) {
  double m = -kInf;
  for (double x : v) {
    if (std::isnan(x)) return kNaN;
    m = std::max(m, x);
  }
  return m;
}
double ref_min(const Group& v) {
  Group negated;
  for (double x : v) negated.push_back(-x);
  return -ref_max(negated);
}
// The first index of the extreme; a NaN is the extreme.
double ref_argmax(const Group& v) {
  size_t best = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[best])) break;
    if (std::isnan(v[i]) || v[i] > v[best]) best = i;
  }
  return static_cast<double>(best);
}
double ref_argmin(const Group& v) {
  Group negated;
  for (double x : v) negated.push_back(-x);
  return ref_argmax(negated);
}
double ref_all(const Group& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x != 0; });
}
double ref_any(const Group& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return x != 0; });
}
// Two passes: the mean, then the squared deviations from it.
double ref_var(const Group& v, int64_t correction = 1) {
  const double dof = static_cast<double>(v.size()) - static_cast<double>(correction);
  if (dof <= 0) return kNaN;
  const double mean = ref_mean(v);
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return ss / dof;
}
double ref_std(const Group& v) { return std::sqrt(ref_var(v)); }
double ref_logsumexp(const Group& v) {
  double s = 0;
  for (double x : v) s += std::exp(x);
  return std::log(s);
}

// The values of x grouped by output element of a reduction over `reduced` dims.
std::vector<Group> groups_of(const g::Tensor& x, const std::vector<bool>& reduced) {
  const std::vector<double> values = x.to_vector<double>();
  int64_t outputs = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!reduced[d]) outputs *= x.size(d);
  std::vector<Group> groups(static_cast<size_t>(outputs));
  for (size_t flat = 0; flat < values.size(); ++flat) {
    int64_t rem = static_cast<int64_t>(flat), out = 0, scale = 1;
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      const int64_t i = rem % x.size(d);
      rem /= x.size(d);
      if (!reduced[d]) {
        out += i * scale;
        scale *= x.size(d);
      }
    }
    groups[out].push_back(values[flat]);
  }
  return groups;
}

std::vector<bool> reduced_dims(int64_t ndim, const g::Dims& dims) {
  std::vector<bool> reduced(static_cast<size_t>(ndim), dims.empty());
  if (ndim == 0) return reduced;  // a 0-d tensor's dim 0 / -1 names no real dim
  for (int64_t d : dims) reduced[(d + ndim) % ndim] = true;
  return reduced;
}

g::Shape expected_shape(const g::Tensor& x, const std::vector<bool>& reduced, bool keepdim) {
  g::Shape shape;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!reduced[d])
      shape.push_back(x.size(d));
    else if (keepdim)
      shape.push_back(1);
  }
  return shape;
}

void expect_values(const g::Tensor& t, const std::vector<double>& expected, double rtol,
                   const std::string& what) {
  const std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i]))
      EXPECT_TRUE(std::isnan(got[i])) << what << " at " << i;
    else if (std::isinf(expected[i]))
      EXPECT_EQ(got[i], expected[i]) << what << " at " << i;
    else
      EXPECT_NEAR(got[i], expected[i], rtol * (1 + std::abs(expected[i]))) << what << " at " << i;
  }
}

double tolerance(g::DType dtype) { return dtype == g::kFloat32 ? 1e-5 : 1e-12; }

// ---- inputs

// Values of a dtype with many ties (so argmax's first-index rule is exercised): multiples
// of 0.25 in [-2, 2] for floats, integers in [-4, 4], and 0/1 for bool.
std::vector<double> tie_values(int64_t n, g::DType dtype, uint32_t seed = 1) {
  std::vector<double> v = sample_values(n, -2, 2, seed);
  for (double& x : v) {
    if (dtype == g::kBool)
      x = x > 0;
    else if (g::is_floating_point(dtype))
      x = std::round(x * 4) / 4;
    else
      x = std::round(x * 2);
  }
  return v;
}

struct Layout {
  std::string name;
  g::Tensor x;
};

// The logical shape (2, 3, 4) in each memory layout, plus 0-d and empty tensors.
std::vector<Layout> layouts(g::DType dtype) {
  std::vector<Layout> out;
  out.push_back({"contiguous", make_tensor(tie_values(24, dtype), {2, 3, 4}, dtype)});
  out.push_back(
      {"transposed", make_tensor(tie_values(24, dtype, 2), {4, 3, 2}, dtype).transpose(0, 2)});
  out.push_back(
      {"permuted", make_tensor(tie_values(24, dtype, 3), {3, 4, 2}, dtype).permute({2, 0, 1})});
  out.push_back(
      {"stepped", make_tensor(tie_values(96, dtype, 4), {4, 3, 8}, dtype)
                      .index({g::Slice(0, g::None, 2), g::Slice(), g::Slice(1, g::None, 2)})});
  out.push_back(
      {"expanded", make_tensor(tie_values(3, dtype, 5), {1, 3, 1}, dtype).expand({2, 3, 4})});
  out.push_back({"0-d", make_tensor({1.5}, {}, dtype)});
  out.push_back({"empty", make_tensor({}, {2, 0, 4}, dtype)});
  return out;
}

// Every dims list worth trying on a tensor of `ndim` dims (empty means all).
std::vector<g::Dims> dims_lists(int64_t ndim) {
  if (ndim == 0) return {{}, {0}, {-1}};
  return {{}, {0}, {1}, {2}, {-1}, {0, 2}, {2, 0}, {-1, -3}, {1, 2}, {0, 1, 2}};
}

using ReduceFn = g::Tensor (*)(const g::Tensor&, const g::Dims&, bool);

// Runs `op` over every layout, dims list and keepdim, against `ref` folded over each group.
// `out_dtype` maps the input dtype to the result's.
template <class Ref, class OutDType>
void check_everywhere(const char* name, ReduceFn op, const Ref& ref, g::DType dtype,
                      const OutDType& out_dtype, bool needs_elements = false) {
  for (const Layout& layout : layouts(dtype)) {
    for (const g::Dims& dims : dims_lists(layout.x.dim())) {
      const std::vector<bool> reduced = reduced_dims(layout.x.dim(), dims);
      const std::vector<Group> groups = groups_of(layout.x, reduced);
      const bool empty_group = !groups.empty() && groups[0].empty();
      if (needs_elements && empty_group) continue;  // an error; tested below
      for (bool keepdim : {false, true}) {
        const std::string what = std::string(name) + "(" + g::dtype_name(dtype) + " " +
                                 layout.name + ", dims " + dims.str() +
                                 (keepdim ? ", keepdim)" : ")");
        const g::Tensor out = op(layout.x, dims, keepdim);
        EXPECT_EQ(out.dtype(), out_dtype(dtype)) << what;
        EXPECT_EQ(out.shape(), expected_shape(layout.x, reduced, keepdim)) << what;
        std::vector<double> expected;
        for (const Group& group : groups) expected.push_back(ref(group));
        expect_values(out, expected, tolerance(out.dtype()), what);
      }
    }
  }
}

const g::DType kAllDTypes[] = {g::kFloat32, g::kFloat64, g::kInt32, g::kInt64, g::kBool};
g::DType same(g::DType d) { return d; }
g::DType int64_unless_float(g::DType d) { return g::is_floating_point(d) ? d : g::kInt64; }
g::DType boolean(g::DType) { return g::kBool; }

}  // namespace

// ---- each op on every layout

TEST(Reduce, SumKeepsFloatDtypesAndGivesInt64ForIntegersAndBools) {
  for (g::DType dtype : kAllDTypes)
    check_everywhere("sum", g::sum, ref_sum, dtype, int64_unless_float);
}

TEST(Reduce, ProdLikeSumWithAnIdentityOfOne) {
  for (g::DType dtype : kAllDTypes)
    check_everywhere("prod", g::prod, ref_prod, dtype, int64_unless_float);
}

TEST(Reduce, MeanOfFloats) {
  for (g::DType dtype : {g::kFloat32, g::kFloat64})
    check_everywhere("mean", g::mean, ref_mean, dtype, same);
}

TEST(Reduce, MaxAndMinKeepTheDtype) {
  for (g::DType dtype : kAllDTypes) {
    check_everywhere("max", g::max, ref_max, dtype, same, true);
    check_everywhere("min", g::min, ref_min, dtype, same, true);
  }
}

TEST(Reduce, AllAndAnyGiveBoolForEveryDtype) {
  for (g::DType dtype : kAllDTypes) {
    check_everywhere("all", g::all, ref_all, dtype, boolean);
    check_everywhere("any", g::any, ref_any, dtype, boolean);
  }
}

TEST(Reduce, VarAndStdUseBesselsCorrection) {
  auto var = [](const g::Tensor& x, const g::Dims& d, bool k) { return g::var(x, d, 1, k); };
  auto std_ = [](const g::Tensor& x, const g::Dims& d, bool k) { return g::std(x, d, 1, k); };
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    check_everywhere(
        "var", var, [](const Group& v) { return ref_var(v); }, dtype, same);
    check_everywhere("std", std_, ref_std, dtype, same);
  }
}

TEST(Reduce, LogsumexpOfFloats) {
  for (g::DType dtype : {g::kFloat32, g::kFloat64})
    check_everywhere("logsumexp", g::logsumexp, ref_logsumexp, dtype, same);
}

TEST(Reduce, ArgmaxAndArgminIndexTheFirstExtreme) {
  for (g::DType dtype : kAllDTypes) {
    for (const Layout& layout : layouts(dtype)) {
      if (layout.x.numel() == 0) continue;
      std::vector<std::optional<int64_t>> dims = {std::nullopt, 0, -1};
      for (int64_t d = 1; d < layout.x.dim(); ++d) dims.push_back(d);
      for (std::optional<int64_t> dim : dims) {
        const std::vector<bool> reduced =
            dim ? reduced_dims(layout.x.dim(), {*dim}) : reduced_dims(layout.x.dim(), {});
        const std::vector<Group> groups = groups_of(layout.x, reduced);
        for (bool keepdim : {false, true}) {
          const std::string what = std::string(g::dtype_name(dtype)) + " " + layout.name + " dim " +
                                   (dim ? std::to_string(*dim) : "none") +
                                   (keepdim ? " keepdim" : "");
          std::vector<double> want_max, want_min;
          for (const Group& group : groups) {
            want_max.push_back(ref_argmax(group));
            want_min.push_back(ref_argmin(group));
          }
          const g::Tensor amax = g::argmax(layout.x, dim, keepdim);
          EXPECT_EQ(amax.dtype(), g::kInt64) << what;
          EXPECT_EQ(amax.shape(), expected_shape(layout.x, reduced, keepdim)) << what;
          expect_values(amax, want_max, 0, "argmax " + what);
          expect_values(g::argmin(layout.x, dim, keepdim), want_min, 0, "argmin " + what);
        }
      }
    }
  }
}

// ---- semantics worth spelling out

TEST(Reduce, ArgmaxOverAllDimsIndexesTheFlattenedTensor) {
  // [[1, 9, 9], [0, 9, 2]]: the first 9 is at flat index 1; keepdim gives shape (1, 1).
  const g::Tensor x = make_tensor({1, 9, 9, 0, 9, 2}, {2, 3});
  EXPECT_EQ(g::argmax(x).item<int64_t>(), 1);
  EXPECT_EQ(g::argmax(x, std::nullopt, true).shape(), (g::Shape{1, 1}));
  EXPECT_EQ(g::argmin(x.t()).item<int64_t>(), 1);  // x.t() = [[1, 0], [9, 9], [9, 2]]
  EXPECT_EQ(x.argmax(1).to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
}

TEST(Reduce, NaNPropagatesThroughMaxMinAndSumAndWinsArgmax) {
  const g::Tensor x = make_tensor({1, kNaN, 3, kNaN}, {4}, g::kFloat32);
  EXPECT_TRUE(std::isnan(g::max(x).item<double>()));
  EXPECT_TRUE(std::isnan(g::min(x).item<double>()));
  EXPECT_TRUE(std::isnan(g::sum(x).item<double>()));
  EXPECT_EQ(g::argmax(x).item<int64_t>(), 1);
  EXPECT_EQ(g::argmin(x).item<int64_t>(), 1);
  EXPECT_TRUE(g::all(x).item<bool>());  // NaN is nonzero
  EXPECT_EQ(g::any(make_tensor({0, kNaN}, {2})).item<bool>(), true);
}

TEST(Reduce, Float32MaxAndMinOfLongRowsFindNaNAnywhere) {
  // Rows long enough for the float leaf's vector loop, its tail and several leaves
  // (kernels/cpu/reduce_run.h), each with one NaN somewhere or none, and infinities.
  for (const int64_t cols : {31, 100, 1024, 3001}) {
    const int64_t rows = 6;
    std::vector<double> v = g::testing::sample_values(rows * cols, -50, 50, 11);
    v[0 * cols + 0] = kNaN;          // row 0: first
    v[1 * cols + cols - 1] = kNaN;   // row 1: last
    v[2 * cols + cols / 2] = kNaN;   // row 2: middle
    v[3 * cols + cols / 3] = kInf;   // row 3: +inf, no NaN
    v[4 * cols + cols / 4] = -kInf;  // row 4: -inf, no NaN
    const g::Tensor x = make_tensor(v, {rows, cols}, g::kFloat32);
    for (const bool is_max : {true, false}) {
      const std::vector<double> got =
          (is_max ? g::max(x, {1}, false) : g::min(x, {1}, false)).to_vector<double>();
      for (int64_t r = 0; r < rows; ++r) {
        double want = is_max ? -kInf : kInf;
        bool nan = false;
        for (int64_t c = 0; c < cols; ++c) {
          const auto value = static_cast<double>(static_cast<float>(v[r * cols + c]));
          nan |= std::isnan(value);
          want = is_max ? std::max(want, value) : std::min(want, value);
        }
        if (nan)
          EXPECT_TRUE(std::isnan(got[r])) << cols << " columns, row " << r;
        else
          EXPECT_EQ(got[r], want) << cols << " columns, row " << r << (is_max ? " max" : " min");
      }
    }
  }
}

TEST(Reduce, Float32ArgmaxAndArgminOfLongRowsFindTheFirstExtreme) {
  // Rows long enough for the float leaf's chunked search, its tail and several leaves
  // (kernels/cpu/reduce_run.h): ties far apart, NaNs, equal zeros of both signs, infinities.
  for (const int64_t cols : {31, 100, 1024, 3001}) {
    const int64_t rows = 6;
    std::vector<double> v = g::testing::sample_values(rows * cols, -50, 50, 13);
    const auto at = [&](int64_t r, int64_t c) -> double& { return v[r * cols + c]; };
    at(0, cols / 2) = at(0, cols - 1) = kNaN;    // row 0: the first NaN wins either way
    at(1, cols / 3) = at(1, 2 * cols / 3) = 60;  // row 1: ties for the max and for the min
    at(1, cols - 2) = at(1, 1) = -60;
    for (int64_t c = 0; c < cols; ++c) at(2, c) = -kInf;       // row 2: all equal
    for (int64_t c = 0; c < cols; ++c) at(3, c) = -1 - c % 7;  // row 3: -0 and +0 tie for the max
    at(3, cols / 2) = -0.0;
    at(3, cols - 1) = 0.0;
    at(5, 0) = kNaN;  // row 5: NaN first; row 4 as sampled
    const g::Tensor x = make_tensor(v, {rows, cols}, g::kFloat32);
    for (const bool is_max : {true, false}) {
      const auto got = (is_max ? g::argmax(x, 1) : g::argmin(x, 1)).to_vector<int64_t>();
      for (int64_t r = 0; r < rows; ++r) {
        int64_t want = 0;
        for (int64_t c = 1; c < cols; ++c) {
          const auto best = static_cast<float>(at(r, want)), value = static_cast<float>(at(r, c));
          if (std::isnan(best)) break;
          if (std::isnan(value) || (is_max ? value > best : value < best)) want = c;
        }
        EXPECT_EQ(got[r], want) << cols << " columns, row " << r
                                << (is_max ? " argmax" : " argmin");
      }
    }
  }
}

TEST(Reduce, EmptyReductionsGiveTheIdentity) {
  const g::Tensor e = make_tensor({}, {0}, g::kFloat32);
  EXPECT_EQ(g::sum(e).item<double>(), 0);
  EXPECT_EQ(g::prod(e).item<double>(), 1);
  EXPECT_TRUE(std::isnan(g::mean(e).item<double>()));
  EXPECT_TRUE(std::isnan(g::var(e).item<double>()));
  EXPECT_EQ(g::logsumexp(e).item<double>(), -kInf);
  EXPECT_TRUE(g::all(e).item<bool>());
  EXPECT_FALSE(g::any(e).item<bool>());
  // Over a zero-size dim of (2, 0, 3): one identity per output; no outputs, no error.
  expect_values(g::sum(make_tensor({}, {2, 0, 3}), {1}), std::vector<double>(6, 0.0), 0, "sum");
  EXPECT_EQ(g::max(make_tensor({}, {2, 0, 3}), {0}).shape(), (g::Shape{0, 3}));
}

TEST(Reduce, ZeroDimInputsAcceptDimZeroAndMinusOne) {
  const g::Tensor s = make_tensor({2.5}, {}, g::kFloat64);
  for (const g::Dims& dims : {g::Dims{}, g::Dims{0}, g::Dims{-1}})
    for (bool keepdim : {false, true}) {
      EXPECT_EQ(g::sum(s, dims, keepdim).shape(), g::Shape{});
      EXPECT_EQ(g::max(s, dims, keepdim).item<double>(), 2.5);
    }
  EXPECT_EQ(g::argmax(s, 0).item<int64_t>(), 0);
  EXPECT_TRUE(std::isnan(g::var(s).item<double>()));  // one element, correction 1
}

TEST(Reduce, VarCorrectionAndNoDegreesOfFreedom) {
  const std::vector<double> v = {1, 2, 4, 8};
  const g::Tensor x = make_tensor(v, {4});
  expect_values(g::var(x, {}, 0), {ref_var(v, 0)}, 1e-12, "population variance");
  expect_values(g::var(x, {}, 2), {ref_var(v, 2)}, 1e-12, "correction 2");
  EXPECT_TRUE(std::isnan(g::var(x, {}, 4).item<double>()));  // 4 - 4 = 0
  expect_values(x.std(0), {std::sqrt(ref_var(v, 0))}, 1e-12, "std");
  // A large offset cancels badly in a one-pass sum of squares, not in Welford's update.
  const g::Tensor shifted = make_tensor({1e9 + 1, 1e9 + 2, 1e9 + 3}, {3});
  EXPECT_NEAR(g::var(shifted).item<double>(), 1.0, 1e-6);
}

TEST(Reduce, LogsumexpIsStableAndHandlesInfinities) {
  // log(e^1000 + e^1000) = 1000 + log 2, which a naive exp overflows.
  expect_values(g::logsumexp(make_tensor({1000, 1000}, {2})), {1000 + std::log(2.0)}, 1e-12, "big");
  EXPECT_EQ(g::logsumexp(make_tensor({-kInf, -kInf}, {2})).item<double>(), -kInf);
  EXPECT_EQ(g::logsumexp(make_tensor({1, kInf}, {2})).item<double>(), kInf);
  EXPECT_TRUE(std::isnan(g::logsumexp(make_tensor({1, kNaN}, {2})).item<double>()));
  // Integers are promoted to float32, as in PyTorch.
  const g::Tensor ints = make_tensor({0, 0}, {2}, g::kInt64);
  EXPECT_EQ(g::logsumexp(ints).dtype(), g::kFloat32);
  expect_values(g::logsumexp(ints), {std::log(2.0)}, 1e-6, "ints");
}

TEST(Reduce, TensorMethodsForwardToTheOps) {
  const g::Tensor x = make_tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(x.sum().item<double>(), 21);
  EXPECT_EQ(x.sum({0}, true).shape(), (g::Shape{1, 3}));
  EXPECT_EQ(x.mean({1}).to_vector<double>(), (std::vector<double>{2, 5}));
  EXPECT_EQ(x.max({1}).to_vector<double>(), (std::vector<double>{3, 6}));
  EXPECT_EQ(x.argmin().item<int64_t>(), 0);
  EXPECT_NEAR(x.var().item<double>(), 3.5, 1e-12);
}

// ---- accuracy and the threaded paths

TEST(Reduce, Float32SumIsAccurateLikePairwiseSummation) {
  // Ten million float32 0.1s (each 0.100000001490116...) sum to 1000000.0149; a float32
  // running sum would be off by thousands.
  const int64_t n = 10'000'000;
  const g::Tensor x = g::empty({n}, g::kFloat32);
  std::fill_n(x.data_ptr<float>(), n, 0.1f);
  EXPECT_NEAR(g::sum(x).item<double>(), 1000000.0149, 1.0);
  EXPECT_NEAR(g::mean(x).item<double>(), 0.1, 1e-7);
}

// A float32 sum over the rows of a matrix adds each column's leaves of 32 rows in float and
// the leaves in double (kernels/cpu/reduce.cpp): within a few ulps of the double sum of the
// same floats over a million rows, where float sums of whole pieces of the rows would be off
// by a hundred (column 0's 0.1s, whose float roundings all go one way: 2e-5 of the sum over
// 6554 of them, 3e-7 over 32); and as a sum over dim 0 of a 3-d tensor, its rows walked as
// runs.
TEST(Reduce, Float32SumOverRowsIsAccurateLikeCascadeSummation) {
  const int64_t rows = 1'000'000, cols = 5;
  std::vector<double> values = g::testing::sample_values(rows * cols, 0.0, 1.0, 7);
  for (int64_t i = 0; i < rows; ++i) values[i * cols] = 0.1;
  const g::Tensor x = make_tensor(values, {rows, cols}, g::kFloat32);
  const std::vector<double> floats = x.to_vector<double>();
  std::vector<double> exact(cols, 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) exact[j] += floats[i * cols + j];
  const std::vector<double> got = g::sum(x, {0}).to_vector<double>();
  const std::vector<double> by_runs =
      g::sum(x.view({1000, 1000, cols}), {0, 1}).to_vector<double>();
  for (int64_t j = 0; j < cols; ++j) {
    EXPECT_NEAR(got[j], exact[j], 2e-6 * exact[j]) << "column " << j;
    EXPECT_NEAR(by_runs[j], exact[j], 2e-6 * exact[j]) << "column " << j << ", 3-d";
  }
  EXPECT_NEAR(g::mean(x, {0}).to_vector<double>()[0], exact[0] / rows, 2e-6 * exact[0] / rows);
}

// float32 (and 16-bit) products multiply each leaf of 1024 in float, each lane's exponent
// kept apart where the CPU has AVX-512, and multiply a leaf again in double when a float
// multiplication lost bits to float's range (kernels/cpu/float_products.h). So a product
// whose partial products leave float's range, though it is a float itself, is still that
// float (PyTorch's float products give 0, inf or NaN for these), on a full reduction and over
// the rows of a matrix.
TEST(Reduce, Float32ProductsKeepADoublesRange) {
  struct Case {
    std::string what;
    std::vector<float> values;
    double expected;
  };
  const auto runs = [](float a, int64_t count_a, float b, int64_t count_b) {
    std::vector<float> v(count_a, a);
    v.insert(v.end(), count_b, b);
    return v;
  };
  const float third = 4.0f / 3.0f;
  const Case cases[] = {
      // 0.75^1024 = 2^-425, below a float's range in every lane's partial product; each
      // lane's four steps of 1e30 overflow a float (the leaf is multiplied again in double).
      {"0.75 x 1024, 4/3 x 1024", runs(0.75f, 1024, third, 1024),
       std::pow(0.75 * static_cast<double>(third), 1024)},
      {"1e30 x 256, 1e-30 x 256", runs(1e30f, 256, 1e-30f, 256),
       std::pow(static_cast<double>(1e30f) * static_cast<double>(1e-30f), 256)},
      {"0.5 x 1000, 0", runs(0.5f, 1000, 0.0f, 1), 0.0},
      {"0.5 x 1000, inf", runs(0.5f, 1000, std::numeric_limits<float>::infinity(), 1), kInf},
  };
  for (const Case& c : cases) {
    const auto n = static_cast<int64_t>(c.values.size());
    const std::vector<double> values(c.values.begin(), c.values.end());
    const g::Tensor x = make_tensor(values, {n}, g::kFloat32);
    expect_values(g::prod(x), {c.expected}, 1e-5, c.what);
    std::vector<double> rows;
    for (int r = 0; r < 3; ++r) rows.insert(rows.end(), values.begin(), values.end());
    const g::Tensor over_rows = g::prod(make_tensor(rows, {3, n}, g::kFloat32), {1});
    expect_values(over_rows, {c.expected, c.expected, c.expected}, 1e-5, c.what + " in rows");
  }
}

// 16-bit sums add each leaf of 1024 elements in float and the leaves in double
// (kernels/cpu/reduce_run.h): over many values spread across [0, 1) the result is the
// double-precision sum rounded once to 16 bits, give or take one step where the sum sits
// next to a rounding boundary. (float16's count stays where its sum fits below 65504.) The
// mean divides in float32, so two million float16 values, whose sum a float16 cannot hold,
// still have their mean.
TEST(Reduce, SixteenBitSumsRoundTheExactSumOnce) {
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    const int64_t n = dtype == g::kFloat16 ? int64_t{1} << 16 : int64_t{1} << 21;
    const g::Tensor x =
        g::testing::make_tensor(g::testing::sample_values(n, 0.0, 1.0, 3), {n}, g::kFloat32)
            .to(dtype);
    const std::vector<double> values = x.to_vector<double>();
    const double exact = std::accumulate(values.begin(), values.end(), 0.0);
    const double got = g::sum(x).item<double>();
    const double rounded = g::full({}, exact, dtype).item<double>();
    const double step = std::abs(rounded) * (dtype == g::kFloat16 ? 0x1p-10 : 0x1p-7);
    EXPECT_LE(std::abs(got - rounded), step) << dtype << ": exact sum " << exact;
    EXPECT_NEAR(g::mean(x).item<double>(), exact / n, step / n * 2) << dtype;
  }
  const int64_t n = int64_t{1} << 21;
  const g::Tensor halves = g::full({n}, 0.5, g::kFloat16);
  EXPECT_EQ(g::sum(halves).item<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(g::mean(halves).item<double>(), 0.5);
  // logsumexp too computes in float32: the float16 sum of 2^21 exps would be inf.
  EXPECT_NEAR(g::logsumexp(g::zeros({n}, g::kFloat16), {0}).item<double>(),
              std::log(static_cast<double>(n)), 0.01);
}

// 16-bit rows and columns long enough for every path (a block of rows a call, leaves split
// past 1024, by rows in float leaves): max, min, argmax and argmin equal float32's of the
// widened values exactly, NaN and infinities included; sums are within one 16-bit step of the
// exact sum rounded.
TEST(Reduce, SixteenBitRowsAndColumnsAgreeWithTheirWidenedValues) {
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    for (const int64_t cols : {31, 1030}) {
      const int64_t rows = 40;
      std::vector<double> v = g::testing::sample_values(rows * cols, -8, 8, 5);
      v[1 * cols + cols - 1] = kNaN;  // row 1 and the last column
      v[3 * cols + 2] = kInf;
      v[(rows - 1) * cols + 3] = -kInf;
      const g::Tensor x = make_tensor(v, {rows, cols}, g::kFloat32).to(dtype);
      const g::Tensor widened = x.to(g::kFloat32);
      for (const int64_t dim : {0, 1}) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + ", " + std::to_string(cols) +
                     " columns, dim " + std::to_string(dim));
        const auto same = [&](const g::Tensor& got, const g::Tensor& want) {
          const std::vector<double> a = got.to_vector<double>(), b = want.to_vector<double>();
          ASSERT_EQ(a.size(), b.size());
          for (size_t i = 0; i < a.size(); ++i) {
            if (std::isnan(b[i]))
              EXPECT_TRUE(std::isnan(a[i])) << i;
            else
              EXPECT_EQ(a[i], b[i]) << i;
          }
        };
        same(g::max(x, {dim}, false), g::max(widened, {dim}, false));
        same(g::min(x, {dim}, false), g::min(widened, {dim}, false));
        same(g::argmax(x, dim), g::argmax(widened, dim));
        same(g::argmin(x, dim), g::argmin(widened, dim));
        const std::vector<double> sums = g::sum(x, {dim}, false).to_vector<double>();
        const std::vector<double> wide = widened.to(g::kFloat64).sum({dim}).to_vector<double>();
        for (size_t i = 0; i < sums.size(); ++i) {
          if (std::isnan(wide[i]) || std::isinf(wide[i])) {
            EXPECT_EQ(std::isnan(sums[i]), std::isnan(wide[i])) << i;
            continue;
          }
          const double rounded = g::full({}, wide[i], dtype).item<double>();
          const double step =
              std::max(std::abs(rounded), 1.0) * (dtype == g::kFloat16 ? 0x1p-10 : 0x1p-7);
          EXPECT_LE(std::abs(sums[i] - rounded), step) << i << ": exact " << wide[i];
        }
      }
    }
  }
}

TEST(Reduce, LargeInputsMatchTheReferenceOnEveryPath) {
  struct Big {
    g::Shape shape;
    g::Dims dims;
    bool transpose;
  };
  const Big cases[] = {
      {{300001}, {}, false},      // one long run: pieces merged in order
      {{1000, 700}, {0}, false},  // outer dim: rows added into 700 accumulators
      {{1000, 700}, {1}, false},  // inner dim: one run per output, threaded over outputs
      {{5, 200000}, {1}, false},  // few long runs
      {{100000, 3}, {0}, false},  // few accumulators, many rows
      {{700, 1000}, {1}, true},   // transposed: rows again
      {{60, 50, 40}, {0, 2}, false},
  };
  for (const Big& c : cases) {
    g::Tensor x = make_tensor(sample_values(c.shape.numel(), -1, 1, 7), c.shape);
    if (c.transpose) x = x.t();
    const std::vector<bool> reduced = reduced_dims(x.dim(), c.dims);
    const std::vector<Group> groups = groups_of(x, reduced);
    std::vector<double> sum, max, var, argmax;
    for (const Group& group : groups) {
      sum.push_back(ref_sum(group));
      max.push_back(ref_max(group));
      var.push_back(ref_var(group));
    }
    const std::string what = x.shape().str() + " over " + c.dims.str();
    expect_values(g::sum(x, c.dims), sum, 1e-10, "sum " + what);
    expect_values(g::max(x, c.dims), max, 0, "max " + what);
    expect_values(g::var(x, c.dims), var, 1e-10, "var " + what);
    expect_values(g::sum(x.to(g::kFloat32), c.dims), sum, 1e-5, "float32 sum " + what);
    if (c.dims.size() == 1) {
      for (const Group& group : groups) argmax.push_back(ref_argmax(group));
      expect_values(g::argmax(x, c.dims[0]), argmax, 0, "argmax " + what);
    }
  }
}

TEST(Reduce, ArgmaxFindsTheFirstOfTiesFarApart) {
  // The ties sit in different pieces of the threaded split; the earlier index wins.
  std::vector<double> v(1'000'000, 0.0);
  v[700000] = v[300000] = 5;
  EXPECT_EQ(g::argmax(make_tensor(v, {1'000'000}, g::kFloat32)).item<int64_t>(), 300000);
  EXPECT_EQ(g::argmin(make_tensor(v, {1'000'000}, g::kInt32)).item<int64_t>(), 0);
}

// ---- errors

TEST(Reduce, RepeatedOrOutOfRangeDimsAreErrors) {
  const g::Tensor x = make_tensor(sample_values(6), {2, 3});
  EXPECT_THAT(error_message([&] {
                g::sum(x, {1, -1});
              }),
              HasSubstr("sum(): dim 1 appears multiple times in the list of dims"));
  EXPECT_THAT(error_message([&] { g::max(x, {2}); }), HasSubstr("dimension out of range"));
  EXPECT_THAT(error_message([&] { g::argmax(x, -3); }),
              HasSubstr("argmax(): dimension out of range"));
  EXPECT_THAT(error_message([&] {
                g::sum(make_tensor({1}, {}), {0, -1});
              }),
              HasSubstr("dim 0 appears multiple times"));
}

TEST(Reduce, MeanVarAndStdNeedFloatingInput) {
  const g::Tensor ints = make_tensor({1, 2}, {2}, g::kInt64);
  const std::string mean_error = error_message([&] { g::mean(ints); });
  EXPECT_THAT(mean_error, HasSubstr("mean(): could not infer output dtype"));
  EXPECT_THAT(mean_error, HasSubstr("int64"));
  EXPECT_THAT(mean_error, HasSubstr(".to(graft::kFloat32)"));
  EXPECT_THAT(error_message([&] { g::var(ints); }),
              HasSubstr("var(): could not infer output dtype"));
  EXPECT_THAT(error_message([&] { g::std(make_tensor({1}, {1}, g::kBool)); }),
              HasSubstr("std(): could not infer output dtype. Input dtype must be a floating "
                        "point dtype, but got bool"));
}

TEST(Reduce, MaxMinArgmaxArgminOfNothingAreErrors) {
  const g::Tensor empty = make_tensor({}, {0, 3});
  EXPECT_THAT(error_message([&] { g::max(empty); }),
              HasSubstr("max(): Expected reduction dim to be specified for input.numel() == 0"));
  EXPECT_THAT(error_message([&] { g::max(empty); }), HasSubstr("does not have an identity"));
  EXPECT_THAT(error_message([&] { g::min(empty, {0}); }),
              HasSubstr("min(): Expected reduction dim 0 to have non-zero size"));
  EXPECT_THAT(error_message([&] { g::argmax(empty); }),
              HasSubstr("argmax(): Expected reduction dim to be specified"));
  EXPECT_THAT(error_message([&] { g::argmin(empty, 0); }),
              HasSubstr("argmin(): Expected reduction dim 0 to have non-zero size"));
  // Over dim 1 there are no outputs, so nothing is missing an identity.
  EXPECT_EQ(g::argmax(empty, 1).shape(), (g::Shape{0}));
}
