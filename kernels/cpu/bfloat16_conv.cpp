// The bfloat16 convolution of bfloat16_conv.h, on AMX or AVX512-BF16.
#include "graft/kernels/cpu/bfloat16_conv.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>

#include "graft/core/error.h"
#include "graft/core/half.h"
#include "graft/kernels/cpu/packed_gemm.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#include "graft/kernels/cpu/amx_tiles.h"
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/bfloat16_dot.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/thread_buffer.h"

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kStepChannels = 32;  // input channels one tdpbf16ps takes: 16 pairs
constexpr int64_t kTilePixels = 32;    // grid pixels of an output tile: two tiles of 16
constexpr int64_t kTileChannels = 32;  // output channels of an output tile: two tiles of 16
constexpr int64_t kTileWords = 256;    // a 16 x 16 tile of 32-bit words

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Where one call's pieces lie, in 32-bit words.
struct Layout {
  int64_t padded_h, padded_w;  // the padded input's plane
  int64_t grid;                // grid pixels: out_h rows of padded_w
  int64_t steps;               // steps of kStepChannels input channels
  // Words of one channel-pair plane: the padded pixels, then room for the last tile's reads,
  // which end below round_up(grid, 32) + (kernel_h - 1) * padded_w + kernel_w - 1, that is
  // below padded_h * padded_w + kernel_w + 31; a multiple of 16, so planes start on a line.
  int64_t plane;
  int64_t taps;
  explicit Layout(const Conv2dGeometry& g)
      : padded_h(g.in_h + 2 * g.pad_h),
        padded_w(g.in_w + 2 * g.pad_w),
        grid(g.out_h * padded_w),
        steps(ceil_div(g.in_channels, kStepChannels)),
        plane(ceil_div(padded_h * padded_w + g.kernel_w + kTilePixels, 16) * 16),
        taps(g.kernel_size()) {}
  int64_t image_words() const { return steps * 16 * plane; }
  int64_t tiles() const { return ceil_div(grid, kTilePixels); }
  // The packed weights of a block of 16 output channels: a tile per tap and step.
  int64_t block_words() const { return taps * steps * kTileWords; }
};

uint32_t pair(uint16_t even, uint16_t odd) {
  return static_cast<uint32_t>(even) | static_cast<uint32_t>(odd) << 16;
}

// The weights (out_channels, in_channels, kernel_h, kernel_w) as A tiles: for block b of 16
// output channels, tap t and step s, the tile at ((b * taps + t) * steps + s) * 256 whose row i
// is output channel 16 b + i and whose word w pairs input channels 32 s + 2 w and 32 s + 2 w +
// 1 at tap t; zero past the channels.
void pack_weights(const uint16_t* w, const Conv2dGeometry& g, const Layout& l, uint32_t* packed) {
  const int64_t blocks = ceil_div(g.out_channels, kTileChannels) * 2;
  const auto at = [&](int64_t co, int64_t c, int64_t t) -> uint16_t {
    return co < g.out_channels && c < g.in_channels ? w[(co * g.in_channels + c) * l.taps + t] : 0;
  };
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t t = 0; t < l.taps; ++t)
      for (int64_t s = 0; s < l.steps; ++s) {
        uint32_t* tile = packed + ((b * l.taps + t) * l.steps + s) * kTileWords;
        for (int64_t i = 0; i < 16; ++i)
          for (int64_t word = 0; word < 16; ++word) {
            const int64_t co = 16 * b + i, c = kStepChannels * s + 2 * word;
            tile[i * 16 + word] = pair(at(co, c, t), at(co, c + 1, t));
          }
      }
}

// One image (in_channels, in_h, in_w) as channel-pair planes of the padded input, zero in the
// padding, past the pixels and past the channels.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void lay_out_image(const uint16_t* x,
                                                                        const Conv2dGeometry& g,
                                                                        const Layout& l,
                                                                        uint32_t* planes) {
  std::memset(planes, 0, static_cast<size_t>(l.image_words()) * sizeof(uint32_t));
  const int64_t in_plane = g.in_plane();
  for (int64_t q = 0; 2 * q < g.in_channels; ++q) {
    const uint16_t* even = x + 2 * q * in_plane;
    const uint16_t* odd = 2 * q + 1 < g.in_channels ? even + in_plane : nullptr;
    for (int64_t y = 0; y < g.in_h; ++y) {
      uint32_t* row = planes + q * l.plane + (y + g.pad_h) * l.padded_w + g.pad_w;
      for (int64_t x0 = 0; x0 < g.in_w; x0 += 16) {
        const auto lanes = static_cast<__mmask16>(first_lanes16(g.in_w - x0));
        const int64_t at = y * g.in_w + x0;
        const __m512i low = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, even + at));
        const __m512i high = odd == nullptr
                                 ? _mm512_setzero_si512()
                                 : _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, odd + at));
        _mm512_mask_storeu_epi32(row + x0, lanes,
                                 _mm512_or_si512(low, _mm512_slli_epi32(high, 16)));
      }
    }
  }
}

