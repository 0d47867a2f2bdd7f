// epoch_order: the order in which one epoch visits a dataset's examples.
//
// The one shuffle of the data layer: DataLoader and DistributedSampler both call it, so a
// sampler with one replica visits examples in exactly the order a shuffled loader does, and
// every process of a data-parallel run computes the same permutation from the same (seed,
// epoch). It is a Fisher-Yates shuffle driven by std::mt19937_64 (fully specified by the
// standard) with an unbiased draw of our own, not std::shuffle, whose output differs between
// standard libraries; it never touches graft's global random stream, so loading data does not
// change a model's initialisation.
#pragma once

#include <cstdint>
#include <vector>

namespace graft::data {

// 0..n-1, shuffled from (seed, epoch) when `shuffle` is set, else in order.
std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch);

}  // namespace graft::data
