// nanoGPT's sampling loop: top-k 1 is greedy decoding (the argmax at each step), a seed
// repeats a sample, the context is cropped to block_size, and the arguments are checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gpt_sample.h"
#include "graft/graft.h"
#include "test_util.h"

namespace graft::examples {
namespace {

using testing::error_message;
using ::testing::HasSubstr;

GptConfig tiny() {
  return {.vocab_size = 7, .block_size = 4, .n_layer = 1, .n_head = 2, .n_embd = 8};
}

TEST(GptSample, TopKOneIsGreedyDecoding) {
  manual_seed(1);
  Gpt model(tiny());
  model.eval();
  NoGradGuard no_grad;
  const std::vector<int64_t> out = generate(model, {3, 1}, {.tokens = 6, .top_k = 1});
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[1], 1);
  // Each new token is the argmax of the logits given the last block_size tokens before it.
  for (size_t i = 2; i < out.size(); ++i) {
    const size_t begin = i > 4 ? i - 4 : 0;
    const std::vector<int64_t> window(out.begin() + static_cast<std::ptrdiff_t>(begin),
                                      out.begin() + static_cast<std::ptrdiff_t>(i));
    const auto length = static_cast<int64_t>(window.size());
    const Tensor logits = model(tensor(window, kInt64).view({1, length})).select(1, length - 1);
    EXPECT_EQ(out[i], logits.argmax().item<int64_t>()) << "token " << i;
  }
}

TEST(GptSample, ASeedRepeatsASample) {
  manual_seed(2);
  Gpt model(tiny());
  NoGradGuard no_grad;
  manual_seed(9);
  const auto a = generate(model, {0}, {.tokens = 20, .temperature = 1.5, .top_k = 0});
  manual_seed(9);
  EXPECT_EQ(generate(model, {0}, {.tokens = 20, .temperature = 1.5, .top_k = 0}), a);
  for (const int64_t token : a) {
    EXPECT_GE(token, 0);
    EXPECT_LT(token, 7);
  }
}

TEST(GptSample, BadArgumentsAreErrors) {
  Gpt model(tiny());
  NoGradGuard no_grad;
  EXPECT_THAT(error_message([&] { generate(model, {}, {}); }), HasSubstr("the context is empty"));
  EXPECT_THAT(error_message([&] { generate(model, {1}, {.temperature = 0}); }),
              HasSubstr("temperature must be positive, got 0"));
}

}  // namespace
}  // namespace graft::examples
