// graft-train's command line: the options, their defaults, and the parser that checks them.
//
// Options are GNU-style long options, "--epochs 3" or "--epochs=3". Every mistake (unknown
// option, missing or malformed value, a value out of range) is a graft::Error whose message
// names the option, what it got and what it takes, and points to --help.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace graft::examples {

struct TrainOptions {
  // The CNN reaches its 0.91 test accuracy in 5 epochs: about 3 minutes on 2 idle CPU cores,
  // 7-13 on loaded ones (docs/training.md has the timings).
  static constexpr const char* kDefaultModel = "cnn";
  static constexpr int64_t kDefaultEpochs = 5;

  // Every std::optional below is an option that changes the run's numbers: unset means the
  // checkpoint's value when resuming, else the default; a set one must agree with the
  // checkpoint (the run stays the one that was started).
  std::optional<std::string> model;      // "mlp" | "cnn"
  std::optional<std::string> optimizer;  // "sgd" | "adam" | "adamw"
  int64_t epochs = kDefaultEpochs;       // the epoch count to reach (a resumed run included)
  std::optional<int64_t> batch_size;     // unset: the checkpoint's, else 64
  std::optional<double> lr;              // unset: default_lr(optimizer)
  std::string device = "auto";           // "auto" | "cpu" | "cuda"
  std::optional<uint64_t> seed;
  std::string out;               // empty: runs/<UTC timestamp>
  std::string resume;            // a checkpoint to continue from; empty: a new run
  std::optional<int64_t> limit;  // train on the first `limit` images; unset or 0: all
  // The share of the (limited) training set held out for validation: its last images.
  std::optional<double> val_fraction;  // unset: the checkpoint's, else kDefaultValFraction
  static constexpr double kDefaultValFraction = 0.1;
  int64_t export_images = 0;  // test images to write as PGM into OUT/images
  std::string data;           // the Fashion-MNIST folder; empty: $GRAFT_DATA or Debian's
  int64_t save_every = 0;     // also write a checkpoint every N steps; 0: only per epoch
  int64_t keep_last = 3;      // checkpoint-step files kept
  std::string tensorboard;    // a folder for TensorBoard event files; empty: none
  int64_t max_steps = 0;      // stop (resumably) once the run has made N steps; 0: no limit
  int64_t threads = 0;        // CPU threads (graft::set_num_threads); 0: the default
  // Defaults: "constant", 0 warmup steps, default_weight_decay(optimizer), 0 (no clipping).
  std::optional<std::string> lr_schedule;  // a schedule.h name
  std::optional<int64_t> warmup;           // linear warmup steps
  std::optional<double> weight_decay;
  std::optional<double> clip_grad_norm;  // the largest global gradient norm; 0: off
  std::optional<std::string> amp;        // "none" | "bf16" | "fp16" (run_setup.h's amp_dtype)
  static constexpr const char* kDefaultSchedule = "constant";
  // Data-parallel over the processes mpirun started: --batch-size is the global batch, split
  // evenly; rank 0 alone prints and writes files. Without mpirun, a world of one.
  bool distributed = false;
  bool help = false;
};

// Parses the arguments after the program name.
TrainOptions parse_train_args(const std::vector<std::string>& args);

// The --help text.
std::string train_usage();

// The learning rate an optimizer gets when --lr is not given: 0.01 for SGD (with momentum
// 0.9), 1e-3 for Adam and AdamW.
double default_lr(const std::string& optimizer);

// The weight decay when --weight-decay is not given: 0.01 for AdamW (PyTorch's default),
// 0 for SGD and Adam.
double default_weight_decay(const std::string& optimizer);

}  // namespace graft::examples
