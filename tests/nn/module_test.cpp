// nn::Module and Sequential: registration and PyTorch's dotted names, traversal order,
// train/eval, to(dtype) keeping parameter identity, zero_grad, state dicts (round trip
// through a safetensors file, and every load error).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace g = graft;
namespace nn = graft::nn;
using g::testing::error_message;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

std::vector<std::string> names(const std::vector<std::pair<std::string, g::Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

// A custom model as API.md shows it: children registered by name, its own parameter and
// buffer, and a forward of its own.
struct Block : nn::Module {
  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::Linear> head;
  g::Tensor scale;
  Block() : Module("Block") {
    features = register_module("features", nn::Sequential(nn::Linear(4, 3), nn::ReLU()));
    head = register_module("head", nn::Linear(3, 2));
    scale = register_parameter("scale", g::ones({2}));
    register_buffer("steps", g::zeros({}, g::kInt64));
  }
  g::Tensor forward(const g::Tensor& x) override { return (*head)((*features)(x)) * scale; }
};

}  // namespace

TEST(NnModule, SequentialNamesItsModulesByPosition) {
  nn::Sequential net(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 1, /*bias=*/false));
  EXPECT_EQ(net.size(), 3u);
  EXPECT_THAT(names(net.named_parameters()), ElementsAre("0.weight", "0.bias", "2.weight"));
  EXPECT_EQ(net.parameters().size(), 3u);
  EXPECT_EQ(net[1].type_name(), "ReLU");
  EXPECT_EQ(net[-1].type_name(), "Linear");
  EXPECT_EQ(net.at<nn::Linear>(0).out_features, 3);
  EXPECT_TRUE(net.at<nn::Linear>(0).weight.is_same(net.parameters()[0]));
  net.push_back(nn::Sigmoid());
  EXPECT_EQ(net[3].type_name(), "Sigmoid");
  EXPECT_THAT(error_message([&] { net[4]; }),
              HasSubstr("index 4 is out of range for a Sequential of 4 modules"));
  EXPECT_THAT(error_message([&] { net.at<nn::Linear>(1); }),
              HasSubstr("the module there is a ReLU, not the type asked for"));
}

// ModuleList: Sequential's container without a forward, for blocks the parent calls itself.
TEST(NnModule, ModuleListHoldsBlocksByPositionWithoutAForward) {
  struct Net : nn::Module {
    std::shared_ptr<nn::ModuleList> h;
    Net() : nn::Module("Net") {
      nn::ModuleList blocks(nn::Linear(2, 2), nn::Linear(2, 2, /*bias=*/false));
      blocks.push_back(nn::GELU());
      h = register_module("h", std::move(blocks));
    }
  } net;
  EXPECT_THAT(names(net.named_parameters()), ElementsAre("h.0.weight", "h.0.bias", "h.1.weight"));
  EXPECT_EQ(net.h->size(), 3u);
  EXPECT_EQ((*net.h)[-1].type_name(), "GELU");
  EXPECT_EQ(net.h->at<nn::Linear>(1).out_features, 2);
  EXPECT_EQ(net.h->type_name(), "ModuleList");
  const g::Tensor x = g::ones({1, 2});
  g::Tensor y = x;
  for (const auto& block : net.h->children()) y = (*block)(y);
  EXPECT_EQ(y.shape(), g::Shape({1, 2}));
  EXPECT_THAT(error_message([&] { (*net.h)(x); }),
              HasSubstr("ModuleList: forward(input) is not implemented"));
  EXPECT_THROW((*net.h)[3], g::IndexError);
  EXPECT_THAT(error_message([&] { (*net.h)[-4]; }),
              HasSubstr("ModuleList: index -4 is out of range for a ModuleList of 3 modules"));
  EXPECT_THAT(error_message([&] { net.h->at<nn::Linear>(2); }),
              HasSubstr("ModuleList::at(2): the module there is a GELU, not the type asked for"));
}

