// Registry rows of the scans (cumsum, cumprod), the triangles (tril, triu) and norm.
// References in double with naive loops: running sums and products along each lane, the
// triangle's test on column - row for every element, and each norm's fold of its group.
#include <algorithm>
#include <cmath>
#include <limits>

#include "op_info.h"

namespace graft::testing {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<Layout> layouts_except(std::initializer_list<Layout> excluded) {
  std::vector<Layout> out;
  for (Layout l : kAllLayouts)
    if (std::find(excluded.begin(), excluded.end(), l) == excluded.end()) out.push_back(l);
  return out;
}

DType int64_for_integers(DType d) { return is_floating_point(d) ? d : kInt64; }

// ---- scans

std::vector<double> running(const std::vector<double>& lane, bool product) {
  std::vector<double> out;
  double acc = product ? 1 : 0;
  for (double x : lane) {
    acc = product ? acc * x : acc + x;
    out.push_back(acc);
  }
  return out;
}

OpInfo scan_row(std::string name, std::string op, int64_t dim,
                std::function<Tensor(const Tensor&)> call, std::vector<Layout> layouts) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = {{{2, 3, 4}, kAny}};
  row.call = single([call = std::move(call)](const TensorList& in) { return call(in[0]); });
  const bool product = row.op == "cumprod";
  row.reference =
      along_dim(dim, [product](const std::vector<double>& lane) { return running(lane, product); });
  row.layouts = std::move(layouts);
  row.integers = Integers::keep;  // accumulated in and returned as int64
  row.result_dtype = int64_for_integers;
  return row;
}

// ---- triangles

// Keeps x[..., i, j] where j - i <= diagonal (lower) or >= diagonal (upper), zeros elsewhere.
Reference triangle(int64_t diagonal, bool lower) {
  return [diagonal, lower](const std::vector<RefTensor>& in) {
    RefTensor out = in[0];
    const int64_t rank = out.shape.size();
    for (int64_t k = 0; k < out.shape.numel(); ++k) {
      const Shape index = unravel(k, out.shape);
      const int64_t offset = index[rank - 1] - index[rank - 2];
      if (lower ? offset > diagonal : offset < diagonal) out.values[static_cast<size_t>(k)] = 0;
    }
    return std::vector<RefTensor>{out};
  };
}

OpInfo triangle_row(std::string name, std::string op, Shape shape, int64_t diagonal,
                    std::function<Tensor(const Tensor&)> call) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = {{std::move(shape), kAny}};
  row.call = single([call = std::move(call)](const TensorList& in) { return call(in[0]); });
  row.reference = triangle(diagonal, row.op == "tril");
  row.layouts = layouts_except({Layout::zero_dim});  // a matrix at least
  row.integers = Integers::keep;
  return row;
}

// ---- norms

double p_norm_of(const std::vector<double>& v, double p) {
  if (p == kInf || p == -kInf) {
    double best = std::abs(v.at(0));
    for (double x : v) best = p > 0 ? std::max(best, std::abs(x)) : std::min(best, std::abs(x));
    return best;
  }
  double s = 0;
  for (double x : v) s += p == 0 ? (x != 0) : std::pow(std::abs(x), p);
  return p == 0 ? s : std::pow(s, 1 / p);
}

struct NormCase {
  std::string name;
  double p;
  Dims dims;
  bool keepdim;
  std::vector<Layout> layouts;
  bool ties_at_broadcast = false;  // +-inf reducing across dim 0: the broadcast rows tie
};

OpInfo norm_row(const NormCase& c, std::function<Tensor(const Tensor&)> call) {
  OpInfo row;
  row.name = c.name;
  row.op = "norm";
  row.inputs = {{{2, 3, 4}, kAny}};
  row.call = single([call = std::move(call)](const TensorList& in) { return call(in[0]); });
  row.reference = reduction(c.dims, c.keepdim,
                            [p = c.p](const std::vector<double>& v) { return p_norm_of(v, p); });
  row.layouts = c.layouts;
  row.integers = Integers::refuse;  // "norm(): input dtype should be floating point"
  if (c.ties_at_broadcast) row.no_second_order = {Layout::broadcast};
  return row;
}

}  // namespace

