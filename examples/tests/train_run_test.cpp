// End to end: graft-train on 2000 Fashion-MNIST examples (the loss must fall, the files
// must be there and the checkpoint must load), resumed for a second epoch that matches an
// uninterrupted run, then graft-predict on an exported image, as PGM and as an inverted PNG.
// Skipped when the dataset is not installed (Debian's dataset-fashion-mnist, or $GRAFT_DATA).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "checkpoint.h"
#include "graft/graft.h"
#include "metrics.h"
#include "models.h"
#include "pgm.h"
#include "run_program.h"
#include "step_log.h"
#include "temp_dir_test.h"

namespace graft::examples {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TrainRun : public TempDirTest {
 protected:
  void SetUp() override {
    const fs::path root = data::FashionMNIST::default_root();
    if (!fs::exists(root / "train-images-idx3-ubyte.gz") &&
        !fs::exists(root / "train-images-idx3-ubyte"))
      GTEST_SKIP() << "Fashion-MNIST is not in " << root
                   << " (apt install dataset-fashion-mnist, or set GRAFT_DATA)";
    TempDirTest::SetUp();
  }

  Result train(const std::string& args) {
    return run(std::string(GRAFT_TRAIN_EXE) + " " + args, dir_ / "train.log");
  }
};

TEST_F(TrainRun, MlpLossFallsFilesAreWrittenResumeAndPredictWork) {
  const fs::path out = dir_ / "run";
  const std::string base = "--model mlp --limit 2000 --seed 3 --device cpu ";
  Result r = train(base + "--epochs 1 --export-images 2 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("epoch 1/1: train loss"));

  // 2000 images less the validation tenth: one epoch of ceil(1800 / 64) = 29 steps; the
  // mean training loss is already well below ln(10) = 2.30, the loss of a uniform guess
  // over 10 classes, where training starts.
  EXPECT_THAT(r.output, HasSubstr("1800 training images, 200 validation images"));
  std::vector<EpochMetrics> rows = read_metrics_csv(out / "metrics.csv");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].step, 29);
  EXPECT_LT(rows[0].train_loss, 0.8 * std::log(10.0));
  EXPECT_LT(rows[0].val_loss, rows[0].train_loss * 1.5);
  EXPECT_GT(rows[0].val_accuracy, 0.6);
  EXPECT_GT(rows[0].images_per_s, 0);

  const Checkpoint checkpoint = load_checkpoint(out / "checkpoint.safetensors");
  EXPECT_EQ(checkpoint.info.model, "mlp");
  EXPECT_EQ(checkpoint.info.optimizer, "adam");
  EXPECT_EQ(checkpoint.info.epoch, 1);
  EXPECT_EQ(checkpoint.info.step, 29);
  EXPECT_EQ(checkpoint.info.seed, 3u);
  EXPECT_TRUE(checkpoint.optimizer.contains("state.0.exp_avg"));
  make_model("mlp")->load_state_dict(checkpoint.model);  // strict: every name and shape fits

