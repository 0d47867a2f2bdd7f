// The default dtype (core/dtype.h), as PyTorch's torch.get_default_dtype(): float32 unless
// set_default_dtype changes it, and what takes it: tensor() from floating values (as
// libtorch's torch::tensor), factories without a dtype, and the float that integers are
// promoted to. Each test puts the setting back, so the rest of the suite sees float32.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

class DefaultDtype : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = g::get_default_dtype(); }
  void TearDown() override { g::set_default_dtype(saved_); }

 private:
  g::DType saved_ = g::kFloat32;
};

std::string str(const g::Tensor& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

}  // namespace

TEST_F(DefaultDtype, IsFloat32AndTensorLiteralsFollowLibtorch) {
  EXPECT_EQ(g::get_default_dtype(), g::kFloat32);
  EXPECT_EQ(g::tensor({1.5}).dtype(), g::kFloat32);  // torch::tensor({1.5}) is float32 too
  EXPECT_EQ(g::tensor({1.5, 2.0}).dtype(), g::kFloat32);
  EXPECT_EQ(g::tensor({{1.5}, {2.0}}).dtype(), g::kFloat32);
  EXPECT_EQ(g::tensor(std::vector<double>{1.5}).dtype(), g::kFloat32);
  EXPECT_EQ(g::tensor({1, 2}).dtype(), g::kInt64);
  EXPECT_EQ(g::tensor({true}).dtype(), g::kBool);
  // An explicit dtype keeps every digit: the values pass through double on the way.
  const g::Tensor exact = g::tensor({0.1, 1.0 / 3}, g::kFloat64);
  EXPECT_EQ(exact.dtype(), g::kFloat64);
  EXPECT_EQ(exact.to_vector<double>(), (std::vector<double>{0.1, 1.0 / 3}));
  EXPECT_EQ(g::tensor(std::vector<double>{0.1}, g::kFloat64).item<double>(), 0.1);
}

TEST_F(DefaultDtype, SetDefaultDtypeChangesEveryFloatingDefault) {
  g::set_default_dtype(g::kFloat64);
  EXPECT_EQ(g::get_default_dtype(), g::kFloat64);
  // tensor() from floating values, float included (libtorch's rule), not from integers.
  EXPECT_EQ(g::tensor({1.5}).dtype(), g::kFloat64);
  EXPECT_EQ(g::tensor({1.5f}).dtype(), g::kFloat64);
  EXPECT_EQ(g::tensor({1, 2}).dtype(), g::kInt64);
  EXPECT_EQ(g::tensor({true}).dtype(), g::kBool);
  // Factories without a dtype.
  for (const g::Tensor& t :
       {g::empty({2}), g::zeros({2}), g::ones({2}), g::rand({2}), g::randn({2}), g::full({2}, 7.0),
        g::arange(0.0, 2.0), g::linspace(0, 1, 3), g::eye(2)})
    EXPECT_EQ(t.dtype(), g::kFloat64);
  EXPECT_EQ(g::full({2}, 7).dtype(), g::kInt64);
  EXPECT_EQ(g::arange(0, 2).dtype(), g::kInt64);
  // The float integers become: torch.set_default_dtype(torch.float64);
  // torch.tensor([1, 2]).exp().dtype is torch.float64, and so on.
  const g::Tensor ints = g::tensor({1, 3});
  EXPECT_EQ(ints.exp().dtype(), g::kFloat64);
  EXPECT_EQ((ints / 3).dtype(), g::kFloat64);
  EXPECT_EQ((ints / 3).to_vector<double>(), (std::vector<double>{1.0 / 3, 1.0}));
  EXPECT_EQ((ints + 0.5).dtype(), g::kFloat64);
  EXPECT_EQ(g::logsumexp(ints).dtype(), g::kFloat64);
  // Modules create their parameters in it, as PyTorch's do.
  EXPECT_EQ(g::nn::Linear(2, 3).parameters()[0].dtype(), g::kFloat64);
  // And repr leaves it out, as PyTorch's does.
  EXPECT_EQ(str(g::tensor({1.5, 2.0})), "tensor([1.5000, 2.0000])");
  EXPECT_EQ(str(g::tensor({1.5, 2.0}, g::kFloat32)), "tensor([1.5000, 2.0000], dtype=float32)");
}

TEST_F(DefaultDtype, ExplicitDtypesAndTensorsStillDecide) {
  g::set_default_dtype(g::kFloat64);
  EXPECT_EQ(g::zeros({2}, g::kFloat32).dtype(), g::kFloat32);
  EXPECT_EQ(g::tensor({1.5}, g::kFloat32).dtype(), g::kFloat32);
  const g::Tensor f32 = g::ones({2}, g::kFloat32);
  EXPECT_EQ((f32 + 2.5).dtype(), g::kFloat32);  // a float32 tensor is not widened by a number
  EXPECT_EQ(f32.exp().dtype(), g::kFloat32);
  g::set_default_dtype(g::kFloat32);
  EXPECT_EQ(g::zeros({2}).dtype(), g::kFloat32);
  EXPECT_EQ((g::tensor({1, 2}) / 2).dtype(), g::kFloat32);
}

TEST_F(DefaultDtype, OnlyFloatingDtypesAreAccepted) {
  for (g::DType dtype : {g::kBool, g::kUInt8, g::kInt32, g::kInt64})
    EXPECT_THAT(error_message([&] { g::set_default_dtype(dtype); }),
                HasSubstr("set_default_dtype(): only floating-point types are supported as the "
                          "default type, got " +
                          std::string(g::dtype_name(dtype))));
  EXPECT_EQ(g::get_default_dtype(), g::kFloat32);  // unchanged by the refused calls
}
