// Binary PGM reading and writing (see pgm.h). The header grammar (Netpbm's pgm(5)): the
// magic "P5", then width, height and maxval as ASCII decimals separated by whitespace, with
// "#" comments running to the end of a line allowed between them, then exactly one
// whitespace byte, then the pixels.
#include "pgm.h"

#include <fstream>
#include <iterator>
#include <string>

#include "graft/io/file_io.h"

namespace graft::examples {
namespace {

// The largest width or height accepted: far above any image this reads, and small enough
// that width * height cannot overflow.
constexpr int64_t kMaxSide = 1 << 16;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Walks the header of `bytes`, failing through `context`.
class HeaderParser {
 public:
  HeaderParser(const io::FileContext& context, const std::string& bytes)
      : context_(context), bytes_(bytes) {}

  // The next decimal field, after whitespace and comments; `what` names it in errors.
  int64_t field(const char* what, int64_t max_value) {
    skip_space_and_comments();
    context_.check(pos_ < bytes_.size(), "the header ends before the ", what, " (truncated file?)");
    context_.check(bytes_[pos_] >= '0' && bytes_[pos_] <= '9', "expected the ", what,
                   " as a decimal number, found '", bytes_[pos_], "'");
    int64_t value = 0;
    while (pos_ < bytes_.size() && bytes_[pos_] >= '0' && bytes_[pos_] <= '9') {
      value = value * 10 + (bytes_[pos_++] - '0');
      context_.check(value <= max_value, "the ", what, " is larger than ", max_value);
    }
    return value;
  }

  // After maxval: exactly one whitespace byte, then the pixels start.
  size_t pixels_start() {
    context_.check(pos_ < bytes_.size() && is_space(bytes_[pos_]),
                   "expected one whitespace byte after maxval, before the pixels");
    return pos_ + 1;
  }

 private:
  void skip_space_and_comments() {
    while (pos_ < bytes_.size()) {
      if (is_space(bytes_[pos_])) {
        ++pos_;
      } else if (bytes_[pos_] == '#') {
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  const io::FileContext& context_;
  const std::string& bytes_;
  size_t pos_ = 2;  // after the magic, which the caller checks
};

}  // namespace

void write_pgm(const std::filesystem::path& path, const GrayImage& image) {
  const io::FileContext context{"write_pgm()", path};
  context.check(image.height > 0 && image.width > 0, "the image is ", image.height, "x",
                image.width, "; both sides must be positive");
  context.check(static_cast<int64_t>(image.pixels.size()) == image.height * image.width,
                "the image holds ", image.pixels.size(), " pixels but is ", image.height, "x",
                image.width, " (", image.height * image.width, " pixels)");
  const std::string header =
      "P5\n" + std::to_string(image.width) + " " + std::to_string(image.height) + "\n255\n";
  io::AtomicFileWriter writer(context);
  writer.write(header.data(), header.size());
  writer.write(image.pixels.data(), image.pixels.size());
  writer.commit();
}

GrayImage read_pgm(const std::filesystem::path& path) {
  const io::FileContext context{"read_pgm()", path};
  std::ifstream file(path, std::ios::binary);
  context.check(file.is_open(), "cannot open the file (does it exist?)");
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return decode_pgm(context, bytes);
}

GrayImage decode_pgm(const io::FileContext& context, const std::string& bytes) {
  context.check(bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7',
                "not a Netpbm image: a PGM file starts with \"P5\"");
  context.check(bytes[1] == '5', "a P", bytes[1],
                " file; only binary greyscale PGM (P5) is read. Convert it first, e.g. "
                "`convert image.png -colorspace gray image.pgm`");
  HeaderParser header(context, bytes);
  GrayImage image;
  image.width = header.field("width", kMaxSide);
  image.height = header.field("height", kMaxSide);
  const int64_t maxval = header.field("maxval", 65535);
  context.check(image.width > 0 && image.height > 0, "the image is ", image.width, "x",
                image.height, " (width x height); both must be positive");
  context.check(maxval >= 1 && maxval <= 255, "maxval is ", maxval,
                "; only 8-bit PGM (maxval 1..255) is read, not 16-bit");
  const size_t start = header.pixels_start();
  const auto count = static_cast<size_t>(image.width * image.height);
  context.check(bytes.size() - start >= count, "truncated: a ", image.width, "x", image.height,
                " image needs ", count, " pixel bytes, the file holds ", bytes.size() - start);
  image.pixels.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const auto level = static_cast<uint8_t>(bytes[start + i]);
    context.check(level <= maxval, "pixel ", i, " is ", int{level}, ", above maxval ", maxval);
    // Rounded rescaling to 0..255 (the identity when maxval is 255).
    image.pixels[i] = static_cast<uint8_t>((level * 255 + maxval / 2) / maxval);
  }
  return image;
}

}  // namespace graft::examples
