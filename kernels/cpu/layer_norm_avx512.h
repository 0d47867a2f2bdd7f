// Layer norm's float32 rows (layer_norm.cpp) 16 lanes wide, for CPUs with AVX-512, chosen at
// run time as math_avx512.h's functions are, a block of rows a call. The same arithmetic as
// the x86-64-v3 rows. The forward: a row's mean, then the squares of its deviations from that
// mean, both summed in double while the row is in L1, then out = xhat * weight + bias in float,
// each row's next one asked for from memory while the row is worked on. On the 2-core Xeon, two
// threads, against the x86-64-v3 rows (4 doubles a vector, no asking ahead): (16384, 384)
// 1.40-1.44 -> 0.98-1.07 ms (PyTorch 1.24-1.26), (1024, 1024) 198-215 -> 185-200 us (205-240);
// without the asking ahead, (16384, 384) 1.13-1.24 ms. The backward: a row's sums of
// g = dy * weight and of g * xhat in double, then dx and the row's share of dweight and dbias
// in one pass, which asks for the next row's dy and x. Forward + backward through autograd,
// against the x86-64-v3 backward rows (`omp simd` reductions, 4 doubles a vector), taking turns
// on a noisy VM: (16384, 384) 9.3-9.9 -> 5.3-6.5 ms (medians' ratio 0.655), (768, 128) 93-109
// -> 82-95 us.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// For r < rows, row r = x[r * cols, (r + 1) * cols): out's row r = its layer norm with eps,
// times weight and plus bias (each cols floats, never null), and mean[r], rstd[r] its
// statistics. Only where cpu_runs_avx512() (cpu_features.h).
void layer_norm_rows_avx512(const float* x, const float* weight, const float* bias, int64_t rows,
                            int64_t cols, double eps, float* out, double* mean, double* rstd);

// The backward of those rows, given the forward's mean and rstd: for r < rows, dx's row r (where
// dx is not null) = the gradient of row r of x, from dy's row r and weight (never null); and,
// where dweight and dbias are not null (both or neither), dweight[j] += the rows' sum of dy * xhat
// and dbias[j] += the rows' sum of dy, in float. Only where cpu_runs_avx512().
void layer_norm_backward_rows_avx512(const float* dy, const float* x, const float* weight,
                                     const double* mean, const double* rstd, int64_t rows,
                                     int64_t cols, float* dx, float* dweight, float* dbias);

}  // namespace graft::kernels::cpu
