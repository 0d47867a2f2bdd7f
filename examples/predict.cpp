// graft-predict: classifies image files with a graft-train checkpoint, the seed article's
// round trip from an image on disk to a class name:
//
//   graft-predict runs/latest/checkpoint.safetensors runs/latest/images/00000-9-ankle-boot.pgm
//
// For each image: load the uint8 pixels (PGM, pgm.h), scale / 255, normalise as in
// training (the checkpoint's mean and std), HWC -> CHW, add the batch dim, move to the
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
#include "models.h"
#include "pgm.h"

namespace g = graft;
namespace ex = graft::examples;

namespace {

constexpr int64_t kSide = 28;

// The preprocessing of graft-train's data, for one image: (1, 1, 28, 28) float32 on `device`.
g::Tensor preprocess(const ex::GrayImage& image, const g::data::Normalize& normalize,
                     g::Device device) {
  GRAFT_CHECK(image.height == kSide && image.width == kSide, "graft-predict: the image is ",
              image.height, "x", image.width, "; the models take 28x28 Fashion-MNIST images");
  // from_blob views the loader's bytes (H, W, C = 1) without copying; to(kFloat32) copies.
  g::Tensor x =
      g::from_blob(const_cast<uint8_t*>(image.pixels.data()), {kSide, kSide, 1}, g::kUInt8);
  x = x.to(g::kFloat32) / 255;
  x = normalize(x);
  x = x.permute({2, 0, 1});  // HWC -> CHW: (1, 28, 28)
  x = x.unsqueeze(0);        // the batch dim: (1, 1, 28, 28)
  return x.to(device);
}

int run(const std::vector<std::string>& args) {
  const bool help = args.size() == 1 && (args[0] == "--help" || args[0] == "-h");
  if (help || args.size() < 2) {
    (help ? std::cout : std::cerr)
        << "usage: graft-predict CHECKPOINT IMAGE.pgm...\n"
           "Classifies 28x28 greyscale PGM images with a graft-train checkpoint\n"
           "(graft-train --export-images K writes some from the test set).\n";
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
    const g::Tensor x = preprocess(ex::read_pgm(args[i]), normalize, device);
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
