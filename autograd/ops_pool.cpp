// Max, average and adaptive average pooling, and their backwards: checks, output shapes,
// and the calls into the pool kernels.
//
// A pool treats every (H, W) plane of a 3-D (C, H, W) or 4-D (N, C, H, W) input alike, so
// the kernels see one contiguous stack of planes and a PoolAxis per spatial dim
// (kernels/pool.h). A forward and its backward build their geometry from the same
// plan_pool(), the backward from the input's shape alone, so they cannot disagree on the
// windows. Output sizes follow PyTorch, ceil_mode included: a last window that would start
// inside the right padding is dropped.
#include <algorithm>
#include <string>
#include <tuple>

#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/kernels/pool.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;
using kernels::Pool2dArgs;
using kernels::PoolAxis;

namespace {

// What the user asked for: fixed windows, or adaptive ones (output_size given).
struct PoolOptions {
  IntPair kernel = 1;
  std::optional<IntPair> stride;
  IntPair padding = 0, dilation = 1;
  bool ceil_mode = false;
  std::optional<IntPair> adaptive_output;
  bool max = false;  // max pools allow dilation and a padding of half the dilated kernel
};

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// The output size along one dim, as PyTorch's pooling_output_shape.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                    bool ceil_mode) {
  const int64_t span = dilation * (kernel - 1) + 1;
  int64_t out = floor_div(in + 2 * pad - span + (ceil_mode ? stride - 1 : 0), stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// The kernel arguments (all but the data pointers) and the output shape of pooling an
// input of x_shape.
std::pair<Pool2dArgs, Shape> plan_pool(const char* op, const Shape& x_shape, const PoolOptions& o) {
  GRAFT_CHECK(x_shape.size() == 3 || x_shape.size() == 4, op,
              "(): expected a 3-D (unbatched C, H, W) or 4-D (batched N, C, H, W) input, but got "
              "input of shape ",
              x_shape);
  const int64_t nd = x_shape.size();
  for (int64_t d = nd - 3; d < nd; ++d)
    GRAFT_CHECK(x_shape[d] > 0, op,
                "(): expected an input with non-zero channels, height and "
                "width, but got input of shape ",
                x_shape);
  Pool2dArgs args;
  args.planes = x_shape.numel() / (x_shape[nd - 2] * x_shape[nd - 1]);
  PoolAxis* axes[2] = {&args.rows, &args.cols};
  const auto along = [](IntPair pair, int a) { return a == 0 ? pair.h : pair.w; };
  if (o.adaptive_output) {
    const IntPair size = *o.adaptive_output;
    GRAFT_CHECK(size.h > 0 && size.w > 0, op, "(): output_size must be positive, but got ", size);
    for (int a = 0; a < 2; ++a) {
      axes[a]->in = x_shape[nd - 2 + a];
      axes[a]->out = along(size, a);
      axes[a]->adaptive = true;
    }
  } else {
    const IntPair stride = o.stride.value_or(o.kernel);
    GRAFT_CHECK(o.kernel.h > 0 && o.kernel.w > 0, op,
                "(): kernel_size must be positive, but got kernel_size=", o.kernel);
    GRAFT_CHECK(stride.h > 0 && stride.w > 0, op,
                "(): stride must be positive, but got stride=", stride);
    GRAFT_CHECK(o.dilation.h > 0 && o.dilation.w > 0, op,
                "(): dilation must be positive, but got dilation=", o.dilation);
    // Only max pools take a dilation, so only their messages mention it.
    const std::string dilation = o.max ? detail::make_message(" and dilation=", o.dilation) : "";
    for (int a = 0; a < 2; ++a) {
      PoolAxis& axis = *axes[a];
      axis.in = x_shape[nd - 2 + a];
      axis.kernel = along(o.kernel, a);
      axis.stride = along(stride, a);
      axis.pad = along(o.padding, a);
      axis.dilation = along(o.dilation, a);
      const int64_t span = axis.dilation * (axis.kernel - 1) + 1;
      GRAFT_CHECK(axis.pad >= 0 && axis.pad <= span / 2, op,
                  "(): padding should be non-negative and at most half of the ",
                  o.max ? "dilated " : "", "kernel size, but got padding=", o.padding,
                  " for kernel_size=", o.kernel, dilation);
      axis.out =
          pooled_size(axis.in, axis.kernel, axis.stride, axis.pad, axis.dilation, o.ceil_mode);
    }
    GRAFT_CHECK(args.rows.out > 0 && args.cols.out > 0, op, "(): input of shape ", x_shape,
                " is smaller than the ", o.max ? "dilated " : "", "kernel (kernel_size=", o.kernel,
                dilation, ", padding=", o.padding, "): the output would be ",
                std::max<int64_t>(args.rows.out, 0), " x ", std::max<int64_t>(args.cols.out, 0),
                "; use a smaller kernel or more padding");
  }
  Shape out_shape = x_shape;
  out_shape[nd - 2] = args.rows.out;
  out_shape[nd - 1] = args.cols.out;
  return {args, out_shape};
}

void check_floating(const char* op, const char* name, const Tensor& t) {
  GRAFT_CHECK(is_floating_point(t.dtype()), op, "(): expected a floating-point ", name,
              ", but got ", name, " of dtype ", t.dtype(), " and shape ", t.shape(),
              "; convert it with .to(graft::kFloat32)");
}

using PoolRow = kernels::PerDevice<kernels::Pool2dFn>;

// Forward: the output of pooling x and, for a max pool, its indices.
std::tuple<Tensor, Tensor> pool_forward(const char* op, const PoolRow& row, const Tensor& x,
                                        const PoolOptions& o, bool count_include_pad) {
  check_floating(op, "input", x);
  auto [args, out_shape] = plan_pool(op, x.shape(), o);
  const Tensor input = x.contiguous();
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  Tensor out = empty(out_shape, options);
  Tensor indices = o.max ? empty(out_shape, TensorOptions(kInt64).device(x.device())) : Tensor();
  args.dtype = x.dtype();
  args.count_include_pad = count_include_pad;
  args.input = input.data_ptr();
  args.output = out.data_ptr();
  args.indices = o.max ? static_cast<int64_t*>(indices.data_ptr()) : nullptr;
  if (args.planes > 0) lookup(row, x.device(), op)(args);
  return {out, indices};
}

// grad_x (x_shape) from grad_out through the windows `args` describes.
Tensor pool_backward(const char* op, const PoolRow& row, const Tensor& grad_out,
                     const Shape& x_shape, const Shape& out_shape, Pool2dArgs args) {
  check_floating(op, "grad_out", grad_out);
  GRAFT_CHECK(grad_out.shape() == out_shape, op, "(): expected grad_out of shape ", out_shape,
              " (the pool's output for input of shape ", x_shape, "), but got grad_out of shape ",
              grad_out.shape());
  const Tensor dy = grad_out.contiguous();
  Tensor grad_x = empty(x_shape, TensorOptions(grad_out.dtype()).device(grad_out.device()));
  args.dtype = grad_out.dtype();
  args.input = dy.data_ptr();
  args.output = grad_x.data_ptr();
  if (args.planes > 0) lookup(row, grad_out.device(), op)(args);
  return grad_x;
}

PoolOptions max_options(IntPair kernel, std::optional<IntPair> stride, IntPair padding,
                        IntPair dilation, bool ceil_mode) {
  return {kernel, stride, padding, dilation, ceil_mode, std::nullopt, true};
}

PoolOptions avg_options(IntPair kernel, std::optional<IntPair> stride, IntPair padding,
                        bool ceil_mode) {
  return {kernel, stride, padding, 1, ceil_mode, std::nullopt, false};
}

PoolOptions adaptive_options(IntPair output_size) {
  PoolOptions o;
  o.adaptive_output = output_size;
  return o;
}

// The pool backwards run kernels that record nothing, so a create_graph backward (grad mode
// on inside backward) is refused rather than given silently wrong higher-order gradients.
void check_first_order(const char* op) {
  GRAFT_CHECK(!autograd::GradMode::is_enabled(), op,
              "(): double backward is not supported (its backward is not differentiable); "
              "call backward() without create_graph=true");
}

// max_pool2d_backward. The CPU kernel scatters through the indices, so the public op checks
// that they point into their plane (a pass over them for the minimum and one for the maximum,
// 2% of the CNN's step); indices that max_pool2d_with_indices made itself and autograd saved
// (which fails on any in-place change to them) are known to, and skip it. The CUDA kernel
// gathers: each input element visits the windows that hold it (the geometry `o` gives), so an
// index outside its own window is never matched there, as in PyTorch's CUDA kernel.
Tensor max_pool2d_backward_through(const Tensor& grad_out, const Shape& x_shape,
                                   const Tensor& indices, const PoolOptions& o,
                                   bool indices_from_forward) {
  constexpr const char* kOp = "max_pool2d_backward";
  ops::check_same_device(kOp, {&grad_out, &indices});
  auto [args, out_shape] = plan_pool(kOp, x_shape, o);
  GRAFT_CHECK(indices.dtype() == kInt64 && indices.shape() == grad_out.shape(), kOp,
              "(): expected int64 indices of grad_out's shape ", grad_out.shape(),
              " (as max_pool2d_with_indices returns them), but got ", indices.dtype(),
              " indices of shape ", indices.shape());
  const int64_t in_plane = args.rows.in * args.cols.in;
  const Tensor index = indices.contiguous();
  if (!indices_from_forward && index.is_cpu() && index.numel() > 0) {
    const int64_t lo = min(index).item<int64_t>(), hi = max(index).item<int64_t>();
    // -1 is the forward's index of a window that holds padding alone (kernels/pool.h), which
    // passes no gradient.
    GRAFT_CHECK(lo >= -1 && hi < in_plane, kOp, "(): indices must lie in [0, ", in_plane,
                ") (a flat h * W + w index into an input plane of ", args.rows.in, " x ",
                args.cols.in, ") or be -1 (a window of padding alone), but got indices from ", lo,
                " to ", hi);
  }
  args.indices = static_cast<int64_t*>(index.data_ptr());
  return pool_backward(kOp, kernel_table().max_pool2d_backward, grad_out, x_shape, out_shape, args);
}

}  // namespace

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, IntPair kernel,
                                                   std::optional<IntPair> stride, IntPair padding,
                                                   IntPair dilation, bool ceil_mode) {
  auto result = pool_forward("max_pool2d", kernel_table().max_pool2d, x,
                             max_options(kernel, stride, padding, dilation, ceil_mode), false);
  // Autograd: each output's gradient goes to the input element its index names.
  autograd::record(
      std::get<0>(result), "MaxPool2dBackward", {x},
      [x_shape = x.shape(), indices = autograd::save(std::get<1>(result)),
       options = max_options(kernel, stride, padding, dilation, ceil_mode)](const Tensor& g) {
        check_first_order("max_pool2d");
        return max_pool2d_backward_through(g, x_shape, indices.get(), options, true);
      });
  return result;
}

