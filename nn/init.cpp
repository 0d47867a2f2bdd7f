// nn::init: gains, fans and the fills (see init.h). Every fill draws a fresh tensor of t's
// shape, dtype and device and copies it in under NoGradGuard: copy_ handles views and bumps
// t's version, so a backward that saved t before the fill notices.
#include "graft/nn/init.h"

#include <cmath>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"

namespace graft::nn::init {

namespace {

TensorOptions options_of(const char* op, const Tensor& t) {
  GRAFT_CHECK(t.defined() && is_floating_point(t.dtype()), "nn::init::", op,
              "(): expected a defined floating-point tensor, but got ",
              t.defined() ? dtype_name(t.dtype()) : "an undefined tensor");
  return TensorOptions(t.dtype()).device(t.device());
}

const Tensor& fill_with(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(values);
  return t;
}

// {fan_in, fan_out}; `op` names the caller in the error.
std::pair<int64_t, int64_t> fans(const char* op, const Tensor& t) {
  GRAFT_CHECK(t.defined() && t.dim() >= 2, "nn::init::", op,
              "(): fan in and fan out can not be computed for a tensor with fewer than 2 dims, ",
              "but got shape ", t.defined() ? t.shape() : Shape{});
  const int64_t receptive = t.numel() == 0 ? 0 : t.numel() / (t.size(0) * t.size(1));
  return {t.size(1) * receptive, t.size(0) * receptive};
}

int64_t fan(const char* op, const Tensor& t, FanMode mode) {
  const auto [fan_in, fan_out] = fans(op, t);
  return mode == FanMode::kFanIn ? fan_in : fan_out;
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case Nonlinearity::kLinear:
    case Nonlinearity::kConv:
    case Nonlinearity::kSigmoid:
      return 1.0;
    case Nonlinearity::kTanh:
      return 5.0 / 3;
    case Nonlinearity::kReLU:
      return std::sqrt(2.0);
    case Nonlinearity::kLeakyReLU: {
      const double slope = param.value_or(0.01);
      return std::sqrt(2.0 / (1 + slope * slope));
    }
    case Nonlinearity::kSELU:
      return 3.0 / 4;
  }
  detail::fail("calculate_gain(): unknown nonlinearity");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  return fans("calculate_fan_in_and_fan_out", t);
}

const Tensor& uniform_(const Tensor& t, double a, double b) {
  GRAFT_CHECK(a <= b, "nn::init::uniform_(): expected a <= b, but got a=", a, " and b=", b);
  return fill_with(t, rand(t.shape(), options_of("uniform_", t)) * (b - a) + a);
}

const Tensor& normal_(const Tensor& t, double mean, double std) {
  GRAFT_CHECK(std >= 0, "nn::init::normal_(): expected std >= 0, but got std=", std);
  return fill_with(t, randn(t.shape(), options_of("normal_", t)) * std + mean);
}

const Tensor& constant_(const Tensor& t, double value) {
  options_of("constant_", t);
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}

const Tensor& zeros_(const Tensor& t) { return constant_(t, 0.0); }
const Tensor& ones_(const Tensor& t) { return constant_(t, 1.0); }

const Tensor& kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  const int64_t n = fan("kaiming_uniform_", t, mode);
  if (n == 0) return t;  // an empty tensor: nothing to fill (PyTorch warns and skips)
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / static_cast<double>(n));
  return uniform_(t, -bound, bound);
}

const Tensor& kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  const int64_t n = fan("kaiming_normal_", t, mode);
  if (n == 0) return t;
  return normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(n)));
}

const Tensor& xavier_uniform_(const Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans("xavier_uniform_", t);
  if (fan_in + fan_out == 0) return t;
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(t, -bound, bound);
}

const Tensor& xavier_normal_(const Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans("xavier_normal_", t);
  if (fan_in + fan_out == 0) return t;
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

}  // namespace graft::nn::init
