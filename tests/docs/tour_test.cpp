// The code of docs/tour.md and of README.md's example, compiled and checked, so the docs
// cannot drift from the API. Each TEST is one section of the tour; the snippet between
// the `// tour:` markers is the one the page shows, the EXPECTs state what the page says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <sstream>
#include <vector>

#include "docs/quoted_snippets.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

TEST(Tour, ReadmeExample) {
  // tour: README.md
  Eigen::MatrixXf m(2, 3);  // host data, as an Eigen matrix
  m << 1, 2, 3, 4, 5, 6;
  g::Tensor x = g::from_eigen(m);                    // zero-copy: x views m's memory
  g::Tensor y = (x - x.mean({1}, true)).relu();      // broadcasting, reductions, math
  g::Tensor p = g::softmax(g::matmul(y, y.t()), 1);  // (2, 2)
  x.index_put_({0, 0}, 10.0);                        // m(0, 0) is 10 now
  Eigen::MatrixXf back = p.eigen<float>();           // back to Eigen (a copy of the view)
  g::Tensor w = g::randn({3, 2}).requires_grad_();   // autograd, as in PyTorch
  g::matmul(x, w).relu().sum().backward();           // w.grad() holds d(sum)/dw
  // tour: end
  EXPECT_EQ(m(0, 0), 10.f);
  EXPECT_EQ(w.grad().shape(), g::Shape({3, 2}));
  // y = relu([[-1, 0, 1], [-1, 0, 1]]) = [[0, 0, 1], [0, 0, 1]]; y y^T is all ones.
  EXPECT_EQ(p.shape(), g::Shape({2, 2}));
  EXPECT_FLOAT_EQ(back(0, 1), 0.5f);
  std::ostringstream out;
  out << p;
  EXPECT_EQ(out.str(), "tensor([[0.5000, 0.5000],\n        [0.5000, 0.5000]])");
}

TEST(Tour, MakingTensors) {
  // tour: making
  g::Tensor a = g::tensor({1.f, 2.f, 3.f});    // float32, shape (3,)
  g::Tensor b = g::tensor({{1, 2}, {3, 4}});   // int64, shape (2, 2)
  g::Tensor c = g::zeros({2, 3});              // float32 by default
  g::Tensor d = g::full({2}, 7, g::kFloat64);  // [7., 7.]
  g::Tensor e = g::arange(0, 10, 2);           // int64 [0, 2, 4, 6, 8]
  g::Tensor f = g::linspace(0, 1, 5);          // [0, 0.25, 0.5, 0.75, 1]
  g::manual_seed(42);
  g::Tensor r = g::randn({2, 2});  // the same numbers every run
  std::vector<uint8_t> pixels(4 * 4 * 3);
  g::Tensor img = g::from_blob(pixels.data(), {4, 4, 3}, g::kUInt8);  // no copy
  // tour: end
  EXPECT_EQ(a.dtype(), g::kFloat32);
  EXPECT_EQ(a.shape(), g::Shape({3}));
  EXPECT_EQ(b.dtype(), g::kInt64);
  EXPECT_EQ(b.shape(), g::Shape({2, 2}));
  EXPECT_EQ(c.dtype(), g::kFloat32);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{7, 7}));
  EXPECT_EQ(e.dtype(), g::kInt64);
  EXPECT_EQ(e.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(f.to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  g::manual_seed(42);
  EXPECT_TRUE(g::equal(r, g::randn({2, 2})));
  EXPECT_EQ(img.data_ptr(), pixels.data());
}

TEST(Tour, ReadingATensor) {
  // tour: reading
  g::Tensor x = g::tensor({{1.5, 2.0, 3.0}, {4.0, 5.0, 6.0}});  // float32, the default dtype
  x.shape();                                                    // (2, 3)
  x.size(-1);                                                   // 3
  x.strides();                                                  // (3, 1): row-major, in elements
  x.numel();                                                    // 6
  x.sum().item<double>();                                       // 21.5
  x.to_vector<float>();                                         // {1.5, 2, 3, 4, 5, 6}
  std::cout << x << "\n";                                       // tensor([[1.5000, 2.0000, 3.0000],
                           //         [4.0000, 5.0000, 6.0000]])
  // tour: end
  EXPECT_EQ(x.dtype(), g::kFloat32);
  EXPECT_EQ(x.shape(), g::Shape({2, 3}));
  EXPECT_EQ(x.size(-1), 3);
  EXPECT_EQ(x.strides(), g::Shape({3, 1}));
  EXPECT_EQ(x.numel(), 6);
  EXPECT_EQ(x.sum().item<double>(), 21.5);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1.5f, 2, 3, 4, 5, 6}));
  std::ostringstream out;
  out << x;
  EXPECT_EQ(out.str(), "tensor([[1.5000, 2.0000, 3.0000],\n        [4.0000, 5.0000, 6.0000]])");
}

