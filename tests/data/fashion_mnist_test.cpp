// FashionMNIST: small synthetic splits written in a temp dir check the conversion, the
// transform and every error; the real files (Debian's dataset-fashion-mnist) are checked
// when installed, and those tests skip with a message when they are not.
#include "graft/data/fashion_mnist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <optional>

#include "data/idx_writer.h"
#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::data::FashionMNIST;
using g::data::Split;
using g::testing::error_message;
using g::testing::gzip;
using g::testing::idx_bytes;
using g::testing::TempDir;
using g::testing::write_file;
using testing::HasSubstr;

namespace {

// `count` pixels: pixel i is i % 256 (so pixel p of 28x28 image n is (n * 784 + p) % 256).
std::vector<uint8_t> synthetic_pixels(int64_t count) {
  std::vector<uint8_t> pixels(static_cast<size_t>(count));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i % 256);
  return pixels;
}

// Writes `prefix`-images and -labels into dir, gzip-compressed as Debian ships them.
void write_split(const TempDir& dir, const std::string& prefix, const std::vector<uint8_t>& labels,
                 std::vector<uint32_t> image_dims = {}) {
  const auto n = static_cast<uint32_t>(labels.size());
  if (image_dims.empty()) image_dims = {n, 28, 28};
  const std::vector<uint8_t> pixels =
      synthetic_pixels(int64_t{image_dims[0]} * image_dims[1] * image_dims[2]);
  write_file(dir / (prefix + "-images-idx3-ubyte.gz"),
             gzip(idx_bytes<uint8_t>(0x08, image_dims, pixels)));
  write_file(dir / (prefix + "-labels-idx1-ubyte.gz"), gzip(idx_bytes<uint8_t>(0x08, {n}, labels)));
}

// Sets (or unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// The real dataset's root, or nullopt when its files are not installed.
std::optional<std::filesystem::path> installed_root() {
  const auto root = FashionMNIST::default_root();
  if (!std::filesystem::exists(root / "train-images-idx3-ubyte.gz")) return std::nullopt;
  return root;
}

}  // namespace

TEST(FashionMNIST, ScalesPixelsToUnitRangeAndLabelsToInt64) {
  TempDir dir;
  write_split(dir, "train", {9, 0, 4});
  const FashionMNIST train(dir.path(), Split::Train);
  EXPECT_EQ(train.size(), 3);
  EXPECT_EQ(train.split(), Split::Train);
  EXPECT_EQ(train.x().shape(), g::Shape({3, 1, 28, 28}));
  EXPECT_EQ(train.x().dtype(), g::kFloat32);
  EXPECT_EQ(train.y().to_vector<int64_t>(), (std::vector<int64_t>{9, 0, 4}));

  auto [x, y] = train.get(1);
  EXPECT_EQ(x.shape(), g::Shape({1, 28, 28}));
  EXPECT_EQ(y.shape(), g::Shape({}));
  EXPECT_EQ(y.dtype(), g::kInt64);
  EXPECT_EQ(y.item<int64_t>(), 0);
  // Reference: uint8 / 255 computed in float, pixel by pixel.
  const std::vector<uint8_t> pixels = synthetic_pixels(3 * 784);
  const std::vector<float> got = x.to_vector<float>();
  for (size_t p = 0; p < 784; ++p) {
    ASSERT_EQ(got[p], static_cast<float>(pixels[784 + p]) / 255.0f) << "pixel " << p;
  }
}

TEST(FashionMNIST, ExamplesAreViewsOfTheWholeSplit) {
  TempDir dir;
  write_split(dir, "t10k", {1, 2});
  const FashionMNIST test(dir.path(), Split::Test);
  EXPECT_EQ(test.split(), Split::Test);
  const g::Tensor x = test.get(1).x;
  EXPECT_EQ(x.storage(), test.x().storage());
  EXPECT_EQ(x.data_ptr<float>(), test.x().data_ptr<float>() + 784);
}

