// Reductions: sum, mean, prod, max, min, logsumexp, all, any, var, std, argmax, argmin.
//
// Each op wraps and checks its dims, works out the result's shape and dtype, and hands the
// kernel the input's dims split into kept and reduced ones (kernels/reduce.h), simplified
// here once for every backend: size-1 dims dropped, neighbours that are contiguous with
// each other merged, and, where the order of visiting does not matter, reduced dims sorted
// so the smallest stride is innermost (a transposed tensor then reduces in memory order).
// mean, std and logsumexp compose the kernels with elementwise ops. Dtypes follow PyTorch:
// sum/prod of integers and bools give int64, all/any give bool, argmax/argmin int64, and
// mean/var/std need a floating input while logsumexp promotes integers to float32.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "graft/autograd/op_utils.h"
#include "graft/kernels/reduce.h"

namespace graft {

using kernels::ReduceOp;

namespace {

using DimMask = std::array<bool, kMaxDims>;

// The dims of x that `dims` names (every dim when empty), each at most once.
DimMask reduced_mask(const char* op, const Tensor& x, const Dims& dims) {
  DimMask mask{};
  if (dims.empty()) {
    mask.fill(true);
    return mask;
  }
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, x.dim(), op);
    GRAFT_CHECK(!mask[w], op, "(): dim ", w, " appears multiple times in the list of dims");
    mask[w] = true;
  }
  return mask;
}

Shape reduced_shape(const Tensor& x, const DimMask& mask, bool keepdim) {
  Shape shape;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!mask[d])
      shape.push_back(x.shape()[d]);
    else if (keepdim)
      shape.push_back(1);
  }
  return shape;
}

int64_t reduced_numel(const Tensor& x, const DimMask& mask) {
  int64_t n = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (mask[d]) n *= x.shape()[d];
  return n;
}

// The dims of x with mask[d] == `reduced`, simplified as the file comment says. Stride-0
// (expanded) dims sort outermost, so the innermost run stays a real one.
kernels::ReduceDims collect_dims(const Tensor& x, const DimMask& mask, bool reduced, bool reorder) {
  std::array<int64_t, kMaxDims> order{};
  int n = 0;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (mask[d] == reduced && x.shape()[d] != 1) order[n++] = d;
  if (reorder) {
    auto key = [&](int64_t d) {
      const int64_t s = x.strides()[d];
      return s == 0 ? std::numeric_limits<int64_t>::max() : std::abs(s);
    };
    std::stable_sort(order.begin(), order.begin() + n,
                     [&](int64_t a, int64_t b) { return key(a) > key(b); });
  }
  kernels::ReduceDims dims;
  for (int i = 0; i < n; ++i) {
    const int64_t size = x.shape()[order[i]], stride = x.strides()[order[i]];
    const int last = dims.ndim - 1;
    if (last >= 0 && dims.strides[last] == stride * size) {
      dims.sizes[last] *= size;
      dims.strides[last] = stride;
    } else {
      dims.sizes[dims.ndim] = size;
      dims.strides[dims.ndim++] = stride;
    }
  }
  return dims;
}

// max/min/argmax/argmin have no identity, so reducing over no elements is an error (unless
// there are no outputs either), with PyTorch's wording.
void check_has_elements(const char* op, const Tensor& x, const DimMask& mask, bool all_dims) {
  if (reduced_numel(x, mask) != 0 || reduced_shape(x, mask, false).numel() == 0) return;
  GRAFT_CHECK(!all_dims, op,
              "(): Expected reduction dim to be specified for input.numel() == 0 (input of shape ",
              x.shape(),
              "): the operation does not have an identity. Specify a dim of non-zero "
              "size to reduce over");
  for (int64_t d = 0; d < x.dim(); ++d)
    GRAFT_CHECK(!mask[d] || x.shape()[d] != 0, op, "(): Expected reduction dim ", d,
                " to have non-zero size (input of shape ", x.shape(),
                "): the operation does not have an identity");
}

// Allocates the result and runs the kernel of `op` over the dims in `mask`.
Tensor reduce(ReduceOp op, const Tensor& x, const DimMask& mask, bool keepdim, DType out_dtype,
              int64_t correction = 1) {
  const char* name = kernels::op_name(op);
  Tensor out = empty(reduced_shape(x, mask, keepdim), TensorOptions(out_dtype).device(x.device()));
  if (out.numel() == 0) return out;
  const bool indexed = op == ReduceOp::argmax || op == ReduceOp::argmin;
  kernels::ReduceArgs args;
  args.in = x.data_ptr();
  args.in_dtype = x.dtype();
  args.out = out.data_ptr();
  args.out_dtype = out_dtype;
  args.kept = collect_dims(x, mask, false, false);
  args.reduced = collect_dims(x, mask, true, !indexed);
  args.correction = correction;
  kernels::lookup(kernels::kernel_table().reduce[static_cast<int>(op)], x.device(), name)(args);
  return out;
}

