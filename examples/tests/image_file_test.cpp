// graft-predict's image reading: PNG of every colour type and depth, JPEG grey, colour and
// progressive, PGM, each against grey levels computed here in double precision from the
// pixels the test wrote; and an error naming the problem for each bad file. Test images
// are made in memory with the encoders of the same libraries (libpng, TurboJPEG).
#include "image_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "temp_files.h"
#include "test_util.h"

namespace graft::examples {
namespace {

using graft::testing::error_message;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const io::FileContext kContext{"read_image()", "test-image"};

// libpng's simplified writer: `pixels` in `format` (PNG_FORMAT_*), row after row.
std::string encode_png(uint32_t width, uint32_t height, uint32_t format,
                       const std::vector<uint8_t>& pixels, const uint8_t* colormap = nullptr,
                       uint32_t colormap_entries = 0) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = width;
  png.height = height;
  png.format = format;
  png.colormap_entries = colormap_entries;
  png_alloc_size_t size = 0;
  EXPECT_NE(png_image_write_to_memory(&png, nullptr, &size, 0, pixels.data(), 0, colormap), 0);
  std::string bytes(size, '\0');
  EXPECT_NE(png_image_write_to_memory(&png, bytes.data(), &size, 0, pixels.data(), 0, colormap), 0)
      << png.message;
  bytes.resize(size);
  return bytes;
}

// TurboJPEG's encoder at quality 100 without chroma subsampling, or with `flags`.
std::string encode_jpeg(int width, int height, int pixel_format, const std::vector<uint8_t>& pixels,
                        int subsampling, int flags = 0) {
  tjhandle handle = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  EXPECT_EQ(tjCompress2(handle, pixels.data(), width, 0, height, pixel_format, &jpeg, &size,
                        subsampling, 100, flags),
            0)
      << tjGetErrorStr2(handle);
  std::string bytes(reinterpret_cast<const char*>(jpeg), size);
  tjFree(jpeg);
  tjDestroy(handle);
  return bytes;
}

// The reference: BT.601 luma of (r, g, b) blended over `background` by alpha, in double.
uint8_t reference_grey(double r, double g, double b, double alpha = 255, double background = 0) {
  const double y = 0.299 * r + 0.587 * g + 0.114 * b;
  return static_cast<uint8_t>(std::lround(y * alpha / 255 + background * (1 - alpha / 255)));
}

TEST(ImageFile, GreyPngIsReadAsIs) {
  const std::vector<uint8_t> levels{0, 1, 127, 128, 254, 255};
  const GrayImage image = decode_image(kContext, encode_png(3, 2, PNG_FORMAT_GRAY, levels));
  EXPECT_EQ(image.height, 2);
  EXPECT_EQ(image.width, 3);
  EXPECT_EQ(image.pixels, levels);
}

TEST(ImageFile, ColourPngBecomesBt601Luma) {
  const std::vector<uint8_t> rgb{255, 0,  0,  0,  255, 0,   0,   0,   255,
                                 10,  20, 30, 99, 3,   200, 255, 255, 255};
  const GrayImage image = decode_image(kContext, encode_png(3, 2, PNG_FORMAT_RGB, rgb));
  ASSERT_EQ(image.pixels.size(), 6u);
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(image.pixels[i], reference_grey(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]))
        << "pixel " << i;
}

TEST(ImageFile, AlphaBlendsOverTheBackground) {
  const std::vector<uint8_t> rgba{200, 100, 50, 255, 200, 100, 50, 128,
                                  200, 100, 50, 0,   0,   0,   0,  64};
  const std::string file = encode_png(4, 1, PNG_FORMAT_RGBA, rgba);
  for (const uint8_t background : {uint8_t{0}, uint8_t{255}, uint8_t{90}}) {
    const GrayImage image = decode_image(kContext, file, {.background = background});
    for (size_t i = 0; i < 4; ++i)
      EXPECT_EQ(image.pixels[i], reference_grey(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2],
                                                rgba[4 * i + 3], background))
          << "pixel " << i << " over " << int{background};
  }
  // Grey with alpha goes the same way.
  const GrayImage ga =
      decode_image(kContext, encode_png(1, 1, PNG_FORMAT_GA, {200, 64}), {.background = 255});
  EXPECT_THAT(ga.pixels, ElementsAre(reference_grey(200, 200, 200, 64, 255)));
}

TEST(ImageFile, PalettePngIsExpanded) {
  const uint8_t palette[] = {0, 0, 0, 255, 0, 0, 10, 200, 30};
  const GrayImage image =
      decode_image(kContext, encode_png(3, 1, PNG_FORMAT_RGB_COLORMAP, {2, 1, 0}, palette, 3));
  EXPECT_THAT(image.pixels, ElementsAre(reference_grey(10, 200, 30), reference_grey(255, 0, 0), 0));
}

TEST(ImageFile, SixteenBitPngIsReducedToEightBits) {
  // The simplified writer takes 16-bit samples as linear light; black and white survive
  // any transfer curve exactly.
  const std::vector<uint16_t> linear{0, 65535};
  std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(linear.data()),
                             reinterpret_cast<const uint8_t*>(linear.data()) + 4);
  const GrayImage image = decode_image(kContext, encode_png(2, 1, PNG_FORMAT_LINEAR_Y, bytes));
  EXPECT_THAT(image.pixels, ElementsAre(0, 255));
}