TEST(FashionMNIST, NormalizeTransformsTheWholeSplitOnce) {
  TempDir dir;
  write_split(dir, "train", {3, 5});
  const FashionMNIST plain(dir.path(), Split::Train);
  const FashionMNIST normalized(dir.path(), Split::Train, g::data::Normalize(0.5, 0.25));
  const std::vector<float> a = plain.x().to_vector<float>();
  const std::vector<float> b = normalized.x().to_vector<float>();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(b[i], (a[i] - 0.5) / 0.25, 1e-6) << i;
  EXPECT_EQ(normalized.x().dtype(), g::kFloat32);
}

TEST(FashionMNIST, NormalizeDefaultsToFashionMnistFigures) {
  const g::data::Normalize normalize;
  EXPECT_EQ(normalize.mean(), 0.2860);
  EXPECT_EQ(normalize.std_dev(), 0.3530);
  EXPECT_NEAR(normalize(g::tensor({0.2860f + 0.3530f})).item<double>(), 1.0, 1e-6);
  EXPECT_THAT(error_message([] { g::data::Normalize bad(0.5, 0.0); }),
              HasSubstr("Normalize(): std_dev must be positive, got 0"));
}

TEST(FashionMNIST, TransformMustKeepTheExamples) {
  TempDir dir;
  write_split(dir, "train", {3, 5});
  const auto first_only = [](const g::Tensor& x) { return x.narrow(0, 0, 1); };
  EXPECT_THAT(error_message([&] { FashionMNIST d(dir.path(), Split::Train, first_only); }),
              HasSubstr("the transform must return the 2 examples of the split along dim 0, "
                        "got (1, 1, 28, 28)"));
}

TEST(FashionMNIST, ReadsUncompressedFilesToo) {
  TempDir dir;
  write_file(dir / "t10k-images-idx3-ubyte",
             idx_bytes<uint8_t>(0x08, {1, 28, 28}, synthetic_pixels(784)));
  write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes<uint8_t>(0x08, {1}, {7}));
  EXPECT_EQ(FashionMNIST(dir.path(), Split::Test).get(0).y.item<int64_t>(), 7);
}

TEST(FashionMNIST, MissingFileSaysHowToInstallTheDataset) {
  TempDir dir;
  const std::string message = error_message([&] { FashionMNIST d(dir.path(), Split::Train); });
  EXPECT_THAT(message, HasSubstr("missing '" + (dir / "train-images-idx3-ubyte.gz").string()));
  EXPECT_THAT(message, HasSubstr("sudo apt-get install dataset-fashion-mnist"));
  EXPECT_THAT(message, HasSubstr("set GRAFT_DATA"));
  write_split(dir, "train", {1});
  std::filesystem::remove(dir / "train-labels-idx1-ubyte.gz");
  EXPECT_THAT(error_message([&] { FashionMNIST d(dir.path(), Split::Train); }),
              HasSubstr("missing '" + (dir / "train-labels-idx1-ubyte.gz").string()));
}

TEST(FashionMNIST, FilesOfTheWrongShapeOrLabelsAreErrors) {
  TempDir dir;
  write_split(dir, "train", {1, 2}, {2, 28, 27});
  EXPECT_THAT(error_message([&] { FashionMNIST d(dir.path(), Split::Train); }),
              HasSubstr("holds uint8 of shape (2, 28, 27), expected uint8 images of shape (N, "
                        "28, 28)"));
  write_split(dir, "train", {1, 10});
  EXPECT_THAT(error_message([&] { FashionMNIST d(dir.path(), Split::Train); }),
              HasSubstr("holds label 10, expected labels 0 to 9"));
  write_split(dir, "train", {1, 2});
  write_file(dir / "train-labels-idx1-ubyte.gz", gzip(idx_bytes<uint8_t>(0x08, {3}, {1, 2, 3})));
  EXPECT_THAT(error_message([&] { FashionMNIST d(dir.path(), Split::Train); }),
              HasSubstr("holds uint8 of shape (3,), expected 2 uint8 labels"));
}

