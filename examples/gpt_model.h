// A GPT, as nanoGPT's model.py writes it: token and position embeddings, pre-norm blocks of
// causal self-attention and a GELU MLP with residuals, a final layer norm, and the output
// head tied to the token embedding.
//
// The configs are nanoGPT's character-level ones (issue 14):
//   cpu: 4 layers, 4 heads, width 128, context 64,  no dropout   (about 0.8M parameters)
//   gpu: 6 layers, 6 heads, width 384, context 256, dropout 0.2  (about 10.7M)
// with nanoGPT's bias = False (no biases in linears and layer norms) and its
// initialisation: every linear and embedding weight N(0, 0.02), the residual projections
// (attention's out_proj and the MLP's c_proj) N(0, 0.02 / sqrt(2 * layers)).
#pragma once

#include <memory>
#include <string>

#include "graft/nn/activation.h"
#include "graft/nn/attention.h"
#include "graft/nn/linear.h"
#include "graft/nn/normalization.h"
#include "graft/nn/sequential.h"
#include "graft/optim/adam.h"

namespace graft::examples {

struct GptConfig {
  int64_t vocab_size = 0;
  int64_t block_size = 64;  // the longest context
  int64_t n_layer = 4, n_head = 4, n_embd = 128;
  double dropout = 0.0;
  bool bias = false;

  bool operator==(const GptConfig&) const = default;
};

// "cpu" or "gpu" for a vocabulary of `vocab_size`; another name is an error listing both.
GptConfig gpt_config(const std::string& name, int64_t vocab_size);

// The training settings of a named config that are not the model's shape (gpt_config has
// those): nanoGPT's values for its CPU run and for shakespeare_char.
struct GptRecipe {
  int64_t iters;       // also where the cosine reaches min_lr (lr_decay_iters)
  int64_t batch_size;  // sequences per micro-batch
  int64_t eval_iters;  // batches per split in each evaluation
};
GptRecipe gpt_recipe(const std::string& config);  // "cpu": 2000, 12, 20; "gpu": 5000, 64, 200

// x + attn(ln_1(x)) (causal), then x + mlp(ln_2(x)); dropout after each residual branch.
class GptBlock : public nn::Module {
 public:
  explicit GptBlock(const GptConfig& config);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::LayerNorm> ln_1, ln_2;
  std::shared_ptr<nn::MultiheadAttention> attn;
  std::shared_ptr<nn::Linear> c_fc, c_proj;  // the MLP: width -> 4 width -> width
  std::shared_ptr<nn::GELU> gelu;
  std::shared_ptr<nn::Dropout> dropout;
};

class Gpt : public nn::Module {
 public:
  explicit Gpt(const GptConfig& config);
  // Token indices (B, T), T <= block_size, integer -> logits (B, T, vocab_size).
  Tensor forward(const Tensor& idx) override;

  GptConfig config;
  std::shared_ptr<nn::Embedding> wte, wpe;  // wte's weight is also the output head
  std::shared_ptr<nn::Dropout> drop;
  std::shared_ptr<nn::Sequential> h;  // the blocks
  std::shared_ptr<nn::LayerNorm> ln_f;
};

// The training loss: the mean cross-entropy of predicting each next token, the logits of
// idx (B, T) against targets (B, T) (idx shifted by one).
Tensor next_token_loss(Gpt& model, const Tensor& idx, const Tensor& targets);

// nanoGPT's training recipe (train.py and model.py's configure_optimizers).

// AdamW with betas (0.9, 0.99), weight decay on every parameter of two or more dims (the
// linear and embedding weights, so the tied head too) and none on the others (biases, norm
// weights): two parameter groups, in that order.
std::unique_ptr<optim::AdamW> make_gpt_optimizer(const Gpt& model, double lr,
                                                 double weight_decay = 0.1);

// The learning rate of iteration `it` (from 0): a linear warmup, lr * (it + 1) /
// (warmup + 1) for it < warmup; then a cosine from lr down to min_lr at it = decay_iters;
// min_lr after.
double gpt_lr(int64_t it, double lr, double min_lr, int64_t warmup, int64_t decay_iters);

}  // namespace graft::examples
