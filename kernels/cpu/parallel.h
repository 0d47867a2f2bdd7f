// parallel_for and parallel_blocks: the CPU kernels' way onto graft's threads
// (thread_pool.h), with a plain call for work too small to share.
//
// Starting a region costs microseconds, more than a small op itself, so ranges under
// `grain` elements per thread run on the calling thread with no region at all.
#pragma once

#include <algorithm>
#include <cstdint>

#include "graft/kernels/cpu/thread_pool.h"

namespace graft::kernels::cpu {

// Elements below which an elementwise loop is not worth splitting across threads.
inline constexpr int64_t kParallelGrain = 32768;

// Chunks per thread that parallel_for cuts a range into, grain permitting: more than one,
// so that when a thread is off its core (the machine is busy) the others take over its
// share instead of waiting for it.
inline constexpr int64_t kChunksPerThread = 4;

// How many chunks parallel_for cuts `grains` grains into for `threads` threads: a few a
// thread, and where the grains are fewer than that, a multiple of the threads all the same, so
// that each gets as many (3 grains on 2 threads made chunks of 2 to 1: a (768, 128) layer norm
// ran at 1.13 times PyTorch's time).
inline int64_t chunks_for(int64_t grains, int64_t threads) {
  const int64_t wanted = threads * kChunksPerThread;
  if (grains >= wanted) return wanted;
  return grains >= threads ? grains / threads * threads : grains;
}

// Calls fn(chunk_begin, chunk_end) over consecutive chunks of [begin, end), split across
// threads when large. Each chunk has at least `grain` elements.
template <class Fn>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const Fn& fn) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  // The grain is checked first: small work never asks for the threads (which may sample
  // the machine's load).
  const int64_t grains = n / std::max<int64_t>(grain, 1);
  const int64_t chunks = grains <= 1 ? 1 : chunks_for(grains, available_threads());
  if (chunks <= 1) {
    fn(begin, end);
    return;
  }
  // Chunk c starts at c * n / chunks, written so that it cannot overflow.
  const int64_t size = n / chunks, extra = n % chunks;
  run_tasks(chunks, [&](int64_t c) {
    const int64_t first = begin + c * size + std::min(c, extra);
    fn(first, first + size + (c < extra ? 1 : 0));
  });
}

// Calls fn(block) for every block in [0, blocks), spread over the threads. For work whose
// blocks are fixed by the caller (the deterministic paths of settings.h): a block's result
// never depends on the thread count.
template <class Fn>
void parallel_blocks(int64_t blocks, const Fn& fn) {
  run_tasks(blocks, fn);
}

}  // namespace graft::kernels::cpu
