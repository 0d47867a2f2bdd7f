// FashionMNIST: Zalando's 70000 28x28 grey images of clothing in 10 classes, as a Dataset.
//
// The four IDX files (Debian's dataset-fashion-mnist package installs them in
// /usr/share/datasets/fashion-mnist) are read once, and the whole split is converted once to
// float32 in [0, 1] (as torchvision's ToTensor: uint8 / 255) and held as one (N, 1, 28, 28)
// tensor; get(i) returns views of it and batches gather rows of it (see TensorDataset).
// A transform therefore runs once on the whole split at load time, not per example: it is
// meant for deterministic elementwise preprocessing such as Normalize.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "graft/data/dataset.h"

namespace graft::data {

enum class Split { Train, Test };

// A transform of a whole split: takes the (N, 1, 28, 28) float32 images, returns N examples.
using Transform = std::function<Tensor(const Tensor&)>;

// (x - mean) / std, as torchvision's Normalize for one channel.
class Normalize {
 public:
  // PyTorch's usual figures for Fashion-MNIST's training images (scaled to [0, 1]).
  static constexpr double kFashionMnistMean = 0.2860;
  static constexpr double kFashionMnistStd = 0.3530;

  // std_dev > 0; the defaults are Fashion-MNIST's.
  explicit Normalize(double mean = kFashionMnistMean, double std_dev = kFashionMnistStd);
  Tensor operator()(const Tensor& x) const;

  double mean() const { return mean_; }
  double std_dev() const { return std_dev_; }

 private:
  double mean_;
  double std_dev_;
};

class FashionMNIST : public TensorDataset {
 public:
  // Loads `split` from `root`, which holds train-images-idx3-ubyte.gz and the three other
  // files (uncompressed copies without .gz are read too). x: (1, 28, 28) float32,
  // y: an int64 scalar in [0, 10). A missing file is an error that says how to get it.
  FashionMNIST(const std::filesystem::path& root, Split split, const Transform& transform = {});

  // $GRAFT_DATA when set, else /usr/share/datasets/fashion-mnist.
  static std::filesystem::path default_root();
  // "T-shirt/top", "Trouser", ..., "Ankle boot": the name of each label.
  static const std::vector<std::string>& class_names();

  Split split() const { return split_; }

 private:
  FashionMNIST(TensorDataset loaded, Split split);

  Split split_;
};

}  // namespace graft::data
