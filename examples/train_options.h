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

  // Unset model, optimizer and seed mean: the checkpoint's when resuming, else the defaults
  // (kDefaultModel, "adam", 0); set ones must agree with the checkpoint.
  std::optional<std::string> model;      // "mlp" | "cnn"
  std::optional<std::string> optimizer;  // "sgd" | "adam" | "adamw"
  int64_t epochs = kDefaultEpochs;       // the epoch count to reach (a resumed run included)
  int64_t batch_size = 64;
  std::optional<double> lr;     // unset: default_lr(optimizer)
  std::string device = "auto";  // "auto" | "cpu" | "cuda"
  std::optional<uint64_t> seed;
  std::string out;     // empty: runs/<UTC timestamp>
  std::string resume;  // a checkpoint to continue from; empty: a new run
  int64_t limit = 0;   // train on the first `limit` examples; 0: all
  // The share of the (limited) training set held out for validation: its last images.
  std::optional<double> val_fraction;  // unset: the checkpoint's, else kDefaultValFraction
  static constexpr double kDefaultValFraction = 0.1;
  int64_t export_images = 0;  // test images to write as PGM into OUT/images
  std::string data;           // the Fashion-MNIST folder; empty: $GRAFT_DATA or Debian's
  // Unset: the checkpoint's when resuming, else "constant", 0 warmup steps,
  // default_weight_decay(optimizer), 0 (no clipping).
  std::optional<std::string> lr_schedule;  // a schedule.h name
  std::optional<int64_t> warmup;           // linear warmup steps
  std::optional<double> weight_decay;
  std::optional<double> clip_grad_norm;  // the largest global gradient norm; 0: off
  static constexpr const char* kDefaultSchedule = "constant";
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
