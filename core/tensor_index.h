// The pieces of a NumPy-style index: t.index({0, Slice(1, None, 2), None, Ellipsis}).
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

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
  TensorIndex(int64_t i) : value_(i) {}        // NOLINT(google-explicit-constructor)
  TensorIndex(int i) : value_(int64_t{i}) {}   // NOLINT(google-explicit-constructor)
  TensorIndex(Slice s) : value_(s) {}          // NOLINT(google-explicit-constructor)
  TensorIndex(NoneIndex n) : value_(n) {}      // NOLINT(google-explicit-constructor)
  TensorIndex(EllipsisIndex e) : value_(e) {}  // NOLINT(google-explicit-constructor)

  const std::variant<int64_t, Slice, NoneIndex, EllipsisIndex>& value() const { return value_; }

 private:
  std::variant<int64_t, Slice, NoneIndex, EllipsisIndex> value_;
};

}  // namespace graft
