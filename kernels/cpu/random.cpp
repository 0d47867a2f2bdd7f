// CPU random kernels: Philox blocks turned into elements, blocks split across threads.
//
// The loop walks blocks, not elements, so each block's ten Philox rounds run once for
// all the elements it feeds (kernels/random.h says which those are), drawn 16 at a time
// where the CPU has AVX-512 (philox_blocks.h). Element i depends
// only on (seed, offset, i), so the thread split cannot change a single number.
#include <algorithm>
#include <type_traits>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/philox_blocks.h"
#include "graft/kernels/random.h"

namespace graft::kernels::cpu {
namespace {

// A block costs about as much as a dozen elementwise ops, so fewer blocks than
// kParallelGrain elements already pay for a thread.
inline constexpr int64_t kBlockGrain = kParallelGrain / 8;

// Blocks drawn together (philox_blocks.h), then turned into elements.
inline constexpr int64_t kBlockBatch = 64;

// Calls draw(block, j) for element i = b * E + j of every block b, writing out[i].
template <class T, class Draw>
void fill_blocks(const RandomArgs& args, int per_block, const Draw& draw) {
  T* out = static_cast<T*>(args.out);
  const int64_t blocks = (args.numel + per_block - 1) / per_block;
  parallel_for(0, blocks, kBlockGrain, [&](int64_t begin, int64_t end) {
    PhiloxBlock batch[kBlockBatch];
    for (int64_t b0 = begin; b0 < end; b0 += kBlockBatch) {
      const int64_t count = std::min(kBlockBatch, end - b0);
      philox_blocks(args.seed, args.offset + static_cast<uint64_t>(b0), count, batch);
      for (int64_t b = b0; b < b0 + count; ++b) {
        const int64_t first = b * per_block;
        const int elements = static_cast<int>(std::min<int64_t>(per_block, args.numel - first));
        for (int j = 0; j < elements; ++j) out[first + j] = draw(batch[b - b0], j);
      }
    }
  });
}

void random_kernel(const RandomArgs& args) {
  const int per_block = elements_per_block(args.distribution, args.dtype);
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (args.distribution == Distribution::kInteger) {
      const uint64_t span = static_cast<uint64_t>(args.high) - static_cast<uint64_t>(args.low);
      fill_blocks<T>(args, per_block, [&](const PhiloxBlock& block, int j) {
        return static_cast<T>(draw_integer(block, j, args.low, span));
      });
    } else if constexpr (is_floating_type_v<T>) {
      fill_blocks<T>(args, per_block, [&](const PhiloxBlock& block, int j) {
        return draw_floating<T>(block, j, args.distribution);
      });
    } else {
      graft::detail::fail("random kernel called for ", args.dtype,
                          "; the op layer only allows floating dtypes for rand/randn");
    }
  });
}

}  // namespace

void register_random(KernelTable& table) { table.random[static_cast<int>(kCPU)] = &random_kernel; }

}  // namespace graft::kernels::cpu
