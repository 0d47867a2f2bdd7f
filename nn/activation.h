// Activation modules: ReLU, GELU, SiLU, Tanh, Sigmoid, Softmax, LogSoftmax, Dropout and
// Identity; stateless wrappers over nn::functional (Dropout reads the module's training flag).
#pragma once

#include <string>

#include "graft/nn/functional.h"
#include "graft/nn/module.h"

namespace graft::nn {

// A module applying one elementwise function; the named activations below are this with
// their function.
class Elementwise : public Module {
 public:
  using Fn = Tensor (*)(const Tensor&);
  Elementwise(std::string type_name, Fn fn) : Module(std::move(type_name)), fn_(fn) {}
  Tensor forward(const Tensor& input) override { return fn_(input); }

 private:
  Fn fn_;
};

struct ReLU : Elementwise {
  ReLU() : Elementwise("ReLU", graft::relu) {}
};
struct SiLU : Elementwise {
  SiLU() : Elementwise("SiLU", graft::silu) {}
};
struct Tanh : Elementwise {
  Tanh() : Elementwise("Tanh", graft::tanh) {}
};
struct Sigmoid : Elementwise {
  Sigmoid() : Elementwise("Sigmoid", graft::sigmoid) {}
};
// Returns its input itself: a placeholder where a layer is optional (PyTorch's nn.Identity).
struct Identity : Elementwise {
  Identity() : Elementwise("Identity", [](const Tensor& x) { return x; }) {}
};

// approximate: "none" (exact, erf) or "tanh".
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& input) override { return functional::gelu(input, approximate); }

  std::string approximate;
};

class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override { return functional::softmax(input, dim); }

  int64_t dim;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override { return functional::log_softmax(input, dim); }

  int64_t dim;
};

// Zeroes elements with probability p while training (scaling the rest by 1 / (1 - p));
// the identity in eval().
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& input) override {
    return functional::dropout(input, p, is_training());
  }

  double p;
};

}  // namespace graft::nn
