// The two Fashion-MNIST models of graft-train and graft-predict, built by name so that a
// checkpoint can say which one it holds (its "model" metadata) and graft-predict rebuild it.
//
//   mlp: Flatten, Linear(784, 256), ReLU, Linear(256, 10)                      203,530 params
//   cnn: Conv2d(1, 32, 3, padding 1), ReLU, MaxPool2d(2),      (N, 32, 14, 14)
//        Conv2d(32, 64, 3, padding 1), ReLU, MaxPool2d(2),     (N, 64, 7, 7)
//        Flatten, Linear(64 * 7 * 7, 10)                        (N, 10)         50,186 params
//
// Both take normalised images (N, 1, 28, 28) and return logits (N, 10). They are
// Sequentials, so their state-dict names are PyTorch's ("1.weight", "3.bias"): the same
// nn.Sequential written in PyTorch loads a graft checkpoint's model tensors as they are.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graft/nn/sequential.h"

namespace graft::examples {

// "mlp" and "cnn".
const std::vector<std::string>& model_names();

// A freshly initialised model (graft's random stream: call manual_seed first for a
// reproducible one); an unknown name is an error listing the known ones.
std::shared_ptr<nn::Sequential> make_model(const std::string& name);

// One line for the start of a run: "mlp: 4 layers (Flatten, Linear, ReLU, Linear), 203,530
// parameters".
std::string model_summary(const std::string& name, const nn::Sequential& model);

}  // namespace graft::examples
