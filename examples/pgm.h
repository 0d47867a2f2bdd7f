// Greyscale images as binary PGM files (Netpbm "P5"), the image format of graft-train's
// exported test images (graft-predict also reads PNG and JPEG: image_file.h).
//
// PGM is the smallest real image format: a text header ("P5", width, height, the largest
// grey value) then one byte per pixel, row by row. Image viewers and converters read it,
// and a reader and a writer fit in a page, so exporting needs no image library. Only 8-bit files
// are read (maxval at most 255; a smaller maxval is rescaled to 0..255); 16-bit PGM and the ASCII
// "P2" form are errors that say so.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graft/io/file_io.h"

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

// The same from a file's bytes already in memory; errors go through `context`.
GrayImage decode_pgm(const io::FileContext& context, const std::string& bytes);

}  // namespace graft::examples
