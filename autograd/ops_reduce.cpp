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
//
// Backward: each differentiable reduction records one node whose formula puts the reduced
// dims back as size 1 (Reduction::keep) and broadcasts against the input; prod divides by
// nothing (products_of_others), max/min split the gradient among ties. all, any, argmax and
// argmin give bool or int64 results, which never require grad.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/autograd/sum_to.h"
#include "graft/core/op_context.h"
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

// Allocates the result and runs the kernel of `op` over the dims in `mask`; `args` brings
// an op's own parameter (var's correction, norm's p), the rest is filled in here.
Tensor reduce(ReduceOp op, const Tensor& x, const DimMask& mask, bool keepdim, DType out_dtype,
              kernels::ReduceArgs args = {}) {
  const char* name = kernels::op_name(op);
  const OpContext context(name);
  Tensor out = empty(reduced_shape(x, mask, keepdim), TensorOptions(out_dtype).device(x.device()));
  if (out.numel() == 0) return out;
  const bool indexed = op == ReduceOp::argmax || op == ReduceOp::argmin;
  args.in = x.data_ptr();
  args.in_dtype = x.dtype();
  args.out = out.data_ptr();
  args.out_dtype = out_dtype;
  args.kept = collect_dims(x, mask, false, false);
  args.reduced = collect_dims(x, mask, true, !indexed);
  kernels::lookup(kernels::kernel_table().reduce[static_cast<int>(op)], x.device(), name)(args);
  return out;
}

// The parameter blocks of var and norm, for reduce().
kernels::ReduceArgs var_args(int64_t correction) {
  kernels::ReduceArgs args;
  args.correction = correction;
  return args;
}
kernels::ReduceArgs norm_args(double p, bool root) {
  kernels::ReduceArgs args;
  args.p = p;
  args.root = root;
  return args;
}

void check_floating(const char* op, DType dtype) {
  GRAFT_CHECK(is_floating_point(dtype), op,
              "(): could not infer output dtype. Input dtype must be a floating point dtype, "
              "but got ",
              dtype, "; convert the input first, e.g. x.to(graft::kFloat32)");
}

DType sum_dtype(DType dtype) { return is_floating_point(dtype) ? dtype : kInt64; }

// ---- backward

// What a reduction's backward knows of its forward: the input's shape, the reduced dims
// and the result's shape with those dims kept as size 1.
struct Reduction {
  Reduction(const Tensor& x, const DimMask& mask)
      : input(x.shape()), kept(reduced_shape(x, mask, true)), count(reduced_numel(x, mask)) {
    for (int64_t d = 0; d < x.dim(); ++d)
      if (mask[d]) dims.push_back(d);
  }
  // `t`, shaped like the result (the gradient or the output), with the reduced dims back as
  // size 1, so that it broadcasts against the input.
  Tensor keep(const Tensor& t) const { return t.reshape(kept); }
  // ... and broadcast to the input's shape.
  Tensor expand(const Tensor& t) const { return autograd::expand_to(keep(t), input); }

  Shape input, kept;
  Dims dims;
  int64_t count;
};

// `t` with its elements moved k places along the last dim, towards the end (or, reversed,
// towards the front), the vacated places filled with ones.
Tensor shift_in_ones(const Tensor& t, int64_t k, bool reverse) {
  const int64_t last = t.dim() - 1, n = t.shape()[last];
  if (k >= n) return ones_like(t);
  Shape pad = t.shape();
  pad[last] = k;
  const Tensor ones_pad = ones(pad, TensorOptions(t.dtype()).device(t.device()));
  return reverse ? cat({t.narrow(last, k, n - k), ones_pad}, last)
                 : cat({ones_pad, t.narrow(last, 0, n - k)}, last);
}

// out[i] = the product of t[j] for every j before i along the last dim (after i, reversed):
// a scan that doubles its reach each step, log2(n) multiplications of shifted copies.
Tensor exclusive_cumprod(const Tensor& t, bool reverse) {
  Tensor acc = shift_in_ones(t, 1, reverse);
  for (int64_t k = 1; k < t.shape()[t.dim() - 1]; k *= 2)
    acc = acc * shift_in_ones(acc, k, reverse);
  return acc;
}

