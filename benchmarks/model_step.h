// One training step of an example model (examples/models.h) on a fixed batch: forward,
// cross entropy, backward, Adam, as graft-train runs it. For the benchmarks that time
// whole steps (train_step_bench, busy_machine_bench).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench_common.h"
#include "models.h"

namespace graft::bench {

struct ModelStep {
  explicit ModelStep(const std::string& name, int64_t batch = 64)
      : model(examples::make_model(name)),
        params(model->parameters()),
        adam(params, optim::AdamOptions(1e-3)),
        x(filled({batch, 1, 28, 28}, 3)),
        y(randint(0, 10, {batch})) {}

  // One step; `extra(params)` runs between backward and the update, as graft-train's
  // bookkeeping does.
  template <class Extra>
  void run(Extra extra) {
    adam.zero_grad();
    const Tensor loss = nn::functional::cross_entropy((*model)(x), y);
    loss.backward();
    extra(params);
    adam.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  void run() {
    run([](const std::vector<Tensor>&) {});
  }

  std::shared_ptr<nn::Sequential> model;
  std::vector<Tensor> params;
  optim::Adam adam;
  Tensor x;
  Tensor y;
};

}  // namespace graft::bench