TEST(NnModule, SequentialChainsForward) {
  nn::Sequential net(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  const g::Tensor x = g::testing::make_tensor(g::testing::sample_values(8), {2, 4}, g::kFloat32);
  const auto& l0 = net.at<nn::Linear>(0);
  const auto& l2 = net.at<nn::Linear>(2);
  const g::Tensor want = g::nn::functional::linear(
      g::nn::functional::linear(x, l0.weight, l0.bias).relu(), l2.weight, l2.bias);
  EXPECT_TRUE(g::allclose(net(x), want));
  EXPECT_TRUE(nn::Sequential()(x).is_same(x));  // an empty Sequential is the identity
}

TEST(NnModule, CustomModuleNamesParametersBuffersAndChildren) {
  Block block;
  EXPECT_THAT(
      names(block.named_parameters()),
      ElementsAre("scale", "features.0.weight", "features.0.bias", "head.weight", "head.bias"));
  EXPECT_THAT(names(block.named_parameters(/*recurse=*/false)), ElementsAre("scale"));
  EXPECT_THAT(names(block.named_buffers()), ElementsAre("steps"));
  ASSERT_EQ(block.named_children().size(), 2u);
  EXPECT_EQ(block.named_children()[0].first, "features");
  EXPECT_EQ(block.children()[1].get(), block.head.get());
  // modules(): self, then depth-first.
  std::vector<std::string> types;
  for (nn::Module* m : block.modules()) types.push_back(m->type_name());
  EXPECT_THAT(types, ElementsAre("Block", "Sequential", "Linear", "ReLU", "Linear"));
  for (const g::Tensor& p : block.parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(block(g::zeros({5, 4})).shape(), g::Shape({5, 2}));
}

TEST(NnModule, SharedModulesAndParametersAreListedOnce) {
  auto shared = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential net;
  net.push_back(shared);
  net.push_back(shared);
  EXPECT_THAT(names(net.named_parameters()), ElementsAre("0.weight", "0.bias"));
  EXPECT_EQ(net.modules().size(), 2u);
  // The state dict keeps both names, as PyTorch's, so it loads back into the same model.
  EXPECT_EQ(net.state_dict().size(), 4u);
  net.load_state_dict(net.state_dict());
}

// Weight tying as a language model does it: the output head's weight is the token
// embedding's, (vocab, dim) both. replace_parameter makes the registry follow the member, so
// the tied tensor is listed once, saved under both names, and gets both uses' gradients.
TEST(NnModule, ReplaceParameterTiesWeights) {
  struct TiedLm : nn::Module {
    std::shared_ptr<nn::Embedding> embed;
    std::shared_ptr<nn::Linear> head;
    TiedLm() : Module("TiedLm") {
      embed = register_module("embed", nn::Embedding(5, 3));
      head = register_module("head", nn::Linear(3, 5, /*bias*/ false));
      head->weight = head->replace_parameter("weight", embed->weight);
    }
    g::Tensor forward(const g::Tensor& tokens) override { return (*head)((*embed)(tokens)); }
  };
  TiedLm lm;
  EXPECT_THAT(names(lm.named_parameters()), ElementsAre("embed.weight"));
  const g::StateDict state = lm.state_dict();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state.at("head.weight").data_ptr(), state.at("embed.weight").data_ptr());
  lm.forward(g::tensor({1, 3}, g::kInt64)).sum().backward();
  // d/dW of sum(E[t] W^T) with W = E: the head's part 1^T E[t] on every row, plus the
  // embedding's part, W's column sums, on the rows of the tokens: both reach the one tensor.
  const g::Tensor w = lm.embed->weight.detach();
  const g::Tensor head_part =
      g::ones({5, 2}).matmul(w.index_select(0, g::tensor({1, 3}, g::kInt64)));
  const g::Tensor grad = lm.embed->weight.grad();
  EXPECT_TRUE(g::allclose(grad.index({0}), head_part.index({0})));
  EXPECT_TRUE(g::allclose(grad.index({1}), head_part.index({1}) + w.sum({0})));
  EXPECT_THAT(error_message([&] { lm.head->replace_parameter("bias", g::ones({5})); }),
              HasSubstr("Linear.replace_parameter(): no parameter \"bias\" is registered here "
                        "(its parameters: weight)"));
}

TEST(NnModule, RegistrationErrors) {
  struct Bad : nn::Module {
    Bad() : Module("Bad") {}
    void add(const std::string& name) { register_parameter(name, g::zeros({1})); }
    void add_undefined() { register_buffer("b", g::Tensor()); }
  } bad;
  bad.add("w");
  EXPECT_THAT(error_message([&] { bad.add("w"); }),
              HasSubstr("Bad: cannot register parameter \"w\": a parameter, buffer or child "
                        "module of that name already exists"));
  EXPECT_THAT(error_message([&] { bad.add("a.b"); }),
              HasSubstr("parameter name \"a.b\" must be non-empty and contain no '.'"));
  EXPECT_THAT(error_message([&] { bad.add_undefined(); }),
              HasSubstr("Bad: buffer \"b\" is an undefined Tensor"));
  EXPECT_THAT(error_message([&] { bad(g::zeros({1})); }),
              HasSubstr("Bad: forward(input) is not implemented"));
}

TEST(NnModule, TrainAndEvalReachEveryModule) {
  Block block;
  EXPECT_TRUE(block.is_training());
  block.eval();
  for (nn::Module* m : block.modules()) EXPECT_FALSE(m->is_training());
  block.train();
  for (nn::Module* m : block.modules()) EXPECT_TRUE(m->is_training());
}

TEST(NnModule, ToDtypeKeepsEachParameterAndItsGradient) {
  nn::Sequential net(nn::Linear(3, 2), nn::BatchNorm1d(2));
  const std::vector<g::Tensor> before = net.parameters();
  const std::vector<double> values = before[0].to_vector<double>();
  before[0].mutable_grad() = g::ones({2, 3});
  net.to(g::kFloat64);
  const std::vector<g::Tensor> after = net.parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(after[i].is_same(before[i]));  // an optimizer's handles see the new data
    EXPECT_EQ(before[i].dtype(), g::kFloat64);
    EXPECT_TRUE(before[i].requires_grad());
  }
  EXPECT_EQ(before[0].to_vector<double>().size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(before[0].to_vector<double>()[i], values[i]);
  EXPECT_EQ(before[0].grad().dtype(), g::kFloat64);
  const auto& bn = net.at<nn::BatchNorm1d>(1);
  EXPECT_EQ(bn.running_mean.dtype(), g::kFloat64);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), g::kInt64);  // integer buffers keep their dtype
  EXPECT_THAT(error_message([&] { net.to(g::kInt32); }),
              HasSubstr("Sequential.to(int32): modules can only be converted to a "
                        "floating-point dtype"));
  net.to(g::Device::cpu());  // nothing to move: still the same tensors
  EXPECT_TRUE(net.parameters()[0].is_same(before[0]));
}

