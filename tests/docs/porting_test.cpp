// The graft side of docs/porting.md, compiled and run, and its claims that libtorch's
// spellings do not compile in graft checked as requires-expressions, so the page cannot
// drift from the headers. Each TEST is one section; the snippet between the `// porting:`
// markers is the page's.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "docs/quoted_snippets.h"
#include "graft/graft.h"

namespace g = graft;

namespace {

// ---- the page's "compile error" entries

template <class T>
concept var_takes_unbiased = requires(T x) {
  x.var(g::Dims{1}, true, true);
};
template <class T>
concept max_of_two_tensors = requires(T a, T b) {
  g::max(a, b);
};
template <class T>
concept grad_takes_positional_flags = requires(T list) {
  g::autograd::grad(list, list, list, true, true);
};
template <class Deleter>
concept from_blob_takes_the_deleter_first = requires(void* p, Deleter deleter) {
  g::from_blob(p, g::Shape{2}, deleter, g::TensorOptions(g::kFloat32));
};
static_assert(!var_takes_unbiased<g::Tensor>);
static_assert(!max_of_two_tensors<g::Tensor>);
static_assert(!grad_takes_positional_flags<g::autograd::TensorList>);
static_assert(!from_blob_takes_the_deleter_first<std::function<void(void*)>>);

// Runs a test in a fresh temporary directory, removed with everything in it afterwards.
class WorkInTemporaryDirectory {
 public:
  explicit WorkInTemporaryDirectory(const std::string& name)
      : previous_(std::filesystem::current_path()),
        dir_(std::filesystem::temp_directory_path() / name) {
    std::filesystem::create_directories(dir_);
    std::filesystem::current_path(dir_);
  }
  ~WorkInTemporaryDirectory() {
    std::filesystem::current_path(previous_);
    std::filesystem::remove_all(dir_);
  }
  WorkInTemporaryDirectory(const WorkInTemporaryDirectory&) = delete;
  WorkInTemporaryDirectory& operator=(const WorkInTemporaryDirectory&) = delete;

 private:
  std::filesystem::path previous_, dir_;
};

// Puts the default dtype back when a test changes it.
struct DefaultDtypeRestorer {
  g::DType saved = g::get_default_dtype();
  ~DefaultDtypeRestorer() { g::set_default_dtype(saved); }
};

// porting: modules (the struct)
struct Net : g::nn::Module {
  Net() : Module("Net") {
    fc1 = register_module("fc1", g::nn::Linear(784, 128));
    fc2 = register_module("fc2", g::nn::Linear(128, 10));
  }
  g::Tensor forward(const g::Tensor& x) override { return (*fc2)((*fc1)(x).relu()); }
  std::shared_ptr<g::nn::Linear> fc1, fc2;
};
// porting: end

}  // namespace

TEST(Porting, MakingTensors) {
  DefaultDtypeRestorer restore;
  // porting: making tensors
  auto a = g::tensor({1.5, 2.0});        // float32: floating values take the default dtype
  auto b = g::tensor({{1, 2}, {3, 4}});  // int64
  auto c = g::zeros({2, 3}, g::kFloat64);
  auto d = g::ones({2}, g::TensorOptions(g::kInt64).device(g::kCPU));
  auto e = g::arange(0, 10, 2);
  g::manual_seed(42);
  auto w = g::randn({3, 2}).requires_grad_();
  g::set_default_dtype(g::kFloat64);  // g::get_default_dtype() reads it
  // porting: end
  EXPECT_EQ(a.dtype(), g::kFloat32);
  EXPECT_EQ(b.dtype(), g::kInt64);
  EXPECT_EQ(c.dtype(), g::kFloat64);
  EXPECT_EQ(d.dtype(), g::kInt64);
  EXPECT_EQ(e.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 4, 6, 8}));
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(g::get_default_dtype(), g::kFloat64);
  EXPECT_EQ(g::tensor({1.5, 2.0}).dtype(), g::kFloat64);
  EXPECT_EQ((g::tensor({1, 2}) / 2).dtype(), g::kFloat64);
}

TEST(Porting, IndexingAndViews) {
  g::Tensor x = g::arange(12).reshape({3, 4}).to(g::kFloat32);
  const g::Tensor idx = g::tensor({2, 0});
  // porting: indexing
  auto odd = x.index({g::Slice(), g::Slice(1, g::None, 2)});
  auto col = x.index({g::Ellipsis, g::None});
  x.index_put_({0, 1}, 5.0);
  auto row = x[1];
  auto picked = x.index({idx});
  // porting: end
  EXPECT_EQ(odd.shape(), g::Shape({3, 2}));
  EXPECT_EQ(odd.to_vector<float>(), (std::vector<float>{5, 3, 5, 7, 9, 11}));  // x[0, 1] is 5
  EXPECT_EQ(col.shape(), g::Shape({3, 4, 1}));
  EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{4, 5, 6, 7}));
  EXPECT_TRUE(g::equal(x.index({1}), row));
  EXPECT_EQ(picked.to_vector<float>(), (std::vector<float>{8, 9, 10, 11, 0, 5, 2, 3}));
  EXPECT_EQ(x.sizes().vec(), (std::vector<int64_t>{3, 4}));
}

