// The masks of a vector's first `count` lanes, for the AVX-512 kernels' masked loads and stores
// at the edges of their rows and panels: none for count <= 0, every lane from the width on.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// For 16 lanes (float32 or 32-bit words: an __mmask16).
inline uint16_t first_lanes16(int64_t count) {
  return static_cast<uint16_t>(count >= 16 ? 0xffffu : count <= 0 ? 0u : (1u << count) - 1);
}

// For 32 lanes (16-bit elements: an __mmask32).
inline uint32_t first_lanes32(int64_t count) {
  return count >= 32 ? ~uint32_t{0} : count <= 0 ? 0u : (uint32_t{1} << count) - 1;
}

}  // namespace graft::kernels::cpu
