// philox_blocks (kernels/cpu/philox_blocks.h), 16 blocks at a time in AVX-512 where the CPU
// has it, against core/random.h's philox_block one at a time: across a carry of the
// counter's low word into its high word inside one group of 16, with a seed using both key
// words, and for counts that leave a tail.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "graft/core/random.h"
#include "graft/kernels/cpu/philox_blocks.h"

namespace g = graft;

TEST(PhiloxBlocks, BulkBlocksAreTheBlocksOneAtATime) {
  const uint64_t seeds[] = {0, 67280421310721ull, 0xfedcba9876543210ull};
  const uint64_t firsts[] = {0, 5, (uint64_t{1} << 32) - 7, (uint64_t{3} << 32) + 1};
  for (const uint64_t seed : seeds) {
    for (const uint64_t first : firsts) {
      for (const int64_t count : {0, 1, 15, 16, 37, 64}) {
        std::vector<g::PhiloxBlock> bulk(static_cast<size_t>(count));
        g::kernels::cpu::philox_blocks(seed, first, count, bulk.data());
        for (int64_t i = 0; i < count; ++i) {
          const g::PhiloxBlock one = g::philox_block(seed, first + static_cast<uint64_t>(i));
          for (int w = 0; w < 4; ++w)
            ASSERT_EQ(bulk[i].words[w], one.words[w])
                << "seed " << seed << ", block " << first + i << ", word " << w;
        }
      }
    }
  }
}