  std::ifstream svg(out / "curves.svg");
  const std::string curves((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_THAT(curves, HasSubstr("<title>train 1: "));

  // Resumed for a second epoch: the loss falls further, and every figure equals those of a
  // run that did both epochs at once (same seed, same machine). The model, optimizer and
  // seed come from the checkpoint; the data options are given again.
  r = train("--limit 2000 --device cpu --resume " + (out / "checkpoint.safetensors").string() +
            " --epochs 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  rows = read_metrics_csv(out / "metrics.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_LT(rows[1].train_loss, rows[0].train_loss);
  EXPECT_EQ(rows[1].step, 58);
  EXPECT_EQ(load_checkpoint(out / "checkpoint.safetensors").info.epoch, 2);

  r = train(base + "--epochs 2 --out " + (dir_ / "straight").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<EpochMetrics> straight = read_metrics_csv(dir_ / "straight" / "metrics.csv");
  ASSERT_EQ(straight.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(straight[e].train_loss, rows[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(straight[e].val_loss, rows[e].val_loss) << "epoch " << e + 1;
    EXPECT_EQ(straight[e].val_accuracy, rows[e].val_accuracy) << "epoch " << e + 1;
  }
  // The test set, once at the end; the best checkpoint is the epoch of best val accuracy.
  EXPECT_EQ(read_file(out / "test.csv"), read_file(dir_ / "straight" / "test.csv"));
  EXPECT_THAT(read_file(out / "test.csv"), HasSubstr("step,test_loss,test_accuracy\n58,"));
  EXPECT_EQ(load_checkpoint(out / "best.safetensors").info.epoch,
            rows[1].val_accuracy > rows[0].val_accuracy ? 2 : 1);

  // The exported images, named by index, label and class, go through graft-predict.
  const fs::path image = out / "images" / "00000-9-ankle-boot.pgm";
  ASSERT_TRUE(fs::exists(image));
  EXPECT_TRUE(fs::exists(out / "images" / "00001-2-pullover.pgm"));
  r = run(std::string(GRAFT_PREDICT_EXE) + " " + (out / "checkpoint.safetensors").string() + " " +
              image.string(),
          dir_ / "predict.log");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("model mlp after epoch 2"));
  EXPECT_THAT(r.output, HasSubstr(image.string() + ": "));
  for (const std::string& name : data::FashionMNIST::class_names())
    EXPECT_THAT(r.output, HasSubstr("  " + name + " ")) << "a probability line per class";

  // The same image as a photo would come, dark on light, in a PNG: with --invert the
  // probabilities are the PGM's to the last digit. A file that is no image is an error.
  GrayImage negative = read_pgm(image);
  for (uint8_t& level : negative.pixels) level = static_cast<uint8_t>(255 - level);
  const fs::path png = dir_ / "negative.png";
  png_image writer{};
  writer.version = PNG_IMAGE_VERSION;
  writer.width = static_cast<uint32_t>(negative.width);
  writer.height = static_cast<uint32_t>(negative.height);
  writer.format = PNG_FORMAT_GRAY;
  ASSERT_NE(png_image_write_to_file(&writer, png.c_str(), 0, negative.pixels.data(), 0, nullptr),
            0);
  const Result inverted = run(std::string(GRAFT_PREDICT_EXE) + " --invert " +
                                  (out / "checkpoint.safetensors").string() + " " + png.string(),
                              dir_ / "predict-png.log");
  ASSERT_EQ(inverted.exit_code, 0) << inverted.output;
  const auto after_name = [](const std::string& output, const std::string& name) {
    return output.substr(output.find(name + ": ") + name.size());
  };
  EXPECT_EQ(after_name(inverted.output, png.string()), after_name(r.output, image.string()));
  const Result not_image =
      run(std::string(GRAFT_PREDICT_EXE) + " " + (out / "checkpoint.safetensors").string() + " " +
              (out / "metrics.csv").string(),
          dir_ / "predict-csv.log");
  EXPECT_EQ(not_image.exit_code, 1);
  EXPECT_THAT(not_image.output, HasSubstr("not an image graft-predict reads"));
}

TEST_F(TrainRun, WithoutValidationThereIsNoBestCheckpoint) {
  const fs::path out = dir_ / "run";
  const Result r = train("--model mlp --limit 200 --epochs 1 --device cpu --val-fraction 0 --out " +
                         out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("200 training images, 0 validation images"));
  EXPECT_THAT(r.output, HasSubstr("val loss nan"));
  EXPECT_THAT(r.output, HasSubstr("test (once, after the last epoch): loss "));
  EXPECT_TRUE(std::isnan(read_metrics_csv(out / "metrics.csv").at(0).val_accuracy));
  EXPECT_FALSE(fs::exists(out / "best.safetensors"));
  EXPECT_TRUE(fs::exists(out / "test.csv"));
}

// steps.csv has a row per step; the lr column follows the schedule: warmup 1 step from a
// third of --lr, then a cosine over the 2 steps left (180 images, batch 64: 3 steps).
TEST_F(TrainRun, StepLogFollowsTheScheduleAndTheSummaryIsPrinted) {
  const fs::path out = dir_ / "run";
  const Result r = train(
      "--model mlp --limit 200 --epochs 1 --device cpu --lr 0.01 --lr-schedule cosine "
      "--warmup 1 --clip-grad-norm 0.5 --tensorboard " +
      (dir_ / "tb").string() + " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("mlp: 4 layers (Flatten, Linear, ReLU, Linear), 203,530 "
                                  "parameters\n"));
  std::ifstream in(out / "steps.csv");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "step,lr,loss,grad_norm,images_per_s");
  std::vector<StepRow> rows;
  while (std::getline(in, line)) {
    StepRow row;
    long long step = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf,%lf", &step, &row.lr, &row.loss,
                          &row.grad_norm, &row.images_per_s),
              5)
        << line;
    row.step = step;
    rows.push_back(row);
  }
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].step, 3);
  // The lr column has 8 significant digits.
  EXPECT_NEAR(rows[0].lr, 0.01 / 3, 1e-10);
  EXPECT_NEAR(rows[1].lr, 0.01, 1e-10);
  EXPECT_NEAR(rows[2].lr, 0.005, 1e-10);  // cosine half-way: 0.01 * (1 + cos(pi / 2)) / 2
  for (const StepRow& row : rows) {
    EXPECT_GT(row.grad_norm, 0);  // the norm before clipping, so it may exceed 0.5
    EXPECT_GT(row.images_per_s, 0);
  }
  EXPECT_NEAR(rows[0].loss, std::log(10.0), 0.2);  // a fresh model guesses about uniformly
  // One events file: the version record, 3 steps x 3 scalars, 3 per epoch, 2 for the test
  // set (tensorboard_test.cpp decodes such a file; here its presence and size).
  ASSERT_EQ(std::distance(fs::directory_iterator(dir_ / "tb"), fs::directory_iterator()), 1);
  const fs::path events = fs::directory_iterator(dir_ / "tb")->path();
  EXPECT_TRUE(events.filename().string().starts_with("events.out.tfevents."));
  EXPECT_GT(fs::file_size(events), 15u * 30);
}

