// End to end: graft-gpt on a small text file with the cpu config: the loss falls and the
// files are there; a run stopped and resumed ends with the model of an uninterrupted run,
// bit for bit; sampling is reproducible and checks its prompt; the errors a user can meet
// name the value and the limit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint.h"
#include "gpt_checkpoint.h"
#include "gpt_metrics.h"
#include "graft/graft.h"
#include "run_program.h"
#include "temp_dir_test.h"

namespace graft::examples {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class GptRun : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    // A text with few characters and much repetition: a model learns it in a few steps.
    std::ofstream text(corpus());
    for (int i = 0; i < 120; ++i) text << "the cat sat on the mat; the dog sat on the log.\n";
  }

  fs::path corpus() const { return dir_ / "corpus.txt"; }
  Result gpt(const std::string& args) {
    return run(std::string(GRAFT_GPT_EXE) + " " + args, dir_ / "gpt.log");
  }
  // A short cpu-config run on the small corpus, into dir_/<name>.
  std::string args(const std::string& name) const {
    return "--data " + corpus().string() + " --device cpu --batch-size 4 --eval-iters 2 " +
           "--out " + (dir_ / name).string() + " ";
  }
};

TEST_F(GptRun, TheLossFallsAndTheFilesAreWritten) {
  const Result r = gpt(args("run") + "--iters 20 --eval-interval 10 --warmup 2 --lr 3e-3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config cpu (4 layers, 4 heads, width 128, context 64)"));
  EXPECT_THAT(r.output, HasSubstr("iter 20: train loss"));
  const std::vector<GptMetrics> rows = read_gpt_metrics_csv(dir_ / "run" / "metrics.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].iter, 0);
  EXPECT_EQ(rows[2].iter, 20);
  EXPECT_TRUE(std::isnan(rows[0].ms_per_iter));
  EXPECT_GT(rows[2].ms_per_iter, 0);
  // Untrained, the loss is about ln(vocabulary) (16 characters); 20 steps take it well down.
  EXPECT_NEAR(rows[0].val_loss, std::log(16.0), 0.3);
  EXPECT_LT(rows[2].val_loss, rows[0].val_loss - 0.5);
  EXPECT_THAT(read_file(dir_ / "run" / "loss.svg"), HasSubstr("<polyline"));
  const GptCheckpoint checkpoint = load_gpt_checkpoint(dir_ / "run" / "checkpoint.safetensors");
  EXPECT_EQ(checkpoint.run.iter, 20);
  EXPECT_EQ(checkpoint.run.model.vocab_size, 16);
  EXPECT_EQ(checkpoint.run.vocabulary, "\n .;acdeghlmnost");
}

// --amp bf16: the same training with its matmuls in bfloat16; the weights stay float32, the
// loss falls as in float32, and the checkpoint says how the run computed.
TEST_F(GptRun, BFloat16AutocastTrainsFloat32Weights) {
  const Result r =
      gpt(args("amp") + "--iters 20 --eval-interval 10 --warmup 2 --lr 3e-3 --amp bf16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<GptMetrics> rows = read_gpt_metrics_csv(dir_ / "amp" / "metrics.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NEAR(rows[0].val_loss, std::log(16.0), 0.3);
  EXPECT_LT(rows[2].val_loss, rows[0].val_loss - 0.5);
  const fs::path path = dir_ / "amp" / "checkpoint.safetensors";
  const GptCheckpoint checkpoint = load_gpt_checkpoint(path);
  EXPECT_EQ(checkpoint.run.amp, "bf16");
  for (const auto& [name, tensor] : checkpoint.model) EXPECT_EQ(tensor.dtype(), kFloat32) << name;
  EXPECT_THAT(gpt("--resume " + path.string() + " --amp none").output,
              HasSubstr("--amp none but the checkpoint was trained with bf16"));
}

TEST_F(GptRun, AResumedRunMakesTheIterationsOfAnUninterruptedOne) {
  const std::string common = "--iters 8 --eval-interval 4 ";
  ASSERT_EQ(gpt(args("whole") + common).exit_code, 0);
  const Result stopped = gpt(args("parts") + common + "--max-iters 6");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  EXPECT_THAT(stopped.output, HasSubstr("stopped after iteration 6 (--max-iters)"));
  const fs::path parts = dir_ / "parts" / "checkpoint.safetensors";
  EXPECT_EQ(load_gpt_checkpoint(parts).run.iter, 6);
  const Result resumed = gpt("--resume " + parts.string());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("resuming after iteration 6"));

  const GptCheckpoint a = load_gpt_checkpoint(dir_ / "whole" / "checkpoint.safetensors");
  const GptCheckpoint b = load_gpt_checkpoint(parts);
  EXPECT_EQ(b.run.iter, 8);
  ASSERT_EQ(a.model.size(), b.model.size());
  for (const auto& [name, tensor] : a.model) EXPECT_TRUE(equal(tensor, b.model.at(name))) << name;
  const auto rows_a = read_gpt_metrics_csv(dir_ / "whole" / "metrics.csv");
  const auto rows_b = read_gpt_metrics_csv(dir_ / "parts" / "metrics.csv");
  ASSERT_EQ(rows_a.size(), 3u);
  ASSERT_EQ(rows_b.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rows_a[i].iter, rows_b[i].iter);
    EXPECT_EQ(rows_a[i].val_loss, rows_b[i].val_loss);
  }
}

