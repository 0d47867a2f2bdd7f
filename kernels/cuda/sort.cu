// CUDA sort and top-k: the twins of kernels/cpu/sort.cpp over the same SortArgs, in the
// order of kernels/sort_keys.h (so both give the same values and indices, ties included).
//
// sort: each line becomes a row of `padded` (key, index) pairs in scratch memory (n
// rounded up to a power of two; padding pairs have the largest key and index, so they sort
// last), a bitonic network sorts the rows ascending, and the first k pairs' indices pick the
// values out of the input. A bitonic network is not stable by itself; comparing (key, index)
// pairs, a strict order, makes its result the stable one. The network runs as two kernels:
//  - tile: a block loads kTile consecutive pairs of a row (or the whole row, when shorter)
//    into shared memory and runs every compare-exchange of the network whose stride is
//    below kTile there;
//  - merge: one pass over global memory per stride of kTile or more, a thread per pair.
// A row of up to kTile pairs takes one tile launch. A longer one, any length, takes a tile
// launch and then, for each merge size 2 kTile, 4 kTile, ..., padded, the merge passes of the
// strides size / 2 ... kTile and a tile launch for the strides below: for a 1M-element row,
// 45 merge passes and 10 tile launches.
//
// topk: a block per line finds the k-th smallest key t by radix select, 8 bits at a time
// from the top (a shared-memory histogram of the next digit over the keys matching the
// digits chosen so far; the digit where the running count reaches the rank is the next one),
// which also says how many keys equal to t belong to the k (the others are below t). A
// compaction pass then keeps, in index order, every key below t and the first of those equal
// to t, with two block-wide prefix sums per chunk of the line. Those k pairs are the result
// for sorted = false (index order, as on the CPU); for sorted = true they are padded and
// sorted by the network above. A line is read (key bits / 8) + 1 times and never sorted
// whole. Kernels are launched only for non-empty outputs (the op layer returns those).
#include <algorithm>
#include <cstdint>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/sort.h"
#include "graft/kernels/sort_keys.h"

