// DataLoader: every example once per epoch, in seeded shuffles that change each epoch,
// batches shaped (B, ...), drop_last, and a prefetch thread that stops when the loop does
// and hands its errors to the caller.
#include "graft/data/dataloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <ranges>

#include "data/numbered_dataset.h"
#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::data::DataLoader;
using g::testing::epoch_labels;
using g::testing::error_message;
using g::testing::flat;
using g::testing::iota;
using g::testing::numbered;
using testing::HasSubstr;

namespace {

// A dataset whose get_batch counts its calls and throws when asked for example `bad`.
class Faulty : public g::data::TensorDataset {
 public:
  Faulty(int64_t n, int64_t bad, bool graft_error)
      : TensorDataset(numbered(n)), bad_(bad), graft_error_(graft_error) {}
  g::data::Batch get_batch(const g::Tensor& indices) const override {
    ++calls;
    for (int64_t i : indices.to_vector<int64_t>()) {
      if (i == bad_ && graft_error_) throw g::Error("Faulty: example " + std::to_string(i));
      if (i == bad_) throw std::logic_error("not a graft error");
    }
    return TensorDataset::get_batch(indices);
  }
  mutable std::atomic<int> calls = 0;

 private:
  int64_t bad_;
  bool graft_error_;
};

}  // namespace

static_assert(std::input_iterator<DataLoader::Iterator>);
static_assert(std::ranges::input_range<DataLoader>);
// A temporary dataset would dangle: DataLoader(FashionMNIST(...), 64) does not compile.
static_assert(!std::is_constructible_v<DataLoader, g::data::TensorDataset&&, int64_t>);

TEST(DataLoader, BatchesAreStackedRowsInOrderWithoutShuffle) {
  const auto dataset = numbered(10);
  DataLoader loader(dataset, 4);
  EXPECT_EQ(loader.size(), 3);  // ceil(10 / 4)
  EXPECT_EQ(loader.batch_size(), 4);
  std::vector<g::Shape> shapes;
  for (auto [x, y] : loader) {
    shapes.push_back(x.shape());
    EXPECT_EQ(x.dtype(), g::kFloat32);
    EXPECT_EQ(y.dtype(), g::kInt64);
    EXPECT_EQ(y.dim(), 1);
    // Each row of x belongs with its label: x = (i, 10 i).
    const auto xv = x.to_vector<double>();
    const auto yv = y.to_vector<int64_t>();
    for (size_t b = 0; b < yv.size(); ++b) {
      EXPECT_EQ(xv[2 * b], double(yv[b]));
      EXPECT_EQ(xv[2 * b + 1], 10.0 * double(yv[b]));
    }
  }
  EXPECT_EQ(shapes, (std::vector<g::Shape>{{4, 2}, {4, 2}, {2, 2}}));
  EXPECT_EQ(flat(epoch_labels(loader)), iota(10));
}

TEST(DataLoader, ShuffledEpochCoversEveryExampleExactlyOnce) {
  const auto dataset = numbered(103);
  DataLoader loader(dataset, 8, /*shuffle*/ true, {.seed = 7});
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> seen = flat(epoch_labels(loader));
    EXPECT_NE(seen, iota(103)) << "epoch " << epoch << " was not shuffled";
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, iota(103)) << "epoch " << epoch;
  }
  EXPECT_EQ(loader.epoch(), 3);
}

TEST(DataLoader, ShuffleIsSeededAndDiffersBetweenEpochs) {
  const auto dataset = numbered(50);
  DataLoader a(dataset, 16, true, {.seed = 1});
  DataLoader b(dataset, 16, true, {.seed = 1});
  DataLoader other_seed(dataset, 16, true, {.seed = 2});
  const auto a0 = epoch_labels(a), a1 = epoch_labels(a);
  EXPECT_EQ(a0, epoch_labels(b));  // same seed, same epoch: same batches
  EXPECT_EQ(a1, epoch_labels(b));
  EXPECT_NE(a0, a1);  // each epoch reshuffles
  EXPECT_NE(a0, epoch_labels(other_seed));
  // A resumed run: set_epoch(1) replays epoch 1 exactly.
  DataLoader resumed(dataset, 16, true, {.seed = 1});
  resumed.set_epoch(1);
  EXPECT_EQ(epoch_labels(resumed), a1);
}

TEST(DataLoader, ShuffleOrderIsPinned) {
  // Pinned so that a change of generator (and of every run's data order) is noticed: the
  // order must not depend on the standard library, which is why the loader draws its own.
  const auto dataset = numbered(10);
  DataLoader loader(dataset, 10, true, {.seed = 42});
  EXPECT_EQ(flat(epoch_labels(loader)), (std::vector<int64_t>{0, 6, 5, 1, 3, 9, 7, 8, 4, 2}));
}