TEST(Tour, ViewsShareMemory) {
  // tour: views
  g::Tensor x = g::arange(6).reshape({2, 3});  // [[0, 1, 2], [3, 4, 5]]
  g::Tensor row = x.select(0, 1);              // [3, 4, 5], a view
  g::Tensor xt = x.t();                        // (3, 2), strides (1, 3): no copy
  g::Tensor odd = x.index({g::Slice(), g::Slice(1, g::None, 2)});  // x[:, 1::2]
  row.fill_(0);                                                    // writes into x's memory
  // x is now [[0, 1, 2], [0, 0, 0]], and xt and odd see it too.
  g::Tensor flat = xt.reshape({6});  // xt is not contiguous: reshape copies
  g::Tensor mine = x.clone();        // an explicit copy
  // tour: end
  EXPECT_EQ(x.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 0, 0, 0}));
  EXPECT_EQ(xt.strides(), g::Shape({1, 3}));
  EXPECT_EQ(xt.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 0, 2, 0}));
  EXPECT_EQ(odd.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(flat.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 0, 2, 0}));
  EXPECT_NE(flat.storage(), x.storage());
  EXPECT_NE(mine.storage(), x.storage());
  // The tour shows `xt.view({6})` and its error.
  EXPECT_THAT(error_message([&] { xt.view({6}); }),
              HasSubstr("view(): view size (6,) is not compatible with input tensor's size (3, 2) "
                        "and stride (1, 3)"));
  EXPECT_THAT(error_message([&] { xt.view({6}); }),
              HasSubstr("Use .reshape(...) instead, or call .contiguous() first"));
}

