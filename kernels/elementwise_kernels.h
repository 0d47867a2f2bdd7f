// The elementwise kernels of every backend, written once.
//
// A backend supplies only its loop, as a type with a static member template
//   template <class R, class... In, class Op> static void run(const ElementwiseIter&, const Op&);
// (cpu_elementwise_loop for the CPU, cuda_elementwise_loop for CUDA). This header picks the
// C++ types from the dtypes, instantiates every functor of the op lists over them and fills
// the backend's column of the kernel table, so the CPU and CUDA backends cannot drift apart
// in which ops and dtypes they support.
#pragma once

#include <type_traits>

#include "graft/kernels/dispatch.h"
#include "graft/kernels/functors.h"

namespace graft::kernels {

// Op applied to elements of a 16-bit float type: each operand widened to float first, so
// the functor computes in float32 and the loop rounds its result once, on the store.
template <class Op>
struct InFloat {
  using Inner = Op;  // what a loop may run itself on values it has widened (cpu/loops.h)
  Op op;
  template <class... In>
  GRAFT_HOST_DEVICE auto operator()(In... in) const {
    return op(static_cast<compute_type_t<In>>(in)...);
  }
};

// The functor a loop runs for elements of type T.
template <class Op, class T>
using FunctorFor = std::conditional_t<is_float16_v<T>, InFloat<Op>, Op>;

// Unary and binary ops return their compute type; comparisons return bool.
template <class Loop, class Op, int Arity, bool ReturnsBool = false>
void elementwise_kernel(const ElementwiseIter& it) {
  visit_dtype(it.operands[1].dtype, [&](auto tag) {
    using T = decltype(tag);
    using R = std::conditional_t<ReturnsBool, bool, T>;
    using F = FunctorFor<Op, T>;
    if constexpr (floating_only<Op> && !is_floating_type_v<T>) {
      graft::detail::fail("elementwise kernel called with ", it.operands[1].dtype,
                          "; the op layer should have promoted it to a floating dtype");
    } else if constexpr (Arity == 1) {
      Loop::template run<R, T>(it, F{});
    } else if constexpr (Arity == 2) {
      // A 16-bit tensor and a float32 0-d operand the op layer kept unrounded (functors.h,
      // scalar_in_float): the functor widens both to float.
      if constexpr (scalar_in_float<Op> && is_float16_v<T>) {
        if (it.operands[2].dtype == kFloat32) return Loop::template run<R, T, float>(it, F{});
      }
      Loop::template run<R, T, T>(it, F{});
    } else {
      Loop::template run<R, T, T, T>(it, F{});
    }
  });
}

template <class Loop>
void copy_kernel(const ElementwiseIter& it) {
  visit_dtype(it.operands[0].dtype, [&](auto out_tag) {
    visit_dtype(it.operands[1].dtype, [&](auto in_tag) {
      Loop::template run<decltype(out_tag), decltype(in_tag)>(it, IdentityOp{});
    });
  });
}

template <class Loop>
void where_kernel(const ElementwiseIter& it) {
  visit_dtype(it.operands[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    Loop::template run<T, bool, T, T>(it, WhereOp{});
  });
}

template <class Loop>
void fill_kernel(const ElementwiseIter& it, Scalar value) {
  visit_dtype(it.operands[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    Loop::template run<T>(it, FillOp<T>{value.to<T>()});
  });
}

// Fills `device`'s column of the table with the kernels above.
template <class Loop>
void register_elementwise_kernels(KernelTable& table, DeviceType device) {
  const int d = static_cast<int>(device);
#define GRAFT_REGISTER_UNARY(name, Functor)                                                \
  table.unary[static_cast<int>(UnaryOp::name)][d] = &elementwise_kernel<Loop, Functor, 1>; \
  if constexpr (has_backward<Functor>)                                                     \
    table.unary_backward[static_cast<int>(UnaryOp::name)][d] =                             \
        &elementwise_kernel<Loop, BackwardOf<Functor>, 2>;
#define GRAFT_REGISTER_BINARY(name, Functor) \
  table.binary[static_cast<int>(BinaryOp::name)][d] = &elementwise_kernel<Loop, Functor, 2>;
#define GRAFT_REGISTER_COMPARISON(name, Functor)              \
  table.comparison[static_cast<int>(ComparisonOp::name)][d] = \
      &elementwise_kernel<Loop, Functor, 2, true>;
  GRAFT_UNARY_OPS(GRAFT_REGISTER_UNARY)
  GRAFT_BINARY_OPS(GRAFT_REGISTER_BINARY)
  GRAFT_COMPARISON_OPS(GRAFT_REGISTER_COMPARISON)
#undef GRAFT_REGISTER_UNARY
#undef GRAFT_REGISTER_BINARY
#undef GRAFT_REGISTER_COMPARISON
  table.clamp[d] = &elementwise_kernel<Loop, ClampOp, 3>;
  table.copy[d] = &copy_kernel<Loop>;
  table.where[d] = &where_kernel<Loop>;
  table.fill[d] = &fill_kernel<Loop>;
}

}  // namespace graft::kernels
