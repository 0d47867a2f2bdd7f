// Random factories: manual_seed, rand, randn, randint.
//
// Each op checks its arguments, allocates the output on the requested device, reserves
// from the global Philox stream exactly the blocks its elements consume, and runs the
// device's random kernel. The kernels compute every element from (seed, block, position)
// alone (kernels/random.h), so `manual_seed(0); randn({n}, cuda)` equals the CPU result.
#include <limits>
#include <utility>

#include "graft/autograd/op_utils.h"
#include "graft/core/op_context.h"
#include "graft/core/random.h"
#include "graft/kernels/random.h"

namespace graft {

using kernels::Distribution;

namespace {

Tensor random_tensor(const char* op, const Shape& shape, TensorOptions options,
                     Distribution distribution, int64_t low = 0, int64_t high = 0) {
  const OpContext context(op);
  Tensor out = empty(shape, options.requires_grad(false));
  if (out.numel() == 0) return detail::with_requires_grad(out, options);
  const auto per_block = kernels::elements_per_block(distribution, out.dtype());
  const auto blocks = static_cast<uint64_t>((out.numel() + per_block - 1) / per_block);
  const PhiloxPosition position = default_generator().reserve(blocks);
  kernels::RandomArgs args{out.data_ptr(),  out.dtype(),  out.numel(), position.seed,
                           position.offset, distribution, low,         high};
  kernels::lookup(kernels::kernel_table().random, out.device(), op)(args);
  return detail::with_requires_grad(out, options);
}

DType floating_dtype(const char* op, TensorOptions options) {
  const DType dtype = options.dtype_or(get_default_dtype());
  GRAFT_CHECK(is_floating_point(dtype), op, "(): only floating-point dtypes are supported, got ",
              dtype);
  return dtype;
}

// The integers that T holds exactly: its range, or +-2^digits for a floating type.
template <class T>
std::pair<int64_t, int64_t> exact_integer_range() {
  if constexpr (is_floating_type_v<T>) {
    const int64_t limit = int64_t{1} << std::numeric_limits<T>::digits;
    return {-limit, limit};
  } else {
    return {static_cast<int64_t>(std::numeric_limits<T>::lowest()),
            static_cast<int64_t>(std::numeric_limits<T>::max())};
  }
}

}  // namespace

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

Tensor rand(const Shape& shape, TensorOptions options) {
  return random_tensor("rand", shape, options.dtype(floating_dtype("rand", options)),
                       Distribution::kUniform);
}

Tensor randn(const Shape& shape, TensorOptions options) {
  return random_tensor("randn", shape, options.dtype(floating_dtype("randn", options)),
                       Distribution::kNormal);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options) {
  GRAFT_CHECK(high > low, "randint(): expected low < high, got low = ", low, " and high = ", high,
              " (values are drawn from [low, high))");
  const DType dtype = options.dtype_or(kInt64);
  const auto [min, max] =
      visit_dtype(dtype, [](auto tag) { return exact_integer_range<decltype(tag)>(); });
  GRAFT_CHECK(low >= min && high - 1 <= max, "randint(): the range [", low, ", ", high,
              ") does not fit in ", dtype, ", which holds the integers from ", min, " to ", max,
              "; pass a wider dtype");
  return random_tensor("randint", shape, options.dtype(dtype), Distribution::kInteger, low, high);
}

}  // namespace graft
