// The bfloat16 backward of bfloat16_conv.h, on AMX or AVX512-BF16.
//
// The input's gradient is a convolution of the output's gradient, padded by kernel - 1 -
// padding, with the weights flipped in both spatial dims and their two channel dims swapped:
// bfloat16_conv2d itself, on weights rearranged once a call.
//
// The weight's gradient at tap (i, j) is a product whose k runs over every image's grid
// pixels: dW[o][c][i][j] = sum over n and p of dy[n][o][p] x[n][c][p + i * padded_w + j], with
// dy laid out on the forward's grid, zero in the columns past out_w (so those grid pixels add
// nothing). Its a operand is that dy: 32 grid pixels (16 pairs along k) of one output channel
// are 64 contiguous bytes, a tile row loaded where it lies. Its b operand needs pixel pairs
// along k and channels across: each padded image transposed to (pixel pair, channel) words,
// twice, pairs starting at even pixels and at odd ones, since an odd tap offset i * padded_w +
// j shifts the pairing. A task (32 output channels, 32 input channels, one tap) sums over every
// image and pixel in four accumulators and writes its block (where those are too few tasks,
// over a chunk of the images fixed by the geometry, the chunks added in order), so the bits do
// not depend on the threads. The bias's gradient is summed in float for each image and channel as
// the output's gradient is laid out, the images' sums added in order in double.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "graft/core/error.h"
#include "graft/core/half.h"
#include "graft/kernels/cpu/bfloat16_conv.h"
#include "graft/kernels/cpu/packed_gemm.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#include "graft/kernels/cpu/amx_tiles.h"
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/bfloat16_dot.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/thread_buffer.h"
#include "graft/kernels/cpu/zmm_transpose.h"

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kBlock = 32;  // output and input channels of a task, pixels of a k-step

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Where one call's laid-out operands lie.
struct Layout {
  int64_t padded_w, grid;   // the forward's grid: out_h rows of padded_w pixels
  int64_t grid_pad;         // the grid in whole k-steps: an output channel's row of dy
  int64_t out_pad, in_pad;  // channels in whole blocks
  // Pixel pairs of a transposed image: every pair a k-step reads, from grid_pad +
  // (kernel_h - 1) * padded_w + kernel_w - 1 pixels, in whole transposes of 16.
  int64_t pairs;
  int64_t plane;  // elements of a padded channel plane: 2 * pairs and a vector's overrun
  explicit Layout(const Conv2dGeometry& g)
      : padded_w(g.in_w + 2 * g.pad_w),
        grid(g.out_h * padded_w),
        grid_pad(round_up(grid, kBlock)),
        out_pad(round_up(g.out_channels, kBlock)),
        in_pad(round_up(g.in_channels, kBlock)),
        pairs(round_up((grid_pad + (g.kernel_h - 1) * padded_w + g.kernel_w) / 2 + 1, 16)),
        plane(2 * pairs + kBlock) {}
  int64_t dy_elements() const { return out_pad * grid_pad; }  // one image's
  int64_t pair_words() const { return 2 * pairs * in_pad; }   // one image's, both parities
};

// One image's output gradient (out_channels, out_h, out_w) onto the grid, rows of grid_pad
// elements (zero past out_w, past the grid and past the channels); with sums, each channel's
// float sum into sums[o].
__attribute__((target("avx512f,avx512bw,avx512vl"))) void lay_out_gradient(
    const uint16_t* dy, const Conv2dGeometry& g, const Layout& l, uint16_t* out, float* sums) {
  std::memset(out, 0, static_cast<size_t>(l.dy_elements()) * sizeof(uint16_t));
  for (int64_t o = 0; o < g.out_channels; ++o) {
    __m512 total = _mm512_setzero_ps();
    for (int64_t y = 0; y < g.out_h; ++y) {
      const uint16_t* from = dy + (o * g.out_h + y) * g.out_w;
      uint16_t* to = out + o * l.grid_pad + y * l.padded_w;
      for (int64_t x = 0; x < g.out_w; x += 16) {
        const auto lanes = static_cast<__mmask16>(first_lanes16(g.out_w - x));
        const __m256i values = _mm256_maskz_loadu_epi16(lanes, from + x);
        _mm256_mask_storeu_epi16(to + x, lanes, values);
        // A bfloat16 is a float's upper half; masked-off lanes are +0.0.
        total = _mm512_add_ps(
            total, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(values), 16)));
      }
    }
    if (sums != nullptr) sums[o] = _mm512_reduce_add_ps(total);
  }
}

