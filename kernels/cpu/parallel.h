// parallel_for: OpenMP for big ranges, a plain call for small ones.
//
// Starting an OpenMP team costs microseconds, more than a small op itself, so ranges under
// `grain` elements per thread run on the calling thread with no OpenMP involvement at all.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace graft::kernels::cpu {

// Elements below which an elementwise loop is not worth splitting across threads.
inline constexpr int64_t kParallelGrain = 32768;

// Calls fn(chunk_begin, chunk_end) over [begin, end), split across threads when large.
template <class Fn>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const Fn& fn) {
  const int64_t n = end - begin;
  if (n <= 0) return;
#if defined(_OPENMP)
  const int64_t max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t threads = std::min<int64_t>(max_threads, n / std::max<int64_t>(grain, 1));
  if (threads > 1) {
#pragma omp parallel num_threads(static_cast <int>(threads))
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t chunk = (n + nt - 1) / nt;
      const int64_t b = begin + t * chunk, e = std::min(end, b + chunk);
      if (b < e) fn(b, e);
    }
    return;
  }
#endif
  fn(begin, end);
}

// Calls fn(block) for every block in [0, blocks), spread over the threads, and inside an
// OpenMP team whenever more than one thread is allowed, even for a single block. The
// deterministic paths of settings.h run their Eigen GEMMs here: Eigen blocks a GEMM's inner
// dimension (and so orders its sums) one way when it may thread and another when it may
// not, and inside a team it never threads, so each block's bits do not depend on the
// thread count.
template <class Fn>
void parallel_blocks(int64_t blocks, const Fn& fn) {
#if defined(_OPENMP)
  if (!omp_in_parallel() && omp_get_max_threads() > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t block = 0; block < blocks; ++block) fn(block);
    return;
  }
#endif
  for (int64_t block = 0; block < blocks; ++block) fn(block);
}

}  // namespace graft::kernels::cpu
