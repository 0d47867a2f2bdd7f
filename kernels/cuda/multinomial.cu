// CUDA multinomial: the sampler of kernels/multinomial.h, the twin of
// kernels/cpu/multinomial.cpp, giving the CPU's samples for the same seed.
//
// One block per row. Thread 0 copies and checks the row and, with replacement, builds its
// cumulative sums in index order: a serial loop, because a parallel scan would add in another
// order and change the last bits of the sums, and so now and then a sample. The block's
// threads then draw the samples, each a binary search. Without replacement every draw depends
// on the ones before, so thread 0 draws them all, O(num_samples x n) (the header says why
// that is fine). A bad row is recorded as the smallest encoded (row, check) by atomicMin; the
// launcher reads it back (which waits for the kernel) and throws the CPU's error.
#include <cstdint>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/multinomial.h"

namespace graft::kernels::cuda {
namespace {

constexpr int kMultinomialBlockSize = 128;
// No bad row recorded yet: larger than any encoded row, as atomicMin needs.
constexpr unsigned long long kNoBadRow = ~0ull;

// ---- kernels

// For each row (a block each): check = prepare_row(row); if bad, record it; else draw the
// row's samples (by all threads with replacement, by thread 0 without).
template <class T>
__global__ void multinomial_kernel(const __grid_constant__ MultinomialArgs args,
                                   unsigned long long* first_bad) {
  __shared__ MultinomialCheck s_check;
  for (int64_t row = blockIdx.x; row < args.rows; row += gridDim.x) {
    if (threadIdx.x == 0) {
      const MultinomialCheck check = prepare_row<T>(args, row);
      s_check = check;
      if (check != MultinomialCheck::kOk)
        atomicMin(first_bad, static_cast<unsigned long long>(row) * kMultinomialChecks +
                                 static_cast<unsigned long long>(check));
      else if (!args.replacement)
        draw_without_replacement(args, row);
    }
    __syncthreads();
    if (s_check == MultinomialCheck::kOk && args.replacement)
      for (int64_t s = threadIdx.x; s < args.num_samples; s += blockDim.x)
        args.out[row * args.num_samples + s] = draw_with_replacement(args, row, s);
    __syncthreads();  // s_check is read by all before thread 0 checks the next row
  }
}

// ---- launchers

void multinomial_cuda(const MultinomialArgs& args) {
  int device = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  const Tensor bad_row = empty({1}, TensorOptions(kInt64).device(Device::cuda(device)));
  auto* first_bad = static_cast<unsigned long long*>(bad_row.data_ptr());
  GRAFT_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xFF, sizeof(unsigned long long)));  // kNoBadRow
  visit_floating_or_16_bit_dtype("multinomial", args.dtype, [&](auto tag) {
    using T = decltype(tag);
    multinomial_kernel<T><<<grid_for(args.rows, 1), kMultinomialBlockSize>>>(args, first_bad);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
  unsigned long long encoded = kNoBadRow;
  GRAFT_CUDA_CHECK(cudaMemcpy(&encoded, first_bad, sizeof(encoded), cudaMemcpyDeviceToHost));
  if (encoded != kNoBadRow) fail_multinomial(encoded, args);
}

}  // namespace

void register_multinomial(KernelTable& table) {
  table.multinomial[static_cast<int>(kCUDA)] = &multinomial_cuda;
}

}  // namespace graft::kernels::cuda