// The output tile `tile` of one image (output channels [first_channel, first_channel + 32),
// grid pixels [p0, p0 + 32)): the bias added to its float sums, rounded once into `rounded`,
// and its output pixels written; the grid's columns past out_w, and pixels past the grid,
// dropped. Each run of output pixels in a channel's row is one masked load and store (a
// memcpy a run took 8% of the (64, 32, 14, 14) convolution).
__attribute__((target("avx512f,avx512bw"))) void write_tile(float* tile, const Conv2dGeometry& g,
                                                            const Layout& l, const uint16_t* bias,
                                                            int64_t first_channel, int64_t p0,
                                                            BFloat16* rounded, BFloat16* out) {
  const int64_t channels = std::min(kTileChannels, g.out_channels - first_channel);
  if (bias != nullptr)
    for (int64_t r = 0; r < channels; ++r) {
      const float b = std::bit_cast<float>(static_cast<uint32_t>(bias[first_channel + r]) << 16);
      for (int64_t j = 0; j < kTilePixels; ++j) tile[r * kTilePixels + j] += b;
    }
  narrow_block(tile, rounded, channels * kTilePixels);
  // The runs of output pixels among the tile's grid pixels: the same for every channel.
  struct Run {
    int64_t first, offset;
    __mmask32 lanes;
  };
  Run runs[kTilePixels];
  int64_t count = 0;
  for (int64_t j = 0; j < kTilePixels && p0 + j < l.grid;) {
    const int64_t y = (p0 + j) / l.padded_w, x = (p0 + j) % l.padded_w;
    if (x >= g.out_w) {
      j += l.padded_w - x;
      continue;
    }
    const int64_t length = std::min(g.out_w - x, kTilePixels - j);
    runs[count++] = {j, y * g.out_w + x, static_cast<__mmask32>(first_lanes32(length))};
    j += length;
  }
  for (int64_t r = 0; r < channels; ++r) {
    const BFloat16* row = rounded + r * kTilePixels;
    BFloat16* plane = out + (first_channel + r) * g.out_plane();
    for (int64_t k = 0; k < count; ++k)
      _mm512_mask_storeu_epi16(plane + runs[k].offset, runs[k].lanes,
                               _mm512_maskz_loadu_epi16(runs[k].lanes, row + runs[k].first));
  }
}

// One output tile's float sums into `tile` (32 output channels x 32 grid pixels from p0), from
// an image's planes and the packed weights of the tile's two blocks of 16 output channels,
// `upper` and `lower`: on AMX or in AVX512-BF16.
using TileSums = void (*)(float* tile, const uint32_t* planes, const Conv2dGeometry& g,
                          const Layout& l, const uint32_t* upper, const uint32_t* lower,
                          int64_t p0);

// On AMX: the four accumulator tiles, summed over every tap and step.
__attribute__((target("amx-tile,amx-bf16"))) void amx_tile_sums(float* tile, const uint32_t* planes,
                                                                const Conv2dGeometry& g,
                                                                const Layout& l,
                                                                const uint32_t* upper,
                                                                const uint32_t* lower, int64_t p0) {
  const int64_t plane_bytes = l.plane * static_cast<int64_t>(sizeof(uint32_t));
  zero_accumulators();
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t tap = i * g.kernel_w + j;
      const uint32_t* pixels = planes + p0 + i * l.padded_w + j;
      for (int64_t s = 0; s < l.steps; ++s) {
        const int64_t w = (tap * l.steps + s) * kTileWords;
        accumulate_step(upper + w, lower + w, 64, pixels + s * 16 * l.plane, plane_bytes);
      }
    }
  store_accumulators(tile, kTilePixels);
}

// In AVX512-BF16: four blocks of kDotRows output channels (rows of the weights' tiles), each
// summed over every tap and step in its accumulators (bfloat16_dot.h).
__attribute__((target("avx512f,avx512bf16"))) void dot_tile_sums(
    float* tile, const uint32_t* planes, const Conv2dGeometry& g, const Layout& l,
    const uint32_t* upper, const uint32_t* lower, int64_t p0) {
  for (int64_t block = 0; block < kTileChannels / kDotRows; ++block) {
    // Rows block * 8 on: of the upper 16 channels' tiles, then of the lower.
    const uint32_t* rows = (block < 2 ? upper : lower) + block % 2 * kDotRows * 16;
    __m512 acc[kDotRows][2];
    zero_rows(acc);
    for (int64_t i = 0; i < g.kernel_h; ++i)
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const int64_t tap = i * g.kernel_w + j;
        const uint32_t* pixels = planes + p0 + i * l.padded_w + j;
        for (int64_t s = 0; s < l.steps; ++s)
          bfloat16_dot_rows(acc, rows + (tap * l.steps + s) * kTileWords, 16,
                            pixels + s * 16 * l.plane, l.plane, 16);
      }
    store_rows(acc, tile + block * kDotRows * kTilePixels, kTilePixels);
  }
}