TEST(Tour, IndexingWithTensors) {
  // tour: indexing
  g::Tensor x = g::arange(6).reshape({2, 3}).to(g::kFloat32);     // [[0, 1, 2], [3, 4, 5]]
  g::Tensor big = x.index({x > 2});                               // [3, 4, 5]: a copy
  g::Tensor cols = x.index({g::Slice(), g::tensor({2, 0, -1})});  // [[2, 0, 2], [5, 3, 5]]
  g::Tensor last = x[-1];                                         // [3, 4, 5]: a view (select)
  x.index_put_({x > 2}, 0.0);                                     // x, and so last: [0, 0, 0]
  g::Tensor counts = g::zeros({3});
  counts.index_put_({g::tensor({0, 2, 0})}, 1.0, /*accumulate=*/true);  // [2, 0, 1]
  // tour: end
  EXPECT_EQ(big.to_vector<float>(), (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(cols.shape(), g::Shape({2, 3}));
  EXPECT_EQ(cols.to_vector<float>(), (std::vector<float>{2, 0, 2, 5, 3, 5}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{0, 1, 2, 0, 0, 0}));
  EXPECT_EQ(last.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(counts.to_vector<float>(), (std::vector<float>{2, 0, 1}));
  // The tour's claims: the (3, 2) shape, nonzero, and the errors.
  const g::Tensor t = g::zeros({2, 3, 4});
  const g::Tensor idx = g::tensor({1, 3});
  EXPECT_EQ(t.index({0, g::Slice(), idx}).shape(), g::Shape({3, 2}));
  EXPECT_EQ(g::nonzero(x > 0).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 2}));
  EXPECT_THAT(error_message([&] { t.index({g::tensor({2})}); }),
              HasSubstr("index 2 is out of bounds for dimension 0 with size 2"));
  EXPECT_THAT(error_message([&] { t.index({g::zeros({3}, g::kBool)}); }),
              HasSubstr("does not match the shape"));
  EXPECT_THAT(error_message([&] { t.index({g::tensor({1.f})}); }),
              HasSubstr("tensors used as indices must be"));
}

TEST(Tour, Broadcasting) {
  // tour: broadcasting
  g::Tensor col = g::tensor({{1.f}, {2.f}, {3.f}});  // (3, 1)
  g::Tensor row = g::tensor({10.f, 20.f});           // (2,)
  g::Tensor grid = col * row;                        // (3, 2): [[10, 20], [20, 40], [30, 60]]
  g::Tensor centered = grid - grid.mean({0}, true);  // (3, 2) - (1, 2): per-column means
  // tour: end
  EXPECT_EQ(grid.shape(), g::Shape({3, 2}));
  EXPECT_EQ(grid.to_vector<float>(), (std::vector<float>{10, 20, 20, 40, 30, 60}));
  EXPECT_EQ(centered.to_vector<float>(), (std::vector<float>{-10, -20, 0, 0, 10, 20}));
  // The tour shows this error.
  EXPECT_THAT(error_message([] {
                g::ones({2, 3}) + g::ones({4, 3});
              }),
              HasSubstr("add(): the size of tensor a (2) must match the size of tensor b (4) at "
                        "non-singleton dimension 0; shapes (2, 3) and (4, 3) cannot be broadcast "
                        "together"));
}

TEST(Tour, TypePromotion) {
  // tour: promotion
  g::Tensor i32 = g::ones({2}, g::kInt32);
  g::Tensor i64 = g::ones({2}, g::kInt64);
  g::Tensor f32 = g::ones({2});
  (i64 + f32).dtype();                       // float32: floating beats integral
  (i32 + 2).dtype();                         // int32: a C++ number does not widen a tensor
  (i32 + 2.5).dtype();                       // float32: ...but it can change its category
  (f32 + g::ones({}, g::kFloat64)).dtype();  // float32: 0-d tensors behave like numbers
  (i64 / 2).dtype();                         // float32: `/` is true division
  (g::ones({2}, g::kUInt8) + 1000);          // [233, 233]: uint8 wraps, as in PyTorch
  (f32 > 0).dtype();                         // bool
  (f32 > 0).sum().dtype();                   // int64: summing bools counts them
  // tour: end
  EXPECT_EQ((i64 + f32).dtype(), g::kFloat32);
  EXPECT_EQ((i32 + 2).dtype(), g::kInt32);
  EXPECT_EQ((i32 + 2.5).dtype(), g::kFloat32);
  EXPECT_EQ((f32 + g::ones({}, g::kFloat64)).dtype(), g::kFloat32);
  EXPECT_EQ((i64 / 2).dtype(), g::kFloat32);
  EXPECT_EQ((g::ones({2}, g::kUInt8) + 1000).to_vector<int>(), (std::vector<int>{233, 233}));
  EXPECT_EQ((f32 > 0).dtype(), g::kBool);
  EXPECT_EQ((f32 > 0).sum().dtype(), g::kInt64);
  EXPECT_EQ((f32 > 0).sum().item<int64_t>(), 2);
  // The tour shows this error: in-place ops keep their tensor's dtype.
  EXPECT_THAT(error_message([&] { i64.add_(0.5); }),
              HasSubstr("add_(): result type float32 can't be cast to the desired output type "
                        "int64"));
}

TEST(Tour, Reductions) {
  // tour: reductions
  g::Tensor x = g::tensor({{1.f, 5.f, 3.f}, {4.f, 2.f, 6.f}});
  x.sum();           // tensor(21.): everything, a 0-d tensor
  x.sum({1});        // [9, 12]: over dim 1
  x.sum({1}, true);  // [[9], [12]]: keepdim, ready to broadcast against x
  x.mean({0});       // [2.5, 3.5, 4.5]
  x.max();           // tensor(6.): like torch.amax
  x.argmax(1);       // [1, 2]: int64 indices along dim 1
  x.argmax();        // tensor(5): index into the flattened tensor
  x.var();           // tensor(3.5): Bessel-corrected, as PyTorch
  // tour: end
  EXPECT_EQ(x.sum().dim(), 0);
  EXPECT_EQ(x.sum().item<float>(), 21.f);
  EXPECT_EQ(x.sum({1}).to_vector<float>(), (std::vector<float>{9, 12}));
  EXPECT_EQ(x.sum({1}, true).shape(), g::Shape({2, 1}));
  EXPECT_EQ(x.mean({0}).to_vector<float>(), (std::vector<float>{2.5f, 3.5f, 4.5f}));
  EXPECT_EQ(x.max().item<float>(), 6.f);
  EXPECT_EQ(x.argmax(1).dtype(), g::kInt64);
  EXPECT_EQ(x.argmax(1).to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(x.argmax().item<int64_t>(), 5);
  // mean 3.5; squared deviations 6.25 + 2.25 + 0.25 + 0.25 + 2.25 + 6.25 = 17.5; / (6 - 1)
  EXPECT_FLOAT_EQ(x.var().item<float>(), 3.5f);
}

TEST(Tour, MatmulAndSoftmax) {
  // tour: matmul
  g::manual_seed(0);
  g::Tensor x = g::randn({8, 4});  // a batch of 8 rows
  g::Tensor w = g::randn({4, 3});
  g::Tensor logits = g::matmul(x, w);                     // (8, 3)
  g::Tensor probs = g::softmax(logits, 1);                // each row sums to 1
  g::Tensor batched = g::matmul(g::randn({5, 8, 4}), w);  // (5, 8, 3): w broadcasts
  g::Tensor dot = g::matmul(g::ones({4}), g::ones({4}));  // 1-D x 1-D: tensor(4.)
  // tour: end
  EXPECT_EQ(logits.shape(), g::Shape({8, 3}));
  EXPECT_TRUE(g::allclose(probs.sum({1}), g::ones({8})));
  EXPECT_EQ(batched.shape(), g::Shape({5, 8, 3}));
  EXPECT_EQ(dot.dim(), 0);
  EXPECT_EQ(dot.item<float>(), 4.f);
}

TEST(Tour, SortingAndSampling) {
  // tour: sorting
  g::Tensor scores = g::tensor({{0.1f, 2.0f, 0.5f, 2.0f}, {3.0f, -1.0f, 0.0f, 1.0f}});
  auto [best, where] = g::topk(scores, 2);    // values [[2, 2], [3, 1]], indices [[1, 3], [0, 3]]
  auto [sorted, order] = g::sort(scores, 1);  // stable: equal values keep their order
  g::Tensor running = g::cumsum(scores, 1);   // [[0.1, 2.1, 2.6, 4.6], [3, 2, 2, 3]]
  g::manual_seed(7);
  g::Tensor probs = g::softmax(scores / 0.8, 1);  // a language model's next-token probabilities
  g::Tensor next = g::multinomial(probs, 1);      // (2, 1) int64: one sampled index per row
  g::Tensor causal = g::tril(g::ones({3, 3}));    // the causal mask of attention
  // tour: end
  EXPECT_EQ(best.to_vector<float>(), (std::vector<float>{2, 2, 3, 1}));
  EXPECT_EQ(where.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 0, 3}));
  EXPECT_EQ(order.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 1, 3, 1, 2, 3, 0}));
  EXPECT_TRUE(g::allclose(running, g::tensor({{0.1f, 2.1f, 2.6f, 4.6f}, {3.f, 2.f, 2.f, 3.f}})));
  EXPECT_EQ(next.shape(), g::Shape({2, 1}));
  EXPECT_EQ(next.dtype(), g::kInt64);
  for (int64_t i : next.to_vector<int64_t>()) EXPECT_TRUE(i >= 0 && i < 4);
  EXPECT_EQ(sorted.select(1, 0).to_vector<float>(), (std::vector<float>{0.1f, -1.f}));
  EXPECT_EQ(causal.sum().item<float>(), 6.f);
}

