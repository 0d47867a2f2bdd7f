// DistributedSampler: the ranks' shards cover the dataset, padded and strided exactly as
// PyTorch's DistributedSampler (checked against a transcription of its __iter__), with one
// permutation shared by every rank, a new one each epoch; and a DataLoader over a sampler
// batches those indices, its own epoch choosing the shuffle.
#include "graft/data/distributed_sampler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "data/numbered_dataset.h"
#include "graft/data/epoch_order.h"
#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::data::DataLoader;
using g::data::DistributedSampler;
using g::testing::epoch_labels;
using g::testing::error_message;
using g::testing::flat;
using g::testing::iota;
using g::testing::numbered;
using testing::HasSubstr;

namespace {

// PyTorch's DistributedSampler.__init__ and __iter__ (torch/utils/data/distributed.py), line
// by line over a given order, including its float ceil of a possibly negative (N - R) / R.
std::vector<int64_t> pytorch_shard(std::vector<int64_t> indices, int64_t num_replicas, int64_t rank,
                                   bool drop_last) {
  const auto n = static_cast<int64_t>(indices.size());
  const auto r = static_cast<double>(num_replicas);
  const auto num_samples = static_cast<int64_t>(
      drop_last && n % num_replicas != 0 ? std::ceil(static_cast<double>(n - num_replicas) / r)
                                         : std::ceil(static_cast<double>(n) / r));
  const int64_t total_size = num_samples * num_replicas;
  if (!drop_last) {
    const int64_t padding_size = total_size - n;
    if (padding_size <= n) {  // indices += indices[:padding_size]
      indices.insert(indices.end(), indices.begin(), indices.begin() + padding_size);
    } else {  // indices += (indices * ceil(padding_size / n))[:padding_size]
      std::vector<int64_t> repeated;
      for (int64_t k = 0; k < (padding_size + n - 1) / n; ++k) {
        repeated.insert(repeated.end(), indices.begin(), indices.begin() + n);
      }
      indices.insert(indices.end(), repeated.begin(), repeated.begin() + padding_size);
    }
  } else {  // indices = indices[:total_size]
    indices.resize(static_cast<size_t>(total_size));
  }
  std::vector<int64_t> shard;  // indices[rank:total_size:num_replicas]
  for (int64_t i = rank; i < total_size; i += num_replicas) {
    shard.push_back(indices[static_cast<size_t>(i)]);
  }
  return shard;
}

// Every rank's indices for one epoch.
std::vector<std::vector<int64_t>> shards(int64_t n, int64_t replicas, uint64_t seed, int64_t epoch,
                                         bool drop_last = false) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t rank = 0; rank < replicas; ++rank) {
    DistributedSampler sampler(
        n, {.num_replicas = replicas, .rank = rank, .seed = seed, .drop_last = drop_last});
    out.push_back(sampler.indices(epoch));
  }
  return out;
}

// The padded global order the shards were strided from: position rank + k * R is shard[rank][k].
std::vector<int64_t> interleave(const std::vector<std::vector<int64_t>>& shards) {
  std::vector<int64_t> global;
  for (size_t k = 0; k < shards[0].size(); ++k) {
    for (const auto& shard : shards) global.push_back(shard[k]);
  }
  return global;
}

}  // namespace

// A temporary dataset would dangle, with a sampler as without.
static_assert(!std::is_constructible_v<DataLoader, g::data::TensorDataset&&, int64_t,
                                       const DistributedSampler&>);