// For every element of x, the product of the other elements of its reduced slice, which is
// d prod / d x_i: the product before it times the product after it (PyTorch's
// prod_safe_zeros_backward). No division by x, so zeros need no special case, and the
// formula is made of differentiable ops, so second derivatives are right with zeros too.
Tensor products_of_others(const Tensor& x, const Reduction& r) {
  // Permuted to (kept dims..., reduced dims...), then flattened to (kept dims..., count):
  // one slice per row.
  Dims order, inverse = Dims::filled(x.dim(), 0);
  Shape rows;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (std::find(r.dims.begin(), r.dims.end(), d) == r.dims.end()) {
      order.push_back(d);
      rows.push_back(x.shape()[d]);
    }
  for (int64_t d : r.dims) order.push_back(d);
  rows.push_back(r.count);
  for (int64_t i = 0; i < x.dim(); ++i) inverse[order[i]] = i;
  const Tensor moved = x.permute(order);
  const Tensor slices = moved.reshape(rows);
  const Tensor others = exclusive_cumprod(slices, false) * exclusive_cumprod(slices, true);
  return others.reshape(moved.shape()).permute(inverse);
}

// The gradient of var for a gradient `g` shaped like Reduction::kept:
// d var / d x_i = 2 (x_i - mean) / (count - correction).
Tensor var_grad(const Tensor& g, const Tensor& x, const Reduction& r, int64_t correction) {
  return g * (x - mean(x, r.dims, true)) * (2.0 / static_cast<double>(r.count - correction));
}

// max and min send the gradient to the elements equal to the result, split evenly among
// ties (as torch.amax / amin).
Tensor extreme_grad(const Tensor& g, const Tensor& x, const Tensor& out, const Reduction& r) {
  const Tensor winners = (x == r.keep(out.detach())).to(x.dtype());
  return r.keep(g) * (winners / sum(winners, r.dims, true));
}

}  // namespace

Tensor sum(const Tensor& x_in, const Dims& dims, bool keepdim) {
  const Tensor x = autocast::to_float32(x_in);
  const DimMask mask = reduced_mask("sum", x, dims);
  const Tensor out = reduce(ReduceOp::sum, x, mask, keepdim, sum_dtype(x.dtype()));
  return autograd::record(out, "SumBackward", {x},
                          [r = Reduction(x, mask)](const Tensor& g) { return r.expand(g); });
}

Tensor prod(const Tensor& x_in, const Dims& dims, bool keepdim) {
  const Tensor x = autocast::to_float32(x_in);
  const DimMask mask = reduced_mask("prod", x, dims);
  const Tensor out = reduce(ReduceOp::prod, x, mask, keepdim, sum_dtype(x.dtype()));
  return autograd::record(out, "ProdBackward", {x},
                          [r = Reduction(x, mask), sx = autograd::save(x)](const Tensor& g) {
                            return r.keep(g) * products_of_others(sx.get(), r);
                          });
}

// The mean of no elements is 0 / 0 = NaN, as in PyTorch.
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  check_floating("mean", x.dtype());
  const DimMask mask = reduced_mask("mean", x, dims);
  const auto count = static_cast<double>(reduced_numel(x, mask));
  // A 16-bit mean sums and divides in float32, as PyTorch's does: the sum of many float16
  // values passes 65504, and the count itself need not be a 16-bit number (4097 is not).
  const Tensor total = ops::computes_in_float32(x)
                           ? reduce(ReduceOp::sum, ops::widened(x), mask, keepdim, kFloat32)
                           : reduce(ReduceOp::sum, x, mask, keepdim, x.dtype());
  const Tensor out = ops::narrowed(div(total, count), x.dtype());
  return autograd::record(
      out, "MeanBackward", {x},
      [r = Reduction(x, mask), count](const Tensor& g) { return r.expand(g / count); });
}

Tensor max(const Tensor& x, const Dims& dims, bool keepdim) {
  const DimMask mask = reduced_mask("max", x, dims);
  check_has_elements("max", x, mask, dims.empty());
  const Tensor out = reduce(ReduceOp::max, x, mask, keepdim, x.dtype());
  return autograd::record(
      out, "MaxBackward", {x},
      [r = Reduction(x, mask), sx = autograd::save(x)](const Tensor& g, const Tensor& y) {
        return extreme_grad(g, sx.get(), y, r);
      });
}

