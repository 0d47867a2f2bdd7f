// The GPT of gpt_model.h.
#include "gpt_model.h"

#include <cmath>
#include <numbers>

#include "graft/core/error.h"
#include "graft/nn/functional.h"
#include "graft/nn/init.h"

namespace graft::examples {

GptConfig gpt_config(const std::string& name, int64_t vocab_size) {
  GRAFT_CHECK(vocab_size > 0, "gpt_config(): vocab_size must be positive, got ", vocab_size);
  if (name == "cpu")
    return {.vocab_size = vocab_size,
            .block_size = 64,
            .n_layer = 4,
            .n_head = 4,
            .n_embd = 128,
            .dropout = 0.0};
  if (name == "gpu")
    return {.vocab_size = vocab_size,
            .block_size = 256,
            .n_layer = 6,
            .n_head = 6,
            .n_embd = 384,
            .dropout = 0.2};
  detail::fail("gpt_config(): unknown config '", name, "'; the configs are 'cpu' and 'gpu'");
}

GptRecipe gpt_recipe(const std::string& config) {
  if (config == "cpu") return {.iters = 2000, .batch_size = 12, .eval_iters = 20};
  if (config == "gpu") return {.iters = 5000, .batch_size = 64, .eval_iters = 200};
  detail::fail("gpt_recipe(): unknown config '", config, "'; the configs are 'cpu' and 'gpu'");
}

GptBlock::GptBlock(const GptConfig& c) : Module("GptBlock") {
  ln_1 = register_module("ln_1", nn::LayerNorm({c.n_embd}, 1e-5, true, c.bias));
  attn = register_module("attn", nn::MultiheadAttention(c.n_embd, c.n_head, c.dropout, c.bias));
  ln_2 = register_module("ln_2", nn::LayerNorm({c.n_embd}, 1e-5, true, c.bias));
  c_fc = register_module("c_fc", nn::Linear(c.n_embd, 4 * c.n_embd, c.bias));
  gelu = register_module("gelu", nn::GELU());
  c_proj = register_module("c_proj", nn::Linear(4 * c.n_embd, c.n_embd, c.bias));
  dropout = register_module("dropout", nn::Dropout(c.dropout));
}

Tensor GptBlock::forward(const Tensor& x) {
  const Tensor normed = (*ln_1)(x);
  const Tensor attended = x + (*dropout)(attn->forward(normed, normed, normed, {}, true));
  return attended + (*dropout)((*c_proj)((*gelu)((*c_fc)((*ln_2)(attended)))));
}

Gpt::Gpt(const GptConfig& c) : Module("Gpt"), config(c) {
  GRAFT_CHECK(c.vocab_size > 0 && c.block_size > 0 && c.n_layer > 0,
              "Gpt: vocab_size, block_size and n_layer must be positive, got ", c.vocab_size, ", ",
              c.block_size, " and ", c.n_layer);
  wte = register_module("wte", nn::Embedding(c.vocab_size, c.n_embd));
  wpe = register_module("wpe", nn::Embedding(c.block_size, c.n_embd));
  drop = register_module("drop", nn::Dropout(c.dropout));
  nn::Sequential blocks;
  for (int64_t i = 0; i < c.n_layer; ++i) blocks.push_back(GptBlock(c));
  h = register_module("h", std::move(blocks));
  ln_f = register_module("ln_f", nn::LayerNorm({c.n_embd}, 1e-5, true, c.bias));

  // nanoGPT's _init_weights, then its scaled residual projections.
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(c.n_layer));
  for (const auto& [name, p] : named_parameters()) {
    const bool matrix = p.dim() == 2;
    const bool residual = name.ends_with("out_proj.weight") || name.ends_with("c_proj.weight");
    const bool norm = name.find("ln_") != std::string::npos;
    if (residual)
      nn::init::normal_(p, 0.0, residual_std);
    else if (matrix)
      nn::init::normal_(p, 0.0, 0.02);
    else if (!norm)
      nn::init::zeros_(p);  // biases
  }
}

Tensor Gpt::forward(const Tensor& idx) {
  GRAFT_CHECK(idx.dim() == 2, "Gpt: expected token indices of shape (batch, time), got shape ",
              idx.shape());
  const int64_t length = idx.size(1);
  GRAFT_CHECK(length <= config.block_size, "Gpt: a context of ", length,
              " tokens is longer than the model's block_size of ", config.block_size,
              "; crop it to the last ", config.block_size, " tokens");
  const Tensor positions = arange(length, TensorOptions(kInt64).device(idx.device()));
  const Tensor x = (*ln_f)((*h)((*drop)((*wte)(idx) + (*wpe)(positions))));
  // The head is the token embedding itself (weight tying): (B, T, C) x (C, V).
  return matmul(x, wte->weight.t());
}

Tensor next_token_loss(Gpt& model, const Tensor& idx, const Tensor& targets) {
  const Tensor logits = model(idx);
  return nn::functional::cross_entropy(logits.view({-1, logits.size(-1)}), targets.view({-1}));
}

std::unique_ptr<optim::AdamW> make_gpt_optimizer(const Gpt& model, double lr, double weight_decay) {
  std::vector<Tensor> decayed, kept;
  for (const Tensor& p : model.parameters()) (p.dim() >= 2 ? decayed : kept).push_back(p);
  auto adamw = std::make_unique<optim::AdamW>(
      std::move(decayed),
      optim::AdamWOptions{.lr = lr, .beta1 = 0.9, .beta2 = 0.99, .weight_decay = weight_decay});
  adamw->add_param_group(
      {std::move(kept),
       optim::AdamWOptions{.lr = lr, .beta1 = 0.9, .beta2 = 0.99, .weight_decay = 0.0}});
  return adamw;
}

double gpt_lr(int64_t it, double lr, double min_lr, int64_t warmup, int64_t decay_iters) {
  if (it < warmup) return lr * static_cast<double>(it + 1) / static_cast<double>(warmup + 1);
  if (it > decay_iters) return min_lr;
  const double progress = static_cast<double>(it - warmup) /
                          static_cast<double>(std::max<int64_t>(1, decay_iters - warmup));
  return min_lr + 0.5 * (1.0 + std::cos(std::numbers::pi * progress)) * (lr - min_lr);
}

}  // namespace graft::examples
