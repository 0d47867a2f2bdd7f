// DirectConv (direct_conv.h): the padded image, the windows' offsets, the repacked weight, and
// the GEMMs' (pixels, channels) operands turned from and into NCHW planes.
#include "graft/kernels/cpu/direct_conv.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "graft/core/error.h"
#include "graft/kernels/cpu/direct_conv_v3.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/zmm_transpose.h"

namespace graft::kernels::cpu {
namespace {

// The flat pixels [0, pixels) in blocks of 16: a block's first pixel q0, its rows, which of them
// are outputs (bit l: pixel q0 + l lies left of out_w in its padded row), and where the first of
// those lies in an output plane (the outputs of a block are consecutive there). Carried from
// block to block, with no division.
class PixelBlocks {
 public:
  PixelBlocks(int64_t pixels, int64_t width, int64_t out_w)
      : pixels_(pixels), width_(width), out_w_(out_w) {
    load();
  }
  bool done() const { return q0 >= pixels_; }
  void next() {
    first += __builtin_popcount(outputs);
    q0 += 16;
    load();
  }

  int64_t q0 = 0, rows = 0, first = 0;
  uint32_t outputs = 0;

 private:
  void load() {
    rows = std::min<int64_t>(16, pixels_ - q0);
    outputs = 0;
    for (int64_t l = 0; l < rows; ++l) {
      outputs |= uint32_t{column_ < out_w_} << l;
      if (++column_ == width_) column_ = 0;
    }
  }
  int64_t pixels_, width_, out_w_;
  int64_t column_ = 0;  // q0's column in its padded row
};

#if defined(__x86_64__) && defined(__GNUC__)

// The transpose's false alarm (zmm_transpose.h), once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// planes (n, out_h * out_w) = product (out_h * out_w, n), its rows `stride` apart, transposed,
// plus bias[c] on plane c when bias is not null: 16 pixels by 16 channels at a time, transposed
// in registers.
__attribute__((target("avx512f"))) void to_planes(const float* product, int64_t stride,
                                                  int64_t out_plane, int64_t n, const float* bias,
                                                  float* planes) {
  for (int64_t q0 = 0; q0 < out_plane; q0 += 16) {
    const int64_t rows = std::min<int64_t>(16, out_plane - q0);
    const auto stored = first_lanes16(rows);
    for (int64_t c0 = 0; c0 < n; c0 += 16) {
      const int64_t channels = std::min<int64_t>(16, n - c0);
      const auto lanes = first_lanes16(channels);
      __m512 block[16];
      for (int64_t r = 0; r < 16; ++r)
        block[r] = r < rows ? _mm512_maskz_loadu_ps(lanes, product + (q0 + r) * stride + c0)
                            : _mm512_setzero_ps();
      transpose_16x16(block);
      for (int64_t c = 0; c < channels; ++c) {
        __m512 plane = block[c];
        if (bias != nullptr) plane = _mm512_add_ps(plane, _mm512_set1_ps(bias[c0 + c]));
        _mm512_mask_storeu_ps(planes + (c0 + c) * out_plane + q0, stored, plane);
      }
    }
  }
}

// The inverse: product (pixels, n) = planes (n, out_h, out_w) transposed, zeros at the dropped
// pixels (so that they add nothing to a product). Each channel's 16 pixels are expanded from
// consecutive floats of its plane, then transposed.
__attribute__((target("avx512f"))) void from_planes(const float* planes, int64_t pixels, int64_t n,
                                                    int64_t width, int64_t out_w, int64_t out_plane,
                                                    float* product) {
  for (PixelBlocks block(pixels, width, out_w); !block.done(); block.next()) {
    const auto outputs = static_cast<__mmask16>(block.outputs);
    for (int64_t c0 = 0; c0 < n; c0 += 16) {
      const int64_t channels = std::min<int64_t>(16, n - c0);
      __m512 rows[16];
      for (int64_t c = 0; c < 16; ++c)
        rows[c] = c < channels ? _mm512_maskz_expandloadu_ps(
                                     outputs, planes + (c0 + c) * out_plane + block.first)
                               : _mm512_setzero_ps();
      transpose_16x16(rows);
      const auto lanes = first_lanes16(channels);
      for (int64_t r = 0; r < block.rows; ++r)
        _mm512_mask_storeu_ps(product + (block.q0 + r) * n + c0, lanes, rows[r]);
    }
  }
}

#pragma GCC diagnostic pop

#else

void to_planes(const float*, int64_t, int64_t, int64_t, const float*, float*) {
  detail::fail("DirectConv: graft was built without its AVX-512 kernels");
}
void from_planes(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*) {
  detail::fail("DirectConv: graft was built without its AVX-512 kernels");
}

#endif

}  // namespace

bool DirectConv::serves(const Conv2dGeometry& g, Product product) {
  const PackedGemm kernel = best_packed_gemm(kFloat32);
  if (window_tile_rows(kernel) == 0) return false;
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise()) return false;
  if (g.pad_h > g.dilation_h * (g.kernel_h - 1) || g.pad_w > g.dilation_w * (g.kernel_w - 1))
    return false;
  // The GEMM's output per group: (pixels, channels), or (taps, out channels) for grad_weight.
  switch (product) {
    case Product::kOutput:
      return packed_gemm_pays(kernel, g.out_plane(), g.group_out_channels());
    case Product::kGradInput:
      return packed_gemm_pays(kernel, g.in_plane(), g.group_in_channels());
    case Product::kGradWeight:
      return packed_gemm_pays(kernel, g.column_rows(), g.group_out_channels());
  }
  return false;
}

