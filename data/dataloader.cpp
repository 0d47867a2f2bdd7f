// DataLoader: an epoch's order, its batches, and the prefetch thread that builds them.
//
// DataLoader::Epoch owns everything one pass needs (the order, the queue, the thread) and refers
// to the dataset only, not to the loader, so an iterator stays valid on its own. The queue
// is a deque behind one mutex and one condition variable: the worker waits for room, the
// caller waits for a batch, and the destructor's stop flag wakes both.
#include "graft/data/dataloader.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "graft/data/epoch_order.h"

namespace graft::data {

class DataLoader::Epoch {
 public:
  Epoch(const Dataset& dataset, std::vector<int64_t> order, int64_t batch_size, int64_t num_batches,
        bool prefetch)
      : dataset_(dataset),
        order_(std::move(order)),
        batch_size_(batch_size),
        num_batches_(num_batches) {
    if (prefetch && num_batches_ > 0) worker_ = std::thread([this] { produce(); });
  }

  ~Epoch() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  // The next batch, or nullopt after the last one. An error from building a batch is
  // rethrown here, and ends the epoch.
  std::optional<Batch> next() {
    if (taken_ == num_batches_) return std::nullopt;
    try {
      const int64_t b = taken_++;
      return worker_.joinable() ? take_prefetched() : make_batch(b);  // joinable: prefetching
    } catch (...) {
      taken_ = num_batches_;
      throw;
    }
  }

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  // Batch b: rows b * batch_size ... of the order, gathered by the dataset.
  Batch make_batch(int64_t b) const {
    const int64_t start = b * batch_size_;
    const int64_t count =
        std::min<int64_t>(batch_size_, static_cast<int64_t>(order_.size()) - start);
    Tensor indices = empty({count}, kInt64);
    std::memcpy(indices.data_ptr(), order_.data() + start,
                static_cast<size_t>(count) * sizeof(int64_t));
    return dataset_.get_batch(indices);
  }

  Batch take_prefetched() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !queue_.empty(); });
    Slot slot = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    changed_.notify_all();
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(slot.batch);
  }

  // The worker: builds every batch in order, waiting while kPrefetchDepth are queued; stops
  // after an error (handed to the caller) or when the epoch is destroyed.
  void produce() {
    for (int64_t b = 0; b < num_batches_; ++b) {
      Slot slot;
      try {
        slot.batch = make_batch(b);
      } catch (...) {
        slot.error = std::current_exception();
      }
      const bool failed = slot.error != nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(
            lock, [this] { return stop_ || static_cast<int64_t>(queue_.size()) < kPrefetchDepth; });
        if (stop_) return;
        queue_.push_back(std::move(slot));
      }
      changed_.notify_all();
      if (failed) return;
    }
  }

  const Dataset& dataset_;
  const std::vector<int64_t> order_;
  const int64_t batch_size_;
  const int64_t num_batches_;
  int64_t taken_ = 0;  // batches handed to the caller (caller's thread only)

  std::mutex mutex_;
  std::condition_variable changed_;  // the queue or stop_ changed
  std::deque<Slot> queue_;
  bool stop_ = false;
  std::thread worker_;  // joined by the destructor, before the members it uses die
};

DataLoader::DataLoader(const Dataset& dataset, int64_t batch_size, bool shuffle,
                       DataLoaderOptions options)
    : dataset_(&dataset), batch_size_(batch_size), shuffle_(shuffle), options_(options) {
  GRAFT_CHECK(batch_size > 0, "DataLoader(): batch_size must be positive, got ", batch_size);
}

DataLoader::DataLoader(const Dataset& dataset, int64_t batch_size,
                       const DistributedSampler& sampler, DataLoaderOptions options)
    : DataLoader(dataset, batch_size, /*shuffle*/ false, options) {
  GRAFT_CHECK(sampler.dataset_size() == dataset.size(), "DataLoader(): the sampler was made for ",
              sampler.dataset_size(), " examples but the dataset has ", dataset.size(),
              "; construct the DistributedSampler with dataset.size()");
  GRAFT_CHECK(options.seed == 0, "DataLoader(): over a sampler the sampler's seed shuffles, got ",
              "DataLoaderOptions::seed = ", options.seed,
              "; set DistributedSamplerOptions::seed instead");
  sampler_ = sampler;
}

int64_t DataLoader::size() const {
  const int64_t n = sampler_ ? sampler_->size() : dataset_->size();
  return options_.drop_last ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

DataLoader::Iterator DataLoader::begin() {
  const int64_t epoch = epoch_++;
  auto order = sampler_ ? sampler_->indices(epoch)
                        : epoch_order(dataset_->size(), shuffle_, options_.seed, epoch);
  return Iterator(
      std::make_unique<Epoch>(*dataset_, std::move(order), batch_size_, size(), options_.prefetch));
}

DataLoader::Iterator::Iterator(std::unique_ptr<Epoch> epoch) : epoch_(std::move(epoch)) { ++*this; }

DataLoader::Iterator::Iterator(Iterator&&) noexcept = default;
DataLoader::Iterator& DataLoader::Iterator::operator=(Iterator&&) noexcept = default;
DataLoader::Iterator::~Iterator() = default;

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  done_ = true;  // stays so when building the batch throws: the epoch ends there
  batch_ = {};
  std::optional<Batch> batch = epoch_->next();
  done_ = !batch.has_value();
  if (batch) batch_ = std::move(*batch);
  return *this;
}

}  // namespace graft::data
