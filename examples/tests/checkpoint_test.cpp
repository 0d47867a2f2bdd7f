// Checkpoints: the model and optimizer state dicts and the run's metadata come back as
// saved, the file is a plain safetensors file with prefixed names, and files that are not
// graft-train checkpoints are errors naming the key.
#include "checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir_test.h"
#include "test_util.h"

namespace graft::examples {
namespace {

namespace fs = std::filesystem;
using graft::testing::error_message;
using graft::testing::make_tensor;
using ::testing::HasSubstr;

class CheckpointTest : public TempDirTest {};

Checkpoint sample() {
  Checkpoint c;
  // 0.1 + 0.2 has no short decimal form: it must survive the text metadata exactly.
  c.info = {"cnn",     "adamw", 3,    2814,       18446744073709551615ull,
            0.1 + 0.2, 0.3530,  17,   0.1 + 0.7,  32,
            5000,      0.25,    3e-3, "onecycle", 8,
            100,       5e-4,    1.5};
  c.model["0.weight"] = make_tensor({1, 2, 3, 4}, {2, 2}, kFloat32);
  c.model["0.bias"] = make_tensor({5, 6}, {2}, kFloat32);
  c.optimizer["state.0.step"] = make_tensor({3}, {}, kInt64);
  c.optimizer["param_groups.0.lr"] = make_tensor({1e-3}, {}, kFloat64);
  return c;
}

// A --amp fp16 run's: the loss scaler's state rides along.
Checkpoint fp16_sample() {
  Checkpoint c = sample();
  c.info.amp = "fp16";
  c.scaler = amp::GradScaler(1024.0).state_dict();
  return c;
}

TEST_F(CheckpointTest, RoundTripKeepsTensorsAndInfo) {
  const fs::path path = dir_ / "c.safetensors";
  save_checkpoint(path, sample());
  const Checkpoint back = load_checkpoint(path);
  const CheckpointInfo& info = back.info;
  EXPECT_EQ(info.model, "cnn");
  EXPECT_EQ(info.optimizer, "adamw");
  EXPECT_EQ(info.epoch, 3);
  EXPECT_EQ(info.step, 2814);
  EXPECT_EQ(info.seed, 18446744073709551615ull);
  EXPECT_EQ(info.normalize_mean, 0.1 + 0.2);  // bit for bit
  EXPECT_EQ(info.normalize_std, 0.3530);
  EXPECT_EQ(info.step_in_epoch, 17);
  EXPECT_EQ(info.epoch_loss_sum, 0.1 + 0.7);  // bit for bit
  EXPECT_EQ(info.batch_size, 32);
  EXPECT_EQ(info.limit, 5000);
  EXPECT_EQ(info.val_fraction, 0.25);
  EXPECT_EQ(info.lr, 3e-3);
  EXPECT_EQ(info.lr_schedule, "onecycle");
  EXPECT_EQ(info.schedule_epochs, 8);
  EXPECT_EQ(info.warmup, 100);
  EXPECT_EQ(info.weight_decay, 5e-4);
  EXPECT_EQ(info.clip_grad_norm, 1.5);
  ASSERT_EQ(back.model.size(), 2u);
  EXPECT_EQ(back.model.at("0.weight").to_vector<double>(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(back.model.at("0.weight").shape(), Shape({2, 2}));
  EXPECT_EQ(back.optimizer.at("state.0.step").item<int64_t>(), 3);
  EXPECT_EQ(back.optimizer.at("param_groups.0.lr").item<double>(), 1e-3);
  EXPECT_EQ(info.amp, "none");
  EXPECT_EQ(info.world_size, 1);
  EXPECT_TRUE(back.scaler.empty());
}

TEST_F(CheckpointTest, AnFp16RunKeepsItsLossScaler) {
  const fs::path path = dir_ / "c.safetensors";
  save_checkpoint(path, fp16_sample());
  EXPECT_EQ(load(path).at("scaler.scale").item<double>(), 1024.0);
  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.info.amp, "fp16");
  amp::GradScaler scaler;
  scaler.load_state_dict(back.scaler);
  EXPECT_EQ(scaler.get_scale(), 1024.0);

  // The scaler and --amp fp16 come together, and amp is one of the three names.
  Checkpoint wrong = fp16_sample();
  wrong.scaler.clear();
  save_checkpoint(path, wrong);
  EXPECT_THAT(error_message([&] { load_checkpoint(path); }),
              HasSubstr("an --amp fp16 run's checkpoint without the 'scaler.*' tensors"));
  wrong = fp16_sample();
  wrong.info.amp = "bf16";
  save_checkpoint(path, wrong);
  EXPECT_THAT(error_message([&] { load_checkpoint(path); }),
              HasSubstr("'scaler.*' tensors in an --amp bf16 run's checkpoint"));
  wrong.info.amp = "fp8";
  wrong.scaler.clear();
  save_checkpoint(path, wrong);
  EXPECT_THAT(error_message([&] { load_checkpoint(path); }),
              HasSubstr("metadata 'amp' is 'fp8'; expected none, bf16 or fp16"));
}

TEST_F(CheckpointTest, OlderFilesWithoutTheAddedSettingsReadAsTheDefaults) {
  const fs::path path = dir_ / "old.safetensors";
  save_checkpoint(path, sample());
  Metadata metadata = load_metadata(path);
  metadata.erase("world_size");
  metadata.erase("amp");
  save(load(path), path, metadata);
  const CheckpointInfo info = load_checkpoint(path).info;
  EXPECT_EQ(info.world_size, 1);
  EXPECT_EQ(info.amp, "none");
}

TEST_F(CheckpointTest, IsASafetensorsFileWithPrefixedNames) {
  const fs::path path = dir_ / "c.safetensors";
  save_checkpoint(path, sample());
  const StateDict raw = load(path);
  std::vector<std::string> keys;
  for (const auto& [key, t] : raw) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"model.0.bias", "model.0.weight",
                                      "optimizer.param_groups.0.lr", "optimizer.state.0.step"}));
  const Metadata metadata = load_metadata(path);
  EXPECT_EQ(metadata.at("format"), "pt");
  EXPECT_EQ(metadata.at("model"), "cnn");
  EXPECT_EQ(metadata.at("epoch"), "3");
  EXPECT_EQ(metadata.at("normalize_mean"), "0.30000000000000004");
}

