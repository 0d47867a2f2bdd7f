// epoch_order: a Fisher-Yates permutation from (seed, epoch); see epoch_order.h.
#include "graft/data/epoch_order.h"

#include <numeric>
#include <random>
#include <utility>

namespace graft::data {

namespace {

// Uniform in [0, bound): rejection removes the bias of a plain modulo.
uint64_t draw_below(std::mt19937_64& generator, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t r = generator();
  while (r >= limit) r = generator();
  return r % bound;
}

}  // namespace

std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  const auto e = static_cast<uint64_t>(epoch);
  std::seed_seq seeds{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(e), static_cast<uint32_t>(e >> 32)};
  std::mt19937_64 generator(seeds);
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[draw_below(generator, i)]);
  }
  return order;
}

}  // namespace graft::data
