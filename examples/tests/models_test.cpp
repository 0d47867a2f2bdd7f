// The two models: PyTorch-style state-dict names and shapes, and each forward pass against
// a naive double-precision reference written from the architecture in models.h.
#include "models.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "test_util.h"

namespace graft::examples {
namespace {

using graft::testing::error_message;
using graft::testing::make_tensor;
using graft::testing::sample_values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The model's parameters as double vectors, by state-dict name.
std::map<std::string, std::vector<double>> weights(const nn::Module& model) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, t] : model.state_dict()) out[name] = t.to_vector<double>();
  return out;
}

std::map<std::string, Shape> shapes(const nn::Module& model) {
  std::map<std::string, Shape> out;
  for (const auto& [name, t] : model.state_dict()) out[name] = t.shape();
  return out;
}

int64_t parameter_count(const nn::Module& model) {
  int64_t n = 0;
  for (const Tensor& p : model.parameters()) n += p.numel();
  return n;
}

// y[o] = b[o] + sum_i w[o][i] x[i] for one example.
std::vector<double> linear_ref(const std::vector<double>& x, const std::vector<double>& w,
                               const std::vector<double>& b) {
  std::vector<double> y(b);
  for (size_t o = 0; o < b.size(); ++o)
    for (size_t i = 0; i < x.size(); ++i) y[o] += w[o * x.size() + i] * x[i];
  return y;
}

std::vector<double> relu_ref(std::vector<double> x) {
  for (double& v : x) v = std::max(v, 0.0);
  return x;
}

// 3x3 convolution with zero padding 1 over (cin, side, side) -> (cout, side, side).
std::vector<double> conv3x3_ref(const std::vector<double>& x, int64_t cin, int64_t side,
                                const std::vector<double>& w, const std::vector<double>& b) {
  const auto cout = static_cast<int64_t>(b.size());
  std::vector<double> y(static_cast<size_t>(cout * side * side));
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t r = 0; r < side; ++r)
      for (int64_t c = 0; c < side; ++c) {
        double sum = b[o];
        for (int64_t i = 0; i < cin; ++i)
          for (int64_t kr = 0; kr < 3; ++kr)
            for (int64_t kc = 0; kc < 3; ++kc) {
              const int64_t rr = r + kr - 1, cc = c + kc - 1;
              if (rr < 0 || rr >= side || cc < 0 || cc >= side) continue;
              sum += w[((o * cin + i) * 3 + kr) * 3 + kc] * x[(i * side + rr) * side + cc];
            }
        y[(o * side + r) * side + c] = sum;
      }
  return y;
}

// 2x2 max pooling, stride 2: (channels, side, side) -> (channels, side / 2, side / 2).
std::vector<double> maxpool2_ref(const std::vector<double>& x, int64_t channels, int64_t side) {
  const int64_t half = side / 2;
  std::vector<double> y(static_cast<size_t>(channels * half * half));
  for (int64_t ch = 0; ch < channels; ++ch)
    for (int64_t r = 0; r < half; ++r)
      for (int64_t c = 0; c < half; ++c) {
        const auto at = [&](int64_t dr, int64_t dc) {
          return x[(ch * side + 2 * r + dr) * side + 2 * c + dc];
        };
        y[(ch * half + r) * half + c] = std::max({at(0, 0), at(0, 1), at(1, 0), at(1, 1)});
      }
  return y;
}

constexpr int64_t kBatch = 2, kPixels = 28 * 28;

Tensor sample_images() {
  return make_tensor(sample_values(kBatch * kPixels, -1, 2), {kBatch, 1, 28, 28}, kFloat32);
}

std::vector<double> image(const Tensor& images, int64_t n) {
  const std::vector<double> all = images.to_vector<double>();
  return {all.begin() + n * kPixels, all.begin() + (n + 1) * kPixels};
}

void expect_logits_near(const Tensor& logits, int64_t n, const std::vector<double>& expected) {
  const std::vector<double> got = logits.to_vector<double>();
  ASSERT_EQ(expected.size(), 10u);
  for (size_t k = 0; k < 10; ++k)
    EXPECT_NEAR(got[n * 10 + k], expected[k], 1e-4 * (1 + std::abs(expected[k]))) << "class " << k;
}

