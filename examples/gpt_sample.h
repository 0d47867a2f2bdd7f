// Text from a trained GPT, nanoGPT's generate(): one token at a time, each drawn from the
// model's distribution for the next token given the last block_size tokens, sharpened by a
// temperature and cut to the top k. The draws come from graft's default random stream, so
// graft::manual_seed(s) makes a sample reproducible.
#pragma once

#include <cstdint>
#include <vector>

#include "gpt_model.h"

namespace graft::examples {

struct SamplingOptions {
  int64_t tokens = 500;      // how many to generate
  double temperature = 0.8;  // > 0: logits / temperature before the softmax
  int64_t top_k = 200;       // keep the k largest logits; 0 (or >= vocab_size): keep all
};

// The context's tokens followed by `options.tokens` generated ones. The context must not be
// empty; only its last block_size tokens condition each step (as nanoGPT crops it). Run in
// eval mode without gradients by the caller.
std::vector<int64_t> generate(Gpt& model, std::vector<int64_t> context,
                              const SamplingOptions& options);

}  // namespace graft::examples