TEST(DataLoader, DropLastDropsOnlyAnIncompleteBatch) {
  const auto dataset = numbered(10);
  DataLoader dropping(dataset, 4, false, {.drop_last = true});
  EXPECT_EQ(dropping.size(), 2);
  EXPECT_EQ(epoch_labels(dropping),
            (std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  DataLoader exact(dataset, 5, false, {.drop_last = true});
  EXPECT_EQ(exact.size(), 2);
  EXPECT_EQ(flat(epoch_labels(exact)), iota(10));
  DataLoader too_big(dataset, 11, false, {.drop_last = true});
  EXPECT_EQ(too_big.size(), 0);
  EXPECT_TRUE(epoch_labels(too_big).empty());
}

TEST(DataLoader, PrefetchDoesNotChangeTheBatches) {
  const auto dataset = numbered(37);
  DataLoader prefetching(dataset, 5, true, {.seed = 3, .prefetch = true});
  DataLoader inline_loader(dataset, 5, true, {.seed = 3, .prefetch = false});
  for (int epoch = 0; epoch < 2; ++epoch) {
    EXPECT_EQ(epoch_labels(prefetching), epoch_labels(inline_loader));
  }
}

TEST(DataLoader, EmptyDatasetHasNoBatches) {
  const auto dataset = numbered(0);
  DataLoader loader(dataset, 4, true);
  EXPECT_EQ(loader.size(), 0);
  EXPECT_TRUE(loader.begin() == loader.end());
}

TEST(DataLoader, BatchesDoNotShareMemoryWithTheDataset) {
  const auto dataset = numbered(4);
  DataLoader loader(dataset, 2);
  for (auto [x, y] : loader) x.fill_(-1);
  EXPECT_EQ(dataset.x().to_vector<double>(), (std::vector<double>{0, 0, 1, 10, 2, 20, 3, 30}));
}

TEST(DataLoader, BreakStopsThePrefetchThread) {
  const Faulty dataset(1000, /*bad*/ -1, true);
  DataLoader loader(dataset, 10);
  int seen = 0;
  for (auto [x, y] : loader) {
    if (++seen == 2) break;
  }
  // Two batches taken, at most kPrefetchDepth queued and one being built when the loop left.
  EXPECT_LE(dataset.calls.load(), 2 + DataLoader::kPrefetchDepth + 1);
  // The loader starts afresh (the next epoch) after a break.
  const int before = dataset.calls.load();
  EXPECT_EQ(flat(epoch_labels(loader)).size(), 1000u);
  EXPECT_EQ(dataset.calls.load() - before, 100);
}

TEST(DataLoader, IteratorOutlivesItsLoader) {
  const auto dataset = numbered(6);
  auto loader = std::make_unique<DataLoader>(dataset, 2);
  DataLoader::Iterator it = loader->begin();
  loader.reset();
  std::vector<int64_t> seen;
  for (; it != std::default_sentinel; ++it) {
    const auto y = it->y.to_vector<int64_t>();
    seen.insert(seen.end(), y.begin(), y.end());
  }
  EXPECT_EQ(seen, iota(6));
}

TEST(DataLoader, WorkerErrorReachesTheCallerAtItsBatch) {
  for (const bool prefetch : {true, false}) {
    SCOPED_TRACE(prefetch ? "prefetch" : "inline");
    const Faulty dataset(20, /*bad*/ 13, true);
    DataLoader loader(dataset, 4, false, {.prefetch = prefetch});
    std::vector<int64_t> seen;
    const std::string message = error_message([&] {
      for (auto [x, y] : loader) {
        const auto labels = y.to_vector<int64_t>();
        seen.insert(seen.end(), labels.begin(), labels.end());
      }
    });
    EXPECT_THAT(message, HasSubstr("Faulty: example 13"));
    EXPECT_EQ(seen, iota(12));  // batches 0-2 arrived; batch 3 holds example 13
  }
}

TEST(DataLoader, WorkerErrorKeepsItsTypeAndEndsTheEpoch) {
  const Faulty first_bad(20, /*bad*/ 0, false);
  DataLoader failing_first(first_bad, 4);
  EXPECT_THROW(failing_first.begin(), std::logic_error);  // batch 0 fails inside begin()
  const Faulty third_bad(20, /*bad*/ 9, false);
  DataLoader loader(third_bad, 4);
  DataLoader::Iterator it = loader.begin();
  ++it;                                  // batch 1: examples 4-7
  EXPECT_THROW(++it, std::logic_error);  // batch 2 holds example 9
  EXPECT_TRUE(it == loader.end());
}

TEST(DataLoader, RejectsNonPositiveBatchSize) {
  const auto dataset = numbered(3);
  EXPECT_THAT(error_message([&] { DataLoader loader(dataset, 0); }),
              HasSubstr("DataLoader(): batch_size must be positive, got 0"));
}
