// Naive double-precision convolution and pooling: the definitions written as loops over
// logical indices, shared by the kernel tests (tests/kernels/{conv,pool}_test.cpp) and the
// op registry's rows (tests/ops/conv_pool_rows.cpp). Values are row-major.
//
//   conv:   out[n, o, oh, ow] = bias[o] + sum over c < C / groups, i < kh, j < kw of
//             weight[o, c, i, j] * x[n, g * C / groups + c, oh * sh - ph + i * dh, ow * sw - pw + j
//             * dw]
//           with g = o / (out_channels / groups) and x = 0 outside the image.
//   pools:  a fixed window of output o starts at o * stride - padding and has kernel taps
//           `dilation` apart (taps in the padding are skipped: -inf for the max, 0 for the
//           sum); the average divides by the window's size up to the right padding
//           (count_include_pad) or by its taps inside the image. An adaptive window of
//           output o over n inputs and m outputs is [floor(o n / m), ceil((o + 1) n / m)).
//           The max's index is h * W + w of the first maximal tap.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "graft/graft.h"

namespace graft::testing {

// Output size of a window sweep; ceil_mode keeps a last partial window unless it would
// start in the right padding (PyTorch's rule).
inline int64_t window_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                               int64_t dilation, bool ceil_mode = false) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// x (N, C, H, W), w (O, C / groups, kh, kw); empty `b` means no bias. Result (N, O, OH, OW).
inline std::vector<double> naive_conv2d(const Shape& xs, const Shape& ws, IntPair stride,
                                        IntPair padding, IntPair dilation, int64_t groups,
                                        const std::vector<double>& x, const std::vector<double>& w,
                                        const std::vector<double>& b) {
  const int64_t n_n = xs[0], c_n = xs[1], h_n = xs[2], w_n = xs[3];
  const int64_t o_n = ws[0], kh = ws[2], kw = ws[3];
  const int64_t oh_n = window_out_size(h_n, kh, stride.h, padding.h, dilation.h);
  const int64_t ow_n = window_out_size(w_n, kw, stride.w, padding.w, dilation.w);
  const int64_t cg = c_n / groups, og = o_n / groups;
  std::vector<double> out;
  for (int64_t n = 0; n < n_n; ++n)
    for (int64_t o = 0; o < o_n; ++o)
      for (int64_t oh = 0; oh < oh_n; ++oh)
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          double acc = b.empty() ? 0.0 : b[o];
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t ih = oh * stride.h - padding.h + i * dilation.h;
                const int64_t iw = ow * stride.w - padding.w + j * dilation.w;
                if (ih < 0 || ih >= h_n || iw < 0 || iw >= w_n) continue;
                const int64_t ic = (o / og) * cg + c;
                acc +=
                    w[((o * cg + c) * kh + i) * kw + j] * x[((n * c_n + ic) * h_n + ih) * w_n + iw];
              }
          out.push_back(acc);
        }
  return out;
}

// The (H, W) planes of an (..., H, W) shape.
struct Planes {
  int64_t count, h, w;
};
inline Planes planes_of(const Shape& s) {
  const int64_t nd = s.size();
  return {s.numel() / (s[nd - 2] * s[nd - 1]), s[nd - 2], s[nd - 1]};
}

// Appends each window's max and its index to `out` and `index`.
inline void naive_max_pool(const Shape& shape, IntPair kernel, IntPair stride, IntPair padding,
                           IntPair dilation, IntPair out_size, const std::vector<double>& x,
                           std::vector<double>& out, std::vector<int64_t>& index) {
  const Planes p = planes_of(shape);
  for (int64_t q = 0; q < p.count; ++q)
    for (int64_t oh = 0; oh < out_size.h; ++oh)
      for (int64_t ow = 0; ow < out_size.w; ++ow) {
        double best = -std::numeric_limits<double>::infinity();
        int64_t best_at = -1;
        for (int64_t i = 0; i < kernel.h; ++i)
          for (int64_t j = 0; j < kernel.w; ++j) {
            const int64_t h = oh * stride.h - padding.h + i * dilation.h;
            const int64_t w = ow * stride.w - padding.w + j * dilation.w;
            if (h < 0 || h >= p.h || w < 0 || w >= p.w) continue;
            const double v = x[(q * p.h + h) * p.w + w];
            if (best_at < 0 || v > best) best = v, best_at = h * p.w + w;
          }
        out.push_back(best);
        index.push_back(best_at);
      }
}

inline std::vector<double> naive_avg_pool(const Shape& shape, IntPair kernel, IntPair stride,
                                          IntPair padding, IntPair out_size, bool count_include_pad,
                                          const std::vector<double>& x) {
  const Planes p = planes_of(shape);
  std::vector<double> out;
  for (int64_t q = 0; q < p.count; ++q)
    for (int64_t oh = 0; oh < out_size.h; ++oh)
      for (int64_t ow = 0; ow < out_size.w; ++ow) {
        double sum = 0;
        int64_t inside = 0, padded = 0;
        for (int64_t i = 0; i < kernel.h; ++i)
          for (int64_t j = 0; j < kernel.w; ++j) {
            const int64_t h = oh * stride.h - padding.h + i;
            const int64_t w = ow * stride.w - padding.w + j;
            if (h >= p.h + padding.h || w >= p.w + padding.w) continue;  // past the padding
            ++padded;
            if (h < 0 || h >= p.h || w < 0 || w >= p.w) continue;
            ++inside;
            sum += x[(q * p.h + h) * p.w + w];
          }
        out.push_back(sum / static_cast<double>(count_include_pad ? padded : inside));
      }
  return out;
}

inline std::vector<double> naive_adaptive_avg_pool(const Shape& shape, IntPair size,
                                                   const std::vector<double>& x) {
  const Planes p = planes_of(shape);
  const auto begin = [](int64_t o, int64_t n, int64_t m) { return o * n / m; };
  const auto end = [](int64_t o, int64_t n, int64_t m) { return ((o + 1) * n + m - 1) / m; };
  std::vector<double> out;
  for (int64_t q = 0; q < p.count; ++q)
    for (int64_t oh = 0; oh < size.h; ++oh)
      for (int64_t ow = 0; ow < size.w; ++ow) {
        double sum = 0;
        int64_t count = 0;
        for (int64_t h = begin(oh, p.h, size.h); h < end(oh, p.h, size.h); ++h)
          for (int64_t w = begin(ow, p.w, size.w); w < end(ow, p.w, size.w); ++w, ++count)
            sum += x[(q * p.h + h) * p.w + w];
        out.push_back(sum / static_cast<double>(count));
      }
  return out;
}

}  // namespace graft::testing
