// graft-train's command line: defaults, both option spellings, and an error for each
// mistake that names the option and the fix.
#include "train_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace graft::examples {
namespace {

using graft::testing::error_message;
using ::testing::HasSubstr;

TEST(TrainOptions, DefaultsWhenNothingIsGiven) {
  const TrainOptions o = parse_train_args({});
  EXPECT_FALSE(o.model.has_value());  // the checkpoint's when resuming, else kDefaultModel
  EXPECT_FALSE(o.optimizer.has_value());
  EXPECT_FALSE(o.seed.has_value());
  EXPECT_FALSE(o.lr.has_value());
  EXPECT_EQ(o.epochs, TrainOptions::kDefaultEpochs);
  EXPECT_EQ(o.batch_size, 64);
  EXPECT_EQ(o.device, "auto");
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.resume, "");
  EXPECT_EQ(o.limit, 0);
  EXPECT_EQ(o.export_images, 0);
  EXPECT_FALSE(o.val_fraction.has_value());  // the checkpoint's, else kDefaultValFraction
  EXPECT_EQ(TrainOptions::kDefaultValFraction, 0.1);
  EXPECT_FALSE(o.help);
}

TEST(TrainOptions, EveryOptionInBothSpellings) {
  const TrainOptions o = parse_train_args(
      {"--model", "mlp", "--epochs=3", "--batch-size", "128", "--lr", "0.01", "--optimizer=sgd",
       "--device", "cpu", "--seed", "42", "--out", "runs/x", "--resume=runs/x/c.safetensors",
       "--limit", "2000", "--export-images", "4"});
  EXPECT_EQ(o.model, "mlp");
  EXPECT_EQ(o.epochs, 3);
  EXPECT_EQ(o.batch_size, 128);
  EXPECT_EQ(o.lr, 0.01);
  EXPECT_EQ(o.optimizer, "sgd");
  EXPECT_EQ(o.device, "cpu");
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.out, "runs/x");
  EXPECT_EQ(o.resume, "runs/x/c.safetensors");
  EXPECT_EQ(o.limit, 2000);
  EXPECT_EQ(o.export_images, 4);
  EXPECT_TRUE(parse_train_args({"--help"}).help);
  EXPECT_TRUE(parse_train_args({"-h"}).help);
  EXPECT_EQ(parse_train_args({"--epochs", "0"}).epochs, 0);
  EXPECT_EQ(parse_train_args({"--val-fraction", "0.25"}).val_fraction, 0.25);
  EXPECT_EQ(parse_train_args({"--val-fraction=0"}).val_fraction, 0.0);
}

TEST(TrainOptions, MistakesAreErrorsNamingTheOption) {
  auto error = [](std::vector<std::string> args) {
    return error_message([&] { parse_train_args(args); });
  };
  EXPECT_EQ(error({"--epoch", "3"}),
            "graft-train: unknown option '--epoch' (see graft-train --help)");
  EXPECT_THAT(error({"mlp"}), HasSubstr("unexpected argument 'mlp'; options start with --"));
  EXPECT_EQ(error({"--epochs"}),
            "graft-train: --epochs: expects a value: N (see graft-train --help)");
  EXPECT_THAT(error({"--epochs", "three"}),
              HasSubstr("--epochs: expected an integer, got 'three'"));
  EXPECT_THAT(error({"--epochs", "3x"}), HasSubstr("expected an integer, got '3x'"));
  EXPECT_THAT(error({"--epochs", "-1"}), HasSubstr("--epochs: must be at least 0, got -1"));
  EXPECT_THAT(error({"--batch-size", "0"}), HasSubstr("--batch-size: must be at least 1, got 0"));
  EXPECT_THAT(error({"--lr", "0"}), HasSubstr("--lr: must be positive, got 0"));
  EXPECT_THAT(error({"--lr", "fast"}), HasSubstr("--lr: expected a number, got 'fast'"));
  EXPECT_THAT(error({"--model", "resnet"}),
              HasSubstr("--model: unknown value 'resnet'; choose one of mlp, cnn"));
  EXPECT_THAT(error({"--optimizer", "lbfgs"}), HasSubstr("choose one of sgd, adam, adamw"));
  EXPECT_THAT(error({"--device", "gpu"}), HasSubstr("choose one of auto, cpu, cuda"));
  EXPECT_THAT(error({"--seed", "-3"}), HasSubstr("--seed: expected a non-negative integer"));
  EXPECT_THAT(error({"--out="}), HasSubstr("--out: expected a folder, got an empty string"));
  EXPECT_THAT(error({"--val-fraction", "1"}),
              HasSubstr("--val-fraction: must be in [0, 1), got 1 (see graft-train --help)"));
  EXPECT_THAT(error({"--val-fraction", "-0.1"}), HasSubstr("--val-fraction: must be in [0, 1)"));
  EXPECT_THAT(error({"--help=yes"}), HasSubstr("--help: takes no value"));
}

TEST(TrainOptions, UsageListsEveryOptionWithItsDefault) {
  const std::string usage = train_usage();
  for (const char* option :
       {"--model mlp|cnn", "--epochs N", "--batch-size N", "--lr X", "--optimizer sgd|adam|adamw",
        "--device auto|cpu|cuda", "--seed N", "--out DIR", "--resume CKPT", "--limit N",
        "--export-images K", "--val-fraction F", "--help"})
    EXPECT_THAT(usage, HasSubstr(option));
  EXPECT_THAT(usage, HasSubstr("(default " + std::to_string(TrainOptions::kDefaultEpochs) + ";"));
  EXPECT_THAT(usage, HasSubstr(std::string("(default ") + TrainOptions::kDefaultModel + ";"));
}

TEST(TrainOptions, DefaultLearningRates) {
  EXPECT_EQ(default_lr("sgd"), 0.01);
  EXPECT_EQ(default_lr("adam"), 1e-3);
  EXPECT_EQ(default_lr("adamw"), 1e-3);
}

}  // namespace
}  // namespace graft::examples