DirectConv::DirectConv(const Conv2dGeometry& g, Product product, const float* weight)
    : product_(product), kernel_(best_packed_gemm(kFloat32)) {
  GRAFT_CHECK(serves(g, product), "DirectConv: this convolution is not one it serves");
  GRAFT_CHECK((weight != nullptr) == (product != Product::kGradWeight),
              "DirectConv: the output and grad_input need the weight, grad_weight does not");
  // The correlation this object runs: g, or for grad_input the one over g's output to g's
  // input channels, padded by dilation * (kernel - 1) - pad.
  Conv2dGeometry c = g;
  if (product == Product::kGradInput) {
    std::swap(c.in_channels, c.out_channels);
    std::swap(c.in_h, c.out_h);
    std::swap(c.in_w, c.out_w);
    c.pad_h = g.dilation_h * (g.kernel_h - 1) - g.pad_h;
    c.pad_w = g.dilation_w * (g.kernel_w - 1) - g.pad_w;
  }
  channels_ = c.in_channels, in_h_ = c.in_h, in_w_ = c.in_w;
  out_channels_ = c.out_channels, out_h_ = c.out_h, out_w_ = c.out_w;
  groups_ = c.groups, kernel_h_ = c.kernel_h, kernel_w_ = c.kernel_w;
  pad_h_ = c.pad_h, pad_w_ = c.pad_w;
  width_ = in_w_ + pad_w_;
  plane_ = (in_h_ + 2 * pad_h_) * width_ + pad_w_;
  pixels_ = (out_h_ - 1) * width_ + out_w_;

  group_channels_ = channels_ / groups_, group_out_ = out_channels_ / groups_;
  out_columns_ = (group_out_ + kWindowTileColumns - 1) / kWindowTileColumns * kWindowTileColumns;
  words_ = group_channels_ * kernel_h_ * kernel_w_;
  offsets_.resize(static_cast<size_t>(words_));
  if (weight != nullptr)
    weights_.assign(static_cast<size_t>(groups_ * words_ * out_columns_), 0.0f);
  for (int64_t c = 0; c < group_channels_; ++c)
    for (int64_t i = 0; i < kernel_h_; ++i)
      for (int64_t j = 0; j < kernel_w_; ++j) {
        const int64_t row = (c * kernel_h_ + i) * kernel_w_ + j;
        offsets_[row] = c * plane_ + i * g.dilation_h * width_ + j * g.dilation_w;
        if (weight == nullptr) continue;
        for (int64_t group = 0; group < groups_; ++group)
          for (int64_t o = 0; o < group_out_; ++o)
            weights_[(group * words_ + row) * out_columns_ + o] =
                weight[weight_index(group, c, i, j, o)];
      }
}

int64_t DirectConv::weight_index(int64_t group, int64_t c, int64_t i, int64_t j, int64_t o) const {
  const int64_t taps = kernel_h_ * kernel_w_;
  // grad_input's channels are g's output channels and its outputs g's input channels, the
  // kernel flipped: its tap (i, j) is g's (kernel_h - 1 - i, kernel_w - 1 - j).
  if (product_ == Product::kGradInput)
    return ((group * group_channels_ + c) * group_out_ + o) * taps +
           (kernel_h_ - 1 - i) * kernel_w_ + (kernel_w_ - 1 - j);
  return ((group * group_out_ + o) * group_channels_ + c) * taps + i * kernel_w_ + j;
}

DirectConv::Padded DirectConv::pad(const float* image, int64_t product,
                                   std::vector<float>& workspace) const {
  constexpr int64_t kLineFloats = kCpuAlignment / sizeof(float);
  const int64_t padded_floats = channels_ * plane_;
  const int64_t product_start = (padded_floats + kLineFloats - 1) / kLineFloats * kLineFloats;
  workspace.resize(static_cast<size_t>(product_start + product + kLineFloats - 1));
  float* const padded = first_on_cache_line(workspace.data());
  std::fill(padded, padded + padded_floats, 0.0f);
  for (int64_t c = 0; c < channels_; ++c)
    for (int64_t h = 0; h < in_h_; ++h)
      std::memcpy(padded + c * plane_ + (h + pad_h_) * width_ + pad_w_,
                  image + (c * in_h_ + h) * in_w_, static_cast<size_t>(in_w_) * sizeof(float));
  return {padded, padded + product_start};
}

