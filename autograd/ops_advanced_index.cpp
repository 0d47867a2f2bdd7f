// Advanced indexing, PyTorch's rules on the gather and scatter kernels: t.index({idx}),
// t.index({mask}), t.index_put_({...}, values, accumulate), and the index_put_ methods.
//
// The rules (API.md, "Views share memory"). core/ has applied the integers (select), slices,
// None and Ellipsis as views (detail::apply_slicing); what is left are tensor indices, each
// covering a dim of that view. A bool (or uint8) mask of k dims stands for the k int64
// columns of its nonzero(); then NumPy's rules: the index tensors broadcast together to one
// shape B, negative values count from the end, and B replaces the indexed dims in the result
// where they stand when they are adjacent, or goes first when other dims separate them. So
// on a (2, 3, 4) x, x.index({0, Slice(), idx}) with a 2-element idx is (3, 2), as libtorch
// (NumPy's (2, 3) comes from counting the 0 as an index tensor). The result is a copy.
//
// The kernels: the indexed element of self at coordinates (i_d) over the indexed dims lies
// sum_d i_d * stride_d elements past the element at 0 on them. Computed for each position of
// B (ops on the small index tensors), these offsets let gather and scatter treat all the
// indexed dims as one dim of step 1: the nest is the result's shape with B as that one dim,
// and self's other dims keep their strides. No copy of self is made, and a strided self is
// written in place. Writes land in index order on the CPU (the last of repeated positions
// stays; accumulated sums are deterministic); on CUDA see kernels/cuda/index.cu.
//
// Backward, written with these ops so that it is differentiable again: index's gradient is
// the output's gradient put into zeros of self's shape with accumulate (a position read
// twice gets both); index_put's gradient is, for self, the output's gradient with the
// written positions zeroed (unchanged with accumulate), and for values the output's gradient
// indexed the same way (the engine sums it to values' shape).
#include "graft/autograd/advanced_index.h"

#include <algorithm>

#include "graft/autograd/op_utils.h"
#include "graft/kernels/index.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;

namespace {

bool is_mask(const Tensor& t) { return t.dtype() == kBool || t.dtype() == kUInt8; }

// The tensor indices of one index, checked and reduced to NumPy's integer form: per dim of
// self an int64 index with values in [0, size) (broadcastable to `shape`), or undefined.
struct IndexPlan {
  std::vector<Tensor> per_dim;  // self.dim() entries
  Shape shape;                  // B, the broadcast shape of the index tensors
  int64_t at = 0;               // where B stands among the dims self keeps

  bool indexed(int64_t d) const { return per_dim[d].defined(); }