TEST(DistributedSampler, ShardsCoverEveryIndexOnceWhenReplicasDivideTheDataset) {
  const auto parts = shards(/*n*/ 12, /*replicas*/ 4, /*seed*/ 3, /*epoch*/ 0);
  std::vector<int64_t> all;
  for (const auto& shard : parts) {
    EXPECT_EQ(shard.size(), 3u);  // 12 / 4
    all.insert(all.end(), shard.begin(), shard.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, iota(12));
}

TEST(DistributedSampler, PadsByRepeatingTheOrderFromItsStart) {
  // Unshuffled, N = 10, R = 4: total_size = ceil(10 / 4) * 4 = 12, the order padded with its
  // first two is 0..9, 0, 1, and rank r takes positions r, r + 4, r + 8.
  std::vector<std::vector<int64_t>> unshuffled;
  for (int64_t rank = 0; rank < 4; ++rank) {
    unshuffled.push_back(
        DistributedSampler(10, {.num_replicas = 4, .rank = rank, .shuffle = false}).indices(0));
  }
  EXPECT_EQ(unshuffled,
            (std::vector<std::vector<int64_t>>{{0, 4, 8}, {1, 5, 9}, {2, 6, 0}, {3, 7, 1}}));
  // N = 3, R = 5: the order repeats until 5 are there, 0, 1, 2, 0, 1: one index per rank.
  for (int64_t rank = 0; rank < 5; ++rank) {
    DistributedSampler sampler(3, {.num_replicas = 5, .rank = rank, .shuffle = false});
    EXPECT_EQ(sampler.size(), 1);
    EXPECT_EQ(sampler.indices(0), (std::vector<int64_t>{rank % 3}));
  }
}

TEST(DistributedSampler, MatchesPyTorchOnEveryShapeOfPadding) {
  struct Case {
    int64_t n, replicas;
  };
  // Divisible, a short tail, N < R (padding longer than the dataset), N = 1, and R = 1.
  for (const Case c : {Case{12, 4}, Case{10, 4}, Case{3, 5}, Case{2, 7}, Case{1, 4}, Case{9, 1}}) {
    for (const bool drop_last : {false, true}) {
      for (const bool shuffle : {false, true}) {
        const int64_t epoch = 2;
        const std::vector<int64_t> order = g::data::epoch_order(c.n, shuffle, /*seed*/ 11, epoch);
        for (int64_t rank = 0; rank < c.replicas; ++rank) {
          SCOPED_TRACE(testing::Message() << "N " << c.n << " R " << c.replicas << " rank " << rank
                                          << " drop_last " << drop_last << " shuffle " << shuffle);
          DistributedSampler sampler(c.n, {.num_replicas = c.replicas,
                                           .rank = rank,
                                           .shuffle = shuffle,
                                           .seed = 11,
                                           .drop_last = drop_last});
          const auto expected = pytorch_shard(order, c.replicas, rank, drop_last);
          EXPECT_EQ(sampler.indices(epoch), expected);
          EXPECT_EQ(sampler.size(), static_cast<int64_t>(expected.size()));
        }
      }
    }
  }
}

TEST(DistributedSampler, DropLastCutsTheTailInsteadOfPadding) {
  // N = 10, R = 4: floor(10 / 4) = 2 each; the first 8 of the order, none twice, 2 left out.
  const auto parts = shards(10, 4, /*seed*/ 5, /*epoch*/ 1, /*drop_last*/ true);
  std::vector<int64_t> all;
  for (const auto& shard : parts) {
    EXPECT_EQ(shard.size(), 2u);
    all.insert(all.end(), shard.begin(), shard.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "an index repeats";
  EXPECT_EQ(all.size(), 8u);
  // Fewer examples than replicas: every rank gets none rather than a repeat.
  EXPECT_EQ(DistributedSampler(3, {.num_replicas = 5, .rank = 4, .drop_last = true}).size(), 0);
}

TEST(DistributedSampler, EveryRankShardsTheSamePermutation) {
  // Interleaving the shards back gives the padded global order; had the ranks shuffled
  // differently, its first N would repeat some indices and miss others.
  const int64_t n = 11, replicas = 3;  // total_size 12: one index of padding
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    const std::vector<int64_t> global = interleave(shards(n, replicas, /*seed*/ 21, epoch));
    ASSERT_EQ(global.size(), 12u);
    std::vector<int64_t> first(global.begin(), global.begin() + n);
    EXPECT_NE(first, iota(n)) << "epoch " << epoch << " was not shuffled";
    EXPECT_EQ(global[11], global[0]) << "the padding repeats the start of the order";
    std::sort(first.begin(), first.end());
    EXPECT_EQ(first, iota(n)) << "epoch " << epoch;
  }
}

TEST(DistributedSampler, EachEpochReshufflesAndEachSeedAndEpochRepeats) {
  const DistributedSampler sampler(40, {.num_replicas = 2, .rank = 1, .seed = 8});
  const DistributedSampler twin(40, {.num_replicas = 2, .rank = 1, .seed = 8});
  const DistributedSampler other_seed(40, {.num_replicas = 2, .rank = 1, .seed = 9});
  EXPECT_NE(sampler.indices(0), sampler.indices(1));
  EXPECT_EQ(sampler.indices(1), sampler.indices(1));  // a pure function of the epoch
  EXPECT_EQ(sampler.indices(1), twin.indices(1));
  EXPECT_NE(sampler.indices(1), other_seed.indices(1));
}

TEST(DistributedSampler, OneReplicaIsTheShuffledLoadersOrder) {
  // With R = 1 the sampler's order is the plain loader's, epoch by epoch: one shuffle serves
  // both, so moving a script to data-parallel keeps its data order on one process.
  const auto dataset = numbered(50);
  DataLoader loader(dataset, 7, /*shuffle*/ true, {.seed = 3});
  const DistributedSampler sampler(50, {.num_replicas = 1, .rank = 0, .seed = 3});
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    EXPECT_EQ(sampler.indices(epoch), flat(epoch_labels(loader))) << "epoch " << epoch;
  }
}

TEST(DistributedSampler, LoaderBatchesTheSamplersIndicesForItsEpoch) {
  const auto dataset = numbered(23);
  // Rank 1 of 3: ceil(23 / 3) = 8 indices, in batches of 3, 3 and 2.
  const DistributedSampler sampler(23, {.num_replicas = 3, .rank = 1, .seed = 9});
  DataLoader loader(dataset, 3, sampler);
  EXPECT_EQ(loader.size(), 3);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    const auto batches = epoch_labels(loader);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(batches[2].size(), 2u);
    EXPECT_EQ(flat(batches), sampler.indices(epoch)) << "epoch " << epoch;
  }
  loader.set_epoch(5);  // resuming: every rank's loader moves to epoch 5's shuffle
  EXPECT_EQ(flat(epoch_labels(loader)), sampler.indices(5));
  EXPECT_EQ(loader.epoch(), 6);
  // The loader's drop_last drops the short last batch of the rank's share.
  DataLoader dropping(dataset, 3, sampler, {.drop_last = true});
  EXPECT_EQ(dropping.size(), 2);
  const auto six = sampler.indices(0);
  EXPECT_EQ(flat(epoch_labels(dropping)), std::vector<int64_t>(six.begin(), six.begin() + 6));
}

