// The images graft-predict reads: binary PGM, PNG and JPEG files of any size and colour,
// decoded to grey levels. The format is told by the file's first bytes, not its name.
//
// PNG is decoded by libpng's simplified API and JPEG by libjpeg-turbo's TurboJPEG API, the
// libraries behind most image software (their decoders are fuzzed upstream, and
// tests/fuzz/image.cpp fuzzes graft's use of them). Colour becomes grey by ITU-R BT.601
// luma, Y = 0.299 R + 0.587 G + 0.114 B on the stored values, as Pillow's convert("L") and
// torchvision's Grayscale do and as a JPEG's own Y channel is defined. A pixel with alpha
// is blended over a `background` grey level first, so a transparent area becomes the
// background the model expects.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "graft/io/file_io.h"
#include "pgm.h"

namespace graft::examples {

struct ImageReadOptions {
  uint8_t background = 0;  // the grey that alpha blends over (0 = black)
  // Images with more pixels are refused before their pixels are decoded, so a small file
  // cannot claim a huge image (a "decompression bomb"); 2^26 is a 64-megapixel photo.
  int64_t max_pixels = int64_t{1} << 26;
};

// Reads a PGM (P5), PNG or JPEG file; anything else, a corrupt or truncated file, or one
// over the size limit is a graft::Error naming the file and what is wrong.
GrayImage read_image(const std::filesystem::path& path, const ImageReadOptions& options = {});

// The same from the file's bytes already in memory; errors go through `context`.
GrayImage decode_image(const io::FileContext& context, const std::string& bytes,
                       const ImageReadOptions& options = {});

}  // namespace graft::examples
