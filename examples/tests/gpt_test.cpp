// The GPT of gpt_model.h: nanoGPT's parameter count, initialisation and weight tying;
// causality (no logit sees a later token); the context limit; and that it learns: a tiny
// model memorises a short repeating sequence.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "gpt_model.h"
#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
namespace ex = graft::examples;
using g::Tensor;
using ::testing::HasSubstr;

namespace {

ex::GptConfig tiny() {
  return {.vocab_size = 7, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 16};
}

int64_t count(const g::nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

TEST(Gpt, ParameterCountIsNanoGptsAndTheHeadIsTheTokenEmbedding) {
  // Per block 12 C^2 (attention 4 C^2, MLP 8 C^2) and two layer norms of C; embeddings
  // V C + T C; the final norm C; no separate head.
  const ex::GptConfig c = ex::gpt_config("cpu", 113);
  const ex::Gpt gpt(c);
  const int64_t C = 128;
  EXPECT_EQ(count(gpt), 4 * (12 * C * C + 2 * C) + 113 * C + 64 * C + C);
  EXPECT_EQ(count(ex::Gpt(ex::gpt_config("gpu", 65))), 10'745'088);  // 10.65M without wpe
  // Tied: the token embedding's gradient includes the head's.
  ex::Gpt model(tiny());
  const Tensor idx = g::randint(0, 7, {2, 8});
  model(idx).sum().backward();
  EXPECT_TRUE(model.wte->weight.grad().defined());
  EXPECT_GT(model.wte->weight.grad().abs().sum().item<double>(), 0);
}

TEST(Gpt, InitialisationIsNanoGpts) {
  g::manual_seed(0);
  const ex::Gpt gpt(ex::gpt_config("cpu", 113));
  const auto std_of = [](const Tensor& t) { return std::sqrt(t.var().item<double>()); };
  const auto& block = gpt.h->at<ex::GptBlock>(0);
  EXPECT_NEAR(std_of(gpt.wte->weight), 0.02, 0.002);
  EXPECT_NEAR(std_of(block.attn->in_proj_weight), 0.02, 0.001);
  EXPECT_NEAR(std_of(block.c_fc->weight), 0.02, 0.001);
  const double residual = 0.02 / std::sqrt(8.0);
  EXPECT_NEAR(std_of(block.attn->out_proj->weight), residual, 0.1 * residual);
  EXPECT_NEAR(std_of(block.c_proj->weight), residual, 0.1 * residual);
  EXPECT_TRUE(g::equal(block.ln_1->weight, g::ones({128})));
  EXPECT_FALSE(block.ln_1->bias.defined());  // nanoGPT's bias = False
}

TEST(Gpt, NoLogitSeesALaterToken) {
  ex::Gpt gpt(tiny());
  gpt.eval();
  const Tensor a = g::randint(0, 7, {1, 8});
  Tensor b = a.clone();
  b.select(1, 5).fill_(int64_t{(a[0][5].item<int64_t>() + 1) % 7});
  const Tensor la = gpt(a), lb = gpt(b);
  EXPECT_TRUE(g::allclose(la.narrow(1, 0, 5), lb.narrow(1, 0, 5), 1e-6, 1e-6));
  EXPECT_FALSE(g::allclose(la.narrow(1, 5, 1), lb.narrow(1, 5, 1), 1e-6, 1e-6));
}

TEST(Gpt, AContextLongerThanTheBlockIsAnError) {
  ex::Gpt gpt(tiny());
  EXPECT_THAT(g::testing::error_message([&] {
                gpt(g::zeros({1, 9}, g::kInt64));
              }),
              HasSubstr("Gpt: a context of 9 tokens is longer than the model's block_size of 8"));
  EXPECT_THAT(g::testing::error_message([] { ex::gpt_config("tpu", 10); }),
              HasSubstr("unknown config 'tpu'; the configs are 'cpu' and 'gpu'"));
}

TEST(Gpt, LearnsARepeatingSequence) {
  g::manual_seed(1);
  ex::Gpt gpt(tiny());
  // 0 1 2 3 4 5 6 0 1 ...: the next token is always (token + 1) % 7.
  const Tensor seq = g::remainder(g::arange(9, g::kInt64).reshape({1, 9}).expand({4, 9}) +
                                      g::arange(4, g::kInt64).reshape({4, 1}),
                                  7);
  const Tensor x = seq.narrow(1, 0, 8).contiguous(), y = seq.narrow(1, 1, 8).contiguous();
  g::optim::AdamW opt(gpt.parameters(), 3e-3, 0.0);
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    const Tensor loss = g::nn::functional::cross_entropy(gpt(x).reshape({-1, 7}), y.reshape({-1}));
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_NEAR(first, std::log(7.0), 0.3);  // an untrained model guesses uniformly
  EXPECT_LT(last, 0.1);
}

TEST(Gpt, OptimizerDecaysTheMatricesOnly) {
  const ex::Gpt gpt(ex::gpt_config("cpu", 113));
  const auto opt = ex::make_gpt_optimizer(gpt, 1e-3, 0.1);
  ASSERT_EQ(opt->param_groups().size(), 2u);
  const auto& decayed = opt->param_groups()[0];
  const auto& kept = opt->param_groups()[1];
  for (const Tensor& p : decayed.params) EXPECT_GE(p.dim(), 2);
  for (const Tensor& p : kept.params) EXPECT_LT(p.dim(), 2);
  // wte (the tied head), wpe, and per block in_proj, out_proj, c_fc, c_proj.
  EXPECT_EQ(decayed.params.size(), 2u + 4 * 4);
  EXPECT_EQ(kept.params.size(), 4u * 2 + 1);  // the layer norms' weights
  const auto& hyper = std::get<g::kernels::AdamHyper>(decayed.options);
  EXPECT_EQ(hyper.weight_decay, 0.1);
  EXPECT_EQ(hyper.beta2, 0.99);
  EXPECT_EQ(std::get<g::kernels::AdamHyper>(kept.options).weight_decay, 0.0);
  EXPECT_EQ(opt->name(), "AdamW");
}

TEST(Gpt, LearningRateWarmsUpThenFollowsACosineToTheMinimum) {
  // nanoGPT's get_lr with its shakespeare_char numbers: lr 1e-3, min 1e-4, warmup 100.
  EXPECT_DOUBLE_EQ(ex::gpt_lr(0, 1e-3, 1e-4, 100, 5000), 1e-3 / 101);
  EXPECT_DOUBLE_EQ(ex::gpt_lr(99, 1e-3, 1e-4, 100, 5000), 1e-3 * 100 / 101);
  EXPECT_DOUBLE_EQ(ex::gpt_lr(100, 1e-3, 1e-4, 100, 5000), 1e-3);
  EXPECT_NEAR(ex::gpt_lr(2550, 1e-3, 1e-4, 100, 5000), 5.5e-4, 1e-12);  // halfway
  EXPECT_DOUBLE_EQ(ex::gpt_lr(5000, 1e-3, 1e-4, 100, 5000), 1e-4);
  EXPECT_DOUBLE_EQ(ex::gpt_lr(6000, 1e-3, 1e-4, 100, 5000), 1e-4);
}

}  // namespace