namespace graft::kernels::cuda {
namespace {

// Pairs a block sorts in shared memory: 2048 x (8-byte index + key of up to 8 bytes) = 32
// KiB at most, under the 48 KiB a block gets without opting in, with kTile / 2 = 1024
// threads, one per compare-exchange.
constexpr int kTile = 2048;
// Threads per line in topk's select and compaction; a multiple of the warp size.
constexpr int kSelectBlockSize = 256;
constexpr int kWarpSize = 32;
constexpr int kRadixBits = 8;
constexpr int kRadixBins = 1 << kRadixBits;
// The index of padding pairs: after every real index, so padding sorts after real pairs of
// the largest key (NaN).
constexpr int64_t kPadIndex = INT64_MAX;

template <class K>
__host__ __device__ constexpr K max_key() {
  return static_cast<K>(~K{0});
}

int64_t next_power_of_two(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

// ---- device helpers

// Line `line` = o * inner + i of a contiguous (outer, n, inner) block starts at element
// o * n * inner + i; its elements are `inner` apart.
__device__ int64_t line_start(int64_t line, int64_t n, int64_t inner) {
  const int64_t o = line / inner;
  return o * n * inner + (line - o * inner);
}

// Puts pairs a and b in order: a before b when `ascending`, else b before a.
template <class K>
__device__ void compare_exchange(K& key_a, int64_t& index_a, K& key_b, int64_t& index_b,
                                 bool ascending) {
  if (sorts_before(key_b, index_b, key_a, index_a) == ascending) {
    const K key = key_a;
    key_a = key_b;
    key_b = key;
    const int64_t index = index_a;
    index_a = index_b;
    index_b = index;
  }
}

// Exclusive prefix sum of one value per thread over the block (blockDim.x a multiple of the
// warp size); `total` receives the block's sum. Every thread of the block must call it.
__device__ int block_exclusive_sum(int value, int& total) {
  __shared__ int warp_sums[kWarpSize];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int warps = static_cast<int>(blockDim.x) / kWarpSize;
  int inclusive = value;
  for (int offset = 1; offset < kWarpSize; offset *= 2) {
    const int up = __shfl_up_sync(0xffffffffu, inclusive, offset);
    if (lane >= offset) inclusive += up;
  }
  if (lane == kWarpSize - 1) warp_sums[warp] = inclusive;
  __syncthreads();
  if (warp == 0) {
    int sum = lane < warps ? warp_sums[lane] : 0;
    for (int offset = 1; offset < kWarpSize; offset *= 2) {
      const int up = __shfl_up_sync(0xffffffffu, sum, offset);
      if (lane >= offset) sum += up;
    }
    warp_sums[lane] = sum;  // inclusive over the warps
  }
  __syncthreads();
  total = warp_sums[warps - 1];
  const int before = (warp == 0 ? 0 : warp_sums[warp - 1]) + inclusive - value;
  __syncthreads();  // all have read warp_sums before the next call writes it
  return before;
}

// ---- kernels

// Plain loop: for each line l and position j < padded:
//   pair (l, j) = j < n ? (sort_key(input[l][j]), j) : (max key, kPadIndex)
template <class T>
__global__ void fill_pairs_kernel(const T* __restrict__ input, int64_t n, int64_t inner,
                                  int64_t count, int64_t padded, bool descending,
                                  SortKey<T>* __restrict__ keys, int64_t* __restrict__ index) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < count;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t line = p / padded, j = p - line * padded;
    if (j < n) {
      keys[p] = sort_key(input[line_start(line, n, inner) + j * inner], descending);
      index[p] = j;
    } else {
      keys[p] = max_key<SortKey<T>>();
      index[p] = kPadIndex;
    }
  }
}

// Plain loop, for each tile of `tile` consecutive pairs (a tile never spans two rows):
//   for size = first_size, 2 first_size, ..., last_size:
//     for stride = min(size, tile) / 2, ..., 1:
//       for each a in the tile with a & stride == 0:
//         compare_exchange(a, a + stride, ascending = ((a's position in its row) & size) == 0)
// in shared memory, the block's threads sharing the tile / 2 pairs of each step. With
// first_size = 2, last_size = tile it sorts each tile (alternate tiles in opposite
// directions, as the network wants); with first_size = last_size = size it finishes a merge.
template <class K>
__global__ void bitonic_tile_kernel(K* keys, int64_t* index, int64_t padded, int tile,
                                    int64_t tiles, int64_t first_size, int64_t last_size) {
  extern __shared__ __align__(16) unsigned char shared[];
  int64_t* s_index = reinterpret_cast<int64_t*>(shared);  // (tile)
  K* s_key = reinterpret_cast<K*>(s_index + tile);        // (tile)
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t base = t * tile;
    const int64_t row_position = base % padded;  // of the tile's first pair
    for (int j = threadIdx.x; j < tile; j += blockDim.x) {
      s_key[j] = keys[base + j];
      s_index[j] = index[base + j];
    }
    __syncthreads();
    for (int64_t size = first_size; size <= last_size; size *= 2) {
      for (int stride = static_cast<int>(size < tile ? size : tile) / 2; stride > 0; stride /= 2) {
        for (int q = threadIdx.x; q < tile / 2; q += blockDim.x) {
          const int a = 2 * q - (q & (stride - 1)), b = a + stride;
          compare_exchange(s_key[a], s_index[a], s_key[b], s_index[b],
                           ((row_position + a) & size) == 0);
        }
        __syncthreads();
      }
    }
    for (int j = threadIdx.x; j < tile; j += blockDim.x) {
      keys[base + j] = s_key[j];
      index[base + j] = s_index[j];
    }
    __syncthreads();  // the tile is written out before the next one is loaded
  }
}

// Plain loop: for each row and each a < padded with a & stride == 0 (stride >= the tile):
//   compare_exchange(row[a], row[a + stride], ascending = (a & size) == 0)
template <class K>
__global__ void bitonic_merge_kernel(K* keys, int64_t* index, int64_t padded, int64_t pairs,
                                     int64_t size, int64_t stride) {
  const int64_t half = padded / 2;
  for (int64_t q = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; q < pairs;
       q += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = q / half, r = q - row * half;
    const int64_t a = 2 * r - (r & (stride - 1));
    const int64_t p = row * padded + a;
    compare_exchange(keys[p], index[p], keys[p + stride], index[p + stride], (a & size) == 0);
  }
}

