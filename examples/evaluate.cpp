// The test-set measurement (see evaluate.h).
#include "evaluate.h"

namespace graft::examples {
namespace {

constexpr int64_t kEvalBatchSize = 1000;

}  // namespace

EvalResult evaluate(nn::Module& model, const data::Dataset& dataset, Device device,
                    std::optional<DType> autocast) {
  NoGradGuard no_grad;
  const AutocastGuard autocast_guard(device.type(), autocast, autocast.has_value());
  model.eval();
  double loss_sum = 0;
  int64_t correct = 0;
  for (const auto& [x, y] : data::DataLoader(dataset, kEvalBatchSize)) {
    const Tensor logits = model(x.to(device));
    const Tensor target = y.to(device);
    loss_sum += nn::functional::cross_entropy(logits, target,
                                              {.reduction = nn::functional::Reduction::kSum})
                    .item<double>();
    correct += (logits.argmax(1) == target).sum().item<int64_t>();
  }
  model.train();
  const auto n = static_cast<double>(dataset.size());
  return {loss_sum / n, static_cast<double>(correct) / n};
}

}  // namespace graft::examples