// Output tiles [first, last) of one image, every block of output channels, from its planes:
// each tile's sums, then write_tile.
void convolve_tiles(TileSums sums, const uint32_t* planes, const uint32_t* weights,
                    const Conv2dGeometry& g, const Layout& l, const uint16_t* bias, int64_t first,
                    int64_t last, BFloat16* out) {
  alignas(64) float tile[kTileChannels * kTilePixels];
  // Constructed once: BFloat16's constructor zeroes it (2 KB a tile).
  alignas(64) BFloat16 rounded[kTileChannels * kTilePixels];
  for (int64_t c0 = 0; c0 < g.out_channels; c0 += kTileChannels) {
    const uint32_t* upper = weights + c0 / 16 * l.block_words();
    const uint32_t* lower = upper + l.block_words();
    for (int64_t t = first; t < last; ++t) {
      sums(tile, planes, g, l, upper, lower, t * kTilePixels);
      write_tile(tile, g, l, bias, c0, t * kTilePixels, rounded, out);
    }
  }
}

struct ImagePlanes {};
struct PackedWeights {};

}  // namespace

bool bfloat16_conv2d_takes(const Conv2dGeometry& g) {
  // The layouts move 16-bit lanes under masks (AVX512-BW, which every CPU with AMX or
  // AVX512-BF16 has; asked all the same).
  static const bool runs =
      (cpu_runs(PackedGemm::kAmxBFloat16) || cpu_runs(PackedGemm::kAvx512BFloat16)) &&
      __builtin_cpu_supports("avx512bw");
  return runs && g.groups == 1 && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 &&
         g.dilation_w == 1 && g.in_channels >= 16;
}

void bfloat16_conv2d(const Conv2dArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  GRAFT_CHECK(args.dtype == kBFloat16 && bfloat16_conv2d_takes(g),
              "bfloat16_conv2d(): called for a convolution it does not take");
  const Layout l(g);
  const auto* x = static_cast<const uint16_t*>(args.input);
  const auto* bias = static_cast<const uint16_t*>(args.bias);
  auto* out = static_cast<BFloat16*>(args.output);
  ThreadBuffer<uint32_t, PackedWeights> weight_space;
  uint32_t* const weights =
      weight_space.data(ceil_div(g.out_channels, kTileChannels) * 2 * l.block_words());
  pack_weights(static_cast<const uint16_t*>(args.weight), g, l, weights);
  // Tasks: an image's tiles in `parts` ranges, enough for two a thread when the images are few.
  const int64_t tiles = l.tiles();
  const int64_t parts =
      std::clamp<int64_t>(ceil_div(2 * available_threads(), g.batch), int64_t{1}, tiles);
  const bool amx = cpu_runs(PackedGemm::kAmxBFloat16);
  const TileSums sums = amx ? amx_tile_sums : dot_tile_sums;
  parallel_for(0, g.batch * parts, 1, [&](int64_t begin, int64_t end) {
    ThreadBuffer<uint32_t, ImagePlanes> image_space;
    uint32_t* const planes = image_space.data(l.image_words());
    std::optional<AmxTileSession> session;
    if (amx) session.emplace();
    int64_t laid_out = -1;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / parts, part = task % parts;
      if (n != laid_out) {
        lay_out_image(x + n * g.in_channels * g.in_plane(), g, l, planes);
        laid_out = n;
      }
      convolve_tiles(sums, planes, weights, g, l, bias, part * tiles / parts,
                     (part + 1) * tiles / parts, out + n * g.out_channels * g.out_plane());
    }
  });
}

}  // namespace graft::kernels::cpu

#else  // no AMX nor AVX512-BF16 kernels outside x86-64 Linux with GCC or Clang

namespace graft::kernels::cpu {

bool bfloat16_conv2d_takes(const Conv2dGeometry&) { return false; }

void bfloat16_conv2d(const Conv2dArgs&) {
  detail::fail("bfloat16_conv2d(): graft was built without its AMX and AVX512-BF16 kernels");
}

}  // namespace graft::kernels::cpu

#endif