TEST(Porting, MathAndReductions) {
  const g::Tensor x = g::tensor({{1.0, 5.0, 3.0}, {4.0, 2.0, 6.0}});
  const g::Tensor y = g::full({2, 3}, 3.5);
  // porting: math
  auto s = x.sum(1, /*keepdim=*/true);  // or x.sum({1}, true)
  auto v = x.var({1}, /*correction=*/1, /*keepdim=*/true);
  auto values = x.max({1});  // values only, like torch::amax
  auto indices = x.argmax(1);
  auto m = g::maximum(x, y);
  // porting: end
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{9, 12}));
  EXPECT_EQ(s.shape(), g::Shape({2, 1}));
  EXPECT_EQ(v.shape(), g::Shape({2, 1}));
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{4, 4}));  // (4 + 4 + 0) / 2, (0 + 4 + 4) / 2
  EXPECT_EQ(values.to_vector<float>(), (std::vector<float>{5, 6}));
  EXPECT_EQ(indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{3.5, 5, 3.5, 4, 3.5, 6}));
}

TEST(Porting, Autograd) {
  g::manual_seed(0);
  const g::Tensor x = g::randn({4, 3});
  g::Tensor w = g::randn({3, 2}).requires_grad_();
  const g::Tensor w0 = w.detach().clone();
  // porting: autograd
  auto loss = g::matmul(x, w).relu().sum();
  auto grads = g::autograd::grad({loss}, {w}, {.retain_graph = true, .create_graph = true});
  loss.backward();  // the graph was kept: a second pass works
  {
    g::NoGradGuard no_grad;
    w -= 0.1 * grads[0];
  }
  // porting: end
  EXPECT_TRUE(g::allclose(w.grad(), grads[0].detach()));  // both are dloss/dw
  EXPECT_TRUE(g::allclose(w.detach(), w0 - 0.1 * w.grad()));
}

TEST(Porting, Modules) {
  g::manual_seed(0);
  const g::Tensor x = g::randn({2, 784});
  // porting: modules
  Net net;
  net.to(g::kCPU);
  auto out = net(x);
  g::nn::Sequential seq(g::nn::Conv2d(1, 16, /*kernel*/ 3, /*stride*/ 1, /*padding*/ 1),
                        g::nn::ReLU(), g::nn::MaxPool2d(2), g::nn::Flatten(),
                        g::nn::Linear(16 * 14 * 14, 10));
  auto& first = seq.at<g::nn::Conv2d>(0);
  // porting: end
  EXPECT_EQ(out.shape(), g::Shape({2, 10}));
  EXPECT_EQ(net.named_parameters()[0].first, "fc1.weight");
  EXPECT_EQ(first.weight.shape(), g::Shape({16, 1, 3, 3}));
  EXPECT_EQ(seq(g::randn({1, 1, 28, 28})).shape(), g::Shape({1, 10}));
}

TEST(Porting, OptimizersCheckpointsDevices) {
  g::manual_seed(0);
  Net net;
  const g::Tensor x = g::randn({2, 784});
  WorkInTemporaryDirectory cwd("graft_porting_test");  // the snippet writes its files here
  // porting: optim
  g::optim::Adam opt(net.parameters(), {.lr = 1e-3, .weight_decay = 1e-2});
  g::optim::SGD sgd(net.parameters(), {.lr = 0.1, .momentum = 0.9});
  opt.zero_grad();
  auto loss = net(x).pow(2).mean();
  loss.backward();
  opt.step();
  g::save(net.state_dict(), "net.safetensors");
  net.load_state_dict(g::load("net.safetensors"));
  g::save(opt.state_dict(), "opt.safetensors");
  g::Device device = g::cuda::is_available() ? g::kCUDA : g::kCPU;
  auto y = x.to(device);
  // porting: end
  EXPECT_EQ(y.device(), device);
  EXPECT_EQ(g::load("net.safetensors").count("fc2.bias"), 1u);
  opt.load_state_dict(g::load("opt.safetensors"));
  EXPECT_EQ(sgd.name(), "SGD");
}

// docs/porting.md quotes the snippets above verbatim (less their indent); this test fails
// when one of them drifts from the code compiled here.
TEST(Porting, DocQuotesTheseSnippets) {
  const std::string doc = g::testing::source_file_text("docs/porting.md");
  const auto snippets = g::testing::quoted_snippets(
      g::testing::source_file_text("tests/docs/porting_test.cpp"), "// porting: ");
  for (const auto& [name, text] : snippets)
    EXPECT_NE(doc.find(text), std::string::npos)
        << "snippet '" << name << "' is not quoted verbatim in docs/porting.md:\n"
        << text;
  EXPECT_EQ(snippets.size(), 7u);
}