// 1000 images: 900 to train on, 15 steps an epoch. A run stopped by --max-steps 20 in the
// middle of epoch 2 (batch 5 of 15), with a step checkpoint every 4 steps, and resumed
// without repeating its options, ends with the same checkpoint, byte for byte, as a run
// that went straight through: the schedule, the clipping, the optimizer state and the
// batches all continue exactly.
TEST_F(TrainRun, StoppedMidEpochAndResumedEqualsTheStraightRun) {
  const std::string options =
      "--model mlp --limit 1000 --seed 5 --device cpu --epochs 2 --lr-schedule cosine "
      "--warmup 3 --clip-grad-norm 1 --weight-decay 1e-4 ";
  const fs::path straight = dir_ / "straight", stopped = dir_ / "stopped";
  Result r = train(options + "--out " + straight.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;

  r = train(options + "--max-steps 20 --save-every 4 --keep-last 2 --out " + stopped.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("graft-train: stopped by --max-steps after step 20 (epoch 2, "
                                  "batch 5/15)"));
  EXPECT_FALSE(fs::exists(stopped / "test.csv"));
  EXPECT_FALSE(fs::exists(stopped / step_checkpoint_name(12)));  // only the last 2 are kept
  EXPECT_TRUE(fs::exists(stopped / step_checkpoint_name(16)));
  EXPECT_TRUE(fs::exists(stopped / step_checkpoint_name(20)));
  EXPECT_EQ(read_file(stopped / step_checkpoint_name(20)),
            read_file(stopped / "checkpoint.safetensors"));
  const CheckpointInfo info = load_checkpoint(stopped / "checkpoint.safetensors").info;
  EXPECT_EQ(info.epoch, 1);
  EXPECT_EQ(info.step, 20);
  EXPECT_EQ(info.step_in_epoch, 5);
  EXPECT_EQ(info.lr_schedule, "cosine");
  EXPECT_EQ(info.schedule_epochs, 2);
  EXPECT_EQ(info.warmup, 3);
  EXPECT_EQ(info.clip_grad_norm, 1.0);
  EXPECT_EQ(info.weight_decay, 1e-4);
  EXPECT_EQ(info.limit, 1000);
  EXPECT_EQ(info.batch_size, 64);
  EXPECT_EQ(info.val_fraction, 0.1);

  // A different value of a setting that changes the run is refused, naming it.
  const std::string resume =
      "--device cpu --resume " + (stopped / "checkpoint.safetensors").string();
  r = train(resume + " --epochs 2 --batch-size 32");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("graft-train: --batch-size 32 but the checkpoint was trained "
                                  "with 64; leave --batch-size out when resuming"));
  r = train(resume + " --epochs 2 --lr-schedule onecycle");
  EXPECT_THAT(r.output, HasSubstr("--lr-schedule onecycle but the checkpoint was trained with "
                                  "cosine"));
  r = train(resume + " --epochs 2 --val-fraction 0.2");
  EXPECT_THAT(r.output, HasSubstr("--val-fraction 0.2 but the checkpoint was trained with 0.1"));
  r = train(resume + " --epochs 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("graft-train: --epochs 3 but the checkpoint's cosine schedule "
                                  "ends after epoch 2; resume with --epochs 2"));

  // The same values given again are fine.
  r = train(resume + " --epochs 2 --limit 1000 --warmup 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_GT(read_file(straight / "checkpoint.safetensors").size(), 203530u * 4);
  EXPECT_EQ(read_file(stopped / "checkpoint.safetensors"),
            read_file(straight / "checkpoint.safetensors"));
  EXPECT_EQ(read_file(stopped / "best.safetensors"), read_file(straight / "best.safetensors"));
  EXPECT_EQ(read_file(stopped / "test.csv"), read_file(straight / "test.csv"));
  const std::vector<EpochMetrics> a = read_metrics_csv(straight / "metrics.csv"),
                                  b = read_metrics_csv(stopped / "metrics.csv");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(a[e].train_loss, b[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(a[e].val_accuracy, b[e].val_accuracy) << "epoch " << e + 1;
  }
  // steps.csv: 30 rows either way, the same lr and loss in each.
  auto steps = [](const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> columns;  // "step,lr,loss" of each row
    std::string line;
    while (std::getline(in, line)) {
      const size_t third = line.find(',', line.find(',', line.find(',') + 1) + 1);
      columns.push_back(line.substr(0, third));
    }
    return columns;
  };
  const std::vector<std::string> straight_steps = steps(straight / "steps.csv");
  EXPECT_EQ(straight_steps.size(), 31u);  // the header and 2 * 15 rows
  EXPECT_EQ(steps(stopped / "steps.csv"), straight_steps);
}

// --amp: the forward under autocast, the weights and the optimizer state float32 (the
// checkpoint loads anywhere). bfloat16 learns as float32 does; a float16 run carries its
// loss scaler in the checkpoint, so that one stopped and resumed ends, byte for byte, where
// the straight run does.
TEST_F(TrainRun, AmpTrainsWithFloat32WeightsAndFp16ResumesExactly) {
  const std::string base = "--model mlp --limit 1000 --seed 5 --device cpu ";
  const fs::path bf16 = dir_ / "bf16";
  Result r = train(base + "--epochs 1 --amp bf16 --out " + bf16.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("cpu, autocast to bfloat16, seed 5"));
  const std::vector<EpochMetrics> rows = read_metrics_csv(bf16 / "metrics.csv");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_LT(rows[0].train_loss, 0.8 * std::log(10.0));
  EXPECT_GT(rows[0].val_accuracy, 0.5);
  const Checkpoint saved = load_checkpoint(bf16 / "checkpoint.safetensors");
  EXPECT_EQ(saved.info.amp, "bf16");
  EXPECT_TRUE(saved.scaler.empty());
  for (const auto& [name, tensor] : saved.model) EXPECT_EQ(tensor.dtype(), kFloat32) << name;

  const std::string fp16 = base + "--epochs 2 --amp fp16 ";
  const fs::path straight = dir_ / "straight", stopped = dir_ / "stopped";
  r = train(fp16 + "--out " + straight.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Checkpoint done = load_checkpoint(straight / "checkpoint.safetensors");
  EXPECT_EQ(done.info.amp, "fp16");
  ASSERT_EQ(done.scaler.count("scale"), 1u);
  EXPECT_GT(done.scaler.at("scale").item<double>(), 1.0);
  r = train(fp16 + "--max-steps 20 --out " + stopped.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string resume =
      "--device cpu --epochs 2 --resume " + (stopped / "checkpoint.safetensors").string();
  r = train(resume + " --amp bf16");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("graft-train: --amp bf16 but the checkpoint was trained with "
                                  "fp16; leave --amp out when resuming"));
  r = train(resume);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(stopped / "checkpoint.safetensors"),
            read_file(straight / "checkpoint.safetensors"));
}

// SIGINT while training: the run finishes its step, writes a resumable checkpoint, says
// so, and exits with 128 + 2 as a shell would report it.
TEST_F(TrainRun, SigintStopsAfterTheStepWithACheckpoint) {
  const fs::path out = dir_ / "run";
  const Result r =
      run("sh -c '" + std::string(GRAFT_TRAIN_EXE) +
              " --model mlp --limit 1000 --epochs 1000 --device cpu --out " + out.string() + " > " +
              (dir_ / "inner.log").string() + " 2>&1 & pid=$!; sleep 2; kill -INT $pid; wait $pid'",
          dir_ / "outer.log");
  const std::string log = read_file(dir_ / "inner.log");
  EXPECT_EQ(r.exit_code, 130) << log;
  EXPECT_THAT(log, HasSubstr("graft-train: stopped by SIGINT after step "));
  const CheckpointInfo info = load_checkpoint(out / "checkpoint.safetensors").info;
  EXPECT_GE(info.step, 1);
  EXPECT_EQ(info.step, info.epoch * 15 + info.step_in_epoch);
}

#ifdef GRAFT_MPIRUN
// `mpirun -np <ranks>` as root and on more ranks than cores, as CI needs.
std::string mpirun(int ranks) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + std::string(GRAFT_MPIRUN) +
         " --oversubscribe -np " + std::to_string(ranks) + " ";
}

