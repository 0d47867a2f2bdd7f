// The masks of a vector's first `count` lanes, for the kernels' masked loads and stores at the
// edges of their rows and panels: none for count <= 0, every lane from the width on.
#pragma once

#include <cstdint>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace graft::kernels::cpu {

// For 16 lanes (float32 or 32-bit words: an __mmask16).
inline uint16_t first_lanes16(int64_t count) {
  return static_cast<uint16_t>(count >= 16 ? 0xffffu : count <= 0 ? 0u : (1u << count) - 1);
}

// For 32 lanes (16-bit elements: an __mmask32).
inline uint32_t first_lanes32(int64_t count) {
  return count >= 32 ? ~uint32_t{0} : count <= 0 ? 0u : (uint32_t{1} << count) - 1;
}

#if defined(__AVX2__)
// For 8 lanes of AVX2 (float32), whose masked loads and stores read a vector's sign bits: all
// ones in the lanes kept.
inline __m256i first_lanes8(int64_t count) {
  const int64_t kept = count >= 8 ? 8 : count <= 0 ? 0 : count;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(kept)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

}  // namespace graft::kernels::cpu
