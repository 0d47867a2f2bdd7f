// Products whose operands both run along k in memory, a (m, k) by rows and b (k, n) by columns,
// as in a Linear layer's x @ w.t() (w being (n, k), row-major): each output element is then the
// dot product of two contiguous vectors, and AVX-512 can take them as such; float32, and
// float16 and bfloat16 widened to float as they are loaded.
//
// graft's packed GEMM (packed_gemm.h) fills the output in tiles of 14 rows by 32 columns, after
// packing b's columns into zero-padded panels. A classifier's head has as many columns as
// classes: the Fashion-MNIST CNN's (64, 3136) x (3136, 10) filled 10 of each tile's 32 columns,
// after one thread had packed b's single panel while the other waited: 224 us (18 GFLOP/s;
// PyTorch 77 us), more than 2% of a training step, and the MLP's (64, 256) x (256, 10) 20 us
// (PyTorch 9), 5% of its step. Here a tile of up to 4 rows of a by 6 columns of b keeps its
// dot products in as many accumulators of 16 lanes along k, reads both operands where they lie
// (four vectors of a held, each of b's loaded once for all four), and sums each accumulator's
// lanes at the end. On the EPYC, two threads: the CNN's head 224 -> 22 us (183 GFLOP/s), the
// MLP's 20 -> 3.3, a single row's (1, 784) x (784, 256) 37 -> 5.5; in bfloat16 61 -> 22, 6.9 ->
// 3.4 and 22 -> 5.1, in float16 169 -> 22, 14 -> 3.4 and 63 -> 5.3. packed_gemm_if_it_pays
// takes them too, adding onto its output: the first convolution's weight gradient, (32, 784)
// x (784, 9) an image, had gone to Eigen's AVX2 GEMM; the CNN's conv1 forward + backward,
// median of eight turns, 1.05 -> 0.92 ms. Where the packed GEMM has
// whole tiles it stays: these tiles took 1.2-1.7 times its time for the GPT's products (k <=
// 512, where each dot product's final sum of lanes weighs), and though alone they beat it for
// outputs of 64 rows or fewer with k >= 512, the MLP's step gained nothing from them there
// (docs/performance.md, "The EPYC in the afternoon").
#pragma once

#include <cstdint>

#include "graft/core/half.h"
#include "graft/kernels/cpu/packed_gemm.h"

namespace graft::kernels::cpu {

// Whether dot_products serves a (m, k) x b (k, n) of T (float, Half or BFloat16) on this
// machine: the packed GEMM's AVX-512 kernel for T present (for bfloat16, and not AMX), a's rows
// and b's columns contiguous (a.col_stride and b.row_stride 1), and the output too narrow or
// too short for one whole tile of that kernel (packed_gemm_pays), which is faster wherever it
// has them: it reuses each loaded value across a whole tile.
template <class T>
bool dot_products_serve(const StridedMatrix<T>& a, const StridedMatrix<T>& b, int64_t m, int64_t n);

// out (m, n), row-major, = a (m, k) x b (k, n) as above (k == 0 gives zeros), or out += a x b
// with `accumulate`, out's rows `out_stride` elements apart (0: n): each element summed in
// float from the operands widened, 16 lanes along k and then the lanes (and out's value), and
// rounded once to T; one order whatever the thread count.
template <class T>
void dot_products(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* out, int64_t m,
                  int64_t k, int64_t n, bool accumulate = false, int64_t out_stride = 0);

}  // namespace graft::kernels::cpu
