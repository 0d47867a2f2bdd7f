// The training workloads of the versus benchmark: one epoch of graft-train's MLP and CNN on
// Fashion-MNIST, and one optimisation step of each on a fixed batch. The models are the
// examples' own (examples/models.cpp); the loop is graft-train's: batch 64, shuffled with
// seed 0, Adam at lr 1e-3, cross-entropy, loss.item() every step. torch_worker.py runs
// the same loop with torch.nn layers of the same shapes; the CNN's step also under bfloat16
// autocast (graft-train --amp bf16). And one iteration of graft-gpt's
// cpu config (examples/gpt_model.h) on a fixed batch, against nanoGPT's model
// (nanogpt_torch.py): the per-iteration cost of gpt_versus.py's whole runs, interleaved.
#include <graft/graft.h>

#include <memory>
#include <optional>
#include <string>

#include "evaluate.h"
#include "gpt_model.h"
#include "models.h"
#include "workload.h"

namespace graft::versus {
namespace {

constexpr int64_t kBatchSize = 64;
constexpr double kLearningRate = 1e-3;

// Loaded once (decompressing and normalising 70000 images), shared by every workload.
struct FashionMnist {
  data::FashionMNIST train{data::FashionMNIST::default_root(), data::Split::Train,
                           data::Normalize()};
  data::FashionMNIST test{data::FashionMNIST::default_root(), data::Split::Test, data::Normalize()};
};
const FashionMnist& fashion_mnist() {
  static const FashionMnist loaded;
  return loaded;
}

// A model and its optimizer, made afresh from seed 0 so every run starts from the same
// weights.
struct Trainee {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> optimizer;

  // With a low dtype, each forward and loss under autocast to it, as graft-train --amp runs
  // them (the weights and the optimizer stay float32).
  std::optional<DType> autocast;

  Trainee(const std::string& model_name, Device device, std::optional<DType> autocast_dtype = {})
      : autocast(autocast_dtype) {
    manual_seed(0);
    model = examples::make_model(model_name);
    model->to(device);
    optimizer = std::make_unique<optim::Adam>(model->parameters(), kLearningRate);
  }

  Tensor step(const Tensor& x, const Tensor& y) {
    optimizer->zero_grad();
    Tensor loss;
    {
      const AutocastGuard guard(x.device().type(), autocast, autocast.has_value());
      loss = nn::functional::cross_entropy((*model)(x), y);
    }
    loss.backward();
    optimizer->step();
    return loss;
  }
};

Workload epoch(const std::string& model_name, Device device) {
  fashion_mnist();  // load outside the timed run
  auto trainee = std::make_shared<std::unique_ptr<Trainee>>();
  return {
      .run =
          [=] {
            *trainee = std::make_unique<Trainee>(model_name, device);
            // Batches built on the loop's thread on the CPU, as graft-train builds them.
            data::DataLoader loader(fashion_mnist().train, kBatchSize, /*shuffle=*/true,
                                    {.seed = 0, .prefetch = device.is_cuda()});
            double loss_sum = 0;
            for (const auto& [x, y] : loader)
              loss_sum += (*trainee)->step(x.to(device), y.to(device)).item<double>();
          },
      .single_run = true,
      .accuracy =
          [=] {
            return examples::evaluate(*(*trainee)->model, fashion_mnist().test, device).accuracy;
          }};
}

// One step on the training set's first batch, over and over: the per-step cost without the
// data loader.
Workload step(const std::string& model_name, Device device,
              std::optional<DType> autocast = std::nullopt) {
  const auto& train = fashion_mnist().train;
  const Tensor x = train.x().narrow(0, 0, kBatchSize).to(device);
  const Tensor y = train.y().narrow(0, 0, kBatchSize).to(device);
  auto trainee = std::make_shared<Trainee>(model_name, device, autocast);
  return repeated([=] { trainee->step(x, y); });
}

// One training iteration of a GPT config (113 characters of vocabulary, as the fortunes
// corpus) on a fixed batch of random tokens, the recipe's batch of the config's context:
// forward, cross-entropy, backward, clipping at 1.0, an AdamW step, loss.item(); with a low
// dtype, the forward and loss under autocast to it (graft-gpt --amp bf16). The cpu config
// takes nanoGPT's CPU batch of 12; the gpu config (shakespeare_char's) its batch of 64.
Workload gpt_step(Device device, const std::string& config,
                  std::optional<DType> autocast = std::nullopt) {
  manual_seed(0);
  constexpr int64_t kVocabulary = 113;
  auto model = std::make_shared<examples::Gpt>(examples::gpt_config(config, kVocabulary));
  model->to(device);
  std::shared_ptr<optim::AdamW> optimizer = examples::make_gpt_optimizer(*model, kLearningRate);
  const int64_t length = model->config.block_size, batch = examples::gpt_recipe(config).batch_size;
  const TensorOptions tokens = TensorOptions(kInt64).device(device);
  const Tensor x = randint(0, kVocabulary, {batch, length}, tokens);
  const Tensor y = randint(0, kVocabulary, {batch, length}, tokens);
  const std::vector<Tensor> params = model->parameters();
  return repeated([=] {
    optimizer->zero_grad();
    Tensor loss;
    {
      const AutocastGuard guard(device.type(), autocast, autocast.has_value());
      loss = examples::next_token_loss(*model, x, y);
    }
    loss.backward();
    optim::clip_grad_norm_(params, 1.0);
    optimizer->step();
    loss.item<double>();
  });
}

}  // namespace

void add_training_workloads(std::map<std::string, WorkloadFactory>& registry) {
  registry["gpt_step"] = [](Device device) { return gpt_step(device, "cpu"); };
  registry["gpt_step_bf16"] = [](Device device) { return gpt_step(device, "cpu", kBFloat16); };
  registry["gpt_gpu_step"] = [](Device device) { return gpt_step(device, "gpu"); };
  registry["gpt_gpu_step_bf16"] = [](Device device) { return gpt_step(device, "gpu", kBFloat16); };
  for (const std::string model : {"mlp", "cnn"}) {
    registry[model + "_epoch"] = [model](Device device) { return epoch(model, device); };
    registry[model + "_step"] = [model](Device device) { return step(model, device); };
  }
  registry["cnn_step_bf16"] = [](Device device) { return step("cnn", device, kBFloat16); };
}

}  // namespace graft::versus
