// Antialiased resizing against a reference written independently here: every output pixel
// as one 2-D weighted average over the whole input, in double precision, with the
// triangle filter's weights computed from their definition (not through separable taps).
#include "image_resize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "test_util.h"

namespace graft::examples {
namespace {

using graft::testing::error_message;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The weight of input pixel j for output pixel i along an axis of in -> out pixels.
double triangle_weight(int64_t j, int64_t i, int64_t in, int64_t out) {
  const double scale = double(in) / double(out);
  const double support = std::max(scale, 1.0);
  return std::max(0.0, 1.0 - std::abs((j + 0.5) - (i + 0.5) * scale) / support);
}

GrayImage reference_resize(const GrayImage& image, int64_t height, int64_t width) {
  GrayImage out{height, width, {}};
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      double sum = 0, total = 0;
      for (int64_t p = 0; p < image.height; ++p)
        for (int64_t q = 0; q < image.width; ++q) {
          const double w = triangle_weight(p, y, image.height, height) *
                           triangle_weight(q, x, image.width, width);
          sum += w * image.pixels[static_cast<size_t>(p * image.width + q)];
          total += w;
        }
      out.pixels.push_back(static_cast<uint8_t>(std::lround(sum / total)));
    }
  return out;
}

GrayImage pattern(int64_t height, int64_t width) {
  GrayImage image{height, width, {}};
  for (int64_t i = 0; i < height * width; ++i)
    image.pixels.push_back(static_cast<uint8_t>((i * 7919 + (i / width) * 31) % 256));
  return image;
}

void expect_matches_reference(const GrayImage& image, int64_t height, int64_t width) {
  const GrayImage got = resize_antialiased(image, height, width);
  const GrayImage want = reference_resize(image, height, width);
  ASSERT_EQ(got.height, height);
  ASSERT_EQ(got.width, width);
  ASSERT_EQ(got.pixels.size(), want.pixels.size());
  // float against double: a level off by one where the exact value ends in .5.
  for (size_t i = 0; i < want.pixels.size(); ++i)
    EXPECT_NEAR(got.pixels[i], want.pixels[i], 1) << image.height << "x" << image.width << " -> "
                                                  << height << "x" << width << ", pixel " << i;
}

TEST(ImageResize, ShrinkingAveragesUnderAWidenedTriangle) {
  // Worked by hand: 4 -> 2 pixels, scale 2, half-width 2. Output 0 is centred at 1.0: the
  // inputs' centres 0.5, 1.5, 2.5 weigh 0.75, 0.75, 0.25, so (0.25 * 255) / 1.75 = 36.4.
  EXPECT_THAT(resize_antialiased({1, 4, {0, 0, 255, 255}}, 1, 2).pixels, ElementsAre(36, 219));
}

TEST(ImageResize, MatchesTheReference) {
  expect_matches_reference(pattern(100, 75), 28, 28);  // shrink both ways, unequal factors
  expect_matches_reference(pattern(28, 28), 28, 28);   // same size
  expect_matches_reference(pattern(5, 3), 28, 28);     // enlarge
  expect_matches_reference(pattern(1, 57), 28, 28);    // one row
  expect_matches_reference(pattern(280, 29), 28, 28);  // 10x and barely
}

TEST(ImageResize, SameSizeAndFlatImagesAreUnchanged) {
  const GrayImage image = pattern(28, 28);
  EXPECT_EQ(resize_antialiased(image, 28, 28).pixels, image.pixels);
  const GrayImage flat{37, 50, std::vector<uint8_t>(37 * 50, 173)};
  EXPECT_EQ(resize_antialiased(flat, 28, 28).pixels, std::vector<uint8_t>(28 * 28, 173));
}

TEST(ImageResize, BadSizesAreErrors) {
  EXPECT_THAT(error_message([] { resize_antialiased(pattern(2, 2), 0, 28); }),
              HasSubstr("resize_antialiased(): the target size is 0x28"));
  EXPECT_THAT(error_message([] {
                resize_antialiased({2, 2, {1, 2, 3}}, 28, 28);
              }),
              HasSubstr("the image is 2x2 with 3 pixels"));
}

}  // namespace
}  // namespace graft::examples