// One image (in_channels, in_h, in_w) as (pixel pair, channel) words of its padded planes:
// words[(e * pairs + q) * in_pad + c] pairs padded pixels 2q + e and 2q + e + 1 of channel c,
// for parity e of 0 and 1; zero past the image and past the channels. `planes` is scratch of
// in_channels * plane elements.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void transpose_image(const uint16_t* x,
                                                                          const Conv2dGeometry& g,
                                                                          const Layout& l,
                                                                          uint16_t* planes,
                                                                          uint32_t* words) {
  std::memset(planes, 0, static_cast<size_t>(g.in_channels * l.plane) * sizeof(uint16_t));
  for (int64_t c = 0; c < g.in_channels; ++c)
    for (int64_t y = 0; y < g.in_h; ++y) {
      const uint16_t* from = x + (c * g.in_h + y) * g.in_w;
      uint16_t* to = planes + c * l.plane + (y + g.pad_h) * l.padded_w + g.pad_w;
      for (int64_t i = 0; i < g.in_w; i += 32) {
        const auto lanes = static_cast<__mmask32>(first_lanes32(g.in_w - i));
        _mm512_mask_storeu_epi16(to + i, lanes, _mm512_maskz_loadu_epi16(lanes, from + i));
      }
    }
  // Blocks of 16 channels x 16 pairs: the pairs of a channel are 32 consecutive elements of its
  // plane from 2q + e, one vector of words, transposed so that a pair's 16 channels are one.
  for (int64_t e = 0; e < 2; ++e)
    for (int64_t c0 = 0; c0 < l.in_pad; c0 += 16)
      for (int64_t q0 = 0; q0 < l.pairs; q0 += 16) {
        __m512 block[16];
        for (int64_t k = 0; k < 16; ++k)
          block[k] = c0 + k < g.in_channels ? _mm512_loadu_ps(reinterpret_cast<const float*>(
                                                  planes + (c0 + k) * l.plane + 2 * q0 + e))
                                            : _mm512_setzero_ps();
        transpose_16x16(block);
        for (int64_t k = 0; k < 16; ++k)
          _mm512_storeu_ps(words + (e * l.pairs + q0 + k) * l.in_pad + c0, block[k]);
      }
}

// The weight's gradient at one tap for output channels [o0, o0 + 32) and input channels [c0,
// c0 + 32), summed over images [n_first, n_last): their k-steps in the four accumulators,
// stored as 32 x 32 floats into `sums`.
__attribute__((target("amx-tile,amx-bf16"))) void weight_gradient_block(
    const uint16_t* dy, const uint32_t* words, const Conv2dGeometry& g, const Layout& l, int64_t o0,
    int64_t c0, int64_t tap, int64_t n_first, int64_t n_last, float* sums) {
  const int64_t offset = tap / g.kernel_w * l.padded_w + tap % g.kernel_w, parity = offset % 2;
  const int64_t dy_bytes = l.grid_pad * static_cast<int64_t>(sizeof(uint16_t));
  const int64_t word_bytes = l.in_pad * static_cast<int64_t>(sizeof(uint32_t));
  zero_accumulators();
  for (int64_t n = n_first; n < n_last; ++n) {
    const uint16_t* upper = dy + n * l.dy_elements() + o0 * l.grid_pad;
    const uint16_t* lower = upper + 16 * l.grid_pad;
    const uint32_t* pixels = words + n * l.pair_words() + parity * l.pairs * l.in_pad + c0;
    for (int64_t p0 = 0; p0 < l.grid_pad; p0 += kBlock)
      accumulate_step(upper + p0, lower + p0, dy_bytes,
                      pixels + (p0 + offset - parity) / 2 * l.in_pad, word_bytes);
  }
  store_accumulators(sums, kBlock);
}

