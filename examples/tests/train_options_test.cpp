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
  EXPECT_FALSE(o.batch_size.has_value());  // the checkpoint's, else 64
  EXPECT_EQ(o.device, "auto");
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.resume, "");
  EXPECT_FALSE(o.limit.has_value());
  EXPECT_EQ(o.export_images, 0);
  EXPECT_EQ(o.save_every, 0);
  EXPECT_EQ(o.keep_last, 3);
  EXPECT_EQ(o.max_steps, 0);
  EXPECT_EQ(o.threads, 0);
  EXPECT_EQ(o.tensorboard, "");
  EXPECT_FALSE(o.val_fraction.has_value());  // the checkpoint's, else kDefaultValFraction
  EXPECT_EQ(TrainOptions::kDefaultValFraction, 0.1);
  EXPECT_EQ(o.data, "");
  EXPECT_FALSE(o.lr_schedule.has_value());  // the checkpoint's, else kDefaultSchedule
  EXPECT_EQ(std::string(TrainOptions::kDefaultSchedule), "constant");
  EXPECT_FALSE(o.warmup.has_value());
  EXPECT_FALSE(o.weight_decay.has_value());
  EXPECT_FALSE(o.clip_grad_norm.has_value());
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
  const TrainOptions opt =
      parse_train_args({"--lr-schedule", "cosine", "--warmup=100", "--weight-decay", "5e-4",
                        "--clip-grad-norm", "1.5", "--data", "/data/fmnist"});
  EXPECT_EQ(opt.lr_schedule, "cosine");
  EXPECT_EQ(opt.warmup, 100);
  EXPECT_EQ(opt.weight_decay, 5e-4);
  EXPECT_EQ(opt.clip_grad_norm, 1.5);
  EXPECT_EQ(opt.data, "/data/fmnist");
  for (const char* schedule : {"constant", "onecycle", "step"})
    EXPECT_EQ(parse_train_args({"--lr-schedule", schedule}).lr_schedule, schedule);
  const TrainOptions saving =
      parse_train_args({"--save-every", "500", "--keep-last=1", "--max-steps", "1200"});
  EXPECT_EQ(saving.save_every, 500);
  EXPECT_EQ(saving.keep_last, 1);
  EXPECT_EQ(saving.max_steps, 1200);
  EXPECT_EQ(parse_train_args({"--tensorboard", "runs/tb"}).tensorboard, "runs/tb");
  EXPECT_EQ(parse_train_args({"--threads=1"}).threads, 1);
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
  EXPECT_THAT(error({"--lr-schedule", "linear"}),
              HasSubstr("--lr-schedule: unknown value 'linear'; choose one of constant, cosine, "
                        "onecycle, step (see graft-train --help)"));
  EXPECT_THAT(error({"--warmup", "-5"}), HasSubstr("--warmup: must be at least 0, got -5"));
  EXPECT_THAT(error({"--weight-decay", "-0.1"}),
              HasSubstr("--weight-decay: must be a finite number >= 0, got -0.1"));
  EXPECT_THAT(error({"--clip-grad-norm", "inf"}),
              HasSubstr("--clip-grad-norm: must be a finite number >= 0, got inf"));
  EXPECT_THAT(error({"--clip-grad-norm", "x"}),
              HasSubstr("--clip-grad-norm: expected a number, got 'x'"));
  EXPECT_THAT(error({"--save-every", "-1"}), HasSubstr("--save-every: must be at least 0, got -1"));
  EXPECT_THAT(error({"--keep-last", "0"}), HasSubstr("--keep-last: must be at least 1, got 0"));
  EXPECT_THAT(error({"--max-steps", "1e3"}),
              HasSubstr("--max-steps: expected an integer, got '1e3'"));
  EXPECT_THAT(error({"--tensorboard="}),
              HasSubstr("--tensorboard: expected a folder, got an empty string"));
  EXPECT_THAT(error({"--data="}), HasSubstr("--data: expected a folder, got an empty string"));
  EXPECT_THAT(error({"--threads", "0"}), HasSubstr("--threads: must be at least 1, got 0"));
  EXPECT_THAT(error({"--help=yes"}), HasSubstr("--help: takes no value"));
}

TEST(TrainOptions, UsageListsEveryOptionWithItsDefault) {
  const std::string usage = train_usage();
  for (const char* option :
       {"--model mlp|cnn", "--epochs N", "--batch-size N", "--lr X", "--optimizer sgd|adam|adamw",
        "--device auto|cpu|cuda", "--seed N", "--out DIR", "--resume CKPT", "--limit N",
        "--export-images K", "--val-fraction F", "--lr-schedule constant|cosine|onecycle|step",
        "--warmup N", "--weight-decay W", "--clip-grad-norm C", "--threads N", "--data DIR",
        "--help"})
    EXPECT_THAT(usage, HasSubstr(option));
  EXPECT_THAT(usage, HasSubstr("(default " + std::to_string(TrainOptions::kDefaultEpochs) + ";"));
  EXPECT_THAT(usage, HasSubstr(std::string("(default ") + TrainOptions::kDefaultModel + ";"));
}

TEST(TrainOptions, DefaultLearningRates) {
  EXPECT_EQ(default_lr("sgd"), 0.01);
  EXPECT_EQ(default_lr("adam"), 1e-3);
  EXPECT_EQ(default_lr("adamw"), 1e-3);
}

TEST(TrainOptions, DefaultWeightDecay) {
  EXPECT_EQ(default_weight_decay("sgd"), 0.0);
  EXPECT_EQ(default_weight_decay("adam"), 0.0);
  EXPECT_EQ(default_weight_decay("adamw"), 0.01);
}

}  // namespace
}  // namespace graft::examples