  // `per_dim_values` (one for each dim of self: its sizes, or its strides) without the
  // indexed dims, with `b` inserted at `at`.
  Shape kept_with(const Shape& per_dim_values, const Shape& b) const {
    Shape out;
    for (int64_t d = 0; d < per_dim_values.size(); ++d)
      if (!indexed(d)) out.push_back(per_dim_values[d]);
    for (int64_t k = b.size() - 1; k >= 0; --k) out.insert(at, b[k]);
    return out;
  }
  // The result: B among the kept dims of t.
  Shape result_shape(const Tensor& t) const { return kept_with(t.shape(), shape); }
  // The kernels' nest: the result with B as one dim, the dim `at`.
  Shape nest_shape(const Tensor& t) const { return kept_with(t.shape(), Shape{shape.numel()}); }
  // t's strides over the nest: 1 along B, whose index values are element offsets.
  kernels::StridedOperand nest_operand(const Tensor& t) const {
    kernels::StridedOperand op = ops::strided_operand(t);
    const Shape strides = kept_with(t.strides(), Shape{1});
    std::fill(std::begin(op.strides), std::end(op.strides), 0);
    std::copy(strides.begin(), strides.end(), op.strides);
    return op;
  }
  // The element offset, in t's strides, of each indexed element: int64 (B.numel()),
  // contiguous, to be read along the nest's dim `at`.
  Tensor offsets(const Tensor& t) const {
    autograd::NoGradGuard no_grad;
    Tensor sum;
    for (int64_t d = 0; d < t.dim(); ++d) {
      if (!indexed(d)) continue;
      const Tensor term = per_dim[d] * t.stride(d);
      sum = sum.defined() ? sum + term : term;
    }
    return sum.expand(shape).contiguous().reshape({shape.numel()});
  }
  kernels::StridedOperand offsets_operand(const Tensor& offsets) const {
    kernels::StridedOperand op = ops::strided_operand(offsets);
    std::fill(std::begin(op.strides), std::end(op.strides), 0);
    op.strides[at] = 1;
    return op;
  }
  // One past the largest offset into t: the bound the kernels check the offsets against
  // (the per-dim check came first, with the error that names the dim).
  int64_t offset_bound(const Tensor& t) const {
    int64_t bound = 1;
    for (int64_t d = 0; d < t.dim(); ++d)
      if (indexed(d)) bound += (t.size(d) - 1) * t.stride(d);
    return bound;
  }
};

// index with negative values counted from the end, after checking every value lies in
// [-size, size). The check reads one bool back (a sync on CUDA); the error reads the values.
Tensor wrapped(const char* op, const Tensor& index, int64_t dim, int64_t size) {
  const Tensor out = where(lt(index, 0), add(index, size), index);
  if (index.numel() == 0) return out;
  if (size == 0 || ne(clamp(out, 0, size - 1), out).any().item<bool>()) {
    for (int64_t v : index.to_vector<int64_t>())
      if (v < -size || v >= size) detail::fail_index(op, v, dim, size);
  }
  return out;
}

IndexPlan plan_index(const char* op, const Tensor& self, const std::vector<Tensor>& indices) {
  autograd::NoGradGuard no_grad;
  // Dtypes and devices first: nothing reads an index that lives elsewhere.
  for (size_t i = 0; i < indices.size(); ++i) {
    const Tensor& t = indices[i];
    if (!t.defined()) continue;
    GRAFT_CHECK(is_mask(t) || t.dtype() == kInt64 || t.dtype() == kInt32, op,
                "(): tensors used as indices must be int64, int32, bool or uint8 tensors, got ",
                t.dtype(), "; convert the index with .to(graft::kInt64)");
    GRAFT_CHECK(t.is_cpu() || t.device() == self.device(), op,
                "(): indices should be either on cpu or on the same device as the indexed "
                "tensor (",
                self.device(), "), got an index on ", t.device());
  }
  IndexPlan plan;
  plan.per_dim.resize(self.dim());
  int64_t d = 0;  // the dim of self the next entry covers
  for (const Tensor& t : indices) {
    const int64_t k = t.defined() && is_mask(t) ? t.dim() : 1;
    GRAFT_CHECK(d + k <= self.dim(), op, "(): too many indices for tensor of dimension ",
                self.dim(), " (shape ", self.shape(), ")");
    if (!t.defined()) {
      ++d;
      continue;
    }
    if (is_mask(t)) {
      Shape covered;
      for (int64_t j = 0; j < k; ++j) covered.push_back(self.size(d + j));
      GRAFT_CHECK(t.shape() == covered, op, "(): the shape of the mask ", t.shape(),
                  " does not match the shape ", covered, " of dims ", d, " to ", d + k - 1,
                  " of the indexed tensor (shape ", self.shape(), ")");
      const Tensor where_true = nonzero(t).to(self.device());  // (count, k)
      for (int64_t j = 0; j < k; ++j) plan.per_dim[d + j] = where_true.select(1, j);
    } else {
      plan.per_dim[d] = wrapped(op, t.to(self.device()).to(kInt64), d, self.size(d));
    }
    d += k;
  }
  bool first = true;
  int64_t lo = -1, hi = -1;
  for (int64_t e = 0; e < self.dim(); ++e) {
    if (!plan.indexed(e)) continue;
    plan.shape =
        first ? plan.per_dim[e].shape() : broadcast_shapes(plan.shape, plan.per_dim[e].shape(), op);
    first = false;
    if (lo < 0) lo = e;
    hi = e;
  }
  bool adjacent = true;
  for (int64_t e = lo; e <= hi; ++e) adjacent = adjacent && plan.indexed(e);
  plan.at = adjacent ? lo : 0;
  return plan;
}

Tensor index_with(const IndexPlan& plan, const Tensor& self);
Tensor put_with(const IndexPlan& plan, const Tensor& self, const Tensor& values, bool accumulate);

void gather_into(const IndexPlan& plan, const Tensor& out, const Tensor& self) {
  const Shape nest = plan.nest_shape(self);
  if (nest.numel() == 0) return;
  const Tensor offsets = plan.offsets(self);
  kernels::GatherArgs args;
  args.ndim = static_cast<int>(nest.size());
  args.dim = static_cast<int>(plan.at);
  std::copy(nest.begin(), nest.end(), args.sizes);
  args.self_dim_size = plan.offset_bound(self);
  args.out = ops::strided_operand(out.view(nest));
  args.self = plan.nest_operand(self);
  args.index = plan.offsets_operand(offsets);
  lookup(kernel_table().gather, self.device(), "index")(args);
}

// values: self's dtype and device, broadcastable to the result's shape (checked).
void scatter_into(const IndexPlan& plan, const Tensor& self, const Tensor& values,
                  bool accumulate) {
  const Shape nest = plan.nest_shape(self);
  if (nest.numel() == 0) return;
  autograd::NoGradGuard no_grad;
  const Tensor src = values.expand(plan.result_shape(self)).reshape(nest);
  const Tensor offsets = plan.offsets(self);
  kernels::ScatterArgs args;
  args.ndim = static_cast<int>(nest.size());
  args.dim = static_cast<int>(plan.at);
  std::copy(nest.begin(), nest.end(), args.sizes);
  args.self_dim_size = plan.offset_bound(self);
  args.self = plan.nest_operand(self);
  args.index = plan.offsets_operand(offsets);
  args.src = ops::strided_operand(src);
  args.accumulate = accumulate;
  lookup(kernel_table().scatter, self.device(), "index_put_")(args);
}

Tensor index_with(const IndexPlan& plan, const Tensor& self) {
  Tensor out = empty(plan.result_shape(self), TensorOptions(self.dtype()).device(self.device()));
  gather_into(plan, out, self);
  return autograd::record(
      out, "IndexBackward", {self}, [plan, shape = self.shape()](const Tensor& g) {
        const Tensor zero = zeros(shape, TensorOptions(g.dtype()).device(g.device()));
        return put_with(plan, zero, g, /*accumulate=*/true);
      });
}

// The out-of-place index_put: a copy of self with values put (or added) in.
Tensor put_with(const IndexPlan& plan, const Tensor& self, const Tensor& values, bool accumulate) {
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    out = self.clone();
    scatter_into(plan, out, values, accumulate);
  }
  return autograd::record(
      out, "IndexPutBackward", {self, values},
      [plan, accumulate, need_values = values.requires_grad()](const Tensor& g) {
        const Tensor dself =
            accumulate ? g
                       : put_with(plan, g, zeros({}, TensorOptions(g.dtype()).device(g.device())),
                                  /*accumulate=*/false);
        return autograd::TensorList{dself, need_values ? index_with(plan, g) : Tensor()};
      });
}

