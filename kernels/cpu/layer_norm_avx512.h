// Layer norm's float32 forward (layer_norm.cpp) 16 lanes wide, for CPUs with AVX-512, chosen
// at run time as math_avx512.h's functions are, a block of rows a call. The same arithmetic as
// the x86-64-v3 rows: a row's mean, then the squares of its deviations from that mean, both
// summed in double while the row is in L1, then out = xhat * weight + bias in float, each
// row's next one asked for from memory while the row is worked on. On the 2-core Xeon, two
// threads, against the x86-64-v3 rows (4 doubles a vector, no asking ahead): (16384, 384)
// 1.40-1.44 -> 0.98-1.07 ms (PyTorch 1.24-1.26), (1024, 1024) 198-215 -> 185-200 us (205-240);
// without the asking ahead, (16384, 384) 1.13-1.24 ms.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// For r < rows, row r = x[r * cols, (r + 1) * cols): out's row r = its layer norm with eps,
// times weight and plus bias (each cols floats, never null), and mean[r], rstd[r] its
// statistics. Only where cpu_runs_avx512() (cpu_features.h).
void layer_norm_rows_avx512(const float* x, const float* weight, const float* bias, int64_t rows,
                            int64_t cols, double eps, float* out, double* mean, double* rstd);

}  // namespace graft::kernels::cpu