TEST(ImageFile, GreyJpegIsCloseToItsPixels) {
  std::vector<uint8_t> levels(16 * 8);
  for (size_t i = 0; i < levels.size(); ++i) levels[i] = static_cast<uint8_t>(i * 2);
  const GrayImage image =
      decode_image(kContext, encode_jpeg(16, 8, TJPF_GRAY, levels, TJSAMP_GRAY));
  ASSERT_EQ(image.height, 8);
  ASSERT_EQ(image.width, 16);
  for (size_t i = 0; i < levels.size(); ++i)
    EXPECT_NEAR(image.pixels[i], levels[i], 2) << "pixel " << i;  // quality 100 is near-lossless
}

TEST(ImageFile, ColourJpegBecomesItsLuma) {
  // Flat colour blocks, which JPEG keeps almost exactly; baseline and progressive.
  const uint8_t colours[][3] = {{200, 30, 60}, {20, 220, 90}};
  std::vector<uint8_t> rgb;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x) rgb.insert(rgb.end(), colours[x / 8], colours[x / 8] + 3);
  for (const int flags : {0, TJFLAG_PROGRESSIVE}) {
    const GrayImage image =
        decode_image(kContext, encode_jpeg(16, 8, TJPF_RGB, rgb, TJSAMP_444, flags));
    for (int x = 0; x < 16; ++x) {
      const uint8_t* c = colours[x / 8];
      EXPECT_NEAR(image.pixels[static_cast<size_t>(3 * 16 + x)], reference_grey(c[0], c[1], c[2]),
                  2)
          << "column " << x << " flags " << flags;
    }
  }
}

TEST(ImageFile, PgmGoesThroughThePgmReader) {
  EXPECT_THAT(decode_image(kContext, "P5 2 1 255\n\x07\xff").pixels, ElementsAre(7, 255));
  EXPECT_THAT(error_message([] { decode_image(kContext, "P2 1 1 255\n7"); }),
              HasSubstr("only binary greyscale PGM (P5) is read"));
}

TEST(ImageFile, ReadsFilesByTheirBytesNotTheirNames) {
  graft::testing::TempDir dir;
  const auto path = dir.path() / "actually-a-png.jpg";
  const std::string png = encode_png(1, 1, PNG_FORMAT_GRAY, {42});
  graft::testing::write_file(path, graft::testing::Bytes(png.begin(), png.end()));
  EXPECT_THAT(read_image(path).pixels, ElementsAre(42));
  EXPECT_THAT(error_message([&] { read_image(dir.path() / "missing.png"); }),
              HasSubstr("read_image(): \"" + (dir.path() / "missing.png").string() +
                        "\": cannot open the file"));
}

TEST(ImageFile, BadFilesAreErrorsThatSaySo) {
  EXPECT_THAT(error_message([] { decode_image(kContext, "hello, world\n"); }),
              HasSubstr("read_image(): \"test-image\": not an image graft-predict reads: PNG, "
                        "JPEG and binary PGM (P5)"));
  EXPECT_THAT(error_message([] { decode_image(kContext, ""); }),
              HasSubstr("not an image graft-predict reads"));

  const std::string png = encode_png(8, 8, PNG_FORMAT_GRAY, std::vector<uint8_t>(64, 9));
  EXPECT_THAT(error_message([&] { decode_image(kContext, png.substr(0, png.size() - 30)); }),
              HasSubstr("PNG"));
  std::string bad_crc = png;
  bad_crc[29] ^= 1;  // inside IHDR's CRC
  EXPECT_THAT(error_message([&] { decode_image(kContext, bad_crc); }),
              HasSubstr("not a readable PNG file (libpng: "));

  std::vector<uint8_t> noise(64 * 64);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>(i * 7919 % 251);
  const std::string jpeg = encode_jpeg(64, 64, TJPF_GRAY, noise, TJSAMP_GRAY);
  EXPECT_THAT(error_message([&] { decode_image(kContext, jpeg.substr(0, jpeg.size() / 2)); }),
              HasSubstr("corrupt or truncated JPEG data (libjpeg-turbo: "));
  EXPECT_THAT(error_message([&] { decode_image(kContext, jpeg.substr(0, 20)); }),
              HasSubstr("not a readable JPEG file: no image size in its header"));
  EXPECT_THAT(error_message([] { decode_image(kContext, "\xff\xd8\xff\xff\xff"); }),
              HasSubstr("not a readable JPEG file"));
  const std::string cmyk =
      encode_jpeg(8, 8, TJPF_CMYK, std::vector<uint8_t>(8 * 8 * 4, 100), TJSAMP_444);
  EXPECT_THAT(error_message([&] { decode_image(kContext, cmyk); }),
              HasSubstr("a CMYK JPEG; only grey and colour (YCbCr/RGB) JPEGs are read"));
}

TEST(ImageFile, ImagesOverThePixelLimitAreRefusedBeforeDecoding) {
  const std::string png = encode_png(8, 8, PNG_FORMAT_GRAY, std::vector<uint8_t>(64, 9));
  EXPECT_EQ(decode_image(kContext, png, {.max_pixels = 64}).pixels.size(), 64u);
  EXPECT_THAT(error_message([&] { decode_image(kContext, png, {.max_pixels = 63}); }),
              HasSubstr("the PNG image is 8x8 = 64 pixels, over the limit of 63"));
  const std::string jpeg = encode_jpeg(8, 8, TJPF_GRAY, std::vector<uint8_t>(64, 9), TJSAMP_GRAY);
  EXPECT_THAT(error_message([&] { decode_image(kContext, jpeg, {.max_pixels = 10}); }),
              HasSubstr("the JPEG image is 8x8 = 64 pixels, over the limit of 10"));
  std::string pgm = "P5 4 4 255\n";
  pgm.append(16, 'a');
  EXPECT_THAT(error_message([&] { decode_image(kContext, pgm, {.max_pixels = 15}); }),
              HasSubstr("the PGM image is 4x4 = 16 pixels"));
}

}  // namespace
}  // namespace graft::examples
