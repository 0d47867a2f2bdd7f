// DirectConv (direct_conv.h): the padded image, the windows' offsets, the repacked weight, and
// the transposed product turned back into planes.
#include "graft/kernels/cpu/direct_conv.h"

#include <algorithm>
#include <cstring>

#include "graft/core/error.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "graft/kernels/cpu/zmm_transpose.h"

namespace graft::kernels::cpu {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)

// The transpose's false alarm (zmm_transpose.h), once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// out (n, out_h, out_w) = the product (pixels, n) transposed, its dropped pixels (q % width >=
// out_w) left out, plus bias[c] on plane c when bias is not null. 16 pixels by 16 channels at a
// time: transposed in registers, then each channel's outputs among the 16 compressed together
// (they are consecutive in its plane) and stored at once.
__attribute__((target("avx512f"))) void to_planes(const float* product, int64_t pixels, int64_t n,
                                                  int64_t width, int64_t out_w, int64_t out_plane,
                                                  const float* bias, float* out) {
  // q0's column in its padded row, and where the first output at or after it lies in a plane:
  // both carried from block to block, with no division.
  int64_t column = 0, first = 0;
  for (int64_t q0 = 0; q0 < pixels; q0 += 16) {
    const int64_t rows = std::min<int64_t>(16, pixels - q0);
    uint32_t outputs = 0;
    for (int64_t l = 0; l < rows; ++l) {
      outputs |= uint32_t{column < out_w} << l;
      if (++column == width) column = 0;
    }
    const int count = __builtin_popcount(outputs);
    const auto stored = static_cast<__mmask16>((uint32_t{1} << count) - 1);
    for (int64_t c0 = 0; c0 < n; c0 += 16) {
      const int64_t channels = std::min<int64_t>(16, n - c0);
      const auto lanes = static_cast<__mmask16>((uint32_t{1} << channels) - 1);
      __m512 block[16];
      for (int64_t r = 0; r < 16; ++r)
        block[r] = r < rows ? _mm512_maskz_loadu_ps(lanes, product + (q0 + r) * n + c0)
                            : _mm512_setzero_ps();
      transpose_16x16(block);
      for (int64_t c = 0; c < channels; ++c) {
        __m512 plane = block[c];
        if (bias != nullptr) plane = _mm512_add_ps(plane, _mm512_set1_ps(bias[c0 + c]));
        _mm512_mask_storeu_ps(out + (c0 + c) * out_plane + first, stored,
                              _mm512_maskz_compress_ps(static_cast<__mmask16>(outputs), plane));
      }
    }
    first += count;
  }
}

#pragma GCC diagnostic pop

#else

void to_planes(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, const float*, float*) {
  detail::fail("DirectConv: graft was built without its AVX-512 kernels");
}

#endif

}  // namespace

bool DirectConv::serves(const Conv2dGeometry& g, bool adjoint) {
  const PackedGemm kernel = best_packed_gemm(kFloat32);
  if (kernel != PackedGemm::kAvx512Float) return false;
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise()) return false;
  if (g.pad_h > g.dilation_h * (g.kernel_h - 1) || g.pad_w > g.dilation_w * (g.kernel_w - 1))
    return false;
  const int64_t lanes = adjoint ? g.group_in_channels() : g.group_out_channels();
  const int64_t pixels = adjoint ? g.in_plane() : g.out_plane();
  return packed_gemm_pays(kernel, pixels, lanes);
}

DirectConv::DirectConv(const Conv2dGeometry& g, const float* weight, bool adjoint)
    : channels_(adjoint ? g.out_channels : g.in_channels),
      in_h_(adjoint ? g.out_h : g.in_h),
      in_w_(adjoint ? g.out_w : g.in_w),
      out_channels_(adjoint ? g.in_channels : g.out_channels),
      out_h_(adjoint ? g.in_h : g.out_h),
      out_w_(adjoint ? g.in_w : g.out_w),
      groups_(g.groups),
      pad_h_(adjoint ? g.dilation_h * (g.kernel_h - 1) - g.pad_h : g.pad_h),
      pad_w_(adjoint ? g.dilation_w * (g.kernel_w - 1) - g.pad_w : g.pad_w),
      width_(in_w_ + pad_w_),
      plane_((in_h_ + 2 * pad_h_) * width_ + pad_w_) {
  GRAFT_CHECK(serves(g, adjoint), "DirectConv: this convolution is not one it serves");
  const int64_t kh = g.kernel_h, kw = g.kernel_w, taps = kh * kw;
  const int64_t group_channels = channels_ / groups_, group_out = out_channels_ / groups_;
  const int64_t words = group_channels * taps;
  offsets_.resize(static_cast<size_t>(words));
  for (int64_t c = 0; c < group_channels; ++c)
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j)
        offsets_[(c * kh + i) * kw + j] = c * plane_ + i * g.dilation_h * width_ + j * g.dilation_w;

  // W^T per group: row (c, i, j), column o. The adjoint's rows run over g's output channels and
  // its columns over g's input channels, the kernel flipped: its tap (i, j) is g's
  // (kh - 1 - i, kw - 1 - j).
  weights_.resize(static_cast<size_t>(groups_ * words * group_out));
  for (int64_t group = 0; group < groups_; ++group) {
    float* packed = weights_.data() + group * words * group_out;
    for (int64_t c = 0; c < group_channels; ++c)
      for (int64_t o = 0; o < group_out; ++o)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t row = (c * kh + i) * kw + j;
            // Element (out channel, in channel, tap) of g's weight.
            const int64_t source =
                adjoint ? ((group * group_channels + c) * group_out + o) * taps +
                              (kh - 1 - i) * kw + (kw - 1 - j)
                        : ((group * group_out + o) * group_channels + c) * taps + i * kw + j;
            packed[row * group_out + o] = weight[source];
          }
  }
}

void DirectConv::run(const float* image, const float* bias, float* out,
                     std::vector<float>& workspace) const {
  const int64_t group_channels = channels_ / groups_, group_out = out_channels_ / groups_;
  const int64_t words = static_cast<int64_t>(offsets_.size());
  // The flat positions of the output pixels, from the first to the last (the rows' dropped
  // pixels between them included, the last row's after it not).
  const int64_t pixels = (out_h_ - 1) * width_ + out_w_;
  const int64_t padded_floats = channels_ * plane_;
  workspace.resize(static_cast<size_t>(padded_floats + pixels * group_out));
  float* const padded = workspace.data();
  float* const product = padded + padded_floats;

  std::fill(padded, padded + padded_floats, 0.0f);
  for (int64_t c = 0; c < channels_; ++c)
    for (int64_t h = 0; h < in_h_; ++h)
      std::memcpy(padded + c * plane_ + (h + pad_h_) * width_ + pad_w_,
                  image + (c * in_h_ + h) * in_w_, static_cast<size_t>(in_w_) * sizeof(float));

  for (int64_t group = 0; group < groups_; ++group) {
    packed_gemm(PackedGemm::kAvx512Float,
                WindowMatrix{padded + group * group_channels * plane_, offsets_.data()},
                {weights_.data() + group * words * group_out, group_out, 1}, product, pixels, words,
                group_out);
    to_planes(product, pixels, group_out, width_, out_w_, out_h_ * out_w_,
              bias != nullptr ? bias + group * group_out : nullptr,
              out + group * group_out * out_h_ * out_w_);
  }
}

}  // namespace graft::kernels::cpu
