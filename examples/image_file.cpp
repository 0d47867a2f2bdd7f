// Image decoding for graft-predict (see image_file.h): the format from the magic bytes, then
// one function per format that yields grey levels and fails through the FileContext.
#include "image_file.h"

#include <png.h>
#include <turbojpeg.h>

#include <fstream>
#include <iterator>
#include <memory>

namespace graft::examples {
namespace {

bool starts_with(const std::string& bytes, std::string_view magic) {
  return bytes.size() >= magic.size() && bytes.compare(0, magic.size(), magic) == 0;
}

void check_size(const io::FileContext& context, const char* format, int64_t width, int64_t height,
                const ImageReadOptions& options) {
  context.check(width > 0 && height > 0, "the ", format, " image is ", width, "x", height,
                " (width x height); both must be positive");
  context.check(width * height <= options.max_pixels, "the ", format, " image is ", width, "x",
                height, " = ", width * height, " pixels, over the limit of ", options.max_pixels,
                " (ImageReadOptions::max_pixels); shrink it first");
}

// BT.601 luma of an 8-bit RGB pixel blended over `background` by its alpha, in integers
// rounded to nearest: the weights 299/587/114 sum to 1000, alpha divides by 255.
uint8_t luma(uint32_t r, uint32_t g, uint32_t b, uint32_t alpha, uint32_t background) {
  const uint32_t y = 299 * r + 587 * g + 114 * b;  // at most 255'000
  const uint64_t blended = uint64_t{y} * alpha + uint64_t{1000} * background * (255 - alpha);
  return static_cast<uint8_t>((blended + 255 * 1000 / 2) / (255 * 1000));
}

// PNG (any bit depth, palette, grey or colour, interlaced or not): libpng's simplified API
// converts every kind to 8-bit RGBA, which this turns into grey.
GrayImage decode_png(const io::FileContext& context, const std::string& bytes,
                     const ImageReadOptions& options) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  // png_image_free releases libpng's state on every path out, error or not.
  const auto release = [](png_image* p) { png_image_free(p); };
  const std::unique_ptr<png_image, decltype(release)> guard(&png, release);
  context.check(png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) != 0,
                "not a readable PNG file (libpng: ", png.message, ")");
  check_size(context, "PNG", png.width, png.height, options);
  png.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> rgba(size_t{4} * png.width * png.height);
  context.check(png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr) != 0,
                "corrupt or truncated PNG data (libpng: ", png.message, ")");
  GrayImage image{png.height, png.width, std::vector<uint8_t>(size_t{png.width} * png.height)};
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    const uint8_t* p = &rgba[4 * i];
    image.pixels[i] = luma(p[0], p[1], p[2], p[3], options.background);
  }
  return image;
}

// JPEG (baseline or progressive, grey or YCbCr): TurboJPEG decodes straight to grey, which
// for YCbCr is the Y channel, BT.601 luma by the format's definition. Warnings (a truncated
// or damaged stream) are errors, as in Pillow, and LIMITSCANS refuses progressive files with
// absurd numbers of scans, a known way to make a small file decode for minutes.
GrayImage decode_jpeg(const io::FileContext& context, const std::string& bytes,
                      const ImageReadOptions& options) {
  const std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  context.check(handle != nullptr, "cannot start libjpeg-turbo: ", tjGetErrorStr2(nullptr));
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  context.check(tjDecompressHeader3(handle.get(), data, size, &width, &height, &subsampling,
                                    &colorspace) == 0,
                "not a readable JPEG file (libjpeg-turbo: ", tjGetErrorStr2(handle.get()), ")");
  // TurboJPEG reports success with a 0x0 size for a header cut before its frame marker.
  context.check(width > 0 && height > 0,
                "not a readable JPEG file: no image size in its header (truncated file?)");
  check_size(context, "JPEG", width, height, options);
  context.check(colorspace != TJCS_CMYK && colorspace != TJCS_YCCK,
                "a CMYK JPEG; only grey and colour (YCbCr/RGB) JPEGs are read. Convert it to "
                "RGB first, e.g. `convert image.jpg -colorspace sRGB out.jpg`");
  GrayImage image{height, width, std::vector<uint8_t>(size_t(width) * size_t(height))};
  context.check(tjDecompress2(handle.get(), data, size, image.pixels.data(), width, width, height,
                              TJPF_GRAY, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) == 0,
                "corrupt or truncated JPEG data (libjpeg-turbo: ", tjGetErrorStr2(handle.get()),
                ")");
  return image;
}

}  // namespace

GrayImage read_image(const std::filesystem::path& path, const ImageReadOptions& options) {
  const io::FileContext context{"read_image()", path};
  std::ifstream file(path, std::ios::binary);
  context.check(file.is_open(), "cannot open the file (does it exist?)");
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return decode_image(context, bytes, options);
}

GrayImage decode_image(const io::FileContext& context, const std::string& bytes,
                       const ImageReadOptions& options) {
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) return decode_png(context, bytes, options);
  if (starts_with(bytes, "\xff\xd8\xff")) return decode_jpeg(context, bytes, options);
  // Any Netpbm magic goes to the PGM reader, which says which ones it reads.
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7') {
    GrayImage image = decode_pgm(context, bytes);
    check_size(context, "PGM", image.width, image.height, options);
    return image;
  }
  context.fail(
      "not an image graft-predict reads: PNG, JPEG and binary PGM (P5) are, told by "
      "their first bytes, and this file starts with none of them");
}

}  // namespace graft::examples