void DirectConv::run(const float* image, const float* bias, float* out,
                     std::vector<float>& workspace) const {
  GRAFT_CHECK(product_ != Product::kGradWeight,
              "DirectConv: run() is for the output or grad_input");
  const int64_t out_plane = out_h_ * out_w_;
  // Not a structured binding: the lambdas below use both, and Clang before 16 cannot capture
  // a binding.
  const Padded room = pad(image, out_plane * out_columns_, workspace);
  const float* const padded = room.image;
  float* const product = room.product;
  // Output row oh times the column panel at j: the row in pieces of at most a tile's rows, as
  // even as they come (AVX-512's 14: 14 pixels one piece, 28 two of 14, 29 9, 10 and 10).
  const int64_t tile_rows = window_tile_rows(kernel_);
  const int64_t pieces = (out_w_ + tile_rows - 1) / tile_rows;
  const auto tile_row = [&](const float* windows, const float* weights, int64_t j, int64_t oh) {
    for (int64_t piece = 0, ow = 0; piece < pieces; ++piece) {
      const int64_t rows = (out_w_ + piece) / pieces;  // summing to out_w
      window_tile(kernel_, {windows + oh * width_ + ow, offsets_.data()}, rows, weights + j,
                  out_columns_, words_, product + (oh * out_w_ + ow) * out_columns_ + j,
                  out_columns_);
      ow += rows;
    }
  };
  const int64_t panels = out_columns_ / kWindowTileColumns;
  for (int64_t group = 0; group < groups_; ++group) {
    const float* const windows = padded + group * group_channels_ * plane_;
    const float* const weights = weights_.data() + group * words_ * out_columns_;
    // A column panel's rows in turn, so that its weights stay in cache; over the threads only
    // when the image is not already one task of a batch's region.
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / (out_w_ * words_));
    parallel_for(0, panels * out_h_, grain, [&](int64_t first, int64_t last) {
      for (int64_t t = first; t < last; ++t)
        tile_row(windows, weights, t / out_h_ * kWindowTileColumns, t % out_h_);
    });
    (kernel_ == PackedGemm::kAvx512Float ? to_planes : to_planes_v3)(
        product, out_columns_, out_plane, group_out_,
        bias != nullptr ? bias + group * group_out_ : nullptr,
        out + group * group_out_ * out_plane);
  }
}

void DirectConv::add_weight_grad(const float* image, const float* grad_out, float* accumulator,
                                 std::vector<float>& workspace) const {
  GRAFT_CHECK(product_ == Product::kGradWeight, "DirectConv: add_weight_grad() is for grad_weight");
  const int64_t out_plane = out_h_ * out_w_;
  // grad_out of a group as (pixels, channels), AVX2's rows whole vectors of 8 (zeros past).
  const bool avx512 = kernel_ == PackedGemm::kAvx512Float;
  const int64_t stride = avx512 ? group_out_ : (group_out_ + 7) / 8 * 8;
  const auto [padded, grad_product] = pad(image, pixels_ * stride, workspace);
  for (int64_t group = 0; group < groups_; ++group) {
    const float* const planes = grad_out + group * group_out_ * out_plane;
    if (avx512)
      from_planes(planes, pixels_, group_out_, width_, out_w_, out_plane, grad_product);
    else
      from_planes_v3(planes, group_out_, out_h_, out_w_, width_, stride, grad_product);
    packed_gemm(kernel_,
                WindowMatrix{padded + group * group_channels_ * plane_, offsets_.data(), true},
                {grad_product, stride, 1}, accumulator + group * words_ * group_out_, words_,
                pixels_, group_out_, /*accumulate=*/true);
  }
}

void DirectConv::unpack_weight_grad(const float* accumulator, float* grad_weight) const {
  for (int64_t group = 0; group < groups_; ++group)
    for (int64_t c = 0; c < group_channels_; ++c)
      for (int64_t i = 0; i < kernel_h_; ++i)
        for (int64_t j = 0; j < kernel_w_; ++j)
          for (int64_t o = 0; o < group_out_; ++o)
            grad_weight[weight_index(group, c, i, j, o)] =
                accumulator[(group * words_ + (c * kernel_h_ + i) * kernel_w_ + j) * group_out_ +
                            o];
}

}  // namespace graft::kernels::cpu