TEST(NnModule, ZeroGradDropsOrZeroesGradients) {
  nn::Linear fc(2, 2);
  fc.weight.mutable_grad() = g::ones({2, 2});
  fc.zero_grad(/*set_to_none=*/false);
  EXPECT_THAT(fc.weight.grad().to_vector<double>(), ElementsAre(0, 0, 0, 0));
  fc.zero_grad();
  EXPECT_FALSE(fc.weight.grad().defined());
  EXPECT_FALSE(fc.bias.grad().defined());
}

TEST(NnModule, StateDictRoundTripsThroughASafetensorsFile) {
  g::manual_seed(1);
  Block a;
  g::manual_seed(2);
  Block b;
  const g::StateDict dict = a.state_dict();
  std::vector<std::string> keys;
  for (const auto& [key, t] : dict) keys.push_back(key);
  EXPECT_THAT(keys, ElementsAre("features.0.bias", "features.0.weight", "head.bias", "head.weight",
                                "scale", "steps"));
  EXPECT_FALSE(dict.at("head.weight").requires_grad());
  EXPECT_EQ(dict.at("head.weight").data_ptr(), a.head->weight.data_ptr());  // shares memory

  const auto path = std::filesystem::temp_directory_path() / "graft_nn_module_test.safetensors";
  g::save(dict, path);
  const nn::LoadResult result = b.load_state_dict(g::load(path));
  std::filesystem::remove(path);
  EXPECT_TRUE(result.missing_keys.empty());
  EXPECT_TRUE(result.unexpected_keys.empty());
  for (const auto& [key, t] : b.state_dict()) EXPECT_TRUE(g::equal(t, dict.at(key))) << key;
  EXPECT_TRUE(b.head->weight.requires_grad());
  const g::Tensor x = g::randn({3, 4});
  EXPECT_TRUE(g::allclose(a(x), b(x)));
}

TEST(NnModule, LoadStateDictErrorsNameTheKeysAndShapes) {
  nn::Sequential net(nn::Linear(4, 3));
  g::StateDict dict = net.state_dict();
  const g::Tensor before = net.at<nn::Linear>(0).weight.clone();
  dict.erase("0.bias");
  dict["0.extra"] = g::zeros({1});
  dict["0.weight"] = g::zeros({2, 4});
  const std::string message = error_message([&] { net.load_state_dict(dict); });
  EXPECT_THAT(message, HasSubstr("Error(s) in loading state_dict for Sequential"));
  EXPECT_THAT(message, HasSubstr("Missing key(s) in state_dict: \"0.bias\"."));
  EXPECT_THAT(message, HasSubstr("Unexpected key(s) in state_dict: \"0.extra\"."));
  EXPECT_THAT(message, HasSubstr("size mismatch for 0.weight: copying a param with shape (2, 4) "
                                 "from checkpoint, the shape in current model is (3, 4)."));
  EXPECT_THAT(message, HasSubstr("Pass strict=false"));
  EXPECT_TRUE(g::equal(net.at<nn::Linear>(0).weight, before));  // nothing was written

  // Non-strict loads skip missing and unexpected keys, but never a wrong shape.
  EXPECT_THAT(error_message([&] { net.load_state_dict(dict, /*strict=*/false); }),
              HasSubstr("size mismatch for 0.weight"));
  dict["0.weight"] = g::ones({3, 4}, g::kFloat64);  // converted to the parameter's float32
  const nn::LoadResult result = net.load_state_dict(dict, /*strict=*/false);
  EXPECT_THAT(result.missing_keys, ElementsAre("0.bias"));
  EXPECT_THAT(result.unexpected_keys, ElementsAre("0.extra"));
  EXPECT_TRUE(g::equal(net.at<nn::Linear>(0).weight, g::ones({3, 4})));
  EXPECT_EQ(net.at<nn::Linear>(0).weight.dtype(), g::kFloat32);
}