// Two processes on the global batch of 64: the same 15 steps an epoch of 900 images takes
// one process, the loss falls, rank 0 alone writes, the checkpoint records the world, and
// the run resumes in one process.
TEST_F(TrainRun, DistributedTwoRanksTrainAndResumeInOne) {
  const fs::path out = dir_ / "run";
  const std::string base = "--model mlp --limit 1000 --seed 3 --device cpu --distributed ";
  Result r = run(mpirun(2) + GRAFT_TRAIN_EXE + " " + base + "--epochs 1 --out " + out.string(),
                 dir_ / "train.log");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("batch 64, 900 training images"));
  EXPECT_THAT(r.output, HasSubstr(", 2 processes"));
  EXPECT_EQ(r.output.find("epoch 1/1: train loss"), r.output.rfind("epoch 1/1: train loss"))
      << "only rank 0 prints";
  const CheckpointInfo info = load_checkpoint(out / "checkpoint.safetensors").info;
  EXPECT_EQ(info.world_size, 2);
  EXPECT_EQ(info.batch_size, 64);
  EXPECT_EQ(info.step, 15);
  const std::vector<EpochMetrics> rows = read_metrics_csv(out / "metrics.csv");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_LT(rows[0].train_loss, 1.5);

  r = train("--resume " + (out / "checkpoint.safetensors").string() + " --epochs 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("resuming with 1 processes a run made with 2"));
  EXPECT_EQ(load_checkpoint(out / "checkpoint.safetensors").info.step, 30);

  r = run(mpirun(2) + GRAFT_TRAIN_EXE + " " + base + "--batch-size 63 --out " + out.string(),
          dir_ / "odd.log");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("does not split evenly across 2 processes"));
}

