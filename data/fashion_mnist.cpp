// FashionMNIST: finds the split's two IDX files, checks that they are what Fashion-MNIST's
// files must be (the IDX reader checks the format, this checks the content), and converts
// them once into the tensors TensorDataset serves.
#include "graft/data/fashion_mnist.h"

#include <cstdlib>

#include "graft/autograd/ops.h"
#include "graft/data/idx.h"

namespace graft::data {

namespace {

constexpr int64_t kSide = 28;
constexpr int64_t kNumClasses = 10;
constexpr const char* kDebianRoot = "/usr/share/datasets/fashion-mnist";

// The split's file called `stem` under root: the .gz Debian ships, else an uncompressed copy.
std::filesystem::path find_file(const std::filesystem::path& root, const std::string& stem) {
  const std::filesystem::path gz = root / (stem + ".gz");
  std::error_code ec;
  if (std::filesystem::exists(gz, ec)) return gz;
  if (std::filesystem::exists(root / stem, ec)) return root / stem;
  graft::detail::fail(
      "FashionMNIST: missing '", gz.string(),
      "'. Install the dataset with `sudo apt-get install dataset-fashion-mnist` (it "
      "goes to ",
      kDebianRoot,
      "), or set GRAFT_DATA to a folder holding train-images-idx3-ubyte.gz, "
      "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
      "t10k-labels-idx1-ubyte.gz");
}

TensorDataset load(const std::filesystem::path& root, Split split, const Transform& transform) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const IdxFile images(find_file(root, prefix + "-images-idx3-ubyte"));
  const IdxFile labels(find_file(root, prefix + "-labels-idx1-ubyte"));
  const Tensor& raw_x = images.tensor();
  const Tensor& raw_y = labels.tensor();
  GRAFT_CHECK(raw_x.dtype() == kUInt8 && raw_x.dim() == 3 && raw_x.size(1) == kSide &&
                  raw_x.size(2) == kSide,
              "FashionMNIST: '", images.path().string(), "' holds ", raw_x.dtype(), " of shape ",
              raw_x.shape(), ", expected uint8 images of shape (N, 28, 28)");
  GRAFT_CHECK(raw_y.dtype() == kUInt8 && raw_y.dim() == 1 && raw_y.size(0) == raw_x.size(0),
              "FashionMNIST: '", labels.path().string(), "' holds ", raw_y.dtype(), " of shape ",
              raw_y.shape(), ", expected ", raw_x.size(0), " uint8 labels to match '",
              images.path().string(), "'");
  GRAFT_CHECK(raw_y.numel() == 0 || raw_y.max().item<int64_t>() < kNumClasses, "FashionMNIST: '",
              labels.path().string(), "' holds label ", raw_y.max().item<int64_t>(),
              ", expected labels 0 to ", kNumClasses - 1);

  const int64_t n = raw_x.size(0);
  // uint8 / 255 in float32, exactly as torchvision's ToTensor computes it.
  Tensor x = raw_x.to(kFloat32).div_(255).view({n, 1, kSide, kSide});
  if (transform) {
    x = transform(x);
    GRAFT_CHECK(x.defined() && x.dim() >= 1 && x.size(0) == n,
                "FashionMNIST: the transform must return the ", n,
                " examples of the split along dim 0, got ",
                x.defined() ? x.shape().str() : "an undefined tensor");
  }
  return TensorDataset(x, raw_y.to(kInt64));
}

}  // namespace

Normalize::Normalize(double mean, double std_dev) : mean_(mean), std_dev_(std_dev) {
  GRAFT_CHECK(std_dev > 0, "Normalize(): std_dev must be positive, got ", std_dev);
}

// One new tensor, divided in place: a split is 188 MB of float32 for Fashion-MNIST.
Tensor Normalize::operator()(const Tensor& x) const { return (x - mean_).div_(std_dev_); }

FashionMNIST::FashionMNIST(const std::filesystem::path& root, Split split,
                           const Transform& transform)
    : FashionMNIST(load(root, split, transform), split) {}

FashionMNIST::FashionMNIST(TensorDataset loaded, Split split)
    : TensorDataset(std::move(loaded)), split_(split) {}

std::filesystem::path FashionMNIST::default_root() {
  const char* env = std::getenv("GRAFT_DATA");
  return env != nullptr && *env != '\0' ? std::filesystem::path(env)
                                        : std::filesystem::path(kDebianRoot);
}

const std::vector<std::string>& FashionMNIST::class_names() {
  static const std::vector<std::string> kNames = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
  return kNames;
}

}  // namespace graft::data
