// Datasets: indexable collections of (x, y) examples, the input side of a DataLoader.
//
// A Dataset answers two questions, size() and get(i). get_batch(indices) has a default that
// stacks get(i) one example at a time, which is correct for any dataset; datasets whose
// examples are rows of one big tensor (TensorDataset, and FashionMNIST through it) override
// it with a single index_select per tensor, which is what makes batching cheap: one gather of
// 64 rows instead of 64 tiny tensors and a stack.
//
// The DataLoader calls get/get_batch from its prefetch thread, so they must be safe to call
// concurrently with the caller's own use of the dataset (const and free of shared mutable
// state; every dataset here is).
#pragma once

#include <cstdint>

#include "graft/core/tensor.h"

namespace graft::data {

// One example (x, y), or a batch of them: for a batch, dim 0 of x and y counts the examples.
// Plain aggregate, so structured bindings work: `auto [x, y] = dataset.get(0);`.
struct Example {
  Tensor x;
  Tensor y;
};
using Batch = Example;

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  // Example `index`, 0 <= index < size().
  virtual Example get(int64_t index) const = 0;
  // The examples at `indices` (an int64 (B,) CPU tensor), stacked along a new dim 0:
  // x (B, ...), y (B, ...). The result never shares memory with the dataset, so a caller may
  // modify a batch in place. The default stacks get(i); override it when there is a faster way.
  virtual Batch get_batch(const Tensor& indices) const;

 protected:
  // Throws the graft::Error every dataset gives for an index outside [0, size()).
  void check_index(int64_t index) const;
};

// Examples that are the rows of two tensors: example i is (x[i], y[i]). get(i) returns views
// (no copy); get_batch gathers the rows with index_select.
class TensorDataset : public Dataset {
 public:
  // x and y have at least one dim and the same size along dim 0 (the number of examples).
  TensorDataset(Tensor x, Tensor y);

  int64_t size() const override { return x_.size(0); }
  Example get(int64_t index) const override;
  Batch get_batch(const Tensor& indices) const override;

  // The whole tensors, every example at once: x (N, ...), y (N, ...).
  const Tensor& x() const { return x_; }
  const Tensor& y() const { return y_; }

 private:
  Tensor x_;
  Tensor y_;
};

}  // namespace graft::data
