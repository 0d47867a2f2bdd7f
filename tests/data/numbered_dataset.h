// Test helpers for the loader tests: a dataset whose labels are its row numbers, so a batch
// says which rows it holds, and the labels of a whole epoch.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "graft/data/dataloader.h"
#include "graft/data/dataset.h"
#include "test_util.h"

namespace graft::testing {

// n examples: x[i] = (i, 10 i) float32, y[i] = i (int64).
inline data::TensorDataset numbered(int64_t n) {
  std::vector<double> xs, ys;
  for (int64_t i = 0; i < n; ++i) {
    xs.insert(xs.end(), {double(i), 10.0 * i});
    ys.push_back(double(i));
  }
  return {make_tensor(xs, {n, 2}, kFloat32), make_tensor(ys, {n}, kInt64)};
}

// The labels of one epoch, batch after batch.
inline std::vector<std::vector<int64_t>> epoch_labels(data::DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (auto [x, y] : loader) out.push_back(y.to_vector<int64_t>());
  return out;
}

inline std::vector<int64_t> flat(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

inline std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::iota(out.begin(), out.end(), int64_t{0});
  return out;
}

}  // namespace graft::testing