Tensor max_pool2d(const Tensor& x, IntPair kernel, std::optional<IntPair> stride, IntPair padding,
                  IntPair dilation, bool ceil_mode) {
  return std::get<0>(max_pool2d_with_indices(x, kernel, stride, padding, dilation, ceil_mode));
}

Tensor max_pool2d_backward(const Tensor& grad_out, const Shape& x_shape, const Tensor& indices,
                           IntPair kernel, std::optional<IntPair> stride, IntPair padding,
                           IntPair dilation, bool ceil_mode) {
  return max_pool2d_backward_through(grad_out, x_shape, indices,
                                     max_options(kernel, stride, padding, dilation, ceil_mode),
                                     /*indices_from_forward=*/false);
}

Tensor avg_pool2d(const Tensor& x, IntPair kernel, std::optional<IntPair> stride, IntPair padding,
                  bool ceil_mode, bool count_include_pad) {
  const Tensor out =
      std::get<0>(pool_forward("avg_pool2d", kernel_table().avg_pool2d, x,
                               avg_options(kernel, stride, padding, ceil_mode), count_include_pad));
  // Autograd: each output's gradient spreads evenly over its window.
  return autograd::record(out, "AvgPool2dBackward", {x},
                          [x_shape = x.shape(), kernel, stride, padding, ceil_mode,
                           count_include_pad](const Tensor& g) {
                            check_first_order("avg_pool2d");
                            return avg_pool2d_backward(g, x_shape, kernel, stride, padding,
                                                       ceil_mode, count_include_pad);
                          });
}

Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& x_shape, IntPair kernel,
                           std::optional<IntPair> stride, IntPair padding, bool ceil_mode,
                           bool count_include_pad) {
  constexpr const char* kOp = "avg_pool2d_backward";
  auto [args, out_shape] = plan_pool(kOp, x_shape, avg_options(kernel, stride, padding, ceil_mode));
  args.count_include_pad = count_include_pad;
  return pool_backward(kOp, kernel_table().avg_pool2d_backward, grad_out, x_shape, out_shape, args);
}

