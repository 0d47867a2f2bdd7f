// numeric_gradient: the derivative of a scalar function by central differences, the
// independent reference for every hand-written backward of the op layer.
#pragma once

#include <functional>
#include <vector>

#include "graft/graft.h"

namespace graft::testing {

// d f / d t[i] ~ (f(t + eps e_i) - f(t - eps e_i)) / 2 eps for each element of t, a
// contiguous float64 CPU tensor that is perturbed in place and restored. Exact up to
// rounding for f linear in t (or piecewise linear with no kink within eps).
inline std::vector<double> numeric_gradient(const Tensor& t, const std::function<double()>& f,
                                            double eps = 1e-6) {
  double* p = t.data_ptr<double>();
  std::vector<double> grad(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double saved = p[i];
    p[i] = saved + eps;
    const double up = f();
    p[i] = saved - eps;
    const double down = f();
    p[i] = saved;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}

}  // namespace graft::testing