TEST(FashionMNIST, DefaultRootIsGraftDataOrDebiansFolder) {
  {
    ScopedEnv env("GRAFT_DATA", "/data/fmnist");
    EXPECT_EQ(FashionMNIST::default_root(), "/data/fmnist");
  }
  ScopedEnv unset("GRAFT_DATA", nullptr);
  EXPECT_EQ(FashionMNIST::default_root(), "/usr/share/datasets/fashion-mnist");
}

TEST(FashionMNIST, ClassNamesAreZalandos) {
  const auto& names = FashionMNIST::class_names();
  ASSERT_EQ(names.size(), 10u);
  EXPECT_EQ(names[0], "T-shirt/top");
  EXPECT_EQ(names[5], "Sandal");
  EXPECT_EQ(names[9], "Ankle boot");
}

TEST(FashionMNIST, RealTrainingSplit) {
  const auto root = installed_root();
  if (!root)
    GTEST_SKIP() << "Fashion-MNIST is not installed (sudo apt-get install "
                    "dataset-fashion-mnist, or set GRAFT_DATA)";
  const FashionMNIST train(*root, Split::Train);
  ASSERT_EQ(train.size(), 60000);
  EXPECT_EQ(train.get(0).x.shape(), g::Shape({1, 28, 28}));
  EXPECT_EQ(FashionMNIST::class_names()[train.get(0).y.item<int64_t>()], "Ankle boot");
  // Known properties: 6000 images per class; pixels in [0, 1] with mean 0.2860 and std 0.3530
  // (the figures PyTorch users normalize with), computed here in double.
  std::vector<int64_t> per_class(10);
  for (int64_t label : train.y().to_vector<int64_t>()) ++per_class.at(static_cast<size_t>(label));
  EXPECT_EQ(per_class, std::vector<int64_t>(10, 6000));
  const float* pixels = train.x().data_ptr<float>();
  double sum = 0, sum_sq = 0, lo = 1, hi = 0;
  const int64_t n = train.x().numel();
  for (int64_t i = 0; i < n; ++i) {
    sum += pixels[i];
    sum_sq += double(pixels[i]) * pixels[i];
    lo = std::min<double>(lo, pixels[i]);
    hi = std::max<double>(hi, pixels[i]);
  }
  const double mean = sum / double(n);
  EXPECT_NEAR(mean, 0.2860, 5e-5);
  EXPECT_NEAR(std::sqrt(sum_sq / double(n) - mean * mean), 0.3530, 5e-5);
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 1.0);
}

TEST(FashionMNIST, RealTestSplit) {
  const auto root = installed_root();
  if (!root)
    GTEST_SKIP() << "Fashion-MNIST is not installed (sudo apt-get install "
                    "dataset-fashion-mnist, or set GRAFT_DATA)";
  const FashionMNIST test(*root, Split::Test);
  ASSERT_EQ(test.size(), 10000);
  EXPECT_EQ(test.y().to_vector<int64_t>()[0], 9);  // Ankle boot, then Pullover, Trouser
  EXPECT_EQ(test.y().to_vector<int64_t>()[1], 2);
  EXPECT_EQ(test.y().to_vector<int64_t>()[2], 1);
  std::vector<int64_t> per_class(10);
  for (int64_t label : test.y().to_vector<int64_t>()) ++per_class.at(static_cast<size_t>(label));
  EXPECT_EQ(per_class, std::vector<int64_t>(10, 1000));
  // Batches of the real split through the loader: (64, 1, 28, 28) float32, (64,) int64.
  g::data::DataLoader loader(test, 64, true, {.seed = 0});
  EXPECT_EQ(loader.size(), 157);  // ceil(10000 / 64)
  auto [x, y] = *loader.begin();
  EXPECT_EQ(x.shape(), g::Shape({64, 1, 28, 28}));
  EXPECT_EQ(x.dtype(), g::kFloat32);
  EXPECT_EQ(y.shape(), g::Shape({64}));
  EXPECT_EQ(y.dtype(), g::kInt64);
}
