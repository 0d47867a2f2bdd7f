// Host views: Eigen objects as tensors and tensors as Eigen maps, both zero-copy.
//
// Eigen is to C++ what NumPy is to Python, and graft shares memory with it the way
// torch.from_numpy / Tensor.numpy() do: a write through one side is seen through the other.
//
//   Eigen::MatrixXf m = Eigen::MatrixXf::Zero(2, 3);  // column-major
//   graft::Tensor t = graft::from_eigen(m);           // shape (2, 3), strides (1, 2)
//   auto v = t.t().eigen<float>();                    // 3 x 2 Map over the same floats
//
// from_eigen takes any dense Eigen object with direct memory access (Matrix, Array, Map with
// any Stride, Ref, Block, either storage order) and *borrows* its memory, as from_blob without
// a deleter does: the caller keeps the Eigen object alive while the tensor lives. Choices:
//   - A compile-time vector (VectorXf, RowVectorXd, m.col(j), ...) gives a 1-D tensor;
//     everything else gives a 2-D (rows, cols) tensor, even when a dimension happens to be 1.
//   - A const object is accepted and gives an ordinary (writable) tensor, as from_numpy does
//     for a read-only array: not writing through it is the caller's responsibility.
//   - Temporaries are refused at compile time: an expression without memory of its own
//     (`m * 2`) fails a static_assert, and an rvalue Matrix/Array (`(m * 2).eval()`) selects
//     a deleted overload. Views that are themselves temporaries (m.block(...), Map(...)) are
//     fine: the memory they point to outlives them.
//
// Tensor::eigen<T>() goes the other way. Its result has one type whatever the tensor's rank,
// a row-major dynamic Map with runtime strides (EigenMap<T> below), because the rank is only
// known at run time: a 2-D tensor maps as (size(0) x size(1)) with outer stride stride(0) and
// inner stride stride(1), which expresses every graft layout (transposed, sliced with steps,
// expanded); a 1-D tensor of n elements maps as an n x 1 column (use v(i, 0) or v.col(0)(i));
// a 0-d tensor as 1 x 1.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <type_traits>

#include "graft/core/tensor.h"

namespace graft {

// What Tensor::eigen<T>() returns: a strided, row-major, dynamic-size view of T elements.
template <class T>
using EigenMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                            Eigen::Unaligned, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

namespace detail {

template <class T>
inline constexpr bool is_graft_scalar_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t> ||
    std::is_same_v<T, int64_t> || std::is_same_v<T, uint8_t> || std::is_same_v<T, bool>;

// The C++ spelling of a dtype's element type and of its graft constant, for error messages.
constexpr const char* cpp_type_name(DType dtype) {
  constexpr const char* kNames[] = {"bool",        "uint8_t",         "int32_t", "int64_t",
                                    "graft::Half", "graft::BFloat16", "float",   "double"};
  return kNames[static_cast<int>(dtype)];
}
constexpr const char* dtype_constant_name(DType dtype) {
  constexpr const char* kNames[] = {"kBool",    "kUInt8",    "kInt32",   "kInt64",
                                    "kFloat16", "kBFloat16", "kFloat32", "kFloat64"};
  return kNames[static_cast<int>(dtype)];
}

// The checks of eigen<T>(), most fundamental first: where the memory is, what it holds, and
// whether a matrix can describe its shape.
inline void check_eigen_view(const Tensor& t, DType requested) {
  GRAFT_CHECK(t.is_cpu(), "eigen(): can't view a ", t.device(),
              " tensor as an Eigen matrix: its memory is on the device. Call .cpu() first to "
              "copy the tensor to host memory");
  GRAFT_CHECK(!is_reduced_floating_point(t.dtype()), "eigen<", cpp_type_name(requested),
              ">(): the tensor's dtype is ", t.dtype(),
              ", which Eigen cannot map (Eigen views hold float, double, int32_t, int64_t, "
              "uint8_t or bool); call .to(graft::kFloat32) first, a copy");
  GRAFT_CHECK(t.dtype() == requested, "eigen<", cpp_type_name(requested),
              ">(): the tensor's dtype is ", t.dtype(),
              "; call .to(graft::", dtype_constant_name(requested), ") first or use eigen<",
              cpp_type_name(t.dtype()), ">()");
  GRAFT_CHECK(t.dim() <= 2,
              "eigen(): only 0-, 1- and 2-D tensors can be viewed as Eigen matrices; this one has "
              "shape ",
              t.shape(), "; reshape it first");
}

}  // namespace detail

// A tensor over the memory of `x`, which must outlive it (see the top of this file).
template <class Derived>
Tensor from_eigen(const Eigen::DenseBase<Derived>& x) {
  using Scalar = typename Derived::Scalar;
  static_assert(int(Derived::Flags) & Eigen::DirectAccessBit,
                "from_eigen(): the Eigen expression has no memory of its own to share (it is "
                "computed on the fly, like `m * 2`); evaluate it into a named Matrix first");
  static_assert(detail::is_graft_scalar_v<Scalar>,
                "from_eigen(): graft tensors hold float, double, int32_t, int64_t, uint8_t or "
                "bool; cast the Eigen object first (m.cast<float>())");
  const Derived& d = x.derived();
  const int64_t inner = d.innerStride(), outer = d.outerStride();
  GRAFT_CHECK(inner >= 0 && outer >= 0, "from_eigen(): the Eigen object has negative strides (",
              inner, ", ", outer,
              "), which graft tensors cannot express; copy it into a plain Matrix first");
  // const_cast: a const source is allowed, see "Choices" above.
  void* data = const_cast<Scalar*>(d.data());
  const TensorOptions options(dtype_of_v<Scalar>);
  if constexpr (Derived::IsVectorAtCompileTime) {
    return from_blob(data, {d.size()}, {inner}, options);
  } else {
    const bool row_major = int(Derived::Flags) & Eigen::RowMajorBit;
    return from_blob(data, {d.rows(), d.cols()},
                     row_major ? Shape{outer, inner} : Shape{inner, outer}, options);
  }
}

// An Eigen Matrix or Array about to be destroyed would leave the tensor dangling (const&&
// catches both `Matrix(...)` and the const temporary that `expr.eval()` returns).
template <class Derived>
Tensor from_eigen(const Eigen::PlainObjectBase<Derived>&& x) = delete;

template <class T>
auto Tensor::eigen() const {
  static_assert(detail::is_graft_scalar_v<T>,
                "eigen<T>(): T must be one of float, double, int32_t, int64_t, uint8_t, bool "
                "(graft::Half and graft::BFloat16 are not Eigen types: view a .to(kFloat32) "
                "copy)");
  detail::check_eigen_view(*this, dtype_of_v<T>);
  using Stride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  T* data = static_cast<T*>(data_ptr());
  switch (dim()) {
    case 0:
      return EigenMap<T>(data, 1, 1, Stride(1, 1));
    case 1:
      return EigenMap<T>(data, size(0), 1, Stride(stride(0), 1));
    default:
      return EigenMap<T>(data, size(0), size(1), Stride(stride(0), stride(1)));
  }
}

}  // namespace graft
