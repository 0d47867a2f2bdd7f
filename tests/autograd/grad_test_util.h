// Helpers shared by the gradient tests (tests/autograd/*_grad_test.cpp): float64 leaves
// drawn from a range an op is smooth on, in every memory layout a gradient must not depend
// on. Each family's test is a table of rows (an op form and a lambda) crossed with these
// layouts; a row states only what is particular to its op.
#pragma once

#include <string>
#include <utility>

#include "test_util.h"

namespace graft::testing {

// Where an op's inputs are drawn from: away from its kinks and poles.
struct Range {
  double lo, hi;
};
inline constexpr Range kAny{-2, 2};
inline constexpr Range kPositive{0.5, 2};  // log, sqrt, divisors, pow bases

// How an input's elements lie in memory.
//   contiguous  row-major
//   transposed  the transpose of a contiguous tensor (last two dims swapped in memory)
//   sliced      every other element of a tensor twice as long in its last dim (a step-2
//               slice), so no dim has a unit stride
//   broadcast   a stride-0 expand along dim 0 of a tensor whose dim 0 is 1: its rows are
//               the same memory (and the same values)
//   zero_dim    a 0-d tensor, whatever shape was asked for
enum class Layout { contiguous, transposed, sliced, broadcast, zero_dim };
inline constexpr Layout kAllLayouts[] = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                         Layout::broadcast, Layout::zero_dim};

inline std::string layout_name(Layout layout) {
  switch (layout) {
    case Layout::contiguous:
      return "contiguous";
    case Layout::transposed:
      return "transposed";
    case Layout::sliced:
      return "sliced";
    case Layout::broadcast:
      return "broadcast";
    case Layout::zero_dim:
      return "zero_dim";
  }
  return "";
}

// A float64 leaf that requires grad, of `shape` laid out as `layout`, with values in
// `range` (`seed` picks which). A 1-D tensor has no transpose: it comes out sliced.
inline Tensor make_leaf(const Shape& shape, Layout layout, Range range = kAny, uint32_t seed = 1) {
  auto values = [&](const Shape& s) {
    return make_tensor(sample_values(s.numel(), range.lo, range.hi, seed), s);
  };
  if (layout == Layout::transposed && shape.size() < 2) layout = Layout::sliced;
  Tensor t;
  switch (layout) {
    case Layout::contiguous:
      t = values(shape);
      break;
    case Layout::transposed: {
      Shape swapped = shape;
      std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
      t = values(swapped).transpose(-2, -1);
      break;
    }
    case Layout::sliced: {
      Shape wide = shape;
      wide[wide.size() - 1] *= 2;
      t = values(wide).index({Ellipsis, Slice(None, None, 2)});
      break;
    }
    case Layout::broadcast: {
      Shape one_row = shape;
      one_row[0] = 1;
      t = values(one_row).expand(shape);
      break;
    }
    case Layout::zero_dim:
      t = values({});
      break;
  }
  return t.requires_grad_();
}

}  // namespace graft::testing
