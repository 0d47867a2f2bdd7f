// Resizing grey images with antialiasing, as torchvision's Resize((h, w)) does on a PIL
// image: a separable triangle (bilinear) filter whose width grows with the shrink factor,
// so every input pixel contributes when an image is made smaller. Plain bilinear sampling
// reads only the 4 input pixels nearest each output one; shrinking a photo 40x that way
// skips most of it and aliases fine patterns (a striped shirt) into noise.
#pragma once

#include <cstdint>

#include "pgm.h"

namespace graft::examples {

// `image` resampled to height x width (both > 0); the aspect ratio is not kept, as
// Resize((h, w)) does not keep it.
GrayImage resize_antialiased(const GrayImage& image, int64_t height, int64_t width);

}  // namespace graft::examples