TEST(Tour, EigenRoundTrip) {
  // tour: eigen
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(2, 3);  // column-major
  g::Tensor t = g::from_eigen(m);                   // shape (2, 3), strides (1, 2)
  t.index_put_({0, 1}, 5.0);                        // m(0, 1) == 5 now
  t.mul_(2);                                        // m(0, 1) == 10
  auto v = t.t().eigen<double>();                   // a 3 x 2 Eigen::Map, no copy
  v(2, 1) = 7;                                      // m(1, 2) == 7
  Eigen::MatrixXd copy = t.eigen<double>();         // a copy, when you want one
  // tour: end
  EXPECT_EQ(t.strides(), g::Shape({1, 2}));
  EXPECT_EQ(m(0, 1), 10.0);
  EXPECT_EQ(m(1, 2), 7.0);
  EXPECT_EQ(copy, m);
  // The tour shows these errors.
  EXPECT_THAT(error_message([&] { t.eigen<float>(); }),
              HasSubstr("eigen<float>(): the tensor's dtype is float64; call "
                        ".to(graft::kFloat32) first or use eigen<double>()"));
  EXPECT_THAT(error_message([] {
                g::ones({2, 2, 2}).eigen<float>();
              }),
              HasSubstr("only 0-, 1- and 2-D tensors can be viewed as Eigen matrices"));
}

// docs/tour.md and README.md quote the snippets above verbatim (less the test's indent);
// this test fails when one of them drifts from the code that is compiled here.
TEST(Tour, DocsQuoteTheseSnippets) {
  const std::string tour = g::testing::source_file_text("docs/tour.md");
  const std::string readme = g::testing::source_file_text("README.md");
  const auto snippets = g::testing::quoted_snippets(
      g::testing::source_file_text("tests/docs/tour_test.cpp"), "// tour: ");
  for (const auto& [name, text] : snippets) {
    const std::string& doc = name == "README.md" ? readme : tour;
    EXPECT_NE(doc.find(text), std::string::npos)
        << "snippet '" << name << "' is not quoted verbatim in the docs:\n"
        << text;
  }
  EXPECT_EQ(snippets.size(), 11u);
}