// Plain loop over the contiguous (outer, k, inner) outputs p = (o, j, i), line l = o * inner + i:
//   src = index[l * padded + j]; indices[p] = src; values[p] = input[o][src][i]
template <class T>
__global__ void write_results_kernel(const T* __restrict__ input, int64_t n, int64_t inner,
                                     int64_t k, int64_t count, const int64_t* __restrict__ index,
                                     int64_t padded, T* __restrict__ values,
                                     int64_t* __restrict__ indices) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < count;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t rest = p / inner, i = p - rest * inner;
    const int64_t o = rest / k, j = rest - o * k;
    const int64_t src = index[(o * inner + i) * padded + j];
    indices[p] = src;
    values[p] = input[(o * n + src) * inner + i];
  }
}

// One block per line (1 <= k <= n). Plain loop:
//   t = the k-th smallest key of the line; take = k - #(keys < t)
//   pairs of the line with key < t, and the first `take` with key == t, in index order,
//   go to row `line` of (keys, index); positions k ... padded - 1 of the row get padding
template <class T>
__global__ void topk_select_kernel(const T* __restrict__ input, int64_t n, int64_t inner,
                                   int64_t lines, int64_t k, bool largest, int64_t padded,
                                   SortKey<T>* __restrict__ keys, int64_t* __restrict__ index) {
  using K = SortKey<T>;
  __shared__ unsigned long long histogram[kRadixBins];
  __shared__ int s_digit;
  __shared__ unsigned long long s_rank;
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
    const T* in = input + line_start(line, n, inner);
    // Radix select: the digits of t from the top, and t's rank among the keys equal to it.
    K prefix = 0, mask = 0;
    auto rank = static_cast<unsigned long long>(k);  // of t among the keys matching prefix
    for (int shift = 8 * static_cast<int>(sizeof(K)) - kRadixBits; shift >= 0;
         shift -= kRadixBits) {
      for (int b = threadIdx.x; b < kRadixBins; b += blockDim.x) histogram[b] = 0;
      __syncthreads();
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        const K key = sort_key(in[j * inner], largest);
        if ((key & mask) == prefix) atomicAdd(&histogram[(key >> shift) & (kRadixBins - 1)], 1ull);
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        unsigned long long below = 0;
        int digit = 0;
        while (below + histogram[digit] < rank) below += histogram[digit++];
        s_digit = digit;
        s_rank = rank - below;
      }
      __syncthreads();
      prefix = static_cast<K>(prefix | (static_cast<K>(s_digit) << shift));
      mask = static_cast<K>(mask | (static_cast<K>(kRadixBins - 1) << shift));
      rank = s_rank;
    }
    const K threshold = prefix;
    const unsigned long long take_equal = rank;
    // Compaction in index order, a chunk of blockDim.x elements at a time; kept and
    // equal_seen are the same in every thread.
    K* out_keys = keys + line * padded;
    int64_t* out_index = index + line * padded;
    unsigned long long kept = 0, equal_seen = 0;
    for (int64_t chunk = 0; chunk < n && kept < static_cast<unsigned long long>(k);
         chunk += blockDim.x) {
      const int64_t j = chunk + threadIdx.x;
      K key = 0;
      bool below = false, equal = false;
      if (j < n) {
        key = sort_key(in[j * inner], largest);
        below = key < threshold;
        equal = key == threshold;
      }
      int equal_total = 0, kept_total = 0;
      const int equal_before = block_exclusive_sum(equal ? 1 : 0, equal_total);
      const bool keep = below || (equal && equal_seen + equal_before < take_equal);
      const int kept_before = block_exclusive_sum(keep ? 1 : 0, kept_total);
      if (keep) {
        out_keys[kept + kept_before] = key;
        out_index[kept + kept_before] = j;
      }
      kept += kept_total;
      equal_seen += equal_total;
    }
    for (int64_t j = k + threadIdx.x; j < padded; j += blockDim.x) {
      out_keys[j] = max_key<K>();
      out_index[j] = kPadIndex;
    }
  }
}