std::vector<OpInfo> scan_rows() {
  const auto all = layouts_except({});
  const auto no_zero_dim = layouts_except({Layout::zero_dim});
  const auto no_empty = layouts_except({Layout::empty});
  const auto neither = layouts_except({Layout::zero_dim, Layout::empty});
  std::vector<OpInfo> rows = {
      scan_row(
          "cumsum_dim0", "cumsum", 0, [](const Tensor& x) { return cumsum(x, 0); }, all),
      scan_row(
          "cumsum_dim1", "cumsum", 1, [](const Tensor& x) { return cumsum(x, 1); }, no_zero_dim),
      scan_row(
          "cumsum_dim_last", "cumsum", -1, [](const Tensor& x) { return cumsum(x, -1); }, all),
      scan_row(
          "method_cumsum", "cumsum", -2, [](const Tensor& x) { return x.cumsum(-2); }, no_zero_dim),
      scan_row(
          "cumprod_dim0", "cumprod", 0, [](const Tensor& x) { return cumprod(x, 0); }, all),
      scan_row(
          "cumprod_dim1", "cumprod", 1, [](const Tensor& x) { return cumprod(x, 1); }, no_zero_dim),
      scan_row(
          "cumprod_dim_last", "cumprod", -1, [](const Tensor& x) { return cumprod(x, -1); }, all),
      scan_row(
          "method_cumprod", "cumprod", 2, [](const Tensor& x) { return x.cumprod(2); },
          no_zero_dim),

      triangle_row("tril", "tril", {2, 3, 4}, 0, [](const Tensor& x) { return tril(x); }),
      triangle_row("tril_above", "tril", {2, 3, 4}, 1, [](const Tensor& x) { return tril(x, 1); }),
      triangle_row("tril_below_matrix", "tril", {4, 3}, -2,
                   [](const Tensor& x) { return tril(x, -2); }),
      triangle_row("tril_beyond", "tril", {3, 4}, -5, [](const Tensor& x) { return tril(x, -5); }),
      triangle_row("method_tril", "tril", {3, 4}, 2, [](const Tensor& x) { return x.tril(2); }),
      triangle_row("triu", "triu", {2, 3, 4}, 0, [](const Tensor& x) { return triu(x); }),
      triangle_row("triu_below", "triu", {2, 3, 4}, -1,
                   [](const Tensor& x) { return triu(x, -1); }),
      triangle_row("triu_above_matrix", "triu", {4, 3}, 2,
                   [](const Tensor& x) { return triu(x, 2); }),
      triangle_row("triu_beyond", "triu", {3, 4}, 7, [](const Tensor& x) { return triu(x, 7); }),
      triangle_row("method_triu", "triu", {3, 4}, -1, [](const Tensor& x) { return x.triu(-1); }),
  };
  const std::vector<std::pair<NormCase, std::function<Tensor(const Tensor&)>>> norms = {
      {{"norm", 2, {}, false, all}, [](const Tensor& x) { return norm(x); }},
      {{"norm_p1_dim", 1, {-1}, false, all}, [](const Tensor& x) { return norm(x, 1, {-1}); }},
      {{"norm_p3_dims_keepdim", 3, {0, 2}, true, no_zero_dim},
       [](const Tensor& x) {
         return norm(x, 3, {0, 2}, true);
       }},
      {{"norm_p_half_dim", 0.5, {1}, false, no_zero_dim},
       [](const Tensor& x) { return norm(x, 0.5, {1}); }},
      {{"norm_p_minus1_dim", -1, {-1}, false, all},
       [](const Tensor& x) { return norm(x, -1, {-1}); }},
      {{"norm_p0_dim", 0, {0}, false, all}, [](const Tensor& x) { return norm(x, 0, {0}); }},
      {{"norm_inf", kInf, {}, false, no_empty, true},
       [](const Tensor& x) { return norm(x, kInf); }},
      {{"norm_inf_dim", kInf, {-1}, false, all},
       [](const Tensor& x) { return norm(x, kInf, {-1}); }},
      {{"norm_neg_inf_dims_keepdim", -kInf, {0, 1}, true, neither, true},
       [](const Tensor& x) {
         return norm(x, -kInf, {0, 1}, true);
       }},
      {{"method_norm", 2, {1}, true, no_zero_dim},
       [](const Tensor& x) { return x.norm(2, {1}, true); }},
  };
  for (const auto& [c, call] : norms) rows.push_back(norm_row(c, call));
  return rows;
}

}  // namespace graft::testing
