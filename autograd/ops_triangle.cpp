// tril and triu: the lower or upper triangle of each matrix in the last two dims.
//
// A composition, no kernel of its own: a (rows, cols) mask of column - row offsets from two
// aranges, broadcast over the leading (batch) dims by masked_fill, which keeps the dtype
// (integers and bool too) and whose backward applies the same mask to the gradient. So it
// runs on every device that has arange and where, and differentiates to any order.
#include "graft/autograd/op_utils.h"

namespace graft {
namespace {

// Zeros where column - row lies outside the triangle: above `diagonal` for the lower one,
// below it for the upper one.
Tensor triangle(const char* op, const Tensor& x, int64_t diagonal, bool lower) {
  GRAFT_CHECK(x.dim() >= 2, op, "(): input tensor must have at least 2 dimensions, got shape ",
              x.shape(), "; unsqueeze a vector into a (1, n) or (n, 1) matrix first");
  const TensorOptions options = TensorOptions(kInt64).device(x.device());
  const Tensor offset =  // (rows, cols): column - row
      arange(x.size(-1), options).unsqueeze(0) - arange(x.size(-2), options).unsqueeze(1);
  return masked_fill(x, lower ? offset > diagonal : offset < diagonal, 0);
}

}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle("tril", x, diagonal, true); }

Tensor triu(const Tensor& x, int64_t diagonal) { return triangle("triu", x, diagonal, false); }

}  // namespace graft
