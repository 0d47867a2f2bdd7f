// nn::init: filling parameters in place with PyTorch's initialisation schemes.
//
// Each function overwrites its tensor (any floating dtype, any device) without recording
// autograd history, and returns it. Random values come from graft's Philox stream, so
// manual_seed makes them reproducible. Fans follow PyTorch: for a weight (out, in, *k),
// fan_in = in * prod(k) and fan_out = out * prod(k).
#pragma once

#include <optional>
#include <utility>

#include "graft/core/tensor.h"

namespace graft::nn::init {

enum class Nonlinearity { kLinear, kConv, kSigmoid, kTanh, kReLU, kLeakyReLU, kSELU };
enum class FanMode { kFanIn, kFanOut };

// The gain PyTorch recommends for a nonlinearity: 1 for linear, conv and sigmoid, 5/3 for
// tanh, sqrt(2) for ReLU, sqrt(2 / (1 + a^2)) for leaky ReLU of slope a (default 0.01),
// 3/4 for SELU.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);
// {fan_in, fan_out} of a tensor of at least 2 dims.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

const Tensor& uniform_(const Tensor& t, double a = 0.0, double b = 1.0);
const Tensor& normal_(const Tensor& t, double mean = 0.0, double std = 1.0);
const Tensor& constant_(const Tensor& t, double value);
const Tensor& zeros_(const Tensor& t);
const Tensor& ones_(const Tensor& t);

// U(-bound, bound), bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
// The defaults are PyTorch's; Linear and Conv2d use a = sqrt(5), i.e. bound = 1/sqrt(fan_in).
const Tensor& kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::kFanIn,
                               Nonlinearity nonlinearity = Nonlinearity::kLeakyReLU);
// N(0, std^2), std = gain / sqrt(fan).
const Tensor& kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::kFanIn,
                              Nonlinearity nonlinearity = Nonlinearity::kLeakyReLU);
// U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)).
const Tensor& xavier_uniform_(const Tensor& t, double gain = 1.0);
// N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).
const Tensor& xavier_normal_(const Tensor& t, double gain = 1.0);

}  // namespace graft::nn::init
