// Registry rows of the reductions: over everything, one dim, several dims, keepdim, and
// var/std's corrections, on a (2, 3, 4) input. References fold each reduced group in
// double: sums in order, extremes and their first index, Bessel-corrected variance.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "op_info.h"

namespace graft::testing {
namespace {

using Fold = std::function<double(const std::vector<double>&)>;

double sum_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
double mean_of(const std::vector<double>& v) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : sum_of(v) / double(v.size());
}
double prod_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 1.0, std::multiplies<>());
}
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double logsumexp_of(const std::vector<double>& v) {
  if (v.empty()) return -std::numeric_limits<double>::infinity();
  const double m = max_of(v);
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}
Fold var_of(int64_t correction) {
  return [correction](const std::vector<double>& v) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double m = mean_of(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    // Too few elements divide by 0, as PyTorch does (0 / 0 is NaN).
    return s / double(std::max<int64_t>(static_cast<int64_t>(v.size()) - correction, 0));
  };
}
Fold std_of(int64_t correction) {
  return [var = var_of(correction)](const std::vector<double>& v) { return std::sqrt(var(v)); };
}
double all_of(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x != 0; });
}
double any_of(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return x != 0; });
}
// The first index of the extreme, as PyTorch's argmax/argmin.
double argmax_of(const std::vector<double>& v) {
  return double(std::max_element(v.begin(), v.end()) - v.begin());
}
double argmin_of(const std::vector<double>& v) {
  return double(std::min_element(v.begin(), v.end()) - v.begin());
}

DType int64_for_integers(DType d) { return is_floating_point(d) ? d : kInt64; }
DType always_bool(DType) { return kBool; }
DType always_int64(DType) { return kInt64; }

// Layouts for a row: all but those its dims or values cannot take.
std::vector<Layout> layouts_except(std::initializer_list<Layout> excluded) {
  std::vector<Layout> out;
  for (Layout l : kAllLayouts)
    if (std::find(excluded.begin(), excluded.end(), l) == excluded.end()) out.push_back(l);
  return out;
}

struct Reduction {
  std::string name, op;
  std::function<Tensor(const Tensor&)> call;
  Dims dims;  // for the reference
  bool keepdim;
  Fold fold;
  Integers integers;
  std::function<DType(DType)> result_dtype;
  std::vector<Layout> layouts = layouts_except({});
  bool differentiable = true;
  bool ties_at_broadcast = false;  // max/min: the broadcast layout's equal rows tie
};

OpInfo row_of(Reduction r) {
  OpInfo row;
  row.name = r.name;
  row.op = r.op;
  row.inputs = {{{2, 3, 4}, kAny}};
  row.call = single([call = r.call](const TensorList& in) { return call(in[0]); });
  row.reference = reduction(r.dims, r.keepdim, r.fold);
  row.integers = r.integers;
  row.result_dtype = r.result_dtype;
  row.layouts = r.layouts;
  row.differentiable = r.differentiable;
  if (r.ties_at_broadcast) row.no_second_order = {Layout::broadcast};
  // Sums of 24 float32 values: rounding grows with the count.
  row.float32 = {1e-5, 1e-5};
  return row;
}

}  // namespace

