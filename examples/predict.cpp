// graft-predict: classifies image files with a graft-train checkpoint, the seed article's
// round trip from an image on disk to a class name:
//
//   graft-predict runs/latest/checkpoint.safetensors runs/latest/images/00000-9-ankle-boot.pgm
//   graft-predict --invert runs/latest/checkpoint.safetensors photo-of-a-sneaker.jpg
//
// For each image: decode it to grey levels (PGM, PNG or JPEG, image_file.h), make it
// light-on-dark as Fashion-MNIST is (--invert, for dark objects photographed on a light
// background), resize it to 28x28 with antialiasing (image_resize.h), scale / 255, normalise
// as in training (the checkpoint's mean and std), HWC -> CHW, add the batch dim, move to the
// device, run the model under NoGradGuard in eval mode, softmax, back to the host, argmax,
// and print the class name with the ten probabilities. The model is rebuilt from the
// checkpoint's "model" metadata, with models.h, the code graft-train trained it with.
#include <graft/graft.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "graft/kernels/cuda/runtime.h"
#include "image_file.h"
#include "image_resize.h"
#include "models.h"

namespace g = graft;
namespace ex = graft::examples;

namespace {

constexpr int64_t kSide = 28;

// An image file as the models saw Fashion-MNIST: grey, light on dark, 28x28.
ex::GrayImage load_image(const std::string& path, bool invert) {
  // Transparent areas blend into what becomes the dark background: black, or white before
  // an inversion.
  ex::GrayImage image = ex::read_image(path, {.background = uint8_t(invert ? 255 : 0)});
  if (invert)
    for (uint8_t& level : image.pixels) level = static_cast<uint8_t>(255 - level);
  if (image.height != kSide || image.width != kSide)
    image = ex::resize_antialiased(image, kSide, kSide);
  return image;
}

// The preprocessing of graft-train's data, for one 28x28 image: (1, 1, 28, 28) float32 on
// `device`.
g::Tensor preprocess(const ex::GrayImage& image, const g::data::Normalize& normalize,
                     g::Device device) {
  // from_blob views the loader's bytes (H, W, C = 1) without copying; to(kFloat32) copies.
  g::Tensor x =
      g::from_blob(const_cast<uint8_t*>(image.pixels.data()), {kSide, kSide, 1}, g::kUInt8);
  x = x.to(g::kFloat32) / 255;
  x = normalize(x);
  x = x.permute({2, 0, 1});  // HWC -> CHW: (1, 28, 28)
  x = x.unsqueeze(0);        // the batch dim: (1, 1, 28, 28)
  return x.to(device);
}

int run(std::vector<std::string> args) {
  const bool help = args.size() == 1 && (args[0] == "--help" || args[0] == "-h");
  const bool invert = !args.empty() && args[0] == "--invert";
  if (invert) args.erase(args.begin());
  const bool unknown_option = !help && !args.empty() && args[0].starts_with("-");
  if (unknown_option) std::cerr << "graft-predict: unknown option '" << args[0] << "'\n";
  if (help || unknown_option || args.size() < 2) {
    (help ? std::cout : std::cerr)
        << "usage: graft-predict [--invert] CHECKPOINT IMAGE...\n"
           "Classifies images with a graft-train checkpoint. PNG, JPEG and binary PGM files\n"
           "of any size and colour are read, made grey and resized to 28x28 with\n"
           "antialiasing (graft-train --export-images K writes some from the test set).\n"
           "  --invert  for dark objects on a light background: Fashion-MNIST's clothes\n"
           "            are light on black, so a photo on a white table needs this.\n";
    return help ? 0 : 2;
  }
  const ex::Checkpoint checkpoint = ex::load_checkpoint(args[0]);
  const auto model = ex::make_model(checkpoint.info.model);
  model->load_state_dict(checkpoint.model);
  const g::Device device = g::cuda::is_available() ? g::Device(g::kCUDA) : g::Device::cpu();
  model->to(device);
  model->eval();
  const g::data::Normalize normalize(checkpoint.info.normalize_mean, checkpoint.info.normalize_std);
  const auto& classes = g::data::FashionMNIST::class_names();
  std::cout << "model " << checkpoint.info.model << " after epoch " << checkpoint.info.epoch
            << ", on " << device << "\n";

  for (size_t i = 1; i < args.size(); ++i) {
    const g::Tensor x = preprocess(load_image(args[i], invert), normalize, device);
    g::Tensor probs;
    {
      g::NoGradGuard no_grad;
      probs = g::softmax((*model)(x), 1);  // (1, 10)
    }
    const std::vector<float> host = probs.cpu().to_vector<float>();  // back to the host
    const auto predicted = std::max_element(host.begin(), host.end()) - host.begin();
    std::printf("%s: %s (%.1f%%)\n", args[i].c_str(), classes[predicted].c_str(),
                100 * host[predicted]);
    for (size_t c = 0; c < classes.size(); ++c)
      std::printf("  %-12s %.4f\n", classes[c].c_str(), host[c]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
