// DistributedSampler: one rank's strided share of the padded epoch order; see
// distributed_sampler.h.
#include "graft/data/distributed_sampler.h"

#include "graft/core/error.h"
#include "graft/data/epoch_order.h"

namespace graft::data {

DistributedSampler::DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options)
    : dataset_size_(dataset_size), options_(options) {
  const int64_t replicas = options.num_replicas;
  GRAFT_CHECK(dataset_size >= 0, "DistributedSampler(): dataset_size must be >= 0, got ",
              dataset_size);
  GRAFT_CHECK(replicas >= 1, "DistributedSampler(): num_replicas must be >= 1, got ", replicas,
              "; set it to the number of processes sharing the dataset (the world size)");
  GRAFT_CHECK(options.rank >= 0 && options.rank < replicas, "DistributedSampler(): invalid rank ",
              options.rank, ", rank should be in the interval [0, ", replicas - 1,
              "] for num_replicas ", replicas, "; set it to this process's rank");
  const int64_t whole = dataset_size / replicas;  // written so that N + R - 1 cannot overflow
  num_samples_ = options.drop_last || dataset_size % replicas == 0 ? whole : whole + 1;
}

std::vector<int64_t> DistributedSampler::indices(int64_t epoch) const {
  const std::vector<int64_t> order =
      epoch_order(dataset_size_, options_.shuffle, options_.seed, epoch);
  // The padded order is order[i % N] for i < total_size (the padding starts the order over);
  // this rank takes its positions rank, rank + R, ... of it.
  std::vector<int64_t> mine(static_cast<size_t>(num_samples_));
  for (int64_t k = 0; k < num_samples_; ++k) {
    const int64_t i = options_.rank + k * options_.num_replicas;
    mine[static_cast<size_t>(k)] = order[static_cast<size_t>(i % dataset_size_)];
  }
  return mine;
}

}  // namespace graft::data
