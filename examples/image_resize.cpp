// Antialiased resizing (see image_resize.h), Pillow's resampling scheme: each output pixel
// i along an axis has a centre (i + 0.5) * scale in input coordinates (scale = in / out) and
// averages the input pixels j whose centres j + 0.5 fall under a triangle filter of
// half-width `support` = max(scale, 1), weighted 1 - |distance| / support and normalised.
// Enlarging (scale < 1) is plain bilinear interpolation; shrinking widens the triangle.
// Rows are resampled first, then columns, in float, rounded once at the end.
#include "image_resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "graft/core/error.h"

namespace graft::examples {
namespace {

// The input pixels and weights behind one output pixel along one axis.
struct Taps {
  int64_t first = 0;
  std::vector<float> weights;  // for inputs first, first + 1, ...
};

std::vector<Taps> triangle_taps(int64_t in_size, int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double support = std::max(scale, 1.0);
  std::vector<Taps> taps(static_cast<size_t>(out_size));
  for (int64_t i = 0; i < out_size; ++i) {
    const double centre = (static_cast<double>(i) + 0.5) * scale;
    const auto first = std::max<int64_t>(0, static_cast<int64_t>(std::floor(centre - support)));
    const auto last =
        std::min<int64_t>(in_size - 1, static_cast<int64_t>(std::ceil(centre + support)));
    Taps& t = taps[static_cast<size_t>(i)];
    t.first = first;
    double total = 0;
    std::vector<double> weights;
    for (int64_t j = first; j <= last; ++j) {
      const double distance = std::abs(static_cast<double>(j) + 0.5 - centre) / support;
      weights.push_back(std::max(0.0, 1.0 - distance));
      total += weights.back();
    }
    // total > 0: the input pixel nearest the centre is within half a pixel of it.
    for (double w : weights) t.weights.push_back(static_cast<float>(w / total));
  }
  return taps;
}

}  // namespace

GrayImage resize_antialiased(const GrayImage& image, int64_t height, int64_t width) {
  GRAFT_CHECK(height > 0 && width > 0, "resize_antialiased(): the target size is ", height, "x",
              width, "; both sides must be positive");
  GRAFT_CHECK(image.height > 0 && image.width > 0 &&
                  static_cast<int64_t>(image.pixels.size()) == image.height * image.width,
              "resize_antialiased(): the image is ", image.height, "x", image.width, " with ",
              image.pixels.size(), " pixels");
  const std::vector<Taps> across = triangle_taps(image.width, width);
  const std::vector<Taps> down = triangle_taps(image.height, height);

  // Rows first: (image.height, width) floats.
  std::vector<float> rows(static_cast<size_t>(image.height * width));
  for (int64_t y = 0; y < image.height; ++y) {
    const uint8_t* in = &image.pixels[static_cast<size_t>(y * image.width)];
    for (int64_t x = 0; x < width; ++x) {
      const Taps& t = across[static_cast<size_t>(x)];
      float sum = 0;
      for (size_t k = 0; k < t.weights.size(); ++k) sum += t.weights[k] * in[t.first + k];
      rows[static_cast<size_t>(y * width + x)] = sum;
    }
  }
  // Then columns, rounded to the nearest grey level.
  GrayImage out{height, width, std::vector<uint8_t>(static_cast<size_t>(height * width))};
  for (int64_t y = 0; y < height; ++y) {
    const Taps& t = down[static_cast<size_t>(y)];
    for (int64_t x = 0; x < width; ++x) {
      float sum = 0;
      for (size_t k = 0; k < t.weights.size(); ++k)
        sum += t.weights[k] * rows[static_cast<size_t>((t.first + int64_t(k)) * width + x)];
      out.pixels[static_cast<size_t>(y * width + x)] =
          static_cast<uint8_t>(std::clamp(std::lround(sum), 0L, 255L));
    }
  }
  return out;
}

}  // namespace graft::examples
