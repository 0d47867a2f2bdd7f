// The test-set measurement graft-train makes after every epoch, shared with the versus
// benchmark (benchmarks/versus/training_workloads.cpp) so both report the same accuracy.
#pragma once

#include <graft/graft.h>

#include <optional>

namespace graft::examples {

struct EvalResult {
  double loss, accuracy;  // mean cross-entropy and the fraction classified right
};

// Over `dataset` in batches of 1000, without recording a graph, the model in eval mode
// (and back in train mode on return); under autocast to `autocast` when given, as trained.
EvalResult evaluate(nn::Module& model, const data::Dataset& dataset, Device device,
                    std::optional<DType> autocast = std::nullopt);

}  // namespace graft::examples