// ---- launchers

// `count` scratch (key, index) pairs on the current device.
template <class K>
class PairBuffer {
 public:
  explicit PairBuffer(int64_t count) {
    int device = 0;
    GRAFT_CUDA_CHECK(cudaGetDevice(&device));
    const auto options = TensorOptions(kUInt8).device(Device::cuda(device));
    keys_ = empty({count * static_cast<int64_t>(sizeof(K))}, options);
    index_ = empty({count}, options.dtype(kInt64));
  }
  K* keys() const { return static_cast<K*>(keys_.data_ptr()); }
  int64_t* index() const { return static_cast<int64_t*>(index_.data_ptr()); }

 private:
  Tensor keys_, index_;
};

// Sorts every row of `padded` pairs (a power of two) ascending.
template <class K>
void sort_pairs(K* keys, int64_t* index, int64_t lines, int64_t padded) {
  if (padded < 2) return;
  const int tile = static_cast<int>(std::min<int64_t>(padded, kTile));
  const int64_t tiles = lines * (padded / tile);
  const size_t shared = static_cast<size_t>(tile) * (sizeof(int64_t) + sizeof(K));
  const auto run_tiles = [&](int64_t first_size, int64_t last_size) {
    bitonic_tile_kernel<K><<<grid_for(tiles, 1), tile / 2, shared>>>(keys, index, padded, tile,
                                                                     tiles, first_size, last_size);
    GRAFT_CUDA_CHECK_LAUNCH();
  };
  run_tiles(2, tile);
  const int64_t pairs = lines * padded / 2;
  for (int64_t size = 2 * static_cast<int64_t>(tile); size <= padded; size *= 2) {
    for (int64_t stride = size / 2; stride >= tile; stride /= 2) {
      bitonic_merge_kernel<K>
          <<<grid_for(pairs), kBlockSize>>>(keys, index, padded, pairs, size, stride);
      GRAFT_CUDA_CHECK_LAUNCH();
    }
    run_tiles(size, size);
  }
}

// The outputs from the first k pairs of each row of `padded`.
template <class T>
void write_results(const SortArgs& args, const int64_t* index, int64_t padded) {
  const int64_t count = args.outer * args.k * args.inner;
  write_results_kernel<T><<<grid_for(count), kBlockSize>>>(
      static_cast<const T*>(args.input), args.n, args.inner, args.k, count, index, padded,
      static_cast<T*>(args.values), args.indices);
  GRAFT_CUDA_CHECK_LAUNCH();
}

void sort_cuda(const SortArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const int64_t lines = args.outer * args.inner, padded = next_power_of_two(args.n);
    const PairBuffer<SortKey<T>> pairs(lines * padded);
    fill_pairs_kernel<T><<<grid_for(lines * padded), kBlockSize>>>(
        static_cast<const T*>(args.input), args.n, args.inner, lines * padded, padded,
        args.descending, pairs.keys(), pairs.index());
    GRAFT_CUDA_CHECK_LAUNCH();
    sort_pairs(pairs.keys(), pairs.index(), lines, padded);
    write_results<T>(args, pairs.index(), padded);
  });
}

void topk_cuda(const SortArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const int64_t lines = args.outer * args.inner;
    const int64_t padded = args.sorted ? next_power_of_two(args.k) : args.k;
    const PairBuffer<SortKey<T>> winners(lines * padded);
    topk_select_kernel<T><<<grid_for(lines, 1), kSelectBlockSize>>>(
        static_cast<const T*>(args.input), args.n, args.inner, lines, args.k, args.descending,
        padded, winners.keys(), winners.index());
    GRAFT_CUDA_CHECK_LAUNCH();
    if (args.sorted) sort_pairs(winners.keys(), winners.index(), lines, padded);
    write_results<T>(args, winners.index(), padded);
  });
}

}  // namespace

void register_sort(KernelTable& table) {
  table.sort[static_cast<int>(kCUDA)] = &sort_cuda;
  table.topk[static_cast<int>(kCUDA)] = &topk_cuda;
}

}  // namespace graft::kernels::cuda
