// Datasets: TensorDataset serves rows as views and gathers batches in one index_select; the
// base class's default get_batch (stacking get(i)) gives the same batches for any dataset.
#include "graft/data/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using testing::HasSubstr;

namespace {

// Only size() and get(): batches come from Dataset's default get_batch.
class SquaresDataset : public g::data::Dataset {
 public:
  int64_t size() const override { return 5; }
  g::data::Example get(int64_t i) const override {
    check_index(i);
    return {make_tensor({double(i), double(i * i)}, {2}, g::kFloat32),
            make_tensor({double(i % 2)}, {}, g::kInt64)};
  }
};

}  // namespace

TEST(TensorDataset, ExamplesAreViewsOfTheRows) {
  const g::Tensor x = make_tensor(sample_values(12), {4, 3}, g::kFloat32);
  const g::Tensor y = make_tensor({0, 1, 2, 3}, {4}, g::kInt64);
  const g::data::TensorDataset dataset(x, y);
  EXPECT_EQ(dataset.size(), 4);
  auto [x2, y2] = dataset.get(2);
  EXPECT_EQ(x2.shape(), g::Shape({3}));
  EXPECT_EQ(y2.shape(), g::Shape({}));
  EXPECT_EQ(y2.item<int64_t>(), 2);
  // A view, not a copy: same memory, row 2 of x.
  EXPECT_EQ(x2.storage(), x.storage());
  EXPECT_EQ(x2.data_ptr<float>(), x.data_ptr<float>() + 6);
}

TEST(TensorDataset, GetBatchGathersTheRowsInIndexOrder) {
  const std::vector<double> values = sample_values(10 * 2 * 3);
  const g::Tensor x = make_tensor(values, {10, 2, 3});
  const g::data::TensorDataset dataset(x, make_tensor(sample_values(10), {10}, g::kInt64));
  const std::vector<int64_t> picks = {7, 0, 7, 3};
  const g::data::Batch batch = dataset.get_batch(g::tensor(picks));
  ASSERT_EQ(batch.x.shape(), g::Shape({4, 2, 3}));
  EXPECT_EQ(batch.y.shape(), g::Shape({4}));
  // Naive reference: batch row b is row picks[b] of the whole tensor.
  const std::vector<double> got = batch.x.to_vector<double>();
  for (size_t b = 0; b < picks.size(); ++b) {
    for (size_t k = 0; k < 6; ++k) EXPECT_EQ(got[b * 6 + k], values[picks[b] * 6 + k]);
  }
}

TEST(TensorDataset, BatchesAreCopiesEvenOfNonContiguousData) {
  const g::Tensor x = make_tensor(sample_values(12), {3, 4}).t();  // (4, 3), strided
  const g::Tensor y = make_tensor({1, 2, 3, 4}, {4}, g::kInt64);
  const g::data::TensorDataset dataset(x, y);
  const g::data::Batch batch = dataset.get_batch(g::tensor(std::vector<int64_t>{3, 1}));
  EXPECT_TRUE(g::equal(batch.x, g::stack({x.select(0, 3), x.select(0, 1)})));
  batch.x.fill_(0);
  EXPECT_FALSE(g::equal(x.select(0, 3), g::zeros({3}, g::kFloat64)));  // x untouched
}

TEST(TensorDataset, RejectsTensorsThatDoNotPair) {
  EXPECT_THAT(error_message([] {
                g::data::TensorDataset d(g::zeros({3, 2}), g::zeros({4}));
              }),
              HasSubstr("the same number of examples (dim 0), got x (3, 2) and y (4,)"));
  EXPECT_THAT(error_message([] { g::data::TensorDataset d(g::zeros({}), g::zeros({1})); }),
              HasSubstr("need a first dim that counts the examples, got shapes () and (1,)"));
  EXPECT_THAT(error_message([] { g::data::TensorDataset d(g::Tensor(), g::zeros({1})); }),
              HasSubstr("must be defined"));
}

TEST(TensorDataset, OutOfRangeIndexIsAnError) {
  const g::data::TensorDataset dataset(g::zeros({3, 2}), g::zeros({3}));
  EXPECT_THAT(error_message([&] { dataset.get(3); }),
              HasSubstr("index 3 is out of range for a dataset of 3 examples (valid indices: 0 "
                        "to 2)"));
  EXPECT_THAT(error_message([&] { dataset.get(-1); }), HasSubstr("index -1 is out of range"));
}

TEST(Dataset, DefaultGetBatchStacksExamples) {
  const SquaresDataset dataset;
  const g::data::Batch batch = dataset.get_batch(g::tensor(std::vector<int64_t>{4, 1, 3}));
  EXPECT_EQ(batch.x.dtype(), g::kFloat32);
  EXPECT_EQ(batch.x.shape(), g::Shape({3, 2}));
  EXPECT_EQ(batch.x.to_vector<double>(), (std::vector<double>{4, 16, 1, 1, 3, 9}));
  EXPECT_EQ(batch.y.shape(), g::Shape({3}));
  EXPECT_EQ(batch.y.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1}));
}

TEST(Dataset, GetBatchChecksItsIndices) {
  const SquaresDataset dataset;
  EXPECT_THAT(error_message([&] { dataset.get_batch(g::tensor({1.0f})); }),
              HasSubstr("expected indices as a 1-D int64 CPU tensor, got shape (1,), dtype "
                        "float32"));
  EXPECT_THAT(error_message([&] { dataset.get_batch(g::zeros({0}, g::kInt64)); }),
              HasSubstr("got no indices"));
  EXPECT_THAT(error_message([&] { dataset.get_batch(g::tensor(std::vector<int64_t>{5})); }),
              HasSubstr("index 5 is out of range for a dataset of 5 examples"));
}
