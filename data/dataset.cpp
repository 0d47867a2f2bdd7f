// Dataset's default batching (stack one example at a time) and TensorDataset (gather rows).
#include "graft/data/dataset.h"

#include <vector>

#include "graft/autograd/ops.h"

namespace graft::data {

namespace {

void check_indices(const Tensor& indices) {
  GRAFT_CHECK(indices.dtype() == kInt64 && indices.dim() == 1 && indices.is_cpu(),
              "Dataset::get_batch(): expected indices as a 1-D int64 CPU tensor, got shape ",
              indices.shape(), ", dtype ", indices.dtype(), " on ", indices.device().str());
}

}  // namespace

void Dataset::check_index(int64_t index) const {
  GRAFT_CHECK(index >= 0 && index < size(), "Dataset::get(): index ", index,
              " is out of range for a dataset of ", size(), " examples (valid indices: 0 to ",
              size() - 1, ")");
}

Batch Dataset::get_batch(const Tensor& indices) const {
  check_indices(indices);
  GRAFT_CHECK(indices.numel() > 0,
              "Dataset::get_batch(): got no indices; the default get_batch stacks examples and "
              "needs at least one to know their shape");
  std::vector<Tensor> xs, ys;
  xs.reserve(static_cast<size_t>(indices.numel()));
  ys.reserve(static_cast<size_t>(indices.numel()));
  for (const int64_t index : indices.to_vector<int64_t>()) {
    Example example = get(index);
    xs.push_back(std::move(example.x));
    ys.push_back(std::move(example.y));
  }
  return {stack(xs), stack(ys)};
}

TensorDataset::TensorDataset(Tensor x, Tensor y) : x_(std::move(x)), y_(std::move(y)) {
  GRAFT_CHECK(x_.defined() && y_.defined(), "TensorDataset(): x and y must be defined tensors");
  GRAFT_CHECK(x_.dim() >= 1 && y_.dim() >= 1,
              "TensorDataset(): x and y need a first dim that counts the examples, got shapes ",
              x_.shape(), " and ", y_.shape());
  GRAFT_CHECK(x_.size(0) == y_.size(0),
              "TensorDataset(): x and y must hold the same number of examples (dim 0), got x ",
              x_.shape(), " and y ", y_.shape());
}

Example TensorDataset::get(int64_t index) const {
  check_index(index);
  return {x_.select(0, index), y_.select(0, index)};
}

Batch TensorDataset::get_batch(const Tensor& indices) const {
  check_indices(indices);
  return {index_select(x_, 0, indices.to(x_.device())),
          index_select(y_, 0, indices.to(y_.device()))};
}

}  // namespace graft::data
