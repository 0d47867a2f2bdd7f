// DistributedSampler: the share of a dataset one process visits in data-parallel training.
//
//   data::DistributedSampler sampler(train.size(), {.num_replicas = world, .rank = rank});
//   data::DataLoader loader(train, /*batch_size*/64, sampler);
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     for (auto [x, y] : loader) { ... }   // this rank's batches of epoch `epoch`
//   }
//
// PyTorch's torch.utils.data.DistributedSampler, to the index: every rank shuffles the whole
// dataset with the same permutation of (seed, epoch) (epoch_order.h, the one DataLoader uses),
// pads it to total_size = ceil(N / R) * R by repeating the order from its start, as often as
// needed when N < R, and rank r takes order[r], order[r + R], order[r + 2R], ... So every rank
// has the same number of samples, and runs the same number of steps, which data-parallel
// training needs: a rank that ran out early would leave the others waiting in an all-reduce.
// With drop_last the order is cut to floor(N / R) * R instead and no index repeats.
//
// The sampler is a pure function of the epoch: indices(epoch) keeps no state, so it has no
// set_epoch of its own. A DataLoader over a sampler asks it for the loader's epoch, and
// DataLoader::set_epoch is the one counter there is.
//
// num_replicas and rank are given, not looked up: the data layer does not know about
// processes. With graft::distributed they are its world size and rank.
#pragma once

#include <cstdint>
#include <vector>

namespace graft::data {

struct DistributedSamplerOptions {
  int64_t num_replicas = 0;  // processes sharing the dataset (the world size); required
  int64_t rank = -1;         // this process, in [0, num_replicas); required
  bool shuffle = true;       // shuffle each epoch, from (seed, epoch)
  uint64_t seed = 0;         // must be the same on every rank
  bool drop_last = false;    // cut the tail to a multiple of num_replicas instead of padding
};

class DistributedSampler {
 public:
  DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options);

  // This rank's dataset indices in `epoch`, size() of them.
  std::vector<int64_t> indices(int64_t epoch) const;
  // Samples per rank: ceil(N / num_replicas), or floor with drop_last.
  int64_t size() const { return num_samples_; }
  int64_t dataset_size() const { return dataset_size_; }
  const DistributedSamplerOptions& options() const { return options_; }

 private:
  int64_t dataset_size_;
  DistributedSamplerOptions options_;
  int64_t num_samples_;
};

}  // namespace graft::data
