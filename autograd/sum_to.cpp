// sum_to / expand_to; see sum_to.h.
#include "graft/autograd/sum_to.h"

#include "graft/autograd/ops.h"
#include "graft/autograd/record.h"

namespace graft::autograd {

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const int64_t lead = to.size() - from.size();
  for (int64_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  return true;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  GRAFT_CHECK(broadcasts_to(shape, x.shape()), "sum_to(): shape ", shape,
              " does not broadcast to the gradient's shape ", x.shape());
  Tensor out;
  {
    NoGradGuard no_grad;
    // The leading dims broadcasting added, then the dims that were 1 in `shape`.
    const int64_t lead = x.dim() - shape.size();
    Dims dims;
    for (int64_t d = 0; d < x.dim(); ++d)
      if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) dims.push_back(d);
    out = sum(x, dims, /*keepdim=*/true).reshape(shape);
  }
  return record(out, "SumToBackward", {x},
                [in = x.shape()](const Tensor& g) { return expand_to(g, in); });
}

Tensor expand_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x.expand(shape);
  }
  return record(out, "ExpandBackward", {x},
                [in = x.shape()](const Tensor& g) { return sum_to(g, in); });
}

}  // namespace graft::autograd
