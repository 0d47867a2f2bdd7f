// Views under autograd; see views.h. finish_view (installed as core's hook, core/hooks.h)
// is where every view op of core/tensor_views.cpp hands its result over.
#include "graft/autograd/views.h"

#include "graft/autograd/ops.h"
#include "graft/autograd/record.h"

namespace graft::autograd {

const ViewInfo* view_info(const Tensor& t) {
  const AutogradMeta* meta = autograd_meta(t);
  return meta && meta->view ? &*meta->view : nullptr;
}

Tensor finish_view(const char* op, const Tensor& self, const Tensor& view, ViewBackward backward) {
  const ViewInfo* parent = view_info(self);
  const bool own_base = parent == nullptr || (self.requires_grad() && self.is_leaf());
  const Tensor& base = own_base ? self : parent->base;
  ensure_autograd_meta(view).view = ViewInfo{base, view._version()};
  return record(view, backward_name(op), {self}, std::move(backward));
}

namespace {

// The view's grad_fn, derived from its base's current history: the view made again from
// the base, with grad mode on whatever the caller's mode (a view of a tensor that requires
// grad requires grad).
void derive_grad_fn(const Tensor& view, AutogradMeta& meta) {
  ViewInfo& info = *meta.view;
  info.version = view._version();
  if (!info.base.requires_grad()) return;
  EnableGradGuard grad_on;
  const Tensor again = info.base.as_strided(view.shape(), view.strides(), view.storage_offset());
  set_grad_fn(view, again.grad_fn());
}

// A tensor holding `g` laid out with `strides` (a fresh one unless g already is), so that
// as_strided finds every element of a view where the base had it.
Tensor laid_out_as(const Tensor& g, const Shape& strides) {
  if (g.strides() == strides) return g;
  const Tensor out =
      empty({storage_span(g.shape(), strides)}, TensorOptions(g.dtype()).device(g.device()))
          .as_strided(g.shape(), strides, 0);
  out.copy_(g);
  return out;
}

// Where a view lies in its base, and the base's shape and strides: all CopySlices keeps
// (not the base itself, whose history the node becomes).
struct Geometry {
  Shape base_shape, base_strides, shape, strides;
  int64_t offset;
};

// Ones of the base's shape, zero where the view lies: which part of the base's gradient
// goes to its values from before the write.
Tensor outside_of(const Geometry& at, const Tensor& g) {
  NoGradGuard no_grad;
  const Tensor mask = laid_out_as(ones(at.base_shape, TensorOptions(g.dtype()).device(g.device())),
                                  at.base_strides);
  mask.as_strided(at.shape, at.strides, at.offset).zero_();
  return mask;
}

}  // namespace

void refresh_view(const Tensor& t) {
  AutogradMeta* meta = autograd_meta(t);
  if (meta == nullptr || !meta->view || meta->view->version == t._version()) return;
  // A leaf that requires grad keeps being a leaf, whatever was written into its memory.
  if (meta->requires_grad && !meta->grad_fn) return;
  derive_grad_fn(t, *meta);
}

void check_inplace_view(const char* op, const Tensor& self) {
  const ViewInfo* info = view_info(self);
  if (info == nullptr || !GradMode::is_enabled() || !info->base.requires_grad()) return;
  GRAFT_CHECK(!info->base.is_leaf(), op,
              "(): a view of a leaf Variable that requires grad is being used in an in-place "
              "operation. Write into the leaf inside a graft::NoGradGuard, or into a clone()");
  GRAFT_CHECK(self.requires_grad(), op,
              "(): this view was made inside a graft::NoGradGuard, so it does not require "
              "grad, but its base does: writing into it in place with grad mode on would hide "
              "the write from autograd. Make the view again outside the NoGradGuard, or write "
              "inside one");
}

bool rebase_view_history(const Tensor& self, const Tensor& result) {
  AutogradMeta* meta = autograd_meta(self);
  if (meta == nullptr || !meta->view) return false;
  const ViewInfo& info = *meta->view;
  const Tensor base = info.base;
  const Tensor rebased = base.detach();
  // The base after the write: its old values outside the view, `result` inside it.
  record(rebased, "CopySlices", {base, result},
         [at = Geometry{base.shape(), base.strides(), self.shape(), self.strides(),
                        self.storage_offset() - base.storage_offset()}](const Tensor& g) {
           const Tensor laid = laid_out_as(g, at.base_strides);
           return TensorList{
               g * outside_of(at, g),
               laid.as_strided(at.shape, at.strides, laid.storage_offset() + at.offset)};
         });
  set_grad_fn(base, rebased.grad_fn());
  derive_grad_fn(self, *meta);
  return true;
}

}  // namespace graft::autograd