TEST_F(CheckpointTest, OtherFilesAreErrorsNamingTheKey) {
  const fs::path plain = dir_ / "plain.safetensors";
  save({{"model.w", make_tensor({1}, {1})}}, plain);
  EXPECT_THAT(
      error_message([&] { load_checkpoint(plain); }),
      HasSubstr("no 'model' in the metadata; is this a checkpoint written by graft-train?"));

  save_checkpoint(dir_ / "good.safetensors", sample());
  Metadata metadata = load_metadata(dir_ / "good.safetensors");
  const fs::path bad_epoch = dir_ / "bad_epoch.safetensors";
  metadata["epoch"] = "3rd";
  save({}, bad_epoch, metadata);
  EXPECT_THAT(error_message([&] { load_checkpoint(bad_epoch); }),
              HasSubstr("metadata 'epoch' is '3rd', not a number"));

  const fs::path stray = dir_ / "stray.safetensors";
  metadata["epoch"] = "1";
  save({{"weights.w", make_tensor({1}, {1})}}, stray, metadata);
  EXPECT_THAT(error_message([&] { load_checkpoint(stray); }),
              HasSubstr("tensor 'weights.w' is none of 'model.*', 'optimizer.*' and "
                        "'scaler.*'"));

  EXPECT_THAT(error_message([&] { load_checkpoint(dir_ / "missing.safetensors"); }),
              HasSubstr("missing.safetensors"));
}

TEST_F(CheckpointTest, PruningKeepsTheNewestStepFiles) {
  EXPECT_EQ(step_checkpoint_name(40), "checkpoint-step40.safetensors");
  for (int64_t step : {5, 10, 40, 100}) std::ofstream(dir_ / step_checkpoint_name(step)) << "x";
  std::ofstream(dir_ / "checkpoint.safetensors") << "x";
  std::ofstream(dir_ / "checkpoint-stepx.safetensors") << "x";  // not a step file: kept
  prune_step_checkpoints(dir_, 2);
  EXPECT_FALSE(fs::exists(dir_ / step_checkpoint_name(5)));
  EXPECT_FALSE(fs::exists(dir_ / step_checkpoint_name(10)));
  EXPECT_TRUE(fs::exists(dir_ / step_checkpoint_name(40)));  // by number, not by name order
  EXPECT_TRUE(fs::exists(dir_ / step_checkpoint_name(100)));
  EXPECT_TRUE(fs::exists(dir_ / "checkpoint.safetensors"));
  EXPECT_TRUE(fs::exists(dir_ / "checkpoint-stepx.safetensors"));
}

}  // namespace
}  // namespace graft::examples
