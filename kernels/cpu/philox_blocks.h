// Philox blocks in bulk for the CPU kernels that draw random numbers (random.cpp, attention's
// dropout): 16 blocks at a time in AVX-512 registers where the CPU has it, one lane a block,
// the same bits as core/random.h's philox_block. One block a call, the ten rounds' two
// 32 x 32 -> 64-bit multiplies and xors are about 60 scalar instructions; 16 lanes wide,
// about 14 a block: 65536 blocks on one thread 462 -> 127 us, and the fused attention's
// dropout at (4, 6, 256, 64) 12.7 -> 9.9 ms forward + backward (docs/nn.md).
#pragma once

#include <cstdint>

#include "graft/core/random.h"

namespace graft::kernels::cpu {

// out[i] = philox_block(seed, first + i) for i < count.
void philox_blocks(uint64_t seed, uint64_t first, int64_t count, PhiloxBlock* out);

}  // namespace graft::kernels::cpu