// values as index_put_ writes them: self's dtype (converted, as copy_ does) and device (a
// 0-d values tensor may come from any device, as a Scalar would), checked to broadcast to
// the shape the index reads. Values that share self's memory (x.index_put_({mask}, x[0]))
// are copied first: the kernel reads them while it writes.
Tensor values_for(const IndexPlan& plan, const Tensor& self, const Tensor& values) {
  GRAFT_CHECK(values.defined(), "index_put_(): values is an undefined Tensor");
  if (values.dim() > 0) ops::check_same_device("index_put_", {&self, &values});
  const Shape result = plan.result_shape(self);
  bool fits = values.dim() <= result.size();
  for (int64_t k = 1; fits && k <= values.dim(); ++k) {
    const int64_t have = values.size(-k);
    fits = have == 1 || have == result[result.size() - k];
  }
  GRAFT_CHECK(fits, "index_put_(): shape mismatch: value tensor of shape ", values.shape(),
              " cannot be broadcast to indexing result of shape ", result);
  const Tensor v = values.to(self.device()).to(self.dtype());
  return v.storage() == self.storage() ? v.clone() : v;
}

}  // namespace

Tensor advanced_index(const Tensor& self, const std::vector<Tensor>& indices) {
  return index_with(plan_index("index", self, indices), self);
}

const Tensor& advanced_index_put_(const Tensor& self, const std::vector<Tensor>& indices,
                                  const Tensor& values, bool accumulate) {
  const IndexPlan plan = plan_index("index_put_", self, indices);
  const Tensor v = values_for(plan, self, values);
  if (autograd::needs_grad({&self, &v}))
    return ops::assign_in_place("index_put", self, {&v},
                                [&](const Tensor& s) { return put_with(plan, s, v, accumulate); });
  ops::check_writable("index_put_", self);
  autograd::check_inplace("index_put_", self);
  scatter_into(plan, self, v, accumulate);
  self.storage()->bump_version();
  return self;
}

// ---- the methods: basic indices write through the view, tensor indices scatter

const Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, const Tensor& value,
                                 bool accumulate) const {
  const auto [view, tensors] = detail::apply_slicing(*this, indices);
  if (!tensors.empty())
    advanced_index_put_(view, tensors, value, accumulate);
  else if (accumulate)
    view.add_(value);
  else
    view.copy_(value);
  return *this;
}

const Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, Scalar value,
                                 bool accumulate) const {
  const auto [view, tensors] = detail::apply_slicing(*this, indices);
  if (!tensors.empty())
    advanced_index_put_(view, tensors, ops::scalar_tensor(value, dtype(), device()), accumulate);
  else if (accumulate)
    view.add_(value);
  else
    view.fill_(value);
  return *this;
}

const Tensor& Tensor::index_put_(std::initializer_list<TensorIndex> indices, const Tensor& value,
                                 bool accumulate) const {
  return index_put_(std::vector<TensorIndex>(indices), value, accumulate);
}

const Tensor& Tensor::index_put_(std::initializer_list<TensorIndex> indices, Scalar value,
                                 bool accumulate) const {
  return index_put_(std::vector<TensorIndex>(indices), value, accumulate);
}

}  // namespace graft
