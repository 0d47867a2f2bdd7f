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
// median of eight turns, 1.05 -> 0.92 ms. Where the packed GEMM has whole tiles it stays:
// these tiles took 1.2-1.7 times its time for the GPT's products (k <= 512, where each dot
// product's final sum of lanes weighs), and though alone they beat it for outputs of 64 rows
// or fewer with k >= 512, the MLP's step gained nothing from them there (docs/performance.md,
// "The EPYC in the afternoon").
//
// CPUs without AVX-512 (most desktops) run the packed GEMM's AVX2 kernel, whose 6 x 32 tiles a
// narrow output hobbles as much (and Eigen's AVX2 GEMM before it: the CNN's head at 52
// GFLOP/s on one thread). There the same dot products run 8 lanes wide (dot_products_v3,
// tiles of up to 3 x 4 in AVX2's 16 registers): the CNN's head 77 -> 36 us, conv1's weight
// gradient 8.3 -> 3.8 an image (timed on the EPYC against Eigen as graft called it for those
// sizes).
#pragma once

#include <cstdint>

#include "graft/core/half.h"
#include "graft/kernels/cpu/packed_gemm.h"

namespace graft::kernels::cpu {

// Whether dot_products serves a (m, k) x b (k, n) of T (float, Half or BFloat16) on this
// machine: a's rows and b's columns contiguous (a.col_stride and b.row_stride 1), and the output
// too narrow or too short for one whole tile of the packed GEMM's best kernel for T
// (packed_gemm_pays), which is faster wherever it has them (it reuses each loaded value across
// a whole tile); for 16-bit types, that kernel present (for bfloat16, and not AMX). float32 on
// any x86-64-v3 CPU (dot_products_v3 without AVX-512).
template <class T>
bool dot_products_serve(const StridedMatrix<T>& a, const StridedMatrix<T>& b, int64_t m, int64_t k,
                        int64_t n);

// out (m, n), row-major, = a (m, k) x b (k, n) as above (k == 0 gives zeros), or out += a x b
// with `accumulate`, out's rows `out_stride` elements apart (0: n): each element summed in
// float from the operands widened, 16 lanes along k and then the lanes (and out's value), and
// rounded once to T; one order whatever the thread count.
template <class T>
void dot_products(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* out, int64_t m,
                  int64_t k, int64_t n, bool accumulate = false, int64_t out_stride = 0);

// dot_products' form for CPUs without AVX-512, float32 alone (x86-64-v3, graft's build target:
// AVX2's 8 lanes, tiles of up to 3 x 4), which dot_products takes there; any CPU graft runs on
// runs it, and the tests call it directly. Only in a build for AVX2 and FMA (GRAFT_CPU_ARCH
// can leave them out), elsewhere an error.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__)
#define GRAFT_DOT_PRODUCTS_V3 1
#else
#define GRAFT_DOT_PRODUCTS_V3 0
#endif
void dot_products_v3(const StridedMatrix<float>& a, const StridedMatrix<float>& b, float* out,
                     int64_t m, int64_t k, int64_t n, bool accumulate = false,
                     int64_t out_stride = 0);

}  // namespace graft::kernels::cpu
