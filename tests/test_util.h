// Helpers shared by the tests: building tensors from plain values without relying on the
// factories under test, and reading them back as doubles.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "graft/graft.h"

namespace graft::testing {

// A contiguous CPU tensor of `shape` holding `values` (row-major) converted to `dtype`.
inline Tensor make_tensor(const std::vector<double>& values, const Shape& shape,
                          DType dtype = kFloat64) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.numel());
  Tensor t = empty(shape, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(t.data_ptr());
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return t;
}

// n deterministic pseudo-random values in [lo, hi) (never all zeros).
inline std::vector<double> sample_values(int64_t n, double lo = -2.0, double hi = 2.0,
                                         uint32_t seed = 1) {
  std::vector<double> out(static_cast<size_t>(n));
  uint32_t state = seed * 2654435761u + 12345u;
  for (auto& v : out) {
    state = state * 1664525u + 1013904223u;
    v = lo + (hi - lo) * (static_cast<double>(state >> 8) / static_cast<double>(1u << 24));
  }
  return out;
}

// The message of the graft::Error that `fn` throws; fails the test when nothing is thrown.
inline std::string error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a graft::Error";
  return {};
}

}  // namespace graft::testing