Tensor min(const Tensor& x, const Dims& dims, bool keepdim) {
  const DimMask mask = reduced_mask("min", x, dims);
  check_has_elements("min", x, mask, dims.empty());
  const Tensor out = reduce(ReduceOp::min, x, mask, keepdim, x.dtype());
  return autograd::record(
      out, "MinBackward", {x},
      [r = Reduction(x, mask), sx = autograd::save(x)](const Tensor& g, const Tensor& y) {
        return extreme_grad(g, sx.get(), y, r);
      });
}

// log(sum(exp(x - m))) + m with m the max of each slice, so nothing overflows; an infinite
// m is replaced by 0 so that all -inf gives -inf and a +inf gives +inf rather than NaN.
// Over no elements it is log(0) = -inf, as PyTorch. d lse / d x_i = exp(x_i - lse), the
// softmax of the slice.
Tensor logsumexp(const Tensor& x_in, const Dims& dims, bool keepdim) {
  const Tensor x = autocast::to_float32(x_in);
  const Tensor xf = is_floating_point(x.dtype()) ? x : x.to(get_default_dtype());
  const DimMask mask = reduced_mask("logsumexp", xf, dims);
  Tensor out;
  {
    autograd::NoGradGuard no_grad;  // the steps below are one op with one backward
    // In float32 for 16-bit input, as PyTorch: a float16 sum of more than 65504 exps of
    // at most 1 would be inf.
    const Tensor wide = ops::widened(xf);
    if (reduced_numel(wide, mask) == 0) {
      out = log(sum(exp(wide), dims, keepdim));
    } else {
      const Tensor m = max(wide, dims, true);
      const Tensor shift = masked_fill(m, abs(m) == std::numeric_limits<double>::infinity(), 0);
      const Tensor lse = log(sum(exp(wide - shift), dims, keepdim));
      out = lse + shift.reshape(lse.shape());
    }
    out = ops::narrowed(out, xf.dtype());
  }
  return autograd::record(
      out, "LogsumexpBackward", {x},
      [r = Reduction(xf, mask), sx = autograd::save(x)](const Tensor& g, const Tensor& y) {
        return r.keep(g) * exp(sx.get() - r.keep(y));
      });
}

Tensor all(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce(ReduceOp::all, x, reduced_mask("all", x, dims), keepdim, kBool);
}

Tensor any(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce(ReduceOp::any, x, reduced_mask("any", x, dims), keepdim, kBool);
}

// Bessel's correction by default; count <= correction gives NaN.
Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  check_floating("var", x.dtype());
  const DimMask mask = reduced_mask("var", x, dims);
  const Tensor out = reduce(ReduceOp::var, x, mask, keepdim, x.dtype(), var_args(correction));
  return autograd::record(
      out, "VarBackward", {x},
      [r = Reduction(x, mask), sx = autograd::save(x), correction](const Tensor& g) {
        return var_grad(r.keep(g), sx.get(), r, correction);
      });
}

// d std = d var / (2 std); a slice of equal values (std 0) gets a zero gradient, as in
// PyTorch, computed on a safe divisor so no inf or NaN reaches a second derivative.
Tensor std(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  check_floating("std", x.dtype());
  const DimMask mask = reduced_mask("std", x, dims);
  const Tensor out = sqrt(reduce(ReduceOp::var, x, mask, keepdim, x.dtype(), var_args(correction)));
  return autograd::record(out, "StdBackward", {x},
                          [r = Reduction(x, mask), sx = autograd::save(x), correction](
                              const Tensor& g, const Tensor& y) {
                            const Tensor s = r.keep(y), zero = s == 0;
                            const Tensor g_var =
                                where(zero, 0.0, r.keep(g) / (2 * where(zero, 1.0, s)));
                            return var_grad(g_var, sx.get(), r, correction);
                          });
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

Tensor ops::norm_reduction(const Tensor& x, double p, const Dims& dims, bool root) {
  return reduce(ReduceOp::norm, x, reduced_mask("norm", x, dims), true, x.dtype(),
                norm_args(p, root));
}

}  // namespace graft
