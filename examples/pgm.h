// Greyscale images as binary PGM files (Netpbm "P5"), the image format of graft-train's
// exported test images and graft-predict's input.
//
// PGM is the smallest real image format: a text header ("P5", width, height, the largest
// grey value) then one byte per pixel, row by row. Image viewers and converters read it
// (`convert shirt.png -colorspace gray shirt.pgm` makes one), and a reader fits in a page,
// so graft needs no image library. Only 8-bit files are read (maxval at most 255; a
// smaller maxval is rescaled to 0..255); 16-bit PGM and the ASCII "P2" form are errors
// that say so.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace graft::examples {

// Row-major grey levels, 0 (black) .. 255 (white): pixels[row * width + column].
struct GrayImage {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> pixels;
};

// Writes `image` (pixels.size() == height * width, both > 0) as a P5 file, atomically.
void write_pgm(const std::filesystem::path& path, const GrayImage& image);

// Reads a P5 file; a file that is missing, not PGM, malformed or truncated is a
// graft::Error naming the file and what is wrong.
GrayImage read_pgm(const std::filesystem::path& path);

}  // namespace graft::examples