TEST_F(GptRun, SamplingIsReproducibleAndChecksItsInput) {
  ASSERT_EQ(gpt(args("run") + "--iters 2").exit_code, 0);
  const std::string sample = std::string("sample --device cpu --checkpoint ") +
                             (dir_ / "run" / "checkpoint.safetensors").string();
  const Result first = gpt(sample + " --prompt 'the ' --tokens 30 --seed 5 --top-k 5");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, StartsWith("the "));
  EXPECT_EQ(first.output.size(), 4u + 30u + 1u);  // the prompt, 30 characters, a newline
  EXPECT_EQ(gpt(sample + " --prompt 'the ' --tokens 30 --seed 5 --top-k 5").output, first.output);
  const Result three = gpt(sample + " --tokens 5 --samples 3");
  EXPECT_EQ(three.exit_code, 0) << three.output;
  EXPECT_THAT(three.output, HasSubstr("---------------"));

  const Result unknown = gpt(sample + " --prompt 'the cow'");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.output, HasSubstr("the character 'w' (U+0077) at position 6 is not in the "
                                        "model's vocabulary of 16 characters"));
  EXPECT_THAT(gpt(sample + " --temperature 0").output, HasSubstr("must be positive, got 0"));
  // A checkpoint graft-train wrote is not a GPT.
  save_checkpoint(dir_ / "mlp.safetensors", Checkpoint{});
  EXPECT_THAT(
      gpt("sample --checkpoint " + (dir_ / "mlp.safetensors").string()).output,
      HasSubstr("no 'program' in the metadata; is this a checkpoint written by graft-gpt?"));
}

TEST_F(GptRun, BadInputIsAnErrorNamingTheValue) {
  ASSERT_EQ(gpt(args("run") + "--iters 2").exit_code, 0);
  const std::string checkpoint = (dir_ / "run" / "checkpoint.safetensors").string();
  EXPECT_THAT(gpt("--resume " + checkpoint + " --config gpu").output,
              HasSubstr("--config gpu but the checkpoint was trained with cpu"));
  std::ofstream(corpus(), std::ios::app) << "Z";  // the text changed under the run
  EXPECT_THAT(gpt("--resume " + checkpoint).output,
              HasSubstr("are not the checkpoint's vocabulary (16)"));
  std::ofstream(dir_ / "tiny.txt") << "too short";
  EXPECT_THAT(gpt("--device cpu --data " + (dir_ / "tiny.txt").string()).output,
              HasSubstr("each part needs at least 65"));
  EXPECT_THAT(gpt("--iters 0").output, HasSubstr("--iters: must be at least 1, got 0"));
  EXPECT_THAT(gpt("sample").output, HasSubstr("--checkpoint CKPT is required"));
  EXPECT_THAT(gpt("--help").output, HasSubstr("graft-gpt sample --checkpoint CKPT"));
}

}  // namespace
}  // namespace graft::examples
