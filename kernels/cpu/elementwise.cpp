// CPU elementwise kernels: each op list of dispatch.h instantiated over the dtypes.
//
// The loop itself is cpu_elementwise_loop (loops.h); this file only picks the C++ types.
#include <limits>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/loops.h"
#include "graft/kernels/functors.h"

namespace graft::kernels::cpu {
namespace {

// Unary and binary ops return their compute type; comparisons return bool.
template <class Op, int Arity, bool ReturnsBool = false>
void elementwise_kernel(const ElementwiseIter& it) {
  visit_dtype(it.operands[1].dtype, [&](auto tag) {
    using T = decltype(tag);
    using R = std::conditional_t<ReturnsBool, bool, T>;
    if constexpr (floating_only<Op> && !std::is_floating_point_v<T>) {
      graft::detail::fail("elementwise kernel called with ", it.operands[1].dtype,
                          "; the op layer should have promoted it to a floating dtype");
    } else if constexpr (Arity == 1) {
      cpu_elementwise_loop<R, T>(it, Op{});
    } else if constexpr (Arity == 2) {
      cpu_elementwise_loop<R, T, T>(it, Op{});
    } else {
      cpu_elementwise_loop<R, T, T, T>(it, Op{});
    }
  });
}

struct CastOp {
  template <class T>
  T operator()(T a) const {
    return a;
  }
};

void copy_kernel(const ElementwiseIter& it) {
  visit_dtype(it.operands[0].dtype, [&](auto out_tag) {
    visit_dtype(it.operands[1].dtype, [&](auto in_tag) {
      using R = decltype(out_tag);
      using T = decltype(in_tag);
      // static_cast<R> in the loop does the conversion (float -> bool is x != 0).
      cpu_elementwise_loop<R, T>(it, CastOp{});
    });
  });
}

struct WhereOp {
  template <class T>
  T operator()(bool cond, T a, T b) const {
    return cond ? a : b;
  }
};

void where_kernel(const ElementwiseIter& it) {
  visit_dtype(it.operands[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    cpu_elementwise_loop<T, bool, T, T>(it, WhereOp{});
  });
}

void fill_kernel(const ElementwiseIter& it, Scalar value) {
  visit_dtype(it.operands[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    const T v = value.to<T>();
    cpu_elementwise_loop<T>(it, [v]() { return v; });
  });
}

}  // namespace

void register_elementwise(KernelTable& table) {
  constexpr int cpu = static_cast<int>(kCPU);
#define GRAFT_REGISTER_UNARY(name, Functor) \
  table.unary[static_cast<int>(UnaryOp::name)][cpu] = &elementwise_kernel<Functor, 1>;
#define GRAFT_REGISTER_BINARY(name, Functor) \
  table.binary[static_cast<int>(BinaryOp::name)][cpu] = &elementwise_kernel<Functor, 2>;
#define GRAFT_REGISTER_COMPARISON(name, Functor)                \
  table.comparison[static_cast<int>(ComparisonOp::name)][cpu] = \
      &elementwise_kernel<Functor, 2, true>;
  GRAFT_UNARY_OPS(GRAFT_REGISTER_UNARY)
  GRAFT_BINARY_OPS(GRAFT_REGISTER_BINARY)
  GRAFT_COMPARISON_OPS(GRAFT_REGISTER_COMPARISON)
#undef GRAFT_REGISTER_UNARY
#undef GRAFT_REGISTER_BINARY
#undef GRAFT_REGISTER_COMPARISON
  table.clamp[cpu] = &elementwise_kernel<ClampOp, 3>;
  table.copy[cpu] = &copy_kernel;
  table.where[cpu] = &where_kernel;
  table.fill[cpu] = &fill_kernel;
}

}  // namespace graft::kernels::cpu
