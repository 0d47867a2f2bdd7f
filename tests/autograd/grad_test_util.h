// Helpers shared by the gradient tests of views and whole models (tests/autograd/): float64
// leaves drawn from a range an op is smooth on, in every memory layout a gradient must not
// depend on (the layouts and ranges of the op registry, tests/ops/op_info.h, whose rows
// check every op's gradients).
#pragma once

#include <string>
#include <utility>

#include "ops/op_info.h"
#include "test_util.h"

namespace graft::testing {

// The layouts a gradient must not depend on (an empty input has no gradient to check).
inline constexpr Layout kGradLayouts[] = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                          Layout::broadcast, Layout::zero_dim};

// A float64 leaf that requires grad, of `shape` laid out as `layout`, with values in
// `range` (`seed` picks which). A 1-D tensor has no transpose: it comes out sliced.
inline Tensor make_leaf(const Shape& shape, Layout layout, Range range = kAny, uint32_t seed = 1) {
  return make_input(shape, layout, range, seed, kFloat64).requires_grad_();
}

}  // namespace graft::testing
