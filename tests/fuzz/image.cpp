// Fuzz target: graft-predict's image reading (examples/image_file.h: PNG through libpng,
// JPEG through libjpeg-turbo, PGM) and the resize to the models' 28x28, on arbitrary bytes.
// The limit on pixels is lowered so that a header claiming a large image is refused
// before the fuzzer spends its memory on it; the limit's own check is the same code.
#include <cstddef>
#include <cstdint>
#include <string>

#include "graft/core/error.h"
#include "image_file.h"
#include "image_resize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const graft::io::FileContext context{"read_image()", "fuzz-input"};
  try {
    const auto image = graft::examples::decode_image(
        context, std::string(reinterpret_cast<const char*>(data), size),
        {.background = 0, .max_pixels = int64_t{1} << 20});
    graft::examples::resize_antialiased(image, 28, 28);
  } catch (const graft::Error&) {
  }
  return 0;
}
