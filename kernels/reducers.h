// The reductions of every backend, written once: the reducers, and the reduce column of the
// kernel table (PyTorch's SharedReduceOps.h in miniature).
//
// A reducer says how a reduction starts (identity), takes one element (step), combines two
// partial results (merge) and produces an output element (finish). Every merge is
// associative -- argmax/argmin decide ties by index, not by visiting order -- so a backend's
// loop may split the work as it likes: into independent accumulators, pairwise blocks and
// threads on the CPU (kernels/cpu/reduce.cpp), into lanes, warps and blocks on CUDA
// (kernels/cuda/reduce.cu); integer, bool and index results do not depend on the split. The
// accumulation type belongs to the reducer, so both backends accumulate floats in double
// (the CPU's float32 and 16-bit sums and products a pairwise leaf in float first, below),
// integers and bools in int64 and var by Welford in double, and agree to within a float's few
// ulps.
//
// The reducers that accumulate in double (sums, products, var, norms) take each element as
// its compute type, float for a 16-bit float (kStepsInComputeType): the CPU loop then widens
// a 16-bit run a block at a time with the vector conversions first (cpu/reduce_run.h).
//
// A backend supplies only its loop, as a type with a static member template
//   template <class R, class T>
//   static void run(const R&, const T* in, typename R::Out* out, const ReduceDims& kept,
//                   const ReduceDims& reduced);
// which is called with at least one output. Reducers are built on the host (from the
// ReduceArgs) and passed by value to the device.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "graft/core/host_device.h"
#include "graft/kernels/dispatch.h"
#include "graft/kernels/reduce.h"

