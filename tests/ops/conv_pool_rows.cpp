// Registry rows of conv2d and the pools, on small NCHW images (gradcheck builds the whole
// Jacobian). References: the naive loops of tests/kernels/naive_conv_pool.h. The layouts
// are those of images: transposed swaps H and W in memory, broadcast repeats one image
// along the batch, empty has no images; a 0-d tensor is no image.
#include "kernels/naive_conv_pool.h"
#include "op_info.h"

namespace graft::testing {
namespace {

const std::vector<Layout> kImageLayouts = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                           Layout::broadcast, Layout::empty};

OpInfo image_row(std::string name, std::string op, std::vector<InputSpec> inputs,
                 std::function<TensorList(const TensorList&)> call, Reference reference) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = std::move(inputs);
  row.call = std::move(call);
  row.reference = std::move(reference);
  row.layouts = kImageLayouts;
  row.integers = Integers::refuse;
  row.double_backward = false;
  return row;
}

// A (C, H, W) image is one batch of one: the references work on (N, C, H, W).
Shape batched(const Shape& s) { return s.size() == 3 ? Shape{1, s[0], s[1], s[2]} : s; }
Shape out_shape(const Shape& in, int64_t c, int64_t h, int64_t w) {
  Shape s = in;
  s[s.size() - 3] = c;
  s[s.size() - 2] = h;
  s[s.size() - 1] = w;
  return s;
}

struct Conv {
  IntPair stride = 1, padding = 0, dilation = 1;
  int64_t groups = 1;
};

OpInfo conv_row(std::string name, Shape x, Shape w, bool bias, Conv c) {
  std::vector<InputSpec> inputs = {{x}, {w, Range{-1, 1}}};
  if (bias) inputs.push_back({{w[0]}, Range{-1, 1}});
  return image_row(
      std::move(name), "conv2d", inputs,
      [c](const TensorList& in) {
        return TensorList{conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), c.stride,
                                 c.padding, c.dilation, c.groups)};
      },
      [c](const std::vector<RefTensor>& in) {
        const Shape xs = batched(in[0].shape), ws = in[1].shape;
        const int64_t oh = window_out_size(xs[2], ws[2], c.stride.h, c.padding.h, c.dilation.h);
        const int64_t ow = window_out_size(xs[3], ws[3], c.stride.w, c.padding.w, c.dilation.w);
        return std::vector<RefTensor>{
            {out_shape(in[0].shape, ws[0], oh, ow),
             naive_conv2d(xs, ws, c.stride, c.padding, c.dilation, c.groups, in[0].values,
                          in[1].values, in.size() > 2 ? in[2].values : std::vector<double>{})}};
      });
}

struct Pool {
  IntPair kernel;
  std::optional<IntPair> stride = std::nullopt;
  IntPair padding = 0, dilation = 1;
  bool ceil_mode = false;
};

IntPair pool_out(const Shape& s, const Pool& p) {
  const IntPair stride = p.stride.value_or(p.kernel);
  return {window_out_size(s[s.size() - 2], p.kernel.h, stride.h, p.padding.h, p.dilation.h,
                          p.ceil_mode),
          window_out_size(s[s.size() - 1], p.kernel.w, stride.w, p.padding.w, p.dilation.w,
                          p.ceil_mode)};
}

// Max pooling: `with_indices` adds the index output (max_pool2d_with_indices).
OpInfo max_pool_row(std::string name, Shape x, Pool p, bool with_indices) {
  return image_row(
      std::move(name), with_indices ? "max_pool2d_with_indices" : "max_pool2d", {{x}},
      [p, with_indices](const TensorList& in) {
        if (!with_indices)
          return TensorList{
              max_pool2d(in[0], p.kernel, p.stride, p.padding, p.dilation, p.ceil_mode)};
        auto [values, indices] =
            max_pool2d_with_indices(in[0], p.kernel, p.stride, p.padding, p.dilation, p.ceil_mode);
        return TensorList{values, indices};
      },
      [p, with_indices](const std::vector<RefTensor>& in) {
        const Shape& s = in[0].shape;
        const IntPair out = pool_out(s, p);
        std::vector<double> values;
        std::vector<int64_t> indices;
        naive_max_pool(s, p.kernel, p.stride.value_or(p.kernel), p.padding, p.dilation, out,
                       in[0].values, values, indices);
        const Shape shape = out_shape(s, s[s.size() - 3], out.h, out.w);
        std::vector<RefTensor> result = {{shape, values}};
        if (with_indices) result.push_back({shape, {indices.begin(), indices.end()}});
        return result;
      });
}

OpInfo avg_pool_row(std::string name, Shape x, Pool p, bool count_include_pad) {
  return image_row(
      std::move(name), "avg_pool2d", {{x}},
      [p, count_include_pad](const TensorList& in) {
        return TensorList{
            avg_pool2d(in[0], p.kernel, p.stride, p.padding, p.ceil_mode, count_include_pad)};
      },
      [p, count_include_pad](const std::vector<RefTensor>& in) {
        const Shape& s = in[0].shape;
        const IntPair out = pool_out(s, p);
        return std::vector<RefTensor>{
            {out_shape(s, s[s.size() - 3], out.h, out.w),
             naive_avg_pool(s, p.kernel, p.stride.value_or(p.kernel), p.padding, out,
                            count_include_pad, in[0].values)}};
      });
}

OpInfo adaptive_avg_pool_row(std::string name, Shape x, IntPair size) {
  return image_row(
      std::move(name), "adaptive_avg_pool2d", {{x}},
      [size](const TensorList& in) { return TensorList{adaptive_avg_pool2d(in[0], size)}; },
      [size](const std::vector<RefTensor>& in) {
        const Shape& s = in[0].shape;
        return std::vector<RefTensor>{{out_shape(s, s[s.size() - 3], size.h, size.w),
                                       naive_adaptive_avg_pool(s, size, in[0].values)}};
      });
}

// An unbatched (C, H, W) image has no batch to empty or to broadcast along.
OpInfo unbatched(OpInfo row) {
  row.layouts = {Layout::contiguous, Layout::transposed, Layout::sliced};
  return row;
}

}  // namespace

std::vector<OpInfo> conv_pool_rows() {
  return {
      conv_row("conv2d_padded_with_bias", {2, 2, 5, 4}, {3, 2, 3, 3}, true, {1, 1}),
      conv_row("conv2d_strided_dilated_groups", {1, 4, 6, 7}, {4, 2, 2, 3}, false,
               {{2, 1}, {1, 0}, {1, 2}, 2}),
      unbatched(conv_row("conv2d_unbatched", {2, 5, 4}, {3, 2, 3, 2}, true, {})),
      max_pool_row("max_pool2d", {2, 3, 4, 6}, {2}, false),
      max_pool_row("max_pool2d_padded_ceil", {1, 2, 7, 6}, {3, 2, 1, 1, true}, false),
      max_pool_row("max_pool2d_dilated", {1, 2, 7, 7}, {3, 1, 0, 2}, false),
      max_pool_row("max_pool2d_with_indices", {2, 2, 5, 6}, {{3, 2}, IntPair{2, 1}, {1, 0}}, true),
      avg_pool_row("avg_pool2d", {2, 3, 4, 6}, {2}, true),
      avg_pool_row("avg_pool2d_padded_ceil_excluding_pad", {1, 2, 7, 6}, {3, 2, 1, 1, true}, false),
      adaptive_avg_pool_row("adaptive_avg_pool2d", {2, 3, 5, 7}, {2, 3}),
  };
}

}  // namespace graft::testing