std::vector<OpInfo> reduction_rows() {
  // A dim other than 0 and -1 is one a 0-d tensor lacks; an empty tensor has no extreme
  // over its empty dim 0; one element has no Bessel-corrected variance.
  const auto no_zero_dim = layouts_except({Layout::zero_dim});
  const auto no_empty = layouts_except({Layout::empty});
  const auto neither = layouts_except({Layout::zero_dim, Layout::empty});
  const Integers keep = Integers::keep, promote = Integers::promote, refuse = Integers::refuse;
  const std::vector<Reduction> reductions = {
      {"sum",
       "sum",
       [](const Tensor& x) { return sum(x); },
       {},
       false,
       sum_of,
       keep,
       int64_for_integers},
      {"sum_dim",
       "sum",
       [](const Tensor& x) { return sum(x, {-1}); },
       {-1},
       false,
       sum_of,
       keep,
       int64_for_integers},
      {"sum_dims_keepdim",
       "sum",
       [](const Tensor& x) {
         return sum(x, {0, 2}, true);
       },
       {0, 2},
       true,
       sum_of,
       keep,
       int64_for_integers,
       no_zero_dim},
      {"mean", "mean", [](const Tensor& x) { return mean(x); }, {}, false, mean_of, refuse, {}},
      {"mean_dim_keepdim",
       "mean",
       [](const Tensor& x) { return mean(x, {0}, true); },
       {0},
       true,
       mean_of,
       refuse,
       {}},
      {"mean_dims",
       "mean",
       [](const Tensor& x) {
         return mean(x, {1, 2});
       },
       {1, 2},
       false,
       mean_of,
       refuse,
       {},
       no_zero_dim},
      {"prod",
       "prod",
       [](const Tensor& x) { return prod(x); },
       {},
       false,
       prod_of,
       keep,
       int64_for_integers},
      {"prod_dim",
       "prod",
       [](const Tensor& x) { return prod(x, {-1}); },
       {-1},
       false,
       prod_of,
       keep,
       int64_for_integers},
      {"prod_dims_keepdim",
       "prod",
       [](const Tensor& x) {
         return prod(x, {0, 2}, true);
       },
       {0, 2},
       true,
       prod_of,
       keep,
       int64_for_integers,
       no_zero_dim},
      {"max",
       "max",
       [](const Tensor& x) { return max(x); },
       {},
       false,
       max_of,
       keep,
       {},
       no_empty,
       true,
       true},
      {"max_dim",
       "max",
       [](const Tensor& x) { return max(x, {-1}); },
       {-1},
       false,
       max_of,
       keep,
       {},
       layouts_except({}),
       true,
       true},
      {"max_dims_keepdim",
       "max",
       [](const Tensor& x) {
         return max(x, {0, 1}, true);
       },
       {0, 1},
       true,
       max_of,
       keep,
       {},
       neither,
       true,
       true},
      {"min",
       "min",
       [](const Tensor& x) { return min(x); },
       {},
       false,
       min_of,
       keep,
       {},
       no_empty,
       true,
       true},
      {"min_dim_keepdim",
       "min",
       [](const Tensor& x) { return min(x, {0}, true); },
       {0},
       true,
       min_of,
       keep,
       {},
       no_empty,
       true,
       true},
      {"min_dims",
       "min",
       [](const Tensor& x) {
         return min(x, {0, 2});
       },
       {0, 2},
       false,
       min_of,
       keep,
       {},
       neither,
       true,
       true},
      {"logsumexp",
       "logsumexp",
       [](const Tensor& x) { return logsumexp(x); },
       {},
       false,
       logsumexp_of,
       promote,
       {}},
      {"logsumexp_dim",
       "logsumexp",
       [](const Tensor& x) { return logsumexp(x, {-1}); },
       {-1},
       false,
       logsumexp_of,
       promote,
       {}},
      {"logsumexp_dims_keepdim",
       "logsumexp",
       [](const Tensor& x) {
         return logsumexp(x, {0, 2}, true);
       },
       {0, 2},
       true,
       logsumexp_of,
       promote,
       {},
       no_zero_dim},
      {"var",
       "var",
       [](const Tensor& x) { return var(x); },
       {},
       false,
       var_of(1),
       refuse,
       {},
       no_zero_dim},
      {"var_dim_keepdim",
       "var",
       [](const Tensor& x) { return var(x, {-1}, 1, true); },
       {-1},
       true,
       var_of(1),
       refuse,
       {},
       no_zero_dim},
      {"var_dims_correction0",
       "var",
       [](const Tensor& x) {
         return var(x, {0, 2}, 0, false);
       },
       {0, 2},
       false,
       var_of(0),
       refuse,
       {},
       no_zero_dim},
      {"var_dim_correction0",
       "var",
       [](const Tensor& x) { return var(x, {0}, 0, false); },
       {0},
       false,
       var_of(0),
       refuse,
       {}},
      {"var_correction2",
       "var",
       [](const Tensor& x) { return var(x, {}, 2, false); },
       {},
       false,
       var_of(2),
       refuse,
       {},
       no_zero_dim},
      {"std",
       "std",
       [](const Tensor& x) { return std(x); },
       {},
       false,
       std_of(1),
       refuse,
       {},
       no_zero_dim},
      {"std_dim_keepdim",
       "std",
       [](const Tensor& x) { return std(x, {-1}, 1, true); },
       {-1},
       true,
       std_of(1),
       refuse,
       {},
       no_zero_dim},
      {"std_dims_correction0",
       "std",
       [](const Tensor& x) {
         return std(x, {1, 2}, 0, false);
       },
       {1, 2},
       false,
       std_of(0),
       refuse,
       {},
       no_zero_dim},
      {"all",
       "all",
       [](const Tensor& x) { return all(x); },
       {},
       false,
       all_of,
       keep,
       always_bool,
       layouts_except({}),
       false},
      {"all_dim",
       "all",
       [](const Tensor& x) { return all(x, {-1}); },
       {-1},
       false,
       all_of,
       keep,
       always_bool,
       layouts_except({}),
       false},
      {"any",
       "any",
       [](const Tensor& x) { return any(x); },
       {},
       false,
       any_of,
       keep,
       always_bool,
       layouts_except({}),
       false},
      {"any_dims_keepdim",
       "any",
       [](const Tensor& x) {
         return any(x, {0, 2}, true);
       },
       {0, 2},
       true,
       any_of,
       keep,
       always_bool,
       no_zero_dim,
       false},
      {"argmax",
       "argmax",
       [](const Tensor& x) { return argmax(x); },
       {},
       false,
       argmax_of,
       keep,
       always_int64,
       no_empty,
       false},
      {"argmax_dim_keepdim",
       "argmax",
       [](const Tensor& x) { return argmax(x, 1, true); },
       {1},
       true,
       argmax_of,
       keep,
       always_int64,
       neither,
       false},
      {"argmin",
       "argmin",
       [](const Tensor& x) { return argmin(x); },
       {},
       false,
       argmin_of,
       keep,
       always_int64,
       no_empty,
       false},
      {"argmin_dim",
       "argmin",
       [](const Tensor& x) { return argmin(x, -1); },
       {-1},
       false,
       argmin_of,
       keep,
       always_int64,
       layouts_except({}),
       false},
      // Methods forward to the same ops.
      {"method_sum_dim",
       "sum",
       [](const Tensor& x) { return x.sum({1}); },
       {1},
       false,
       sum_of,
       keep,
       int64_for_integers,
       no_zero_dim},
      {"method_sum_bare_dim",
       "sum",
       [](const Tensor& x) { return x.sum(1); },
       {1},
       false,
       sum_of,
       keep,
       int64_for_integers,
       no_zero_dim},
      {"method_mean",
       "mean",
       [](const Tensor& x) { return x.mean(); },
       {},
       false,
       mean_of,
       refuse,
       {}},
  };
  std::vector<OpInfo> rows;
  for (const Reduction& r : reductions) rows.push_back(row_of(r));
  return rows;
}

}  // namespace graft::testing