namespace graft::kernels {

template <class T>
GRAFT_HOST_DEVICE constexpr bool is_nan(T v) {
  if constexpr (is_floating_type_v<T>)
    return v != v;
  else
    return false;
}

// Integer sums and products wrap around like PyTorch's, without signed-overflow UB.
GRAFT_HOST_DEVICE constexpr int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
GRAFT_HOST_DEVICE constexpr int64_t wrapping_mul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// ---- reducers: T is the input's C++ type

// Floats accumulate in double, integers and bools in int64 (and return int64, as PyTorch).
template <class T, bool kProduct>
struct ArithmeticReducer {
  static constexpr bool kFloat = is_floating_type_v<T>;
  using Acc = std::conditional_t<kFloat, double, int64_t>;
  using Out = std::conditional_t<kFloat, T, int64_t>;
  static constexpr bool kStepsInComputeType = true;
  // A 16-bit or float32 sum or product reduces each of the CPU's pairwise leaves in float
  // (cpu/reduce_run.h), as PyTorch accumulates them (its cascade_sum), and merges the leaves
  // in double: a leaf's error is a few dozen roundings of 2^-24 of its magnitude, far below a
  // 16-bit result's own rounding and within a float32 result's few ulps, while a float lane
  // holds twice a double's elements. A product's leaf whose float multiplications left
  // float's range (the CPU's IEEE flags say so) is multiplied again in double
  // (cpu/float_products.h), so the range stays a double's.
  static constexpr bool kLeavesInFloat = kFloat && (is_float16_v<T> || std::is_same_v<T, float>);
  static constexpr bool kMultiplies = kProduct;
  explicit ArithmeticReducer(const ReduceArgs&) {}
  GRAFT_HOST_DEVICE Acc identity() const { return kProduct ? 1 : 0; }
  GRAFT_HOST_DEVICE Acc step(Acc a, compute_type_t<T> v, int64_t) const {
    return merge(a, static_cast<Acc>(v));
  }
  GRAFT_HOST_DEVICE Acc merge(Acc a, Acc b) const {
    if constexpr (kFloat)
      return kProduct ? a * b : a + b;
    else
      return kProduct ? wrapping_mul(a, b) : wrapping_add(a, b);
  }
  GRAFT_HOST_DEVICE Out finish(Acc a) const { return static_cast<Out>(a); }
};
template <class T>
using SumReducer = ArithmeticReducer<T, false>;
template <class T>
using ProdReducer = ArithmeticReducer<T, true>;

// max/min values; a NaN wins over everything, as in PyTorch.
template <class T, bool kMax>
struct ExtremeReducer {
  using Acc = T;
  using Out = T;
  explicit ExtremeReducer(const ReduceArgs&) {}
  GRAFT_HOST_DEVICE static T identity() {
    using L = std::numeric_limits<T>;
    if constexpr (is_floating_type_v<T>)
      return kMax ? static_cast<T>(-L::infinity()) : L::infinity();
    else
      return kMax ? L::lowest() : L::max();
  }
  GRAFT_HOST_DEVICE T step(T a, T v, int64_t) const { return merge(a, v); }
  GRAFT_HOST_DEVICE T merge(T a, T b) const {
    return (is_nan(b) || (kMax ? b > a : b < a)) ? b : a;
  }
  GRAFT_HOST_DEVICE T finish(T a) const { return a; }
};
template <class T>
using MaxReducer = ExtremeReducer<T, true>;
template <class T>
using MinReducer = ExtremeReducer<T, false>;

// argmax/argmin: the smallest index among the extremes (NaN counts as the extreme), decided
// by index rather than by visiting order so any split of the work gives PyTorch's answer.
template <class T, bool kMax>
struct ArgExtremeReducer {
  struct Acc {
    T value;
    int64_t index;
  };
  using Out = int64_t;
  explicit ArgExtremeReducer(const ReduceArgs&) {}
  GRAFT_HOST_DEVICE Acc identity() const {
    return {ExtremeReducer<T, kMax>::identity(), std::numeric_limits<int64_t>::max()};
  }
  GRAFT_HOST_DEVICE Acc step(Acc a, T v, int64_t index) const { return merge(a, {v, index}); }
  GRAFT_HOST_DEVICE Acc merge(Acc a, Acc b) const {
    const bool a_nan = is_nan(a.value), b_nan = is_nan(b.value);
    const bool earlier = b.index < a.index;
    bool take_b;
    if (a_nan || b_nan)
      take_b = b_nan && (!a_nan || earlier);
    else
      take_b = (kMax ? b.value > a.value : b.value < a.value) || (b.value == a.value && earlier);
    return take_b ? b : a;
  }
  GRAFT_HOST_DEVICE Out finish(Acc a) const { return a.index; }
};
template <class T>
using ArgmaxReducer = ArgExtremeReducer<T, true>;
template <class T>
using ArgminReducer = ArgExtremeReducer<T, false>;

// all/any: nonzero (NaN included) is true, whatever the input dtype.
template <class T, bool kAll>
struct LogicalReducer {
  using Acc = bool;
  using Out = bool;
  explicit LogicalReducer(const ReduceArgs&) {}
  GRAFT_HOST_DEVICE bool identity() const { return kAll; }
  GRAFT_HOST_DEVICE bool step(bool a, T v, int64_t) const { return merge(a, v != T(0)); }
  GRAFT_HOST_DEVICE bool merge(bool a, bool b) const { return kAll ? (a && b) : (a || b); }
  GRAFT_HOST_DEVICE bool finish(bool a) const { return a; }
};
template <class T>
using AllReducer = LogicalReducer<T, true>;
template <class T>
using AnyReducer = LogicalReducer<T, false>;

// Variance by Welford's update, partial results combined by Chan et al.'s formula, in double.
template <class T>
struct VarReducer {
  struct Acc {
    double count, mean, m2;
  };
  using Out = std::conditional_t<is_floating_type_v<T>, T, double>;
  static constexpr bool kStepsInComputeType = true;
  explicit VarReducer(const ReduceArgs& args) : correction(static_cast<double>(args.correction)) {}
  GRAFT_HOST_DEVICE Acc identity() const { return {0, 0, 0}; }
  GRAFT_HOST_DEVICE Acc step(Acc a, compute_type_t<T> v, int64_t) const {
    const double x = static_cast<double>(v);
    const double count = a.count + 1, delta = x - a.mean, mean = a.mean + delta / count;
    return {count, mean, a.m2 + delta * (x - mean)};
  }
  GRAFT_HOST_DEVICE Acc merge(Acc a, Acc b) const {
    if (a.count == 0) return b;
    if (b.count == 0) return a;
    const double count = a.count + b.count, delta = b.mean - a.mean;
    return {count, a.mean + delta * (b.count / count),
            a.m2 + b.m2 + delta * delta * (a.count * b.count / count)};
  }
  // No degrees of freedom left (count <= correction) gives NaN.
  GRAFT_HOST_DEVICE Out finish(Acc a) const {
    const double dof = a.count - correction;
    return static_cast<Out>(dof > 0 ? a.m2 / dof : std::numeric_limits<double>::quiet_NaN());
  }
  double correction;
};

// The p-norm (PyTorch's NormOps) in one pass: |x|^p summed in double and the p-th root
// taken at the end, with p = 2, 1 and 0 (the count of non-zeros) spared the pow, and p =
// +-inf the largest or smallest |x| (NaN wins, as in max/min). One pass instead of x * x
// into a fresh tensor and then a sum, which is what makes a gradient norm cheap.
//
// The kind of p is a template argument, picked once per call by norm_kernel below, so the
// inner loop tests nothing per element (with p tested there, the total norm of the MLP's
// gradients took 58-66 us on a 2-core EPYC VM instead of 50-56).
enum class NormKind { kTwo, kOne, kZero, kMax, kMin, kGeneral };

// Its math is the C library's (::pow, ::sqrt: CUDA device code has them too); unqualified,
// a file that includes graft.h would find graft's pow(Tensor) first.
template <class T, NormKind K>
struct NormReducer {
  using Acc = double;
  using Out = T;
  static constexpr bool kStepsInComputeType = true;
  explicit NormReducer(const ReduceArgs& args) : p(args.p), root(args.root) {}
  GRAFT_HOST_DEVICE double identity() const {
    return K == NormKind::kMin ? std::numeric_limits<double>::infinity() : 0.0;
  }
  GRAFT_HOST_DEVICE double step(double a, compute_type_t<T> v, int64_t) const {
    const double x = ::fabs(static_cast<double>(v));
    if constexpr (K == NormKind::kMax || K == NormKind::kMin)
      return merge(a, x);
    else if constexpr (K == NormKind::kTwo)
      return a + x * x;
    else if constexpr (K == NormKind::kOne)
      return a + x;
    else if constexpr (K == NormKind::kZero)
      return a + (x != 0 ? 1.0 : 0.0);
    else
      return a + ::pow(x, p);
  }
  GRAFT_HOST_DEVICE double merge(double a, double b) const {
    if constexpr (K == NormKind::kMax)
      return (is_nan(b) || b > a) ? b : a;
    else if constexpr (K == NormKind::kMin)
      return (is_nan(b) || b < a) ? b : a;
    else
      return a + b;
  }
  GRAFT_HOST_DEVICE Out finish(double a) const {
    if constexpr (K == NormKind::kTwo)
      return static_cast<Out>(root ? ::sqrt(a) : a);
    else if constexpr (K == NormKind::kGeneral)
      return static_cast<Out>(root ? ::pow(a, 1.0 / p) : a);
    else
      return static_cast<Out>(a);
  }
  double p;
  bool root;  // false: the sum of |x|^p itself (for p = 2, mse_loss's sum of squares)
};

// ---- kernels: the reducer over the backend's loop

// Runs the reducer R of input type T over the backend's loop.
template <class Loop, class R, class T>
void run_reducer(const ReduceArgs& args) {
  using Out = typename R::Out;
  GRAFT_CHECK(args.out_dtype == dtype_of_v<Out>, "reduce kernel: output dtype ", args.out_dtype,
              " does not match the reduction of ", args.in_dtype, " (expected ", dtype_of_v<Out>,
              ")");
  if (args.kept.numel() == 0) return;
  Loop::run(R(args), static_cast<const T*>(args.in), static_cast<Out*>(args.out), args.kept,
            args.reduced);
}

template <class Loop, template <class> class Reducer>
void reduce_kernel(const ReduceArgs& args) {
  visit_dtype(args.in_dtype, [&](auto tag) {
    using T = decltype(tag);
    run_reducer<Loop, Reducer<T>, T>(args);
  });
}

// The norm reducer of args.p's kind; floating inputs only (norm() refuses the others), the
// 16-bit ones included (the reducer reads every element as a double).
template <class Loop>
void norm_kernel(const ReduceArgs& args) {
  visit_dtype(args.in_dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_floating_type_v<T>) {
      constexpr double kInf = std::numeric_limits<double>::infinity();
      const double p = args.p;
      if (p == 2) return run_reducer<Loop, NormReducer<T, NormKind::kTwo>, T>(args);
      if (p == 1) return run_reducer<Loop, NormReducer<T, NormKind::kOne>, T>(args);
      if (p == 0) return run_reducer<Loop, NormReducer<T, NormKind::kZero>, T>(args);
      if (p == kInf) return run_reducer<Loop, NormReducer<T, NormKind::kMax>, T>(args);
      if (p == -kInf) return run_reducer<Loop, NormReducer<T, NormKind::kMin>, T>(args);
      run_reducer<Loop, NormReducer<T, NormKind::kGeneral>, T>(args);
    } else {
      graft::detail::fail("norm kernel called with ", args.in_dtype,
                          "; the op layer should have rejected it");
    }
  });
}

// Fills `device`'s column of the table with the reducers over `Loop`.
template <class Loop>
void register_reduce_kernels(KernelTable& table, DeviceType device) {
  auto slot = [&](ReduceOp op) -> ReduceFn& {
    return table.reduce[static_cast<int>(op)][static_cast<int>(device)];
  };
  slot(ReduceOp::sum) = &reduce_kernel<Loop, SumReducer>;
  slot(ReduceOp::prod) = &reduce_kernel<Loop, ProdReducer>;
  slot(ReduceOp::max) = &reduce_kernel<Loop, MaxReducer>;
  slot(ReduceOp::min) = &reduce_kernel<Loop, MinReducer>;
  slot(ReduceOp::argmax) = &reduce_kernel<Loop, ArgmaxReducer>;
  slot(ReduceOp::argmin) = &reduce_kernel<Loop, ArgminReducer>;
  slot(ReduceOp::all) = &reduce_kernel<Loop, AllReducer>;
  slot(ReduceOp::any) = &reduce_kernel<Loop, AnyReducer>;
  slot(ReduceOp::var) = &reduce_kernel<Loop, VarReducer>;
  slot(ReduceOp::norm) = &norm_kernel<Loop>;
}

}  // namespace graft::kernels