// weight_gradient_block in AVX512-BF16: the 32 x 32 block as four of kDotRows output channels,
// each summed over every image and k-step (bfloat16_dot.h); dy's rows are pixel pairs, words.
__attribute__((target("avx512f,avx512bf16"))) void weight_gradient_block_avx512(
    const uint16_t* dy, const uint32_t* words, const Conv2dGeometry& g, const Layout& l, int64_t o0,
    int64_t c0, int64_t tap, int64_t n_first, int64_t n_last, float* sums) {
  const int64_t offset = tap / g.kernel_w * l.padded_w + tap % g.kernel_w, parity = offset % 2;
  for (int64_t block = 0; block < kBlock / kDotRows; ++block) {
    __m512 acc[kDotRows][2];
    zero_rows(acc);
    for (int64_t n = n_first; n < n_last; ++n) {
      const uint16_t* rows = dy + n * l.dy_elements() + (o0 + block * kDotRows) * l.grid_pad;
      const uint32_t* pixels = words + n * l.pair_words() + parity * l.pairs * l.in_pad + c0;
      for (int64_t p0 = 0; p0 < l.grid_pad; p0 += kBlock)
        bfloat16_dot_rows(acc, reinterpret_cast<const uint32_t*>(rows + p0), l.grid_pad / 2,
                          pixels + (p0 + offset - parity) / 2 * l.in_pad, l.in_pad, kBlock / 2);
    }
    store_rows(acc, sums + block * kDotRows * kBlock, kBlock);
  }
}

// The weight's gradient is summed over chunks of the images, fixed by the geometry alone so
// that the order of the sums does not depend on the threads: a task is one job (32 output
// channels, 32 input channels, one tap) over one chunk, the chunks' sums added in order at
// the end. A chunk of kChunkImages images (about 65 KB of laid-out gradient and words an image
// for the CNN's (64, 32, 14, 14) -> 64 layer) stays in a core's L2 cache while the jobs read
// it, taken in chunk-major order; each job streaming every image from memory instead, the
// tasks read 18 times the laid-out batch. Where jobs x chunks are fewer than kWeightTasks (a
// pointwise convolution of 32 channels in and out, a small batch), the chunks are smaller.
constexpr int64_t kChunkImages = 4;
constexpr int64_t kWeightTasks = 16;

struct GradientLayout {};
struct ImageWords {};
struct PaddedPlanes {};
struct PartialSums {};

void weight_and_bias_gradients(const Conv2dBackwardArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  const Layout l(g);
  const bool weight = args.grad_weight != nullptr, bias = args.grad_bias != nullptr;
  const auto* dy = static_cast<const uint16_t*>(args.grad_output);
  const auto* x = static_cast<const uint16_t*>(args.input);
  ThreadBuffer<uint16_t, GradientLayout> dy_space;
  ThreadBuffer<uint32_t, ImageWords> word_space;
  ThreadBuffer<float, GradientLayout> sum_space;
  uint16_t* const laid_out = dy_space.data(g.batch * l.dy_elements());
  uint32_t* const words = weight ? word_space.data(g.batch * l.pair_words()) : nullptr;
  float* const sums = bias ? sum_space.data(g.batch * g.out_channels) : nullptr;
  parallel_for(0, g.batch, 1, [&](int64_t first, int64_t last) {
    ThreadBuffer<uint16_t, PaddedPlanes> plane_space;
    uint16_t* const planes = weight ? plane_space.data(g.in_channels * l.plane) : nullptr;
    for (int64_t n = first; n < last; ++n) {
      lay_out_gradient(dy + n * g.out_channels * g.out_plane(), g, l,
                       laid_out + n * l.dy_elements(), bias ? sums + n * g.out_channels : nullptr);
      if (weight)
        transpose_image(x + n * g.in_channels * g.in_plane(), g, l, planes,
                        words + n * l.pair_words());
    }
  });
  if (weight) {
    const int64_t out_blocks = l.out_pad / kBlock, in_blocks = l.in_pad / kBlock;
    const int64_t taps = g.kernel_size(), jobs = out_blocks * in_blocks * taps;
    const int64_t chunks = std::clamp<int64_t>(
        std::max((g.batch + kChunkImages - 1) / kChunkImages, kWeightTasks / jobs), 1,
        std::max<int64_t>(g.batch, 1));
    constexpr int64_t kTile = kBlock * kBlock;
    ThreadBuffer<float, PartialSums> partial_space;
    float* const partial = partial_space.data(jobs * chunks * kTile);
    const bool amx = cpu_runs(PackedGemm::kAmxBFloat16);
    const auto block_of = amx ? weight_gradient_block : weight_gradient_block_avx512;
    parallel_for(0, jobs * chunks, 1, [&](int64_t first, int64_t last) {
      std::optional<AmxTileSession> session;
      if (amx) session.emplace();
      for (int64_t task = first; task < last; ++task) {
        const int64_t chunk = task / jobs, job = task % jobs;
        const int64_t tap = job % taps, block = job / taps;
        block_of(laid_out, words, g, l, block / in_blocks * kBlock, block % in_blocks * kBlock, tap,
                 chunk * g.batch / chunks, (chunk + 1) * g.batch / chunks,
                 partial + (job * chunks + chunk) * kTile);
      }
    });
    // Each job's chunks added in order, rounded once.
    auto* grad_weight = static_cast<BFloat16*>(args.grad_weight);
    parallel_for(0, jobs, 1, [&](int64_t first, int64_t last) {
      for (int64_t job = first; job < last; ++job) {
        float* sums = partial + job * chunks * kTile;
        for (int64_t chunk = 1; chunk < chunks; ++chunk)
          for (int64_t i = 0; i < kTile; ++i) sums[i] += sums[chunk * kTile + i];
        const int64_t tap = job % taps, block = job / taps;
        const int64_t o0 = block / in_blocks * kBlock, c0 = block % in_blocks * kBlock;
        for (int64_t o = 0; o < std::min(kBlock, g.out_channels - o0); ++o)
          for (int64_t c = 0; c < std::min(kBlock, g.in_channels - c0); ++c)
            grad_weight[((o0 + o) * g.in_channels + c0 + c) * taps + tap] =
                BFloat16(sums[o * kBlock + c]);
      }
    });
  }
  if (bias) {
    auto* grad_bias = static_cast<BFloat16*>(args.grad_bias);
    for (int64_t o = 0; o < g.out_channels; ++o) {
      double total = 0;
      for (int64_t n = 0; n < g.batch; ++n) total += sums[n * g.out_channels + o];
      grad_bias[o] = BFloat16(static_cast<float>(total));
    }
  }
}

