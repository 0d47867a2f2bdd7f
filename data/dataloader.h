// DataLoader: iterates a Dataset in batches, optionally shuffled, with a prefetch thread.
//
//   data::DataLoader loader(train, /*batch_size*/64, /*shuffle*/true, {.seed = 1});
//   for (auto [x, y] : loader) { ... }   // x: (64, 1, 28, 28) float32, y: (64,) int64
//
// Each begin() starts an epoch: its order is a permutation drawn from (seed, epoch)
// (epoch_order.h), so the epochs differ from each other yet a run with the same seed sees the
// same batches, and a resumed run can set_epoch() to continue where it left off.
//
// Over a DistributedSampler, the loader batches the sampler's indices for its own epoch:
//
//   data::DistributedSampler sampler(train.size(), {.num_replicas = 4, .rank = rank});
//   data::DataLoader loader(train, 64, sampler);   // this rank's quarter, shuffled per epoch
//
// There is one epoch counter, the loader's: unlike PyTorch, where forgetting
// sampler.set_epoch(e) silently repeats epoch 0's shuffle, begin() moves every rank to the
// next shuffle by itself, and set_epoch() here is the only one there is.
//
// With prefetch on (the default), a background thread builds the next batches while the
// caller computes on the current one, holding at most kPrefetchDepth finished batches. The
// thread belongs to the iterator: leaving the loop early (break, an exception) destroys the
// iterator, which stops and joins the thread. An exception thrown while building a batch is
// carried over to the caller and rethrown where that batch would have been returned; the
// epoch ends there.
//
// The loader keeps a reference to the dataset, which must outlive the loader and its
// iterators; the dataset's get/get_batch run on the prefetch thread (see dataset.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>

#include "graft/data/dataset.h"
#include "graft/data/distributed_sampler.h"

namespace graft::data {

struct DataLoaderOptions {
  uint64_t seed = 0;       // with (epoch), picks each epoch's shuffle (a sampler has its own)
  bool drop_last = false;  // drop a last batch smaller than batch_size
  bool prefetch = true;    // build batches on a background thread
};

class DataLoader {
 public:
  // Finished batches the prefetch thread may hold ahead of the caller.
  static constexpr int64_t kPrefetchDepth = 2;

  class Iterator;

  DataLoader(const Dataset& dataset, int64_t batch_size, bool shuffle = false,
             DataLoaderOptions options = {});
  // A temporary dataset would die before the loop runs: keep the dataset in a variable.
  DataLoader(const Dataset&& dataset, int64_t batch_size, bool shuffle = false,
             DataLoaderOptions options = {}) = delete;
  // Batches this rank's share, sampler.indices(epoch()), in its order; the sampler shuffles
  // (options.seed must stay 0) and must be made for dataset.size() examples. drop_last drops
  // a last short batch of the share.
  DataLoader(const Dataset& dataset, int64_t batch_size, const DistributedSampler& sampler,
             DataLoaderOptions options = {});
  DataLoader(const Dataset&& dataset, int64_t batch_size, const DistributedSampler& sampler,
             DataLoaderOptions options = {}) = delete;

  // Batches per epoch: ceil(N / batch_size), or floor with drop_last; N is sampler.size()
  // over a sampler.
  int64_t size() const;
  int64_t batch_size() const { return batch_size_; }
  // The epoch the next begin() starts (0 at first); set it to resume a run mid-way.
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch) { epoch_ = epoch; }

  // Starts the next epoch (and its prefetch thread); the first batch is ready on return.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

 private:
  class Epoch;  // one epoch's order, queue and prefetch thread (dataloader.cpp)

  const Dataset* dataset_;
  int64_t batch_size_;
  bool shuffle_;
  DataLoaderOptions options_;
  std::optional<DistributedSampler> sampler_;  // set: the epoch's order is its indices
  int64_t epoch_ = 0;
};

// A single-pass iterator over one epoch's batches; compares equal to end() when done.
class DataLoader::Iterator {
 public:
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::input_iterator_tag;

  Iterator(Iterator&&) noexcept;
  Iterator& operator=(Iterator&&) noexcept;
  ~Iterator();  // stops and joins the prefetch thread

  const Batch& operator*() const { return batch_; }
  const Batch* operator->() const { return &batch_; }
  Iterator& operator++();  // rethrows an error from building the batch
  void operator++(int) { ++*this; }
  friend bool operator==(const Iterator& it, std::default_sentinel_t) { return it.done_; }

 private:
  friend class DataLoader;
  explicit Iterator(std::unique_ptr<Epoch> epoch);

  std::unique_ptr<Epoch> epoch_;
  Batch batch_;
  bool done_ = false;
};

}  // namespace graft::data
