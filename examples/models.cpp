// The model definitions (see models.h).
#include "models.h"

#include "graft/core/error.h"
#include "graft/nn/activation.h"
#include "graft/nn/conv.h"
#include "graft/nn/linear.h"
#include "graft/nn/pooling.h"

namespace graft::examples {
namespace {

constexpr int64_t kPixels = 28 * 28;
constexpr int64_t kClasses = 10;

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> kNames = {"mlp", "cnn"};
  return kNames;
}

std::shared_ptr<nn::Sequential> make_model(const std::string& name) {
  if (name == "mlp") {
    return std::make_shared<nn::Sequential>(nn::Flatten(), nn::Linear(kPixels, 256), nn::ReLU(),
                                            nn::Linear(256, kClasses));
  }
  if (name == "cnn") {
    // Two 3x3 convolutions with "same" padding, each halving the image by pooling:
    // 28 -> 14 -> 7.
    return std::make_shared<nn::Sequential>(
        nn::Conv2d(1, 32, 3, 1, 1), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(32, 64, 3, 1, 1),
        nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(64 * 7 * 7, kClasses));
  }
  detail::fail("make_model(): unknown model '", name, "'; the models are 'mlp' and 'cnn'");
}

std::string model_summary(const std::string& name, const nn::Sequential& model) {
  std::string layers;
  for (const auto& [_, child] : model.named_children())
    layers += (layers.empty() ? "" : ", ") + child->type_name();
  int64_t count = 0;
  for (const Tensor& p : model.parameters()) count += p.numel();
  const std::string plain = std::to_string(count);
  std::string digits;  // with thousands separators
  for (size_t i = 0; i < plain.size(); ++i) {
    if (i > 0 && (plain.size() - i) % 3 == 0) digits += ',';
    digits += plain[i];
  }
  return name + ": " + std::to_string(model.size()) + " layers (" + layers + "), " + digits +
         " parameters";
}

}  // namespace graft::examples
