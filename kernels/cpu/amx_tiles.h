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

// Accumulators 0-3 set to zero: a 32 x 32 output's sums about to start.
__attribute__((target("amx-tile"), always_inline)) inline void zero_accumulators() {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

// One step of 32 k for a 32 x 32 output: accumulators 0-3 += a's two 16-row tiles (`upper`,
// `lower`, rows a_stride bytes apart) times b's two 16-column tiles (at b and 16 words on, rows
// b_stride bytes apart), each tile of b loaded just before its first product.
__attribute__((target("amx-tile,amx-bf16"), always_inline)) inline void accumulate_step(
    const void* upper, const void* lower, int64_t a_stride, const uint32_t* b, int64_t b_stride) {
  _tile_loadd(4, upper, a_stride);
  _tile_loadd(6, b, b_stride);
  _tile_dpbf16ps(0, 4, 6);
  _tile_loadd(7, b + 16, b_stride);
  _tile_dpbf16ps(1, 4, 7);
  _tile_loadd(5, lower, a_stride);
  _tile_dpbf16ps(2, 5, 6);
  _tile_dpbf16ps(3, 5, 7);
}

// Accumulators 0-3 stored as a 32 x 32 block of floats whose rows are `stride` floats apart.
__attribute__((target("amx-tile"), always_inline)) inline void store_accumulators(float* out,
                                                                                  int64_t stride) {
  const int64_t bytes = stride * static_cast<int64_t>(sizeof(float));
  _tile_stored(0, out, bytes);
  _tile_stored(1, out + 16, bytes);
  _tile_stored(2, out + 16 * stride, bytes);
  _tile_stored(3, out + 16 * stride + 16, bytes);
}

}  // namespace graft::kernels::cpu
