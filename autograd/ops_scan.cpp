// Scans: cumsum and cumprod along one dim.
//
// The op layer hands the kernel (kernels/scan.h) the input as it lies in memory: no copy
// unless the dtype changes (integers and bool accumulate in int64 and return it, as
// PyTorch), a contiguous output, and the other dims as a list of lines. A reverse scan,
// which cumsum's gradient needs, is the same kernel over a flipped view of both tensors.
// A 0-d tensor scans as a line of one.
//
// Backward, written in graft ops so that it differentiates again:
//   cumsum:  dx = the reverse cumsum of g (each x_k reaches every y_j with j >= k), and a
//            reverse cumsum's gradient is the forward cumsum;
//   cumprod: dx_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i. The usual
//            reverse_cumsum(g * y) / x divides by zero where x has zeros; cumprod_backward
//            (Note [cumprod backward with zeros]) gets them right.
#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/kernels/scan.h"

namespace graft {

using kernels::ScanOp;

namespace {

Tensor at_least_1d(const Tensor& t) { return t.dim() == 0 ? t.view({1}) : t; }

// Every dim of `in` but `dim` as lines of the kernel: size-1 dims dropped, and a dim merged
// into the one before it when both tensors step over the pair as over one dim.
kernels::ScanLines scan_lines(const Tensor& in, const Tensor& out, int64_t dim) {
  kernels::ScanLines lines;
  for (int64_t d = 0; d < in.dim(); ++d) {
    const int64_t size = in.size(d), in_stride = in.stride(d), out_stride = out.stride(d);
    if (d == dim || size == 1) continue;
    const int last = lines.ndim - 1;
    if (last >= 0 && lines.in_strides[last] == in_stride * size &&
        lines.out_strides[last] == out_stride * size) {
      lines.sizes[last] *= size;
      lines.in_strides[last] = in_stride;
      lines.out_strides[last] = out_stride;
    } else {
      lines.sizes[lines.ndim] = size;
      lines.in_strides[lines.ndim] = in_stride;
      lines.out_strides[lines.ndim++] = out_stride;
    }
  }
  return lines;
}

// The inclusive scan of x along `dim`, from the last element to the first when `reverse`.
// Records nothing: cumsum and cumprod record their own nodes.
Tensor scan(const char* op, ScanOp kind, const Tensor& x, int64_t dim, bool reverse) {
  dim = wrap_dim(dim, x.dim(), op);
  const DType dtype = is_floating_point(x.dtype()) ? x.dtype() : kInt64;
  Tensor out = empty(x.shape(), TensorOptions(dtype).device(x.device()));
  if (out.numel() == 0) return out;
  autograd::NoGradGuard no_grad;  // the conversion belongs to this op
  const Tensor in = at_least_1d(x.to(dtype)), flat_out = at_least_1d(out);
  kernels::ScanArgs args;
  args.op = kind;
  args.dtype = dtype;
  args.n = in.size(dim);
  args.in_step = in.stride(dim);
  args.out_step = flat_out.stride(dim);
  args.lines = scan_lines(in, flat_out, dim);
  const int64_t last_in = reverse ? (args.n - 1) * args.in_step : 0;
  const int64_t last_out = reverse ? (args.n - 1) * args.out_step : 0;
  args.in = static_cast<const char*>(in.data_ptr()) + last_in * element_size(dtype);
  args.out = static_cast<char*>(flat_out.data_ptr()) + last_out * element_size(dtype);
  if (reverse) {
    args.in_step = -args.in_step;
    args.out_step = -args.out_step;
  }
  kernels::lookup(kernels::kernel_table().scan, x.device(), op)(args);
  return out;
}

// cumsum forwards, or from the end (`reverse`): each direction's gradient is the other.
Tensor directed_cumsum(const Tensor& x, int64_t dim, bool reverse) {
  const Tensor out = scan("cumsum", ScanOp::sum, x, dim, reverse);
  return autograd::record(out, "CumsumBackward", {x}, [dim, reverse](const Tensor& g) {
    return directed_cumsum(g, dim, !reverse);
  });
}

Tensor reverse_cumsum(const Tensor& x, int64_t dim) { return directed_cumsum(x, dim, true); }

// Note [cumprod backward with zeros]
// dx_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i. Let z1 < z2 be the first two zeros of
// a line. Every product with j >= k > z1 holds x_z1 = 0, so dx_k = 0 past z1. For k < z1,
// terms with j >= z1 vanish, and the rest, products of non-zeros, are y_j / x_k; for
// k = z1, the terms with z1 <= j < z2 survive, each the product of the non-zeros up to j.
// With x' = x with zeros replaced by ones and y' = cumprod(x'), both cases are
//   dx_k = (sum of g_j y'_j over j >= k in the same zero-free segment as k) / x'_k,
// two reverse cumsums (one per segment: before z1, and from z1 to z2), as PyTorch's
// cumprod_backward computes them. The masks are constant pieces, so this is differentiable
// where x has no zeros; at a zero its own derivative misses the terms through x_z1, so with
// create_graph and a zero in x the sum is written out instead, n^2 products per line (as
// PyTorch also falls back to a quadratic formula there).

// The O(n) formula of the note: exact first derivatives with or without zeros.
Tensor cumprod_backward_by_segments(const Tensor& g, const Tensor& x, int64_t dim) {
  const Tensor is_zero = x == 0;
  const Tensor zeros_so_far = cumsum(is_zero, dim);  // int64: zeros up to and including k
  const Tensor before_first = zeros_so_far == 0, first_segment = zeros_so_far == 1;
  const Tensor first_zero = where(is_zero, zeros_so_far, 0) == 1;
  const Tensor safe_x = where(is_zero, 1.0, x);
  const Tensor w = g * cumprod(safe_x, dim);
  const Tensor before = reverse_cumsum(where(before_first, w, 0.0), dim);
  const Tensor from_first = reverse_cumsum(where(first_segment, w, 0.0), dim);
  return where(before_first, before, where(first_zero, from_first, 0.0)) / safe_x;
}

// The sum of the note written out: products[..., k, j] = prod_{i <= j, i != k} x_i (the
// cumprod of x with x_k replaced by 1), weighted by g_j for j >= k (triu) and summed over j.
// Right at zeros to every order; (n, n) per line of n.
Tensor cumprod_backward_quadratic(const Tensor& g, const Tensor& x, int64_t dim) {
  const int64_t n = x.size(dim);
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  const Tensor diagonal = eye(n, options) == 1;                   // (n, n): i == k
  const Tensor xs = x.transpose(dim, -1).unsqueeze(-2);           // (..., 1, n): x_i
  const Tensor products = cumprod(where(diagonal, 1.0, xs), -1);  // (..., n, n): [k, j]
  const Tensor weights = g.transpose(dim, -1).unsqueeze(-2) * triu(ones({n, n}, options));
  return sum(products * weights, {-1}).transpose(dim, -1);
}

Tensor cumprod_backward(const Tensor& g, const Tensor& x, int64_t dim) {
  if (x.dim() == 0 || x.size(dim) <= 1 || x.numel() == 0) return g;  // y = x
  if (autograd::GradMode::is_enabled() && any(x == 0).item<bool>())
    return cumprod_backward_quadratic(g, x, dim);
  return cumprod_backward_by_segments(g, x, dim);
}

}  // namespace

Tensor cumsum(const Tensor& x_in, int64_t dim) {
  const Tensor x = autocast::to_float32(x_in);
  return directed_cumsum(x, dim, false);
}

Tensor cumprod(const Tensor& x_in, int64_t dim) {
  const Tensor x = autocast::to_float32(x_in);
  const Tensor out = scan("cumprod", ScanOp::prod, x, dim, false);
  return autograd::record(out, "CumprodBackward", {x},
                          [sx = autograd::save(x), dim = wrap_dim(dim, x.dim(), "cumprod")](
                              const Tensor& g) { return cumprod_backward(g, sx.get(), dim); });
}

}  // namespace graft
