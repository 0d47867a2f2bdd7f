// LayerNormArgs, LayerNormBackwardArgs: layer norm over the last `cols` elements of each
// row of a contiguous (rows, cols) block, and its backward.
//
// The op layer (autograd/ops_layer_norm.cpp) makes the input contiguous and views it as
// (rows, cols), cols being the product of normalized_shape. For row i, with the row's
// mean and biased variance accumulated in double:
//   rstd_i = 1 / sqrt(var_i + eps)
//   y_ij   = (x_ij - mean_i) * rstd_i * weight_j + bias_j      (weight, bias optional)
// and the forward saves mean_i and rstd_i, in double, for the backward:
//   xhat_ij = (x_ij - mean_i) * rstd_i,   g_ij = dy_ij * weight_j
// Elements are computed in the input's type, x_ij - mean_i as (x_ij - hi_i) - lo_i with the
// mean split into hi_i = T(mean_i) and lo_i = T(mean_i - hi_i): a float32 row around 1e4
// with a spread of 1e-2 would otherwise lose 5% to the rounding of its mean (float's
// spacing there is 1e-3), where the split keeps float accuracy (x_ij - hi_i is exact for
// values near the mean) at float speed.
//   dx_ij   = rstd_i * (g_ij - mean_j(g_ij) - xhat_ij * mean_j(g_ij * xhat_ij))
//   dweight_j = sum_i dy_ij * xhat_ij,   dbias_j = sum_i dy_ij
// The row means of the backward accumulate in double too, and each backend sums the
// columns over blocks of rows cut by the row count alone and merged in order, so nothing
// depends on the threads. Plain C++ (no Tensor) so that the CUDA backend fills the same
// structs.
#pragma once

#include <cstdint>

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/host_device.h"

namespace graft::kernels {

// The weight or bias element j, or the identity where the op has none.
template <class T>
GRAFT_HOST_DEVICE T weight_at(const T* weight, int64_t j) {
  return weight != nullptr ? weight[j] : T(1);
}
template <class T>
GRAFT_HOST_DEVICE T bias_at(const T* bias, int64_t j) {
  return bias != nullptr ? bias[j] : T(0);
}

// Row i's statistics as the element loops of both backends use them (see above).
template <class T>
struct RowStats {
  T hi, lo, rstd;
  GRAFT_HOST_DEVICE RowStats(double mean, double inv_std)
      : hi(static_cast<T>(mean)),
        lo(static_cast<T>(mean - static_cast<double>(hi))),
        rstd(static_cast<T>(inv_std)) {}
  // (x - mean) * rstd
  GRAFT_HOST_DEVICE T normalize(T x) const { return ((x - hi) - lo) * rstd; }
};

struct LayerNormArgs {
  DType dtype = kFloat32;        // a floating dtype (float16 and bfloat16 computed in
                                 // float32): input, weight, bias, output
  Device device;                 // where every buffer lives
  const void* input = nullptr;   // (rows, cols)
  const void* weight = nullptr;  // (cols), or null: 1
  const void* bias = nullptr;    // (cols), or null: 0
  void* output = nullptr;        // (rows, cols)
  double* mean = nullptr;        // (rows)
  double* rstd = nullptr;        // (rows)
  int64_t rows = 0, cols = 0;    // cols >= 1
  double eps = 1e-5;
};

struct LayerNormBackwardArgs {
  DType dtype = kFloat32;  // as LayerNormArgs
  Device device;
  const void* grad_output = nullptr;  // (rows, cols)
  const void* input = nullptr;        // (rows, cols)
  const double* mean = nullptr;       // (rows), as the forward saved it
  const double* rstd = nullptr;       // (rows)
  const void* weight = nullptr;       // (cols), or null: 1
  void* grad_input = nullptr;         // (rows, cols), or null: not wanted
  void* grad_weight = nullptr;        // (cols), or null: not wanted
  void* grad_bias = nullptr;          // (cols), or null: not wanted
  int64_t rows = 0, cols = 0;
};

}  // namespace graft::kernels
