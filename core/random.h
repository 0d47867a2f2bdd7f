// graft's random numbers: the Philox4x32-10 counter-based generator and the global stream.
//
// Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) maps a
// 128-bit counter and a 64-bit key to 128 random bits with ten rounds of multiply/xor; it
// keeps no state between draws. That is what lets every device agree: block `b` of the
// stream of `seed` is philox(counter = b, key = seed), so a CUDA thread computing element
// i reads the same bits as the CPU loop does, and `manual_seed(0); randn({n}, cuda)`
// equals the CPU result. The constants are those of Random123, cuRAND and PyTorch.
//
// The global stream (Generator) is a seed plus an offset: the next unused block. Each
// random op reserves the blocks it consumes, so consecutive calls never reuse numbers.
//
// The block function is marked GRAFT_HOST_DEVICE so that the CUDA kernels include this
// same header.
#pragma once

#include <cstdint>
#include <mutex>

#include "graft/core/host_device.h"

namespace graft {

// Four 32-bit words: a Philox counter, or the random bits it maps to.
struct PhiloxBlock {
  uint32_t words[4];
};

inline constexpr uint32_t kPhiloxMultiplier0 = 0xD2511F53;
inline constexpr uint32_t kPhiloxMultiplier1 = 0xCD9E8D57;
inline constexpr uint32_t kPhiloxWeyl0 = 0x9E3779B9;  // golden ratio
inline constexpr uint32_t kPhiloxWeyl1 = 0xBB67AE85;  // sqrt(3) - 1
inline constexpr int kPhiloxRounds = 10;

// Philox4x32 with ten rounds: the bijection counter -> bits selected by the key.
GRAFT_HOST_DEVICE inline PhiloxBlock philox4x32_10(PhiloxBlock counter, uint32_t key0,
                                                   uint32_t key1) {
  uint32_t* c = counter.words;
  for (int round = 0; round < kPhiloxRounds; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kPhiloxMultiplier0) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(kPhiloxMultiplier1) * c[2];
    const auto hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const auto hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c[0] = hi1 ^ c[1] ^ key0;
    c[1] = lo1;
    c[2] = hi0 ^ c[3] ^ key1;
    c[3] = lo0;
    key0 += kPhiloxWeyl0;
    key1 += kPhiloxWeyl1;
  }
  return counter;
}

// Block `index` of the stream of `seed`: counter {index lo, index hi, 0, 0}, key {seed lo,
// seed hi}.
GRAFT_HOST_DEVICE inline PhiloxBlock philox_block(uint64_t seed, uint64_t index) {
  const PhiloxBlock counter = {
      {static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0u, 0u}};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Where a random op reads: blocks offset, offset + 1, ... of the stream of `seed`.
struct PhiloxPosition {
  uint64_t seed;
  uint64_t offset;
};

// The seed and the next unused block of one stream; safe to share between threads.
class Generator {
 public:
  // PyTorch's default seed, so a program that never seeds is still reproducible.
  static constexpr uint64_t kDefaultSeed = 67280421310721ull;

  explicit Generator(uint64_t seed = kDefaultSeed) : seed_(seed) {}

  // Selects the stream of `seed` and rewinds to its first block.
  void manual_seed(uint64_t seed);
  uint64_t seed() const;
  uint64_t offset() const;
  // Hands out `blocks` consecutive unused blocks for one op and moves past them.
  PhiloxPosition reserve(uint64_t blocks);

 private:
  mutable std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The stream that rand, randn, randint and manual_seed use.
Generator& default_generator();

}  // namespace graft
