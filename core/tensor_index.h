// The pieces of a NumPy-style index: t.index({0, Slice(1, None, 2), None, Ellipsis, idx}).
//
// Integers, slices, None and Ellipsis make views (core/tensor_views.cpp); a Tensor among them
// (int64 or int32 values, or a bool / uint8 mask) makes the result a copy, by PyTorch's rules
// for advanced indexing (autograd/advanced_index.h). This header needs Tensor complete (the
// variant holds one), so core/tensor.h includes it at its end rather than at its top.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "graft/core/tensor.h"

namespace graft {

struct NoneIndex {};
struct EllipsisIndex {};
// `None` inserts a dimension of size 1 (NumPy's np.newaxis); `Ellipsis` stands for as many
// full slices as the index leaves unnamed.
inline constexpr NoneIndex None{};
inline constexpr EllipsisIndex Ellipsis{};

// One end of a slice: a number, or None for "from the start" / "to the end".
class SliceBound {
 public:
  SliceBound(NoneIndex) {}                      // NOLINT(google-explicit-constructor)
  SliceBound(int64_t value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  SliceBound(int value) : value_(value) {}      // NOLINT(google-explicit-constructor)
  SliceBound(std::nullopt_t) {}                 // NOLINT(google-explicit-constructor)
  const std::optional<int64_t>& value() const { return value_; }

 private:
  std::optional<int64_t> value_;
};

// Python's start:stop:step. Bounds are clamped to the dim as Python does; step must be > 0.
struct Slice {
  Slice(SliceBound start = None, SliceBound stop = None, SliceBound step = None)
      : start(start.value()), stop(stop.value()), step(step.value()) {}
  std::optional<int64_t> start, stop, step;
};

class TensorIndex {
 public:
  TensorIndex(int64_t i) : value_(i) {}            // NOLINT(google-explicit-constructor)
  TensorIndex(int i) : value_(int64_t{i}) {}       // NOLINT(google-explicit-constructor)
  TensorIndex(Slice s) : value_(s) {}              // NOLINT(google-explicit-constructor)
  TensorIndex(NoneIndex n) : value_(n) {}          // NOLINT(google-explicit-constructor)
  TensorIndex(EllipsisIndex e) : value_(e) {}      // NOLINT(google-explicit-constructor)
  TensorIndex(Tensor t) : value_(std::move(t)) {}  // NOLINT(google-explicit-constructor)

  const std::variant<int64_t, Slice, NoneIndex, EllipsisIndex, Tensor>& value() const {
    return value_;
  }

 private:
  std::variant<int64_t, Slice, NoneIndex, EllipsisIndex, Tensor> value_;
};

namespace detail {

// An index split as libtorch's applySlicing splits it: `view` is self with the integers
// applied (select), the slices, None and Ellipsis (views), and a 0-d integer tensor taken
// as an integer; `tensors` are the tensor indices left for advanced indexing, in the
// convention of at::index: entry i covers the next dim of `view` (an undefined entry a whole
// dim), except a bool or uint8 mask, which covers as many dims as it has. Empty when the
// index names no tensor; then `view` is self itself when the index changes nothing.
struct SlicedIndex {
  Tensor view;
  std::vector<Tensor> tensors;
};
SlicedIndex apply_slicing(const Tensor& self, const std::vector<TensorIndex>& indices);

}  // namespace detail

}  // namespace graft
