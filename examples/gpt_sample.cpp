// nanoGPT's sampling loop (see gpt_sample.h).
#include "gpt_sample.h"

#include <algorithm>
#include <limits>

#include "graft/autograd/ops.h"
#include "graft/core/error.h"

namespace graft::examples {

std::vector<int64_t> generate(Gpt& model, std::vector<int64_t> context,
                              const SamplingOptions& options) {
  GRAFT_CHECK(!context.empty(), "generate(): the context is empty; give at least one token");
  GRAFT_CHECK(options.temperature > 0, "generate(): temperature must be positive, got ",
              options.temperature);
  GRAFT_CHECK(options.top_k >= 0, "generate(): top_k must be >= 0, got ", options.top_k);
  const int64_t vocab = model.config.vocab_size;
  const Device device = model.wte->weight.device();
  for (int64_t step = 0; step < options.tokens; ++step) {
    const auto length =
        std::min<int64_t>(static_cast<int64_t>(context.size()), model.config.block_size);
    const std::vector<int64_t> window(context.end() - length, context.end());
    const Tensor idx = tensor(window, kInt64).view({1, length}).to(device);
    // The logits of the last position: the distribution of the next token.
    Tensor logits = model(idx).select(1, length - 1) / options.temperature;  // (1, vocab)
    if (options.top_k > 0 && options.top_k < vocab) {
      const auto [values, indices] = topk(logits, options.top_k);
      const Tensor kth = values.narrow(1, options.top_k - 1, 1);
      logits = logits.masked_fill(logits < kth, -std::numeric_limits<double>::infinity());
    }
    const Tensor next = softmax(logits, -1).multinomial(1);
    context.push_back(next.item<int64_t>());
  }
  return context;
}

}  // namespace graft::examples
