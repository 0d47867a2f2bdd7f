// Copies: copy_, contiguous, clone, to(dtype), to(device), fill_ (index_put_ is in
// ops_advanced_index.cpp).
//
// Everything that moves or converts data comes down to copy_values(), which runs the copy
// kernel on one device and, across devices, first moves a contiguous image of the source
// with the backend's transfer function. Its public face, copy_into(), records no gradient
// and so refuses tensors that require one.
//
// Backward: copies pass the gradient straight through; the engine converts it back to the
// source's dtype and device and sums out broadcasting (engine.cpp), so every formula here is
// the identity. copy_ and fill_ overwrite self, so no gradient flows to self's old value.
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/core/op_context.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;

namespace {
// True when `from` broadcasts to exactly `to` (aligned from the right, sizes equal or 1).
bool can_broadcast_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const int64_t lead = to.size() - from.size();
  for (int64_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  return true;
}
// The copy itself, below autograd (the differentiable callers record their own node).
void copy_values(const Tensor& dst, const Tensor& src) {
  ops::check_writable("copy_", dst);
  GRAFT_CHECK(can_broadcast_to(src.shape(), dst.shape()), "copy_(): the source of shape ",
              src.shape(), " cannot be broadcast to the destination's shape ", dst.shape());
  if (dst.numel() == 0) return;
  if (dst.device() == src.device()) {
    ops::run_elementwise(lookup(kernel_table().copy, dst.device(), "copy_"), {dst, src});
    return;
  }
  // Across devices: transfer a contiguous image, then convert/scatter on the destination.
  const kernels::TransferFn transfer = kernel_table().transfer;
  GRAFT_CHECK(transfer != nullptr, "copy_(): cannot copy from ", src.device(), " to ", dst.device(),
              ": this build of graft has no CUDA backend");
  const Tensor image = src.detach().contiguous();
  const bool direct =
      dst.is_contiguous() && dst.dtype() == src.dtype() && dst.shape() == src.shape();
  const Tensor staging =
      direct ? dst : empty(src.shape(), TensorOptions(src.dtype()).device(dst.device()));
  transfer(staging.data_ptr(), dst.device(), image.data_ptr(), src.device(), image.nbytes());
  if (!direct) copy_values(dst, staging);
}
}  // namespace

void copy_into(const Tensor& dst, const Tensor& src) {
  GRAFT_CHECK(!autograd::needs_grad({&dst, &src}),
              "copy_into(): records no gradient, but a tensor it was given requires grad; use "
              "dst.copy_(src), which is differentiable, or call it on detach()ed tensors or "
              "inside a graft::NoGradGuard");
  copy_values(dst, src);
}

namespace {
autograd::TensorList pass_through(const Tensor& g) { return {g}; }

// After an in-place write that replaced self's values by `sources` (none for fill_), self's
// history becomes one node: the gradient goes on to the sources, none to the old self.
void record_overwrite(const Tensor& self, const char* name, const Tensor* source) {
  if (!autograd::needs_grad({&self}) && !(source && autograd::needs_grad({source}))) return;
  const Tensor result = self.detach();
  if (source == nullptr)
    autograd::record(result, name, {self},
                     [](const Tensor&) { return autograd::TensorList{Tensor()}; });
  else
    autograd::record(result, name, {self, *source}, [](const Tensor& g) {
      return autograd::TensorList{Tensor(), g};
    });
  autograd::rebase_history(self, result);
}
}  // namespace

const Tensor& Tensor::copy_(const Tensor& src) const {
  autograd::check_inplace("copy_", *this);
  copy_values(*this, src);
  storage()->bump_version();
  record_overwrite(*this, "CopyBackward", &src);
  return *this;
}

Tensor Tensor::clone() const {
  const OpContext context("clone");
  Tensor out = empty_like(*this);
  copy_values(out, *this);
  return autograd::record(out, "CloneBackward", {*this}, pass_through);
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  const OpContext context("to");
  Tensor out = empty(shape(), TensorOptions(dtype).device(device()));
  copy_values(out, *this);
  return autograd::record(out, "ToCopyBackward", {*this}, pass_through);
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  const OpContext context("to");
  Tensor out = empty(shape(), TensorOptions(dtype()).device(device));
  copy_values(out, *this);
  return autograd::record(out, "ToCopyBackward", {*this}, pass_through);
}

const Tensor& Tensor::fill_(Scalar value) const {
  ops::check_writable("fill_", *this);
  autograd::check_inplace("fill_", *this);
  ops::check_value_fits("fill_", value, dtype());
  ops::fill_elements(*this, value);
  storage()->bump_version();
  record_overwrite(*this, "FillBackward", nullptr);
  return *this;
}

}  // namespace graft
