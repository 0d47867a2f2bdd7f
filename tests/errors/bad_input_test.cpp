// The table of bad inputs: one row per class of mistake a user makes, each with the message
// graft must answer with. A row checks that the mistake is a graft::Error (never a crash or
// garbage) and that its message names what the user needs to fix it: the op, the shapes,
// dtypes or devices involved, and the way out when there is one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "graft/graft.h"
#include "temp_files.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

struct BadInput {
  std::string name;                   // the row's test name: the class of input, then the case
  std::function<void()> run;          // makes the mistake
  std::vector<std::string> messages;  // parts the error must contain
};

g::Tensor range(const g::Shape& shape) {
  return g::arange(static_cast<double>(shape.numel())).reshape(shape);
}

// A checkpoint file holding `state`, written by graft::save, with its path.
std::filesystem::path checkpoint(const g::testing::TempDir& dir, const g::StateDict& state) {
  const std::filesystem::path path = dir / "model.safetensors";
  g::save(state, path);
  return path;
}

std::vector<BadInput> rows() {
  const int64_t huge = int64_t{1} << 48;
  return {
      // ---- shapes
      {"Shape_MatmulInnerDims",
       [] {
         g::matmul(range({2, 3}), range({4, 5}));
       },
       {"matmul", "2x3 and 4x5"}},
      {"Shape_BroadcastMismatch",
       [] {
         g::add(range({2, 3}), range({4}));
       },
       {"the size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension "
        "1"}},
      {"Shape_ReshapeCount",
       [] {
         range({2, 3}).reshape({4});
       },
       {"reshape", "(4,)", "size 6"}},
      {"Shape_CatOtherDims",
       [] {
         g::cat({range({2, 3}), range({2, 4})}, 0);
       },
       {"cat", "(2, 4)"}},
      {"Shape_LinearFeatures",
       [] {
         g::nn::Linear(3, 2).forward(range({5, 4}));
       },
       {"(5, 4)", "3"}},
      {"Shape_NegativeSize",
       [] {
         g::zeros({2, -1});
       },
       {"negative dimension -1"}},
      // ---- dtypes
      {"DType_DataPtrOfAnotherType",
       [] { range({2}).data_ptr<double>(); },
       {"data_ptr<float64>()", "float32", ".to(float64)"}},
      {"DType_InPlaceResultWouldNarrow",
       [] { g::ones({2}, g::kInt64).add_(g::ones({2}, g::kFloat32)); },
       {"float32", "int64"}},
      {"DType_NormOfIntegers", [] { g::norm(g::ones({2}, g::kInt64)); }, {"norm", "int64"}},
      {"DType_IntegerDivisionByZero",
       [] { g::remainder(g::ones({2}, g::kInt64), g::zeros({2}, g::kInt64)); },
       {"remainder", "division by zero"}},
      {"DType_FillBeyondTheRange",
       [] { g::zeros({2}, g::kFloat16).fill_(1e5); },
       {"fill_", "value 100000 cannot be converted to float16 without overflow"}},
      {"DType_FullBeyondTheRange",
       [] { g::full({2}, 300, g::kUInt8); },
       {"full", "value 300 cannot be converted to uint8 without overflow"}},
      {"DType_MaskedFillBeyondTheRange",
       [] { g::zeros({2}, g::kInt32).masked_fill(g::ones({2}, g::kBool), 3e9); },
       {"masked_fill", "cannot be converted to int32 without overflow"}},
      {"DType_FillIntegersWithNaN",
       [] { g::zeros({2}, g::kInt64).fill_(std::nan("")); },
       {"fill_", "nan", "int64"}},
      {"Shape_MaskedFillMaskDoesNotBroadcast",
       [] { g::zeros({3}).masked_fill(g::ones({2}, g::kBool), 1); },
       {"masked_fill", "must match"}},
      {"DType_IntegerToANegativePower",
       [] { g::ones({2}, g::kInt32).pow(-2); },
       {"pow", "integers to negative integer powers", "int32", ".to(float32)"}},
      // ---- devices
      {"Device_UnknownName", [] { g::Device("tpu"); }, {"tpu"}},
      // ---- indices out of range
      {"Index_SelectPastTheEnd",
       [] {
         range({2, 3}).select(0, 5);
       },
       {"select", "5", "2"}},
      {"Index_OperatorBracketPastTheEnd",
       [] {
         range({2, 3})[2];
       },
       {"2"}},
      {"Index_TensorIndexPastTheEnd",
       [] {
         range({2, 3}).index({g::tensor({0, 7})});
       },
       {"index 7", "dimension 0", "size 2"}},
      {"Index_GatherPastTheEnd",
       [] {
         range({2, 3}).gather(1, g::tensor({{0}, {3}}));
       },
       {"gather", "3"}},
      {"Index_DimOutOfRange",
       [] {
         range({2, 3}).sum({2});
       },
       {"dimension out of range (expected to be in range of [-2, 1], but got 2)"}},
      // ---- views of tensors that cannot be viewed
      {"View_OfATransposedTensor",
       [] {
         range({2, 3}).t().view({6});
       },
       {"view", "reshape"}},
      {"View_ExpandANonSingletonDim",
       [] {
         range({2, 3}).expand({4, 3});
       },
       {"expand", "(4, 3)"}},
      // ---- item() of many elements
      {"Item_OfManyElements",
       [] {
         range({2, 3}).item<double>();
       },
       {"item", "6"}},
      // ---- a tensor too large to allocate
      {"Memory_TooLargeForAnyMachine",
       [] {
         g::empty({huge, huge});
       },
       {"(281474976710656, 281474976710656)", "64-bit"}},
      {"Memory_TooLargeForThisMachine",
       [huge] {
         g::empty({huge, 4}, g::kUInt8);
       },
       {"out of memory", "1125899906842624 bytes (1.00 PiB)"}},
      {"Memory_OutputOfAnOp",
       [] {
         // (2^25, 1) + (1, 2^25) of uint8 broadcasts to 2^50 bytes.
         g::zeros({int64_t{1} << 25, 1}, g::kUInt8) + g::zeros({1, int64_t{1} << 25}, g::kUInt8);
       },
       {"add(): a uint8 tensor of shape (33554432, 33554432): CPU out of memory"}},
      // ---- a checkpoint of another model
      {"Checkpoint_OfAnotherShape",
       [] {
         g::testing::TempDir dir;
         const auto path = checkpoint(dir, g::nn::Linear(5, 2).state_dict());
         g::nn::Linear(3, 2).load_state_dict(g::load(path));
       },
       {"weight", "(2, 5)", "(2, 3)"}},
      {"Checkpoint_OfAnotherModel",
       [] {
         g::testing::TempDir dir;
         const auto path = checkpoint(dir, {{"conv.weight", g::zeros({1})}});
         g::nn::Linear(3, 2).load_state_dict(g::load(path));
       },
       {"conv.weight", "weight"}},
      // ---- truncated or corrupt files
      {"File_Truncated",
       [] {
         g::testing::TempDir dir;
         const auto path = checkpoint(dir, {{"w", g::zeros({100})}});
         std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
         g::load(path);
       },
       {"model.safetensors", "400"}},
      {"File_NotANpyFile",
       [] {
         g::testing::TempDir dir;
         std::ofstream(dir / "a.npy") << "this is not numpy";
         g::load_npy(dir / "a.npy");
       },
       {"a.npy", "magic"}},
      {"File_Missing",
       [] { g::load("/nonexistent/model.safetensors"); },
       {"/nonexistent/model.safetensors"}},
      // ---- flags out of range
      {"Flag_DropoutProbability", [] { g::nn::Dropout(1.5); }, {"1.5", "between 0 and 1"}},
      {"Flag_NegativeLearningRate",
       [] { g::optim::SGD({g::zeros({1}).requires_grad_()}, -0.1); },
       {"-0.1", "learning rate"}},
      {"Flag_ArangeStepZero", [] { g::arange(0, 10, 0); }, {"arange", "step"}},
      {"Flag_ConvStrideZero",
       [] {
         g::conv2d(range({1, 1, 4, 4}), range({1, 1, 2, 2}), {}, 0);
       },
       {"conv2d", "stride"}},
  };
}

class BadInputTable : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTable, IsAGraftErrorThatSaysWhatToFix) {
  const std::string message = error_message(GetParam().run);
  for (const std::string& part : GetParam().messages) EXPECT_THAT(message, HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(Rows, BadInputTable, ::testing::ValuesIn(rows()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