void check_floating(const char* op, DType dtype) {
  GRAFT_CHECK(is_floating_point(dtype), op,
              "(): could not infer output dtype. Input dtype must be a floating point dtype, "
              "but got ",
              dtype, "; convert the input first, e.g. x.to(graft::kFloat32)");
}

DType sum_dtype(DType dtype) { return is_floating_point(dtype) ? dtype : kInt64; }

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  autograd::check_no_backward_yet("sum", {&x});
  return reduce(ReduceOp::sum, x, reduced_mask("sum", x, dims), keepdim, sum_dtype(x.dtype()));
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  autograd::check_no_backward_yet("prod", {&x});
  return reduce(ReduceOp::prod, x, reduced_mask("prod", x, dims), keepdim, sum_dtype(x.dtype()));
}

// The mean of no elements is 0 / 0 = NaN, as in PyTorch.
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  autograd::check_no_backward_yet("mean", {&x});
  check_floating("mean", x.dtype());
  const DimMask mask = reduced_mask("mean", x, dims);
  return div(reduce(ReduceOp::sum, x, mask, keepdim, x.dtype()),
             static_cast<double>(reduced_numel(x, mask)));
}

Tensor max(const Tensor& x, const Dims& dims, bool keepdim) {
  autograd::check_no_backward_yet("max", {&x});
  const DimMask mask = reduced_mask("max", x, dims);
  check_has_elements("max", x, mask, dims.empty());
  return reduce(ReduceOp::max, x, mask, keepdim, x.dtype());
}

Tensor min(const Tensor& x, const Dims& dims, bool keepdim) {
  autograd::check_no_backward_yet("min", {&x});
  const DimMask mask = reduced_mask("min", x, dims);
  check_has_elements("min", x, mask, dims.empty());
  return reduce(ReduceOp::min, x, mask, keepdim, x.dtype());
}

// log(sum(exp(x - m))) + m with m the max of each slice, so nothing overflows; an infinite
// m is replaced by 0 so that all -inf gives -inf and a +inf gives +inf rather than NaN.
// Over no elements it is log(0) = -inf, as PyTorch.
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  autograd::check_no_backward_yet("logsumexp", {&x});
  const Tensor xf = is_floating_point(x.dtype()) ? x : x.to(kDefaultFloat);
  const DimMask mask = reduced_mask("logsumexp", xf, dims);
  if (reduced_numel(xf, mask) == 0) return log(sum(exp(xf), dims, keepdim));
  const Tensor m = max(xf, dims, true);
  const Tensor shift = masked_fill(m, abs(m) == std::numeric_limits<double>::infinity(), 0);
  const Tensor lse = log(sum(exp(xf - shift), dims, keepdim));
  return lse + shift.reshape(lse.shape());
}

Tensor all(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce(ReduceOp::all, x, reduced_mask("all", x, dims), keepdim, kBool);
}

Tensor any(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce(ReduceOp::any, x, reduced_mask("any", x, dims), keepdim, kBool);
}

// Bessel's correction by default; count <= correction gives NaN.
Tensor var(const Tensor& x, const Dims& dims, bool keepdim, int64_t correction) {
  autograd::check_no_backward_yet("var", {&x});
  check_floating("var", x.dtype());
  return reduce(ReduceOp::var, x, reduced_mask("var", x, dims), keepdim, x.dtype(), correction);
}

Tensor std(const Tensor& x, const Dims& dims, bool keepdim, int64_t correction) {
  autograd::check_no_backward_yet("std", {&x});
  check_floating("std", x.dtype());
  return sqrt(var(x, dims, keepdim, correction));
}

namespace {
Tensor arg_extreme(ReduceOp op, const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  const char* name = kernels::op_name(op);
  const DimMask mask = reduced_mask(name, x, dim ? Dims{*dim} : Dims{});
  check_has_elements(name, x, mask, !dim);
  return reduce(op, x, mask, keepdim, kInt64);
}
}  // namespace

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(ReduceOp::argmax, x, dim, keepdim);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(ReduceOp::argmin, x, dim, keepdim);
}

}  // namespace graft
