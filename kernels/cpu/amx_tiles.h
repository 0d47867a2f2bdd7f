// The AMX tile registers as graft's AMX kernels use them (packed_gemm.cpp's GEMM,
// bfloat16_conv.cpp's convolution): all eight tiles 16 rows of 64 bytes, so that 0-3 accumulate
// four 16 x 16 float32 quarters of a 32 x 32 output, 4-5 hold two 16 x 32 bfloat16 tiles of one
// operand and 6-7 two of the other. Included by x86-64 Linux builds only, inside their `#if`.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace graft::kernels::cpu {

// The tile registers' shapes are per thread and must be loaded before use; releasing them
// after a block of work returns the thread to the cheap state the OS saves quickly. One
// session for a thread's block.
class AmxTileSession {
 public:
  __attribute__((target("amx-tile"))) AmxTileSession() { _tile_loadconfig(&kTileConfig); }
  __attribute__((target("amx-tile"))) ~AmxTileSession() { _tile_release(); }
  AmxTileSession(const AmxTileSession&) = delete;
  AmxTileSession& operator=(const AmxTileSession&) = delete;

 private:
  struct TileConfig {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
  };
  // A constant in memory: GCC 12 does not see that ldtilecfg reads its operand, and drops
  // the stores that would fill a local one.
  alignas(64) static constexpr TileConfig kTileConfig = {
      .palette = 1,
      .start_row = 0,
      .reserved = {},
      .bytes_per_row = {64, 64, 64, 64, 64, 64, 64, 64},
      .rows = {16, 16, 16, 16, 16, 16, 16, 16}};
};

}  // namespace graft::kernels::cpu