TEST(Models, MlpNamesShapesAndSize) {
  const auto mlp = make_model("mlp");
  EXPECT_THAT(shapes(*mlp),
              ElementsAre(std::pair<const std::string, Shape>{"1.bias", {256}},
                          std::pair<const std::string, Shape>{"1.weight", {256, 784}},
                          std::pair<const std::string, Shape>{"3.bias", {10}},
                          std::pair<const std::string, Shape>{"3.weight", {10, 256}}));
  EXPECT_EQ(parameter_count(*mlp), 784 * 256 + 256 + 256 * 10 + 10);
}

TEST(Models, MlpForwardMatchesNaiveReference) {
  const auto mlp = make_model("mlp");
  const Tensor x = sample_images();
  NoGradGuard no_grad;  // forward only
  const Tensor logits = (*mlp)(x);
  EXPECT_EQ(logits.shape(), Shape({kBatch, 10}));
  auto w = weights(*mlp);
  for (int64_t n = 0; n < kBatch; ++n) {
    const auto hidden = relu_ref(linear_ref(image(x, n), w["1.weight"], w["1.bias"]));
    expect_logits_near(logits, n, linear_ref(hidden, w["3.weight"], w["3.bias"]));
  }
}

TEST(Models, CnnNamesShapesAndSize) {
  const auto cnn = make_model("cnn");
  const auto s = shapes(*cnn);
  EXPECT_EQ(s.at("0.weight"), Shape({32, 1, 3, 3}));
  EXPECT_EQ(s.at("3.weight"), Shape({64, 32, 3, 3}));
  EXPECT_EQ(s.at("7.weight"), Shape({10, 64 * 7 * 7}));
  EXPECT_EQ(s.size(), 6u);  // three weights, three biases
  EXPECT_EQ(parameter_count(*cnn), (9 + 1) * 32 + (32 * 9 + 1) * 64 + (3136 + 1) * 10);
}

TEST(Models, CnnForwardMatchesNaiveReference) {
  const auto cnn = make_model("cnn");
  const Tensor x = sample_images();
  NoGradGuard no_grad;  // forward only
  const Tensor logits = (*cnn)(x);
  EXPECT_EQ(logits.shape(), Shape({kBatch, 10}));
  auto w = weights(*cnn);
  for (int64_t n = 0; n < kBatch; ++n) {
    auto h = maxpool2_ref(relu_ref(conv3x3_ref(image(x, n), 1, 28, w["0.weight"], w["0.bias"])), 32,
                          28);  // (32, 14, 14)
    h = maxpool2_ref(relu_ref(conv3x3_ref(h, 32, 14, w["3.weight"], w["3.bias"])), 64, 14);
    expect_logits_near(logits, n, linear_ref(h, w["7.weight"], w["7.bias"]));  // CHW flattened
  }
}

TEST(Models, SameSeedSameInitialisation) {
  manual_seed(7);
  const auto a = weights(*make_model("cnn"));
  manual_seed(7);
  const auto b = weights(*make_model("cnn"));
  manual_seed(8);
  const auto c = weights(*make_model("cnn"));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Models, OneLineSummary) {
  // The parameter counts of the header: 784*256 + 256 + 256*10 + 10 = 203,530, and
  // 32*9 + 32 + 64*32*9 + 64 + 3136*10 + 10 = 50,186.
  EXPECT_EQ(model_summary("mlp", *make_model("mlp")),
            "mlp: 4 layers (Flatten, Linear, ReLU, Linear), 203,530 parameters");
  EXPECT_EQ(model_summary("cnn", *make_model("cnn")),
            "cnn: 8 layers (Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten, Linear), "
            "50,186 parameters");
}

TEST(Models, UnknownNameIsAnErrorListingTheModels) {
  EXPECT_EQ(model_names(), (std::vector<std::string>{"mlp", "cnn"}));
  EXPECT_EQ(error_message([] { make_model("resnet"); }),
            "make_model(): unknown model 'resnet'; the models are 'mlp' and 'cnn'");
}

}  // namespace
}  // namespace graft::examples
