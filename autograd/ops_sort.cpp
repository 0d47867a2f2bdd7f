// Sorting along one dim: sort, argsort and topk.
//
// The input is made contiguous (a no-op in the common case) and the device's kernel sees
// it as outer * inner lines of n elements, `inner` apart (kernels/sort.h); each line keeps
// k elements in the order of kernels/sort_keys.h: stable, NaN the largest, integers and bool
// as they are. A 0-d input is one line of one element along dim 0 or -1; topk of it gives
// 0-d results for k = 1 and (0,) ones for k = 0 (PyTorch returns an uninitialised 0-d
// tensor there).
//
// Backward of the values: each gradient element goes back to where its value came from, a
// scatter_add of g into zeros at the indices, which is differentiable again (its gradient
// with respect to g is a gather at the same indices), so double backward works. The indices
// are saved with their version, so rewriting them in place before backward is caught.
#include "graft/autograd/op_utils.h"
#include "graft/kernels/sort.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;

namespace {

// The kernel's values and indices for k elements of each line along `dim` (wrapped).
std::tuple<Tensor, Tensor> run_sort_kernel(const char* op,
                                           const kernels::PerDevice<kernels::SortFn>& kernel,
                                           const Tensor& x, int64_t dim, int64_t k, bool descending,
                                           bool sorted) {
  Shape shape = x.shape();
  if (x.dim() > 0)
    shape[dim] = k;
  else if (k == 0)
    shape = Shape{0};
  Tensor values = empty(shape, TensorOptions(x.dtype()).device(x.device()));
  Tensor indices = empty(shape, TensorOptions(kInt64).device(x.device()));
  if (values.numel() == 0) return {values, indices};
  autograd::NoGradGuard no_grad;  // x.contiguous() is part of this one op
  const Tensor input = x.contiguous();
  kernels::SortArgs args;
  args.dtype = x.dtype();
  args.input = input.data_ptr();
  args.values = values.data_ptr();
  args.indices = static_cast<int64_t*>(indices.data_ptr());
  args.outer = 1;
  args.inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim) args.outer *= x.size(d);
    if (d > dim) args.inner *= x.size(d);
  }
  args.n = x.dim() == 0 ? 1 : x.size(dim);
  args.k = k;
  args.descending = descending;
  args.sorted = sorted;
  lookup(kernel, x.device(), op)(args);
  return {values, indices};
}

// Records the values' backward: g scattered back through the indices into x's shape.
void record_values(const char* name, const Tensor& values, const Tensor& x, int64_t dim,
                   const Tensor& indices) {
  autograd::record(values, name, {x},
                   [shape = x.shape(), dim, si = autograd::save(indices)](const Tensor& g) {
                     const Tensor into = zeros(shape, TensorOptions(g.dtype()).device(g.device()));
                     return scatter_add(into, dim, si.get(), g);
                   });
}

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  dim = wrap_dim(dim, x.dim(), "sort");
  const int64_t n = x.dim() == 0 ? 1 : x.size(dim);
  auto [values, indices] =
      run_sort_kernel("sort", kernel_table().sort, x, dim, n, descending, true);
  record_values("SortBackward", values, x, dim, indices);
  return {values, indices};
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  dim = wrap_dim(dim, x.dim(), "argsort");
  const int64_t n = x.dim() == 0 ? 1 : x.size(dim);
  return std::get<1>(run_sort_kernel("argsort", kernel_table().sort, x, dim, n, descending, true));
}

std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest,
                                bool sorted) {
  dim = wrap_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() == 0 ? 1 : x.size(dim);
  GRAFT_CHECK(k >= 0 && k <= n, "topk(): k (", k, ") is out of range for dimension ", dim,
              " of size ", n, " (input shape ", x.shape(), "): expected 0 <= k <= ", n);
  auto [values, indices] = run_sort_kernel("topk", kernel_table().topk, x, dim, k, largest, sorted);
  record_values("TopkBackward", values, x, dim, indices);
  return {values, indices};
}

}  // namespace graft