// The input's gradient: bfloat16_conv2d of the output's gradient with weights w'[c][o][i][j] =
// w[o][c][kernel_h - 1 - i][kernel_w - 1 - j], padded by kernel - 1 - padding.
void input_gradient(const Conv2dBackwardArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  const int64_t taps = g.kernel_size();
  const auto* w = static_cast<const BFloat16*>(args.weight);
  std::vector<BFloat16> flipped(static_cast<size_t>(g.out_channels * g.in_channels * taps));
  for (int64_t o = 0; o < g.out_channels; ++o)
    for (int64_t c = 0; c < g.in_channels; ++c)
      for (int64_t t = 0; t < taps; ++t)
        flipped[(c * g.out_channels + o) * taps + taps - 1 - t] =
            w[(o * g.in_channels + c) * taps + t];
  Conv2dArgs transposed;
  transposed.dtype = kBFloat16;
  transposed.device = args.device;
  Conv2dGeometry& t = transposed.geometry;
  t = g;
  t.in_channels = g.out_channels;
  t.in_h = g.out_h;
  t.in_w = g.out_w;
  t.out_channels = g.in_channels;
  t.out_h = g.in_h;
  t.out_w = g.in_w;
  t.pad_h = g.kernel_h - 1 - g.pad_h;
  t.pad_w = g.kernel_w - 1 - g.pad_w;
  transposed.input = args.grad_output;
  transposed.weight = flipped.data();
  transposed.output = args.grad_input;
  bfloat16_conv2d(transposed);
}

}  // namespace

bool bfloat16_conv2d_backward_takes(const Conv2dGeometry& g) {
  return bfloat16_conv2d_takes(g) && g.out_channels >= 16 && g.pad_h < g.kernel_h &&
         g.pad_w < g.kernel_w;
}

void bfloat16_conv2d_backward(const Conv2dBackwardArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  GRAFT_CHECK(args.dtype == kBFloat16 && bfloat16_conv2d_backward_takes(g),
              "bfloat16_conv2d_backward(): called for a convolution it does not take");
  if (args.grad_input != nullptr && g.batch > 0) input_gradient(args);
  if (args.grad_weight != nullptr || args.grad_bias != nullptr) weight_and_bias_gradients(args);
}

}  // namespace graft::kernels::cpu

#else  // no AMX nor AVX512-BF16 kernels outside x86-64 Linux with GCC or Clang

namespace graft::kernels::cpu {

bool bfloat16_conv2d_backward_takes(const Conv2dGeometry&) { return false; }

void bfloat16_conv2d_backward(const Conv2dBackwardArgs&) {
  detail::fail(
      "bfloat16_conv2d_backward(): graft was built without its AMX and AVX512-BF16 kernels");
}

}  // namespace graft::kernels::cpu

#endif