TEST(DistributedSampler, EmptyDatasetHasNoIndices) {
  const auto dataset = numbered(0);
  for (const bool drop_last : {false, true}) {
    const DistributedSampler sampler(0, {.num_replicas = 2, .rank = 1, .drop_last = drop_last});
    EXPECT_EQ(sampler.size(), 0);
    EXPECT_TRUE(sampler.indices(0).empty());
    DataLoader loader(dataset, 4, sampler);
    EXPECT_EQ(loader.size(), 0);
    EXPECT_TRUE(loader.begin() == loader.end());
  }
}

TEST(DistributedSampler, RejectsBadArgumentsNamingTheValues) {
  EXPECT_THROW(DistributedSampler(10, {.num_replicas = 0, .rank = 0}), g::Error);
  EXPECT_THAT(error_message([] { DistributedSampler(10, {.num_replicas = 0, .rank = 0}); }),
              HasSubstr("DistributedSampler(): num_replicas must be >= 1, got 0; set it to the "
                        "number of processes"));
  EXPECT_THAT(error_message([] { DistributedSampler(10, {.num_replicas = 4, .rank = 4}); }),
              HasSubstr("DistributedSampler(): invalid rank 4, rank should be in the interval "
                        "[0, 3] for num_replicas 4"));
  // A rank left unset is -1, not a silent rank 0.
  EXPECT_THAT(error_message([] { DistributedSampler(10, {.num_replicas = 2}); }),
              HasSubstr("invalid rank -1"));
  EXPECT_THAT(error_message([] { DistributedSampler(-1, {.num_replicas = 2, .rank = 0}); }),
              HasSubstr("DistributedSampler(): dataset_size must be >= 0, got -1"));
  const auto dataset = numbered(9);
  const DistributedSampler for_ten(10, {.num_replicas = 2, .rank = 0});
  EXPECT_THAT(
      error_message([&] { DataLoader loader(dataset, 2, for_ten); }),
      HasSubstr("DataLoader(): the sampler was made for 10 examples but the dataset has 9"));
  const DistributedSampler for_nine(9, {.num_replicas = 2, .rank = 0});
  EXPECT_THAT(
      error_message([&] { DataLoader loader(dataset, 2, for_nine, {.seed = 4}); }),
      HasSubstr("DataLoaderOptions::seed = 4; set DistributedSamplerOptions::seed instead"));
}