Tensor adaptive_avg_pool2d(const Tensor& x, IntPair output_size) {
  const Tensor out = std::get<0>(pool_forward("adaptive_avg_pool2d", kernel_table().avg_pool2d, x,
                                              adaptive_options(output_size), true));
  // Autograd: as avg_pool2d's, over the adaptive windows.
  return autograd::record(out, "AdaptiveAvgPool2dBackward", {x},
                          [x_shape = x.shape()](const Tensor& g) {
                            check_first_order("adaptive_avg_pool2d");
                            return adaptive_avg_pool2d_backward(g, x_shape);
                          });
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_out, const Shape& x_shape) {
  constexpr const char* kOp = "adaptive_avg_pool2d_backward";
  GRAFT_CHECK(grad_out.dim() >= 2, kOp,
              "(): expected a 3-D or 4-D grad_out, but got grad_out "
              "of shape ",
              grad_out.shape());
  const IntPair output_size(grad_out.shape()[grad_out.dim() - 2],
                            grad_out.shape()[grad_out.dim() - 1]);
  auto [args, out_shape] = plan_pool(kOp, x_shape, adaptive_options(output_size));
  return pool_backward(kOp, kernel_table().avg_pool2d_backward, grad_out, x_shape, out_shape, args);
}

}  // namespace graft