// A signal that reaches one rank only stops both at the same step: rank 1 is sent SIGTERM,
// rank 0 reports it and writes the checkpoint of the step they both stopped after.
TEST_F(TrainRun, DistributedRanksAgreeOnTheStepToStopAt) {
  const fs::path out = dir_ / "run";
  const std::string rank1_is_stopped =
      "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then (sleep 3; kill -TERM $$) & fi; exec ";
  const Result r = run(mpirun(2) + "sh -c '" + rank1_is_stopped + GRAFT_TRAIN_EXE +
                           " --distributed --model mlp --limit 1000 --epochs 1000 --device cpu "
                           "--out " +
                           out.string() + "'",
                       dir_ / "train.log");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("graft-train: stopped by SIGTERM after step "));
  const CheckpointInfo info = load_checkpoint(out / "checkpoint.safetensors").info;
  const std::string said = "stopped by SIGTERM after step " + std::to_string(info.step) + " ";
  EXPECT_THAT(r.output, HasSubstr(said));
  EXPECT_EQ(info.step, info.epoch * 15 + info.step_in_epoch);
}
#endif

TEST_F(TrainRun, BadUseIsAnErrorMessageAndExitCode1) {
  Result r = train("--model resnet");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--model: unknown value 'resnet'; choose one of mlp, cnn"));

  r = train("--resume " + (dir_ / "none.safetensors").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("none.safetensors"));

  r = train("--data " + (dir_ / "nowhere").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("nowhere"));

  r = run(std::string(GRAFT_PREDICT_EXE), dir_ / "predict.log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("usage: graft-predict [--invert] CHECKPOINT IMAGE..."));
  r = run(std::string(GRAFT_PREDICT_EXE) + " --inverse a.safetensors b.png", dir_ / "predict.log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("graft-predict: unknown option '--inverse'"));
}

TEST_F(TrainRun, ResumingWithAnotherModelIsRefused) {
  const fs::path out = dir_ / "run";
  Result r = train("--model mlp --limit 200 --epochs 1 --device cpu --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = train("--model cnn --epochs 2 --resume " + (out / "checkpoint.safetensors").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("graft-train: --model cnn but the checkpoint was trained with "
                                  "mlp; leave --model out when resuming"));
}

}  // namespace
}  // namespace graft::examples
